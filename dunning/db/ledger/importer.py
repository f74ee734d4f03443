"""``import_file``: one file of one kind into the ledger, all or nothing.

Reading, parsing and checking happen before the write lock is taken: rows go to TEMP
staging tables (on disk, so memory stays flat whatever the file's size), refusals to
another. Only when nothing is refused (or ``skip_invalid``) is the ledger changed, in
one ``BEGIN IMMEDIATE`` transaction that also decides promises and refreshes the queue
rows of the customers whose ledger changed. An unchanged file changes nothing.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from dunning.clock import Clock, to_iso
from dunning.db.connection import write_tx
from dunning.db.ledger import entities, invoices, payments
from dunning.db.ledger.parse import Cell, default_order, guess_date_order, is_blank, text
from dunning.db.ledger.profiles import (
    KINDS,
    PROFILES,
    MappingError,
    header_matcher,
    resolve,
)
from dunning.db.ledger.rejects import Refusal, report_refusals, write_rejects
from dunning.db.ledger.rows import (
    SKIP,
    Context,
    RowError,
    contact_parser,
    customer_parser,
    invoice_parser,
    payment_parser,
)
from dunning.db.ledger.sources import SourceError, Table, open_table
from dunning.queue.accounts import refresh_accounts
from dunning.queue.config import Settings
from dunning.queue.promises import evaluate_promises

BATCH = 5000
SAMPLE_ROWS = 2000
DATE_FIELDS = ("issue_date", "due_date", "settled_on", "paid_on")


class LedgerImportError(Exception):
    """The file cannot be imported at all (unreadable, no header, unknown profile)."""


@dataclass
class ImportOptions:
    kind: str
    profile: str = "generic"
    mapping: dict[str, str] = field(default_factory=dict)  # column -> field
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    dates: str | None = None  # auto, ymd, mdy, dmy (None: the profile's)
    locale: str | None = None  # None: the profile's
    snapshot: bool = False
    skip_invalid: bool = False
    rejects: Path | None = None
    as_of: date | None = None
    country: str = "US"
    currency: str = "USD"
    create_customers: bool | None = None  # None: the profile's
    dry_run: bool = False


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
    assigned: int = 0
    written: bool = False
    rejects: Path | None = None
    header_line: int = 0
    encoding: str = ""
    delimiter: str = ""
    date_order: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # field -> column
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
    if options.kind not in KINDS:
        raise LedgerImportError(f"unknown kind {options.kind!r}; one of {', '.join(KINDS)}")
    profile = PROFILES.get(options.profile)
    if profile is None:
        raise LedgerImportError(
            f"unknown profile {options.profile!r}; one of {', '.join(PROFILES)}"
        )
    if options.kind not in profile.kinds:
        raise LedgerImportError(
            f"profile {profile.name!r} reads {', '.join(profile.kinds)} files, not {options.kind}"
        )
    path = Path(path)
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
    try:
        return _run(conn, clock, settings, table, options, progress, on_refusal)
    except SourceError as exc:
        raise LedgerImportError(str(exc)) from None
    finally:
        table.close()
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        for name in ("stage_invoices", "stage_payments", "stage_customers",
                     "stage_contacts", "stage_refusals", "stage_seen", "resolved"):  # fmt: skip
            conn.execute(f"DROP TABLE IF EXISTS temp.{name}")
        conn.execute("PRAGMA temp_store=MEMORY")  # as dunning.db.connection sets it


def _run(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    table: Table,
    options: ImportOptions,
    progress: Progress | None,
    on_refusal: OnRefusal | None,
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
    )
    locale = options.locale or profile.locale
    rows: Iterator[tuple[int, list[Cell]]] = table.rows
    order = options.dates or profile.dates
    if order == "auto":
        sample = list(itertools.islice(rows, SAMPLE_ROWS))
        rows = itertools.chain(sample, rows)
        idx = [mapping[f] for f in DATE_FIELDS if f in mapping]
        try:
            guessed = guess_date_order(c[i] for _, c in sample for i in idx if i < len(c))
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
        currency=options.currency.upper(),
        country=options.country.upper(),
        as_of=as_of,
        collectors={r[0]: r[1] for r in conn.execute("SELECT username, id FROM collectors")},
    )
    # staging lives in a TEMP file, not in memory: a large file must not grow the process
    conn.execute("PRAGMA temp_store=FILE")
    conn.execute(
        "CREATE TEMP TABLE stage_refusals (line INTEGER, field TEXT, value TEXT, "
        "reason TEXT, warning INTEGER)"
    )
    parser, stage_sql, insert_sql = {
        "customers": (customer_parser, entities.CUSTOMER_STAGE, entities.CUSTOMER_INSERT),
        "contacts": (contact_parser, entities.CONTACT_STAGE, entities.CONTACT_INSERT),
        "invoices": (invoice_parser, invoices.STAGE, invoices.INSERT),
        "payments": (payment_parser, payments.STAGE, payments.INSERT),
    }[kind]
    conn.execute(stage_sql)
    snapshot = options.snapshot and kind == "invoices"
    if snapshot:
        conn.execute("CREATE TEMP TABLE stage_seen (number TEXT PRIMARY KEY) WITHOUT ROWID")
    keyer = payments.Keyer() if kind == "payments" else None
    unknown_numbers = 0

    def refuse(line: int, fld: str, value: str, reason: str, warning: bool = False) -> None:
        conn.execute(
            "INSERT INTO stage_refusals VALUES (?,?,?,?,?)",
            (line, fld, value, reason, int(warning)),
        )

    batch: list[tuple[object, ...]] = []
    seen: list[tuple[str]] = []
    group_customer = ""
    width = len(table.header)
    virtual_ref = profile.group_customer and "customer_ref" not in mapping
    if virtual_ref:
        mapping["customer_ref"] = width
        mapping.setdefault("customer_name", width)
    skip_idx = [mapping[f] for f in profile.skip_unless if f in mapping]
    ref_idx = mapping.get("customer_ref")
    num_idx = mapping.get("number")
    parse = parser(mapping, ctx)
    conn.execute("BEGIN")  # staging writes: one transaction, nothing touches the ledger
    try:
        for line, cells in rows:
            if not any(cells):  # blank rows (also trailing ones); spaces-only: see below
                result.ignored += 1
                continue
            if skip_idx and all(i >= len(cells) or is_blank(cells[i]) for i in skip_idx):
                filled = [text(c) for c in cells if not is_blank(c)]
                if (
                    profile.group_customer
                    and len(filled) == 1
                    and not filled[0].lower().startswith("total")
                ):
                    group_customer = filled[0]
                result.ignored += 1
                continue
            if virtual_ref:  # the customer heads its group of lines (Xero)
                cells = [*cells[:width], *[None] * (width - len(cells)), group_customer]
            elif (
                profile.group_customer
                and ref_idx is not None
                and group_customer
                and (ref_idx >= len(cells) or is_blank(cells[ref_idx]))
            ):
                cells = [*cells, *[None] * (ref_idx + 1 - len(cells))]
                cells[ref_idx] = group_customer
            result.rows += 1
            if snapshot:
                number = (
                    text(cells[num_idx]) if num_idx is not None and num_idx < len(cells) else ""
                )
                if number:
                    seen.append((number,))
            try:
                staged = parse(line, cells)
            except RowError as exc:
                if all(is_blank(c) for c in cells):
                    result.rows -= 1
                    result.ignored += 1
                    continue
                if snapshot and not (
                    num_idx is not None and num_idx < len(cells) and text(cells[num_idx])
                ):
                    unknown_numbers += 1
                refuse(line, exc.field, exc.value, exc.reason)
            else:
                if staged is SKIP:
                    result.skipped += 1
                elif isinstance(staged, tuple):
                    batch.append(keyer(staged) if keyer else staged)
            for wline, warn in ctx.warnings:
                refuse(wline, warn.field, warn.value, warn.reason, True)
            ctx.warnings.clear()
            if len(batch) >= BATCH:
                conn.executemany(insert_sql, batch)
                batch.clear()
                if seen:
                    conn.executemany("INSERT OR IGNORE INTO stage_seen VALUES (?)", seen)
                    seen.clear()
                if progress:
                    progress(table.position(), table.total)
        if batch:
            conn.executemany(insert_sql, batch)
        if seen:
            conn.executemany("INSERT OR IGNORE INTO stage_seen VALUES (?)", seen)
        if progress:
            progress(table.total, table.total)
        create = (
            profile.create_customers
            if options.create_customers is None
            else options.create_customers
        )
        if kind == "invoices":
            invoices.refusable(conn, refuse, create_customers=create)
        elif kind == "payments":
            payments.refusable(conn, refuse)
        elif kind == "customers":
            entities.refusable_customers(conn, refuse)
        else:
            entities.refusable_contacts(conn, refuse)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    report_refusals(conn, table, result, on_refusal)
    if result.refused and not options.skip_invalid:
        result.notes.append("nothing was written: fix the refused rows, or use --skip-invalid")
        return result
    if result.refused:
        result.rejects = write_rejects(conn, table, options.rejects)
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
        _write(conn, clock, settings, table, options, result, ctx, snapshot)
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
) -> None:
    started = to_iso(clock.now())
    with write_tx(conn):
        now = to_iso(clock.now())
        assign: dict[int, int] = {}
        if options.kind == "invoices":
            counts, affected = invoices.merge(conn, now, country=ctx.country, snapshot=snapshot)
            result.customers_created = counts["customers_created"]
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
        if affected:
            result.promises_decided = evaluate_promises(conn, clock, settings, affected)
            refresh_accounts(conn, clock, settings, affected)
        if assign:
            result.assigned = entities.assign_collectors(conn, assign, now)
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
    result.written = True
