"""Today's aging by customer with each line made by SQLite (issue 8, aging fifth round):
the statement over ``aging_order`` (dunning/db/aging_order.py) returns every line in the
shape its consumer writes, so Python passes rows through without touching a cell.

- rows (``aging_out.chunks``): ``k, ref, name, collector, currency, b0..b5, credits,
  net, disputed, total``: the columns of ``exports.aging_table`` after the sort key ``k``
  (kept first: a compound statement's ORDER BY names its result columns; ordering by the
  total instead would make SQLite sort a million rows rather than read the table in
  order). The collector's name by a small CASE (few collectors) or a lookup by id.
"""

from __future__ import annotations

import codecs
import io
import json
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import IO, Any

from dunning.db import reports
from dunning.db.reports_parallel import Tuples

CASE_MAX = 32  # collectors named in a CASE; more: a lookup by id a row


def who_sql(conn: sqlite3.Connection) -> tuple[Callable[[str], str], dict[str, Any]]:
    """The SQL of the collector cell for an id expression (``names.get(cid) or
    UNASSIGNED``, as aging_out), and its parameters."""
    names = conn.execute("SELECT id, username FROM collectors").fetchall()
    params: dict[str, Any] = {"w_none": reports.UNASSIGNED}
    if len(names) > CASE_MAX:
        return (lambda cid: "COALESCE(NULLIF((SELECT username FROM collectors "
                f"WHERE id = {cid}), ''), :w_none)"), params  # fmt: skip
    whens = []
    for cid, user in names:
        params[f"w{cid}"] = user or reports.UNASSIGNED
        whens.append(f"WHEN {int(cid)} THEN :w{cid}")
    if not whens:
        return (lambda cid: ":w_none"), params
    return (lambda cid: f"CASE {cid} {' '.join(whens)} ELSE :w_none END"), params


def row_cols(who: Callable[[str], str]) -> Callable[[dict[str, str]], str]:
    """aging_order.customer_sql's select list of a line as ``chunks`` yields it, after
    its sort key."""

    def cols(e: dict[str, str]) -> str:
        money = ", ".join(e[f"b{j}"] for j in range(6))
        k, dp = e["k"], e["dp"]
        return (f"{k} AS k, {e['ref']} AS external_ref, {e['name']}, {who(e['cid'])}, "
                f"{e['cur']} AS currency, {money}, {e['cr']}, -({k}) - {dp}, {dp}, "
                f"-({k})")  # fmt: skip

    return cols


def statement(
    conn: sqlite3.Connection, as_of: Any, cols: Callable[[dict[str, str]], str]
) -> tuple[str, dict[str, Any]] | None:
    """Today's statement over aging_order with the select list ``cols``, or None when
    the report does not read aging_order (no usable snapshot, DUNNING_AGING_ORDER=0).
    Read in the transaction that runs it."""
    from dunning.db import aging_order
    from dunning.db import aging_snapshot as snap

    st = snap.state(conn)
    if not snap.usable(st, as_of):
        return None
    assert st is not None
    return aging_order.customer_sql(conn, st, as_of, cols)


_SUMS = ", ".join(
    f"{{sign}}sum({{t}}.{c})" for c in ("b0", "b1", "b2", "b3", "b4", "b5", "cr", "dp")
)


def kept_sums(
    conn: sqlite3.Connection, sql: str, params: dict[str, Any]
) -> dict[str, list[int]] | None:
    """The TOTAL rows' sums (per currency: b0..b5, credits, disputed, rows) of today's
    statement ``sql`` over aging_order (any select list) from the sums kept beside the
    table (aging_widths' ``s`` rows, m021): minus its dirty customers' rows as the table
    holds them, plus their rows from the ledger, plus what a shift of the date moves
    between buckets for the others; SQLite sums the few rows that differ. None when not
    kept (the caller sums the rows): no aging_order statement, DUNNING_AGING_WIDTHS=0,
    the widths given up, a sum beyond 64 bits. In the statement's read transaction."""
    from dunning.db import aging_order, aging_widths

    if not aging_widths.enabled() or aging_widths.MARK not in sql or not sql.startswith("WITH "):
        return None
    try:
        kept = conn.execute(
            "SELECT kind, currency, col, n FROM aging_widths WHERE kind IN ('s', 'v')"
        ).fetchall()
    except sqlite3.OperationalError:  # before m021
        return None
    if not any(kind == "v" for kind, *_ in kept):
        return None
    sums: dict[str, list[int]] = {}
    for kind, c, col, n in kept:
        if kind == "s":
            sums.setdefault(c, [0] * 9)[col] += n
    head = sql[: sql.index("\nSELECT ")]  # the statement's WITH: snap_dirty (snap_shift)
    dirty = "(SELECT customer_id FROM snap_dirty)"
    parts = [
        f"SELECT o.currency, {_SUMS.format(sign='-', t='o')}, -count(*) FROM aging_order o "
        f"WHERE o.customer_id IN {dirty} GROUP BY o.currency",
        f"SELECT f.currency, {_SUMS.format(sign='', t='f')}, count(*) "
        + aging_order.dirty_from()
        + "GROUP BY f.currency",
    ]
    if "snap_shift" in head:
        moved = ", ".join(f"sum(sh.d{j})" for j in range(6))
        parts.append(
            f"SELECT o.currency, {moved}, 0, 0, 0 FROM aging_order o JOIN snap_shift sh "
            "ON sh.customer_id = o.customer_id AND sh.currency = o.currency "
            f"WHERE o.customer_id NOT IN {dirty} GROUP BY o.currency"
        )
    try:
        for c, *values in conn.execute(head + "\n" + " UNION ALL ".join(parts), params):
            t = sums.setdefault(c, [0] * 9)
            for i, v in enumerate(values):
                t[i] += v
    except sqlite3.OperationalError:  # integer overflow: the rows are summed instead
        return None
    if any(type(v) is not int for t in sums.values() for v in t):
        return None
    return {c: t for c, t in sums.items() if t[8] > 0}


# --- the aligned table (m026_aging_plain): each plain row's whole line made by SQLite ------------
# A row of aging_order whose reference and name are *plain* (the table shows them as they
# are: aging_order.plain, checked once when the row is written) in a currency whose
# amounts are all below 2**52 (the kept widths say) and whose code is shown as it is, is
# one printf: the text cells padded by characters (``%!-Ns``, as Python's ``{:<N}``
# counts code points), the amounts grouped by ``%,d`` from the integers (exact: the bytes
# of aging_out._money_text and of its float format below 2**52) padded by ``%Ns``, the
# widths (kept, m021) written into the statement. Any other row (not plain, a dirty
# customer's row computed from the ledger, another currency) comes back as NUL + the JSON
# of its cells and Python writes it by aging_out's path: the same bytes.
FALLBACK = "\x00"
TEXT_MAX = 32  # exports.TABLE_TEXT_MAX (a test compares)


def _amount(v: str, d: int, w: int) -> tuple[str, str, str]:
    """An amount (integer minor units, the expression ``v``) as the table shows it,
    right-aligned in ``w`` characters, ``d`` decimals: its printf directive, its
    arguments and the condition they are right under (no nested printf: the whole part
    grouped by ``%,d`` padded to the cell less its decimals; only an amount between -1
    and 0 major units would lose its sign, "-0": such a row is written by Python)."""
    if d == 0:
        return f"%,{w}d", v, ""
    u = 10**d
    v = f"({v})"
    return f"%,{w - d - 1}d.%0{d}d", f"{v} / {u}, abs({v}) % {u}", f"{v} NOT BETWEEN {1 - u} AND -1"


def table_who(names: dict[int, str]) -> tuple[Callable[[str], str], dict[str, Any]]:
    """The SQL of the collector cell as the table shows it (cleaned: aging_out._cleaned)
    for an id expression, and its parameters (the names bound, never in the SQL)."""
    from dunning.db.aging_out import _cleaned

    params: dict[str, Any] = {"tw_none": _cleaned([reports.UNASSIGNED])[0]}
    whens = []
    for cid, user in sorted(names.items()):
        params[f"tw{int(cid)}"] = _cleaned([user or reports.UNASSIGNED])[0]
        whens.append(f"WHEN {int(cid)} THEN :tw{int(cid)}")
    if not whens:
        return (lambda cid: ":tw_none"), params
    return (lambda cid: f"CASE {cid} {' '.join(whens)} ELSE :tw_none END"), params


def table_cols(
    shape: dict[str, Any], names: dict[int, str]
) -> tuple[Callable[[dict[str, str]], str], dict[str, Any]]:
    """aging_order.customer_sql's select list of the table: ``k, external_ref, currency,
    line`` (the line made by SQLite for a plain row, else FALLBACK + the JSON of ``k,
    ref, currency, name, collector id, b0..b5, credits, disputed``), and its parameters."""
    from dunning.db.aging_out import HEAD

    who, params = table_who(names)
    widths = shape["widths"]
    by_digits: dict[int, list[str]] = {}
    for c, (_, _, d, fast) in shape["formats"].items():
        if fast and shape["cur_cell"][c] == c:  # a code shown as it is
            by_digits.setdefault(d, []).append(c)
    # padded by characters ("!": as Python's len) unless every value is ASCII (bytes)
    who_ascii = all(isinstance(v, str) and v.isascii() for v in params.values())

    def cols(e: dict[str, str]) -> str:
        k, dp = e["k"], e["dp"]
        keys = f"{k} AS k, {e['ref']} AS external_ref, {e['cur']} AS currency"
        raw = ", ".join([k, e["ref"], e["cur"], e["name"], e["cid"],
                         *(e[f"b{j}"] for j in range(6)), e["cr"], dp])  # fmt: skip
        other = f"char(0) || json_array({raw}) || char(0)"
        if "plain" not in e or not by_digits:  # a dirty customer's row: Python writes it
            return f"{keys}, {other} AS line"
        money = [*(e[f"b{j}"] for j in range(6)), e["cr"], f"-({k}) - {dp}", dp, f"-({k})"]
        whens = []
        for d, curs in sorted(by_digits.items()):
            ps = []
            for c in curs:
                ps.append(f":tc{len(params)}")
                params[ps[-1][1:]] = c
            cells = [_amount(v, d, w) for v, w in zip(money, widths[HEAD:], strict=True)]
            w0, w1, w2, w3 = widths[:HEAD]
            tail = "  ".join(
                [f"%{'' if who_ascii else '!'}-{w2}s",
                 f"%{'' if all(c.isascii() for c in curs) else '!'}-{w3}s",
                 *(f for f, _, _ in cells)]
            )  # fmt: skip
            args = f"{e['ref']}, {e['name']}, {who(e['cid'])}, {e['cur']}, " + ", ".join(
                a for _, a, _ in cells
            )
            ascii_line = f"printf('%-{w0}s  %-{w1}s  {tail}\n', {args})"
            line = f"printf('%!-{w0}s  %!-{w1}s  {tail}\n', {args})"
            cut = f"substr({e['name']}, 1, {TEXT_MAX - 1}) || :t_cut"  # exports.table_text
            params["t_cut"] = "\u2026"
            cut_line = line.replace(f"{e['ref']}, {e['name']}, ", f"{e['ref']}, {cut}, ", 1)
            guard = "".join(f" AND {g}" for _, _, g in cells if g)
            whens.append(
                f"WHEN {e['plain']} AND {e['cur']} IN ({', '.join(ps)}){guard} THEN "
                f"CASE {e['plain']} WHEN 2 THEN {ascii_line} WHEN 3 THEN {cut_line} "
                f"ELSE {line} END"
            )
        return f"{keys}, CASE {' '.join(whens)} ELSE {other} END AS line"

    return cols, params


def table_statement(
    conn: sqlite3.Connection, as_of: Any, shape: dict[str, Any], names: dict[int, str]
) -> tuple[str, dict[str, Any]] | None:
    """Today's statement of the table's lines (``table_cols``) over aging_order in the
    layout ``shape`` (the kept widths: no shift of the date), or None: the table has no
    plain flags (before m026_aging_plain), DUNNING_AGING_SQL_TABLE=0, or not over aging_order.
    Read in the transaction that runs it. Only the line comes back: the ordered
    statement is read as a subquery (a co-routine: its rows in its order, no sort; three
    key columns fewer to turn into Python objects a row; tests compare the order)."""
    from dunning.db import aging_order

    if os.environ.get("DUNNING_AGING_SQL_TABLE") == "0" or not aging_order.has_plain(conn):
        return None
    cols, extra = table_cols(shape, names)
    plan = statement(conn, as_of, cols)
    if plan is None or "snap_shift" in plan[0]:
        return None
    sql = plan[0]
    at = sql.index("\nSELECT ")  # after the statement's WITH
    return f"{sql[:at]}\nSELECT CAST(line AS BLOB) FROM ({sql[at:]})", plan[1] | extra


def binary(fh: IO[str]) -> IO[bytes] | None:
    """The byte stream under ``fh`` when text written to it is its UTF-8 bytes as they
    are (a file or pipe of text_output: UTF-8, newlines untranslated on POSIX), flushed
    so bytes written to it come after the text; None otherwise (a terminal's guard)."""
    if not isinstance(fh, io.TextIOWrapper) or os.linesep != "\n":
        return None
    if codecs.lookup(fh.encoding).name != "utf-8":
        return None
    fh.flush()
    return fh.buffer


def write_table_lines(
    batches: Iterable[Tuples], shape: dict[str, Any], names: dict[int, str], fh: IO[str]
) -> None:
    """The lines of ``table_statement``'s rows (``line`` as UTF-8 bytes: no decoding
    here, no encoding on the way out): SQLite's lines as they are, each FALLBACK row
    (NUL, its JSON, NUL: a plain line has no NUL, JSON escapes one) written by
    aging_out's path in the same layout."""
    from dunning.db import aging_out

    out = binary(fh)
    make = None
    nul = FALLBACK.encode()
    for batch in batches:
        data = b"".join(map(itemgetter(0), batch))
        if nul in data:
            if make is None:
                make = aging_out.batch_lines(shape, names)
            parts = data.split(nul)
            rows = []
            for cells in parts[1::2]:
                k, ref, c, name, cid, *m = json.loads(cells)
                rows.append((k, ref, c, *m, name, cid))
            parts[1::2] = [line.encode() for line in make(rows)]
            data = b"".join(parts)
        if out is not None:
            out.write(data)
        else:
            fh.write(data.decode())


def copy_lines(theirs_file: IO[bytes], fh: IO[str]) -> None:
    """The worker's half (CSV or table), as it wrote it (UTF-8), after this half's
    lines: its bytes as they are when ``fh`` writes UTF-8 (aging_lines.binary), else
    decoded and written as text."""
    theirs_file.seek(0)
    out = binary(fh)
    if out is not None:
        shutil.copyfileobj(theirs_file, out, 1 << 20)
        return
    text = io.TextIOWrapper(theirs_file, encoding="utf-8", newline="")
    while piece := text.read(1 << 20):
        fh.write(piece)
