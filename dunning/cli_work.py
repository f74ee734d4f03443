"""The collector's loop from a shell: ``next``, ``log``, ``history``, ``search``.

The same queue functions as the screen: claim_next, log_outcome, timeline, search.
"""

from __future__ import annotations

import argparse
import sqlite3
from dataclasses import asdict
from datetime import tzinfo
from typing import Any

from babel.dates import format_datetime

from dunning.cli_base import EXIT_NOTHING, EXIT_USAGE, CliError, Context, say
from dunning.cli_parse import (
    find_customer,
    parse_account_when,
    parse_instalments,
    parse_local_day,
    resolve_invoices,
    resolve_phone,
    whole_number,
)
from dunning.clock import from_iso, host_zone, zone_label
from dunning.i18n import _
from dunning.money import format_money, parse_amount
from dunning.phones import dial_format, zone
from dunning.queue.access import ReasonNeeded, require_change
from dunning.queue.account_view import AccountView, load_account, timeline
from dunning.queue.calendar import account_zones
from dunning.queue.claim import claim_next
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
from dunning.queue.search import search_customers
from dunning.queue.times import customer_zone
from dunning.queue.void import cleaned_message as void_cleaned_message
from dunning.queue.void import void_activity
from dunning.textsafe import json_text

# Which options each outcome takes (beyond --note, --phone, --next), and which it needs.
OUTCOME_OPTIONS: dict[str, tuple[str, ...]] = {
    "promise_to_pay": ("amount", "date", "grace"),
    "payment_plan": ("instalments", "grace"),
    "paid": ("amount", "date", "reference"),
    "dispute": ("invoices", "reason", "department"),
    "callback": ("at", "rpc"),
    "escalated": ("escalation",),
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


def register(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    p = sub.add_parser(
        "next",
        help="claim the next account to call and print it",
        description="Claim the next account to call (resuming one you hold or drafted) and "
        "print it. Exit code 3 when nothing can be called now.",
    )
    p.add_argument("--json", action="store_true", help="print JSON (money in minor units)")
    p.set_defaults(handler=cmd_next)

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
    p.add_argument("--date", help="promise due date / date paid (on your calendar)")
    p.add_argument(
        "--grace", type=whole_number(0, 30), help="grace days of a promise (default from config)"
    )
    p.add_argument("--reference", help="payment reference (paid)")
    p.add_argument("--note", default="", help="the note")
    p.add_argument("--phone", help="the number dialled: E.164 (+15145550123) or phone id")
    p.add_argument("--invoices", help="disputed invoice numbers (or ids), comma-separated")
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

    p = sub.add_parser("history", help="print an account's history, newest first")
    p.add_argument("account", metavar="ACCOUNT", help="customer reference or id")
    p.add_argument("--limit", type=whole_number(0), default=50, help="at most N entries (0: all)")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(handler=cmd_history)

    p = sub.add_parser(
        "void",
        help="take back an outcome logged by mistake (an appended record, never a delete)",
        description="Void an outcome: it stays in the history, struck through, and what it "
        "created (promise, plan, dispute, payment report, wrong number, next action) is "
        "cancelled; the queue row is recomputed. A lead may void any outcome; a collector "
        "only their own, the day it was logged. The id is in `dunning history` (#id, or "
        '"id" in --json). Exit 1 when refused.',
    )
    p.add_argument("activity", metavar="ACTIVITY_ID", help="the activity id (from `history`)")
    p.add_argument("--reason", required=True, help="why it is voided (required)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(handler=cmd_void)

    p = sub.add_parser("search", help="find customers by name, reference, phone or invoice")
    p.add_argument("text", metavar="TEXT")
    p.add_argument("--limit", type=whole_number(1), default=20)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_search)


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
        "  dunning log C000123 callback --at 'tomorrow 14:30'",
        "  dunning log C000123 skip --reason 'customer in a meeting'",
    ]
    return "\n".join(lines)


def _emit_json(data: object) -> None:
    # exact data, and no raw C1/bidi character for the terminal (dunning/textsafe.py)
    print(json_text(data, indent=2, default=str))


def _local(iso: str | None, tz: tzinfo | None = None) -> str:
    """A stored instant on the reader's clock (``tz``; None = this machine's)."""
    if not iso:
        return ""
    return from_iso(iso).astimezone(tz or host_zone()).strftime("%Y-%m-%d %H:%M")


# -- next -------------------------------------------------------------------------------


def account_json(view: AccountView) -> dict[str, Any]:
    """The account as the screen shows it; ``owed`` holds the figures of dunning/owed.py
    by the aging report's JSON names (``net_minor``, ``due_now_minor``, ...)."""
    data = asdict(view)
    data["owed"] = view.owed.as_json()
    return data


def cmd_next(args: argparse.Namespace, ctx: Context) -> int:
    conn = ctx.open()
    me = ctx.identity(conn)
    settings = ctx.settings()
    claim = claim_next(conn, ctx.clock, settings, me.id)
    view = load_account(conn, ctx.clock, settings, claim.customer_id, me.id) if claim else None
    if claim is None or view is None:
        counts = {
            r[0]: r[1]
            for r in conn.execute(
                "SELECT state, COUNT(*) FROM queue WHERE collector_id = ? GROUP BY state",
                (me.id,),
            )
        }
        if args.json:
            _emit_json(
                {"account": None, "claim": None, "message": "nothing to call now", "counts": counts}
            )
        else:
            summary = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
            print(f"nothing to call now for {me.username}" + (f" ({summary})" if summary else ""))
        return EXIT_NOTHING
    claim_data = {
        "customer_id": claim.customer_id,
        "expires_at": claim.expires_at,
        "resumed": claim.resumed,
        "passed_over": [list(x) for x in claim.passed_over],
    }
    if args.json:
        _emit_json({"account": account_json(view), "claim": claim_data})
    else:
        print_account(view, me, claim.expires_at, ctx)
    return 0


def print_account(view: AccountView, me: Collector, expires_at: str, ctx: Context) -> None:
    loc = me.locale
    cur = view.currency

    def m(minor: int) -> str:
        return format_money(minor, cur, loc)

    region = f"{view.country}-{view.subdivision}" if view.subdivision else view.country
    print(
        f"{view.external_ref}  {view.name}  ({region}, {view.portfolio}, {cur})"
        f"  claimed until {_local(expires_at, me.zone)}"
    )
    o = view.owed  # the figures of dunning/owed.py, as on the screen and in the reports
    extra = f"  disputed {m(o.disputed)}" if o.disputed else ""
    print(f"  owed    {m(o.net)}  due now {m(o.due_now)}{extra}")
    aging = "  ".join(f"{b}: {m(v)}" for b, v in o.by_bucket().items() if v)
    if o.credits:
        aging += f"{'  ' if aging else ''}credits: {m(o.credits)}"
    if aging:
        print(f"  aging   {aging}")
    why = ", ".join(f"{code} +{pts:g}" for code, pts, _params in view.reasons)
    print(f"  why     {why}")
    now = ctx.clock.now()
    for p in view.usable_phones()[:3]:
        local = "  ".join(
            f"{now.astimezone(zone(z)).strftime('%a %H:%M')} {z}" for z in p.zones[:2]
        )
        who = f", {p.contact}" if p.contact else ""
        print(
            f"  call    {dial_format(p.e164, me.dial_region)} ({p.type}{who}, id {p.id})  {local}"
        )
    if not view.callable.ok:
        print(f"  NOT CALLABLE NOW: {view.callable.detail}")
    if view.window is not None and view.window.current is not None:
        start, end = view.window.current
        bounds = ", ".join(z.rsplit("/", 1)[-1].replace("_", " ") for z in view.window.bounds)
        print(f"  window  {start:%H:%M}-{end:%H:%M} your time ({bounds})")
    for pr in view.promises:
        if pr.status == "pending":
            print(f"  promise {m(pr.amount_minor)} by {pr.due_date} (+{pr.grace_days}d grace)")
    for d in view.disputes:
        if d.status == "open":
            print(
                f"  dispute {m(d.amount_minor)} {d.reason} -> {d.department}: "
                f"{', '.join(d.invoices)}"
            )
    for t in view.timeline[:3]:
        code = f"~~{t.code}~~" if t.voided else t.code  # voided: struck through
        print(f"  {_local(t.at, me.zone)}  {code:<14} {t.who:<8} {t.note[:40]}")
    print(f"  log it: dunning log {view.external_ref} OUTCOME --as {me.username} [--note ...]")


# -- log --------------------------------------------------------------------------------


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


# -- history / search -------------------------------------------------------------------


def cmd_history(args: argparse.Namespace, ctx: Context) -> int:
    conn = ctx.open()
    loc = _viewer_locale(conn, ctx, "history")  # messages in the asker's language from here on
    customer = find_customer(conn, args.account)
    limit = None if args.limit <= 0 else args.limit
    entries = timeline(conn, customer["id"], limit)
    if args.json:
        _emit_json([asdict(e) for e in entries])
        return 0
    print(f"{customer['external_ref']}  {customer['name']}  ({len(entries)} entries, newest first)")
    for e in entries:
        d = e.details
        bits = []
        if "amount_minor" in d:
            bits.append(
                format_money(
                    int(d["amount_minor"]),  # type: ignore[call-overload]
                    str(d.get("currency") or customer["currency"]),
                    loc,
                )
            )
        for key in ("date", "reason", "department", "escalation", "to", "invoice", "phone"):
            if d.get(key):
                bits.append(str(d[key]))
        if d.get("lead_reason"):  # a lead on someone else's account: for whom and why
            bits.append(
                _("for {owner}: {reason}").format(
                    owner=d.get("for") or _("nobody"), reason=d["lead_reason"]
                )
            )
        if d.get("next_action") and e.kind == "activity":
            bits.append(f"next {d['next_action']} {_local(str(d.get('next_action_at') or ''))}")
        note = e.note.replace("\n", " ")
        ref = f"#{e.id}" if e.id is not None else ""
        code = f"~~{e.code}~~" if e.voided else e.code
        line = f"{_local(e.at)}  {ref:<7} {code:<15} {e.who:<10} {'; '.join(bits)}" + (
            f"  | {note}" if note else ""
        )
        if e.voided:
            line += "  " + _("[voided by {who} {at}: {reason}]").format(
                who=e.voided["by"], at=_local(e.voided["at"]), reason=e.voided["reason"]
            )
        print(line)
    return 0


def cmd_void(args: argparse.Namespace, ctx: Context) -> int:
    try:
        activity_id = int(str(args.activity).lstrip("#"))
    except ValueError:
        raise CliError(
            _("activity id {value!r} is not a number (see `dunning history`)").format(
                value=args.activity
            ),
            EXIT_USAGE,
        ) from None
    conn = ctx.open()
    me = ctx.identity(conn)
    voided = void_activity(
        conn, ctx.clock, ctx.settings(), by=me, activity_id=activity_id, reason=args.reason
    )
    if voided.cleaned:
        say(void_cleaned_message(voided.cleaned))
    if args.json:
        _emit_json(asdict(voided))
    else:
        print(
            _("{ref}: {outcome} #{id} voided; next {action} at {at} ({state})").format(
                ref=voided.external_ref,
                outcome=voided.outcome,
                id=voided.activity_id,
                action=voided.next_action,
                at=_local(voided.next_action_at, me.zone),
                state=voided.state,
            )
        )
    return 0


def _viewer_locale(conn: sqlite3.Connection, ctx: Context, action: str) -> str:
    """Who is asking must be a known collector (or the host operator) who may read
    accounts; refused otherwise. Their locale (en_US for the operator)."""
    actor = ctx.authorize(conn, "read", audit_action=action)
    return actor.collector.locale if actor.collector is not None else "en_US"


def cmd_search(args: argparse.Namespace, ctx: Context) -> int:
    conn = ctx.open()
    loc = _viewer_locale(conn, ctx, "search")
    hits = search_customers(conn, args.text, limit=max(args.limit, 1))
    if args.json:
        _emit_json([asdict(h) for h in hits])
        return 0
    for h in hits:
        print(
            f"{h.external_ref:<12} {h.name[:32]:<32} {h.country:<3} "
            f"{format_money(h.net_minor, h.currency, loc):>16}  {h.state:<9} "
            f"{h.assigned_to or '-':<10} ({h.matched})"
        )
    if not hits:
        print(f"no customer matches {args.text!r}")
    return 0
