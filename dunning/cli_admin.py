"""Opening the app, the demo, and the team's housekeeping: collectors, assign, queue."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from dataclasses import replace
from pathlib import Path

from dunning.cli_base import EXIT_USAGE, CliError, Context, say
from dunning.cli_open import open_app
from dunning.cli_parse import find_customer
from dunning.clock import to_iso
from dunning.db import aging_snapshot, private
from dunning.db.connection import default_db_path
from dunning.db.integrity import CorruptDatabase, named_corrupt
from dunning.db.lockwait import announce
from dunning.i18n import _
from dunning.queue import routing
from dunning.queue.assign import Book, reassign, reassign_from
from dunning.queue.bulk import Interrupted
from dunning.queue.collectors import (
    ROLES,
    add_collector,
    check_tz,
    clean_display_name,
    display_name_cleaned,
    get_collector,
)
from dunning.queue.identity import audited, refuse
from dunning.queue.refresh import RefreshStats, refresh_all
from dunning.queue.refresh_ahead import checked_ahead
from dunning.queue.void import cleaned_message as reason_cleaned
from dunning.textsafe import clean

DEMO_COLLECTOR = "alice"
QUEUE_STATES = ("ready", "waiting", "hold", "disputed", "no_phone", "review", "closed")


def register_demo(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    p = sub.add_parser(
        "demo",
        help="build a demo portfolio and open the app on it",
        description="Build a realistic, deterministic demo portfolio (or reuse the one "
        "already built) and open the app as alice (or --as NAME). Default file: demo.db "
        "beside the default database, unless --db or $DUNNING_DB.",
    )
    p.add_argument("--customers", type=int, default=500, help="how many customers (500)")
    p.add_argument("--seed", type=int, default=0, help="random seed (0)")
    p.add_argument("--no-open", action="store_true", help="build only; do not open the app")
    p.add_argument("--force", action="store_true", help="delete the demo database and rebuild")
    p.set_defaults(handler=cmd_demo)


def register(sub: argparse._SubParsersAction) -> None:  # noqa: SLF001
    p = sub.add_parser("collectors", help="list, add or change collectors")
    csub = p.add_subparsers(dest="collectors_command", metavar="ACTION", required=True)
    ap = csub.add_parser(
        "add",
        help="add a collector",
        description="Add a collector. Allowed for a lead or an admin, and for the host "
        "operator (root, the database file's owner, or its service account, without --as "
        "and without a collector of their own name). Only an admin may add an admin.",
    )
    ap.add_argument("name", metavar="NAME", help="login name (the OS user, or --as NAME)")
    ap.add_argument("--display-name", help="full name (default: NAME)")
    ap.add_argument("--role", choices=ROLES, default="collector")
    ap.add_argument("--languages", default="en", help="languages spoken, e.g. en,fr")
    ap.add_argument("--locale", default="en_US", help="UI locale for money and dates (en_US)")
    ap.add_argument(
        "--tz",
        default="",
        metavar="ZONE",
        help="the collector's time zone, an IANA name (America/Toronto); times they type "
        "in their own clock are read in it (default: this machine's zone)",
    )
    ap.add_argument("--team", default="", help="the team's name (none)")
    ap.set_defaults(handler=cmd_collectors_add)
    from dunning import cli_people  # list, show, set, deactivate, reactivate

    cli_people.register_collectors(csub)
    cli_people.register(sub)  # claims

    p = sub.add_parser(
        "assign",
        help="reassign accounts to a collector (leads)",
        description="Reassign accounts to another collector, recording who did it, when "
        "and why. Only a lead or an admin may. Name the accounts, or move a collector's "
        "book with --from (a day's move of 100,000 accounts: seconds, in short steps that "
        "let the team keep working). An account someone is on the phone with changes owner "
        "too; they finish their call.",
    )
    p.add_argument("accounts", nargs="*", metavar="ACCOUNT", help="customer reference or id")
    p.add_argument("--to", required=True, metavar="NAME", help="the collector to give them")
    p.add_argument("--from", dest="source", metavar="NAME", help="move this collector's accounts")
    p.add_argument(
        "--limit", metavar="N", help="with --from: at most N accounts (lowest ids first)"
    )
    p.add_argument(
        "--state",
        choices=QUEUE_STATES,
        help="with --from: only accounts in this queue state (e.g. ready)",
    )
    p.add_argument(
        "--language", metavar="CODE", help="with --from: only customers of this language (fr)"
    )
    p.add_argument("--reason", default="", help="why (kept in the history)")
    from dunning import cli_assign_where  # --where, --dry-run, --any-language

    cli_assign_where.add_options(p)
    p.set_defaults(handler=cmd_assign)

    p = sub.add_parser("queue", help="queue maintenance")
    qsub = p.add_subparsers(dest="queue_command", metavar="ACTION", required=True)
    rp = qsub.add_parser(
        "refresh",
        help="recompute every account's queue row (run nightly after an import; admins)",
        description="Decide promises from loaded payments and recompute balances, state and "
        "priority of every account, 5,000 accounts per transaction.",
    )
    rp.add_argument(
        "--full",
        action="store_true",
        help="read every account, not only those whose row can have changed since the last "
        "refresh (as after a settings change)",
    )
    rp.set_defaults(handler=cmd_queue_refresh)


# -- demo -------------------------------------------------------------------------------


def demo_path(ctx: Context) -> Path:
    if ctx.db_explicit:
        return ctx.db_path
    return default_db_path().with_name("demo.db")


def _remove_db(path: Path) -> None:
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if p.is_file():
            p.unlink()


def _refuse_unless_demo(path: Path) -> None:
    """--force replaces a demo (or an empty file), never a real ledger."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            customers = (
                conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0]
                if "customers" in tables
                else 0
            )
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise CliError(f"{path}: not a database ({exc}); remove it yourself") from exc
    if "demo_portfolio" not in tables and (customers or tables):
        raise CliError(
            f"{path} is not a demo database ({customers:,} customers): --force only "
            "replaces a demo; choose another --db"
        )


def _progress(*parts: object) -> None:
    print("demo: " + " ".join(str(p) for p in parts), file=sys.stderr, flush=True)


def _existing_demo(path: Path) -> bool:
    """True when ``path`` already holds a portfolio to reuse; False when it may be built
    (absent, empty, or a dunning database with nobody and nothing in it)."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if "customers" not in tables:
                empty = not tables
            else:
                if conn.execute("SELECT 1 FROM customers LIMIT 1").fetchone():
                    return True
                empty = not conn.execute("SELECT 1 FROM collectors LIMIT 1").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise CliError(f"{path}: {exc}; use --force to replace it with a demo") from exc
    if not empty:
        raise CliError(f"{path} holds collectors but no customers; use --force to replace it")
    return False


MAX_DEMO_CUSTOMERS = 2_000_000  # twice the benchmark portfolio; about 4 GB on disk


def cmd_demo(args: argparse.Namespace, ctx: Context) -> int:
    path = demo_path(ctx)
    if not 1 <= args.customers <= MAX_DEMO_CUSTOMERS:
        raise CliError(
            f"--customers must be between 1 and {MAX_DEMO_CUSTOMERS:,}, not {args.customers:,}",
            EXIT_USAGE,
        )
    if path.is_dir():
        raise CliError(f"{path} is a directory; give the demo a file name, e.g. {path}/demo.db")
    if path.exists() and not path.is_file():
        raise CliError(f"{path} is not a regular file; choose another --db")
    if args.force:
        _refuse_unless_demo(path)
        _remove_db(path)
    if _existing_demo(path):
        print(f"demo: reusing {path} (--force rebuilds it)", file=sys.stderr)
    else:
        try:
            from dunning.demo.build import build_demo
        except ImportError as exc:
            raise CliError(f"the demo builder is not available: {exc}") from exc
        from dunning.clock import SystemClock

        _remove_db(path)  # an empty leftover
        private.make_dirs(path.parent, mode=private.db_dir_mode())  # 0700 (2770: a group)
        build_demo(
            path,
            customers=args.customers,
            seed=args.seed,
            clock=SystemClock(),
            progress=_progress,
        )
        print(f"demo: built {path}", file=sys.stderr)
    if args.no_open:
        print(path)
        return 0
    return open_app(ctx, path, ctx.as_name or DEMO_COLLECTOR)


# -- collectors -------------------------------------------------------------------------


def cmd_collectors_add(args: argparse.Namespace, ctx: Context) -> int:
    conn = ctx.open()
    name = args.name.strip()
    detail = {"role": args.role, "languages": args.languages, "locale": args.locale,
              "team": args.team}  # fmt: skip
    actor = ctx.authorize(conn, "collectors.add", target=name, detail=detail)
    if args.role == "admin" and actor.role != "admin":
        message = _("only an admin may add an admin")
        refuse(conn, ctx.clock, action="collectors.add", message=message,
               collector_id=actor.collector_id, target=name, detail=detail)  # fmt: skip
        raise CliError(message)
    languages = ",".join(x.strip().lower() for x in args.languages.split(",") if x.strip())
    if not languages or not all(len(x) == 2 and x.isalpha() for x in languages.split(",")):
        raise CliError(f"--languages {args.languages!r}: ISO 639-1 codes, e.g. en,fr", EXIT_USAGE)
    _check_locale(args.locale)
    tz = _check_tz(args.tz)
    removed = clean_display_name(args.display_name or "")[1]  # add_collector removes them
    if removed:
        say(display_name_cleaned(removed))
    with audited(conn, ctx.clock, actor, "collectors.add", target=name, detail=detail):
        c = add_collector(
            conn,
            ctx.clock,
            username=name,
            display_name=(args.display_name or args.name).strip(),
            role=args.role,
            languages=languages,
            locale=args.locale,
            tz=tz,
            team=args.team,
        )
    print(
        f"added {c.username} ({c.role}, {','.join(c.languages)}, {c.locale}, "
        f"{c.tz or 'host time zone'})"
    )
    return 0


def _check_tz(text: str) -> str:
    try:
        return check_tz(text)
    except ValueError as exc:
        raise CliError(f"--tz: {exc}", EXIT_USAGE) from exc


def _check_locale(text: str) -> None:
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(text)
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise CliError(
            f"--locale {text!r} is not a locale (e.g. en_US, fr_CA)", EXIT_USAGE
        ) from exc


# -- assign / queue ---------------------------------------------------------------------


def _book_options(args: argparse.Namespace) -> int | None:
    """Check --from's companions (usage errors naming the value); the limit, if any."""
    if args.source is None:
        for flag, value in (("--limit", args.limit), ("--state", args.state),
                            ("--language", args.language)):  # fmt: skip
            if value is not None:
                raise CliError(_("{flag} goes with --from NAME").format(flag=flag), EXIT_USAGE)
        if not args.accounts:
            raise CliError(_("name the accounts to reassign, or --from NAME"), EXIT_USAGE)
        return None
    if args.accounts:
        raise CliError(
            _("name accounts or --from {name!r}, not both").format(name=args.source), EXIT_USAGE
        )
    if args.limit is None:
        return None
    text = str(args.limit).strip()
    if not text.isdigit() or not 1 <= int(text) <= 10**9:
        raise CliError(
            _("--limit {value!r} is not a number of accounts (1 or more)").format(
                value=str(args.limit)[:100]
            ),
            EXIT_USAGE,
        )
    return int(text)


def cmd_assign(args: argparse.Namespace, ctx: Context) -> int:
    if args.where is not None or args.dry_run:
        from dunning import cli_assign_where

        return cli_assign_where.cmd_assign_where(args, ctx)
    limit = _book_options(args)
    conn = ctx.open()
    detail: dict[str, object] = {"to": args.to, "reason": args.reason}
    if args.source is None:
        detail["accounts"] = len(args.accounts)
    else:
        detail["from"] = args.source
    actor = ctx.authorize(conn, "assign", target=args.to, detail=detail)
    lead = actor.collector
    if lead is None:  # the host operator: a reassignment names the lead who made it
        message = _(
            "the OS user {who!r} is not a collector: reassign with --as NAME (a lead)"
        ).format(who=actor.os_name)
        refuse(conn, ctx.clock, action="assign", message=message, target=args.to, detail=detail)
        raise CliError(message)
    to = get_collector(conn, args.to)
    if to is None:
        raise CliError(f"unknown collector {args.to!r} (see `dunning collectors list`)", EXIT_USAGE)
    removed = clean(args.reason)[1]  # queue/assign.py removes them; said here
    if args.source is not None:
        # a collector who left (inactive) is the usual source of a move: any collector
        row = conn.execute(
            "SELECT id, username FROM collectors WHERE username = ?", (args.source,)
        ).fetchone()
        if row is None:
            raise CliError(
                _("unknown collector {name!r} (see `dunning collectors list`)").format(
                    name=args.source
                ),
                EXIT_USAGE,
            )
        book = Book(int(row["id"]), str(row["username"]), limit, args.state, args.language)
        routed = routing.enabled(ctx.settings()) and not args.any_language
        if routed:  # routing by language: only what the target can serve moves
            book = replace(book, speakers=routing.spoken(to))
        if removed:
            say(reason_cleaned(removed))
        moved = reassign_from(conn, ctx.clock, lead, book, to, args.reason)
        print(
            _("{n:,} account(s) of {source} assigned to {name}").format(
                n=moved, source=book.source, name=to.username
            )
        )
        if routed:
            left = routing.left_in_book(
                conn, book.source_id, to, state=args.state, language=args.language
            )
            if left:
                say(routing.skipped_message(to, left))
        return 0
    ids = [int(find_customer(conn, a)["id"]) for a in args.accounts]
    if routing.enabled(ctx.settings()) and not args.any_language:
        ids, left = routing.split_servable(conn, to, ids)
        if left:
            message = routing.skipped_message(to, left)
            if not ids:
                refuse(conn, ctx.clock, action="assign", message=message, target=args.to,
                       detail=detail)  # fmt: skip
                raise CliError(message)
            say(message)
    if removed:
        say(reason_cleaned(removed))
    moved = reassign(conn, ctx.clock, lead, ids, to, args.reason, settings=ctx.settings())
    print(
        f"{moved} account(s) assigned to {to.username}"
        + (f" ({len(set(ids)) - moved} already were)" if moved < len(set(ids)) else "")
    )
    return 0


def cmd_queue_refresh(args: argparse.Namespace, ctx: Context) -> int:
    conn = ctx.open()
    actor = ctx.authorize(conn, "queue.refresh")
    settings = ctx.settings()
    full = bool(getattr(args, "full", False))
    # a damaged page stops the night's run, named, before it writes; which check runs
    # (the whole file, or the tables it writes after a recent one): db/integrity.py. The
    # night's first reads run beside it (queue/refresh_ahead.py); nothing is written
    # before its verdict
    try:
        ahead = checked_ahead(conn, ctx.db_path, ctx.clock, settings, full=full)
    except CorruptDatabase as exc:
        raise CliError(str(exc)) from None
    unrecorded = ahead.unrecorded
    if unrecorded:
        print(
            _(
                "the live database passed its check but the check was not recorded "
                "({reason}): the next `queue refresh` checks the whole file"
            ).format(reason=unrecorded),
            file=sys.stderr,
        )
    stats = RefreshStats()
    try:
        with (
            audited(conn, ctx.clock, actor, "queue.refresh") as info,
            announce(conn, "refresh", to_iso(ctx.clock.now())),
            named_corrupt(ctx.db_path),
        ):

            def progress(s: RefreshStats) -> None:
                info.update(
                    accounts=s.done,
                    promises_decided=s.decided,
                    refreshed=s.done,
                    of=s.of,
                    changed=s.changed,
                    unchanged=s.unchanged,
                )

            refresh_all(
                conn,
                ctx.clock,
                settings,
                after_chunk=progress,
                stats=stats,
                full=full,
                ahead=ahead,
            )
            aging_snapshot.advance(conn, ctx.clock.now().astimezone(settings.team_zone).date())
    except KeyboardInterrupt:  # recorded 'interrupted' with how many (audited)
        raise Interrupted(
            f"{stats.done:,} of {stats.of:,} accounts refreshed before the interruption; run "
            "`dunning queue refresh` again to refresh them all",
            stats.done,
            stats.of,
        ) from None
    except CorruptDatabase as exc:
        raise CliError(str(exc)) from None
    accounts, decided = stats.done, stats.decided
    print(f"{accounts} account(s) refreshed, {decided} promise(s) decided")
    # the night gives back the accounts a rebalance lent until yesterday (queue/rebalance.py)
    from dunning import cli_rebalance
    from dunning.queue.rebalance_move import return_loans

    returned = return_loans(conn, ctx.clock, by=actor.collector)
    if returned.ended:
        cli_rebalance.print_returned(returned)
    return 0
