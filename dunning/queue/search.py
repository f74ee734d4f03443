"""Find a customer by name, customer reference, phone number or invoice number."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers

from dunning.db.search_index import (
    PHONE_KEY,
    PHONE_KEY_CHARS,
    PHONE_TAIL,
    fold,
    phone_key,
    stale_names,
)

PHONE_DIGITS = 6  # fewer digits typed is not searched as a phone number

TRIGRAM = 3  # FTS5 trigrams: a shorter folded text matches name prefixes only


@dataclass(frozen=True)
class Hit:
    customer_id: int
    external_ref: str
    name: str
    country: str
    currency: str
    net_minor: int  # what is owed, disputes aside (dunning/owed.py: net)
    state: str
    assigned_to: str | None
    matched: str  # name, reference, phone, invoice


_SELECT = """SELECT c.id, c.external_ref, c.name, c.country, c.currency,
                    COALESCE(q.open_minor + q.unapplied_minor, 0) AS net_minor,
                    COALESCE(q.state, 'closed') AS state,
                    k.username AS assigned_to
             FROM customers c LEFT JOIN queue q ON q.customer_id = c.id
             LEFT JOIN collectors k ON k.id = q.collector_id"""


SLOTS = 50  # ids read by one statement: always the same text, prepared once per connection
_DETAILS = f"{_SELECT} WHERE c.id IN ({','.join('?' * SLOTS)})"


Keep = Callable[[sqlite3.Connection, list[int]], list[int]]  # ids -> those a viewer may see


def _details(
    conn: sqlite3.Connection, ids: list[int], matched: str, keep: Keep | None = None
) -> list[Hit]:
    """The hits for ``ids``, in the order given.

    One statement with SLOTS places (the last id repeated to fill them) rather than an IN
    list as long as the ids: one prepared statement instead of one per length. SQLite
    reads an IN list's ids in ascending order whatever their order here (rows found
    through neighbouring interior pages). Plain tuples, not the connection's Rows.
    What a hit costs is the two rows it shows (its customer, its queue row), two pages read
    at random (bench/bench_search.py prints pages read per query). Reading them through
    ``PRAGMA mmap_size`` would cost less CPU (30-40% at 1M customers) but is not done: a
    process reading through a map dies of SIGBUS when another process truncates or
    rewrites the file in place, where a read() gets an error the screen can show."""
    if keep is not None and ids:  # queue/search_scope.py: before reading the customers
        ids = keep(conn, ids)
    if not ids:
        return []
    rows: dict[int, tuple[object, ...]] = {}
    cur = conn.cursor()
    cur.row_factory = None
    for start in range(0, len(ids), SLOTS):
        chunk = ids[start : start + SLOTS]
        chunk += [chunk[-1]] * (SLOTS - len(chunk))
        for row in cur.execute(_DETAILS, chunk):
            rows[row[0]] = row
    cur.close()
    return [Hit(*rows[i], matched) for i in ids if i in rows]  # type: ignore[arg-type]


def _ids(conn: sqlite3.Connection, sql: str, params: list[object]) -> list[int]:
    return [r[0] for r in conn.execute(sql, params)]


def _after(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix``."""
    last = ord(prefix[-1])
    return prefix[:-1] + chr(last + 1) if last < 0x10FFFF else prefix + chr(0x10FFFF)


def _e164(q: str, dial_region: str) -> str | None:
    """The number as typed, parsed in the collector's region, in E.164; None if it is not
    one. Parsing "as international" as well (no region) never finds another number:
    phonenumbers reads a number starting with + alike in any region (the region's
    metadata is read only when + is followed by no country code), and without + it needs
    a region. So one parse, not two (35 µs each; tests/test_search_same.py checks it)."""
    try:
        n = phonenumbers.parse(q, dial_region)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)


_ENDING = f"SELECT customer_id FROM phones WHERE {PHONE_KEY} >= ? AND {PHONE_KEY} < ?"
# a whole number through the same index (m017: it holds the customer and the number; the
# index of whole numbers, phones_e164, does not hold the customer): '+e164' keeps SQLite
# from choosing phones_e164 and reading a phone row per account sharing the number. The
# rows of one number come in phone id order in both indexes: the same first accounts.
_WHOLE = f"{_ENDING} AND +e164 = ?"


def _phone_ids(
    conn: sqlite3.Connection, q: str, digits: str, dial_region: str, limit: int
) -> list[int]:
    """The number as typed (parsed in the collector's region: ``_e164``), else the phones
    ending with the digits typed (search_index.PHONE_KEY), first ``limit`` customers in
    the index's order. Both read phones_tail only (m017)."""
    e164 = _e164(q, dial_region)
    if e164 is not None:
        whole = e164[1:]
        if len(whole) >= PHONE_TAIL:  # phone_key(whole) starts PHONE_KEY(e164)
            start = phone_key(whole)
            exact = _first_customers(conn, _WHOLE, [start, start + ":", e164], limit)
        else:  # too short for the key (never a real number): the index of whole numbers
            exact = _first_customers(
                conn, "SELECT customer_id FROM phones WHERE e164 = ?", [e164], limit
            )
        if exact:
            return exact
    key = phone_key(digits)
    sql = _ENDING
    params: list[object] = [key, key + ":"]  # ':' sorts after every digit and '+'
    if len(digits) > PHONE_KEY_CHARS:
        sql += " AND substr(e164, ?) = ?"
        params += [-len(digits), digits]
    return _first_customers(conn, sql, params, limit)


def _first_customers(
    conn: sqlite3.Connection, sql: str, params: list[object], limit: int
) -> list[int]:
    """The first ``limit`` distinct customers of phones read in index order (a number
    shared by thousands of accounts reads only as many rows as it shows)."""
    seen: dict[int, None] = {}
    cur = conn.execute(sql, params)
    for (cid,) in cur:  # in index order, until enough customers
        seen[cid] = None
        if len(seen) >= limit:
            break
    cur.close()
    return list(seen)


def _name_ids(
    conn: sqlite3.Connection, folded: str, limit: int
) -> tuple[list[int], Callable[[], list[int]]]:
    """(prefix hits, substring hits when asked) on folded names: prefixes in name order on
    the search_names index; substrings (3+ folded characters) in id order through FTS5
    trigrams, read only when the prefixes did not fill the page. Customers written since
    the index was last synced are matched here."""
    stale = stale_names(conn)
    gone = {cid for cid, _ in stale}
    prefix = _ids(
        conn,
        "SELECT customer_id FROM search_names WHERE folded >= ? AND folded < ? "
        "ORDER BY folded LIMIT ?",
        [folded, _after(folded), limit + len(gone)],
    )
    if gone:
        prefix = [i for i in prefix if i not in gone]
        prefix += [cid for cid, text in stale if text.startswith(folded)]

    def inner() -> list[int]:
        if len(folded) < TRIGRAM:
            return []
        found = _ids(
            conn,
            "SELECT rowid FROM search_names_fts WHERE search_names_fts MATCH ? LIMIT ?",
            [f'"{folded}"', limit * 2 + len(gone)],
        )
        if gone:
            found = [i for i in found if i not in gone]
            found = sorted({*found, *(cid for cid, text in stale if folded in text)})
        return found

    return prefix[:limit], inner


def search_customers(
    conn: sqlite3.Connection,
    text: str,
    *,
    dial_region: str = "US",
    limit: int = 50,
    keep: Keep | None = None,
) -> list[Hit]:
    """Exact and prefix matches first (indexed), then name substrings.

    In order: the phone number typed (or the phones ending with its digits), the
    customer reference and the invoice number exactly, references starting with the
    text, then, unless one of those exact matches was found, names: folded
    (search_index.fold: ``gagne`` finds Gagné, ``obrien`` O'Brien) starting with the
    text, then containing it (3 folded characters or more: fewer match prefixes only),
    then invoice numbers starting with the text. Every step reads an index. ``keep``
    drops the ids a viewer may not see before their rows are read (queue/search_scope.py);
    each step still asks its index for ``limit`` ids."""
    q = text.strip()
    if not q:
        return []
    found: dict[int, Hit] = {}

    def add(hits: list[Hit]) -> None:
        for h in hits:
            found.setdefault(h.customer_id, h)

    def ids(sql: str, params: list[object], matched: str) -> None:
        if len(found) < limit:
            add(_details(conn, _ids(conn, sql, [*params, limit]), matched, keep))

    digits = re.sub(r"\D", "", q)
    if len(digits) >= PHONE_DIGITS and len(digits) >= len(q.replace(" ", "")) - 4:
        phones = _phone_ids(conn, q, digits, dial_region, limit)[:limit]
        add(_details(conn, phones, "phone", keep))
    upper = q.upper()
    ids("SELECT id FROM customers WHERE external_ref = ? LIMIT ?", [q], "reference")
    ids("SELECT customer_id FROM invoices WHERE number = ? LIMIT ?", [q], "invoice")
    exact = bool(found)
    ids(
        "SELECT id FROM customers WHERE external_ref >= ? AND external_ref < ? "
        "ORDER BY external_ref LIMIT ?",
        [upper, upper + "\uffff"],
        "reference",
    )
    folded = fold(q)
    if not exact and folded and len(found) < limit:
        prefix, substrings = _name_ids(conn, folded, limit)
        add(_details(conn, prefix, "name", keep))
        if len(found) < limit:  # the prefixes filled the page: no substring is shown
            inner = [i for i in substrings() if i not in found][: limit - len(found)]
            add(_details(conn, inner, "name", keep))
    if len(q) >= 3:
        ids(
            "SELECT customer_id FROM invoices WHERE number >= ? AND number < ? "
            "ORDER BY number LIMIT ?",
            [upper, upper + "\uffff"],
            "invoice",
        )
    return list(found.values())[:limit]
