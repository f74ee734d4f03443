"""``dunning letters run`` (the nightly letter run, issue 10 item 5) and ``dunning
contacts opt-out|opt-in`` (a contact's e-mail opt-out, item 4).

Thin: the run is dunning/queue/letter_run.py (levels in queue/levels.py, sending in
queue/sending.py), the opt-out dunning/queue/opt_out.py (rights there).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from dunning.cli_base import EXIT_ERROR, CliError, Context
from dunning.i18n import _


def register(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    p = sub.add_parser(
        "letters",
        help="the nightly letter run: the dunning levels' letters",
        description="The letters the dunning levels make due ([levels] in the "
        "configuration): what would go to whom, then sent as the system (the host's "
        "admin). Run it every night after the import and the queue refresh.",
    )
    lsub = p.add_subparsers(dest="letters_command", metavar="ACTION", required=True)
    r = lsub.add_parser(
        "run",
        help="print what would go to whom, then send it",
        description="Print the letters due (counts by level, channel and language; "
        "skipped by reason), then send them through the [smtp] relay (--out DIR: write "
        "them as .eml files there instead, recorded as sent). --dry-run writes the .eml "
        "files into --out (default: the current folder) and records nothing.",
    )
    r.add_argument("--level", type=int, metavar="N", help="only the letters of level N")
    r.add_argument("--dry-run", action="store_true", help="write the .eml, record nothing")
    r.add_argument("--out", metavar="DIR", type=Path, help="write the letters into DIR")
    r.add_argument("--limit", type=int, metavar="N", help="at most N letters (customer order)")
    r.add_argument(
        "--jobs", type=int, metavar="N", default=0,
        help="processes writing a dry run (default: the CPUs, at most 4)",
    )  # fmt: skip
    r.set_defaults(handler=cmd_run)

    c = sub.add_parser(
        "contacts",
        help="a contact's e-mail opt-out (Regulation F 1006.6(e))",
        description="Record that an account's contact opted out of e-mail (or back in): "
        "no e-mail is sent to them after it. A collector on their own accounts, a lead on "
        "any; recorded with who and when in the audit log.",
    )
    csub = c.add_subparsers(dest="contacts_command", metavar="ACTION", required=True)
    for name, opt_out, text in (
        ("opt-out", True, "no more e-mail to the account's contact(s)"),
        ("opt-in", False, "e-mail to the contact(s) again"),
    ):
        o = csub.add_parser(name, help=text)
        o.add_argument("account", metavar="REF", help="the account's reference")
        o.add_argument(
            "--email", metavar="ADDRESS", help="only the contact with this address (default: all)"
        )
        o.set_defaults(handler=cmd_opt, opt_out=opt_out)


def cmd_opt(args: argparse.Namespace, ctx: Context) -> int:
    from dunning.queue.opt_out import OptOutError, set_email_opt_out  # noqa: PLC0415

    conn = ctx.open()
    action = "contacts.opt_out" if args.opt_out else "contacts.opt_in"
    actor = ctx.actor(conn, action=action, target=args.account)
    try:
        change = set_email_opt_out(
            conn, ctx.clock, actor, args.account, email=args.email, opt_out=args.opt_out
        )
    except OptOutError as exc:
        raise CliError(str(exc), EXIT_ERROR) from None
    done = (
        _("{ref}: {address} opted out of e-mail")
        if args.opt_out
        else _("{ref}: {address} receives e-mail again")
    )
    for address in change.changed:
        print(done.format(ref=change.ref, address=address))
    for address in change.unchanged:
        print(_("{ref}: {address} unchanged").format(ref=change.ref, address=address))
    return 0


def _print_counts(title: str, counts: object) -> None:
    from dunning.queue.writing_rules import CODES  # noqa: PLC0415

    letters = counts.letters  # type: ignore[attr-defined]
    skipped = counts.skipped  # type: ignore[attr-defined]
    print(title)
    if not letters:
        print("  " + _("no letter"))
    for (level, channel, lang), n in sorted(letters.items()):
        print(
            "  "
            + _("level {level} {channel} {language}: {n}").format(
                level=level, channel=channel, language=lang, n=n
            )
        )
    total = sum(letters.values())
    print(
        "  "
        + _("total: {n} letters, {invoices} invoices").format(
            n=total,
            invoices=counts.invoices,  # type: ignore[attr-defined]
        )
    )
    for (level, code), n in sorted(skipped.items()):
        label = (
            _(CODES[code])
            if code in CODES
            else _("paused (promise or plan)")
            if code == "paused"
            else code
        )
        where = _("level {level}").format(level=level) if level else _("all levels")
        print("  " + _("skipped, {where}: {reason}: {n}").format(where=where, reason=label, n=n))


def cmd_run(args: argparse.Namespace, ctx: Context) -> int:
    from dunning.queue import letter_run  # noqa: PLC0415

    if args.level is not None and not 1 <= args.level <= 9:
        raise CliError(_("--level must be from 1 to 9"), EXIT_ERROR)
    if args.limit is not None and args.limit < 0:
        raise CliError(_("--limit must be 0 or more"), EXIT_ERROR)
    conn = ctx.open()
    ctx.authorize(conn, "letters.run", target="letters")
    settings = ctx.settings()
    out_dir = args.out if args.out is not None else (Path.cwd() if args.dry_run else None)
    reconciled = 0 if args.dry_run else letter_run.reconcile_stopped(conn, ctx.clock)
    if reconciled:
        print(_("{n} levels recorded from letters a stopped run sent").format(n=reconciled))
    if args.dry_run:
        from dunning.queue.letter_run_jobs import dry_run  # noqa: PLC0415

        # planned and written at once: the counts of what was due come at the end
        jobs = args.jobs or min(4, os.cpu_count() or 1)
        planned, done = dry_run(
            conn, ctx.db_path, ctx.clock, settings, out_dir, level=args.level,
            limit=args.limit, jobs=jobs,
        )  # fmt: skip
        _print_counts(_("Letters due:"), planned)
        if planned.total:
            _print_counts(
                _("Written (dry run: nothing recorded) into {dir}:").format(dir=out_dir), done
            )
        return 0
    planned = letter_run.plan(conn, ctx.clock, settings, level=args.level, limit=args.limit)
    _print_counts(_("Letters due:"), planned)
    sys.stdout.flush()
    if not planned.total:
        return 0
    emails = any(channel == "email" for _lvl, channel, _lang in planned.letters)
    if emails and out_dir is None and settings.smtp is None:
        raise CliError(
            _("no [smtp] relay in the configuration: set one, or write .eml files (--out)"),
            EXIT_ERROR,
        )
    done = letter_run.run(
        conn, ctx.clock, settings, level=args.level, limit=args.limit, out_dir=out_dir
    )
    _print_counts(_("Sent:"), done)
    for line in done.failures:
        print("  " + line)
    return EXIT_ERROR if done.failures else 0
