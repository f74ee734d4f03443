"""The file's rows -> TEMP staging tables and refusals: the per-row loop of an import.

Blank rows and a profile's title, section and total rows are ignored; a contact heading
its group of lines (Xero) is carried onto them; a row with more cells than the header
(an unquoted separator inside a value) is refused whole; every other row goes through
the kind's parser (rows.py). Then the cross-row checks run in SQL. Nothing here touches
the ledger.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dunning.bounds import QUOTE_CHARS, clip
from dunning.db.connection import sort_cache
from dunning.db.ledger import entities, invoices, payments
from dunning.db.ledger.cleaning import Cleaned
from dunning.db.ledger.parse import Cell, is_blank, text
from dunning.db.ledger.profiles import Profile
from dunning.db.ledger.rows import (
    SKIP,
    Context,
    RowError,
    contact_parser,
    customer_parser,
    invoice_parser,
    payment_parser,
)
from dunning.db.ledger.sources import Table

if TYPE_CHECKING:
    from dunning.db.ledger.importer import ImportResult, Progress

BATCH = 5000
WIDE = "(row)"  # the field named by a refusal of a row wider than the header


@dataclass
class Staged:
    unknown_numbers: int = 0  # refused rows without a readable invoice number
    refused_numbers: list[str] = field(default_factory=list)  # and those with one
    groups: list[tuple[int, str]] = field(default_factory=list)  # (line, contact) headings


def refuser(conn: sqlite3.Connection) -> Callable[..., None]:
    def refuse(line: int, fld: str, value: str, reason: str, warning: bool = False) -> None:
        # what a refusal quotes is cut (a 15 MB row is never echoed whole); the rejects
        # file reads the row itself again from the source
        conn.execute(
            "INSERT INTO stage_refusals VALUES (?,?,?,?,?)",
            (line, clip(fld, 80), clip(value), clip(reason, 2 * QUOTE_CHARS), int(warning)),
        )

    return refuse


def is_total(label: str, group: str) -> bool:
    """A Xero total row: 'Total', or 'Total <the contact just seen>' ('Total Fitness Ltd'
    heading a group of its own is a contact, not a total)."""
    words = label.casefold().split()
    if words == ["total"]:
        return True
    rest = " ".join(words[2:] if words[1:2] == ["for"] else words[1:])
    return bool(group) and words[:1] == ["total"] and rest == " ".join(group.casefold().split())


class Sink:
    """Where the loop's staged rows and refusals go: the writer's TEMP tables here, or the
    pipe to the writer when a reader process runs the loop (staging_beside.py)."""

    def __init__(self, conn: sqlite3.Connection, insert_sql: str) -> None:
        self.insert_sql = insert_sql
        self.refuse = refuser(conn)
        self._conn = conn

    def rows(self, batch: list[tuple[object, ...]]) -> None:
        self._conn.executemany(self.insert_sql, batch)

    def refused(self, rows: list[tuple[object, ...]]) -> None:
        """Refusals already clipped (a reader process's)."""
        self._conn.executemany("INSERT INTO stage_refusals VALUES (?,?,?,?,?)", rows)


def stage(
    conn: sqlite3.Connection,
    table: Table,
    profile: Profile,
    kind: str,
    mapping: dict[str, int],
    ctx: Context,
    result: ImportResult,
    *,
    snapshot: bool,
    create_customers: bool,
    progress: Progress | None,
    tally: Cleaned | None = None,
) -> Staged:
    """Stage every row of ``table`` (inside the caller's transaction on TEMP tables).
    ``tally``: what the cleaning of the rows counts (a reader process sends its own back)."""
    from dunning.db.ledger import staging_beside

    parser, insert_sql = {
        "customers": (customer_parser, entities.CUSTOMER_INSERT),
        "contacts": (contact_parser, entities.CONTACT_INSERT),
        "invoices": (invoice_parser, invoices.INSERT),
        "payments": (payment_parser, payments.INSERT),
    }[kind]
    width = len(table.header)
    virtual_ref = profile.group_customer and "customer_ref" not in mapping
    if virtual_ref:
        mapping["customer_ref"] = width
        mapping.setdefault("customer_name", width)
    parse = parser(mapping, ctx)
    sink = Sink(conn, insert_sql)

    def loop(sink: Sink, progress: Progress | None) -> Staged:
        return _loop(sink, table, profile, kind, mapping, ctx, result, parse,
                     virtual_ref=virtual_ref, snapshot=snapshot, progress=progress)  # fmt: skip

    if staging_beside.wanted(kind, ctx, table):
        out = staging_beside.run(loop, sink, result, tally, progress)
    else:
        out = loop(sink, progress)
    refuse = sink.refuse
    with sort_cache(conn):  # the cross-row checks sort every staged row (db.connection)
        if kind == "invoices":
            if profile.split_by_due:
                invoices.split_instalments(conn)
            if snapshot:
                invoices.mark_seen(conn, out.refused_numbers, split=profile.split_by_due)
            invoices.refusable(conn, refuse, create_customers=create_customers)
        elif kind == "payments":
            payments.refusable(conn, refuse)
        elif kind == "customers":
            entities.refusable_customers(conn, refuse)
        else:
            entities.refusable_contacts(conn, refuse)
    return out


def _loop(
    sink: Sink,
    table: Table,
    profile: Profile,
    kind: str,
    mapping: dict[str, int],
    ctx: Context,
    result: ImportResult,
    parse: Callable[[int, list[Cell]], object],
    *,
    virtual_ref: bool,
    snapshot: bool,
    progress: Progress | None,
) -> Staged:
    """The per-row loop: every row parsed, staged rows and refusals to ``sink``."""
    keyer = payments.Keyer() if kind == "payments" else None
    refuse = sink.refuse
    out = Staged()
    batch: list[tuple[object, ...]] = []
    group_customer = ""
    width = len(table.header)
    delimiter = table.delimiter or ","
    skip_idx = [mapping[f] for f in profile.skip_unless if f in mapping]
    ref_idx = mapping.get("customer_ref")
    num_idx = mapping.get("number")

    def raw_number(cells: list[Cell]) -> str:
        return text(cells[num_idx]) if num_idx is not None and num_idx < len(cells) else ""

    for line, cells in table.rows:
        if not any(cells):  # blank rows (also trailing ones); spaces-only: see below
            result.ignored += 1
            continue
        if skip_idx and all(i >= len(cells) or is_blank(cells[i]) for i in skip_idx):
            filled = [text(c) for c in cells if not is_blank(c)]
            if (
                profile.group_customer
                and len(filled) == 1
                and not is_total(filled[0], group_customer)
            ):
                group_customer = filled[0]
                out.groups.append((line, group_customer))
            result.ignored += 1
            continue
        if len(cells) > width and not all(is_blank(c) for c in cells[width:]):
            result.rows += 1  # an unquoted separator inside a value shifted the cells
            n = len(cells)
            while is_blank(cells[n - 1]):
                n -= 1
            refuse(line, WIDE, delimiter.join(text(c) for c in cells),
                   f"{n} fields, the header has {width} (a separator inside an "
                   "unquoted value? quote it)")  # fmt: skip
            out.unknown_numbers += 1  # which invoice it stands for is not known
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
        try:
            staged = parse(line, cells)
        except RowError as exc:
            if all(is_blank(c) for c in cells):
                result.rows -= 1
                result.ignored += 1
                continue
            if snapshot:
                number = raw_number(cells)
                if number:
                    out.refused_numbers.append(number)
                else:
                    out.unknown_numbers += 1
            refuse(line, exc.field, exc.value, exc.reason)
        else:
            if staged is SKIP:
                result.skipped += 1
                if snapshot and raw_number(cells):
                    out.refused_numbers.append(raw_number(cells))
            elif isinstance(staged, tuple):
                batch.append(keyer(staged) if keyer else staged)
        if ctx.warnings:
            for wline, warn in ctx.warnings:
                refuse(wline, warn.field, warn.value, warn.reason, True)
            ctx.warnings.clear()
        if len(batch) >= BATCH:
            sink.rows(batch)
            batch = []
            if progress:
                progress(table.position(), table.total)
    if batch:
        sink.rows(batch)
    if progress:
        progress(table.total, table.total)
    return out
