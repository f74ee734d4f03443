"""CLI for the ledger: ``import``, ``report``, ``export``, ``backup``.

``register(subparsers)`` adds the subcommands to the main parser (dunning/cli.py).
Each handler returns an exit code: 0 done, 1 rows refused (nothing written), 2 the
command could not run (unreadable file, bad option, busy database). Errors are one
clear line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from dunning.clock import Clock, SystemClock

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
    p = subparsers.add_parser(
        "import",
        help="load customers, contacts, invoices or payments from CSV/XLSX",
        description="Load an ERP extract. Re-running the same file changes nothing. "
        "By default nothing is written when any row is refused. "
        "'dunning import profiles' lists the built-in layouts.",
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

    r = subparsers.add_parser("report", help="aging and collection metrics")
    rs = r.add_subparsers(dest="report", required=True, metavar="{aging,metrics}")
    a = rs.add_parser("aging", help="open amounts per bucket of days past due")
    a.add_argument("--as-of", type=_date, metavar="DATE", help="default: today")
    a.add_argument("--by", choices=("customer", "collector"), default="customer")
    _output(a, ("table", "csv", "xlsx", "json"))
    a.set_defaults(func=cmd_aging)
    m = rs.add_parser("metrics", help="DSO, BPDSO, ADD, CEI, promise-kept and RPC rates")
    m.add_argument("--from", dest="start", type=_date, required=True, metavar="DATE")
    m.add_argument("--to", dest="end", type=_date, required=True, metavar="DATE")
    _output(m, ("table", "csv", "xlsx", "json"))
    m.set_defaults(func=cmd_metrics)

    e = subparsers.add_parser("export", help="export history for audit")
    es = e.add_subparsers(dest="export", required=True, metavar="{activities}")
    ea = es.add_parser("activities", help="every call and note, oldest first")
    ea.add_argument("--from", dest="start", type=_date, metavar="DATE")
    ea.add_argument("--to", dest="end", type=_date, metavar="DATE")
    ea.add_argument("--collector", help="only this collector's")
    _output(ea, ("csv", "jsonl"))
    ea.set_defaults(func=cmd_export_activities)

    b = subparsers.add_parser("backup", help="consistent copy of the live database")
    b.add_argument("dest", type=Path, help="file, or a directory for a time-stamped file")
    b.add_argument("--force", action="store_true", help="replace DEST if it exists")
    b.set_defaults(func=cmd_backup)


def _output(p: argparse.ArgumentParser, formats: tuple[str, ...]) -> None:
    p.add_argument("--format", choices=formats, default=None,
                   help=f"default: from -o's suffix, else {formats[0]}")  # fmt: skip
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="default: stdout")


def _format(args: argparse.Namespace, default: str) -> str:
    if args.format:
        return str(args.format)
    if args.output is not None:
        suffix = args.output.suffix.lower().lstrip(".")
        if suffix in ("csv", "xlsx", "json", "jsonl"):
            return suffix
    return default


def _err(msg: str) -> None:
    print(f"dunning: {msg}", file=sys.stderr)


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
        except KeyboardInterrupt:
            _err("interrupted: nothing was written")
            return 130
        return 2

    run.__name__ = fn.__name__
    return run


def _open(args: argparse.Namespace) -> sqlite3.Connection:
    from dunning.db.connection import default_db_path, open_db

    path = getattr(args, "db", None) or default_db_path()
    return open_db(path)


def _settings(args: argparse.Namespace) -> Any:
    from dunning.queue.config import load_settings

    return getattr(args, "settings", None) or load_settings(getattr(args, "config", None))


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal (rich, which Textual brings); nothing when piped."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}", BarColumn(), DownloadColumn(),
        TimeRemainingColumn(), transient=True, console=None,
    ) as bar:  # fmt: skip
        task = bar.add_task("reading", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        yield update


@_guard
def cmd_import(args: argparse.Namespace) -> int:
    from dunning.db.ledger import PROFILES, ImportOptions, Refusal, import_file

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
    shown = {"n": 0}

    def on_refusal(where: str, r: Refusal) -> None:
        shown["n"] += 1
        kind = "warning" if r.warning else "refused"
        print(f"{where}: {kind}: column {r.column!r}, value {r.value!r}: {r.reason}",
              file=sys.stderr)  # fmt: skip

    conn = _open(args)
    try:
        with progress_bar(enabled=not args.quiet and sys.stderr.isatty()) as bar:
            result = import_file(conn, _clock(args), _settings(args), args.file, options,
                                 progress=bar, on_refusal=on_refusal)  # fmt: skip
    finally:
        conn.close()
    if not args.quiet:
        _summary(result)
    for note in result.notes:
        _err(note)
    if result.refused and not result.written and not args.dry_run:
        return 1
    return 0


def _summary(r: Any) -> None:
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
    if r.warnings:
        extra.append(f"{r.warnings} warnings")
    if r.ignored:
        extra.append(f"{r.ignored} blank/title/total rows ignored")
    if r.skipped:
        extra.append(f"{r.skipped} skipped (issued after --as-of)")
    if extra:
        print("  " + "; ".join(extra))
    if r.rejects:
        print(f"  refused rows written to {r.rejects}")
    print("  written" if r.written else "  nothing written")


@_guard
def cmd_aging(args: argparse.Namespace) -> int:
    from dunning.db import exports, reports

    as_of = args.as_of or _clock(args).now().date()
    conn = _open(args)
    try:
        report = reports.aging(conn, as_of, by=args.by)
    finally:
        conn.close()
    fmt = _format(args, "table")
    meta = {"report": "aging", "as_of": as_of, "by": args.by}
    with reports.paused_gc():
        cols, rows = exports.aging_table(report)
        exports.write(cols, rows, fmt, args.output, title=f"Aging as of {as_of}", meta=meta)
    if args.output is not None:
        print(f"aging as of {as_of}: {len(report.rows)} rows written to {args.output}")
    return 0


@_guard
def cmd_metrics(args: argparse.Namespace) -> int:
    from dunning.db import exports, reports

    conn = _open(args)
    try:
        rows = reports.metrics(conn, args.start, args.end)
    finally:
        conn.close()
    cols, out = exports.metrics_table(rows)
    meta = {"report": "metrics", "from": args.start, "to": args.end}
    title = f"Metrics {args.start} to {args.end}"
    exports.write(cols, out, _format(args, "table"), args.output, title=title, meta=meta)
    if args.output is not None:
        print(f"metrics: {len(out)} rows written to {args.output}")
    return 0


@_guard
def cmd_export_activities(args: argparse.Namespace) -> int:
    from dunning.db import exports

    conn = _open(args)
    try:
        rows = exports.activities(conn, args.start, args.end, args.collector)
        n = exports.write_activities(rows, _format(args, "csv"), args.output)
    finally:
        conn.close()
    if args.output is not None:
        print(f"{n} activities written to {args.output}")
    return 0


@_guard
def cmd_backup(args: argparse.Namespace) -> int:
    from dunning.db.backup import backup

    conn = _open(args)
    try:
        result = backup(conn, args.dest, _clock(args), force=args.force)
    finally:
        conn.close()
    print(f"backup written to {result.path} ({result.bytes:,} bytes, {result.seconds:.1f} s)")
    return 0
