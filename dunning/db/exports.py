"""Writers for reports and exports: aligned text, CSV, XLSX and JSON.

Money is integer minor units in the database; each writer turns it into what its
reader expects: exact decimals in CSV and text ("1234.50"), typed numbers with the
currency's decimals in XLSX (finance sums them), minor units in JSON (``*_minor``).
Dates are ISO text in CSV/JSON and real date cells in XLSX.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from dunning.db.reports import BUCKETS, AgingReport, Metrics
from dunning.money import minor_digits, to_major

FORMATS = ("table", "csv", "xlsx", "json")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "text"  # text, money, int, float, date


Row = dict[str, Any]


def aging_table(report: AgingReport) -> tuple[list[Column], list[Row]]:
    key = "customer" if report.by == "customer" else "collector"
    cols = [Column(key)]
    if report.by == "customer":
        cols += [Column("name"), Column("collector")]
    else:
        cols += [Column("customers", "int")]
    cols += [Column("currency"), *(Column(b, "money") for b in BUCKETS)]
    cols += [Column("credits", "money"), Column("total", "money"), Column("disputed", "money")]
    rows: list[Row] = []
    for r in [*report.rows, *report.totals]:
        row: Row = {key: r.key, "name": r.name, "collector": r.collector,
                    "customers": r.customers, "currency": r.currency}  # fmt: skip
        row.update(zip(BUCKETS, r.buckets, strict=True))
        row.update(credits=r.credits, total=r.total, disputed=r.disputed)
        row[key] = r.key
        rows.append(row)
    return cols, rows


def metrics_table(rows: list[Metrics]) -> tuple[list[Column], list[Row]]:
    cols = [
        Column("collector"), Column("currency"), Column("credit_sales", "money"),
        Column("receivables_begin", "money"), Column("receivables_end", "money"),
        Column("current_end", "money"), Column("dso", "float"), Column("bpdso", "float"),
        Column("add", "float"), Column("cei", "float"), Column("collected", "money"),
        Column("promised", "money"), Column("promises_due", "int"),
        Column("promises_kept", "int"), Column("kept_rate", "float"),
        Column("attempts", "int"), Column("rpc", "int"), Column("rpc_rate", "float"),
        Column("contacts_per_hour", "float"),
    ]  # fmt: skip
    out = []
    for m in rows:
        out.append({
            "collector": m.collector, "currency": m.currency,
            "credit_sales": m.credit_sales, "receivables_begin": m.receivables_begin,
            "receivables_end": m.receivables_end, "current_end": m.current_end,
            "dso": m.dso, "bpdso": m.bpdso, "add": m.add_days, "cei": m.cei,
            "collected": m.collected, "promised": m.promised,
            "promises_due": m.promises_due, "promises_kept": m.promises_kept,
            "kept_rate": m.kept_rate, "attempts": m.attempts, "rpc": m.rpc,
            "rpc_rate": m.rpc_rate, "contacts_per_hour": m.contacts_per_hour,
        })  # fmt: skip
    return cols, out


def _major(minor: int, currency: str) -> Decimal:
    return to_major(minor, currency) if currency else Decimal(minor)


def _text(value: Any, col: Column, currency: str, grouped: bool) -> str:
    if value is None:
        return ""
    if col.kind == "money":
        digits = minor_digits(currency) if currency else 0
        return f"{_major(value, currency):{',' if grouped else ''}.{digits}f}"
    if col.kind == "float":
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def write(
    cols: list[Column],
    rows: Iterable[Row],
    fmt: str,
    dest: Path | None,
    *,
    title: str = "",
    meta: dict[str, Any] | None = None,
) -> None:
    """Write a report; ``dest`` None means standard output (not for xlsx)."""
    if fmt == "xlsx":
        if dest is None:
            raise ValueError("--format xlsx needs -o FILE")
        _xlsx(cols, rows, dest, title, meta or {})
        return
    with _open(dest) as fh:
        if fmt == "csv":
            out = csv.writer(fh)
            out.writerow([c.name for c in cols])
            for row in rows:
                out.writerow([_text(row.get(c.name), c, row.get("currency", ""), False)
                              for c in cols])  # fmt: skip
        elif fmt == "json":
            doc = {**(meta or {}), "rows": [_json_row(cols, r) for r in rows]}
            json.dump(doc, fh, indent=1, default=str)
            fh.write("\n")
        elif fmt == "table":
            _table(cols, list(rows), fh, title)
        else:
            raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")


class _open:
    def __init__(self, dest: Path | None) -> None:
        self.dest = dest
        self.fh: IO[str] | None = None

    def __enter__(self) -> IO[str]:
        if self.dest is None:
            return sys.stdout
        self.fh = self.dest.open("w", newline="", encoding="utf-8")
        return self.fh

    def __exit__(self, *exc: object) -> None:
        if self.fh:
            self.fh.close()


def _json_row(cols: list[Column], row: Row) -> Row:
    out: Row = {}
    for c in cols:
        value = row.get(c.name)
        out[f"{c.name}_minor" if c.kind == "money" else c.name] = value
    return out


def _table(cols: list[Column], rows: list[Row], fh: IO[str], title: str) -> None:
    cells = [[c.name for c in cols]]
    for row in rows:
        cells.append([_text(row.get(c.name), c, row.get("currency", ""), True) for c in cols])
    widths = [max(len(r[i]) for r in cells) for i in range(len(cols))]
    right = [c.kind in ("money", "int", "float") for c in cols]
    if title:
        fh.write(title + "\n")
    for n, r in enumerate(cells):
        line = "  ".join(
            v.rjust(w) if ra else v.ljust(w) for v, w, ra in zip(r, widths, right, strict=True)
        )
        fh.write(line.rstrip() + "\n")
        if n == 0:
            fh.write("  ".join("-" * w for w in widths) + "\n")


def _xlsx(cols: list[Column], rows: Iterable[Row], dest: Path, title: str,
          meta: dict[str, Any]) -> None:  # fmt: skip
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=(title or "report")[:31].replace("/", "-"))
    bold = Font(bold=True)
    ws.freeze_panes = "A2"
    header = []
    for c in cols:
        cell = WriteOnlyCell(ws, value=c.name)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    formats: dict[str, str] = {}
    for row in rows:
        out = []
        currency = row.get("currency", "")
        for c in cols:
            value = row.get(c.name)
            if c.kind == "money" and value is not None:
                digits = minor_digits(currency) if currency else 0
                fmt = formats.setdefault(currency, "#,##0" + ("." + "0" * digits if digits else ""))
                cell = WriteOnlyCell(ws, value=_major(value, currency))
                cell.number_format = fmt
            elif isinstance(value, date):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = "yyyy-mm-dd"
            elif c.kind == "float" and value is not None:
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = "0.00"
            else:
                cell = WriteOnlyCell(ws, value=value)
            if row.get(cols[0].name) in ("TOTAL", "TEAM"):
                cell.font = bold
            out.append(cell)
        ws.append(out)
    info = wb.create_sheet(title="about")
    for k, v in meta.items():
        cell = WriteOnlyCell(info, value=v)
        if isinstance(v, date):
            cell.number_format = "yyyy-mm-dd"
        info.append([k, cell])
    tmp = dest.with_name(dest.name + ".partial")
    wb.save(tmp)
    tmp.replace(dest)


# --- activities (audit) ------------------------------------------------------------------

ACTIVITY_COLUMNS = (
    "id", "at", "customer_ref", "customer_name", "collector", "outcome", "attempt",
    "contact", "rpc", "worked", "phone", "note", "next_action", "next_action_at", "details",
)  # fmt: skip
ACTIVITIES_SQL = """
SELECT a.id, a.at, c.external_ref, c.name, co.username, a.outcome, a.attempt, a.contact,
       a.rpc, a.worked, p.e164, a.note, a.next_action, a.next_action_at, a.details
FROM activities a JOIN customers c ON c.id = a.customer_id
LEFT JOIN collectors co ON co.id = a.collector_id
LEFT JOIN phones p ON p.id = a.phone_id
WHERE a.at >= ? AND a.at < ? {extra}
ORDER BY a.at, a.id
"""


def activities(
    conn: sqlite3.Connection,
    start: date | None = None,
    end: date | None = None,
    collector: str | None = None,
) -> Iterator[Row]:
    """Every activity in [start, end] (dates, inclusive), oldest first, streamed."""
    lo = f"{start.isoformat()}T00:00:00Z" if start else ""
    hi = f"{(end + timedelta(days=1)).isoformat()}T00:00:00Z" if end else "~"
    extra, params = "", [lo, hi]
    if collector:
        extra, params = "AND co.username = ?", [*params, collector]
    for r in conn.execute(ACTIVITIES_SQL.format(extra=extra), params):
        row = dict(zip(ACTIVITY_COLUMNS, tuple(r), strict=True))
        if row["details"]:
            with contextlib.suppress(ValueError):
                row["details"] = json.loads(row["details"])
        yield row


def write_activities(rows: Iterable[Row], fmt: str, dest: Path | None) -> int:
    """CSV or JSON lines, one activity a line; returns how many were written."""
    n = 0
    with _open(dest) as fh:
        if fmt == "csv":
            out = csv.writer(fh)
            out.writerow(ACTIVITY_COLUMNS)
            for row in rows:
                d = row["details"]
                row = {**row, "details": json.dumps(d) if isinstance(d, dict | list) else d}
                out.writerow(["" if row[k] is None else row[k] for k in ACTIVITY_COLUMNS])
                n += 1
        elif fmt in ("jsonl", "json"):
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
                n += 1
        else:
            raise ValueError(f"unknown format {fmt!r}; csv or jsonl")
    return n


def to_string(cols: list[Column], rows: Iterable[Row], fmt: str = "table") -> str:
    buf = io.StringIO()
    if fmt == "csv":
        out = csv.writer(buf)
        out.writerow([c.name for c in cols])
        for row in rows:
            out.writerow([_text(row.get(c.name), c, row.get("currency", ""), False)
                          for c in cols])  # fmt: skip
    else:
        _table(cols, list(rows), buf, "")
    return buf.getvalue()
