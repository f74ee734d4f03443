"""``dunning statement REF [-o FILE.pdf]``: the statement of account as a PDF (issue 10,
item 2). Thin: the PDF is made in dunning/letters/pdf.py; the file is written whole and
private (dunning/db/outfile.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from dunning.cli_base import EXIT_ERROR, EXIT_USAGE, CliError, Context
from dunning.clock import today
from dunning.i18n import _
from dunning.letters.kinds import LANGUAGES


def register(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    p = sub.add_parser(
        "statement",
        help="the statement of account of an account, as a PDF",
        description="Write the statement of account REF as a PDF: every open item, credit "
        "note and unapplied payment, the aging of the balance and the total due, in the "
        "customer's language and locale, with the remit-to details of [letters] in the "
        "configuration. The file is private (0600) and never replaces an existing one "
        "unless --force.",
    )
    p.add_argument("ref", metavar="REF", help="the account's reference")
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE.pdf",
        type=Path,
        help="where to write it (default: statement-REF-DATE.pdf in the current folder)",
    )
    p.add_argument("--lang", choices=LANGUAGES, help="write in this language")
    p.add_argument("--locale", help="format money and dates for this locale (fr_CA)")
    p.add_argument("--as-of", metavar="DATE", help="the statement's date (default: today)")
    p.add_argument("--force", action="store_true", help="replace FILE.pdf if it exists")
    p.set_defaults(handler=cmd_statement)


def cmd_statement(args: argparse.Namespace, ctx: Context) -> int:
    from dunning.letters.context import NoSuchAccount
    from dunning.letters.pdf import file_name, statement_pdf, write_statement
    from dunning.letters.render import known_locale
    from dunning.when import parse_day

    day = today(ctx.clock)
    if args.as_of is not None:
        try:
            day = parse_day(args.as_of, day, past=True)
        except ValueError as exc:
            raise CliError(f"--as-of: {exc}", EXIT_USAGE) from None
    locale = args.locale.replace("-", "_") if args.locale else None
    if locale is not None and not known_locale(locale):
        raise CliError(_("unknown locale {locale!r}").format(locale=locale[:40]), EXIT_USAGE)
    dest: Path = args.output if args.output is not None else Path(file_name(args.ref, day))
    if dest.exists() and dest.is_file() and not args.force:
        raise CliError(
            _("{path} exists: nothing written (--force replaces it)").format(path=dest),
            EXIT_ERROR,
        )
    conn = ctx.open()
    ctx.authorize(conn, "read", audit_action="statement", target=args.ref)
    try:
        statement = statement_pdf(
            conn,
            args.ref,
            as_of=day,
            settings=ctx.settings().letters,
            lang=args.lang,
            locale=locale,
        )
    except NoSuchAccount:
        raise CliError(_("no account {ref!r}").format(ref=args.ref), EXIT_ERROR) from None
    try:
        write_statement(statement, dest)
    except OSError as exc:
        raise CliError(
            _("{path}: {error}").format(path=dest, error=exc.strerror or exc), EXIT_ERROR
        ) from None
    print(
        _("{path}: statement of account {ref} as of {day} ({locale}), pages: {pages}").format(
            path=dest,
            ref=args.ref,
            day=day.isoformat(),
            pages=statement.pages,
            locale=statement.locale,
        )
    )
    return 0
