"""Big demo builds: accounts past the template are copies made by SQLite (replicate.py)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections import Counter
from pathlib import Path

import phonenumbers
import pytest

from dunning.clock import FixedClock
from dunning.db import search_index
from dunning.db.connection import connect, write_tx
from dunning.demo.build import LOADED, build_demo_report
from dunning.demo.data import check_number
from dunning.queue.accounts import refresh_accounts
from dunning.queue.config import Settings

N, TEMPLATE = 1000, 300  # three whole copies and a part of one


def _build(path: Path, customers: int, template: int) -> dict[str, int]:
    summary, _ = build_demo_report(
        path,
        customers=customers,
        seed=4,
        clock=FixedClock(),
        worker=False,
        phone_pool=True,
        direct_queue=True,
        template=template,
    )
    return summary


@pytest.fixture(scope="module")
def copied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("copies") / "demo.db"
    summary = _build(path, N, TEMPLATE)
    assert summary["customers"] == summary["queue"] == summary["assignments"] == N
    return path


@pytest.fixture(scope="module")
def db(copied: Path) -> sqlite3.Connection:
    conn = connect(copied, readonly=True)
    yield conn
    conn.close()


def test_the_template_is_the_generators_build_of_that_size(copied, tmp_path):
    alone = tmp_path / "alone.db"
    _build(alone, TEMPLATE, 0)
    a, b = sqlite3.connect(alone), sqlite3.connect(copied)
    try:
        for table in LOADED:
            key = "customer_id" if table in ("queue", "dispute_invoices") else "id"
            if table == "dispute_invoices":
                cut = "dispute_id <= (SELECT MAX(id) FROM disputes WHERE customer_id <= ?)"
            else:
                cut = f"{'customer_id' if table != 'customers' else 'id'} <= ?"
            order = "rowid" if key == "id" else "1, 2"
            made = a.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
            got = b.execute(f"SELECT * FROM {table} WHERE {cut} ORDER BY {order}", (TEMPLATE,))
            assert got.fetchall() == made, table
    finally:
        a.close()
        b.close()


def test_copies_are_the_template_accounts_with_their_own_ids(db):
    # the ids of every table run 1..count without a gap, in customer order
    for table in LOADED:
        if table in ("queue", "dispute_invoices"):
            continue
        n, lo, hi = db.execute(f"SELECT COUNT(*), MIN(id), MAX(id) FROM {table}").fetchone()
        assert (lo, hi) == (1, n), table  # noqa: PT018
        back = db.execute(
            f"SELECT COUNT(*) FROM {table} a JOIN {table} b ON b.id = a.id + 1 "
            + (
                "WHERE b.id < a.id"
                if table == "customers"
                else "WHERE b.customer_id < a.customer_id"
            )
        ).fetchone()[0]
        assert back == 0, table
    # each copy is its template account: same counts of rows, same amounts and dates
    shape = (
        "SELECT c.name, c.language, c.currency, c.status, c.address_line1, c.address_line2, "
        "c.city, c.postal_code, q.state, q.priority, q.reasons, "
        "q.pclass, q.pkey, (SELECT group_concat(amount_minor || due_date || status) FROM "
        "invoices WHERE customer_id = c.id), (SELECT COUNT(*) FROM activities WHERE "
        "customer_id = c.id), (SELECT COUNT(*) FROM phones WHERE customer_id = c.id) "
        "FROM customers c JOIN queue q ON q.customer_id = c.id WHERE c.id = ?"
    )
    for cid in (1, 17, 299, 300):
        want = db.execute(shape, (cid,)).fetchone()
        for copy in (1, 2):
            assert tuple(db.execute(shape, (cid + copy * TEMPLATE,)).fetchone()) == tuple(want)
    assert tuple(db.execute(shape, (901,)).fetchone()) == tuple(db.execute(shape, (1,)).fetchone())


def test_references_name_the_new_ids(db):
    assert (
        db.execute(
            "SELECT COUNT(*) FROM customers WHERE external_ref <> printf('C%07d', id)"
        ).fetchone()[0]
        == 0
    )
    assert (
        db.execute(
            "SELECT COUNT(*) FROM invoices WHERE number <> printf(CASE WHEN amount_minor < 0 "
            "THEN 'CN-%07d' ELSE 'INV-%07d' END, id)"
        ).fetchone()[0]
        == 0
    )
    assert (
        db.execute(
            "SELECT COUNT(*) FROM payments p LEFT JOIN invoices i ON i.id = p.invoice_id "
            "WHERE p.external_ref <> printf('PAY-%07d', p.id) OR p.reference <> "
            "COALESCE(i.number, '') OR i.customer_id <> p.customer_id"
        ).fetchone()[0]
        == 0
    )
    assert (
        db.execute(
            "SELECT COUNT(*) FROM promises p JOIN activities a ON a.id = p.activity_id "
            "WHERE a.customer_id <> p.customer_id OR (p.plan_ref IS NOT NULL AND p.plan_ref <> "
            "'plan-' || p.activity_id)"
        ).fetchone()[0]
        == 0
    )
    for table in ("disputes", "payment_reports"):
        assert (
            db.execute(
                f"SELECT COUNT(*) FROM {table} t JOIN activities a ON a.id = t.activity_id "
                "WHERE a.customer_id <> t.customer_id"
            ).fetchone()[0]
            == 0
        )
    assert (
        db.execute(
            "SELECT COUNT(*) FROM phones p LEFT JOIN contacts c ON c.id = p.contact_id "
            "WHERE p.contact_id IS NOT NULL AND c.customer_id IS NOT p.customer_id"
        ).fetchone()[0]
        == 0
    )
    assert (
        db.execute(
            "SELECT COUNT(*) FROM activities a LEFT JOIN phones p ON p.id = a.phone_id "
            "WHERE a.phone_id IS NOT NULL AND p.customer_id IS NOT a.customer_id"
        ).fetchone()[0]
        == 0
    )
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_the_events_json_names_the_copys_promise_and_invoices(db):
    seen = Counter()
    for cid, outcome, details in db.execute(
        "SELECT customer_id, outcome, details FROM activities WHERE outcome IN "
        "('system', 'dispute') AND details IS NOT NULL"
    ):
        d = json.loads(details)
        if outcome == "system":
            owner = db.execute("SELECT customer_id FROM promises WHERE id = ?", (d["promise_id"],))
            assert owner.fetchone()[0] == cid
            assert details.startswith('{"promise_id":') and ", " not in details
        else:
            ids = db.execute(
                "SELECT di.invoice_id FROM disputes d JOIN dispute_invoices di "
                "ON di.dispute_id = d.id JOIN activities a ON a.id = d.activity_id "
                "WHERE a.customer_id = ? AND a.details = ? ORDER BY 1",
                (cid, details),
            ).fetchall()
            assert [i for (i,) in ids] == d["invoice_ids"]
            assert details == json.dumps(d)  # the text json.dumps writes, as the generator
        seen[(outcome, cid > TEMPLATE)] += 1
    assert all(seen[(o, c)] for o in ("system", "dispute") for c in (False, True))


def test_phones_are_drawn_again_valid_for_the_country(db):
    rows = db.execute(
        "SELECT p.id, p.customer_id, p.e164, p.type, c.country FROM phones p "
        "JOIN customers c ON c.id = p.customer_id"
    ).fetchall()
    for _, _, e164, kind, country in rows:
        assert check_number(e164, country) == kind, e164
        assert phonenumbers.is_valid_number(phonenumbers.parse(e164, None))
    template = {r[2] for r in rows if r[1] <= TEMPLATE}
    copies = {r[2] for r in rows if r[1] > TEMPLATE}
    assert len(copies - template) > len(copies) // 2  # not the template's numbers again


def test_the_queue_is_what_the_refresh_makes(copied, tmp_path):
    path = tmp_path / "again.db"
    shutil.copy(copied, path)
    cols = "customer_id, state, priority, reasons, open_minor, disputed_minor, "
    cols += "unapplied_minor, oldest_due, next_action, next_action_at, pclass, pkey, restand_on"
    conn = connect(path)
    try:
        made = conn.execute(f"SELECT {cols} FROM queue ORDER BY customer_id").fetchall()
        with write_tx(conn):
            conn.execute(
                "UPDATE queue SET state = 'ready', priority = 0, open_minor = 0, "
                "disputed_minor = 0, unapplied_minor = 0, oldest_due = NULL, pkey = 0"
            )
            refresh_accounts(conn, FixedClock(), Settings(), None)
        again = conn.execute(f"SELECT {cols} FROM queue ORDER BY customer_id").fetchall()
    finally:
        conn.close()
    assert [tuple(r) for r in again] == [tuple(r) for r in made]


def test_the_search_index_is_the_one_rebuild_makes(copied, tmp_path):
    path = tmp_path / "again.db"
    shutil.copy(copied, path)
    conn = sqlite3.connect(path)
    try:
        query = "SELECT customer_id, folded FROM search_names ORDER BY customer_id"
        made = conn.execute(query).fetchall()
        assert len(made) == N
        fts = "SELECT rowid FROM search_names_fts WHERE search_names_fts MATCH 'ard' ORDER BY 1"
        hits = conn.execute(fts).fetchall()
        assert any(r > TEMPLATE for (r,) in hits)
        conn.execute("INSERT INTO search_names_fts (search_names_fts) VALUES ('integrity-check')")
        with conn:
            search_index.rebuild(conn)
        assert conn.execute(query).fetchall() == made
        assert conn.execute(fts).fetchall() == hits
    finally:
        conn.close()


def test_copies_need_the_big_builds_path(tmp_path):
    with pytest.raises(ValueError, match="phone pools"):
        build_demo_report(tmp_path / "x.db", customers=50, template=20, worker=False)
