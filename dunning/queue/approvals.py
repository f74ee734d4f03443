"""Approvals by policy (issue 9, item 7): what a collector's outcome may do alone, and what
waits for a lead in the review queue.

The policy is ``[approvals]`` of the configuration (queue/config.py ``ApprovalSettings``).
Four things may need a lead:

- a **payment plan** (``payment_plan``) longer than ``plan_max_months`` or with an
  instalment (but the last, the remainder) below ``plan_min_instalment_pct`` of what is
  owed: ``plan_outside_policy``;
- a **settlement** (``escalated`` to ``settlement`` with an amount and a pay-by date: the
  customer pays less than what is owed, the rest is forgiven) whose discount is above
  ``settlement_max_discount_pct`` (0: every settlement): ``settlement_request``;
- a **write-off** (``escalated`` to ``writeoff``: the whole balance, or chosen invoices
  with ``invoice_ids``: queue/writeoffs.py) above the
  collector's role's ``writeoff_limit`` in the account's currency (none set: above 0):
  ``writeoff_request``;
- a **credit-hold release** (``escalated`` to ``hold_release`` on a ``credit_hold``
  account) when ``credit_hold_release = "approval"``: ``hold_release_request``.

Such an outcome is logged as usual (the activity, the note, the flags) but does not take
effect: its next action is ``lead_review`` (queue state ``review``), and the activity's
``details`` carry ``review_reason`` and the proposed terms (``proposal``). Nothing else is
written (no promise, no status). The review queue (queue/review.py) shows the reason and
the terms; the lead's ``*_approved`` decision makes the terms take effect in the
decision's own transaction (:func:`apply_approved`: the plan's instalments created as the
normal path creates them, the settlement's promise, the hold lifted, the write-off with
the limit checked against the decider's role); ``*_declined`` sends the account back to
its collector's queue with the reason in its history.

Within the policy the outcome takes effect at once, as before: a plan's promises, a
settlement's promise (a ``promise_check`` on its date), a write-off within the
collector's limit (status ``write_off``), a free hold release (status ``active``).
"""

from __future__ import annotations

import calendar
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from dunning.clock import to_iso
from dunning.i18n import N_, _, day_text
from dunning.money import format_money, minor_digits
from dunning.queue import writeoffs
from dunning.queue.calendar import day_start
from dunning.queue.config import ANY_CURRENCY, WRITEOFF_UNLIMITED, Settings
from dunning.queue.outcome_rules import OutcomeError, OutcomeInput
from dunning.queue.promises import decide_at, supersede_pending

# escalations that are requests (outcome_rules.ESCALATIONS lists them too)
REQUESTS = ("settlement", "writeoff", "hold_release")
# the outcomes the policy may send to review: any other costs one membership test
ROUTED = frozenset({"payment_plan", "escalated"})

# review reason -> (approve decision, decline decision)
APPROVALS: dict[str, tuple[str, str]] = {
    "plan_outside_policy": ("plan_approved", "plan_declined"),
    "settlement_request": ("settlement_approved", "settlement_declined"),
    "writeoff_request": ("writeoff_approved", "writeoff_declined"),
    "hold_release_request": ("hold_release_approved", "hold_release_declined"),
}
APPROVED = {a: reason for reason, (a, _d) in APPROVALS.items()}
DECLINED = {d: reason for reason, (_a, d) in APPROVALS.items()}
WAITING = N_("waiting for approval: {what}")


class ApprovalRefused(Exception):
    """The decider may not approve this (a write-off above their limit); nothing changed."""


@dataclass(frozen=True)
class Routed:
    reason: str  # a review reason (APPROVALS' keys)
    proposal: dict[str, object]  # the terms, as the approval will apply them


def request_amount(
    conn: sqlite3.Connection, q: sqlite3.Row | None, customer: sqlite3.Row, inp: OutcomeInput
) -> tuple[int, list[str]]:
    """What the request is about: a partial write-off's invoices (their open amounts and
    numbers, checked: queue/writeoffs.py), else what is owed (``owed_of``)."""
    if not inp.invoice_ids or inp.outcome != "escalated":
        return owed_of(q), []
    if inp.escalation != "writeoff":
        raise OutcomeError(_("only a write-off is of chosen invoices"))
    return writeoffs.chosen_amount(
        conn, int(customer["id"]), str(customer["external_ref"]), inp.invoice_ids
    )


def writeoff_amount(conn: sqlite3.Connection, q: sqlite3.Row, proposal: dict[str, object]) -> int:
    """What an approved write-off forgives now: the chosen invoices' open amounts (a
    partial one), else what the account owes."""
    ids = proposal.get("invoice_ids")
    if not isinstance(ids, list) or not ids:
        return owed_of(q)
    marks = ",".join("?" * len(ids))
    row = conn.execute(
        f"""SELECT COALESCE(SUM(open_minor), 0) FROM invoices WHERE customer_id = ?
            AND status = 'open' AND open_minor > 0 AND id IN ({marks})""",
        [q["id"], *ids],
    ).fetchone()
    return int(row[0])


def owed_of(queue_row: sqlite3.Row | None) -> int:
    """What is owed, as the review list says it: open invoices net of credits, >= 0."""
    if queue_row is None:
        return 0
    return max(int(queue_row["open_minor"] or 0) + int(queue_row["unapplied_minor"] or 0), 0)


def add_months(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class NoLimit(Exception):
    """No write-off limit is set for this role in this currency."""


def limit_minor(settings: Settings, role: str, currency: str) -> int | None:
    """The largest amount ``role`` may write off alone, in minor units of ``currency``
    (its own ``[approvals.writeoff_limit.XXX]`` table, else the keys directly under
    ``[approvals.writeoff_limit]``); None: no limit. NoLimit when the policy sets none."""
    limits = settings.approvals.writeoff_limit
    table = limits.get(currency, limits.get(ANY_CURRENCY, {}))
    major = table.get(role)
    if major is None:
        raise NoLimit(role, currency)
    if major == WRITEOFF_UNLIMITED:
        return None
    return major * 10 ** minor_digits(currency)


def no_limit_text(settings: Settings, role: str, currency: str) -> str:
    """The refusal when the policy sets no write-off limit for ``role`` in ``currency``:
    names the file and the setting."""
    return _(
        "{source}: no write-off limit is set for {role} in {currency}: set "
        "[approvals.writeoff_limit.{currency}] {role}"
    ).format(source=settings.approvals.source, role=role, currency=currency)


def check_request(
    inp: OutcomeInput, status: str, owed_minor: int, ref: str, currency: str, locale: str
) -> None:
    """What a request must hold (bad input: OutcomeError, one line naming the value)."""
    e = inp.escalation
    if e == "settlement":
        if not inp.amount_minor or inp.amount_minor <= 0 or inp.on_date is None:
            raise OutcomeError(_("a settlement needs the amount agreed and the date it is paid by"))
        if inp.amount_minor >= owed_minor:
            raise OutcomeError(
                _("a settlement of {amount} is not less than what is owed ({owed})").format(
                    amount=format_money(inp.amount_minor, currency, locale),
                    owed=format_money(owed_minor, currency, locale),
                )
            )
    elif e == "writeoff" and owed_minor <= 0:
        raise OutcomeError(_("{ref} owes nothing: there is nothing to write off").format(ref=ref))
    elif e == "hold_release" and status != "credit_hold":
        raise OutcomeError(
            _("{ref} is not on credit hold (its status is {status})").format(ref=ref, status=status)
        )


def route(
    settings: Settings, role: str, status: str, currency: str, owed_minor: int,
    inp: OutcomeInput, today: date, ref: str, locale: str = "en_US",
    numbers: list[str] | None = None,
) -> Routed | None:  # fmt: skip
    """The review reason and proposal when the policy sends ``inp`` to a lead; None when
    it takes effect at once. Bad request input raises OutcomeError. A partial write-off:
    ``owed_minor`` is its invoices' open amount, ``numbers`` their numbers."""
    policy = settings.approvals
    if inp.outcome == "payment_plan":
        outside: list[str] = []
        last = inp.instalments[-1][1]
        if last > add_months(today, policy.plan_max_months):
            outside.append("too_long")
        floor = -(-owed_minor * round(policy.plan_min_instalment_pct * 100) // 10_000)
        if any(a < floor for a, _d in inp.instalments[:-1]):
            outside.append("instalment_too_small")
        if not outside:
            return None
        return Routed(
            "plan_outside_policy",
            {
                "instalments": [[a, d.isoformat()] for a, d in inp.instalments],
                "grace_days": inp.grace_days,
                "owed_minor": owed_minor,
                "outside": outside,
                "max_months": policy.plan_max_months,
                "min_instalment_minor": floor,
            },
        )
    if inp.outcome != "escalated" or inp.escalation not in REQUESTS:
        return None
    check_request(inp, status, owed_minor, ref, currency, locale)
    if inp.escalation == "settlement":
        assert inp.amount_minor is not None and inp.on_date is not None
        pct = (owed_minor - inp.amount_minor) * 100 / owed_minor
        terms: dict[str, object] = {
            "amount_minor": inp.amount_minor,
            "date": inp.on_date.isoformat(),
            "grace_days": inp.grace_days,
            "owed_minor": owed_minor,
            "discount_pct": round(pct, 2),
        }
        cap = policy.settlement_max_discount_pct
        return Routed("settlement_request", terms) if cap == 0 or pct > cap else None
    if inp.escalation == "writeoff":
        try:
            cap_minor = limit_minor(settings, role, currency)
        except NoLimit:  # none set for the role in this currency: a lead (or admin) decides
            cap_minor = 0
        if cap_minor is not None and (cap_minor == 0 or owed_minor > cap_minor):
            wanted: dict[str, object] = {"owed_minor": owed_minor}
            if inp.invoice_ids:
                wanted.update(invoice_ids=sorted(set(inp.invoice_ids)), invoices=numbers or [])
            return Routed("writeoff_request", wanted)
        return None
    if policy.credit_hold_release == "approval":
        return Routed("hold_release_request", {"status": status})
    return None


def terms_text(reason: str, proposal: dict[str, object], currency: str, locale: str) -> str:
    """The proposed terms as the review list shows them (one line, translated)."""

    def money(v: object) -> str:
        return format_money(int(v), currency, locale)  # type: ignore[call-overload]

    if reason == "plan_outside_policy" and isinstance(proposal.get("instalments"), list):
        inst = proposal["instalments"]
        first, last = inst[0], inst[-1]  # type: ignore[index]
        text = _("{n} instalments, {first} on {start} … {last} on {end}").format(
            n=len(inst),  # type: ignore[arg-type]
            first=money(first[0]),
            start=day_text(date.fromisoformat(first[1])),
            last=money(last[0]),
            end=day_text(date.fromisoformat(last[1])),
        )
        why = []
        if "too_long" in proposal.get("outside", []):  # type: ignore[operator]
            why.append(_("over {n} months").format(n=proposal.get("max_months")))
        if "instalment_too_small" in proposal.get("outside", []):  # type: ignore[operator]
            why.append(
                _("instalment below {amount}").format(
                    amount=money(proposal.get("min_instalment_minor", 0))
                )
            )
        return f"{text} ({'; '.join(why)})" if why else text
    if reason == "settlement_request" and "amount_minor" in proposal:
        return _("{amount} by {day} instead of {owed} ({pct}% off)").format(
            amount=money(proposal["amount_minor"]),
            day=day_text(date.fromisoformat(str(proposal["date"]))),
            owed=money(proposal.get("owed_minor", 0)),
            pct=proposal.get("discount_pct"),
        )
    if reason == "writeoff_request" and proposal.get("invoices"):
        return _("write off {amount}: invoices {numbers}").format(
            amount=money(proposal["owed_minor"]),
            numbers=", ".join(str(n) for n in proposal["invoices"]),  # type: ignore[attr-defined]
        )
    if reason == "writeoff_request" and "owed_minor" in proposal:
        return _("write off {amount}").format(amount=money(proposal["owed_minor"]))
    if reason == "hold_release_request":
        return _("lift the credit hold")
    return ""


def waiting_text(reason: str) -> str:
    """What the collector reads after an outcome the policy sent to a lead."""
    from dunning.queue.review import REVIEW_REASONS

    return _(WAITING).format(what=_(REVIEW_REASONS.get(reason, reason)))


def check_writeoff_limit(
    settings: Settings, role: str, who: str, currency: str, owed_minor: int, locale: str
) -> None:
    """A lead approves a write-off up to their role's limit, above it an admin."""
    try:
        cap = limit_minor(settings, role, currency)
    except NoLimit:
        raise ApprovalRefused(no_limit_text(settings, role, currency)) from None
    if cap is None or owed_minor <= cap:
        return
    raise ApprovalRefused(
        _("{who} may write off up to {limit}: {amount} is above it (an admin decides)").format(
            who=who,
            limit=format_money(cap, currency, locale),
            amount=format_money(owed_minor, currency, locale),
        )
    )


def _promises(
    conn: sqlite3.Connection, cid: int, activity_id: int, created_by: int, currency: str,
    rows: list[tuple[int, date]], grace: int, tz: tzinfo, today: str, now_iso: str,
    plan: bool,
) -> None:  # fmt: skip
    """The promises the outcome would have made (outcomes._create_records' statements)."""
    conn.executemany(
        """INSERT INTO promises (customer_id, activity_id, plan_ref, instalment,
               amount_minor, currency, promised_on, due_date, grace_days, decide_at,
               created_at, created_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)""",
        [
            (
                cid, activity_id, f"plan-{activity_id}" if plan else None,
                n if plan else None, amount, currency, today, d.isoformat(), grace,
                decide_at(d, grace, tz), now_iso, created_by,
            )
            for n, (amount, d) in enumerate(rows, start=1)
        ],
    )  # fmt: skip
    supersede_pending(conn, cid, activity_id, now_iso)


def apply_approved(
    conn: sqlite3.Connection,
    settings: Settings,
    now: datetime,
    tz: tzinfo,
    customer: sqlite3.Row,
    sent: sqlite3.Row,
    proposal: dict[str, object],
    decision: str,
) -> tuple[str, str, str]:
    """Make the approved terms take effect (inside the decision's transaction): returns
    (status after, next action, next action at). ``sent`` is the collector's outcome."""
    cid, currency = int(customer["id"]), str(customer["currency"])
    now_iso = to_iso(now)
    today = now.astimezone(tz).date()
    if decision == "hold_release_approved":
        return "active", "call", now_iso
    if decision == "writeoff_approved":  # a partial one: the rest stays in collection
        return str(customer["status"]), "call", now_iso
    grace_v = proposal.get("grace_days")
    grace = settings.grace_days if grace_v is None else int(grace_v)  # type: ignore[call-overload]
    if decision == "plan_approved":
        rows = [(int(a), date.fromisoformat(d)) for a, d in proposal["instalments"]]  # type: ignore[attr-defined]
    else:  # settlement_approved: one promise for the amount agreed
        rows = [(int(proposal["amount_minor"]), date.fromisoformat(str(proposal["date"])))]  # type: ignore[call-overload]
    if rows[0][1] < today:
        raise ApprovalRefused(
            _("the first payment was due {day}, before today: decline it and agree new terms")
            .format(day=day_text(rows[0][1]))
        )  # fmt: skip
    _promises(
        conn, cid, int(sent["id"]), int(sent["collector_id"]), currency, rows, grace, tz,
        today.isoformat(), now_iso, decision == "plan_approved",
    )  # fmt: skip
    first = day_start(rows[0][1] + timedelta(days=grace), tz)
    action = "instalment_check" if decision == "plan_approved" else "promise_check"
    return str(customer["status"]), action, to_iso(first)


def take_effect(
    conn: sqlite3.Connection, now: datetime, tz: tzinfo, settings: Settings,
    customer: sqlite3.Row, collector_id: int, activity_id: int, inp: OutcomeInput,
) -> None:  # fmt: skip
    """A request within the policy, at once (outcomes._create_records calls it)."""
    cid, now_iso = int(customer["id"]), to_iso(now)
    if inp.escalation == "settlement":
        assert inp.amount_minor is not None and inp.on_date is not None
        grace = settings.grace_days if inp.grace_days is None else inp.grace_days
        _promises(
            conn, cid, activity_id, collector_id, str(customer["currency"]),
            [(inp.amount_minor, inp.on_date)], grace, tz, now.astimezone(tz).date().isoformat(),
            now_iso, False,
        )  # fmt: skip
    elif inp.escalation == "writeoff" and inp.invoice_ids:  # partial: those invoices
        writeoffs.write_off(
            conn, now, cid, invoice_ids=inp.invoice_ids, activity_id=activity_id,
            by_id=collector_id, reason=inp.note.strip(),
        )  # fmt: skip
    elif inp.escalation in ("writeoff", "hold_release"):
        status = "write_off" if inp.escalation == "writeoff" else "active"
        conn.execute(
            "UPDATE customers SET status = ?, updated_at = ? WHERE id = ?", (status, now_iso, cid)
        )
        if inp.escalation == "writeoff":  # the whole account: every open invoice
            writeoffs.write_off(conn, now, cid, activity_id=activity_id, by_id=collector_id,
                                reason=inp.note.strip())  # fmt: skip
