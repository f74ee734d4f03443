"""The aligned table's widths kept beside aging_order (issue 8, aging fourth round;
migration m021): a report knows every column's width before its first line without
reading its rows twice.

The table needs, before its first line, each column's width: the text columns' widest
cell, each money column's longest formatted amount per currency, and the TOTAL rows
(the sums). aging_out.measure gets them by a first pass over every row (~5 s of CPU a
million rows, with a spill file); an aggregate over the rows in SQL costs as much
(branch attempt-aging-widths: 6.5 s). Here they are *kept*: ``aging_widths`` holds, for
the rows of ``aging_order``, **histograms with counts** rather than extremes:

- ``m``: per currency and money column (b0..b5, credits, net, disputed, total: measure's
  order), the number of rows whose amount has each signed length (``length(v)`` of the
  integer in minor units, negated for a negative amount). A formatted amount's length
  depends only on its currency's digits, its sign and its number of digits: the longest
  cell of a column is read off the largest key with a count;
- ``t``: per text column (reference, name), the number of rows of each width as the
  table shows it (``len(exports.table_text(x))``: cleaned, cut at TABLE_TEXT_MAX);
- ``c``: the number of rows of each collector id (-1: none): the collector column's
  width is measured on the names at report time (a renamed collector is current);
- ``s``: per currency, the sums of b0..b5, credits, disputed (cols 0-7) and the number
  of rows (col 8): the TOTAL rows and the currencies present;
- ``v``: one row, the table is complete (a snapshot made before m021 has it once the
  migration filled it).

Counts, not extremes with the number of rows attaining them: a row removed is a count
decremented, so the widest value leaving (the only row that had it) never forces a
measuring pass; the next key down is there. The snapshot's build fills it (:func:`fill`:
one pass over the table just written, counting a column at a time at C speed; SQLite's
GROUP BYs cost 4x more, a sort of every row each), its advance counts the rows it
rewrites out and back in (:func:`rows_hist`) and the buckets a shift moves by one
statement (:func:`shift_hist`), and a report combines the table with its dirty
customers: minus their rows in aging_order, plus their rows computed from the ledger
(the same rows its statement merges), in its own read transaction
(:func:`report_state`). The CSV in two processes takes its TOTAL rows from the same
sums (no sum a row).

Exact: every text width is counted by ``aging_out._cleaned``, the function the measuring
pass uses (cleaned control characters, the TABLE_TEXT_MAX cut, ``len``); every amount by
``len(str(v))`` of the integer, which is SQLite's ``length(v)`` (shift_hist).

No kept widths (``report_state`` returns None, the caller keeps the measuring pass): no
aging_order statement (no snapshot, a past date, DUNNING_AGING_ORDER=0), a report on
a date the snapshot's rows must be shifted to (the shifted buckets' lengths are not
kept: the nightly refresh advances the snapshot to the day), no ``v`` row, or
DUNNING_AGING_WIDTHS=0 (to measure without).
"""

from __future__ import annotations

import os
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: schema imports this module (m021)
    from dunning.db import exports as ex

DDL = [
    """CREATE TABLE aging_widths (
        kind     TEXT NOT NULL,     -- m money length, t text width, c collector, s sum, v
        currency TEXT NOT NULL,     -- '' for t, c, v
        col      INTEGER NOT NULL,  -- the column (m: 0-9, t: 0 ref 1 name, s: 0-8)
        key      INTEGER NOT NULL,  -- m: signed length, t: width, c: collector id (-1)
        n        INTEGER NOT NULL,  -- rows (s: the sum)
        PRIMARY KEY (kind, currency, col, key)
    ) WITHOUT ROWID""",
]

Key = tuple[str, str, int, int]
Hist = Counter[Key]
# measure's money columns over a row (k, ref, cur, b0..b5, cr, dp, name, cid)
_EXACT_DIGITS = 15  # |v| < 10**15 < 2**52: the float format is exact (aging_out)


def exists(conn: sqlite3.Connection) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'aging_widths'"
        ).fetchone()
        is not None
    )


def _lengths(h: Hist, c: str, col: int, values: Any, sign: int) -> None:
    """Count ``values`` (amounts) by signed length, at C speed: all by ``len(str(v))``,
    the negative ones again (their length counts the sign) and taken out."""
    both = Counter(map(len, map(str, values)))
    neg = Counter(map(len, map(str, filter((0).__gt__, values))))
    for n, m in (both - neg).items():
        h["m", c, col, n] += sign * m
    for n, m in neg.items():
        h["m", c, col, -n] += sign * m


def rows_hist(rows: Iterable[Any], sign: int = 1) -> Hist:
    """The histogram of report tuples ``(k, ref, cur, b0..b5, cr, dp, name, cid)``,
    counted ``sign`` times (-1: rows taken away), a chunk of rows at a time."""
    from dunning.db.aging_out import CHUNK, _by_currency, _cleaned

    h: Hist = Counter()
    fetch = rows.fetchmany if isinstance(rows, sqlite3.Cursor) else _chunks(iter(rows), CHUNK)
    while batch := fetch(CHUNK):
        cols = list(zip(*batch, strict=True))
        for col, x in ((0, cols[1]), (1, cols[11])):
            for w, n in Counter(map(len, _cleaned(x))).items():
                h["t", "", col, w] += sign * n
        for cid, n in Counter(cols[12]).items():
            h["c", "", 0, -1 if cid is None else cid] += sign * n
        for c, group in _by_currency(batch).items():
            g = list(zip(*group, strict=True))
            net = [-k - dp for k, dp in zip(g[0], g[10], strict=True)]
            total = [-k for k in g[0]]
            for col, values in enumerate((*g[3:10], net, g[10], total)):
                _lengths(h, c, col, values, sign)
            for col, values in enumerate((*g[3:10], g[10])):
                h["s", c, col, 0] += sign * sum(values)
            h["s", c, 8, 0] += sign * len(group)
    return h


def _key(x: str) -> str:
    return f"CASE WHEN ({x}) < 0 THEN -length({x}) ELSE length({x}) END"


def shift_hist(conn: sqlite3.Connection, shifted: str, redo: str) -> Hist:
    """What a shift in place does to the counts (run before it): for each bucket an
    amount moves in or out of, the row's old length out and its new one in, and the sums
    moved; the rows of ``redo`` (counted out and in whole) left out. A shift moves amounts
    between buckets and nothing else of a row. SQLite groups; nothing a row in Python."""
    parts = " UNION ALL ".join(
        f"SELECT currency, {j}, {_key(f'b{j}')}, {_key(f'b{j} + d{j}')}, d{j} FROM m "
        f"WHERE d{j} != 0"
        for j in range(6)
    )
    sql = f"""WITH m AS MATERIALIZED (
        SELECT o.currency, o.b0, o.b1, o.b2, o.b3, o.b4, o.b5,
               sh.d0, sh.d1, sh.d2, sh.d3, sh.d4, sh.d5
        FROM {shifted} sh JOIN aging_order o
          ON o.customer_id = sh.customer_id AND o.currency = sh.currency
        WHERE sh.customer_id NOT IN {redo}),
    p(c, j, old, new, d) AS ({parts})
    SELECT c, j, old, new, count(*), sum(d) FROM p GROUP BY c, j, old, new"""
    h: Hist = Counter()
    for c, j, old, new, n, d in conn.execute(sql):
        h["m", c, j, old] -= n
        h["m", c, j, new] += n
        h["s", c, j, 0] += d
    return h


def _chunks(it: Iterator[Any], size: int) -> Any:
    return lambda n: list(islice(it, n))


_ALL = """SELECT k, external_ref, currency, b0, b1, b2, b3, b4, b5, cr, dp, name, collector_id
FROM aging_order"""


def clear(conn: sqlite3.Connection) -> None:
    """No widths (inside the caller's write transaction)."""
    if exists(conn):
        conn.execute("DELETE FROM aging_widths")


def fill(conn: sqlite3.Connection) -> None:
    """The widths of every row of aging_order (inside the caller's write transaction,
    once the table is filled): aging_order.fill, and m021."""
    if not exists(conn):
        return
    conn.execute("DELETE FROM aging_widths")
    cur = conn.cursor()
    cur.row_factory = None
    h = rows_hist(cur.execute(_ALL))
    conn.execute("INSERT INTO aging_widths VALUES ('v', '', 0, 0, 1)")
    add(conn, h)


def add(conn: sqlite3.Connection, h: Hist) -> None:
    """Add ``h`` to the stored counts and sums (a count of 0 is removed)."""
    if not h:
        return
    try:
        conn.executemany(
            "INSERT INTO aging_widths (kind, currency, col, key, n) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT DO UPDATE SET n = n + excluded.n",
            [(*k, n) for k, n in h.items() if n],
        )
    except OverflowError:  # a sum beyond 64 bits: no widths kept, reports measure
        conn.execute("DELETE FROM aging_widths")
        return
    conn.execute("DELETE FROM aging_widths WHERE n = 0 AND kind IN ('m', 't', 'c')")
    # SQLite turns an integer sum that overflows into a float: no widths kept either
    if conn.execute("SELECT 1 FROM aging_widths WHERE typeof(n) != 'integer'").fetchone():
        conn.execute("DELETE FROM aging_widths")


def stored(conn: sqlite3.Connection) -> Hist | None:
    """The stored histogram, None when the table is not complete."""
    try:
        rows = conn.execute("SELECT kind, currency, col, key, n FROM aging_widths").fetchall()
    except sqlite3.OperationalError:  # a database before m021 (read-only, not migrated)
        return None
    h: Hist = Counter()
    valid = False
    for kind, c, col, key, n in rows:
        if kind == "v":
            valid = True
        else:
            h[kind, c, col, key] = n
    return h if valid else None


def _money_len(key: int, digits: int) -> int:
    """The length of a formatted amount (aging_out._money_text) of ``key`` (signed length
    of the integer): a representative amount of that sign and number of digits."""
    from dunning.db.aging_out import _money_text

    v = -(10 ** (-key - 2)) if key < 0 else 10 ** (key - 1)
    return len(_money_text(v, digits))


def _representative(key: int) -> int:
    return -(10 ** (-key - 2)) if key < 0 else 10 ** (key - 1)


def to_state(h: Hist, names: dict[int, str]) -> dict[str, Any]:
    """aging_out.measure's state (widths, high, low, sums, count, fast) from a histogram:
    ``high`` and ``low`` are an amount of the longest formatted length of each money
    column (what layout needs), ``fast`` whether every amount is below 2**52."""
    from dunning.db import reports
    from dunning.db.aging_out import _cleaned
    from dunning.money import minor_digits

    sums: dict[str, list[int]] = {}
    for (kind, c, col, _), n in h.items():
        if kind == "s":
            sums.setdefault(c, [0] * 9)[col] += n
    sums = {c: t for c, t in sums.items() if t[8] > 0}
    widths = [0] * 4
    best: dict[str, list[tuple[int, int]]] = {c: [(-1, 0)] * 10 for c in sums}
    fast = dict.fromkeys(sums, True)
    cids: set[int | None] = set()
    for (kind, c, col, key), n in h.items():
        if n <= 0:
            continue
        if kind == "t":
            widths[col] = max(widths[col], key)
        elif kind == "c":
            cids.add(None if key == -1 else key)
        elif kind == "m" and c in best:
            d = minor_digits(c) if c else 0
            width = _money_len(key, d)
            if width > best[c][col][0]:
                best[c][col] = (width, _representative(key))
            if abs(key) - (key < 0) > _EXACT_DIGITS:
                fast[c] = False
    for cid in cids:
        who = names.get(cid) or reports.UNASSIGNED  # type: ignore[arg-type]
        widths[2] = max(widths[2], len(_cleaned([who])[0]))
    for c in sums:
        widths[3] = max(widths[3], len(_cleaned([c])[0]))
    high = {c: [v for _, v in cols] for c, cols in best.items()}
    count = sum(t[8] for t in sums.values())
    return {"widths": widths, "high": high, "low": high, "sums": sums, "count": count,
            "fast": fast}  # fmt: skip


def enabled() -> bool:
    return os.environ.get("DUNNING_AGING_WIDTHS") != "0"  # 0: measure without


_OLD = """SELECT o.k, o.external_ref, o.currency, o.b0, o.b1, o.b2, o.b3, o.b4, o.b5, o.cr,
       o.dp, o.name, o.collector_id FROM aging_order o WHERE o.customer_id IN {ids}"""
MARK = "FROM aging_order o"  # aging_order.customer_sql's statement


def applies(conn: sqlite3.Connection, sql: str, check: bool = True) -> bool:
    """Whether the widths and sums kept serve the rows of ``sql`` (today's statement, or
    a half of it; ``check``: and the table is complete), in its read transaction."""
    if not enabled() or MARK not in sql or "snap_shift" in sql:
        return False
    return not check or kept(conn)


def report_state(
    conn: sqlite3.Connection, sql: str, params: dict[str, Any], names: dict[int, str]
) -> dict[str, Any] | None:
    """The state of the rows of today's report ``sql`` (aging_order.customer_sql's whole
    statement) from the kept widths and its dirty customers, in the read transaction the
    statement runs in; None when they cannot say (see the module): measure instead."""
    from dunning.db import aging_order
    from dunning.db import aging_snapshot as snap

    h = stored(conn) if applies(conn, sql, check=False) else None
    if h is None:
        return None
    dirty = f"{snap.DIRTY_SQL} UNION {aging_order.MOVED_SQL}"
    ids = "(SELECT customer_id FROM snap_dirty)"
    fresh = snap.FRESH_SQL.format(ids=f"IN {ids}")
    cte = f"WITH snap_dirty AS MATERIALIZED ({dirty})\n"
    new = snap.DIRTY_ROWS.replace("{fresh}", fresh)
    for sign, rows in ((-1, _OLD.format(ids=ids)), (1, new)):  # streamed: bounded memory
        cur = conn.cursor()
        cur.row_factory = None
        h.update(rows_hist(cur.execute(cte + rows, params), sign))
    return to_state(h, names)


def write_table(
    conn: sqlite3.Connection, as_of: Any, cols: list[ex.Column], fh: Any, title: str
) -> int | None:
    """Today's aging by customer as an aligned table in one pass over its rows, the
    widths kept (``report_state``, the same read transaction); returns the number of
    customer rows, or None, having written nothing, when the widths are not kept (the
    caller measures)."""
    from dunning.db import aging_lines, aging_out, aging_snapshot, reports
    from dunning.db import reports_past as past

    if not enabled():
        return None
    names = aging_out._names(conn)
    with past.reader(conn) as rc, aging_snapshot.read_tx(rc), reports.paused_gc():
        sql, params = aging_out.customer_sql(rc, as_of)
        state = report_state(rc, sql, params, names)
        if state is None:
            return None
        shape = aging_out.layout(cols, state)
        aging_out.write_head(shape, cols, fh, title)
        plan = aging_lines.table_statement(rc, as_of, shape, names)  # lines by SQLite
        if plan is not None:
            aging_lines.write_table_lines(rows(rc, *plan), shape, names, fh)
        else:
            aging_out.write_batches(shape, rows(rc, sql, params), names, fh)
        aging_out.write_tail(shape, fh)
    return int(state["count"])


def rows(conn: sqlite3.Connection, sql: str, params: dict[str, Any]) -> Any:
    """The rows of ``sql``, a chunk at a time."""
    from dunning.db.aging_out import CHUNK

    cur = conn.cursor()
    cur.row_factory = None
    cur.execute(sql, params)
    while batch := cur.fetchmany(CHUNK):
        yield batch


def kept(conn: sqlite3.Connection) -> bool:
    """Whether the widths are kept (complete) for aging_order."""
    if not exists(conn):
        return False
    return conn.execute("SELECT 1 FROM aging_widths WHERE kind = 'v'").fetchone() is not None
