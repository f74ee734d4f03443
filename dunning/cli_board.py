"""``dunning board``: the team board on the command line (issue 9, item 1).

Thin: the figures, the scope and the rights are in dunning/queue/board.py, which the
screen (tui/screens/board.py) reads too.
"""

from __future__ import annotations

import argparse

from dunning.cli_base import EXIT_ERROR, EXIT_USAGE, CliError, Context
from dunning.i18n import _
from dunning.money import format_money
from dunning.queue import board
from dunning.queue.rights import RightsError
from dunning.textsafe import json_text, visible


def register(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    p = sub.add_parser(
        "board",
        help="the team board: each collector's day and book (leads)",
        description="One row per active collector of the team: online since, the account "
        "held now and since when, ready / waiting / review counts, today's attempts, "
        "contacts, right-party contacts, promises taken (count, amount) and broken, "
        "collected, accounts untouched for 14+ days and the open balance by aging bucket "
        "(from the aging snapshot); then the accounts no active collector can serve, by "
        "language. Today is the team's day (team_tz). A lead sees their own team; an "
        "admin any team (--team) or all.",
    )
    p.add_argument("--team", metavar="T", help="the team (admins; a lead: their own only)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_board)


def _money(amounts: dict[str, int], locale: str) -> str:
    return ", ".join(format_money(v, c, locale) for c, v in sorted(amounts.items())) or "-"


def cmd_board(args: argparse.Namespace, ctx: Context) -> int:
    conn = ctx.open()
    actor = ctx.actor(conn, action="board")
    locale = actor.collector.locale if actor.collector is not None else "en_US"
    settings = ctx.settings()
    try:
        found = board.read_board(conn, ctx.clock, settings.team_zone, actor, args.team,
                                 service_days=settings.disputes.service_days)  # fmt: skip
    except RightsError as exc:
        raise CliError(str(exc), EXIT_ERROR) from None
    except board.BoardError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    if args.json:
        print(json_text(found.as_json(), indent=2, default=str))
        return 0
    now = found.at
    team = found.team if found.team is not None else _("all teams")
    print(_("Team board: {team}, {day}").format(team=team or "-", day=found.day.isoformat()))
    if not found.rows:
        print(_("no active collector in this team"))
    for r in found.rows:
        on = (
            _("online {since}").format(since=board.since_text(r.online_since, now))
            if r.online_since
            else _("offline")
        )
        work = ""
        if r.working_on:
            work = (
                _("on {ref} {since}")
                .format(ref=r.working_on, since=board.since_text(r.working_since, now))
                .rstrip()
            )
        print(visible(f"{r.username:<12} {on:<16} {work}"))
        print(
            "  "
            + _(
                "ready {ready}, waiting {waiting}, review {review}; today: {attempts} "
                "attempts, {contacts} contacts, {rpc} RPC, {promises} promises ({promised}), "
                "{broken} broken, collected {collected}; untouched 14+ days: {untouched}"
            ).format(
                ready=r.ready,
                waiting=r.waiting,
                review=r.review,
                attempts=r.attempts,
                contacts=r.contacts,
                rpc=r.rpc,
                promises=r.promises,
                promised=_money(r.promised, locale),
                broken=r.broken,
                collected=_money(r.collected, locale),
                untouched=r.untouched,
            )  # fmt: skip
        )
        for cur, b in sorted((r.buckets or {}).items()):
            cells = "  ".join(
                f"{name} {format_money(v, cur, locale)}"
                for name, v in zip(board.BUCKETS, b, strict=True)
            )
            print(f"  {cur}: {cells}")
        if r.disputes:
            print(
                "  " + _("open disputes {n}, {late} overdue").format(n=r.disputes, late=r.overdue)
            )
    book = found.book
    if book is not None:
        if book.unserved:
            parts = ", ".join(f"{lang} {n}" for lang, n in book.unserved.items())
            print(
                _("accounts no active collector can serve (language): {parts}").format(parts=parts)
            )
        else:
            print(_("every account's language is spoken by an active collector"))
    return 0
