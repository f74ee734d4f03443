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
from itertools import repeat
from operator import truediv
from pathlib import Path
from typing import IO, Any

from dunning.db.reports import BUCKETS, AgingReport, Metrics
from dunning.money import minor_digits, to_major

FORMATS = ("table", "csv", "xlsx", "json")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "text"  # text, money, int, float, date


Row = dict[str, Any]  # an activity
Line = list[Any]  # a report row, aligned with its columns


def aging_table(report: AgingReport) -> tuple[list[Column], list[Line]]:
    """Columns and rows of an aging report (rows are lists, aligned with the columns)."""
    by_customer = report.by == "customer"
    cols = [Column("customer")] if by_customer else [Column("collector")]
    cols += [Column("name"), Column("collector")] if by_customer else [Column("customers", "int")]
    cols += [Column("currency"), *(Column(b, "money") for b in BUCKETS)]
    cols += [Column("credits", "money"), Column("total", "money"), Column("disputed", "money")]
    rows: list[Line] = []
    for r in [*report.rows, *report.totals]:
        head = [r.key, r.name, r.collector] if by_customer else [r.key, r.customers]
        rows.append([*head, r.currency, *r.buckets, r.credits, r.total, r.disputed])
    return cols, rows


def metrics_table(rows: list[Metrics]) -> tuple[list[Column], list[Line]]:
    spec = [
        ("collector", "text"), ("currency", "text"), ("credit_sales", "money"),
        ("receivables_begin", "money"), ("receivables_end", "money"),
        ("current_end", "money"), ("dso", "float"), ("bpdso", "float"),
        ("add_days", "float"), ("cei", "float"), ("collected", "money"),
        ("promised", "money"), ("promises_due", "int"), ("promises_kept", "int"),
        ("kept_rate", "float"), ("attempts", "int"), ("rpc", "int"), ("rpc_rate", "float"),
        ("contacts_per_hour", "float"),
    ]  # fmt: skip
    cols = [Column("add" if name == "add_days" else name, kind) for name, kind in spec]
    return cols, [[getattr(m, name) for name, _ in spec] for m in rows]


def _major(minor: int, currency: str) -> Decimal:
    return to_major(minor, currency) if currency else Decimal(minor)


def _texts(cols: list[Column], rows: Iterable[Line], grouped: bool) -> Iterator[list[str]]:
    """Each row as text: money exact to the minor unit, floats to 2 decimals."""
    kinds = [c.kind for c in cols]
    cur_at = next((i for i, c in enumerate(cols) if c.name == "currency"), None)
    group = "," if grouped else ""
    scales: dict[str, tuple[int, int]] = {}
    first_money = kinds.index("money") if "money" in kinds else len(kinds)
    if (
        not grouped
        and cur_at is not None
        and all(k == "money" for k in kinds[first_money:])
        and all(k in ("text", "int") for k in kinds[:first_money])
    ):
        yield from _csv_money_tail(rows, cur_at, first_money)  # the aging's shape, fast
        return
    for row in rows:
        currency = row[cur_at] if cur_at is not None else ""
        scale = scales.get(currency)
        if scale is None:
            digits = minor_digits(currency) if currency else 0
            scale = scales[currency] = (10**digits, digits)
        out = []
        for kind, value in zip(kinds, row, strict=True):
            if value is None:
                out.append("")
            elif kind == "money":  # integer arithmetic: exact, and faster than Decimal
                whole, frac = divmod(-value if value < 0 else value, scale[0])
                sign = "-" if value < 0 else ""
                if scale[1]:
                    out.append(f"{sign}{whole:{group}}.{frac:0{scale[1]}d}")
                else:
                    out.append(f"{sign}{whole:{group}}")
            elif kind == "float":
                out.append(f"{value:.2f}")
            elif isinstance(value, date):
                out.append(value.isoformat())
            else:
                out.append(str(value))
        yield out


def _csv_money_tail(rows: Iterable[Line], cur_at: int, start: int) -> Iterator[list[Any]]:
    """Rows whose columns from ``start`` on are all money: about twice as fast, which
    matters for a 250,000-customer aging written as CSV."""
    scales: dict[str, tuple[int, int]] = {}
    for row in rows:
        currency = row[cur_at]
        scale = scales.get(currency)
        if scale is None:
            digits = minor_digits(currency) if currency else 0
            scale = scales[currency] = (10**digits, digits)
        unit, digits = scale
        out = ["" if v is None else v for v in row[:start]]
        for v in row[start:]:
            if v is None:
                out.append("")
                continue
            whole, frac = divmod(-v if v < 0 else v, unit)
            if digits:
                out.append(f"-{whole}.{frac:0{digits}d}" if v < 0 else f"{whole}.{frac:0{digits}d}")
            else:
                out.append(f"-{whole}" if v < 0 else f"{whole}")
        yield out


# |minor| below 2**52: minor / 10**digits (one correctly rounded division) is within
# 2**-53 of its exact value relative, less than half a unit of the last digit, so
# "%.{digits}f" prints exactly the digits the integer arithmetic above would.
_FLOAT_EXACT = 2**52
_CSV_SPECIAL = ('"', "\r", "\n")  # with "," what makes csv.writer quote a field


def _csv(cols: list[Column], rows: Iterable[Line], fh: IO[str]) -> None:
    """CSV exactly as ``csv.writer`` over ``_texts`` writes it; the aging's shape (text
    head, money tail) built as lines by C-level formatting and written in one go:
    about three times as fast on a million-customer aging."""
    out = csv.writer(fh)
    out.writerow([c.name for c in cols])
    kinds = [c.kind for c in cols]
    cur_at = next((i for i, c in enumerate(cols) if c.name == "currency"), None)
    start = kinds.index("money") if "money" in kinds else len(kinds)
    if (
        cur_at is None
        or start == len(kinds)
        or cur_at >= start
        or any(k != "money" for k in kinds[start:])
        or any(k not in ("text", "int") for k in kinds[:start])
    ):
        out.writerows(_texts(cols, rows, False))
        return
    fh.write(_csv_money_tail_text(rows, cur_at, start, len(kinds)))


def _csv_money_tail_text(rows: Iterable[Line], cur_at: int, start: int, width: int) -> str:
    """The CSV lines of rows whose columns from ``start`` on are all money (integer
    minor units): one ``"%.2f,..." % (minor / 100, ...)`` per row when that is exact,
    else (None, an amount of 2**52 or more, a field to quote) as csv.writer writes it."""
    rows = rows if isinstance(rows, list) else list(rows)
    head_fmt = ",".join(["%s"] * start) + ","
    tails: dict[str, tuple[str, repeat[int]]] = {}
    heads: list[str | None] = []  # None: a row written the exact, slow way
    lines: list[str] = []
    for row in rows:
        currency = row[cur_at]
        tail = tails.get(currency)
        if tail is None:
            digits = minor_digits(currency) if currency else 0
            tail = (",".join([f"%.{digits}f"] * (width - start)) + "\r\n", repeat(10**digits))
            tails[currency] = tail
        money = row[start:]
        try:
            fast = min(money) > -_FLOAT_EXACT and max(money) < _FLOAT_EXACT
        except TypeError:  # None among them
            fast = False
        if fast:
            head = row[:start]
            if None in head:
                head = ["" if v is None else v for v in head]
            text = head_fmt % tuple(head)
            heads.append(text)
            lines.append(text + tail[0] % tuple(map(truediv, money, tail[1])))
        else:
            heads.append(None)
            lines.append(_csv_line(row, cur_at, start))
    fast_heads = [h for h in heads if h is not None]
    joined = "".join(fast_heads)
    if joined.count(",") != start * len(fast_heads) or any(c in joined for c in _CSV_SPECIAL):
        for i, h in enumerate(heads):  # some text has a comma, quote or line break
            if h is not None and (h.count(",") != start or any(c in h for c in _CSV_SPECIAL)):
                lines[i] = _csv_line(rows[i], cur_at, start)
    return "".join(lines)


def _csv_line(row: Line, cur_at: int, start: int) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerow(next(_csv_money_tail([row], cur_at, start)))
    return buf.getvalue()


def write(
    cols: list[Column],
    rows: Iterable[Line],
    fmt: str,
    dest: Path | None,
    *,
    title: str = "",
    meta: dict[str, Any] | None = None,
) -> None:
    """Write a report; ``dest`` None means standard output (not for xlsx)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    if fmt == "xlsx":
        if dest is None:
            raise ValueError("--format xlsx needs -o FILE")
        _xlsx(cols, rows, dest, title, meta or {})
        return
    with _open(dest) as fh:
        if fmt == "csv":
            _csv(cols, rows, fh)
        elif fmt == "json":
            keys = [f"{c.name}_minor" if c.kind == "money" else c.name for c in cols]
            doc = {**(meta or {}), "rows": [dict(zip(keys, r, strict=True)) for r in rows]}
            json.dump(doc, fh, indent=1, default=str)
            fh.write("\n")
        else:
            _table(cols, rows, fh, title)


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


def _table(cols: list[Column], rows: Iterable[Line], fh: IO[str], title: str) -> None:
    cells = [[c.name for c in cols], *_texts(cols, rows, True)]
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


def _xlsx(cols: list[Column], rows: Iterable[Line], dest: Path, title: str,
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
    cur_at = next((i for i, c in enumerate(cols) if c.name == "currency"), None)
    for row in rows:
        currency = row[cur_at] if cur_at is not None else ""
        digits = minor_digits(currency) if currency else 0
        money_format = "#,##0" + ("." + "0" * digits if digits else "")
        total_row = row[0] in ("TOTAL", "TEAM")
        out = []
        for c, value in zip(cols, row, strict=True):
            if c.kind == "money" and value is not None:
                cell = WriteOnlyCell(ws, value=_major(value, currency))
                cell.number_format = money_format
            elif isinstance(value, date):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = "yyyy-mm-dd"
            elif c.kind == "float" and value is not None:
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = "0.00"
            else:
                cell = WriteOnlyCell(ws, value=value)
            if total_row:
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


def to_string(cols: list[Column], rows: Iterable[Line], fmt: str = "table") -> str:
    """A report as text (table or csv), e.g. for a screen or an e-mail body."""
    buf = io.StringIO()
    if fmt == "csv":
        _csv(cols, rows, buf)
    else:
        _table(cols, rows, buf, "")
    return buf.getvalue()
