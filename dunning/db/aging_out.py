"""The aging by customer written to a file or standard output, streamed: bounded memory
whatever the size of the ledger (issue 8: a million customers in <= 5 s and <= 150 MB).

The rows come from one SQL statement (one snapshot), read from its cursor a chunk at a
time, and each chunk is written before the next is read; the TOTAL rows are summed on
the way and written last. The bytes are exactly those of ``exports.write`` over the
whole report (tests/test_aging_reference.py):

- CSV: one compiled f-string a row straight from the cursor's tuple (amounts as floats in
  major units, exact below 2**52, as exports' fast path); a row with text csv.writer would
  quote or csvsafe neutralize, or a huge amount, is written by the exact slow path;
- the aligned table needs every column's width before its first line: kept beside the
  rows in the report's order (dunning/db/aging_widths.py, m021), else pass one measures
  the rows (text cells; per currency and money column the largest and smallest amount: a
  formatted amount is longest at one of them) and spills them to a private temporary file
  (``marshal``, unlinked at once); pass two writes the lines, each by one compiled
  f-string (grouped floats, exact below 2**52 as in the CSV);
- XLSX: the rows handed to openpyxl's write-only workbook as a generator.

The statement runs on a read connection of its own (when the database is a file and the
caller is not inside a transaction): no memory map (touched pages would count in the
process's memory) and SQLite's sort spilled to a temporary file rather than held in
memory; today's rows, with an aging snapshot, come from its table in the report's order
(dunning/db/aging_order.py): no sort at all. Today's CSV and table over a large ledger
are written by two processes, split at a pivot in the report's order
(dunning/db/aging_split.py). The by-collector aging is a few rows per collector:
reports.aging builds it.
"""

from __future__ import annotations

import re
import sqlite3
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from itertools import accumulate, chain
from pathlib import Path
from typing import IO, Any

from dunning.db import aging_lines, aging_snapshot, csvsafe, reports
from dunning.db import exports as ex
from dunning.db import reports_parallel as parallel
from dunning.db import reports_past as past

# the measuring pass (when the widths are not kept), in a module of its own
from dunning.db.aging_measure import _table, measure, merged, write_lines  # noqa: F401
from dunning.db.outfile import text_output
from dunning.db.reports_parallel import Tuples
from dunning.money import minor_digits
from dunning.textsafe import unsafe_cells

CHUNK = 20_000  # rows read from the cursor at a time
HEAD = 4  # customer, name, collector, currency; then 10 money columns
_FLOAT_EXACT = 2**52  # see exports._FLOAT_EXACT
State = dict[str, Any]  # pass one of the table (measure)
Lines = Sequence[Sequence[Any]]


def _batches(conn: sqlite3.Connection, as_of: date, today: date | None) -> Iterator[Tuples]:
    """The by-customer tuples of reports_parallel (``-total, ref, currency, b0..b5,
    credits, disputed, name, collector id``) in the report's order, a chunk at a time."""
    bounds = {f"b{n}": d for n, d in enumerate(reports._bounds(as_of), start=1)}
    with past.reader(conn) as rc, aging_snapshot.read_tx(rc), reports.paused_gc():
        if today is not None and as_of < today:
            sql, extra = past.customer_sql(rc, as_of.isoformat())
            params = bounds | {"as_of": as_of.isoformat()} | extra
        else:
            sql, params = customer_sql(rc, as_of)
        cur = rc.cursor()
        cur.row_factory = None
        cur.execute(sql, params)
        while batch := cur.fetchmany(CHUNK):
            yield batch


def customer_sql(conn: sqlite3.Connection, as_of: date) -> tuple[str, dict[str, Any]]:
    """Today's by-customer statement (reports_parallel.CUSTOMER_SQL's rows) and its
    parameters: from the aging snapshot when there is a usable one (read the state in
    the transaction that runs the statement), else the scan of the open invoices."""
    snap = aging_snapshot.customer_sql(conn, as_of)
    if snap is not None:
        return snap
    bounds = {f"b{n}": d for n, d in enumerate(reports._bounds(as_of), start=1)}
    return parallel.CUSTOMER_SQL.format(where="", hint=_hint(conn)), bounds


def _hint(conn: sqlite3.Connection) -> str:
    """Unapplied cash through its partial index (m015) when the database has it, else
    straight through the payments table (reports_parallel.UNAPPLIED_CASH_SQL)."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'payments_unapplied'"
    ).fetchone()
    return "INDEXED BY payments_unapplied" if found else "NOT INDEXED"


def _add_sums(
    sums: dict[str, list[int]], batch: Tuples, cur_at: int = 2, money: tuple[int, ...] = ()
) -> None:
    """Per currency: b0..b5, credits, disputed and the number of rows, added column by
    column (C-level sums rather than nine additions a row); ``cur_at`` and ``money``:
    where the currency and those eight are (default: the report's tuples)."""
    money = money or (3, 4, 5, 6, 7, 8, 9, 10)
    by_cur: dict[str, Tuples] = {}
    for row in batch:
        rows = by_cur.get(row[cur_at])
        if rows is None:
            rows = by_cur[row[cur_at]] = []
        rows.append(row)
    for c, rows in by_cur.items():
        cols = list(zip(*rows, strict=True))
        t = sums.setdefault(c, [0] * 9)
        for n, i in enumerate(money):
            t[n] += sum(cols[i])
        t[8] += len(rows)


def _totals(sums: dict[str, list[int]]) -> list[list[Any]]:
    out = []
    for c, t in sorted(sums.items()):
        net = sum(t[:7])
        out.append(["TOTAL", "", "", c, *t[:7], net, t[7], net + t[7]])
    return out


def _line(row: tuple[Any, ...], names: dict[int, str]) -> list[Any]:
    _, ref, c, b0, b1, b2, b3, b4, b5, cr, dp, name, cid = row
    net = b0 + b1 + b2 + b3 + b4 + b5 + cr
    return [ref, name, names.get(cid) or reports.UNASSIGNED, c, b0, b1, b2, b3, b4, b5, cr,
            net, dp, net + dp]  # fmt: skip


def _shaped(batch: Tuples, names: dict[int, str]) -> list[list[Any]]:
    """The lines of a batch of the report's tuples."""
    who = {cid: names.get(cid) or reports.UNASSIGNED for cid in {r[12] for r in batch}}
    return [[ref, name, who[cid], c, b0, b1, b2, b3, b4, b5, cr, -k - dp, dp, -k]
            for k, ref, c, b0, b1, b2, b3, b4, b5, cr, dp, name, cid in batch]  # fmt: skip


def _names(conn: sqlite3.Connection) -> dict[int, str]:
    return {cid: user for cid, user in conn.execute("SELECT id, username FROM collectors")}


def chunks(conn: sqlite3.Connection, as_of: date, today: date | None) -> Iterator[Lines]:
    """The aging by customer's lines (the columns of ``exports.aging_table``), in the
    report's order, a chunk at a time, then its TOTAL lines as the last chunk. Today's
    over aging_order: each line made by SQLite (dunning/db/aging_lines.py), the totals
    from the sums kept beside it (summed here only when not kept)."""
    sums: dict[str, list[int]] = {}
    kept = None
    with past.reader(conn) as rc, aging_snapshot.read_tx(rc), reports.paused_gc():
        plan = None
        if today is None or as_of >= today:
            who, extra = aging_lines.who_sql(rc)
            plan = aging_lines.statement(rc, as_of, aging_lines.row_cols(who))
        if plan is not None:
            sql, params = plan
            kept = aging_lines.kept_sums(rc, sql, params)
            cur = rc.cursor()
            cur.row_factory = None
            cur.execute(sql, params | extra)
            while batch := cur.fetchmany(CHUNK):
                lines = [r[1:] for r in batch]
                if kept is None:
                    _add_sums(sums, lines, 3, _LINE_MONEY)
                yield lines
        else:
            names = _names(conn)
            for batch in _batches(rc, as_of, today):
                _add_sums(sums, batch)
                yield _shaped(batch, names)
    yield _totals(sums if kept is None else kept)


_LINE_MONEY = (4, 5, 6, 7, 8, 9, 10, 12)  # b0..b5, credits, disputed in a line


# a text cell the fast CSV line cannot write as it is: a character csv.writer quotes, or
# a start a spreadsheet may run (csvsafe); "\x1f" separates the cells searched
_CSV_SPECIAL = re.compile('[,"\r\n]|\x1f[=+\\-@\t]')
_FORMULA = frozenset("=+-@\t")
_EXACT = 2**51  # net and total of amounts below it stay below 2**52 (exports._FLOAT_EXACT)


def _special(cells: tuple[str, ...]) -> list[int]:
    """The indexes of the cells ``_CSV_SPECIAL`` finds (or may find: a false alarm only
    costs the slow line)."""
    # the usual case, at C speed: no quote, no comma, every character printable (a
    # superset of the controls csv.writer quotes), no cell starting with a formula sign
    plain = "".join(cells)
    if ('"' not in plain and "," not in plain and plain.isprintable()
            and not _FORMULA.intersection([c[:1] for c in cells])):  # fmt: skip
        return []
    joined = "\x1f" + "\x1f".join(cells)
    if _CSV_SPECIAL.search(joined) is None:
        return []
    starts = list(accumulate((len(c) + 1 for c in cells), initial=1))
    return [bisect_right(starts, m.end() - 1) - 1 for m in _CSV_SPECIAL.finditer(joined)]


# The CSV lines of a batch, one f-string a row compiled once (no format string parsed a
# row) and an amount of 0 (most of a row's ten) written as the currency's text for it
# without formatting a float: measured, ~20% less CPU a row than one ``%`` format; the
# total formatted once, and written again as the net of a row with nothing disputed
# (most rows: net = total - disputed): 5.1 -> 4.3 us a row.
_CSV_SRC = """
def lines(batch, who, formats):
    return [
        f"{ref},{name},{who[cid]},{c},{format(b0 / u, s) if b0 else z},"
        f"{format(b1 / u, s) if b1 else z},{format(b2 / u, s) if b2 else z},"
        f"{format(b3 / u, s) if b3 else z},{format(b4 / u, s) if b4 else z},"
        f"{format(b5 / u, s) if b5 else z},{format(cr / u, s) if cr else z},"
        f"{format((-k - dp) / u, s) if dp else t},{format(dp / u, s) if dp else z},{t}\\r\\n"
        for k, ref, c, b0, b1, b2, b3, b4, b5, cr, dp, name, cid in batch
        for u, s, z in (formats[c],) for t in (format(-k / u, s),)
    ]
"""
_CSV_NS: dict[str, Any] = {}
exec(compile(_CSV_SRC, __file__ + ":_CSV_SRC", "exec"), _CSV_NS)  # noqa: S102 - our text
_csv_lines = _CSV_NS["lines"]


def _csv_batch(
    batch: Tuples, names: dict[int, str], formats: dict[str, tuple[int, str, str]]
) -> str:
    """The CSV lines of one batch, as ``exports._csv`` writes them: one f-string a row
    (floats in major units, exact below 2**52); a row with a text cell to quote or
    neutralize, or an amount too large for that, written by the exact slow path."""
    cols = list(zip(*batch, strict=True))
    slow = set(_special(cols[1])) | set(_special(cols[11]))
    for c in set(cols[2]):
        if c not in formats:
            d = minor_digits(c) if c else 0
            formats[c] = (10**d, f".{d}f", format(0.0, f".{d}f"))
        if _special((c,)):
            slow |= {i for i, x in enumerate(cols[2]) if x == c}
    who = {cid: names.get(cid) or reports.UNASSIGNED for cid in set(cols[12])}
    bad_who = {cid for cid, w in who.items() if _special((w,))}
    if bad_who:
        slow |= {i for i, x in enumerate(cols[12]) if x in bad_who}
    if any(max(col) >= _EXACT or min(col) <= -_EXACT for col in (cols[0], *cols[3:11])):
        slow |= {i for i, row in enumerate(batch)
                 if max(row[3:11]) >= _EXACT or min(row[3:11]) <= -_EXACT
                 or abs(row[0]) >= _EXACT}  # fmt: skip
    out = _csv_lines(batch, who, formats)
    for i in slow:
        out[i] = ex._csv_line(_line(batch[i], names), HEAD - 1, HEAD)
    return "".join(out)


def write_aging(
    conn: sqlite3.Connection,
    as_of: date,
    fmt: str,
    dest: Path | None,
    *,
    today: date | None = None,
    title: str = "",
    meta: dict[str, Any] | None = None,
) -> int:
    """Write the aging by customer as ``fmt`` (csv, table or xlsx) to ``dest`` (None:
    standard output); returns the number of customer rows (TOTAL rows aside)."""
    cols, _ = ex.aging_table(reports.AgingReport(as_of, "customer", [], []))
    count = [0, 0]  # lines written, lines of the last chunk (the TOTAL rows)

    def counted() -> Iterator[Lines]:
        for lines in chunks(conn, as_of, today):
            count[0] += len(lines)
            count[1] = len(lines)
            yield lines

    if fmt == "xlsx":
        ex._check_format(fmt, dest)
        from dunning.db.xlsx import write_xlsx

        rows = chain.from_iterable(counted())
        section = ex.Section(title or "report", title, cols, rows)
        write_xlsx([section], dest, meta or {})  # type: ignore[arg-type]
        return count[0] - count[1]
    with text_output(dest) as fh:
        if fmt == "csv":
            csvsafe.writer(fh).writerow([c.name for c in cols])
            split = None
            if today is None or as_of >= today:  # two processes (dunning/db/aging_split.py)
                from dunning.db import aging_split

                split = aging_split.write_csv(conn, as_of, fh)
            if split is None and (today is None or as_of >= today):  # one process
                from dunning.db import aging_csv  # the plain rows' lines by SQLite

                split = aging_csv.write_all(conn, as_of, fh)
            if split is not None:
                sums, count[0] = split
            else:
                names = _names(conn)
                sums = {}
                formats: dict[str, tuple[int, str, str]] = {}
                for batch in _batches(conn, as_of, today):
                    _add_sums(sums, batch)
                    fh.write(_csv_batch(batch, names, formats))
                    count[0] += len(batch)
            fh.write(ex._csv_money_tail_text(_totals(sums), HEAD - 1, HEAD, len(cols)))
        elif fmt == "table":
            split = None
            if today is None or as_of >= today:  # two processes (dunning/db/aging_split.py)
                from dunning.db import aging_split

                split = aging_split.write_table(conn, as_of, cols, fh, title)
            if split is None and (today is None or as_of >= today):  # widths kept (m021)
                from dunning.db import aging_widths

                split = aging_widths.write_table(conn, as_of, cols, fh, title)
            if split is not None:
                count[0] = split
            else:
                count[0] = _table(cols, _batches(conn, as_of, today), _names(conn), fh, title)
        else:
            raise ValueError(f"unknown format {fmt!r}; one of csv, table, xlsx")
    return count[0] - count[1]


def _money_text(v: int, digits: int) -> str:
    """One amount as the table shows it: grouped, exact (exports._texts)."""
    whole, frac = divmod(-v if v < 0 else v, 10**digits)
    sign = "-" if v < 0 else ""
    return f"{sign}{whole:,}.{frac:0{digits}d}" if digits else f"{sign}{whole:,}"


def _cleaned(cells: tuple[str, ...] | list[str]) -> list[str]:
    """A text column as the aligned table shows it (exports.table_text), each cell that
    needs it fixed, the others untouched."""
    out = list(cells)
    # every character printable (str.isprintable, C speed: a superset of what
    # textsafe.visible changes): nothing to fix; else the exact search
    fix = [] if "".join(out).isprintable() else unsafe_cells(out)
    if max(map(len, out), default=0) > ex.TABLE_TEXT_MAX:
        fix += [k for k, v in enumerate(out) if len(v) > ex.TABLE_TEXT_MAX]
    for k in fix:
        out[k] = ex.table_text(cells[k])
    return out


def _by_currency(batch: Tuples) -> dict[str, Tuples]:
    out: dict[str, Tuples] = {}
    for row in batch:
        rows = out.get(row[2])
        if rows is None:
            rows = out[row[2]] = []
        rows.append(row)
    return out


def layout(cols: list[ex.Column], state: State) -> dict[str, Any]:
    """Every column's width, the TOTAL rows and the line formats, from pass one."""
    widths = [len(c.name) for c in cols]
    money = range(HEAD, len(cols))
    high, low = state["high"], state["low"]
    for i in range(HEAD):
        widths[i] = max(widths[i], state["widths"][i])
    totals = _totals(state["sums"])
    for line in totals:
        for n, v in enumerate(line[:HEAD]):
            widths[n] = max(widths[n], len(ex.table_text(v)))
        d = minor_digits(line[3]) if line[3] else 0
        for i in money:
            widths[i] = max(widths[i], len(_money_text(line[i], d)))
    for c in high:
        d = minor_digits(c) if c else 0
        for k, i in enumerate(money):
            widths[i] = max(widths[i], len(_money_text(high[c][k], d)),
                            len(_money_text(low[c][k], d)))  # fmt: skip
    text_fmt = "  ".join(f"{{:<{w}}}" for w in widths[:HEAD]) + "  "
    formats: dict[str, tuple[str, int, int, bool]] = {}
    for c in high:
        d = minor_digits(c) if c else 0
        tail = "  ".join(f"{{:>{widths[i]},.{d}f}}" for i in money)
        # every amount of the currency below 2**52: one exact float format per row
        fast = min(low[c]) > -_FLOAT_EXACT and max(high[c]) < _FLOAT_EXACT
        fast = state.get("fast", {}).get(c, fast)  # kept widths (aging_widths) say
        formats[c] = (text_fmt + tail + "\n", 10**d, d, fast)
    cur_cell = {c: ex.table_text(c) for c in high}
    return {"widths": widths, "totals": totals, "text_fmt": text_fmt, "formats": formats,
            "cur_cell": cur_cell}  # fmt: skip


def _slow(shape: dict[str, Any], line: list[Any], d: int) -> str:
    """One line in exact integer arithmetic (exports._texts)."""
    widths = shape["widths"]
    cells = zip(range(HEAD, len(widths)), line[HEAD:], strict=True)
    tail = "  ".join(_money_text(v, d).rjust(widths[i]) for i, v in cells)
    return (shape["text_fmt"].format(*line[:HEAD]) + tail).rstrip() + "\n"


def write_head(shape: dict[str, Any], cols: list[ex.Column], fh: IO[str], title: str) -> None:
    widths = shape["widths"]
    if title:
        fh.write(title + "\n")
    head = [c.name.ljust(w) if n < HEAD else c.name.rjust(w)
            for n, (c, w) in enumerate(zip(cols, widths, strict=True))]  # fmt: skip
    fh.write("  ".join(head).rstrip() + "\n")
    fh.write("  ".join("-" * w for w in widths) + "\n")


def _table_lines(widths: list[int]) -> Any:
    """The function making a batch's lines, its widths written in: one f-string a row
    compiled once a report (no format string parsed a row), an amount of 0 (most of a
    row's ten) written as its column's text for it without formatting a float."""
    text = "  ".join(f"{{{v}:<{w}}}" for v, w in zip(("ref", "name", "who[cid]", "cur[c]"),
                                                  widths[:HEAD], strict=True))  # fmt: skip
    cells = ["b0", "b1", "b2", "b3", "b4", "b5", "cr", "(-k - dp)", "dp", "-k"]
    zero = {"b0", "b1", "b2", "b3", "b4", "b5", "cr", "dp"}  # the others never 0 a row
    # the total (t: formatted once, no width) is also the net of a row with nothing disputed
    net, total = widths[HEAD + 7], widths[HEAD + 9]
    money = "  ".join(
        f"{{format({v} / u, s{i}) if {v} else z{i}}}" if v in zero
        else f'{{format({v} / u, s{i}) if dp else f"{{t:>{net}}}"}}' if v == "(-k - dp)"
        else f"{{t:>{total}}}"
        for i, v in enumerate(cells)
    )  # fmt: skip
    specs = ", ".join(f"s{i}, z{i}" for i in range(len(cells)))
    src = (
        "def lines(refs, names, batch, who, cur, fm):\n"
        f"    return [f'{text}  {money}\\n'\n"
        "        for ref, name, (k, _, c, b0, b1, b2, b3, b4, b5, cr, dp, _, cid)\n"
        "        in zip(refs, names, batch)\n"
        f"        for u, g, {specs} in (fm[c],) for t in (format(-k / u, g),)]\n"
    )
    ns: dict[str, Any] = {}
    exec(compile(src, __file__ + ":_table_lines", "exec"), ns)  # noqa: S102 - our text
    return ns["lines"]


def batch_lines(shape: dict[str, Any], names: dict[int, str]) -> Any:
    """The function making the lines of a batch of the report's tuples in the layout
    ``shape`` (a list of strings, one a row)."""
    formats, cur_cell, widths = shape["formats"], shape["cur_cell"], shape["widths"]
    lines = _table_lines(widths)
    fm: dict[str, tuple[Any, ...]] = {}
    for c, (_, u, d, _) in formats.items():
        specs = [f">{widths[i]},.{d}f" for i in range(HEAD, len(widths))]
        fm[c] = (u, f",.{d}f", *chain.from_iterable((f, format(0.0, f)) for f in specs))
    slow_currencies = {c for c, f in formats.items() if not f[3]}
    who: dict[int | None, str] = {}

    def make(batch: Tuples) -> list[str]:
        tcols = list(zip(*batch, strict=True))
        for cid in set(tcols[12]) - who.keys():
            who[cid] = _cleaned([names.get(cid) or reports.UNASSIGNED])[0]  # type: ignore[arg-type]
        refs, texts = _cleaned(tcols[1]), _cleaned(tcols[11])
        out: list[str] = lines(refs, texts, batch, who, cur_cell, fm)
        if slow_currencies:  # an amount at or above 2**52: exact integer arithmetic
            for i, row in enumerate(batch):
                c = row[2]
                if c in slow_currencies:
                    k, dp = row[0], row[10]
                    line = [refs[i], texts[i], who[row[12]], cur_cell[c], *row[3:10],
                            -k - dp, dp, -k]  # fmt: skip
                    out[i] = _slow(shape, line, formats[c][2])
        return out

    return make


def write_batches(
    shape: dict[str, Any], batches: Iterable[Tuples], names: dict[int, str], fh: IO[str]
) -> None:
    """The lines of ``batches`` in the layout ``shape``."""
    make = batch_lines(shape, names)
    for batch in batches:
        fh.write("".join(make(batch)))


def write_tail(shape: dict[str, Any], fh: IO[str]) -> None:
    """The TOTAL rows."""
    for line in shape["totals"]:
        d = minor_digits(line[3]) if line[3] else 0
        fh.write(_slow(shape, [ex.table_text(v) for v in line[:HEAD]] + line[HEAD:], d))
