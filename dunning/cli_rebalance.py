"""``dunning rebalance`` and ``dunning routing check`` (issue 9, items 3 and 4).

Thin: the rules (rights, routing by language, the plan, the chunked move, the loans) are
in dunning/queue/rebalance.py, rebalance_move.py and routing.py, which the screen calls too.
"""

from __future__ import annotations

import argparse
import sqlite3

from dunning.cli_base import EXIT_ERROR, EXIT_USAGE, CliError, Context, say
from dunning.i18n import _
from dunning.money import format_money
from dunning.queue import rebalance, rebalance_move, routing
from dunning.queue.collectors import Collector
from dunning.queue.rebalance import Plan, RebalanceError
from dunning.textsafe import clean, json_text


def register(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    p = sub.add_parser(
        "rebalance",
        help="spread a collector's accounts, or the team's, evenly (leads)",
        description="Spread one collector's open accounts (--from; a sick day: --until DATE "
        "lends them and the nightly `queue refresh` gives them back after that day), or "
        "even out the team's books (no --from), by count or by balance, only to active "
        "collectors who speak each customer's language. Prints per collector what they "
        "would get first; --dry-run stops there. Each move is recorded (who, when, why).",
    )
    p.add_argument("--from", dest="source", metavar="NAME", help="whose accounts to spread")
    p.add_argument("--to", metavar="A,B,C", help="only to these collectors (default: the team)")
    p.add_argument("--team", metavar="TEAM", help="the team (default: that of --from)")
    p.add_argument("--by", default="count", metavar="count|balance", help="even by (count)")
    p.add_argument("--until", metavar="DATE", help="a loan: given back after this day")
    p.add_argument("--reason", default="", help="why (kept in the history)")
    p.add_argument("--dry-run", action="store_true", help="print the plan, move nothing")
    p.add_argument(
        "--any-language", action="store_true", help="also to collectors who do not speak it"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_rebalance)
    rsub = p.add_subparsers(dest="rebalance_command", metavar="ACTION", required=False)
    rp = rsub.add_parser(
        "return",
        help="give lent accounts back now: those due, or one owner's (--from)",
        description="End the loans that are due (what the nightly `queue refresh` does), "
        "or with --from NAME that collector's loans now (back early). An account moved "
        "elsewhere since stays where it is.",
    )
    rp.add_argument("--from", dest="source", metavar="NAME", help="this owner's loans, now")
    rp.set_defaults(handler=cmd_rebalance_return)

    p = sub.add_parser(
        "routing",
        help="routing by language: accounts no collector can serve (leads)",
        description="Accounts are dealt only to collectors who speak the customer's "
        "language ([routing] by_language, on by default). `check` lists the open accounts "
        "no active collector speaks the language of, and those held by a collector who "
        "does not speak it.",
    )
    qsub = p.add_subparsers(dest="routing_command", metavar="ACTION", required=True)
    cp = qsub.add_parser("check", help="languages no active collector speaks; misrouted accounts")
    cp.add_argument("--team", metavar="TEAM", help="one team's collectors and accounts")
    cp.add_argument("--json", action="store_true")
    cp.set_defaults(handler=cmd_routing_check)


def _lead(ctx: Context, conn: sqlite3.Connection, action: str, target: str) -> Collector:
    actor = ctx.authorize(conn, action, target=target)
    if actor.collector is None:
        raise CliError(
            _("the OS user {who!r} is not a collector: rebalance with --as NAME (a lead)").format(
                who=actor.os_name
            )
        )
    return actor.collector


def _money(per: dict[str, int], locale: str) -> str:
    return ", ".join(format_money(v, k, locale) for k, v in sorted(per.items())) or "-"


def print_plan(plan: Plan, locale: str) -> None:
    """The preview: per target collector the accounts and balance they would get, and
    what no one can take (by language)."""
    if plan.source is not None:
        head = _("{name}'s {n:,} open accounts, spread by {by}").format(
            name=plan.source.username, n=plan.considered, by=_(rebalance.BY_NAMES[plan.by])
        )
    else:
        head = _("the team's {n:,} open accounts, evened out by {by}").format(
            n=plan.considered, by=_(rebalance.BY_NAMES[plan.by])
        )
    if plan.until is not None:
        head += " " + _("(lent until {day}: given back the day after)").format(
            day=plan.until.isoformat()
        )
    print(head)
    print(f"{_('collector'):<14} {_('accounts'):>9}  {_('balance')}")
    for s in plan.shares:
        print(f"{s.collector.username:<14} {s.accounts:>9,}  {_money(s.open_minor, locale)}")
    for lang, n in sorted(plan.left.items(), key=lambda x: -x[1]):
        print(
            _("{n:,} account(s) in {lang} stay: no target speaks it ({money})").format(
                n=n, lang=lang or "?", money=_money(plan.left_minor.get(lang, {}), locale)
            )
        )


def _plan_json(plan: Plan) -> dict[str, object]:
    return {
        "from": plan.source.username if plan.source else None,
        "team": plan.team,
        "by": plan.by,
        "until": plan.until.isoformat() if plan.until else None,
        "due_at": plan.due_at,
        "considered": plan.considered,
        "moving": plan.moving,
        "targets": [
            {"collector": s.collector.username, "accounts": s.accounts, "open_minor": s.open_minor}
            for s in plan.shares
        ],
        "left": plan.left,
    }


def cmd_rebalance(args: argparse.Namespace, ctx: Context) -> int:
    conn = ctx.open()
    lead = _lead(ctx, conn, "rebalance", args.source or args.team or "")
    removed = clean(args.reason or "")[1]
    targets = [t for t in (args.to or "").split(",") if t.strip()] or None
    try:
        plan = rebalance.plan(
            conn, ctx.clock, ctx.settings(), lead, source=args.source, targets=targets,
            by=args.by, until=args.until, reason=args.reason, team=args.team,
            any_language=args.any_language,
        )  # fmt: skip
    except RebalanceError as exc:
        raise CliError(str(exc), EXIT_USAGE) from None
    if removed:
        say(_("removed {n} control character(s) from the reason").format(n=removed))
    if args.json and args.dry_run:
        print(json_text(_plan_json(plan), indent=2))
        return 0
    if not args.json:
        print_plan(plan, lead.locale)
    if args.dry_run:
        print(_("dry run: nothing moved ({n:,} account(s) would move)").format(n=plan.moving))
        return 0
    if not plan.moves:
        print(_("nothing to move"))
        return 0 if not plan.left else EXIT_ERROR
    moved = rebalance_move.commit(conn, ctx.clock, lead, plan)
    if args.json:
        print(json_text({**_plan_json(plan), "moved": moved}, indent=2))
    else:
        print(_("{n:,} account(s) moved").format(n=moved))
        if moved < plan.moving:
            print(
                _("{n:,} account(s) had changed hands since the plan and stayed").format(
                    n=plan.moving - moved
                )
            )
    return 0


def print_returned(r: rebalance_move.Returned) -> None:
    print(
        _("{n:,} lent account(s) given back; {moved:,} had moved since; {inactive:,} owner(s) "
          "inactive").format(n=r.returned, moved=r.moved, inactive=r.inactive)
    )  # fmt: skip


def cmd_rebalance_return(args: argparse.Namespace, ctx: Context) -> int:
    conn = ctx.open()
    actor = ctx.authorize(conn, "rebalance", target=args.source or "")
    owner_id = None
    if args.source:
        row = conn.execute(
            "SELECT id FROM collectors WHERE username = ?", (args.source,)
        ).fetchone()
        if row is None:
            raise CliError(
                _("unknown collector {name!r} (see `dunning collectors list`)").format(
                    name=args.source
                ),
                EXIT_USAGE,
            )
        owner_id = int(row[0])
    r = rebalance_move.return_loans(conn, ctx.clock, by=actor.collector, owner_id=owner_id)
    print_returned(r)
    left = rebalance_move.open_loans(conn, owner_id=owner_id)
    if left:
        print(_("{n:,} loan(s) still open").format(n=left))
    return 0


def cmd_routing_check(args: argparse.Namespace, ctx: Context) -> int:
    conn = ctx.open()
    actor = ctx.authorize(conn, "routing", target=args.team or "")
    locale = actor.collector.locale if actor.collector else "en_US"
    unserved = routing.unserved_by_language(conn, args.team)
    wrong = routing.misrouted(conn, args.team)
    if args.json:
        print(json_text({
            "by_language": routing.enabled(ctx.settings()),
            "unserved": [{"language": u.language, "accounts": u.accounts,
                          "open_minor": u.open_minor} for u in unserved],
            "misrouted": [{"collector": m.username, "language": m.language,
                           "accounts": m.accounts} for m in wrong],
        }, indent=2))  # fmt: skip
        return 0
    if not routing.enabled(ctx.settings()):
        print(_("routing by language is off ([routing] by_language = false)"))
    if not unserved:
        print(_("every open account has an active collector who speaks its language"))
    for u in unserved:
        print(
            _("{lang}: {n:,} open account(s) no active collector speaks ({money})").format(
                lang=u.language or "?", n=u.accounts, money=_money(u.open_minor, locale)
            )
        )
    for m in wrong:
        print(
            _("{name} holds {n:,} account(s) in {lang} without speaking it").format(
                name=m.username, n=m.accounts, lang=m.language or "?"
            )
        )
    return 0
