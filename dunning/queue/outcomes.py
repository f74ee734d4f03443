"""Logging a call outcome: one transaction, all or nothing.

The activity, the promise / plan / dispute / payment report it creates, the number
marked bad, the account's next action and its place in the queue, the released claim
and the cleared draft are written together, or not at all.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from dunning.clock import Clock, host_zone, person_zone, to_iso
from dunning.db.connection import write_tx
from dunning.i18n import _, day_text
from dunning.queue.accounts import refresh_accounts
from dunning.queue.calendar import (
    CustomerCalendar,
    account_reach,
    add_business_days,
    customer_calendar,
    day_start,
)
from dunning.queue.claim import ClaimError
from dunning.queue.config import Settings
from dunning.queue.promises import decide_at, supersede_pending
from dunning.queue.status_rules import check_phone, check_status
from dunning.queue.times import check_outcome_times


@dataclass(frozen=True)
class Flags:
    attempt: bool
    contact: bool
    rpc: bool
    worked: bool


# DOMAIN.md "Call outcomes"; callback's rpc is "maybe": the collector says (default no).
OUTCOMES: dict[str, Flags] = {
    "promise_to_pay": Flags(True, True, True, True),
    "payment_plan": Flags(True, True, True, True),
    "paid": Flags(True, True, True, True),
    "dispute": Flags(True, True, True, True),
    "callback": Flags(True, True, False, True),
    "refused": Flags(True, True, True, True),
    "left_message": Flags(True, False, False, True),
    "no_answer": Flags(True, False, False, True),
    "busy": Flags(True, False, False, False),
    "wrong_number": Flags(True, False, False, True),
    "escalated": Flags(False, False, False, True),
    "note": Flags(False, False, False, False),
    "skip": Flags(False, False, False, False),
}
DISPUTE_REASONS = (
    "pricing",
    "not_received",
    "damaged",
    "quality",
    "billing_error",
    "duplicate",
    "other",
)
DEPARTMENTS = ("sales", "customer_service", "billing", "legal")
ESCALATIONS = ("legal", "agency", "credit_hold", "lead_review")


class OutcomeError(ValueError):
    """The outcome cannot be logged as given; nothing was written."""


@dataclass
class OutcomeInput:
    outcome: str
    note: str = ""
    phone_id: int | None = None  # the number dialled (wrong_number: the bad one)
    next_action_at: datetime | None = None  # the collector's override of the default
    amount_minor: int | None = None  # promise_to_pay, paid
    on_date: date | None = None  # promise due date, payment date
    grace_days: int | None = None
    reference: str = ""  # paid
    instalments: list[tuple[int, date]] = field(default_factory=list)  # payment_plan
    invoice_ids: list[int] = field(default_factory=list)  # dispute
    reason: str = ""  # dispute reason, skip reason
    department: str = ""  # dispute
    callback_at: datetime | None = None
    escalation: str = ""  # legal, agency, credit_hold, lead_review
    rpc: bool | None = None  # callback: did we speak to the right party?


@dataclass(frozen=True)
class Logged:
    activity_id: int
    customer_id: int
    outcome: str
    next_action: str
    next_action_at: str
    state: str


MAX_AHEAD = timedelta(days=366)  # a callback or next action, a promise date
MAX_PLAN = timedelta(days=3 * 366)  # the last instalment of a plan
MAX_PAID_AGO = timedelta(days=366)  # "I paid it last year" is for the ledger, not a call
MAX_MINOR = 10**15  # 10 trillion in a 2-decimal currency: anything above is a typo


def check_input(inp: OutcomeInput, now: datetime, tz: tzinfo | None = None) -> None:
    """Checks that need no database: a dialog runs them before it closes.

    Dates the collector typed are read on the collector's calendar (``tz``, the
    collector's zone; None = the host's), as they were parsed: "today" at 18:00 in Los
    Angeles is not UTC's today, nor the server's.
    """
    o = inp.outcome
    if o not in OUTCOMES:
        raise OutcomeError(
            _("unknown outcome {outcome!r}; one of: {choices}").format(
                outcome=o, choices=", ".join(OUTCOMES)
            )
        )
    today = now.astimezone(tz or host_zone()).date()
    amounts = [inp.amount_minor or 0, *(a for a, _d in inp.instalments)]
    if any(abs(a) >= MAX_MINOR for a in amounts):
        raise OutcomeError(_("the amount is too large to be right"))
    if inp.next_action_at is not None and inp.next_action_at > now + MAX_AHEAD:
        raise OutcomeError(_("the next action is over a year away"))
    if inp.next_action_at is not None and o in ("refused", "escalated", "note"):
        raise OutcomeError(
            _("a next action cannot be chosen for {outcome}: it follows from the outcome").format(
                outcome=o
            )
        )
    if o == "promise_to_pay":
        if not inp.amount_minor or inp.amount_minor <= 0:
            raise OutcomeError(_("a promise needs an amount greater than zero"))
        if inp.on_date is None:
            raise OutcomeError(_("a promise needs the date it will be paid by"))
        if inp.on_date < today:
            raise OutcomeError(
                _("promise date {day} is in the past").format(day=day_text(inp.on_date))
            )
        if inp.on_date > today + MAX_AHEAD:
            raise OutcomeError(
                _("promise date {day} is over a year away").format(day=day_text(inp.on_date))
            )
    elif o == "payment_plan":
        if len(inp.instalments) < 2:
            raise OutcomeError(_("a payment plan needs at least two instalments"))
        dates = [d for _a, d in inp.instalments]
        if dates != sorted(dates) or len(set(dates)) != len(dates):
            raise OutcomeError(_("instalment dates must be distinct and in order"))
        if dates[0] < today:
            raise OutcomeError(
                _("first instalment {day} is in the past").format(day=day_text(dates[0]))
            )
        if dates[-1] > today + MAX_PLAN:
            raise OutcomeError(
                _("last instalment {day} is over 3 years away").format(day=day_text(dates[-1]))
            )
        if any(a <= 0 for a, _d in inp.instalments):
            raise OutcomeError(_("every instalment needs an amount greater than zero"))
    elif o == "paid":
        if not inp.amount_minor or inp.amount_minor <= 0:
            raise OutcomeError(_("a reported payment needs an amount greater than zero"))
        if inp.on_date is None:
            raise OutcomeError(_("a reported payment needs the date it was paid"))
        if inp.on_date > today:
            raise OutcomeError(
                _("payment date {day} is in the future").format(day=day_text(inp.on_date))
            )
        if inp.on_date < today - MAX_PAID_AGO:
            raise OutcomeError(
                _("payment date {day} is over a year ago").format(day=day_text(inp.on_date))
            )
    elif o == "dispute":
        if not inp.invoice_ids:
            raise OutcomeError(_("a dispute names at least one invoice"))
        if inp.reason not in DISPUTE_REASONS:
            choices = ", ".join(DISPUTE_REASONS)
            raise OutcomeError(
                _("dispute reason {reason!r}: one of {choices}").format(
                    reason=inp.reason, choices=choices
                )
            )
        if inp.department not in DEPARTMENTS:
            choices = ", ".join(DEPARTMENTS)
            raise OutcomeError(
                _("department {department!r}: one of {choices}").format(
                    department=inp.department, choices=choices
                )
            )
    elif o == "callback":
        if inp.callback_at is None:
            raise OutcomeError(_("a callback needs a date and time"))
        if inp.callback_at < now - timedelta(minutes=1):
            raise OutcomeError(_("the callback time is in the past"))
        if inp.callback_at > now + MAX_AHEAD:
            raise OutcomeError(_("the callback is over a year away"))
    elif o == "wrong_number":
        if inp.phone_id is None:
            raise OutcomeError(_("say which number was wrong"))
    elif o == "escalated" and inp.escalation not in ESCALATIONS:
        raise OutcomeError(
            _("escalate to one of: {choices}").format(choices=", ".join(ESCALATIONS))
        )
    elif o == "skip" and not inp.reason.strip():
        raise OutcomeError(_("say why you skip it"))
    if inp.next_action_at is not None and inp.next_action_at < now - timedelta(minutes=1):
        raise OutcomeError(_("the next action cannot be in the past"))
    if inp.grace_days is not None and not 0 <= inp.grace_days <= 30:
        raise OutcomeError(_("grace days must be between 0 and 30"))


def _validate(
    conn: sqlite3.Connection,
    now: datetime,
    settings: Settings,
    customer: sqlite3.Row,
    collector_id: int,
    inp: OutcomeInput,
) -> None:
    flags = OUTCOMES.get(inp.outcome)
    attempt = flags is not None and flags.attempt
    # the account's status first: no call, however well the outcome is filled in
    check_status(
        customer["external_ref"],
        customer["status"],
        inp.outcome,
        attempt=attempt,
        escalation=inp.escalation,
    )
    me = conn.execute("SELECT tz, locale FROM collectors WHERE id = ?", (collector_id,)).fetchone()
    my_zone = person_zone(me["tz"] if me else None)
    check_input(inp, now, my_zone)
    cid = customer["id"]
    where = account_reach(conn, cid, customer["country"], customer["subdivision"])
    check_outcome_times(  # a time chosen for a call must be a legal one
        inp.outcome,
        inp.callback_at,
        inp.next_action_at,
        rules=customer["portfolio"] in settings.contact_rules_portfolios,
        country=customer["country"],
        subdivision=customer["subdivision"],
        zones=where.zones,
        collector=my_zone,
        locale=me["locale"] if me else "en_US",
        jurisdictions=where.jurisdictions,
    )
    if inp.phone_id is not None:
        ok = conn.execute(
            "SELECT 1 FROM phones WHERE id = ? AND customer_id = ?", (inp.phone_id, cid)
        ).fetchone()
        if not ok:
            raise OutcomeError(
                _("phone {id} is not a number of this customer").format(id=inp.phone_id)
            )
        if attempt:
            check_phone(conn, cid, inp.phone_id)
    if inp.outcome == "dispute":
        ids = sorted(set(inp.invoice_ids))
        marks = ",".join("?" * len(ids))
        found = conn.execute(
            f"""SELECT COUNT(*) FROM invoices WHERE id IN ({marks}) AND customer_id = ?
                AND status = 'open' AND open_minor > 0 AND disputed = 0""",
            [*ids, cid],
        ).fetchone()[0]
        if found != len(ids):
            raise OutcomeError(
                _("a disputed invoice must be an open, undisputed invoice of this customer")
            )


def default_next_action(
    inp: OutcomeInput, now: datetime, settings: Settings, cal: CustomerCalendar | tzinfo = UTC
) -> tuple[str, datetime]:
    """DOMAIN.md's default next action for each outcome, on the customer's calendar
    (``cal``; a bare zone: weekdays there): business days are the customer's working days
    (no weekend, no public holiday of their place), a promise is checked from the start of
    the customer's day after the grace days (calendar days)."""
    if not isinstance(cal, CustomerCalendar):
        cal = CustomerCalendar(cal)
    tz = cal.tz
    o = inp.outcome
    grace = settings.grace_days if inp.grace_days is None else inp.grace_days
    if o == "promise_to_pay" and inp.on_date:
        return "promise_check", day_start(inp.on_date + timedelta(days=grace), tz)
    if o == "payment_plan":
        return "instalment_check", day_start(inp.instalments[0][1] + timedelta(days=grace), tz)
    if o == "paid":
        return "verify_payment", add_business_days(now, 3, cal)
    if o == "callback" and inp.callback_at:
        return "callback", inp.callback_at
    if o == "refused":
        return "lead_review", now
    if o == "left_message":
        return "call", add_business_days(now, 2, cal)
    if o in ("no_answer", "dispute"):
        return "call", add_business_days(now, 1, cal)
    if o == "busy":
        return "call", now + timedelta(hours=2)
    if o == "wrong_number":
        return "call", now
    if o == "escalated":
        if inp.escalation == "credit_hold":
            return "call", add_business_days(now, 1, cal)
        if inp.escalation == "lead_review":
            return "lead_review", now
        return inp.escalation, now
    if o == "skip":
        return "call", now + timedelta(minutes=settings.skip_minutes)
    return "call", now


def log_outcome(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    *,
    collector_id: int,
    customer_id: int,
    inp: OutcomeInput,
) -> Logged:
    now = clock.now()
    now_iso = to_iso(now)
    with write_tx(conn):
        customer = conn.execute("SELECT * FROM customers WHERE id = ?", (customer_id,)).fetchone()
        if customer is None:
            raise OutcomeError(_("no customer with id {id}").format(id=customer_id))
        q = conn.execute("SELECT * FROM queue WHERE customer_id = ?", (customer_id,)).fetchone()
        if (
            q is not None
            and q["claimed_by"] not in (None, collector_id)
            and (q["claim_expires_at"] or "") > now_iso
        ):
            who = conn.execute(
                "SELECT username FROM collectors WHERE id = ?", (q["claimed_by"],)
            ).fetchone()
            raise ClaimError(  # refused (exit 1), not bad input
                _("{ref} is being worked by {who} right now").format(
                    ref=customer["external_ref"], who=who[0] if who else "?"
                )
            )
        _validate(conn, now, settings, customer, collector_id, inp)
        cal = customer_calendar(conn, customer_id, customer["country"], customer["subdivision"])
        tz = cal.tz
        flags = OUTCOMES[inp.outcome]
        rpc = flags.rpc if inp.rpc is None else (inp.rpc and flags.contact)
        if inp.outcome == "note":
            next_action = q["next_action"] if q else "call"
            next_at_iso = q["next_action_at"] if q else now_iso
        else:
            next_action, next_at = default_next_action(inp, now, settings, cal)
            if inp.next_action_at is not None:
                next_at = inp.next_action_at
            next_at_iso = to_iso(next_at)
        details = _details(inp)
        if inp.outcome == "escalated":  # what a void of it puts back (queue/void.py)
            details["status_before"] = customer["status"]
        cur = conn.execute(
            """INSERT INTO activities (customer_id, collector_id, at, outcome, attempt, contact,
                   rpc, worked, phone_id, note, next_action, next_action_at, details)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            (
                customer_id,
                collector_id,
                now_iso,
                inp.outcome,
                flags.attempt,
                flags.contact,
                rpc,
                flags.worked,
                inp.phone_id,
                inp.note.strip(),
                next_action,
                next_at_iso,
                json.dumps(details) if details else None,
            ),
        )
        activity_id = int(cur.lastrowid or 0)
        _create_records(conn, now, tz, settings, customer, collector_id, activity_id, inp)
        sets = [
            "next_action = ?",
            "next_action_at = ?",
            "claimed_by = NULL",
            "claim_expires_at = NULL",
        ]
        params: list[object] = [next_action, next_at_iso]
        if flags.attempt:
            sets.append("last_attempt_at = ?")
            params.append(now_iso)
        if flags.contact:
            sets.append("last_contact_at = ?")
            params.append(now_iso)
        if rpc:
            sets.append("broken_promise = 0")
        conn.execute(
            f"UPDATE queue SET {', '.join(sets)} WHERE customer_id = ?", [*params, customer_id]
        )
        conn.execute(
            "DELETE FROM drafts WHERE collector_id = ? AND customer_id = ?",
            (collector_id, customer_id),
        )
        refresh_accounts(conn, clock, settings, [customer_id])
        state = conn.execute(
            "SELECT state FROM queue WHERE customer_id = ?", (customer_id,)
        ).fetchone()
    return Logged(
        activity_id,
        customer_id,
        inp.outcome,
        next_action,
        next_at_iso,
        state[0] if state else "closed",
    )


def _details(inp: OutcomeInput) -> dict[str, object]:
    d: dict[str, object] = {}
    if inp.amount_minor is not None:
        d["amount_minor"] = inp.amount_minor
    if inp.on_date is not None:
        d["date"] = inp.on_date.isoformat()
    if inp.reference:
        d["reference"] = inp.reference
    if inp.instalments:
        d["instalments"] = [[a, x.isoformat()] for a, x in inp.instalments]
    if inp.invoice_ids:
        d["invoice_ids"] = list(inp.invoice_ids)
    if inp.reason:
        d["reason"] = inp.reason
    if inp.department:
        d["department"] = inp.department
    if inp.callback_at is not None:
        d["callback_at"] = to_iso(inp.callback_at)
    if inp.escalation:
        d["escalation"] = inp.escalation
    if inp.next_action_at is not None:
        d["next_action_override"] = to_iso(inp.next_action_at)
    return d


def _create_records(
    conn: sqlite3.Connection,
    now: datetime,
    tz: tzinfo,
    settings: Settings,
    customer: sqlite3.Row,
    collector_id: int,
    activity_id: int,
    inp: OutcomeInput,
) -> None:
    cid = customer["id"]
    cur_code = customer["currency"]
    now_iso = to_iso(now)
    today = now.astimezone(tz).date().isoformat()  # the day the customer promised
    grace = settings.grace_days if inp.grace_days is None else inp.grace_days
    o = inp.outcome
    if o == "promise_to_pay":
        assert inp.amount_minor is not None and inp.on_date is not None
        conn.execute(
            """INSERT INTO promises (customer_id, activity_id, amount_minor, currency,
                   promised_on, due_date, grace_days, decide_at, created_at, created_by)
               VALUES (?,?,?,?,?,?,?,?,?,?)""",
            (
                cid,
                activity_id,
                inp.amount_minor,
                cur_code,
                today,
                inp.on_date.isoformat(),
                grace,
                decide_at(inp.on_date, grace, tz),
                now_iso,
                collector_id,
            ),
        )
        supersede_pending(conn, cid, activity_id, now_iso)
    elif o == "payment_plan":
        plan_ref = f"plan-{activity_id}"
        conn.executemany(
            """INSERT INTO promises (customer_id, activity_id, plan_ref, instalment,
                   amount_minor, currency, promised_on, due_date, grace_days, decide_at,
                   created_at, created_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)""",
            [
                (
                    cid,
                    activity_id,
                    plan_ref,
                    n,
                    amount,
                    cur_code,
                    today,
                    d.isoformat(),
                    grace,
                    decide_at(d, grace, tz),
                    now_iso,
                    collector_id,
                )
                for n, (amount, d) in enumerate(inp.instalments, start=1)
            ],
        )
        supersede_pending(conn, cid, activity_id, now_iso)
    elif o == "paid":
        assert inp.amount_minor is not None and inp.on_date is not None
        conn.execute(
            """INSERT INTO payment_reports (customer_id, activity_id, amount_minor, currency,
                   paid_on, reference, created_at, created_by) VALUES (?,?,?,?,?,?,?,?)""",
            (
                cid,
                activity_id,
                inp.amount_minor,
                cur_code,
                inp.on_date.isoformat(),
                inp.reference,
                now_iso,
                collector_id,
            ),
        )
    elif o == "dispute":
        ids = sorted(set(inp.invoice_ids))
        marks = ",".join("?" * len(ids))
        amount = conn.execute(
            f"SELECT SUM(open_minor) FROM invoices WHERE id IN ({marks})", ids
        ).fetchone()[0]
        cur = conn.execute(
            """INSERT INTO disputes (customer_id, activity_id, reason, department,
                   amount_minor, currency, created_at, created_by) VALUES (?,?,?,?,?,?,?,?)""",
            (cid, activity_id, inp.reason, inp.department, amount, cur_code, now_iso, collector_id),
        )
        conn.executemany(
            "INSERT INTO dispute_invoices (dispute_id, invoice_id) VALUES (?, ?)",
            [(cur.lastrowid, i) for i in ids],
        )
        conn.execute(
            f"UPDATE invoices SET disputed = 1, updated_at = ? WHERE id IN ({marks})",
            [now_iso, *ids],
        )
    elif o == "wrong_number":  # who found it bad first stays on record
        conn.execute(
            "UPDATE phones SET bad = 1, bad_at = ?, bad_by = ? WHERE id = ? AND bad = 0",
            (now_iso, collector_id, inp.phone_id),
        )
    elif o == "escalated" and inp.escalation in ("legal", "agency", "credit_hold"):
        conn.execute(
            "UPDATE customers SET status = ?, updated_at = ? WHERE id = ?",
            (inp.escalation, now_iso, cid),
        )
