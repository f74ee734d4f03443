"""Promise-to-pay status, decided by the system from payments (DOMAIN.md).

A pending promise becomes ``kept`` once payments made on the account from the day it
was made through its due date + grace days reach its amount; when due date + grace has
passed without that, it becomes ``partial`` (some paid) or ``broken`` (nothing). A
broken or partial promise puts the account back at the top of its collector's queue.
Payments are allotted to pending promises in due-date order, so one payment does not
keep two promises.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta, tzinfo
from typing import Any

from dunning.clock import Clock, to_iso
from dunning.queue.accounts import refresh_accounts
from dunning.queue.calendar import account_zones, customer_tz, day_start
from dunning.queue.config import Settings


def evaluate_promises(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    customer_ids: Iterable[int] | None = None,
) -> int:
    """Decide what can be decided; returns how many promises changed status.

    With ``customer_ids`` (after payments were loaded for them) every pending promise of
    those customers is checked; without, only promises whose grace period has ended.
    Run inside a write transaction.
    """
    now = clock.now()
    today = now.date()
    if customer_ids is not None:
        ids = sorted(set(customer_ids))
        if not ids:
            return 0
        rows: list[sqlite3.Row] = []
        for i in range(0, len(ids), 900):
            chunk = ids[i : i + 900]
            rows += conn.execute(
                f"""SELECT * FROM promises WHERE status = 'pending'
                    AND customer_id IN ({",".join("?" * len(chunk))})""",
                chunk,
            ).fetchall()
    else:
        rows = conn.execute(
            "SELECT * FROM promises WHERE status = 'pending' AND decide_after < ?",
            (today.isoformat(),),
        ).fetchall()
    if not rows:
        return 0
    by_customer: dict[int, list[sqlite3.Row]] = defaultdict(list)
    for r in rows:
        by_customer[r["customer_id"]].append(r)
    changed = 0
    touched: set[int] = set()
    now_iso = to_iso(now)
    for cid, promises in by_customer.items():
        promises.sort(key=lambda r: (r["due_date"], r["id"]))
        # what promises decided earlier took from the payments stays taken
        decided = conn.execute(
            """SELECT * FROM promises WHERE customer_id = ? AND status IN ('kept', 'partial')
               AND paid_minor > 0 ORDER BY due_date, id""",
            (cid,),
        ).fetchall()
        start = min(r["promised_on"] for r in [*promises, *decided])
        payments = [
            [p["paid_on"], p["amount_minor"]]
            for p in conn.execute(
                """SELECT paid_on, amount_minor FROM payments
                   WHERE customer_id = ? AND paid_on >= ? AND amount_minor > 0
                   ORDER BY paid_on, id""",
                (cid, start),
            )
        ]
        for pr in decided:
            _allot(payments, pr, pr["paid_minor"])
        for pr in promises:
            end = _end(pr)
            need = pr["amount_minor"]
            paid = _allot(payments, pr, need)
            if paid >= need:
                status = "kept"
            elif end < today.isoformat():
                status = "partial" if paid > 0 else "broken"
            else:
                continue
            conn.execute(
                """UPDATE promises SET status = ?, paid_minor = ?, decided_at = ?
                   WHERE id = ? AND status = 'pending'""",
                (status, paid, now_iso, pr["id"]),
            )
            conn.execute(
                """INSERT INTO activities (customer_id, collector_id, at, outcome, note, details)
                   VALUES (?, NULL, ?, 'system', ?, json_object('promise_id', ?,
                           'status', ?, 'paid_minor', ?))""",
                (cid, now_iso, f"promise {status}", pr["id"], status, paid),
            )
            if status in ("broken", "partial"):
                conn.execute(
                    """UPDATE queue SET broken_promise = 1, next_action = 'call',
                       next_action_at = ? WHERE customer_id = ?""",
                    (now_iso, cid),
                )
            else:
                conn.execute(
                    """UPDATE queue SET next_action = 'call', next_action_at = ?
                       WHERE customer_id = ? AND next_action IN
                             ('promise_check', 'instalment_check')
                       AND NOT EXISTS (SELECT 1 FROM promises WHERE customer_id = ?
                                       AND status = 'pending' AND id != ?)""",
                    (now_iso, cid, cid, pr["id"]),
                )
                # an instalment kept while others are pending: check the next one when
                # due, from the start of the customer's day (as outcomes.py schedules it)
                nxt = conn.execute(
                    """SELECT MIN(date(due_date, '+' || grace_days || ' days')) FROM promises
                       WHERE customer_id = ? AND status = 'pending'""",
                    (cid,),
                ).fetchone()[0]
                if nxt is not None:
                    conn.execute(
                        """UPDATE queue SET next_action_at = ? WHERE customer_id = ?
                           AND next_action IN ('promise_check', 'instalment_check')""",
                        (to_iso(day_start(date.fromisoformat(nxt), _tz(conn, cid))), cid),
                    )
            changed += 1
            touched.add(cid)
    if touched:
        refresh_accounts(conn, clock, settings, touched)
    return changed


def _tz(conn: sqlite3.Connection, customer_id: int) -> tzinfo:
    c = conn.execute(
        "SELECT country, subdivision FROM customers WHERE id = ?", (customer_id,)
    ).fetchone()
    return customer_tz(account_zones(conn, customer_id, c[0], c[1]))


def _end(promise: sqlite3.Row) -> str:
    """The last day a payment counts for the promise: due date + grace days."""
    return (
        date.fromisoformat(promise["due_date"]) + timedelta(days=promise["grace_days"])
    ).isoformat()


def _allot(payments: list[list[Any]], promise: sqlite3.Row, need: int) -> int:
    """Take up to ``need`` from the payments made in the promise's window (oldest first);
    what is taken is no longer available to other promises. Returns the amount taken."""
    end = _end(promise)
    paid = 0
    for pay in payments:
        if paid >= need:
            break
        if pay[1] <= 0 or pay[0] < promise["promised_on"] or pay[0] > end:
            continue
        take = min(pay[1], need - paid)
        paid += take
        pay[1] -= take
    return paid
