"""Payments: applied to the invoice they name, else to the oldest open invoices, and
what is left stays on the account as unapplied cash.

One ERP payment becomes one ``payments`` row per invoice it settles (plus one for the
unapplied rest); the rows share ``source_ref``, the key a re-import is matched on: the
file's payment id, else a digest of customer, date, amount, invoice and reference.
Disputed invoices get money only when the payment names them.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections import defaultdict
from collections.abc import Callable

STAGE = """
CREATE TEMP TABLE stage_payments (
    line INTEGER PRIMARY KEY, customer_id INTEGER, invoice_id INTEGER, invoice TEXT,
    amount_minor INTEGER, paid_on TEXT, payment_ref TEXT, currency TEXT, reference TEXT,
    key TEXT
)"""
INSERT = "INSERT INTO stage_payments VALUES (?,?,?,?,?,?,?,?,?,?)"

Refuse = Callable[[int, str, str, str], None]


class Keyer:
    """The re-import key of each payment row; identical rows get 1st, 2nd... keys."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = defaultdict(int)

    def __call__(self, row: tuple[object, ...]) -> tuple[object, ...]:
        _, cid, _, invoice, amount, paid_on, payment_ref, _, reference = row
        if payment_ref:
            key = f"ref:{payment_ref}"
        else:
            basis = f"{cid}|{paid_on}|{amount}|{invoice or ''}|{reference}"
            self.seen[basis] += 1
            digest = hashlib.sha1(f"{basis}|{self.seen[basis]}".encode()).hexdigest()[:20]
            key = f"auto:{digest}"
        return (*row, key)


def refusable(conn: sqlite3.Connection, refuse: Refuse) -> None:
    conn.execute("CREATE INDEX temp.stage_payments_key ON stage_payments(key)")
    bad: list[tuple[int, str, str, str]] = []
    for line, ref, first in conn.execute(
        """SELECT s.line, s.payment_ref, f.first FROM stage_payments s
           JOIN (SELECT key, MIN(line) AS first FROM stage_payments
                 GROUP BY key HAVING COUNT(*) > 1) f ON f.key = s.key
           WHERE s.line > f.first"""
    ):
        bad.append((line, "payment_ref", ref, f"payment {ref} is also on line {first}"))
    for line, ref, _amount, loaded, cid, other in conn.execute(
        """SELECT s.line, s.payment_ref, s.amount_minor, SUM(p.amount_minor),
                  s.customer_id, MIN(p.customer_id)
           FROM stage_payments s JOIN payments p ON p.source_ref = s.key
           GROUP BY s.line HAVING SUM(p.amount_minor) != s.amount_minor
                               OR MIN(p.customer_id) != s.customer_id"""
    ):
        why = (
            f"payment {ref} was loaded for another customer"
            if cid != other
            else f"payment {ref} was loaded with another amount ({loaded} minor units); "
            "a correction is a new payment"
        )
        bad.append((line, "payment_ref", ref or "", why))
    for line, fld, value, reason in bad:
        refuse(line, fld, value, reason)
    conn.executemany("DELETE FROM stage_payments WHERE line = ?", [(b[0],) for b in bad])


def _open_invoices(conn: sqlite3.Connection, cid: int) -> list[list[int]]:
    return [
        [r[0], r[1], r[2]]
        for r in conn.execute(
            """SELECT id, open_minor, disputed FROM invoices
               WHERE customer_id = ? AND status = 'open' AND open_minor > 0
               ORDER BY due_date, issue_date, id""",
            (cid,),
        )
    ]


def apply(conn: sqlite3.Connection, now: str) -> tuple[dict[str, int], set[int], dict[str, int]]:
    """Apply the staged payments, oldest payment first (inside the write transaction).

    Returns counts (created, unchanged, split rows), affected customers, and the
    unapplied amount per currency.
    """
    book: dict[int, list[list[int]]] = {}
    created = unchanged = rows = 0
    affected: set[int] = set()
    unapplied: dict[str, int] = defaultdict(int)
    staged = conn.execute(
        """SELECT s.*, EXISTS (SELECT 1 FROM payments p WHERE p.source_ref = s.key) AS known
           FROM stage_payments s ORDER BY paid_on, line"""
    ).fetchall()
    for p in staged:
        if p["known"]:
            unchanged += 1
            continue
        cid = p["customer_id"]
        invoices = book.get(cid)
        if invoices is None:
            invoices = book[cid] = _open_invoices(conn, cid)
        left = p["amount_minor"]
        parts: list[tuple[int | None, int, str]] = []
        target = p["invoice_id"]
        if target is not None:
            for inv in invoices:
                if inv[0] == target and inv[1] > 0:
                    take = min(left, inv[1])
                    inv[1] = inv[1] - take
                    parts.append((target, take, "reference"))
                    left -= take
        for inv in invoices:
            if left <= 0:
                break
            if inv[2] or inv[1] <= 0:
                continue  # disputed invoices get money only by reference
            take = min(left, inv[1])
            inv[1] = inv[1] - take
            parts.append((inv[0], take, "oldest_first"))
            left -= take
        if left > 0:
            parts.append((None, left, "unapplied"))
            unapplied[p["currency"]] += left
        for n, (invoice_id, amount, how) in enumerate(parts, start=1):
            conn.execute(
                """INSERT INTO payments (customer_id, invoice_id, external_ref, source_ref,
                       amount_minor, currency, paid_on, reference, applied_by, created_at)
                   VALUES (?,?,?,?,?,?,?,?,?,?)""",
                (
                    cid, invoice_id, p["key"] if n == 1 else f"{p['key']}#{n}", p["key"],
                    amount, p["currency"], p["paid_on"],
                    p["reference"] or p["payment_ref"] or p["invoice"] or "", how, now,
                ),
            )  # fmt: skip
            if invoice_id is not None:
                conn.execute(
                    """UPDATE invoices SET open_minor = open_minor - ?,
                           status = CASE WHEN open_minor - ? <= 0 THEN 'paid' ELSE status END,
                           updated_at = ?
                       WHERE id = ?""",
                    (amount, amount, now, invoice_id),
                )
        rows += len(parts)
        created += 1
        affected.add(cid)
    return {"created": created, "unchanged": unchanged, "rows": rows}, affected, dict(unapplied)
