"""Search finds the same hits, in the same order, with the same details, as before issue 8's
second round (tests/search_reference.py: the search of that time, run on a copy of the same
database with the indexes of that time), for every kind of query a collector types.

The book: a small demo (accented names, demo numbers shared by several accounts, invoices),
plus a number shared by more accounts than a search shows (added in an order unlike the
customers' ids), numbers sharing their last digits, renamed customers and new ones the
index does not know yet (one without a queue row): every path of the search."""

from __future__ import annotations

import random
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import astuple
from pathlib import Path

import phonenumbers
import pytest
import search_reference

from dunning.db.connection import connect, write_tx
from dunning.db.search_index import DDL as M014_DDL
from dunning.demo.build import build_demo
from dunning.queue import search

NOW = "2026-11-20T10:00:00Z"
SHARED = "+15145550199"  # shared by more accounts than a search shows
LIMITS = (50, 3)
REGIONS = ("US", "FR")
# the phone index before m017 (m014's phones_tail)
OLD_INDEXES = [
    "DROP INDEX phones_tail",
    next(s for s in M014_DDL if s.startswith("CREATE INDEX phones_tail")),
]


def _grow(conn: sqlite3.Connection) -> None:
    """What the demo lacks: a number shared by 70 accounts (phones added in shuffled
    order), look-alike numbers, renamed customers, customers the index does not know."""
    rnd = random.Random(17)
    ids = [r[0] for r in conn.execute("SELECT id FROM customers ORDER BY id")]
    shared = rnd.sample(ids, 70)
    with write_tx(conn):
        for cid in shared:
            conn.execute(
                "INSERT INTO phones (customer_id, e164, created_at) VALUES (?, ?, ?)",
                (cid, SHARED, NOW),
            )
        for cid, e164 in zip(
            rnd.sample(ids, 7),
            [
                "+14385550199",
                "+33145550199",
                "+15145550199",
                "+4915145550199",
                "+12125550199",
                "+5145550199",
                "+7123",
            ],  # fmt: skip
            strict=True,
        ):
            conn.execute(
                "INSERT INTO phones (customer_id, e164, created_at) VALUES (?, ?, ?)",
                (cid, e164, NOW),
            )
        for cid, name in zip(
            rnd.sample(ids, 4),
            ["Gagné Renamed", "O'Brien Zed", "Acme Zeta", "Ça Va Bien"],
            strict=True,
        ):
            conn.execute("UPDATE customers SET name = ? WHERE id = ?", (name, cid))
        top = max(ids)
        for n, name in enumerate(["Zeta Nouveau", "Acme Nouvelle", "Épicerie Zeta"], 1):
            conn.execute(
                "INSERT INTO customers (id, external_ref, name, country, currency, created_at, "
                "updated_at) VALUES (?, ?, ?, 'CA', 'CAD', ?, ?)",
                (top + n, f"N{n:05d}", name, NOW, NOW),
            )
            conn.execute(
                "INSERT INTO phones (customer_id, e164, created_at) VALUES (?, ?, ?)",
                (top + n, SHARED, NOW),
            )


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(today's database, a copy with the indexes of before)."""
    root = tmp_path_factory.mktemp("same")
    path = root / "demo.db"
    build_demo(path, customers=400, seed=4)
    conn = connect(path)
    _grow(conn)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    conn.close()
    before = root / "before.db"
    shutil.copyfile(path, before)
    old = connect(before)
    with write_tx(old):
        for statement in OLD_INDEXES:
            old.execute(statement)
    old.close()
    yield path, before


def _queries(conn: sqlite3.Connection) -> list[str]:
    rnd = random.Random(3)
    out = [SHARED, SHARED[-7:], SHARED[-6:], "(514) 555-0199", "514.555.0199", "5550199",
           "+1 514 555 0199", "01 45 55 01 99", "0145550199", "+33 1 45 55 01 99",
           "1 514 555 0199", "00 7 123", "555-0000", "123456", "999999999999", "+999 123 4567",
           "", "  ", "a", "é", "z", "zz", "st", "saint", "st jean", "gagne", "obrien", "acme",
           "zeta", "nouv", "renamed", "ça", "co", "ltd", "inv", "INV-1", "c0", "C000", "n0",
           "qxzjk", "'", "%", "_", "\\", '"', "a\"b", "0", "00", "12", "1234", "12345"]  # fmt: skip
    out += [chr(c) for c in range(ord("a"), ord("z") + 1)]
    out += [a + b for a in "bcdlmprst" for b in "aeiou"]
    for ref, name in conn.execute(
        "SELECT external_ref, name FROM customers WHERE id % 37 = 1 ORDER BY id"
    ).fetchall():
        out += [ref, ref.lower(), ref[:-1], name, name.upper(), name[1:5], name[-6:]]
        words = name.split()
        out.append(rnd.choice(words)[:3])
    for number, e164 in conn.execute(
        "SELECT i.number, p.e164 FROM invoices i JOIN phones p ON p.customer_id = i.customer_id "
        "WHERE i.id % 151 = 0"
    ).fetchall():
        out += [number, number.lower(), number[:-1], e164, e164[-7:], e164[-10:], e164[-6:]]
        out.append(f"{e164[:-7]} {e164[-7:-4]}-{e164[-4:]}")
    return out


def test_the_same_hits_in_the_same_order_as_before(books: tuple[Path, Path]) -> None:
    path, before = books
    now, then = connect(path), connect(before)
    queries = _queries(now)
    assert len(queries) > 300
    shown = 0
    for q in queries:
        for limit in LIMITS:
            for region in REGIONS if any(c.isdigit() for c in q) else REGIONS[:1]:
                got = [
                    astuple(h)
                    for h in search.search_customers(now, q, dial_region=region, limit=limit)
                ]
                want = [
                    astuple(h)
                    for h in search_reference.search_customers(
                        then, q, dial_region=region, limit=limit
                    )
                ]
                assert got == want, (q, limit, region)
                shown += len(got)
    assert shown > 5_000  # the book is searched, not only missed
    # a number too short for the index of numbers' ends (dialled from France: 00 is its IDD)
    assert [h.matched for h in search.search_customers(now, "00 7 123", dial_region="FR")] == [
        "phone"
    ]


def test_the_shared_number_shows_the_first_accounts_in_the_order_of_before(
    books: tuple[Path, Path],
) -> None:
    path, _ = books
    conn = connect(path)
    hits = search.search_customers(conn, SHARED)
    assert len(hits) == 50 and {h.matched for h in hits} == {"phone"}
    # the order of before: phones by id, the first row of each account
    first: dict[int, None] = {}
    for (cid,) in conn.execute(
        "SELECT customer_id FROM phones WHERE e164 = ? ORDER BY id", (SHARED,)
    ):
        first.setdefault(cid, None)
    assert [h.customer_id for h in hits] == list(first)[:50]
    # more than one statement's places (dunning search --limit 120): all of them, in order
    everyone = search.search_customers(conn, SHARED, limit=120)
    assert [h.customer_id for h in everyone] == list(first) and len(first) > 70
    then = connect(books[1])
    for q in (SHARED, SHARED[-7:], "a", "zeta", "c0"):
        got = [astuple(h) for h in search.search_customers(conn, q, limit=120)]
        want = [astuple(h) for h in search_reference.search_customers(then, q, limit=120)]
        assert got == want and len(got) > (50 if q in (SHARED, "c0") else 0), q


def test_a_hit_shows_the_account_as_it_is_now(books: tuple[Path, Path], tmp_path: Path) -> None:
    """Nothing of what a hit shows is copied: a payment, an outcome's state or a move to
    another collector shows in the next search."""
    path, _ = books
    copy = tmp_path / "now.db"
    shutil.copyfile(path, copy)
    conn = connect(copy)
    hit = search.search_customers(conn, SHARED, limit=1)[0]
    with write_tx(conn):
        conn.execute(
            "UPDATE queue SET open_minor = open_minor - 1234, state = 'hold', collector_id = "
            "(SELECT id FROM collectors WHERE username = 'bruno') WHERE customer_id = ?",
            (hit.customer_id,),
        )
    again = search.search_customers(conn, SHARED, limit=1)[0]
    assert again.customer_id == hit.customer_id
    assert (again.net_minor, again.state, again.assigned_to) == (
        hit.net_minor - 1234,
        "hold",
        "bruno",
    )


def test_one_parse_of_the_number_finds_what_two_found() -> None:
    """Before, a number was parsed in the collector's region and again as international;
    the second parse never found another number (search._e164 says why)."""
    rnd = random.Random(5)
    starts = ["+", "+1", "+33", "+0033", "+011", "+44 0", "00", "011", "0", "(", "+999", "+800",
              "+00", "+0", "＋", "tel:+", "1", "44", "33"]  # fmt: skip
    regions = ["US", "CA", "FR", "GB", "ES", "DE", "MX", "AU", "IT", "BR", "JP", "ZZ", ""]
    checked = 0
    for _ in range(800):
        body = "".join(rnd.choice("0123456789  -.") for _ in range(rnd.randint(4, 14)))
        q = rnd.choice(starts) + body
        for region in rnd.sample(regions, 3):
            before = set()
            for r in (region, None):
                try:
                    n = phonenumbers.parse(q, r)
                except phonenumbers.NumberParseException:
                    continue
                before.add(phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164))
            now = search._e164(q, region)
            assert before == ({now} if now is not None else set()), (q, region)
            checked += bool(before)
    assert checked > 300


def test_a_phone_search_reads_its_index_only(books: tuple[Path, Path]) -> None:
    """m017: a whole number and a number's end are found in one index holding the customer
    (a number shared by 50 accounts: 50 index entries in a row, no phone rows read)."""
    path, _ = books
    conn = connect(path)
    start = search.phone_key(SHARED[1:])
    for sql, params in (
        (search._WHOLE, [start, start + ":", SHARED]),
        (f"{search._ENDING} AND substr(e164, ?) = ?", ["550199", "550199:", -11, SHARED[1:]]),
    ):
        plan = " ".join(r[-1] for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
        assert "USING COVERING INDEX phones_tail" in plan, plan
