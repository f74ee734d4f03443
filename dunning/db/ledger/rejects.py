"""Refused rows: reported in line order, and with ``--skip-invalid`` written to a
rejects file (the rows as they were, plus line and reason) for fixing and re-importing."""

from __future__ import annotations

import bisect
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dunning.db import csvsafe
from dunning.db.ledger.parse import text
from dunning.db.ledger.profiles import norm
from dunning.db.ledger.sources import Table, open_table
from dunning.db.outfile import text_output

if TYPE_CHECKING:
    from dunning.db.ledger.importer import ImportResult, OnRefusal


@dataclass
class Refusal:
    line: int
    column: str
    value: str
    reason: str
    warning: bool = False


def report_refusals(
    conn: sqlite3.Connection, table: Table, result: ImportResult, on_refusal: OnRefusal | None
) -> None:
    for line, fld, value, reason, warning in conn.execute(
        "SELECT line, field, value, reason, warning FROM stage_refusals ORDER BY line, rowid"
    ):
        if warning:
            result.warnings += 1
        else:
            result.refused += 1
        if on_refusal:
            column = result.columns.get(fld, fld)
            on_refusal(table.where(line), Refusal(line, column, value, reason, bool(warning)))


def rejects_path(source: Path, dest: Path | None) -> Path:
    return dest or source.with_name(source.stem + ".rejects.csv")


def check_rejects_dest(conn: sqlite3.Connection, source: Path, dest: Path | None) -> None:
    """LedgerImportError, before anything is read, when the rejects file would replace
    the live database (or its -wal/-shm/-journal) or the file being imported: the rename
    of a finished rejects file over them lost the whole ledger, or the ERP extract."""
    from dunning.db.backup import BackupError, live_path, refuse_live_parts
    from dunning.db.ledger.options import LedgerImportError
    from dunning.i18n import _

    target = rejects_path(source, dest)
    try:
        refuse_live_parts(target, live_path(conn))
    except BackupError as exc:
        raise LedgerImportError(f"--rejects {exc}") from None
    try:
        same = os.path.samefile(target, source)
    except OSError:
        same = False
    if same:
        raise LedgerImportError(
            _("--rejects {dest}: is the file being imported; choose another name").format(
                dest=target
            )
        )


def write_rejects(
    conn: sqlite3.Connection,
    table: Table,
    dest: Path | None,
    *,
    groups: list[tuple[int, str]] | None = None,
    customer_column: str = "customer_ref",
) -> Path:
    """The refused rows as they were, with line, column and reason, for fixing and
    re-importing. The source is read again, in step with the sorted refusals.

    ``groups``: (line, customer) of each heading row of a file that names the customer
    above its lines (Xero). A rejects file has no headings, so each row carries its
    customer: in its own column when it is blank there, else in an added
    ``customer_column`` (the profile's name for it), and the fixed file imports alone.
    """
    dest = rejects_path(table.path, dest)
    reasons = conn.execute(
        """SELECT line, group_concat(field || ': ' || reason, '; ') FROM stage_refusals
           WHERE warning = 0 GROUP BY line ORDER BY line"""
    )
    width = len(table.header)
    names = [norm(h) for h in table.header]
    own = names.index(norm(customer_column)) if norm(customer_column) in names else None
    header = list(table.header)
    if groups and own is None:
        header.append(customer_column)
    heads = [g[0] for g in groups or []]
    again = open_table(
        table.path,
        is_header=lambda names: names == table.header,
        encoding=table.encoding or None,
        delimiter=table.delimiter or None,
        sheet=table.sheet or None,
    )
    try:
        with text_output(dest) as fh:  # private (0600), written whole
            out = csvsafe.writer(fh)  # a cell a spreadsheet would run gets a '
            out.writerow(["_line", "_reason", *header])
            pending = next(reasons, None)
            for line, cells in again.rows:
                while pending is not None and pending[0] < line:
                    pending = next(reasons, None)
                if pending is None:
                    break
                if pending[0] != line:
                    continue
                row = [text(c) for c in cells]
                at = bisect.bisect_left(heads, line) - 1
                if groups and at >= 0:
                    customer = groups[at][1]
                    if own is None:
                        row = [*row[:width], *[""] * (width - len(row)), customer, *row[width:]]
                    elif own >= len(row) or not row[own]:
                        row = [*row, *[""] * (own + 1 - len(row))]
                        row[own] = customer
                out.writerow([line, pending[1], *row])
    finally:
        again.close()
    return dest
