"""``dunning assign --where "FILTER" --to NAME --reason TEXT [--limit N [--sort KEY]]
[--dry-run] [--any-language]``: a lead's bulk move by the account list's filter language
(queue/filters.py); ``--limit``: the first N in the list's order (``--sort``, the list's
keys; balance by default: the largest first)."""

from __future__ import annotations

import argparse

from dunning.cli_base import EXIT_USAGE, CliError, Context, say
from dunning.i18n import _
from dunning.money import format_money
from dunning.queue.collectors import get_collector
from dunning.queue.identity import refuse
from dunning.textsafe import clean, visible

FIRST_LINES = 10


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--where",
        metavar="FILTER",
        help='move the accounts a filter matches, e.g. "lang=es bucket>=61 collector=dave" '
        "(keys: lang country subdivision portfolio status currency state collector bucket "
        "balance contact broken dispute q; terms are ANDed)",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="with --where: print what would move, change nothing"
    )
    p.add_argument(
        "--sort",
        metavar="KEY",
        help="with --where --limit: the list's order the first N are taken in (balance: the "
        "largest first; due: the oldest first; contact: the longest without one; name, ref, "
        "collector); balance by default",
    )
    p.add_argument(
        "--any-language",
        action="store_true",
        help="move accounts whose language the target does not speak too (routing by "
        "language, [routing] by_language, otherwise leaves them where they are)",
    )


def _usage(args: argparse.Namespace) -> int | None:
    """Usage errors naming the value; the limit, if any."""
    if args.where is None:
        raise CliError(_("{flag} goes with --where FILTER").format(flag="--dry-run"), EXIT_USAGE)
    for flag, value in (("--from", args.source), ("--state", args.state),
                        ("--language", args.language)):  # fmt: skip
        if value is not None:
            raise CliError(
                _("{flag} does not go with --where (say it in the filter)").format(flag=flag),
                EXIT_USAGE,
            )
    if args.accounts:
        raise CliError(_("name accounts or --where, not both"), EXIT_USAGE)
    if not args.where.strip():
        raise CliError(_("--where needs a filter (e.g. \"collector=dave bucket>=61\")"),
                       EXIT_USAGE)  # fmt: skip
    if not args.dry_run and not clean(args.reason)[0].strip():
        raise CliError(_("--reason TEXT is needed: say why the accounts move"), EXIT_USAGE)
    if args.limit is None:
        if args.sort is not None:
            raise CliError(_("{flag} goes with --limit N").format(flag="--sort"), EXIT_USAGE)
        return None
    text = str(args.limit).strip()
    if not text.isdigit() or not 1 <= int(text) <= 10**9:
        raise CliError(
            _("--limit {value!r} is not a number of accounts (1 or more)").format(
                value=visible(str(args.limit)[:100])
            ),
            EXIT_USAGE,
        )
    return int(text)


def cmd_assign_where(args: argparse.Namespace, ctx: Context) -> int:
    from dunning.queue import account_list, assign_where

    limit = _usage(args)
    conn = ctx.open()
    detail: dict[str, object] = {"to": args.to, "where": args.where, "reason": args.reason}
    actor = ctx.authorize(conn, "assign", target=args.to, detail=detail)
    lead = actor.collector
    if lead is None:
        message = _(
            "the OS user {who!r} is not a collector: reassign with --as NAME (a lead)"
        ).format(who=actor.os_name)
        refuse(conn, ctx.clock, action="assign", message=message, target=args.to, detail=detail)
        raise CliError(message)
    to = get_collector(conn, args.to)
    if to is None:
        raise CliError(
            _("unknown collector {name!r} (see `dunning collectors list`)").format(name=args.to),
            EXIT_USAGE,
        )
    settings = ctx.settings()
    try:
        lq = account_list.query(conn, ctx.clock, settings, lead, args.where,
                                sort=(args.sort or "balance").strip(),
                                strict=limit is not None)  # fmt: skip
    except ValueError as exc:  # an unknown sort key (a filter's refusal is a FilterError)
        if type(exc) is not ValueError:
            raise
        raise CliError(_("--sort: {error}").format(error=visible(str(exc))), EXIT_USAGE) from None
    if args.dry_run:
        assign_where.check_target(conn, ctx.clock, lead, to, detail)
        today = ctx.clock.now().astimezone(settings.team_zone).date()
        pv = assign_where.preview(conn, ctx.clock, lq, to, today=today, first=FIRST_LINES,
                                  limit=limit)  # fmt: skip
        _print_preview(pv, to.username, lead.locale, args.any_language, lq.sort)
        return 0
    removed = clean(args.reason)[1]
    if removed:
        from dunning.queue.void import cleaned_message

        say(cleaned_message(removed))
    moved = assign_where.reassign_where(
        conn, ctx.clock, lead, lq, to, args.reason, any_language=args.any_language, limit=limit
    )
    print(_("{n:,} account(s) assigned to {name} ({where})").format(
        n=moved, name=to.username, where=visible(args.where)))  # fmt: skip
    return 0


def _print_preview(pv: object, to: str, locale: str, any_language: bool, sort: str) -> None:
    from dunning.queue.assign_where import Preview

    assert isinstance(pv, Preview)
    print(_("dry run: {n:,} account(s) would move to {name}; nothing changed").format(
        n=pv.count, name=to))  # fmt: skip
    if pv.matching is not None:
        print(_("  --limit: the first {n:,} of {of:,} matching, by {sort}").format(
            n=pv.count, of=pv.matching, sort=sort))  # fmt: skip
    if pv.already:
        print(_("  {n:,} already assigned to {name}").format(n=pv.already, name=to))
    if pv.by_collector:
        owners = ", ".join(f"{visible(o) if o else _('nobody')} {n:,}" for o, n in pv.by_collector)
        print(_("  from: {owners}").format(owners=owners))
    if pv.by_bucket:
        print(_("  by bucket: {buckets}").format(
            buckets=", ".join(f"{b} {n:,}" for b, n in pv.by_bucket)))  # fmt: skip
    if pv.unspoken:
        langs = ", ".join(f"{lang} {n:,}" for lang, n in pv.unspoken.items())
        if any_language:
            print(_("  in languages {name} does not speak: {langs}").format(name=to, langs=langs))
        else:
            print(_("  refused without --any-language: {name} does not speak {langs}")
                  .format(name=to, langs=langs))  # fmt: skip
    for row in pv.first:
        print(
            f"  {visible(row.ref):<10} {visible(row.name)[:30]:<30} {row.language:<3} "
            f"{visible(row.collector or '-'):<10} {row.state:<8} "
            f"{format_money(row.open_minor, row.currency, locale):>16} {row.oldest_due or '-'}"
        )
    if pv.count > len(pv.first):
        print(_("  ... and {n:,} more").format(n=pv.count - len(pv.first)))
