"""CLI for the ledger: ``import``, ``report``, ``export``, ``backup``.

``register(subparsers)`` adds the subcommands to the main parser (dunning/cli.py); the report,
export and backup handlers are in ledger_report_cli.py, ``export audit`` in audit_cli.py.
Each handler returns an exit code: 0 done, 1 rows refused (nothing written), 2 the
command could not run (unreadable file, bad option, busy database). Errors are one
clear line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, tzinfo
from pathlib import Path
from typing import Any

from dunning.clock import Clock, SystemClock
from dunning.i18n import _

KINDS = ("customers", "contacts", "invoices", "payments")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _mapping(text: str) -> tuple[str, str]:
    column, sep, fld = text.rpartition("=")
    if not sep or not column:
        raise argparse.ArgumentTypeError(f"{text!r}: write COLUMN=field (field empty: ignore)")
    return column.strip(), fld.strip()


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from dunning.ledger_report_cli import (
        cmd_aging,
        cmd_backup,
        cmd_export_activities,
        cmd_metrics,
    )

    p = subparsers.add_parser(
        "import",
        help="load customers, contacts, invoices or payments from CSV/XLSX",
        description="Load an ERP extract. Re-running the same file changes nothing. "
        "By default nothing is written when any row is refused. "
        "'dunning import profiles' lists the built-in layouts. For admins and the host "
        "operator (README: Security); each run is recorded in the audit log.",
    )
    p.add_argument("kind", choices=[*KINDS, "profiles"])
    p.add_argument("file", nargs="?", type=Path)
    p.add_argument("--profile", default="generic", help="column layout (default generic)")
    p.add_argument("--map", dest="mapping", action="append", type=_mapping, default=[],
                   metavar="COLUMN=field", help="read COLUMN as field (repeatable)")  # fmt: skip
    p.add_argument("--encoding", help="file encoding (default: UTF-8, else cp1252)")
    p.add_argument("--delimiter", help="CSV separator (default: sniffed among , ; tab |)")
    p.add_argument("--sheet", help="XLSX sheet name (default: the first)")
    p.add_argument("--dates", choices=("auto", "ymd", "mdy", "dmy"),
                   help="numeric date order (default: the profile's, else guessed)")  # fmt: skip
    p.add_argument("--locale", help="decides ambiguous numbers like 1,234 (en_US, fr_FR, ...)")
    p.add_argument("--snapshot", action="store_true",
                   help="the file is a full open-items extract: close open invoices "
                   "missing from it")  # fmt: skip
    p.add_argument("--skip-invalid", action="store_true",
                   help="write the valid rows; refused rows go to a rejects file")  # fmt: skip
    p.add_argument("--rejects", type=Path, help="rejects file (default FILE.rejects.csv)")
    p.add_argument("--as-of", type=_date, metavar="DATE",
                   help="rebuild the ledger as it stood on DATE (needs settled dates)")  # fmt: skip
    p.add_argument("--country", default="US", help="country of new customers (default US)")
    p.add_argument("--currency", default="USD", help="currency when the file has none")
    cc = p.add_mutually_exclusive_group()
    cc.add_argument("--create-customers", dest="create_customers", action="store_true",
                    default=None, help="create customers named by invoice rows")  # fmt: skip
    cc.add_argument("--no-create-customers", dest="create_customers", action="store_false")
    p.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no summary")
    p.set_defaults(func=cmd_import)

    days = "dates: 2026-12-01, today, tomorrow, +3d, +2w, mon..sun (see dunning --help)"
    r = subparsers.add_parser("report", help="aging and collection metrics (leads, admins)")
    rs = r.add_subparsers(dest="report", required=True, metavar="{aging,metrics}")
    a = rs.add_parser("aging", help="open amounts per bucket of days past due", epilog=days)
    a.add_argument("--as-of", metavar="DATE",
                   help="default: today; a past date rebuilds the ledger as it stood "
                   "then (docs/IMPORT.md)")  # fmt: skip
    a.add_argument("--by", choices=("customer", "collector"), default="customer")
    _output(a, REPORT_FORMATS)
    a.set_defaults(func=cmd_aging)
    m = rs.add_parser("metrics", help="DSO, BPDSO, ADD, CEI, promise-kept and RPC rates",
                      epilog=days)  # fmt: skip
    m.add_argument("--from", dest="start", required=True, metavar="DATE")
    m.add_argument("--to", dest="end", required=True, metavar="DATE")
    _output(m, REPORT_FORMATS)
    m.set_defaults(func=cmd_metrics)

    e = subparsers.add_parser("export", help="export history for audit (leads, admins)")
    es = e.add_subparsers(dest="export", required=True, metavar="{activities,audit}")
    ea = es.add_parser("activities", help="every call and note, oldest first", epilog=days)
    ea.add_argument("--from", dest="start", metavar="DATE")
    ea.add_argument("--to", dest="end", metavar="DATE")
    ea.add_argument("--collector", help="only this collector's")
    _output(ea, ACTIVITY_FORMATS)
    ea.set_defaults(func=cmd_export_activities)
    eu = es.add_parser("audit", epilog=days,
                       help="who ran what: imports, exports, backups, reassignments, voids, "
                       "refusals (admins)")  # fmt: skip
    eu.add_argument("--from", dest="start", metavar="DATE", help="first day (the team's)")
    eu.add_argument("--to", dest="end", metavar="DATE", help="last day, included")
    _output(eu, AUDIT_FORMATS)
    eu.set_defaults(func=_export_audit)

    b = subparsers.add_parser("backup", help="consistent copy of the live database (admins)")
    b.add_argument("dest", type=Path, help="file, or a directory for a time-stamped file")
    b.add_argument("--force", action="store_true", help="replace DEST if it exists")
    b.set_defaults(func=cmd_backup)


REPORT_FORMATS = ("table", "csv", "xlsx", "json")
ACTIVITY_FORMATS = ("csv", "jsonl", "json")
AUDIT_FORMATS = ("csv", "xlsx", "json")
# the format each -o file name means
SUFFIXES = {".txt": "table", ".csv": "csv", ".xlsx": "xlsx", ".json": "json",
            ".jsonl": "jsonl"}  # fmt: skip


def _output(p: argparse.ArgumentParser, formats: tuple[str, ...]) -> None:
    names = ", ".join(s for s, f in SUFFIXES.items() if f in formats)
    p.add_argument("--format", choices=formats, default=None,
                   help=f"default: from -o's extension ({names}), else {formats[0]}")  # fmt: skip
    p.add_argument("-o", "--output", type=Path, metavar="FILE",
                   help="default: stdout; written whole or not at all")  # fmt: skip
    p.set_defaults(formats=formats)


def _format(args: argparse.Namespace) -> str:
    """The output format: --format, else the one -o's extension names, else the
    command's default. A contradiction, an extension that is no format of this command,
    or a file name without one and no --format is refused (ValueError: exit 2)."""
    formats: tuple[str, ...] = args.formats
    given: str | None = args.format
    out: Path | None = args.output
    if out is None:
        if given == "xlsx":
            raise ValueError("--format xlsx needs -o FILE")
        return given or formats[0]
    suffix = out.suffix.lower()
    names = ", ".join(s for s, f in SUFFIXES.items() if f in formats)
    if not suffix:
        if given:
            return given
        raise ValueError(f"-o {out}: no extension to tell the format; name it {names}, "
                         "or give --format")  # fmt: skip
    named = SUFFIXES.get(suffix)
    if named not in formats:
        raise ValueError(f"-o {out}: {suffix} is not a format this command writes; "
                         f"name it {names}")  # fmt: skip
    if given and given != named:
        raise ValueError(f"-o {out} names {named} but --format is {given}; make them agree")
    return named  # type: ignore[return-value]


def _day(args: argparse.Namespace, option: str, text: str | None) -> date | None:
    """A typed date (2026-12-01, today, +3d, fri...) in this machine's local time, as
    every other dunning command reads dates; ValueError (exit 2) names the option."""
    if text is None:
        return None
    from dunning.when import parse_day

    try:
        return parse_day(text, _today(args))
    except (ValueError, OverflowError) as exc:
        msg = str(exc) if isinstance(exc, ValueError) else f"{text!r} is out of range"
        raise ValueError(f"{option}: {msg}") from None


def _today(args: argparse.Namespace) -> date:
    """The team's today (``team_tz`` in the settings; else this machine's)."""
    return _clock(args).now().astimezone(_team_zone(args)).date()


def _team_zone(args: argparse.Namespace) -> tzinfo:
    return _settings(args).team_zone  # type: ignore[no-any-return]


def _existing_db(args: argparse.Namespace) -> sqlite3.Connection | None:
    """The database --db / $DUNNING_DB names, opened and migrated; None (the refusal
    printed, as `dunning history` prints it) when there is no database there: reports,
    exports and backups never create one."""
    from dunning.cli_base import CliError, Context

    try:
        conn = Context(args, _clock(args)).open()
    except CliError as exc:
        _err(str(exc))
        return None
    return conn


def _authorized(
    args: argparse.Namespace,
    conn: sqlite3.Connection,
    action: str,
    *,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> Any:
    """Who runs the command, when their role may (dunning/queue/rights.py); else None,
    the refusal printed as one line and recorded in the audit log with the real OS user."""
    from dunning.cli_base import Context
    from dunning.queue.collectors import IdentityError
    from dunning.queue.rights import RightsError

    try:
        return Context(args, _clock(args)).authorize(conn, action, target=target, detail=detail)
    except (IdentityError, RightsError) as exc:
        _err(str(exc))
        return None


def _audited(args: argparse.Namespace, conn: sqlite3.Connection, actor: Any, action: str,
             target: str, detail: dict[str, Any]) -> Any:  # fmt: skip
    from dunning.queue.identity import audited

    return audited(conn, _clock(args), actor, action, target=target, detail=detail)


def _err(msg: str) -> None:
    from dunning.bounds import QUOTE_CHARS, clip

    print(f"dunning: {clip(msg, 4 * QUOTE_CHARS)}", file=sys.stderr)


def _clock(args: argparse.Namespace) -> Clock:
    return getattr(args, "clock", None) or SystemClock()


def _guard(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """One place that turns an expected failure into a message and an exit code."""

    def run(args: argparse.Namespace) -> int:
        from dunning.db.backup import BackupError
        from dunning.db.connection import DatabaseError
        from dunning.db.ledger import LedgerImportError

        try:
            return fn(args)
        except (LedgerImportError, DatabaseError, BackupError, ValueError) as exc:
            _err(str(exc))
        except BrokenPipeError:  # `dunning report aging | head`
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps exit quiet
            return 0
        except OSError as exc:
            _err(f"{exc.filename or ''}: {exc.strerror or exc}")
        except sqlite3.Error as exc:
            _err(f"database: {exc}")
        except OverflowError as exc:  # a number past what SQLite or a date holds
            _err(f"a number is too large ({exc})")
        except MemoryError:
            _err("out of memory: nothing was written")
        except KeyboardInterrupt:
            _err("interrupted: nothing was written")
            return 130
        return 2

    run.__name__ = fn.__name__
    return run


def _open(args: argparse.Namespace) -> sqlite3.Connection:
    """The database to import into: a dunning database, or a new one where no file exists
    yet (the first nightly load); never another program's file, an empty file or a
    directory (CliError: printed, exit 2, the file untouched)."""
    from dunning.cli_base import CliError, _refuse_foreign, warn_exposed
    from dunning.db.connection import (
        DatabaseError,
        default_db_path,
        open_db,
        refuse_non_regular,
    )

    given = getattr(args, "db", None)
    path = Path(given).expanduser() if given else default_db_path()
    try:
        refuse_non_regular(path)  # a FIFO would hang, a directory is no file
    except DatabaseError as exc:
        raise CliError(str(exc), 2) from None
    if path.exists():
        _refuse_foreign(path, importing=True)
    conn = open_db(path)
    warn_exposed(path)
    return conn


def _settings(args: argparse.Namespace) -> Any:
    from dunning.queue.config import load_settings

    return getattr(args, "settings", None) or load_settings(getattr(args, "config", None))


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal (rich, which Textual brings); nothing when piped."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from dunning.textsafe import unguarded

    # the bar's own escape sequences go to the terminal itself (it shows no data)
    console = Console(file=unguarded(sys.stderr))
    with Progress(
        "[progress.description]{task.description}", BarColumn(), DownloadColumn(),
        TimeRemainingColumn(), transient=True, console=console,
    ) as bar:  # fmt: skip
        task = bar.add_task("reading", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        yield update


@_guard
def cmd_import(args: argparse.Namespace) -> int:
    from dunning.bounds import QUOTE_CHARS, clip, quote
    from dunning.db.ledger import PROFILES, ImportOptions, Refusal, import_file, validate_options

    if args.kind == "profiles":
        for prof in PROFILES.values():
            print(f"{prof.name:12} {', '.join(prof.kinds)}: {prof.title}")
        return 0
    if args.file is None:
        _err("import: FILE is required")
        return 2
    options = ImportOptions(
        kind=args.kind, profile=args.profile, mapping=dict(args.mapping),
        encoding=args.encoding, delimiter=args.delimiter, sheet=args.sheet,
        dates=args.dates, locale=args.locale, snapshot=args.snapshot,
        skip_invalid=args.skip_invalid, rejects=args.rejects, as_of=args.as_of,
        country=args.country, currency=args.currency,
        create_customers=args.create_customers, dry_run=args.dry_run,
    )  # fmt: skip
    options = validate_options(options)  # a bad option is refused before any file is opened
    shown = {"n": 0}

    def on_refusal(where: str, r: Refusal) -> None:
        shown["n"] += 1
        kind = "warning" if r.warning else "refused"
        value = quote(r.value, 2 * QUOTE_CHARS)  # already cut to ~200 when staged
        print(f"{where}: {kind}: column {quote(r.column, 80)}, value {value}: "
              f"{clip(r.reason, 2 * QUOTE_CHARS)}", file=sys.stderr)  # fmt: skip

    conn = _open(args)
    try:
        detail = {"kind": options.kind, "file": str(args.file), "profile": options.profile,
                  "dry_run": options.dry_run, "snapshot": options.snapshot,
                  "skip_invalid": options.skip_invalid}  # fmt: skip
        actor = _authorized(args, conn, "import", target=str(args.file), detail=detail)
        if actor is None:
            return 1
        options = dataclasses.replace(
            options,
            may_assign=actor.may("import.assign"),
            assigned_by=actor.collector_id,
            assign_reason=f"import by {actor.name}",
        )
        with _audited(args, conn, actor, "import", str(args.file), detail) as info:
            with progress_bar(enabled=not args.quiet and sys.stderr.isatty()) as bar:
                result = import_file(conn, _clock(args), _settings(args), args.file, options,
                                     progress=bar, on_refusal=on_refusal)  # fmt: skip
            info.update({name: getattr(result, name) for name in (
                "rows", "created", "updated", "unchanged", "closed", "refused", "skipped",
                "assigned", "written")})  # fmt: skip
            if result.refused and not result.written:
                info["_result"] = "failed"
    finally:
        conn.close()
    try:
        if not args.quiet:
            _summary(result)
        for note in result.notes:
            _err(note)
    except KeyboardInterrupt:
        _err("interrupted: the import was written" if result.written else "interrupted")
        return 130
    if result.refused and not result.written:
        return 1  # also for --dry-run: a check before loading must fail on a refused row
    return 0


def _summary(r: Any) -> None:
    from dunning.bounds import clip
    from dunning.money import format_money

    parts = [f"{r.kind}: {r.rows} rows"]
    for name in ("created", "updated", "unchanged", "closed", "refused", "skipped"):
        parts.append(f"{getattr(r, name)} {name}")
    print(", ".join(parts))
    extra = []
    if r.customers_created:
        extra.append(f"{r.customers_created} customers created")
    if r.payments:
        extra.append(f"{r.payments} payment rows")
    for cur, amount in sorted(r.unapplied_minor.items()):
        extra.append(f"unapplied cash {format_money(amount, cur)}")
    if r.promises_decided:
        extra.append(f"{r.promises_decided} promises decided")
    if r.assigned:
        extra.append(f"{r.assigned} accounts assigned")
    if r.not_routed:
        from dunning.queue.routing import counts_text

        extra.append(
            _(
                "{n} accounts not assigned: their collector does not speak their language "
                "({langs}; see dunning routing check)"
            ).format(n=sum(r.not_routed.values()), langs=counts_text(r.not_routed))
        )
    if r.disputes_closed:
        extra.append(f"{r.disputes_closed} disputes closed by the ERP (disputed=no)")
    if r.warnings:
        extra.append(f"{r.warnings} warnings")
    if r.ignored:
        extra.append(f"{r.ignored} blank/title/total rows ignored")
    if r.skipped:
        extra.append(f"{r.skipped} skipped (issued after --as-of)")
    if extra:
        print("  " + "; ".join(extra))
    if r.ignored_columns:
        cols = (f"{clip(c, 80)} ({f}?)" if f else clip(c, 80) for c, f in r.ignored_columns.items())
        print("  ignored columns: " + ", ".join(cols))
    if r.rejects:
        print(f"  refused rows written to {r.rejects}")
    changed = r.created or r.updated or r.closed or r.customers_created or r.payments
    if r.written and not changed and not r.promises_decided and not r.assigned:
        print("  nothing to change: the database already holds this file")
    else:
        print("  written" if r.written else "  nothing written")


def _export_audit(args: argparse.Namespace) -> int:
    from dunning.audit_cli import cmd_export_audit

    return cmd_export_audit(args)
