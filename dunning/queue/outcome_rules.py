"""What an outcome must hold, and where it leads: no database, no Textual.

The outcome table (DOMAIN.md "Call outcomes"), the input a collector gives, the checks a
dialog runs before it closes (``check_input``) and the default next action of each
outcome. ``dunning.queue.outcomes`` writes them; it re-exports every name here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from dunning.clock import host_zone
from dunning.i18n import _, day_text
from dunning.money import MAX_MINOR
from dunning.queue.calendar import CustomerCalendar, add_business_days, day_start
from dunning.queue.config import Settings


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
# the last three are requests a lead may have to approve (queue/approvals.py)
ESCALATIONS = (
    "legal", "agency", "credit_hold", "lead_review", "settlement", "writeoff", "hold_release",
)  # fmt: skip


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
    invoice_ids: list[int] = field(default_factory=list)  # dispute; a partial write-off
    reason: str = ""  # dispute reason, skip reason
    department: str = ""  # dispute
    callback_at: datetime | None = None
    escalation: str = ""  # ESCALATIONS (settlement: amount_minor by on_date)
    rpc: bool | None = None  # callback: did we speak to the right party?
    lead_reason: str = ""  # a lead acting on another collector's account says why


MAX_AHEAD = timedelta(days=366)  # a callback or next action, a promise date
MAX_PLAN = timedelta(days=3 * 366)  # the last instalment of a plan
MAX_PAID_AGO = timedelta(days=366)  # "I paid it last year" is for the ledger, not a call


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
    elif o == "escalated" and inp.escalation == "settlement" and inp.on_date is not None:
        if not today <= inp.on_date <= today + MAX_AHEAD:
            raise OutcomeError(
                _("settlement date {day} must be between today and a year from now").format(
                    day=day_text(inp.on_date)
                )
            )
    elif o == "skip" and not inp.reason.strip():
        raise OutcomeError(_("say why you skip it"))
    if inp.next_action_at is not None and inp.next_action_at < now - timedelta(minutes=1):
        raise OutcomeError(_("the next action cannot be in the past"))
    if inp.grace_days is not None and not 0 <= inp.grace_days <= 30:
        raise OutcomeError(_("grace days must be between 0 and 30"))


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
        if inp.escalation == "settlement" and inp.on_date:  # within policy: a promise
            return "promise_check", day_start(inp.on_date + timedelta(days=grace), tz)
        if inp.escalation == "writeoff" and inp.invoice_ids:  # partial: the rest is owed
            return "call", add_business_days(now, 1, cal)
        if inp.escalation == "writeoff":
            return "write_off", now
        if inp.escalation == "hold_release":
            return "call", now
        return inp.escalation, now
    if o == "skip":
        return "call", now + timedelta(minutes=settings.skip_minutes)
    return "call", now
