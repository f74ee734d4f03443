"""The search as it was before issue 8's second round (dunning/queue/search.py at the merge
of the first round, verbatim but for this docstring): tests/test_search_same.py runs it on
a copy of the same database with the indexes of that time (phones_e164, m014's phones_tail)
and checks that today's search finds the same hits in the same order."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

import phonenumbers

from dunning.db.search_index import PHONE_KEY, PHONE_KEY_CHARS, fold, phone_key, stale_names

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


def _details(conn: sqlite3.Connection, ids: list[int], matched: str) -> list[Hit]:
    """The hits for ``ids``, in the order given."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = {r[0]: r for r in conn.execute(f"{_SELECT} WHERE c.id IN ({marks})", ids)}
    return [Hit(*tuple(rows[i]), matched=matched) for i in ids if i in rows]  # type: ignore[misc]


def _ids(conn: sqlite3.Connection, sql: str, params: list[object]) -> list[int]:
    return [r[0] for r in conn.execute(sql, params)]


def _after(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix``."""
    last = ord(prefix[-1])
    return prefix[:-1] + chr(last + 1) if last < 0x10FFFF else prefix + chr(0x10FFFF)


def _phone_ids(
    conn: sqlite3.Connection, q: str, digits: str, dial_region: str, limit: int
) -> list[int]:
    """The number as typed (parsed in the collector's region, then as international),
    else the phones ending with the digits typed (search_index.PHONE_KEY), first
    ``limit`` customers in the index's order."""
    e164s = set()
    for region in (dial_region, None):
        try:
            n = phonenumbers.parse(q, region)
            e164s.add(phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164))
        except phonenumbers.NumberParseException:
            pass
    if e164s:
        marks = ",".join("?" * len(e164s))
        exact = _first_customers(
            conn, f"SELECT customer_id FROM phones WHERE e164 IN ({marks})", sorted(e164s), limit
        )
        if exact:
            return exact
    key = phone_key(digits)
    sql = f"SELECT customer_id FROM phones WHERE {PHONE_KEY} >= ? AND {PHONE_KEY} < ?"
    params: list[object] = [key, key + ":"]  # ':' comes right after '9'
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


def _name_ids(conn: sqlite3.Connection, folded: str, limit: int) -> tuple[list[int], list[int]]:
    """(prefix hits, substring hits) on folded names: prefixes in name order on the
    search_names index; substrings (3+ folded characters) in id order through FTS5
    trigrams. Customers written since the index was last synced are matched here."""
    stale = stale_names(conn)
    gone = {cid for cid, _ in stale}
    prefix = _ids(
        conn,
        "SELECT customer_id FROM search_names WHERE folded >= ? AND folded < ? "
        "ORDER BY folded LIMIT ?",
        [folded, _after(folded), limit + len(gone)],
    )
    inner: list[int] = []
    if len(folded) >= TRIGRAM:
        inner = _ids(
            conn,
            "SELECT rowid FROM search_names_fts WHERE search_names_fts MATCH ? LIMIT ?",
            [f'"{folded}"', limit * 2 + len(gone)],
        )
    if gone:
        prefix = [i for i in prefix if i not in gone]
        inner = [i for i in inner if i not in gone]
        prefix += [cid for cid, text in stale if text.startswith(folded)]
        if len(folded) >= TRIGRAM:
            inner = sorted({*inner, *(cid for cid, text in stale if folded in text)})
    return prefix[:limit], inner


def search_customers(
    conn: sqlite3.Connection, text: str, *, dial_region: str = "US", limit: int = 50
) -> list[Hit]:
    """Exact and prefix matches first (indexed), then name substrings.

    In order: the phone number typed (or the phones ending with its digits), the
    customer reference and the invoice number exactly, references starting with the
    text, then, unless one of those exact matches was found, names: folded
    (search_index.fold: ``gagne`` finds Gagné, ``obrien`` O'Brien) starting with the
    text, then containing it (3 folded characters or more: fewer match prefixes only),
    then invoice numbers starting with the text. Every step reads an index."""
    q = text.strip()
    if not q:
        return []
    found: dict[int, Hit] = {}

    def add(hits: list[Hit]) -> None:
        for h in hits:
            found.setdefault(h.customer_id, h)

    def ids(sql: str, params: list[object], matched: str) -> None:
        if len(found) < limit:
            add(_details(conn, _ids(conn, sql, [*params, limit]), matched))

    digits = re.sub(r"\D", "", q)
    if len(digits) >= PHONE_DIGITS and len(digits) >= len(q.replace(" ", "")) - 4:
        add(_details(conn, _phone_ids(conn, q, digits, dial_region, limit)[:limit], "phone"))
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
        prefix, inner = _name_ids(conn, folded, limit)
        add(_details(conn, prefix, "name"))
        inner = [i for i in inner if i not in found][: limit - len(found)]
        add(_details(conn, inner, "name"))
    if len(q) >= 3:
        ids(
            "SELECT customer_id FROM invoices WHERE number >= ? AND number < ? "
            "ORDER BY number LIMIT ?",
            [upper, upper + "\uffff"],
            "invoice",
        )
    return list(found.values())[:limit]
