"""The lead's desk on the command line, people and claims (issue 9, items 8-9):
``dunning collectors list|show|set|deactivate|reactivate`` and ``dunning claims
list|release``. The rules are in dunning/queue/people.py and dunning/queue/claims.py."""

from __future__ import annotations

import argparse
import sqlite3
from dataclasses import asdict
from datetime import datetime, tzinfo

from dunning.cli_base import EXIT_USAGE, CliError, Context, say
from dunning.cli_parse import find_customer
from dunning.clock import to_iso
from dunning.i18n import _
from dunning.queue.claims import list_claims, release_claim, require_lead
from dunning.queue.collectors import (
    ROLES,
    Collector,
    _row_to_collector,
    clean_display_name,
    display_name_cleaned,
)
from dunning.queue.identity import Actor
from dunning.queue.people import PeopleError, book, change_collector, changes_of, set_active
from dunning.queue.presence import Online, online
from dunning.textsafe import clean, json_text

SET_FIELDS = (
    ("display_name", "--display-name", "NAME", "full name shown on screens and exports"),
    ("role", "--role", "ROLE", "collector, lead or admin (an admin only for admins)"),
    ("languages", "--languages", "CODES", "languages spoken, ISO 639-1: en,fr"),
    ("locale", "--locale", "LOCALE", "UI locale for money and dates: en_US, fr_CA"),
    ("tz", "--tz", "ZONE", "an IANA time zone (America/Toronto); '' = this machine's"),
    ("team", "--team", "TEAM", "the team's name ('' none)"),
)


def register_collectors(csub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    lp = csub.add_parser(
        "list",
        help="list collectors, and who is logged in",
        description="List the team: role, languages, locale, time zone, team, and for those "
        "with a screen open 'online since HH:MM' (your clock).",
    )
    lp.add_argument("--json", action="store_true")
    lp.add_argument("--all", action="store_true", help="deactivated collectors too")
    lp.set_defaults(handler=cmd_list)
    sh = csub.add_parser(
        "show",
        help="one collector: settings, accounts by state, who is logged in, latest changes",
    )
    sh.add_argument("name", metavar="NAME")
    sh.set_defaults(handler=cmd_show)
    sp = csub.add_parser(
        "set",
        help="change a collector (leads; one's own time zone: anyone)",
        description="Change a collector's settings; each change is kept in the history "
        "with who, when and why. A collector may change their own time zone; a lead or "
        "admin anyone's settings (only an admin changes or makes an admin).",
    )
    sp.add_argument("name", metavar="NAME", help="the collector's login name")
    for dest, flag, metavar, text in SET_FIELDS:
        kw = {"choices": ROLES} if dest == "role" else {}
        sp.add_argument(flag, dest=dest, metavar=metavar, help=text, **kw)  # type: ignore[arg-type]
    sp.add_argument("--reason", default="", help="why (kept in the history)")
    sp.set_defaults(handler=cmd_set)
    for verb, text in (
        ("deactivate", "deactivate a collector (leads): no login, claims released"),
        ("reactivate", "reactivate a deactivated collector (leads)"),
    ):
        p = csub.add_parser(verb, help=text)
        p.add_argument("name", metavar="NAME")
        p.add_argument("--reason", required=True, help="why (kept in the history)")
        p.set_defaults(handler=cmd_deactivate if verb == "deactivate" else cmd_reactivate)


def register(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    p = sub.add_parser("claims", help="who holds which account now; release a stale claim")
    csub = p.add_subparsers(dest="claims_command", metavar="ACTION", required=True)
    lp = csub.add_parser("list", help="live claims: who holds what since when (leads)")
    lp.add_argument("--json", action="store_true")
    lp.set_defaults(handler=cmd_claims_list)
    rp = csub.add_parser(
        "release",
        help="release a claim (leads), recorded with the reason",
        description="Break the claim on an account: for one left behind (a screen gone, "
        "a `dunning next` never logged). Recorded with who, when and why.",
    )
    rp.add_argument("account", metavar="ACCOUNT", help="customer reference or id")
    rp.add_argument("--reason", required=True, help="why (kept in the history)")
    rp.set_defaults(handler=cmd_claims_release)


# -- helpers ----------------------------------------------------------------------------


def _zone(actor: Actor) -> tzinfo | None:
    """Times are shown in the reader's clock (their collector's zone; the host's)."""
    return actor.collector.zone if actor.collector is not None else None


def _hhmm(when: datetime | None, zone: tzinfo | None, today: datetime) -> str:
    if when is None:
        return "-"
    local = when.astimezone(zone)
    if local.date() != today.astimezone(zone).date():
        return local.strftime("%Y-%m-%d %H:%M")
    return local.strftime("%H:%M")


def _online_text(on: Online | None, zone: tzinfo | None, now: datetime) -> str:
    if on is None:
        return ""
    return _("online since {time}").format(time=_hhmm(on.since, zone, now))


def _states(counts: dict[str, int]) -> str:
    if not counts:
        return _("no accounts")
    total = sum(counts.values())
    parts = ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))
    return _("{n:,} account(s): {states}").format(n=total, states=parts)


def _collectors(conn: sqlite3.Connection, everyone: bool) -> list[Collector]:
    where = "" if everyone else " WHERE active = 1"
    return [
        _row_to_collector(r)
        for r in conn.execute(f"SELECT * FROM collectors{where} ORDER BY username")
    ]


# -- collectors -------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    conn = ctx.open()
    actor = ctx.authorize(conn, "read", audit_action="collectors.list")
    team = _collectors(conn, args.all)
    now = ctx.clock.now()
    on = online(conn, now)
    if args.json:
        rows = []
        for c in team:
            o = on.get(c.id)
            rows.append(
                {
                    **asdict(c),
                    "online_since": to_iso(o.since) if o else None,
                    "last_beat": to_iso(o.last_beat) if o else None,
                }
            )
        print(json_text(rows, indent=2))
        return 0
    zone = _zone(actor)
    for c in team:
        state = "" if c.active else " " + _("(deactivated)")
        print(
            f"{c.username:<12} {c.role:<9} {','.join(c.languages):<9} {c.locale:<6} "
            f"{c.tz or '(host)':<20} {c.team or '-':<10} {c.display_name}{state}"
            + (f"  · {_online_text(on.get(c.id), zone, now)}" if c.id in on else "")
        )
    if not team:
        print(_("no collectors yet; add one with: dunning collectors add NAME --role admin"))
    return 0


def _find(conn: sqlite3.Connection, name: str) -> Collector:
    row = conn.execute("SELECT * FROM collectors WHERE username = ?", (name,)).fetchone()
    if row is None:
        raise CliError(
            _("unknown collector {name!r} (see `dunning collectors list`)").format(name=name),
            EXIT_USAGE,
        )
    return _row_to_collector(row)


def _move_hint(name: str, counts: dict[str, int]) -> str:
    n = sum(counts.values())
    return _(
        "{n:,} account(s) still assigned to {name}; move them with: dunning assign --from "
        "{name} --to NAME --reason TEXT (add --language CODE to give each to a speaker)"
    ).format(n=n, name=name)


def cmd_show(args: argparse.Namespace, ctx: Context) -> int:
    conn = ctx.open()
    actor = ctx.authorize(conn, "read", audit_action="collectors.show", target=args.name)
    c = _find(conn, args.name.strip())
    now = ctx.clock.now()
    zone = _zone(actor)
    counts = book(conn, c.id)
    on = online(conn, now).get(c.id)
    print(f"{c.username}: {c.display_name}")
    print(f"  {_('role')}: {c.role}   {_('team')}: {c.team or '-'}   "
          f"{_('active') if c.active else _('deactivated')}")  # fmt: skip
    print(f"  {_('languages')}: {','.join(c.languages)}   {_('locale')}: {c.locale}   "
          f"{_('time zone')}: {c.tz or _('of this machine')}")  # fmt: skip
    print(f"  {_states(counts)}")
    if on is not None:
        line = _online_text(on, zone, now)
        if on.customer_id is not None:
            ref = conn.execute(
                "SELECT external_ref FROM customers WHERE id = ?", (on.customer_id,)
            ).fetchone()
            line += " · " + _("on {ref} since {time}").format(
                ref=ref[0] if ref else on.customer_id, time=_hhmm(on.on_since, zone, now)
            )
        print(f"  {line}")
    if not c.active and counts:
        print(f"  {_move_hint(c.username, counts)}")
    changes = changes_of(conn, c.id)
    if changes:
        print(f"  {_('latest changes')}:")
        for h in changes:
            who = h["by_name"] or h["os_user"]
            why = f" ({h['reason']})" if h["reason"] else ""
            when = _hhmm(datetime.fromisoformat(h["at"].replace("Z", "+00:00")), zone, now)
            print(f"    {when}  {who}: {h['field']} {h['old'] or '-'} -> {h['new'] or '-'}{why}")
    return 0


def cmd_set(args: argparse.Namespace, ctx: Context) -> int:
    conn = ctx.open()
    name = args.name.strip()
    values = {f: getattr(args, f) for f, *_rest in SET_FIELDS if getattr(args, f) is not None}
    actor = ctx.actor(conn, action="collectors.set", target=name)
    if "display_name" in values and (removed := clean_display_name(values["display_name"])[1]):
        say(display_name_cleaned(removed))
    try:
        c, changes = change_collector(conn, ctx.clock, actor, name, values, args.reason)
    except PeopleError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    if not changes:
        print(_("{name}: nothing to change").format(name=c.username))
    elif set(values) == {"tz"}:
        print(f"{c.username}: time zone {c.tz or 'of this machine'}")
    else:
        for ch in changes:
            print(f"{c.username}: {ch.field} {ch.old or '-'} -> {ch.new or '-'}")
    return 0


def _active(args: argparse.Namespace, ctx: Context, active: bool) -> int:
    conn = ctx.open()
    name = args.name.strip()
    action = "collectors.reactivate" if active else "collectors.deactivate"
    actor = ctx.actor(conn, action=action, target=name)
    if clean(args.reason)[1]:
        say(_("removed control characters from the reason"))
    try:
        done = set_active(conn, ctx.clock, actor, name, active, args.reason)
    except PeopleError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    if active:
        print(_("{name} reactivated").format(name=name))
        return 0
    print(
        _("{name} deactivated: no login from now on; {n} claim(s) released").format(
            name=name, n=done.released
        )
    )
    if done.accounts:
        print(_states(done.accounts))
        print(_move_hint(name, done.accounts))
    return 0


def cmd_deactivate(args: argparse.Namespace, ctx: Context) -> int:
    return _active(args, ctx, False)


def cmd_reactivate(args: argparse.Namespace, ctx: Context) -> int:
    return _active(args, ctx, True)


# -- claims -----------------------------------------------------------------------------


def cmd_claims_list(args: argparse.Namespace, ctx: Context) -> int:
    conn = ctx.open()
    actor = ctx.actor(conn, action="claims.list")
    require_lead(conn, ctx.clock, actor, "claims.list")
    claims = list_claims(conn, ctx.clock)
    if args.json:
        rows = [
            {
                "account": h.ref,
                "name": h.name,
                "holder": h.holder,
                "owner": h.owner,
                "since": to_iso(h.since) if h.since else None,
                "expires_at": to_iso(h.expires_at),
                "host": h.host,
                "pid": h.pid,
                "last_beat": to_iso(h.last_beat) if h.last_beat else None,
                "stale": h.stale,
            }
            for h in claims
        ]
        print(json_text(rows, indent=2))
        return 0
    if not claims:
        print(_("nobody holds an account now"))
        return 0
    now = ctx.clock.now()
    zone = _zone(actor)
    for h in claims:
        since = _hhmm(h.since, zone, now) if h.since else "?"
        flags = "  " + _("stale: no screen open on it") if h.stale else ""
        owner = "" if h.owner == h.holder else "  " + _("(now {owner}'s)").format(owner=h.owner)
        print(
            f"{h.ref:<12} {h.holder:<10} {_('since')} {since:<5} "
            f"{_('until')} {_hhmm(h.expires_at, zone, now):<5}  {h.name}{owner}{flags}"
        )
    return 0


def cmd_claims_release(args: argparse.Namespace, ctx: Context) -> int:
    conn = ctx.open()
    actor = ctx.actor(conn, action="claims.release", target=args.account)
    require_lead(conn, ctx.clock, actor, "claims.release", args.account)
    row = find_customer(conn, args.account)
    held = release_claim(conn, ctx.clock, actor, int(row["id"]), row["external_ref"], args.reason)
    print(
        _("released {ref}: {holder}'s claim (until {until})").format(
            ref=row["external_ref"],
            holder=held.holder,
            until=_hhmm(held.expires_at, _zone(actor), ctx.clock.now()),
        )
    )
    return 0
