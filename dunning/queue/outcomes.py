"""Logging a call outcome: one transaction, all or nothing.

The activity, the promise / plan / dispute / payment report it creates, the number
marked bad, the account's next action and its place in the queue, the released claim
and the cleared draft are written together, or not at all.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo

from dunning.clock import Clock, person_zone, to_iso
from dunning.db import aging_snapshot
from dunning.db.connection import write_tx
from dunning.i18n import _
from dunning.queue import audit
from dunning.queue.access import (
    AccountRefused,
    audit_refusal,
    check_change,
    load_access,
    on_behalf,
)
from dunning.queue.accounts import refresh_accounts
from dunning.queue.approvals import (
    REQUESTS,
    ROUTED,
    request_amount,
    route,
    take_effect,
    waiting_text,
)
from dunning.queue.calendar import account_reach, customer_calendar
from dunning.queue.collectors import Collector, get_collector_by_id
from dunning.queue.config import Settings

# the rules without a database live in outcome_rules; imported from here as before
from dunning.queue.outcome_rules import (
    DEPARTMENTS,
    DISPUTE_REASONS,
    ESCALATIONS,
    MAX_AHEAD,
    MAX_MINOR,
    MAX_PAID_AGO,
    MAX_PLAN,
    OUTCOMES,
    Flags,
    OutcomeError,
    OutcomeInput,
    check_input,
    default_next_action,
)
from dunning.queue.promises import decide_at, supersede_pending
from dunning.queue.status_rules import check_phone, check_status
from dunning.queue.times import check_outcome_times
from dunning.textsafe import clean

__all__ = [
    "DEPARTMENTS",
    "DISPUTE_REASONS",
    "ESCALATIONS",
    "MAX_AHEAD",
    "MAX_MINOR",
    "MAX_PAID_AGO",
    "MAX_PLAN",
    "OUTCOMES",
    "Flags",
    "Logged",
    "OutcomeError",
    "OutcomeInput",
    "check_input",
    "clean_typed",
    "cleaned_message",
    "default_next_action",
    "log_outcome",
]


@dataclass(frozen=True)
class Logged:
    activity_id: int
    customer_id: int
    outcome: str
    next_action: str
    next_action_at: str
    state: str
    cleaned: int = 0  # control/bidi characters removed from the note, reason and reference
    approval: str = ""  # the review reason when the policy sent it to a lead (approvals.py)

    @property
    def waiting_text(self) -> str:
        """ "waiting for approval: ..." (translated) when a lead must approve it, else ''."""
        return waiting_text(self.approval) if self.approval else ""


def clean_typed(inp: OutcomeInput) -> tuple[OutcomeInput, int]:
    """What the collector typed, without control, bidi or invisible format characters (a
    note keeps its lines): ``(input, how many were removed)``. Nothing typed is lost but
    those characters, and the caller says how many went (dunning/textsafe.py)."""
    note, n_note = clean(inp.note, lines=True)
    reason, n_reason = clean(inp.reason)
    reference, n_ref = clean(inp.reference)
    why, n_why = clean(inp.lead_reason)  # a lead's reason: in the history and the audit log
    removed = n_note + n_reason + n_ref + n_why
    if (
        not removed
        and note == inp.note
        and reason == inp.reason
        and reference == inp.reference
        and why == inp.lead_reason
    ):
        return inp, 0
    return replace(inp, note=note, reason=reason, reference=reference, lead_reason=why), removed


def cleaned_message(n: int) -> str:
    """What the CLI and the screen say after :func:`clean_typed` removed ``n`` characters."""
    return _("removed {n} control character(s) from the note").format(n=n)


def my_zone(conn: sqlite3.Connection, collector_id: int) -> tzinfo:
    """The collector's zone: their calendar's "today" (a plan's length is from it)."""
    row = conn.execute("SELECT tz FROM collectors WHERE id = ?", (collector_id,)).fetchone()
    return person_zone(row[0] if row else None)


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


def log_outcome(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    *,
    collector_id: int,
    customer_id: int,
    inp: OutcomeInput,
) -> Logged:
    """Log ``inp`` on the account, as ``collector_id``. The outcome needs the claim: taken
    and released in this transaction when the account is free and the collector's own (or
    a lead's, with ``inp.lead_reason``); refused otherwise (AccountRefused, audited),
    nothing changed (queue/access.py)."""
    me = get_collector_by_id(conn, collector_id)
    if me is None:
        raise OutcomeError(_("no collector with id {id}").format(id=collector_id))
    try:
        return _log(conn, clock, settings, me, customer_id, inp)
    except AccountRefused as exc:  # rolled back; the refusal itself is kept
        audit_refusal(
            conn,
            clock,
            me,
            action="log",
            target=exc.ref or str(customer_id),
            error=exc,
            detail={"outcome": inp.outcome},
        )
        raise


def _log(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    me: Collector,
    customer_id: int,
    inp: OutcomeInput,
) -> Logged:
    collector_id = me.id
    now = clock.now()
    now_iso = to_iso(now)
    inp, cleaned = clean_typed(inp)
    with write_tx(conn):
        customer = conn.execute("SELECT * FROM customers WHERE id = ?", (customer_id,)).fetchone()
        if customer is None:
            raise OutcomeError(_("no customer with id {id}").format(id=customer_id))
        q = conn.execute("SELECT * FROM queue WHERE customer_id = ?", (customer_id,)).fetchone()
        access = load_access(conn, now_iso, me, customer_id)
        assert access is not None  # the customer exists
        check_change(access, inp.lead_reason)  # refused (exit 1), not bad input
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
        routed = None
        if inp.outcome in ROUTED:  # the approval policy (queue/approvals.py)
            owed, numbers = request_amount(conn, q, customer, inp)
            routed = route(
                settings, me.role, customer["status"], customer["currency"], owed, inp,
                now.astimezone(my_zone(conn, collector_id)).date(), customer["external_ref"],
                me.locale, numbers,
            )  # fmt: skip
            if routed is not None:  # logged, not in effect: a lead decides
                next_action, next_at_iso = "lead_review", now_iso
                details.update(review_reason=routed.reason, proposal=routed.proposal)
        behalf = on_behalf(access, inp.lead_reason)
        details.update(behalf)
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
        if routed is None:
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
        if behalf:  # a lead on someone else's account: who, for whom and why
            audit.record(
                conn,
                clock,
                action="log",
                collector_id=collector_id,
                target=customer["external_ref"],
                detail={"outcome": inp.outcome, "activity_id": activity_id, **behalf},
            )
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
        cleaned,
        routed.reason if routed is not None else "",
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
        aging_snapshot.touch(conn, [cid])  # its aging row changed (db/aging_snapshot.py)
    elif o == "wrong_number":  # who found it bad first stays on record
        conn.execute(
            "UPDATE phones SET bad = 1, bad_at = ?, bad_by = ? WHERE id = ? AND bad = 0",
            (now_iso, collector_id, inp.phone_id),
        )
    elif o == "escalated" and inp.escalation in REQUESTS:  # within the policy
        take_effect(conn, now, tz, settings, customer, collector_id, activity_id, inp)
    elif o == "escalated" and inp.escalation in ("legal", "agency", "credit_hold"):
        conn.execute(
            "UPDATE customers SET status = ?, updated_at = ? WHERE id = ?",
            (inp.escalation, now_iso, cid),
        )
