"""``import_file``: one file of one kind into the ledger, all or nothing.

Reading, parsing and checking happen before the write lock is taken: rows go to TEMP
staging tables (on disk, so memory stays flat whatever the file's size), refusals to
another. Only when nothing is refused (or ``skip_invalid``) is the ledger changed, in
one ``BEGIN IMMEDIATE`` transaction that also decides promises and refreshes the queue
rows of the customers whose ledger changed. An unchanged file changes nothing.

Options are checked first (options.py), the bytes next (sniff.py), the rows in
staging.py. A Ctrl-C is held from just before the COMMIT until the clean-up is done
(interrupt.py), so the result always says whether the file was written.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dunning.bounds import clip, quote
from dunning.clock import Clock, to_iso
from dunning.db import aging_snapshot, search_index
from dunning.db.connection import DatabaseError, data_version, write_tx
from dunning.db.ledger import bulk, entities, invoices, payments
from dunning.db.ledger.cleaning import Cleaned, clean_rows
from dunning.db.ledger.interrupt import HeldInterrupt
from dunning.db.ledger.options import ImportOptions, LedgerImportError, validate_options
from dunning.db.ledger.parse import Cell, default_order, guess_date_order_lines
from dunning.db.ledger.profiles import (
    PROFILES,
    MappingError,
    header_matcher,
    ignored_columns,
    resolve,
)
from dunning.db.ledger.rejects import (
    Refusal,
    check_rejects_dest,
    report_refusals,
    write_rejects,
)
from dunning.db.ledger.requeue import refresh_queue
from dunning.db.ledger.rows import Context
from dunning.db.ledger.sources import SourceError, Table, open_table
from dunning.db.ledger.staging import stage
from dunning.db.lockwait import announce
from dunning.queue import routing
from dunning.queue.accounts import refresh_accounts
from dunning.queue.config import Settings
from dunning.queue.promises import evaluate_promises

__all__ = ["ImportOptions", "ImportResult", "LedgerImportError", "Refusal", "import_file"]

SAMPLE_ROWS = 2000
IMPORT_CACHE_KIB = 32 * 1024  # page cache while an import runs (restored after); 128 MB: no faster
DATE_FIELDS = ("issue_date", "due_date", "settled_on", "paid_on")


@dataclass
class ImportResult:
    kind: str
    path: Path
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    closed: int = 0
    refused: int = 0
    skipped: int = 0
    ignored: int = 0  # blank, title and total rows
    warnings: int = 0
    customers_created: int = 0
    payments: int = 0
    unapplied_minor: dict[str, int] = field(default_factory=dict)
    promises_decided: int = 0
    disputes_closed: int = 0  # open disputes the file's disputed=no ended (by the ERP)
    assigned: int = 0
    # the file's collector column named someone who does not speak the customer's
    # language (routing by language, queue/routing.py): left as it was, by language
    not_routed: dict[str, int] = field(default_factory=dict)
    written: bool = False
    rejects: Path | None = None
    header_line: int = 0
    encoding: str = ""
    delimiter: str = ""
    date_order: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # field -> column
    # header columns no field reads (a misspelt optional column is silently missing):
    # column -> the field it probably meant ("" when nothing is close)
    ignored_columns: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False  # Ctrl-C came after the commit: written in full all the same
    cleaned: int = 0  # control/bidi characters removed from text cells (ledger/cleaning.py)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        d = asdict(self)
        d["path"] = str(self.path)
        d["rejects"] = str(self.rejects) if self.rejects else None
        return d


Progress = Callable[[int, int], None]  # (position, total)
OnRefusal = Callable[[str, Refusal], None]  # (where "file:line", refusal)


def import_file(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    path: Path,
    options: ImportOptions,
    *,
    progress: Progress | None = None,
    on_refusal: OnRefusal | None = None,
) -> ImportResult:
    """Import one file (see the module docstring). A Ctrl-C before the commit raises
    KeyboardInterrupt with nothing written; one during or after the commit is held until
    the clean-up is done, and the result says ``written`` and ``interrupted``."""
    options = validate_options(options)
    profile = PROFILES[options.profile]
    path = Path(path)
    if options.skip_invalid:  # the rejects file is written on a dry run too
        check_rejects_dest(conn, path, options.rejects)
    try:
        table = open_table(
            path,
            is_header=header_matcher(profile, options.kind, options.mapping),
            encoding=options.encoding,
            delimiter=options.delimiter,
            sheet=options.sheet,
        )
    except SourceError as exc:
        raise LedgerImportError(str(exc)) from None
    held = HeldInterrupt()
    # a big file's inserts touch every leaf of the invoices' customer indexes: with the
    # session's 20 MB page cache they were read and spilled again and again (a 1M-row
    # insert took twice as long); the import's cache is bounded, whatever the file's size
    cache = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute(f"PRAGMA cache_size={-IMPORT_CACHE_KIB}")
    try:
        result = _run(conn, clock, settings, table, options, progress, on_refusal, held)
    except SourceError as exc:
        raise LedgerImportError(str(exc)) from None
    finally:
        try:
            table.close()
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for name in ("stage_invoices", "stage_payments", "stage_customers",
                         "stage_contacts", "stage_refusals", "stage_seen",
                         "resolved", "stage_new_customers", "stage_created",
                         "stage_firsts"):  # fmt: skip
                conn.execute(f"DROP TABLE IF EXISTS temp.{name}")
            conn.execute("PRAGMA temp_store=MEMORY")  # as dunning.db.connection sets it
            conn.execute(f"PRAGMA cache_size={cache}")
        finally:
            interrupted = held.release()
    if interrupted:
        if not result.written:
            raise KeyboardInterrupt
        result.interrupted = True
        result.notes.append("interrupted after the import was committed: it is written in full")
    return result


def _run(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    table: Table,
    options: ImportOptions,
    progress: Progress | None,
    on_refusal: OnRefusal | None,
    held: HeldInterrupt,
) -> ImportResult:
    profile = PROFILES[options.profile]
    kind = options.kind
    try:
        mapping = resolve(profile, kind, table.header, options.mapping)
    except MappingError as exc:
        raise LedgerImportError(f"{table.where(table.header_line)}: {exc}") from None
    result = ImportResult(
        kind=kind,
        path=table.path,
        header_line=table.header_line,
        encoding=table.encoding,
        delimiter=table.delimiter,
        columns={f: table.header[i] for f, i in mapping.items()},
        ignored_columns=ignored_columns(profile, kind, table.header, mapping),
    )
    for column, meant in result.ignored_columns.items():
        if meant:  # a misspelt optional column: its field silently takes its default
            result.notes.append(
                f"column {quote(column, 80)} is not read (did you mean {meant}? "
                f"--map '{clip(column, 80)}={meant}' reads it)"
            )
    locale = options.locale or profile.locale
    removed = Cleaned()  # control characters taken out of text cells as they are read
    rows: Iterator[tuple[int, list[Cell]]] = clean_rows(table.rows, removed)
    order = options.dates or profile.dates
    if order == "auto":
        sample = list(itertools.islice(rows, SAMPLE_ROWS))
        rows = itertools.chain(sample, rows)
        idx = [mapping[f] for f in DATE_FIELDS if f in mapping]
        try:
            guessed = guess_date_order_lines(
                (n, c[i]) for n, c in sample for i in idx if i < len(c)
            )
        except ValueError as exc:
            raise LedgerImportError(f"{table.path}: {exc}") from None
        order = guessed or default_order(locale)
    result.date_order = order
    as_of = options.as_of
    if as_of is None and "settled_on" in mapping:
        as_of = clock.now().date()
    ctx = Context(
        conn=conn,
        order=order,
        locale=locale,
        currency=options.currency,
        country=options.country,
        as_of=as_of,
        collectors={r[0]: r[1] for r in conn.execute("SELECT username, id FROM collectors")},
        may_assign=options.may_assign,
    )
    ctx.preload()
    # staging lives in a TEMP file, not in memory: a large file must not grow the process
    conn.execute("PRAGMA temp_store=FILE")
    conn.execute(
        "CREATE TEMP TABLE stage_refusals (line INTEGER, field TEXT, value TEXT, "
        "reason TEXT, warning INTEGER)"
    )
    conn.execute(
        {
            "customers": entities.CUSTOMER_STAGE,
            "contacts": entities.CONTACT_STAGE,
            "invoices": invoices.STAGE,
            "payments": payments.STAGE,
        }[kind]
    )
    snapshot = options.snapshot and kind == "invoices"
    if snapshot:
        conn.execute("CREATE TEMP TABLE stage_seen (number TEXT PRIMARY KEY) WITHOUT ROWID")
    create = (
        profile.create_customers if options.create_customers is None else options.create_customers
    )
    conn.execute("BEGIN")  # staging writes: one transaction, nothing touches the ledger
    try:
        staged = stage(
            conn, dataclasses.replace(table, rows=rows), profile, kind, mapping, ctx, result,
            snapshot=snapshot, create_customers=create, progress=progress, tally=removed,
        )  # fmt: skip
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    unknown_numbers = staged.unknown_numbers
    if removed.chars:
        result.cleaned = removed.chars
        result.notes.append(removed.note(table.where(removed.first_line), table.header))
    report_refusals(conn, table, result, on_refusal)
    if result.refused and not options.skip_invalid:
        result.notes.append("nothing was written: fix the refused rows, or use --skip-invalid")
        return result
    if result.refused:
        ref = mapping.get("customer_ref", len(table.header))  # a Xero group: no column
        column = (
            table.header[ref]
            if ref < len(table.header)
            else profile.kinds[kind].get("customer_ref", ("customer_ref",))[0]
        )
        result.rejects = write_rejects(
            conn, table, options.rejects, groups=staged.groups, customer_column=column
        )
    if snapshot and unknown_numbers:
        result.notes.append(
            f"--snapshot not applied: {unknown_numbers} refused rows have no invoice number, "
            "so the invoices they stand for cannot be told apart from missing ones"
        )
        snapshot = False
    if snapshot and not conn.execute("SELECT 1 FROM stage_seen LIMIT 1").fetchone():
        result.notes.append("--snapshot not applied: the file holds no invoice")
        snapshot = False
    try:
        _write(conn, clock, settings, table, options, result, ctx, snapshot, held)
    except _DryRun:
        result.written = False
        result.notes.append("dry run: these counts were computed and rolled back")
    return result


class _DryRun(Exception):
    """Raised inside the write transaction of a dry run, so that it rolls back."""


def _write(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    table: Table,
    options: ImportOptions,
    result: ImportResult,
    ctx: Context,
    snapshot: bool,
    held: HeldInterrupt,
) -> None:
    started = to_iso(clock.now())
    # the first load of a big file holds the lock for long: collectors waiting are told
    # who holds it (lockwait.py); a dry run writes nothing, not even that note
    named = nullcontext() if options.dry_run else announce(conn, "import", started)
    with named:
        pre = _bulk(conn, clock, table, options, ctx, held)
        try:
            affected = _merge(
                conn, clock, settings, table, options, result, ctx, snapshot, held, pre, started
            )
        except (_DryRun, KeyboardInterrupt):
            raise
        except Exception as exc:
            if not pre.transactions:
                raise
            # the new customers (and part of their invoices) are in: say so, never "nothing"
            raise LedgerImportError(
                f"{table.path}: the import stopped after writing {pre.customers_created} "
                f"new customers and {pre.invoices_created} of their invoices ({exc}): "
                "import the file again to complete it"
            ) from None
    result.written = True
    left, why = refresh_queue(conn, clock, settings, affected, held)
    if left:
        result.notes.append(
            f"the import is written, but the queue rows of {left} account(s) were not "
            f"refreshed ({why}): `dunning queue refresh` does it"
        )


def _bulk(
    conn: sqlite3.Connection,
    clock: Clock,
    table: Table,
    options: ImportOptions,
    ctx: Context,
    held: HeldInterrupt,
) -> bulk.Bulk:
    """A big file's new customers and their invoices, in short transactions (bulk.py)."""
    if options.dry_run:
        return bulk.Bulk()
    # a first load a crash stopped before its invoices' indexes were built: build them now
    built = bulk.build_deferred(conn, to_iso(clock.now()))
    rows = bulk.new_customer_rows(conn) if options.kind == "invoices" else 0
    if rows < bulk.MIN_ROWS:
        return bulk.Bulk(transactions=built)
    held.hold()  # from the first write on, the import completes whatever comes
    out = bulk.Bulk(transactions=built)
    try:
        bulk.apply_new_customers(
            conn, to_iso(clock.now()), country=ctx.country, new_rows=rows, out=out
        )
    except (sqlite3.Error, DatabaseError) as exc:
        if out.transactions == built:
            raise
        raise LedgerImportError(
            f"{table.path}: the import stopped after writing {out.customers_created} "
            f"new customers and {out.invoices_created} of their invoices ({exc}): "
            "import the file again to complete it"
        ) from None
    return out


def _merge(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    table: Table,
    options: ImportOptions,
    result: ImportResult,
    ctx: Context,
    snapshot: bool,
    held: HeldInterrupt,
    pre: bulk.Bulk,
    started: str,
) -> set[int]:
    """The import's one final transaction: everything that changes what was there.
    Returns the customers whose ledger changed, whose queue rows are yet to refresh.

    The comparison of a big file's invoices with the ledger's (``invoices.resolve``: the
    nightly unchanged extract's ~1,000,000 look-ups) is made before the lock is taken and
    kept when nobody committed in between (``PRAGMA data_version``, the nightly case);
    else it is made again under the lock, as it always was."""
    version = None
    if (
        options.kind == "invoices"
        and not conn.execute(
            "SELECT 1 FROM stage_invoices WHERE customer_id IS NULL LIMIT 1"
        ).fetchone()
    ):
        conn.execute("BEGIN")  # one read snapshot; TEMP writes only
        try:
            version = data_version(conn)
            invoices.resolve(conn, erp_closes=settings.disputes.erp_closes)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    with write_tx(conn):
        now = to_iso(clock.now())
        assign: dict[int, int] = {}
        if options.kind == "invoices":
            still = version is not None and data_version(conn) == version
            counts, affected = invoices.merge(
                conn, now, country=ctx.country, snapshot=snapshot, resolved=still,
                disputes="disputed" in result.columns,
                erp_closes=settings.disputes.erp_closes,
            )  # fmt: skip
            result.disputes_closed = counts["disputes_closed"]
            counts["created"] += pre.invoices_created
            affected.update(pre.customer_ids)
            result.customers_created = counts["customers_created"] + pre.customers_created
            result.payments = counts["payments"]
            result.closed = counts["closed"]
        elif options.kind == "payments":
            counts, affected, result.unapplied_minor = payments.apply(conn, now)
            result.payments = counts["rows"]
        elif options.kind == "customers":
            counts, affected, assign = entities.merge_customers(
                conn, now, country=ctx.country, collectors=ctx.collectors
            )
        else:
            counts, affected = entities.merge_contacts(conn, now)
        aging_snapshot.touch(conn, affected)  # their aging rows (db/aging_snapshot.py)
        result.created = counts["created"]
        result.updated = counts.get("updated", 0)
        result.unchanged = counts["unchanged"]
        # customers without a queue row (created elsewhere) get one too
        if options.kind in ("customers", "invoices"):
            affected.update(
                r[0]
                for r in conn.execute(
                    "SELECT id FROM customers c WHERE NOT EXISTS "
                    "(SELECT 1 FROM queue q WHERE q.customer_id = c.id)"
                )
            )
        search_index.sync(conn)  # names written above, folded for search
        if affected:
            result.promises_decided = evaluate_promises(conn, clock, settings, affected)
        if options.kind == "payments" or result.payments:
            # payments loaded: every promise whose grace has ended is decided now, also
            # those of customers the file does not name (they paid nothing: broken)
            result.promises_decided += evaluate_promises(conn, clock, settings)
        if assign and settings.routing.by_language:
            assign, result.not_routed = routing.servable_assignments(conn, assign)
        if assign:  # the owner is set on the queue row: that row must exist first
            first = affected.intersection(assign)
            if first:
                refresh_accounts(conn, clock, settings, first)
                affected.difference_update(first)
            result.assigned = entities.assign_collectors(
                conn, assign, now, by=options.assigned_by, reason=options.assign_reason
            )
        if result.created or result.updated or result.closed or result.assigned:
            conn.execute(
                """INSERT INTO import_runs (kind, file, profile, options, started_at,
                       finished_at, rows, created, updated, unchanged, closed, refused,
                       skipped) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)""",
                (
                    options.kind, str(table.path), options.profile,
                    json.dumps({
                        "as_of": options.as_of.isoformat() if options.as_of else None,
                        "snapshot": snapshot, "skip_invalid": options.skip_invalid,
                    }),
                    started, to_iso(clock.now()), result.rows, result.created,
                    result.updated, result.unchanged, result.closed, result.refused,
                    result.skipped,
                ),
            )  # fmt: skip
        if options.dry_run:
            raise _DryRun
        held.hold()  # a Ctrl-C from here on must not hide that the commit happened
    return affected
