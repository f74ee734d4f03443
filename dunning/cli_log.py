"""``dunning log``: log a call outcome from a shell (parser, options, handler).

The same queue function as the screen: log_outcome. Registered by cli_work.register.
"""

from __future__ import annotations

import argparse
import sqlite3
from dataclasses import asdict

from babel.dates import format_datetime

from dunning.cli_base import EXIT_USAGE, CliError, Context, say
from dunning.cli_parse import (
    find_customer,
    parse_account_when,
    parse_instalments,
    parse_local_day,
    resolve_invoices,
    resolve_phone,
    whole_number,
)
from dunning.cli_work import _emit_json, _local
from dunning.clock import from_iso, zone_label
from dunning.i18n import _
from dunning.money import parse_amount
from dunning.queue.access import ReasonNeeded, require_change
from dunning.queue.calendar import account_zones
from dunning.queue.collectors import Collector
from dunning.queue.outcomes import (
    DEPARTMENTS,
    DISPUTE_REASONS,
    ESCALATIONS,
    OUTCOMES,
    OutcomeInput,
    cleaned_message,
    log_outcome,
)
from dunning.queue.times import customer_zone

# Which options each outcome takes (beyond --note, --phone, --next), and which it needs.
OUTCOME_OPTIONS: dict[str, tuple[str, ...]] = {
    "promise_to_pay": ("amount", "date", "grace"),
    "payment_plan": ("instalments", "grace"),
    "paid": ("amount", "date", "reference"),
    "dispute": ("invoices", "reason", "department"),
    "callback": ("at", "rpc"),
    # amount, date: a settlement; invoices: a write-off of those invoices only
    "escalated": ("escalation", "amount", "date", "grace", "invoices"),
    "skip": ("reason",),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "promise_to_pay": ("amount", "date"),
    "payment_plan": ("instalments",),
    "paid": ("amount", "date"),
    "dispute": ("invoices", "reason", "department"),
    "callback": ("at",),
    "wrong_number": ("phone",),
    "escalated": ("escalation",),
    "skip": ("reason",),
}


def register_log(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    p = sub.add_parser(
        "log",
        help="log a call outcome on an account",
        description="Log a call outcome: the activity, what it creates (promise, plan,\n"
        "dispute, payment report), the next action and the queue, in one transaction.\n\n"
        "Which clock: --date and --instalments are dates on YOUR calendar; --at and --next\n"
        "are in the CUSTOMER's time (the zone of their first number), or on your own clock\n"
        "when they end in ' me'. For consumer accounts, --at and --next must fall inside\n"
        "the calling window; a refusal says when it opens. Formats: `dunning --help`.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_log_epilog(),
    )
    p.add_argument("account", metavar="ACCOUNT", help="customer reference (C000123) or id")
    p.add_argument("outcome", metavar="OUTCOME", help="one of: " + ", ".join(OUTCOMES))
    p.add_argument("--amount", help="amount in the customer's currency")
    p.add_argument(
        "--date", help="promise due date / date paid / settlement pay-by (on your calendar)"
    )
    p.add_argument(
        "--grace", type=whole_number(0, 30), help="grace days of a promise (default from config)"
    )
    p.add_argument("--reference", help="payment reference (paid)")
    p.add_argument("--note", default="", help="the note")
    p.add_argument("--phone", help="the number dialled: E.164 (+15145550123) or phone id")
    p.add_argument(
        "--invoices",
        help="disputed invoice numbers (or ids), comma-separated; with --escalation "
        "writeoff: write off those invoices only (the rest stays in collection)",
    )
    p.add_argument(
        "--reason",
        help="dispute reason, or why you skip; a lead logging on another collector's "
        "account: why (recorded in the history)",
    )
    p.add_argument(
        "--why",
        help="a lead on another collector's account: why (for dispute and skip, whose "
        "--reason is their own)",
    )
    p.add_argument("--department", help="department that resolves the dispute")
    p.add_argument(
        "--at",
        help="callback date and time in the CUSTOMER's time, e.g. 'tomorrow 14:30'; "
        "end with ' me' for your own clock ('tomorrow 20:30 me')",
    )
    p.add_argument(
        "--rpc", action="store_true", default=None, help="callback: spoke to the right party"
    )
    p.add_argument("--escalation", help="one of: " + ", ".join(ESCALATIONS))
    p.add_argument(
        "--next",
        dest="next_at",
        help="override when to act next, in the CUSTOMER's time ('+3d 9:00'); "
        "end with ' me' for your own clock",
    )
    p.add_argument("--instalments", help="payment plan: 'AMOUNT@DATE,AMOUNT@DATE,...'")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(handler=cmd_log)


def _log_epilog() -> str:
    lines = ["outcomes and their options:"]
    for code in OUTCOMES:
        opts = OUTCOME_OPTIONS.get(code, ())
        need = REQUIRED.get(code, ())
        shown = [f"--{o}" if o in need else f"[--{o}]" for o in (*need, *opts) if o]
        shown = list(dict.fromkeys(shown))
        lines.append(f"  {code:<15} {' '.join(shown)}")
    lines += [
        "",
        f"dispute reasons: {', '.join(DISPUTE_REASONS)}",
        f"departments: {', '.join(DEPARTMENTS)}",
        "every outcome takes [--note TEXT] [--phone NUMBER] [--next WHEN] [--json]",
        "a lead on another collector's account says why: --reason TEXT (--why TEXT for",
        "dispute and skip); a collector logs only on their own accounts",
        "",
        "examples:",
        "  dunning log C000123 promise_to_pay --amount 1500 --date +7d --note 'after payday'",
        "  dunning log C000123 payment_plan --instalments '500@2026-12-01,500@2027-01-01'",
        "  dunning log C000123 dispute --invoices INV-1,INV-2 --reason damaged --department sales",
        "  dunning log C000123 escalated --escalation writeoff --invoices INV-7 --note 'damaged'",
        "  dunning log C000123 callback --at 'tomorrow 14:30'",
        "  dunning log C000123 skip --reason 'customer in a meeting'",
    ]
    return "\n".join(lines)


def _given(args: argparse.Namespace, name: str) -> bool:
    value = getattr(args, name, None)
    return value is not None and value != ""


def build_input(
    args: argparse.Namespace,
    ctx: Context,
    conn: sqlite3.Connection,
    customer: sqlite3.Row,
    me: Collector,
    *,
    lead_reason: str = "",
) -> OutcomeInput:
    """``lead_reason``: a lead acting on someone else's account said why (``--reason``
    stands for it when the outcome takes no reason of its own)."""
    o = args.outcome
    if o not in OUTCOMES:
        raise CliError(
            _("unknown outcome {outcome!r}; one of: {choices}").format(
                outcome=o, choices=", ".join(OUTCOMES)
            ),
            EXIT_USAGE,
        )
    allowed = OUTCOME_OPTIONS.get(o, ())
    for name in (
        "amount",
        "date",
        "grace",
        "reference",
        "invoices",
        "reason",
        "department",
        "at",
        "rpc",
        "escalation",
        "instalments",
    ):
        if name == "reason" and lead_reason and name not in allowed:
            continue  # the lead's reason, not the outcome's
        if _given(args, name) and name not in allowed:
            raise CliError(
                _("--{option} does not apply to {outcome}").format(option=name, outcome=o),
                EXIT_USAGE,
            )
    missing = [f"--{n}" for n in REQUIRED.get(o, ()) if not _given(args, n)]
    if missing:
        raise CliError(
            _("{outcome} needs {options}").format(outcome=o, options=_(" and ").join(missing)),
            EXIT_USAGE,
        )
    currency = customer["currency"]

    def zones() -> tuple[str, ...]:
        return account_zones(conn, customer["id"], customer["country"], customer["subdivision"])

    inp = OutcomeInput(o, note=args.note or "")
    if _given(args, "amount"):
        inp.amount_minor = parse_amount(args.amount, currency, me.locale)
    if _given(args, "date"):
        inp.on_date = parse_local_day(args.date, ctx, me.zone, past=o == "paid")
    inp.grace_days = args.grace
    inp.reference = (args.reference or "").strip()
    if _given(args, "instalments"):
        inp.instalments = parse_instalments(args.instalments, currency, me.locale, ctx, me.zone)
    if _given(args, "invoices"):
        inp.invoice_ids = resolve_invoices(conn, customer, args.invoices)
    inp.reason = (args.reason or "").strip() if "reason" in allowed else ""
    inp.lead_reason = lead_reason
    inp.department = (args.department or "").strip()
    if _given(args, "at"):
        inp.callback_at = parse_account_when("--at", args.at, ctx, zones(), me.zone)
    inp.rpc = args.rpc
    inp.escalation = (args.escalation or "").strip()
    if _given(args, "phone"):
        inp.phone_id = resolve_phone(conn, customer, args.phone)
    if _given(args, "next_at"):
        inp.next_action_at = parse_account_when("--next", args.next_at, ctx, zones(), me.zone)
    return inp


def cmd_log(args: argparse.Namespace, ctx: Context) -> int:
    conn = ctx.open()
    me = ctx.identity(conn)
    settings = ctx.settings()
    customer = find_customer(conn, args.account)
    own_reason = "reason" in OUTCOME_OPTIONS.get(args.outcome, ())
    lead_reason = (args.why or ("" if own_reason else args.reason) or "").strip()
    try:  # whose account first: a refusal says so whatever else is wrong (audited)
        access = require_change(
            conn,
            ctx.clock,
            me,
            customer["id"],
            action="log",
            reason=lead_reason,
            detail={"outcome": args.outcome},
        )
    except ReasonNeeded as exc:
        option = "--why" if own_reason else "--reason"
        text = (
            _("{ref} belongs to {owner}: add {option} TEXT to say why you act on it")
            if exc.owner
            else _("{ref} is assigned to nobody: add {option} TEXT to say why you act on it")
        )
        raise CliError(text.format(ref=exc.ref, owner=exc.owner, option=option)) from None
    if not access.needs_reason:
        if _given(args, "why"):
            raise CliError(
                _("--why is for a lead acting on another collector's account"), EXIT_USAGE
            )
        lead_reason = ""  # one's own account: --reason is the outcome's, or refused below
    inp = build_input(args, ctx, conn, customer, me, lead_reason=lead_reason)
    logged = log_outcome(
        conn, ctx.clock, settings, collector_id=me.id, customer_id=customer["id"], inp=inp
    )
    if logged.cleaned:  # saved without them; one line on stderr, the output stays the same
        say(cleaned_message(logged.cleaned))
    if args.json:
        data = asdict(logged)
        data["external_ref"] = customer["external_ref"]
        _emit_json(data)
    elif logged.approval:  # the policy sent it to a lead (queue/approvals.py)
        print(
            _("{ref}: {outcome} logged; {waiting}").format(
                ref=customer["external_ref"], outcome=logged.outcome, waiting=logged.waiting_text
            )
        )
    elif logged.state in ("hold", "closed"):  # no call comes: no next call to announce
        print(
            _("{ref}: {outcome} logged ({state})").format(
                ref=customer["external_ref"], outcome=logged.outcome, state=logged.state
            )
        )
    else:
        zones = account_zones(conn, customer["id"], customer["country"], customer["subdivision"])
        theirs = customer_zone(zones)
        at = from_iso(logged.next_action_at)
        where = (
            _(", {when} {zone} for the customer").format(
                when=format_datetime(at.astimezone(theirs), "EEE HH:mm", locale=me.locale),
                zone=zone_label(theirs),
            )
            if theirs is not None
            else ""
        )
        print(
            _("{ref}: {outcome} logged; next {action} at {at} ({state}{where})").format(
                ref=customer["external_ref"],
                outcome=logged.outcome,
                action=logged.next_action,
                at=_local(logged.next_action_at, me.zone),
                state=logged.state,
                where=where,
            )
        )
    return 0
