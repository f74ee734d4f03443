"""The collector's loop from a shell: ``next``, ``history``, ``void``, ``search``.

The same queue functions as the screen: claim_next, timeline, void, search. ``log`` is in
cli_log.py (registered from here, so the CLI is unchanged).
"""

from __future__ import annotations

import argparse
import sqlite3
from dataclasses import asdict
from datetime import tzinfo
from typing import Any

from dunning.cli_base import EXIT_NOTHING, EXIT_USAGE, CliError, Context, say
from dunning.cli_parse import (
    find_customer,
    whole_number,
)
from dunning.clock import from_iso, host_zone
from dunning.i18n import _
from dunning.money import format_money
from dunning.phones import dial_format, zone
from dunning.queue.account_view import AccountView, load_account, timeline
from dunning.queue.claim import claim_next
from dunning.queue.collectors import Collector
from dunning.queue.letters_sent import SENT_OUTCOMES, letter_by_id, letter_text, sent_line
from dunning.queue.search_scope import search_for
from dunning.queue.void import cleaned_message as void_cleaned_message
from dunning.queue.void import void_activity
from dunning.textsafe import json_text


def register(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    p = sub.add_parser(
        "next",
        help="claim the next account to call and print it",
        description="Claim the next account to call (resuming one you hold or drafted) and "
        "print it. Exit code 3 when nothing can be called now.",
    )
    p.add_argument("--json", action="store_true", help="print JSON (money in minor units)")
    p.set_defaults(handler=cmd_next)

    from dunning.cli_log import register_log

    register_log(sub)

    p = sub.add_parser("history", help="print an account's history, newest first")
    p.add_argument("account", metavar="ACCOUNT", help="customer reference or id")
    p.add_argument("--limit", type=whole_number(0), default=50, help="at most N entries (0: all)")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.add_argument(
        "--letter", metavar="ID", type=whole_number(1),
        help="print the archived letter ID (an e-mail or letter sent: its id is in the history)",
    )  # fmt: skip
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


# -- history / search -------------------------------------------------------------------


def cmd_history(args: argparse.Namespace, ctx: Context) -> int:
    conn = ctx.open()
    loc = _viewer_locale(conn, ctx, "history")  # messages in the asker's language from here on
    customer = find_customer(conn, args.account)
    if args.letter is not None:
        return _print_letter(conn, customer["id"], args.letter)
    limit = None if args.limit <= 0 else args.limit
    entries = timeline(conn, customer["id"], limit)
    if args.json:
        _emit_json([asdict(e) for e in entries])
        return 0
    print(f"{customer['external_ref']}  {customer['name']}  ({len(entries)} entries, newest first)")
    for e in entries:
        d = e.details
        bits = []
        if e.code in SENT_OUTCOMES:  # "e-mail sent: <subject> (<kind>)", letter N
            bits.append(sent_line(e.code, d))
            if isinstance(d.get("letter_id"), int):
                bits.append(_("letter {id}").format(id=d["letter_id"]))
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


def _print_letter(conn: sqlite3.Connection, customer_id: int, letter_id: int) -> int:
    letter = letter_by_id(conn, letter_id, customer_id)
    if letter is None:
        raise CliError(_("no letter {id} on this account").format(id=letter_id))
    print(letter_text(letter), end="")
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
    actor = ctx.authorize(conn, "read", audit_action="search")
    me = actor.collector  # a lead with a team finds the team's accounts (queue/search_scope)
    loc = me.locale if me is not None else "en_US"
    hits = search_for(conn, me, args.text, limit=max(args.limit, 1))
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
