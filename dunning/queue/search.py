"""Find a customer by name, customer reference, phone number or invoice number."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

import phonenumbers


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


def _hits(
    conn: sqlite3.Connection, where: str, params: list[object], matched: str, limit: int
) -> list[Hit]:
    rows = conn.execute(f"{_SELECT} WHERE {where} LIMIT ?", [*params, limit]).fetchall()
    return [Hit(*tuple(r), matched=matched) for r in rows]  # type: ignore[misc]


def search_customers(
    conn: sqlite3.Connection, text: str, *, dial_region: str = "US", limit: int = 50
) -> list[Hit]:
    """Exact and prefix matches first (indexed), then name substrings."""
    q = text.strip()
    if not q:
        return []
    found: dict[int, Hit] = {}

    def add(hits: list[Hit]) -> None:
        for h in hits:
            found.setdefault(h.customer_id, h)

    digits = re.sub(r"\D", "", q)
    if len(digits) >= 6 and len(digits) >= len(q.replace(" ", "")) - 4:
        e164s = set()
        for region in (dial_region, None):
            try:
                n = phonenumbers.parse(q, region)
                e164s.add(phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164))
            except phonenumbers.NumberParseException:
                pass
        for e in e164s:
            add(
                _hits(
                    conn,
                    "c.id IN (SELECT customer_id FROM phones WHERE e164 = ?)",
                    [e],
                    "phone",
                    limit,
                )
            )
        if not found:
            add(
                _hits(
                    conn,
                    "c.id IN (SELECT customer_id FROM phones WHERE e164 LIKE ?)",
                    [f"%{digits}"],
                    "phone",
                    limit,
                )
            )
    upper = q.upper()
    add(_hits(conn, "c.external_ref = ?", [q], "reference", limit))
    add(
        _hits(
            conn,
            "c.id IN (SELECT customer_id FROM invoices WHERE number = ?)",
            [q],
            "invoice",
            limit,
        )
    )
    if len(found) < limit:
        add(
            _hits(
                conn,
                "c.external_ref >= ? AND c.external_ref < ?",
                [upper, upper + "\uffff"],
                "reference",
                limit - len(found),
            )
        )
    if len(found) < limit:
        add(
            _hits(
                conn,
                "c.name >= ? COLLATE NOCASE AND c.name < ? COLLATE NOCASE",
                [q, q + "\uffff"],
                "name",
                limit - len(found),
            )
        )
    if len(found) < limit and len(q) >= 2:
        add(
            _hits(
                conn,
                "instr(lower(c.name), lower(?)) > 0",
                [q],
                "name",
                limit - len(found) + len(found),
            )
        )
    if len(found) < limit and len(q) >= 3:
        add(
            _hits(
                conn,
                "c.id IN (SELECT customer_id FROM invoices WHERE number >= ? AND "
                "number < ? LIMIT ?)",
                [upper, upper + "\uffff", limit],
                "invoice",
                limit,
            )
        )
    return list(found.values())[:limit]
