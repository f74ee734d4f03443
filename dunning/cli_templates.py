"""``dunning templates list|show|check``: the letter templates (issue 10, item 1).

Thin: rendering is in dunning/letters/render.py, the account's context in
dunning/letters/context.py, the check in dunning/letters/check.py.
"""

from __future__ import annotations

import argparse
import sqlite3
from datetime import date

from dunning.cli_base import EXIT_ERROR, EXIT_USAGE, CliError, Context
from dunning.clock import today
from dunning.i18n import N_, _
from dunning.letters.kinds import KINDS, LANGUAGES, PARTS
from dunning.textsafe import visible

# what a kind confirms, when the account has none (letters.context.NEEDS)
WHAT = {
    "promise": N_("promise to pay"),
    "plan": N_("payment plan"),
    "dispute": N_("dispute"),
    "overdue": N_("invoice past due"),
}


def register(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    p = sub.add_parser(
        "templates",
        help="letter and e-mail templates: list, show, check",
        description="The templates letters and e-mails are written with, in English, "
        "French and Spanish. A folder set in the configuration ([letters] templates) "
        "overrides any of them: <folder>/<lang>/<kind>.subject, .txt, .html, and the "
        "layouts the kinds extend, <lang>/_letter.txt, .html and _reminder.txt, .html "
        "(docs/LETTERS.md).",
    )
    tsub = p.add_subparsers(dest="templates_command", metavar="ACTION", required=True)
    ls = tsub.add_parser("list", help="each kind, and where its templates come from")
    ls.set_defaults(handler=cmd_list)
    show = tsub.add_parser(
        "show",
        help="render a kind for an account (or a demo account)",
        description="Render KIND for --account REF (its language and locale unless "
        "--lang or --locale says otherwise), or for an account of a demo portfolio.",
    )
    show.add_argument("kind", metavar="KIND", choices=sorted(KINDS))
    show.add_argument("--lang", choices=LANGUAGES, help="write in this language")
    show.add_argument("--locale", help="format money and dates for this locale (fr_CA)")
    show.add_argument("--account", metavar="REF", help="the account's reference")
    show.add_argument(
        "--part", choices=("all", "subject", "text", "html"), default="all", help="what to print"
    )
    show.add_argument("--source", action="store_true", help="print the template files instead")
    show.set_defaults(handler=cmd_show)
    chk = tsub.add_parser(
        "check",
        help="render every template against the demo in every language",
        description="Render every template in force (built-in and overridden) against a "
        "demo portfolio in every language; exit 1 naming file:line and the problem "
        "(an undefined name, a syntax error) of each broken one.",
    )
    chk.add_argument("--customers", type=int, default=300, help="demo portfolio size")
    chk.set_defaults(handler=cmd_check)


def _templates(ctx: Context):  # noqa: ANN202 - Templates, imported late (Jinja2)
    from dunning.letters.render import templates

    folder = ctx.settings().letters.templates_dir
    if folder is not None and not folder.is_dir():
        raise CliError(
            _("{path}: the templates folder ([letters] templates) is not a folder").format(
                path=folder
            ),
            EXIT_USAGE,
        )
    return templates(str(folder) if folder is not None else "")


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    t = _templates(ctx)
    for kind, label in KINDS.items():
        print(f"{kind:<25} {_(label)}")
        for lang in LANGUAGES:
            # the kind's own files and the layouts they extend (fr/_letter.html ...)
            files = dict.fromkeys(path for part in PARTS for _, path in t.sources(lang, kind, part))
            where = [
                visible(str(f)) for f in files if t.override is not None and t.override in f.parents
            ]
            print(
                "    "
                + lang
                + ": "
                + (
                    _("overridden: {files}").format(files=", ".join(where))
                    if where
                    else _("built-in")
                )
            )
    return 0


def cmd_show(args: argparse.Namespace, ctx: Context) -> int:
    from dunning.letters.check import demo_portfolio, sample_accounts
    from dunning.letters.render import language_of_locale

    t = _templates(ctx)
    if args.source:
        lang = args.lang or language_of_locale(args.locale or "en")
        # each part's file, then the layouts it extends (each once)
        paths = dict.fromkeys(
            path for part in PARTS for _, path in t.sources(lang, args.kind, part)
        )
        for path in paths:
            print(f"== {visible(str(path))}")
            print(visible(path.read_text(encoding="utf-8"), lines=True))
        return 0
    if args.account:
        conn = ctx.open()
        ctx.authorize(conn, "read", audit_action="templates", target=args.account)
        return _show(args, ctx, t, conn, args.account, today(ctx.clock))
    with demo_portfolio() as (conn, as_of):
        refs = sample_accounts(conn, args.kind, as_of, 1)
        return _show(args, ctx, t, conn, refs[0], as_of)


def _show(
    args: argparse.Namespace,
    ctx: Context,
    t,  # noqa: ANN001 - letters.render.Templates
    conn: sqlite3.Connection,
    ref: str,
    as_of: date,
) -> int:
    from dunning.letters.context import NoSuchAccount, NothingToWrite, build_context
    from dunning.letters.render import TemplateProblem, known_locale, locale_for

    try:
        locale, context = build_context(
            conn, ref, as_of=as_of, settings=ctx.settings().letters, kind=args.kind
        )
    except NoSuchAccount:
        raise CliError(_("no account {ref!r}").format(ref=ref), EXIT_USAGE) from None
    except NothingToWrite as exc:
        raise CliError(
            _("account {ref} has no {what} to write about").format(
                ref=ref, what=_(WHAT.get(str(exc), str(exc)))
            ),
            EXIT_USAGE,
        ) from None
    if args.locale:
        locale = args.locale.replace("-", "_")
        if not known_locale(locale):
            raise CliError(_("unknown locale {locale!r}").format(locale=locale[:40]), EXIT_USAGE)
    elif args.lang:
        locale = locale_for(args.lang, locale.split("_")[-1])
    try:
        out = t.render(args.kind, locale, context)
    except TemplateProblem as exc:
        raise CliError(str(exc), EXIT_ERROR) from None
    except ValueError as exc:  # an unknown --locale
        raise CliError(
            _("{locale}: {error}").format(locale=locale, error=exc), EXIT_USAGE
        ) from None
    if args.part in ("all", "subject"):
        print(
            (_("Subject: {subject}").format(subject=out.subject))
            if args.part == "all"
            else out.subject
        )
    if args.part == "all":
        print(_("Account: {ref}, locale {locale}").format(ref=ref, locale=locale))
        print()
    if args.part in ("all", "text"):
        print(out.text, end="")
    if args.part in ("all", "html"):
        if args.part == "all":
            print()
        print(out.html, end="")
    return 0


def cmd_check(args: argparse.Namespace, ctx: Context) -> int:
    from dunning.letters.check import check_templates, demo_portfolio

    t = _templates(ctx)
    if not 100 <= args.customers <= 20_000:
        raise CliError(_("--customers must be from 100 to 20000"), EXIT_USAGE)
    with demo_portfolio(args.customers) as (conn, as_of):
        report = check_templates(t, ctx.settings().letters, conn, as_of)
    for name in report.unknown:
        print(
            _("{folder}/{name}: not a template name, never read").format(
                folder=t.override, name=name
            )
        )
    for name in report.unread:
        print(
            _(
                "{folder}/{name}: no kind's template extends, includes or imports it, never "
                "read (the shared pieces are in the layouts _letter.txt, _letter.html, "
                "_reminder.txt and _reminder.html)"
            ).format(folder=t.override, name=name)
        )
    for problem in report.problems:
        print(str(problem))
    for kind in report.unchecked:
        print(_("{kind}: no account of the demo can take it; not checked").format(kind=kind))
    if not report.ok:
        print(_("broken templates: {n}").format(n=len(report.problems) + len(report.unchecked)))
        return EXIT_ERROR
    print(
        _("{n} renderings of {kinds} kinds in {langs} languages: all good").format(
            n=report.rendered, kinds=len(KINDS), langs=len(LANGUAGES)
        )
    )
    return 0
