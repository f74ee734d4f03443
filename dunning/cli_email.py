"""``dunning email REF [KIND]``: send a letter to an account by e-mail (through the
``[smtp]`` relay), write it as an .eml file (``--out DIR``), or with ``--dry-run`` only
write the .eml and record nothing (issue 10, item 3).

Thin: everything is in dunning/queue/sending.py (the rights, the writing rules, the
rendering, the delivery and the record), as the compose view and the letter run use it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dunning.cli_base import EXIT_ERROR, CliError, Context
from dunning.i18n import _
from dunning.letters.kinds import KINDS

DRY_RUN_HELP = "write the .eml into --out (default: the current folder) and record nothing"


def register(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    p = sub.add_parser(
        "email",
        help="send a letter to an account by e-mail, or write it as an .eml file",
        description="Send KIND (default: statement) to the account REF in its language, "
        "through the [smtp] relay of the configuration; --out DIR writes the message as "
        "an .eml file there instead (recorded as sent: for a host that hands .eml files "
        "to its own mailer); --dry-run writes the .eml and records nothing. A sent letter "
        "is an activity (email_sent) in the history, its text archived. The writing rules "
        "apply (cease, legal, agency, opted out, the consumer's hours, Ontario's 3-in-7).",
    )
    p.add_argument("account", metavar="REF", help="the account's reference")
    p.add_argument(
        "kind", metavar="KIND", nargs="?", default="statement", choices=sorted(KINDS),
        help="the kind of letter (default: statement): " + ", ".join(KINDS),
    )  # fmt: skip
    p.add_argument("--dry-run", action="store_true", help=DRY_RUN_HELP)
    p.add_argument("--out", metavar="DIR", type=Path, help="write the .eml file into DIR")
    p.add_argument("--note", default="", help="a line added to the letter, kept in the archive")
    p.add_argument("--to", metavar="ADDRESS", help="the recipient (default: the contact's)")
    p.add_argument(
        "--letter", action="store_true",
        help="a letter on paper: write its text (and PDF) into --out for printing",
    )  # fmt: skip
    p.add_argument("--locale", help="write in this locale (fr_CA) instead of the customer's")
    p.set_defaults(handler=cmd_email)


def cmd_email(args: argparse.Namespace, ctx: Context) -> int:
    from dunning.queue.sending import send_letter  # noqa: PLC0415 - Jinja2 only when used

    conn = ctx.open()
    me = ctx.identity(conn)
    out_dir = args.out
    if args.dry_run and out_dir is None:
        out_dir = Path.cwd()
    result = send_letter(
        conn,
        ctx.clock,
        me,
        ctx.settings(),
        args.account,
        args.kind,
        channel="letter" if args.letter else "email",
        out_dir=out_dir,
        note=args.note,
        to=args.to,
        locale=args.locale,
        dry_run=args.dry_run,
    )
    if result.code == "dry_run":
        print(
            _("{ref}: {kind} to {to} written to {path} (dry run: nothing recorded)").format(
                ref=args.account, kind=args.kind, to=result.recipient or "-", path=result.path
            )
        )
        return 0
    if not result.sent:
        raise CliError(f"{args.account}: {result.reason}", EXIT_ERROR)
    if args.letter:
        line = _("{ref}: {kind} letter written to {path} for printing (activity #{id})")
    elif result.path is not None:
        line = _("{ref}: {kind} to {to} written to {path} (activity #{id})")
    else:
        line = _("{ref}: {kind} sent to {to}: {subject} (activity #{id})")
    print(
        line.format(
            ref=args.account,
            kind=args.kind,
            to=result.recipient,
            path=result.path,
            subject=result.subject,
            id=result.activity_id,
        )
    )
    return 0
