"""Keep each account's queue row in step with its ledger, contacts and history.

``refresh_accounts`` recomputes balances, eligibility state and priority for some or
all customers. Call it inside a write transaction (``write_tx``) after any change that
affects them: an import, a payment, an outcome, a reassignment.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from dunning.clock import Clock, from_iso, to_iso
from dunning.money import minor_digits
from dunning.queue.config import Settings
from dunning.queue.priority import PriorityInputs, score

CHUNK = 900  # stays under SQLite's default 999 host parameters

HOLD_STATUSES = {"legal", "agency", "cease"}
CLOSED_STATUSES = {"write_off", "closed"}
# next actions that take an account out of the collector's queue until a person acts
REVIEW_ACTIONS = {"lead_review"}
# Nothing is dealt for which no money is past due (net of credits), unless one of these is
# due: the customer asked to be called back, or a promise is to be checked. Otherwise the
# next action waits for the day money falls due: AWAIT_DUE, "call when due".
DUE_ANYWAY = {"callback", "promise_check", "instalment_check"}
AWAIT_DUE = "await_due"


@dataclass(frozen=True)
class Balances:
    open_minor: int = 0  # open, undisputed, positive invoices
    disputed_minor: int = 0
    credits_minor: int = 0  # open credit notes + unapplied cash (<= 0)
    oldest_due: str | None = None
    usable_phones: int = 0
    # the first day some money is past due net of credits (the day after the due date
    # that tips it): exact when in the future, some day <= today when money is past due;
    # None when nothing undisputed is owed
    due_from: str | None = None


def first_past_due(dues: Iterable[tuple[str, int]], credits_minor: int) -> str | None:
    """The day after the due date at which the open, undisputed invoices, oldest first,
    exceed the credits (``credits_minor`` <= 0): from then on money is past due."""
    left = credits_minor
    for due, amount in sorted(dues):
        left += amount
        if left > 0:
            return (date.fromisoformat(due) + timedelta(days=1)).isoformat()
    return None


# Money falls due on the customer's date: the day after the due date has begun wherever a
# customer may be (00:00 at UTC-11, American Samoa, the westernmost inhabited US zone) by
# 11:00 UTC. Before it, an invoice due "yesterday" in UTC may still be due today for the
# customer (19:00 in New York, 14:00 in Hawaii): nothing is dealt for it yet.
DUE_DAY_STARTS = "T11:00:00Z"


def due_instant(due_from: str) -> str:
    """When the day ``due_from`` (the first past-due day) has begun for every customer."""
    return f"{due_from}{DUE_DAY_STARTS}"


def await_due(
    next_action: str, next_action_at: str, due_from: str | None, now_iso: str
) -> tuple[str, str]:
    """The next action once "nothing is dealt with nothing past due" is applied: a call
    (or payment check) before any money is past due for the customer waits, as
    ``await_due``, for the day money falls due to have begun everywhere
    (``due_instant``); an ``await_due`` whose time came is a call again."""
    if next_action == AWAIT_DUE:
        if due_from is None or due_instant(due_from) <= now_iso:
            return "call", min(next_action_at, now_iso)
        return AWAIT_DUE, due_instant(due_from)
    if next_action in DUE_ANYWAY or next_action in REVIEW_ACTIONS:
        return next_action, next_action_at
    if next_action in ("call", "verify_payment") and due_from is not None:
        wake = due_instant(due_from)
        if wake > now_iso and wake > next_action_at:
            return AWAIT_DUE, wake
    return next_action, next_action_at


def derive_state(
    *,
    customer_status: str,
    balances: Balances,
    next_action: str,
    next_action_at: str,
    now_iso: str,
) -> str:
    """Where an account stands; only 'ready' accounts can be claimed."""
    if customer_status in CLOSED_STATUSES:
        return "closed"
    if customer_status in HOLD_STATUSES:
        return "hold"
    net = balances.open_minor + balances.credits_minor
    if net <= 0:
        return "disputed" if balances.disputed_minor > 0 else "closed"
    if next_action in REVIEW_ACTIONS:
        return "review"
    if balances.usable_phones == 0:
        return "no_phone"
    return "ready" if next_action_at <= now_iso else "waiting"


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _balances(conn: sqlite3.Connection, ids: list[int], today: str) -> dict[int, Balances]:
    marks = ",".join("?" * len(ids))
    out: dict[int, dict[str, object]] = {i: {} for i in ids}
    overdue: dict[int, int] = {}
    for row in conn.execute(
        f"""SELECT customer_id,
                   SUM(CASE WHEN open_minor > 0 AND disputed = 0 THEN open_minor ELSE 0 END),
                   SUM(CASE WHEN open_minor > 0 AND disputed = 1 THEN open_minor ELSE 0 END),
                   SUM(CASE WHEN open_minor < 0 THEN open_minor ELSE 0 END),
                   MIN(CASE WHEN open_minor > 0 AND disputed = 0 THEN due_date END),
                   SUM(CASE WHEN open_minor > 0 AND disputed = 0 AND due_date < ?
                            THEN open_minor ELSE 0 END)
            FROM invoices WHERE status = 'open' AND customer_id IN ({marks})
            GROUP BY customer_id""",
        [today, *ids],
    ):
        out[row[0]].update(
            open_minor=row[1] or 0,
            disputed_minor=row[2] or 0,
            credits_minor=row[3] or 0,
            oldest_due=row[4],
        )
        overdue[row[0]] = row[5] or 0
    for row in conn.execute(
        f"""SELECT customer_id, SUM(amount_minor) FROM payments
            WHERE invoice_id IS NULL AND customer_id IN ({marks}) GROUP BY customer_id""",
        ids,
    ):
        d = out[row[0]]
        d["credits_minor"] = int(d.get("credits_minor", 0)) - int(row[1] or 0)  # type: ignore[arg-type]
    for row in conn.execute(
        f"""SELECT customer_id, COUNT(*) FROM phones
            WHERE bad = 0 AND do_not_call = 0 AND customer_id IN ({marks})
            GROUP BY customer_id""",
        ids,
    ):
        out[row[0]]["usable_phones"] = row[1]
    # when money is (or will be) past due net of credits: at once for most accounts, from
    # their invoices' due dates for the few with nothing past due yet
    exact: list[int] = []
    for cid, d in out.items():
        credits = int(d.get("credits_minor", 0))  # type: ignore[call-overload]
        oldest = d.get("oldest_due")
        if oldest is None or int(d.get("open_minor", 0)) + credits <= 0:  # type: ignore[call-overload]
            continue
        if overdue.get(cid, 0) + credits > 0:
            d["due_from"] = (date.fromisoformat(str(oldest)) + timedelta(days=1)).isoformat()
        else:
            exact.append(cid)
    if exact:
        dues: dict[int, list[tuple[str, int]]] = {i: [] for i in exact}
        for row in conn.execute(
            f"""SELECT customer_id, due_date, SUM(open_minor) FROM invoices
                WHERE status = 'open' AND open_minor > 0 AND disputed = 0
                AND customer_id IN ({",".join("?" * len(exact))})
                GROUP BY customer_id, due_date""",
            exact,
        ):
            dues[row[0]].append((row[1], row[2]))
        for cid in exact:
            credits = int(out[cid].get("credits_minor", 0))  # type: ignore[call-overload]
            out[cid]["due_from"] = first_past_due(dues[cid], credits)
    return {i: Balances(**d) for i, d in out.items()}  # type: ignore[arg-type]


def refresh_accounts(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    customer_ids: Iterable[int] | None = None,
) -> int:
    """Recompute queue rows (creating missing ones); returns how many were written.

    Must run inside a write transaction. Claims and assignment are left as they are.
    """
    now = clock.now()
    now_iso = to_iso(now)
    today = now.date()
    if customer_ids is None:
        ids = [r[0] for r in conn.execute("SELECT id FROM customers ORDER BY id")]
    else:
        ids = sorted(set(customer_ids))
    written = 0
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        balances = _balances(conn, chunk, today.isoformat())
        customers = {
            r["id"]: r
            for r in conn.execute(
                f"SELECT id, status, currency, risk_score FROM customers WHERE id IN ({marks})",
                chunk,
            )
        }
        existing = {
            r["customer_id"]: r
            for r in conn.execute(
                f"""SELECT customer_id, next_action, next_action_at, last_contact_at,
                           broken_promise FROM queue WHERE customer_id IN ({marks})""",
                chunk,
            )
        }
        rows = []
        for cid in chunk:
            cust = customers.get(cid)
            if cust is None:
                continue
            q = existing.get(cid)
            next_action = q["next_action"] if q else "call"
            next_action_at = q["next_action_at"] if q else now_iso
            last_contact = q["last_contact_at"] if q else None
            broken = bool(q["broken_promise"]) if q else False
            b = balances[cid]
            next_action, next_action_at = await_due(
                next_action, next_action_at, b.due_from, now_iso
            )
            state = derive_state(
                customer_status=cust["status"],
                balances=b,
                next_action=next_action,
                next_action_at=next_action_at,
                now_iso=now_iso,
            )
            prio, reasons = score(
                PriorityInputs(
                    today=today,
                    oldest_due=date.fromisoformat(b.oldest_due) if b.oldest_due else None,
                    open_minor=max(b.open_minor + b.credits_minor, 0),
                    currency=cust["currency"],
                    minor_digits=minor_digits(cust["currency"]),
                    broken_promise=broken,
                    next_action=next_action,
                    last_contact=from_iso(last_contact).date() if last_contact else None,
                    risk_score=cust["risk_score"],
                ),
                settings,
            )
            rows.append(
                (
                    cid,
                    state,
                    prio,
                    json.dumps(reasons),
                    next_action,
                    next_action_at,
                    b.open_minor,
                    b.disputed_minor,
                    b.credits_minor,
                    b.oldest_due,
                    now_iso,
                )
            )
        conn.executemany(
            """INSERT INTO queue (customer_id, state, priority, reasons, next_action,
                   next_action_at, open_minor, disputed_minor, unapplied_minor, oldest_due,
                   updated_at)
               VALUES (?,?,?,?,?,?,?,?,?,?,?)
               ON CONFLICT(customer_id) DO UPDATE SET
                   state=excluded.state, priority=excluded.priority, reasons=excluded.reasons,
                   next_action=excluded.next_action, next_action_at=excluded.next_action_at,
                   open_minor=excluded.open_minor, disputed_minor=excluded.disputed_minor,
                   unapplied_minor=excluded.unapplied_minor, oldest_due=excluded.oldest_due,
                   updated_at=excluded.updated_at""",
            rows,
        )
        written += len(rows)
    return written
