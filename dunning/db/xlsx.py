"""The XLSX writer of reports (openpyxl, write-only: rows streamed, bounded memory).

- Money cells are numbers in major units with the currency's decimals and code in their
  number format (``#,##0.00 "EUR"``, ``#,##0 "JPY"``, ``#,##0.000 "KWD"``): rows of
  several currencies share a column, and each cell says which currency it holds.
- Text is always a text cell: a name that starts with ``=`` (or ``+ - @``, a tab or a
  carriage return) is shown as typed, never run as a formula. Characters a worksheet
  cannot hold (most control characters) become spaces.
- Dates are real date cells, except before 1900-03-01 where Excel has no date (ISO text).
- ``TOTAL`` and ``TEAM`` rows are bold; the header is bold and frozen.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from dunning.db.exports import Column, Line, Section
from dunning.db.outfile import partial_path
from dunning.money import minor_digits, to_major

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FIRST_EXCEL_DATE = date(1900, 3, 1)  # Excel's dates before it are off by a day, or none


def money_format(currency: str) -> str:
    """``#,##0.00 "EUR"``: grouped, the currency's decimals, then its code."""
    if not currency:
        return "#,##0"
    digits = minor_digits(currency)
    number = "#,##0" + ("." + "0" * digits if digits else "")
    return f'{number} "{currency}"'


def _major(minor: int, currency: str) -> Decimal:
    return to_major(minor, currency) if currency else Decimal(minor)


def write_xlsx(sections: list[Section], dest: Path, meta: dict[str, Any]) -> None:
    """One sheet per section, then an ``about`` sheet with ``meta``; written to a
    ``.partial`` and renamed into place (dunning/db/outfile.py)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    bold = Font(bold=True)

    def cell_of(ws: Any, value: Any) -> Any:
        if isinstance(value, str):
            text = ILLEGAL_CHARACTERS_RE.sub(" ", value)
            cell = WriteOnlyCell(ws, value=text)
            if text.startswith(FORMULA_START):
                cell.data_type = "s"  # a text cell, whatever it starts with
            return cell
        if isinstance(value, date) and value < FIRST_EXCEL_DATE:
            return WriteOnlyCell(ws, value=value.isoformat())
        cell = WriteOnlyCell(ws, value=value)
        if isinstance(value, date):
            cell.number_format = "yyyy-mm-dd"
        return cell

    def sheet(title: str, cols: list[Column], rows: list[Line] | Any) -> None:
        ws = wb.create_sheet(title=title[:31].replace("/", "-") or "report")
        ws.freeze_panes = "A2"
        header = []
        for c in cols:
            cell = cell_of(ws, c.name)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        cur_at = next((i for i, c in enumerate(cols) if c.name == "currency"), None)
        formats: dict[str, str] = {}
        for row in rows:
            currency = (row[cur_at] or "") if cur_at is not None else ""
            fmt = formats.get(currency)
            if fmt is None:
                fmt = formats[currency] = money_format(currency)
            total_row = row[0] in ("TOTAL", "TEAM")
            out = []
            for c, value in zip(cols, row, strict=True):
                if c.kind == "money" and value is not None:
                    cell = WriteOnlyCell(ws, value=_major(value, currency))
                    cell.number_format = fmt
                elif c.kind == "float" and value is not None:
                    cell = WriteOnlyCell(ws, value=value)
                    cell.number_format = "0.00"
                else:
                    cell = cell_of(ws, value)
                if total_row:
                    cell.font = bold
                out.append(cell)
            ws.append(out)

    for section in sections:
        sheet(section.name, section.cols, section.rows)
    info = wb.create_sheet(title="about")
    for k, v in meta.items():
        info.append([cell_of(info, k), cell_of(info, v)])
    with partial_path(dest) as tmp:
        wb.save(tmp)
