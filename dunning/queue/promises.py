"""Promise-to-pay status, decided by the system from payments (DOMAIN.md).

A pending promise becomes ``kept`` once the money that reached the account from the day
it was made through its due date + grace days covers its amount: payments, and invoices
the ERP closed without a payment row (``invoice_closures``). When the customer's day
after due date + grace has begun (``decide_at``, set where the customer is when the
promise is made) without that, it becomes ``partial`` (some paid) or ``broken``
(nothing). A broken or partial promise puts the account back at the top of its
collector's queue. Money is allotted to promises in due-date order, so one payment does
not keep two promises.

A payment dated inside the window of a broken or partial promise that arrives later (an
import after the promise was decided) decides it again: ``partial`` or ``kept``, with a
system activity saying from what to what, and the queue row recomputed. A promise or
payment plan made while another is pending cancels it (``cancelled``, ``superseded_by``
the new one): it is never decided. A settlement's promise kept forgives the rest of
what it covered (queue/writeoffs.py ``settle``); broken, it is one like any other.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import date, timedelta, tzinfo
from typing import Any

from dunning.clock import Clock, to_iso
from dunning.queue.accounts import refresh_accounts
from dunning.queue.calendar import account_zones, customer_tz, day_start
from dunning.queue.config import Settings

CHUNK = 900
DECIDED = ("kept", "partial", "broken")


def decide_at(due: date, grace_days: int, tz: tzinfo) -> str:
    """When a promise due ``due`` can be decided: 00:00 of the customer's day after the
    last grace day (19:30 New York on the last grace day is still inside), in UTC."""
    return to_iso(day_start(due + timedelta(days=grace_days + 1), tz))


def evaluate_promises(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    customer_ids: Iterable[int] | None = None,
) -> int:
    """Decide what can be decided; returns how many promises changed status.

    With ``customer_ids`` (after payments or invoices were loaded for them) every pending
    promise of those customers is checked, and their broken or partial ones are decided
    again; without, only promises whose grace period has ended. Run inside a write
    transaction.
    """
    now = clock.now()
    now_iso = to_iso(now)
    redecide = customer_ids is not None
    if customer_ids is not None:
        ids = sorted(set(customer_ids))
        found: set[int] = set()
        for i in range(0, len(ids), CHUNK // 2):
            chunk = ids[i : i + CHUNK // 2]
            marks = ",".join("?" * len(chunk))
            # pending promises, and broken or partial ones that money loaded since they
            # were decided, dated inside their window, may decide again
            found.update(
                r[0]
                for r in conn.execute(
                    f"""SELECT customer_id FROM promises
                        WHERE status = 'pending' AND customer_id IN ({marks})
                        UNION
                        SELECT p.customer_id FROM promises p
                        WHERE p.status IN ('partial', 'broken') AND p.customer_id IN ({marks})
                        AND (EXISTS (SELECT 1 FROM payments y
                                     WHERE y.customer_id = p.customer_id
                                     AND y.paid_on BETWEEN p.promised_on AND p.decide_after
                                     AND y.created_at >= p.decided_at)
                             OR EXISTS (SELECT 1 FROM invoice_closures x
                                        WHERE x.customer_id = p.customer_id
                                        AND x.closed_on BETWEEN p.promised_on
                                                            AND p.decide_after
                                        AND x.created_at >= p.decided_at))""",
                    [*chunk, *chunk],
                )
            )
        todo = sorted(found)
    else:
        todo = [
            r[0]
            for r in conn.execute(
                """SELECT customer_id FROM promises WHERE status = 'pending' AND decide_at <= ?
                   UNION
                   SELECT customer_id FROM promises WHERE status = 'pending'
                   AND decide_after < ? AND decide_at IS NULL""",
                (now_iso, now.date().isoformat()),
            )
        ]
    changed = 0
    touched: set[int] = set()
    for cid in todo:
        n = _decide_customer(conn, cid, now_iso, redecide=redecide)
        if n:
            changed += n
            touched.add(cid)
    if touched:
        refresh_accounts(conn, clock, settings, touched)
    return changed


def _money(conn: sqlite3.Connection, cid: int, start: str) -> list[list[Any]]:
    """[day, amount] of the money that reached the account from ``start``, oldest first:
    payments, and what the ERP closed without a payment row."""
    rows = conn.execute(
        """SELECT paid_on, amount_minor, 0 AS k, id FROM payments
           WHERE customer_id = ? AND paid_on >= ? AND amount_minor > 0
           UNION ALL
           SELECT closed_on, amount_minor, 1, id FROM invoice_closures
           WHERE customer_id = ? AND closed_on >= ? AND amount_minor > 0
           ORDER BY 1, 3, 4""",
        (cid, start, cid, start),
    ).fetchall()
    return [[r[0], r[1]] for r in rows]


def _decide_customer(conn: sqlite3.Connection, cid: int, now_iso: str, *, redecide: bool) -> int:
    promises = conn.execute(
        """SELECT * FROM promises WHERE customer_id = ? AND status != 'cancelled'
           ORDER BY due_date, id""",
        (cid,),
    ).fetchall()
    open_ = [
        p
        for p in promises
        if p["status"] == "pending" or (redecide and p["status"] in ("partial", "broken"))
    ]
    if not open_:
        return 0
    money = _money(conn, cid, min(p["promised_on"] for p in promises))
    # what kept and partial promises took from the money stays taken
    for pr in promises:
        if pr["status"] in ("kept", "partial") and pr["paid_minor"] > 0:
            _allot(money, pr, pr["paid_minor"])
    tz: tzinfo | None = None
    changed = 0
    for pr in open_:
        old = pr["status"]
        prior = pr["paid_minor"] if old == "partial" else 0
        extra = _allot(money, pr, pr["amount_minor"] - prior)
        paid = prior + extra
        if paid >= pr["amount_minor"]:
            new = "kept"
        elif old == "pending":
            deadline = pr["decide_at"]
            if deadline is None:
                tz = tz or _tz(conn, cid)
                deadline = decide_at(date.fromisoformat(pr["due_date"]), pr["grace_days"], tz)
            if now_iso < deadline:
                continue
            new = "partial" if paid > 0 else "broken"
        elif extra > 0:
            new = "partial"  # broken -> partial, or partial paid more
        else:
            continue
        set_status(conn, pr, new, paid, now_iso)
        if new == "kept":  # a settlement's: the rest is forgiven (queue/writeoffs.py)
            from dunning.queue.writeoffs import settle  # noqa: PLC0415

            settle(conn, pr, now_iso)
        changed += 1
    return changed


def set_status(
    conn: sqlite3.Connection, promise: sqlite3.Row, status: str, paid: int, now_iso: str
) -> None:
    """Record a promise's new status (decided, or decided again), the system activity
    that says so, and what it means for the account's queue row (refreshed by the
    caller)."""
    cid = promise["customer_id"]
    old = promise["status"]
    if old == "pending":
        conn.execute(
            """UPDATE promises SET status = ?, paid_minor = ?, decided_at = ?
               WHERE id = ? AND status = 'pending'""",
            (status, paid, now_iso, promise["id"]),
        )
        note = f"promise {status}"
    else:  # decided again: decided_at stays when it was first decided
        conn.execute(
            "UPDATE promises SET status = ?, paid_minor = ? WHERE id = ?",
            (status, paid, promise["id"]),
        )
        note = f"promise {old} -> {status}"
    conn.execute(
        """INSERT INTO activities (customer_id, collector_id, at, outcome, note, details)
           VALUES (?, NULL, ?, 'system', ?, json_object('promise_id', ?,
                   'status', ?, 'from', ?, 'paid_minor', ?))""",
        (cid, now_iso, note, promise["id"], status, old, paid),
    )
    if old != "pending":
        if status == "kept":
            _clear_broken_flag(conn, cid, promise["id"])
        return
    if status in ("broken", "partial"):
        conn.execute(
            """UPDATE queue SET broken_promise = 1, next_action = 'call',
               next_action_at = ? WHERE customer_id = ?""",
            (now_iso, cid),
        )
        return
    conn.execute(
        """UPDATE queue SET next_action = 'call', next_action_at = ?
           WHERE customer_id = ? AND next_action IN ('promise_check', 'instalment_check')
           AND NOT EXISTS (SELECT 1 FROM promises WHERE customer_id = ?
                           AND status = 'pending' AND id != ?)""",
        (now_iso, cid, cid, promise["id"]),
    )
    # an instalment kept while others are pending: check the next one when due, from the
    # start of the customer's day (as outcomes.py schedules it)
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


def _clear_broken_flag(conn: sqlite3.Connection, cid: int, promise_id: int) -> None:
    """A broken promise kept after all: the account loses its broken-promise flag unless
    another promise broke since the last conversation with the customer."""
    last_rpc = conn.execute(
        "SELECT MAX(at) FROM activities WHERE customer_id = ? AND rpc = 1", (cid,)
    ).fetchone()[0]
    other = conn.execute(
        """SELECT 1 FROM promises WHERE customer_id = ? AND id != ?
           AND status IN ('broken', 'partial') AND decided_at > ?""",
        (cid, promise_id, last_rpc or ""),
    ).fetchone()
    if other is None:
        conn.execute("UPDATE queue SET broken_promise = 0 WHERE customer_id = ?", (cid,))


def supersede_pending(
    conn: sqlite3.Connection, customer_id: int, activity_id: int, now_iso: str
) -> list[int]:
    """A new promise or plan (made by ``activity_id``) cancels the account's pending
    ones: ``cancelled``, linked to the first promise of the new one; never decided.
    Returns the ids cancelled."""
    new = conn.execute(
        "SELECT MIN(id) FROM promises WHERE activity_id = ?", (activity_id,)
    ).fetchone()[0]
    old = [
        r[0]
        for r in conn.execute(
            """SELECT id FROM promises WHERE customer_id = ? AND status = 'pending'
               AND (activity_id IS NULL OR activity_id != ?) ORDER BY id""",
            (customer_id, activity_id),
        )
    ]
    if old:
        cancel_promises(conn, old, now_iso, superseded_by=new)
    return old


def cancel_promises(
    conn: sqlite3.Connection,
    promise_ids: list[int],
    now_iso: str,
    *,
    superseded_by: int | None = None,
) -> int:
    """Cancel pending promises (superseded, or the outcome that made them was voided):
    one system activity per account says which. Returns how many were cancelled."""
    n = 0
    for pid in promise_ids:
        row = conn.execute(
            """UPDATE promises SET status = 'cancelled', superseded_by = ?, decided_at = ?
               WHERE id = ? AND status = 'pending' RETURNING customer_id""",
            (superseded_by, now_iso, pid),
        ).fetchone()
        if row is None:
            continue
        n += 1
        conn.execute(
            """INSERT INTO activities (customer_id, collector_id, at, outcome, note, details)
               VALUES (?, NULL, ?, 'system', 'promise cancelled', json_object('promise_id', ?,
                       'status', 'cancelled', 'from', 'pending', 'superseded_by', ?))""",
            (row[0], now_iso, pid, superseded_by),
        )
    return n


def _tz(conn: sqlite3.Connection, customer_id: int) -> tzinfo:
    c = conn.execute(
        "SELECT country, subdivision FROM customers WHERE id = ?", (customer_id,)
    ).fetchone()
    return customer_tz(account_zones(conn, customer_id, c[0], c[1]))


def _end(promise: sqlite3.Row) -> str:
    """The last day money counts for the promise: due date + grace days."""
    return (
        date.fromisoformat(promise["due_date"]) + timedelta(days=promise["grace_days"])
    ).isoformat()


def _allot(money: list[list[Any]], promise: sqlite3.Row, need: int) -> int:
    """Take up to ``need`` from the money that came in the promise's window (oldest
    first); what is taken is no longer available to other promises. Returns the amount
    taken."""
    end = _end(promise)
    paid = 0
    for pay in money:
        if paid >= need:
            break
        if pay[1] <= 0 or pay[0] < promise["promised_on"] or pay[0] > end:
            continue
        take = min(pay[1], need - paid)
        paid += take
        pay[1] -= take
    return paid
