"""Writers for reports and exports: aligned text, CSV, XLSX and JSON.

Money is integer minor units in the database; each writer turns it into what its
reader expects: exact decimals in CSV and text ("1234.50"), typed numbers with the
currency's decimals and code in XLSX (finance sums them; dunning/db/xlsx.py), minor
units in JSON (``*_minor``). Dates are ISO text in CSV/JSON and real date cells in XLSX.

A report is one table (the aging) or several sections (the metrics: money per currency,
activity per collector), written as consecutive tables, one CSV with a ``section``
column, JSON keys, or XLSX sheets. Files are written whole or not at all
(dunning/db/outfile.py). A CSV cell that a spreadsheet would run as a formula is
neutralized with a leading ``'`` (dunning/db/csvsafe.py). The aligned text table shows
control characters visibly (dunning/textsafe.py: ESC as ``␛``, a bidi override as
``<U+202E>``) and cuts text longer than ``TABLE_TEXT_MAX`` with an ellipsis; the other
formats keep every character of a name.
"""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, timedelta, tzinfo
from itertools import repeat
from operator import truediv
from pathlib import Path
from typing import IO, Any

from dunning.db import csvsafe
from dunning.db.metrics import MetricsReport, day_start
from dunning.db.outfile import text_output
from dunning.db.reports import BUCKETS, AgingReport
from dunning.money import minor_digits
from dunning.textsafe import is_safe, json_text, visible

FORMATS = ("table", "csv", "xlsx", "json")
ACTIVITY_FORMATS = ("csv", "jsonl", "json")
TABLE_TEXT_MAX = 32  # characters of a text cell in the aligned table, ellipsis included


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "text"  # text, money, int, float, date


Row = dict[str, Any]  # an activity
Line = list[Any]  # a report row, aligned with its columns


@dataclass
class Section:
    """One table of a report: ``name`` keys it (JSON key, CSV ``section``, XLSX sheet),
    ``title`` heads it in the aligned table."""

    name: str
    title: str
    cols: list[Column]
    rows: Iterable[Line]


def aging_table(report: AgingReport) -> tuple[list[Column], list[Line]]:
    """Columns and rows of an aging report (rows are lists, aligned with the columns)."""
    by_customer = report.by == "customer"
    cols = [Column("customer")] if by_customer else [Column("collector")]
    cols += [Column("name"), Column("collector")] if by_customer else [Column("customers", "int")]
    cols += [Column("currency"), *(Column(b, "money") for b in BUCKETS)]
    # dunning/owed.py: net = buckets + credits; total = net + disputed (the open ledger)
    cols += [Column(name, "money") for name in ("credits", "net", "disputed", "total")]
    rows: list[Line] = []
    for r in [*report.rows, *report.totals]:
        head = [r.key, r.name, r.collector] if by_customer else [r.key, r.customers]
        net = sum(r.buckets) + r.credits
        rows.append([*head, r.currency, *r.buckets, r.credits, net, r.disputed, net + r.disputed])
    return cols, rows


MONEY_METRICS = (
    ("collector", "text"), ("currency", "text"), ("credit_sales", "money"),
    ("receivables_begin", "money"), ("receivables_end", "money"), ("current_end", "money"),
    ("dso", "float"), ("bpdso", "float"), ("add_days", "float"), ("cei", "float"),
    ("collected", "money"), ("promised", "money"), ("written_off", "money"),
)  # fmt: skip
ACTIVITY_METRICS = (
    ("collector", "text"), ("promises_due", "int"), ("promises_kept", "int"),
    ("kept_rate", "float"), ("attempts", "int"), ("contacts", "int"), ("rpc", "int"),
    ("rpc_rate", "float"), ("hours", "float"), ("contacts_per_hour", "float"),
)  # fmt: skip


def metrics_sections(report: MetricsReport) -> list[Section]:
    """Money per collector and currency (then TEAM per currency), and activity per
    collector (then TEAM once): two tables, since a call has no currency."""
    out = []
    for name, title, spec, items in (
        ("money", "money, per collector and currency", MONEY_METRICS, report.money),
        ("activity", "promises and calls, per collector", ACTIVITY_METRICS, report.activity),
    ):
        cols = [Column("add" if f == "add_days" else f, kind) for f, kind in spec]
        rows = [[getattr(m, f) for f, _ in spec] for m in items]
        out.append(Section(name, title, cols, rows))
    return out


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
    out = csvsafe.writer(fh)
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
    if (
        joined.count(",") != start * len(fast_heads)
        or any(c in joined for c in _CSV_SPECIAL)
        or csvsafe.any_formula(joined)
    ):
        for i, h in enumerate(heads):  # some text has a comma, quote, line break or formula
            if h is not None and (
                h.count(",") != start or any(c in h for c in _CSV_SPECIAL) or csvsafe.any_formula(h)
            ):
                lines[i] = _csv_line(rows[i], cur_at, start)
    return "".join(lines)


def _csv_line(row: Line, cur_at: int, start: int) -> str:
    buf = io.StringIO()
    csvsafe.writer(buf).writerow(next(_csv_money_tail([row], cur_at, start)))
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
    """Write a one-table report; ``dest`` None means standard output (not for xlsx)."""
    _check_format(fmt, dest)
    if fmt == "xlsx":
        from dunning.db.xlsx import write_xlsx

        write_xlsx([Section(title or "report", title, cols, rows)], dest, meta or {})  # type: ignore[arg-type]
        return
    with text_output(dest) as fh:
        if fmt == "csv":
            _csv(cols, rows, fh)
        elif fmt == "json":
            keys = [f"{c.name}_minor" if c.kind == "money" else c.name for c in cols]
            doc = {**(meta or {}), "rows": [dict(zip(keys, r, strict=True)) for r in rows]}
            json.dump(doc, fh, indent=1, default=str)
            fh.write("\n")
        else:
            _table(cols, rows, fh, title)


def _check_format(fmt: str, dest: Path | None) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    if fmt == "xlsx" and dest is None:
        raise ValueError("--format xlsx needs -o FILE")


def write_sections(
    sections: list[Section],
    fmt: str,
    dest: Path | None,
    *,
    title: str = "",
    meta: dict[str, Any] | None = None,
) -> None:
    """Write a report of several tables (see the module's docstring for each format)."""
    _check_format(fmt, dest)
    if fmt == "xlsx":
        from dunning.db.xlsx import write_xlsx

        write_xlsx(sections, dest, meta or {})  # type: ignore[arg-type]
        return
    with text_output(dest) as fh:
        if fmt == "json":
            doc: dict[str, Any] = {**(meta or {})}
            for s in sections:
                keys = [f"{c.name}_minor" if c.kind == "money" else c.name for c in s.cols]
                doc[s.name] = [dict(zip(keys, r, strict=True)) for r in s.rows]
            json.dump(doc, fh, indent=1, default=str)
            fh.write("\n")
        elif fmt == "csv":
            cols = [Column("section")]
            for s in sections:
                cols += [c for c in s.cols if c.name not in {x.name for x in cols}]
            at = {c.name: i for i, c in enumerate(cols)}
            rows: list[Line] = []
            for s in sections:
                where = [at[c.name] for c in s.cols]
                for r in s.rows:
                    line: Line = [None] * len(cols)
                    line[0] = s.name
                    for i, v in zip(where, r, strict=True):
                        line[i] = v
                    rows.append(line)
            _csv(cols, rows, fh)
        else:
            if title:
                fh.write(title + "\n")
            for n, s in enumerate(sections):
                fh.write(("\n" if n else "") + s.title + "\n")
                _table(s.cols, s.rows, fh, "")


def table_text(text: str) -> str:
    """A text cell as the aligned table shows it: on one line, at most TABLE_TEXT_MAX
    characters (the last an ellipsis when cut)."""
    text = visible(text)
    if len(text) > TABLE_TEXT_MAX:
        return text[: TABLE_TEXT_MAX - 1] + "\u2026"
    return text


def _table(cols: list[Column], rows: Iterable[Line], fh: IO[str], title: str) -> None:
    cells = [[c.name for c in cols], *_texts(cols, rows, True)]
    for i, c in enumerate(cols):
        if c.kind != "text":
            continue
        column = [r[i] for r in cells[1:]]
        # one C-level pass over the column; cells fixed only when one needs it
        if column and (max(map(len, column)) > TABLE_TEXT_MAX or not is_safe("".join(column))):
            for r in cells[1:]:
                r[i] = table_text(r[i])
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
    tz: tzinfo = UTC,
) -> Iterator[Row]:
    """Every activity in [start, end] (days of the team's zone ``tz``, inclusive), oldest
    first, streamed."""
    lo = day_start(start, tz) if start else ""
    hi = "~"  # after every timestamp: no end, or the end of 9999-12-31
    if end is not None and end < date.max:
        hi = day_start(end + timedelta(days=1), tz)
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
    """CSV, JSON lines (one activity a line) or JSON (one array, streamed); returns how
    many were written. The file is written whole or not at all."""
    if fmt not in ACTIVITY_FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(ACTIVITY_FORMATS)}")
    n = 0
    with text_output(dest) as fh:
        if fmt == "csv":
            out = csvsafe.writer(fh)
            out.writerow(ACTIVITY_COLUMNS)
            for row in rows:
                d = row["details"]
                row = {**row, "details": json.dumps(d) if isinstance(d, dict | list) else d}
                out.writerow(["" if row[k] is None else row[k] for k in ACTIVITY_COLUMNS])
                n += 1
        elif fmt == "jsonl":
            for row in rows:
                fh.write(json_text(row) + "\n")
                n += 1
        else:
            fh.write("[")
            for row in rows:
                fh.write(("\n" if n == 0 else ",\n") + json_text(row))
                n += 1
            fh.write("\n]\n" if n else "]\n")
    return n


def to_string(cols: list[Column], rows: Iterable[Line], fmt: str = "table") -> str:
    """A report as text (table or csv), e.g. for a screen or an e-mail body."""
    buf = io.StringIO()
    if fmt == "csv":
        _csv(cols, rows, buf)
    else:
        _table(cols, rows, buf, "")
    return buf.getvalue()
