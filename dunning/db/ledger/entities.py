"""Customers and contacts: staged rows merged by key (customer number; customer +
contact name). Only the columns a file has are written: a blank cell keeps what the
database holds, so a partial file never erases data; the postal address's columns
(address_line1, address_line2, city, postal_code) are the exception: a blank one clears
(the ERP's address is the truth, and a removed suite must go)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

from dunning.address import COLUMNS as ADDRESS_COLUMNS
from dunning.db import phone_places

CUSTOMER_STAGE = """
CREATE TEMP TABLE stage_customers (
    line INTEGER PRIMARY KEY, ref TEXT, name TEXT, country TEXT, subdivision TEXT, language TEXT,
    currency TEXT, portfolio TEXT, status TEXT, risk_score INTEGER,
    credit_limit_minor INTEGER, collector TEXT, email TEXT, contact_name TEXT, phones TEXT,
    address_line1 TEXT, address_line2 TEXT, city TEXT, postal_code TEXT
)"""  # address: NULL when the file has no such column (kept), '' when blank (cleared)
CUSTOMER_INSERT = "INSERT INTO stage_customers VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
CONTACT_STAGE = """
CREATE TEMP TABLE stage_contacts (
    line INTEGER PRIMARY KEY, customer_id INTEGER, name TEXT, title TEXT, language TEXT, email TEXT,
    phones TEXT, do_not_call INTEGER, is_primary INTEGER
)"""
CONTACT_INSERT = "INSERT INTO stage_contacts VALUES (?,?,?,?,?,?,?,?,?)"

Refuse = Callable[[int, str, str, str], None]
CUSTOMER_COLUMNS = (
    "name", "country", "subdivision", "language", "currency", "portfolio", "status",
    "risk_score", "credit_limit_minor",
)  # fmt: skip
DEFAULTS = {"language": "en", "portfolio": "b2b", "status": "active", "risk_score": 0}


def refusable_customers(conn: sqlite3.Connection, refuse: Refuse) -> None:
    bad: list[tuple[int, str, str, str]] = []
    for line, ref, first in conn.execute(
        """SELECT s.line, s.ref, f.first FROM stage_customers s
           JOIN (SELECT ref, MIN(line) AS first FROM stage_customers GROUP BY ref
                 HAVING COUNT(*) > 1) f ON f.ref = s.ref WHERE s.line > f.first"""
    ):
        bad.append((line, "customer_ref", ref, f"customer {ref} is also on line {first}"))
    for line, cur, old in conn.execute(
        """SELECT s.line, s.currency, c.currency FROM stage_customers s
           JOIN customers c ON c.external_ref = s.ref
           WHERE s.currency != c.currency
             AND EXISTS (SELECT 1 FROM invoices i WHERE i.customer_id = c.id)"""
    ):
        bad.append((line, "currency", cur, f"the customer has invoices in {old}"))
    for line, fld, value, reason in bad:
        refuse(line, fld, value, reason)
    conn.executemany("DELETE FROM stage_customers WHERE line = ?", [(b[0],) for b in bad])


def refusable_contacts(conn: sqlite3.Connection, refuse: Refuse) -> None:
    bad = conn.execute(
        """SELECT s.line, s.name, f.first FROM stage_contacts s
           JOIN (SELECT customer_id, lower(name) AS n, MIN(line) AS first
                 FROM stage_contacts GROUP BY customer_id, lower(name)
                 HAVING COUNT(*) > 1) f
             ON f.customer_id = s.customer_id AND f.n = lower(s.name)
           WHERE s.line > f.first"""
    ).fetchall()
    for line, name, first in bad:
        refuse(line, "name", name, f"contact {name} of this customer is also on line {first}")
    conn.executemany("DELETE FROM stage_contacts WHERE line = ?", [(b[0],) for b in bad])


def _contact(
    conn: sqlite3.Connection, cid: int, name: str, values: dict[str, object], now: str
) -> tuple[int, bool]:
    """Find or create a contact; returns (id, changed)."""
    row = conn.execute(
        "SELECT * FROM contacts WHERE customer_id = ? AND name = ? COLLATE NOCASE "
        "ORDER BY id LIMIT 1",
        (cid, name),
    ).fetchone()
    values = {k: v for k, v in values.items() if v is not None}
    if row is None:
        cols = ["customer_id", "name", "created_at", *values]
        cur = conn.execute(
            f"INSERT INTO contacts ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            (cid, name, now, *values.values()),
        )
        return int(cur.lastrowid or 0), True
    changes = {k: v for k, v in values.items() if row[k] != v}
    if changes:
        sets = ", ".join(f"{k} = ?" for k in changes)
        conn.execute(f"UPDATE contacts SET {sets} WHERE id = ?", (*changes.values(), row["id"]))
    return int(row["id"]), bool(changes)


def _phones(
    conn: sqlite3.Connection,
    cid: int,
    contact_id: int | None,
    phones: str,
    do_not_call: int | None,
    now: str,
) -> bool:
    changed = False
    for e164, kind in json.loads(phones):
        row = conn.execute(
            "SELECT id, contact_id, do_not_call FROM phones WHERE customer_id = ? AND e164 = ?",
            (cid, e164),
        ).fetchone()
        if row is None:
            conn.execute(
                """INSERT INTO phones (customer_id, contact_id, e164, type, do_not_call,
                       created_at) VALUES (?,?,?,?,?,?)""",
                (cid, contact_id, e164, kind, do_not_call or 0, now),
            )
            phone_places.fill(conn, (e164,))  # its place, so no claim parses it (m028_places)
            changed = True
            continue
        if do_not_call is not None and row["do_not_call"] != do_not_call:
            conn.execute("UPDATE phones SET do_not_call = ? WHERE id = ?", (do_not_call, row[0]))
            changed = True
        if contact_id is not None and row["contact_id"] is None:
            conn.execute("UPDATE phones SET contact_id = ? WHERE id = ?", (contact_id, row[0]))
            changed = True
    return changed


def merge_customers(
    conn: sqlite3.Connection, now: str, *, country: str, collectors: dict[str, int]
) -> tuple[dict[str, int], set[int], dict[int, int]]:
    """Returns counts, affected customer ids, and customer id -> collector id to assign."""
    created = updated = unchanged = 0
    affected: set[int] = set()
    assign: dict[int, int] = {}
    for s in conn.execute("SELECT * FROM stage_customers ORDER BY line").fetchall():
        row = conn.execute("SELECT * FROM customers WHERE external_ref = ?", (s["ref"],)).fetchone()
        address = {c: s[c] or None for c in ADDRESS_COLUMNS if s[c] is not None}
        if row is None:
            values = {c: s[c] if s[c] is not None else DEFAULTS.get(c) for c in CUSTOMER_COLUMNS}
            values["country"] = values["country"] or country
            values.update(address)
            cols = ["external_ref", *values, "created_at", "updated_at"]
            cid = int(
                conn.execute(
                    f"INSERT INTO customers ({', '.join(cols)}) "
                    f"VALUES ({', '.join('?' * len(cols))})",
                    (s["ref"], *values.values(), now, now),
                ).lastrowid
                or 0
            )
            changed, fresh = True, True
        else:
            cid, fresh = int(row["id"]), False
            changes = {c: s[c] for c in CUSTOMER_COLUMNS if s[c] is not None and row[c] != s[c]}
            changes.update((c, v) for c, v in address.items() if row[c] != v)
            if changes:
                sets = ", ".join(f"{k} = ?" for k in changes)
                conn.execute(
                    f"UPDATE customers SET {sets}, updated_at = ? WHERE id = ?",
                    (*changes.values(), now, cid),
                )
            changed = bool(changes)
        contact_id = None
        if s["contact_name"] or s["email"]:
            contact_id, c_changed = _contact(
                conn,
                cid,
                s["contact_name"] or s["name"],
                {"email": s["email"], "is_primary": 1 if fresh else None},
                now,
            )
            changed = changed or c_changed
        if _phones(conn, cid, contact_id, s["phones"], None, now):
            changed = True
        if s["collector"]:
            assign[cid] = collectors[s["collector"]]
        if fresh:
            created += 1
        elif changed:
            updated += 1
        else:
            unchanged += 1
        if changed:
            affected.add(cid)
    counts = {"created": created, "updated": updated, "unchanged": unchanged}
    return counts, affected, assign


def assign_collectors(
    conn: sqlite3.Connection,
    assign: dict[int, int],
    now: str,
    *,
    by: int | None = None,
    reason: str = "import",
) -> int:
    """Set the account owner named by the file (after the queue rows exist); ``by``: the
    importer's collector id (None: the host operator, whom ``reason`` names)."""
    moved = 0
    for cid, collector_id in assign.items():
        # the history row first: it reads the owner the account had (from_collector_id)
        cur = conn.execute(
            """INSERT INTO assignments (customer_id, collector_id, assigned_at,
                   assigned_by, reason, from_collector_id)
               SELECT customer_id, ?, ?, ?, ?, collector_id FROM queue
               WHERE customer_id = ? AND collector_id IS NOT ?""",
            (collector_id, now, by, reason, cid, collector_id),
        )
        if cur.rowcount:
            conn.execute(
                "UPDATE queue SET collector_id = ? WHERE customer_id = ?", (collector_id, cid)
            )
            moved += 1
    return moved


def merge_contacts(conn: sqlite3.Connection, now: str) -> tuple[dict[str, int], set[int]]:
    created = updated = unchanged = 0
    affected: set[int] = set()
    for s in conn.execute("SELECT * FROM stage_contacts ORDER BY line").fetchall():
        cid = int(s["customer_id"])
        before = conn.execute(
            "SELECT 1 FROM contacts WHERE customer_id = ? AND name = ? COLLATE NOCASE",
            (cid, s["name"]),
        ).fetchone()
        contact_id, changed = _contact(
            conn,
            cid,
            s["name"],
            {
                "title": s["title"],
                "language": s["language"],
                "email": s["email"],
                "is_primary": s["is_primary"],
            },
            now,
        )
        if _phones(conn, cid, contact_id, s["phones"], s["do_not_call"], now):
            changed = True
            affected.add(cid)
        if before is None:
            created += 1
        elif changed:
            updated += 1
        else:
            unchanged += 1
    return {"created": created, "updated": updated, "unchanged": unchanged}, affected
