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

import io
import json
import sqlite3
from collections.abc import Callable
from typing import IO, Any

from dunning.db import csvsafe, reports

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


# --- lines as text: the CSV's and the aligned table's, made by SQLite ----------------------
# A line is one text from the statement (``k, ref, currency, line``: the sort key first,
# as for rows), made by one printf a row. A row SQLite cannot write as exports would (a
# text cell csv.writer quotes or csvsafe neutralizes, a table cell exports.table_text
# changes, a NUL, an amount near 64 bits, a currency not known) comes instead as NUL +
# its report tuple in JSON, and is written by the exact slow path in Python (no fast
# line holds a NUL: a batch without one is written as it is). Amounts are written from
# the integers (sign, whole part, minor digits), so every amount is exact: the bytes of
# exports' integer arithmetic, which its float fast path equals below 2**52.
# Measured (100k, load 12): a line as one printf 2-3 us a row in SQLite, against 4.3 us
# in Python; as concatenations and a CASE a cell, 9 us.

_BIG = 2**60  # |amount| below it: no 64-bit overflow in a line's arithmetic
_MONEY = ("b0", "b1", "b2", "b3", "b4", "b5", "cr", "dp")
SLOW = "\x00"  # a line that starts with it is a slow row's JSON


def _amounts(e: dict[str, str]) -> list[str]:
    """b0..b5, credits, net, disputed, total of an arm (the report's money columns)."""
    k, dp = e["k"], e["dp"]
    return [*(e[f"b{j}"] for j in range(6)), e["cr"], f"-({k}) - {dp}", dp, f"-({k})"]


def money_args(v: str, d: int) -> list[str]:
    """printf's arguments of amount ``v`` with ``d`` minor digits: sign, whole, minor."""
    sign = f"CASE WHEN ({v}) < 0 THEN '-' ELSE '' END"
    if d == 0:
        return [sign, f"abs({v})"]
    return [sign, f"abs({v}) / {10**d}", f"abs({v}) % {10**d}"]


def money_fmt(d: int, grouped: bool) -> str:
    return ("%s%,d" if grouped else "%s%d") + (f".%0{d}d" if d else "")


def _raw(e: dict[str, str]) -> str:
    money = ", ".join(e[c] for c in _MONEY)
    return (f":slow || json_array({e['k']}, {e['ref']}, {e['cur']}, {money}, {e['name']}, "
            f"{e['cid']})")  # fmt: skip


def _in_range(e: dict[str, str]) -> str:
    vals = ", ".join([e["k"], *(e[c] for c in _MONEY)])
    return f"(max({vals}) < {_BIG} AND min({vals}) > -{_BIG})"


def text_cols(
    line: Callable[[dict[str, str], int], str],
    special: Callable[[dict[str, str]], str],
    digits: dict[str, int],
) -> Callable[[dict[str, str]], str]:
    """The select list ``k, ref, currency, name, line`` of an arm: ``line(e, d)`` the SQL
    of a line of a currency of ``d`` minor digits, ``special(e)`` true when the row goes
    the slow way (JSON); ``digits``: the currencies the lines are made for (others:
    slow)."""
    by_digits: dict[int, list[str]] = {}
    for c, d in sorted(digits.items()):
        by_digits.setdefault(d, []).append("'" + c.replace("'", "''") + "'")

    def cols(e: dict[str, str]) -> str:
        cur = e["cur"]
        whens = " ".join(f"WHEN {cur} IN ({', '.join(names)}) THEN {line(e, d)}"
                         for d, names in by_digits.items())  # fmt: skip
        slow = f"NOT {_in_range(e)} OR {special(e)}"
        body = f"CASE WHEN {slow} THEN {_raw(e)} {whens} ELSE {_raw(e)} END"
        return (f"{e['k']} AS k, {e['ref']} AS external_ref, {cur} AS currency, {e['name']}, "
                f"{body}")  # fmt: skip

    return cols


def csv_line(who: Callable[[str], str]) -> Callable[[dict[str, str], int], str]:
    """A CSV line's SQL (exports' CSV of the aging: plain amounts, "\r\n")."""

    def line(e: dict[str, str], d: int) -> str:
        fmt = "%s,%s,%s,%s," + ",".join([money_fmt(d, False)] * 10) + "\r\n"
        args = [e["ref"], e["name"], who(e["cid"]), e["cur"]]
        for v in _amounts(e):
            args += money_args(v, d)
        return f"printf('{fmt}', {', '.join(args)})"

    return line


def csv_special(bad_cids: list[int]) -> Callable[[dict[str, str]], str]:
    """A row whose collector's name csv.writer would quote or csvsafe neutralize: its
    line as JSON. (The reference and the name are checked in Python, at C speed over a
    batch: csv_text; in SQL, GLOBs a row cost more than the line.)"""

    def special(e: dict[str, str]) -> str:
        return f"{e['cid']} IN ({', '.join(map(str, bad_cids))})" if bad_cids else "0"

    return special


CSV_PARAMS = {"quoted": '*[,"\n\r]*', "formula": "[=+@\t-]*", "nul": "\x00", "slow": SLOW}


def csv_plan(
    conn: sqlite3.Connection, as_of: Any
) -> tuple[str, dict[str, Any], dict[str, list[int]]] | None:
    """Today's CSV lines statement, its parameters and the TOTAL rows' sums (kept), in
    the read transaction that runs it; None when the sums are not kept (the caller
    writes the tuples): the currencies present come with them."""
    from dunning.db import aging_order, aging_out
    from dunning.money import minor_digits

    base = statement(conn, as_of, aging_order.tuple_cols)
    if base is None:
        return None
    sums = kept_sums(conn, *base)
    if sums is None:
        return None
    who, extra = who_sql(conn)
    names = aging_out._names(conn)
    bad = [cid for cid, n in names.items()
           if aging_out._special((n or reports.UNASSIGNED,)) or "\x00" in n]  # fmt: skip
    digits = {c: minor_digits(c) if c else 0 for c in sums
              if not aging_out._special((c,)) and "\x00" not in c and "%" not in c}  # fmt: skip
    plan = statement(conn, as_of, text_cols(csv_line(who), csv_special(bad), digits))
    assert plan is not None
    return plan[0], plan[1] | extra | CSV_PARAMS, sums


def csv_text(batch: list[tuple[Any, ...]], names: dict[int, str]) -> str:
    """The CSV text of a batch of ``k, ref, currency, name, line`` rows: the lines SQLite
    made, but a row with a reference or name to quote or neutralize (aging_out._special)
    or holding a NUL (printf stops at it) written as csv.writer writes it, from its
    line's last twelve cells (collector, currency, the amounts as exports writes them:
    csvsafe leaves a plain number as it is), and a slow row's (JSON) by exports' exact
    path (aging_out._line, exports._csv_line)."""
    from dunning.db import aging_out
    from dunning.db import exports as ex

    _, refs, _, texts, lines = zip(*batch, strict=True)
    text = "".join(lines)
    slow = set(aging_out._special(refs)) | set(aging_out._special(texts))
    if "\x00" in "".join(refs) or "\x00" in "".join(texts):
        slow |= {i for i, (r, n) in enumerate(zip(refs, texts, strict=True))
                 if "\x00" in r or "\x00" in n}  # fmt: skip
    if not slow and SLOW not in text:
        return text
    out = list(lines)
    for i, line in enumerate(lines):
        if line.startswith(SLOW):
            row = tuple(json.loads(line[1:]))
            out[i] = ex._csv_line(aging_out._line(row, names), aging_out.HEAD - 1, aging_out.HEAD)
        elif i in slow:
            buf = io.StringIO()
            csvsafe.writer(buf).writerow([refs[i], texts[i], *line[:-2].rsplit(",", 12)[1:]])
            out[i] = buf.getvalue()
    return "".join(out)


def write_rows(
    conn: sqlite3.Connection,
    sql: str,
    params: dict[str, Any],
    fh: IO[str],
    text: Callable[[list[tuple[Any, ...]], dict[str, int]], str],
) -> int:
    """The lines of ``sql`` (``k, ref, currency, line, raw``) to ``fh``, a chunk at a
    time; returns the number of rows."""
    from dunning.db import aging_out

    names = aging_out._names(conn)
    cur = conn.cursor()
    cur.row_factory = None
    cur.execute(sql, params)
    count = 0
    while batch := cur.fetchmany(aging_out.CHUNK):
        fh.write(text(batch, names))
        count += len(batch)
    return count


def write_csv(
    conn: sqlite3.Connection, as_of: Any, fh: IO[str]
) -> tuple[dict[str, list[int]], int] | None:
    """Today's CSV rows (no header, no TOTAL rows) in one process, lines made by
    SQLite; the sums and the number of rows, or None, having written nothing, when the
    sums are not kept."""
    from dunning.db import aging_snapshot
    from dunning.db import reports_past as past

    with past.reader(conn) as rc, aging_snapshot.read_tx(rc), reports.paused_gc():
        plan = csv_plan(rc, as_of)
        if plan is None:
            return None
        sql, params, sums = plan
        return sums, write_rows(rc, sql, params, fh, csv_text)
