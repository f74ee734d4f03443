"""The aging by customer as CSV or aligned table, written by two processes (issue 8: the
machine has two cores; about half of the CSV's time is SQLite's sort and turning a million rows into
Python objects, on one core).

The report's rows are split at a pivot in the report's own order (largest total first,
then reference, then currency): this process writes the rows up to the pivot straight to
the output, a second process (``python -c``: ``_worker``) writes the rows after
it to a private temporary file (created here, unlinked at once, handed over as an open
file descriptor) and sends back its per-currency sums. Both halves are in order, so the
output is this process's half followed by the other's, then the TOTAL rows from both
sums: no merge, and the bytes are those of the one-process path (aging_out.write_aging;
tests/test_aging_reference.py and tests/test_aging_split.py).

The pivot is the median row of a sample (the aging of a window of customer ids, ~2% of
them): a sample that is not representative only makes the halves unequal, never wrong.
Each process still aggregates every invoice (the pivot is on the total, known only after
the aggregate), then sorts and converts only its half.

One snapshot, as reports_parallel.split_scan: ``PRAGMA data_version`` read before the
worker takes its snapshot and again once this process has taken its own; equal values
mean no write committed in between: both read the same state. When one did (a
collector's outcome landing in that window), or the worker could not start or failed,
this process writes the other half too, in its own read transaction (the same snapshot
as its first half): the output is the same, only slower; no error.

The aligned table needs every width before its first line. Kept beside the rows
(dunning/db/aging_widths.py, m021), this process computes them in its snapshot and sends
the layout: each process writes its half in one pass (and the CSV's TOTAL rows come from
the kept sums). Otherwise each process runs pass one
(aging_out.measure) over its half and spills its rows; the worker sends its state, this
process merges the two (aging_out.merged) into the layout, sends it back, and both run
pass two; this process writes the title, header, its lines, the worker's, the TOTALs.

Memory stays bounded: each process reads its cursor a chunk at a time. Ctrl+C reaches
both processes (one process group); the temporary file is already unlinked and the
output's ``.partial`` is removed by dunning/db/outfile.py.
"""

from __future__ import annotations

import marshal
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from dunning.db import aging_csv, aging_lines, aging_order, aging_out, aging_widths, reports
from dunning.db import reports_parallel as parallel
from dunning.db.connection import main_path
from dunning.db.reports_parallel import Tuples

MIN_CUSTOMERS = 50_000  # below this the second process costs more than it saves
_ORDER = "\nORDER BY k, c.external_ref, m.currency\n"


def half_sql(base: str, upper: bool) -> str:
    """``base`` (CUSTOMER_SQL, or its twin on the aging snapshot) for the rows after the
    pivot (``upper``) or up to it."""
    if "/*HALF:" in base:  # the snapshot's: the condition in each half of its UNION ALL
        op, strict = (">", ">") if upper else ("<", "<=")

        def cond(m: re.Match[str]) -> str:
            k, ref, cur = m.group(1), m.group(2), m.group(3)
            return (f"AND {k} {op}= :pk AND ({k} {op} :pk OR ({ref}, {cur}) "
                    f"{strict} (:pref, :pcur))")  # fmt: skip

        return re.sub(r"/\*HALF:([^:]*):([^:]*):([^*]*)\*/", cond, base)
    assert base.endswith(_ORDER)
    # the total's term alone first: it needs only m, so the rows of the other half are
    # dropped before the join to customers; the reference breaks a tie at the pivot
    k = "-(m.b0 + m.b1 + m.b2 + m.b3 + m.b4 + m.b5 + m.cr + m.dp)"
    tie = "(c.external_ref, m.currency)"
    if upper:
        where = f"{k} >= :pk AND ({k} > :pk OR {tie} > (:pref, :pcur))"
    else:
        where = f"{k} <= :pk AND ({k} < :pk OR {tie} <= (:pref, :pcur))"
    return base[: -len(_ORDER)] + "\nWHERE " + where + _ORDER


def _plan(conn: sqlite3.Connection, as_of: date, at: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The whole report's statement and its parameters with the pivot's (``at``)."""
    sql, params = aging_out.customer_sql(conn, as_of)
    return sql, params | at


def _connect(path: str) -> sqlite3.Connection:
    """A read connection as reports_past.reader's: bounded memory."""
    own = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, isolation_level=None)
    own.execute("PRAGMA busy_timeout=5000")
    own.execute("PRAGMA mmap_size=0")
    own.execute("PRAGMA temp_store=FILE")
    own.execute("PRAGMA cache_size=-8192")
    return own


def _pivot(conn: sqlite3.Connection, bounds: dict[str, str]) -> tuple[Any, ...] | None:
    """The median (k, ref, currency) of a window of customer ids, None when empty."""
    lo, hi = conn.execute(
        "SELECT (SELECT MIN(id) FROM customers), (SELECT MAX(id) FROM customers)"
    ).fetchone()
    if lo is None:
        return None
    width = max((hi - lo + 1) // 50, 2000)
    start = lo + max((hi - lo + 1 - width) // 2, 0)
    where = "AND customer_id >= :w0 AND customer_id < :w1"
    params = bounds | {"w0": start, "w1": start + width}
    keys: list[Any] = []
    if aging_order.state(conn) is not None:  # the ordered table's keys: an index read
        keys = conn.execute(_TABLE_KEYS, params).fetchall()
    if not keys:  # else the window's aging from the ledger (~0.3 s at 1M)
        sql = parallel.CUSTOMER_SQL.format(where=where, hint="")
        keys = [r[:3] for r in conn.execute(sql, params)]
    return tuple(keys[len(keys) // 2]) if keys else None


_TABLE_KEYS = """SELECT k, external_ref, currency FROM aging_order
WHERE customer_id >= :w0 AND customer_id < :w1 ORDER BY k, external_ref, currency"""


def _write_half(
    conn: sqlite3.Connection, sql: str, params: dict[str, Any], fh: IO[str], add: bool = True
) -> tuple[dict[str, list[int]], int]:
    """Write the rows of ``sql`` as CSV lines; returns the per-currency sums (none when
    not ``add``: the sums kept beside the rows serve) and count."""
    names = aging_out._names(conn)
    sums: dict[str, list[int]] = {}
    formats: dict[str, tuple[int, str, str]] = {}
    count = 0
    cur = conn.cursor()
    cur.row_factory = None
    cur.execute(sql, params)
    with reports.paused_gc():
        while batch := cur.fetchmany(aging_out.CHUNK):
            if add:
                aging_out._add_sums(sums, batch)
            fh.write(aging_out._csv_batch(batch, names, formats))
            count += len(batch)
    return sums, count


def _applies(conn: sqlite3.Connection) -> str | None:
    """The database file's path when the split applies: not a small ledger (under
    MIN_CUSTOMERS), one core, a database in memory, the caller inside a transaction or
    DUNNING_AGING_SPLIT=0."""
    path = main_path(conn)
    if not path or conn.in_transaction or os.environ.get("DUNNING_AGING_SPLIT") == "0":
        return None
    lo, hi = conn.execute(
        "SELECT (SELECT MIN(id) FROM customers), (SELECT MAX(id) FROM customers)"
    ).fetchone()
    if lo is None or hi - lo + 1 < MIN_CUSTOMERS or (os.cpu_count() or 1) < 2:
        return None
    return str(path)


def write_csv(
    conn: sqlite3.Connection, as_of: date, fh: IO[str]
) -> tuple[dict[str, list[int]], int] | None:
    """The customer rows of today's aging as CSV (no header, no TOTAL rows) to ``fh``,
    split over two processes; returns the per-currency sums and the number of rows, or
    None, having written nothing, when the split does not apply (a small ledger, one
    core, a database in memory, the caller inside a transaction, DUNNING_AGING_SPLIT=0)."""
    path = _applies(conn)
    if path is None:
        return None
    bounds = {f"b{n}": d for n, d in enumerate(reports._bounds(as_of), start=1)}
    probe = _connect(path)
    own = _connect(path)
    spill = tempfile.TemporaryFile()  # noqa: SIM115 - unlinked, private; closed below
    proc = _start(spill.fileno())  # its imports overlap the pivot's query
    try:
        pivot = _pivot(own, bounds)
        if pivot is None:
            return None
        at = {"pk": pivot[0], "pref": pivot[1], "pcur": pivot[2]}
        v1 = probe.execute("PRAGMA data_version").fetchone()[0]
        base, params = _plan(probe, as_of, at)
        job = {"path": path, "sql": half_sql(base, True), "params": params,
               "as_of": as_of.isoformat(), "at": at}  # fmt: skip
        started = proc is not None and _send(proc, job)
        parallel.begin_snapshot(own)
        # both snapshots taken with no commit in between: the same state
        same = started and probe.execute("PRAGMA data_version").fetchone()[0] == v1
        if _plan(own, as_of, at) != (base, params):  # the snapshot moved meanwhile
            same = False
            base, params = _plan(own, as_of, at)
        if proc is not None and not same and proc.poll() is None:
            proc.kill()  # its half is done here instead
        # the sums kept beside the rows (aging_widths, m021): no sum a row in either process
        kept = aging_widths.report_state(own, base, params, aging_out._names(own))

        def half(upper: bool) -> tuple[dict[str, list[int]], int]:
            # the plain rows' lines made by SQLite (dunning/db/aging_csv.py), else Python's
            n = aging_csv.write_half(own, as_of, at, upper, fh, kept) if kept else None
            if n is not None:
                return {}, n
            return _write_half(own, half_sql(base, upper), params, fh, kept is None)

        sums, count = half(False)
        theirs = _result(proc) if same and proc is not None else None
        if theirs is not None:
            aging_lines.copy_lines(spill, fh)
        else:  # no second process, or it failed: the other half here, same snapshot
            theirs = half(True)
        own.execute("COMMIT")
        if kept is not None:
            return kept["sums"], int(kept["count"])
        for c, t in theirs[0].items():
            mine = sums.setdefault(c, [0] * 9)
            for i, v in enumerate(t):
                mine[i] += v
        return sums, count + theirs[1]
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        own.close()
        probe.close()
        spill.close()


# the worker imports this very package, whatever the working directory holds (``-m``
# would put the working directory first on sys.path: a `dunning` there would be run)
_ROOT = str(Path(__file__).resolve().parents[2])
_WORKER = (
    f"import sys; sys.path.insert(0, {_ROOT!r}); "
    "from dunning.db.aging_split import _worker; _worker()"
)


def _start(fd: int) -> subprocess.Popen[bytes] | None:
    try:
        return subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(fd)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            pass_fds=(fd,),
        )
    except OSError:
        return None


def _send(proc: subprocess.Popen[bytes], job: dict[str, Any], close: bool = True) -> bool:
    """Hand the job over; True once the worker's snapshot is taken."""
    assert proc.stdin is not None and proc.stdout is not None
    try:
        _put(proc.stdin, job)
        if close:
            proc.stdin.close()
        return proc.stdout.read(1) == b"S"
    except OSError:  # the worker is gone (a broken pipe)
        return False


def _result(proc: subprocess.Popen[bytes]) -> tuple[dict[str, list[int]], int] | None:
    """The worker's (sums, count) once its half is written, None if it failed."""
    assert proc.stdout is not None
    data = proc.stdout.read()
    if proc.wait() != 0 or not data:
        return None
    result: tuple[dict[str, list[int]], int] = marshal.loads(data)
    return result


def _rows(conn: sqlite3.Connection, sql: str, params: dict[str, Any]) -> Iterator[Tuples]:
    cur = conn.cursor()
    cur.row_factory = None
    cur.execute(sql, params)
    while batch := cur.fetchmany(aging_out.CHUNK):
        yield batch


def _put(stream: IO[bytes], value: Any) -> None:
    """One value on a pipe: its length, then its ``marshal`` bytes."""
    blob = marshal.dumps(value)
    stream.write(len(blob).to_bytes(8, "little") + blob)
    stream.flush()


def _get(stream: IO[bytes]) -> Any:
    size = stream.read(8)
    if len(size) != 8:
        raise EOFError
    blob = stream.read(int.from_bytes(size, "little"))
    return marshal.loads(blob)


def write_table(
    conn: sqlite3.Connection, as_of: date, cols: list[Any], fh: IO[str], title: str
) -> int | None:
    """The aging by customer as an aligned table to ``fh``, split over two processes;
    returns the number of customer rows, or None, having written nothing, when the split
    does not apply (as write_csv). Pass one (aging_out.measure) runs in both processes
    over their halves; their states merge here into the one layout both pass twos use;
    this process writes the title, header and its lines, then the other's, then the
    TOTAL rows."""
    path = _applies(conn)
    if path is None:
        return None
    bounds = {f"b{n}": d for n, d in enumerate(reports._bounds(as_of), start=1)}
    names = aging_out._names(conn)
    probe = _connect(path)
    own = _connect(path)
    theirs_file = tempfile.TemporaryFile()  # noqa: SIM115 - unlinked, private; closed below
    mine = tempfile.TemporaryFile()  # noqa: SIM115
    upper = tempfile.TemporaryFile()  # noqa: SIM115 - the other half, when done here
    proc = _start(theirs_file.fileno())
    try:
        pivot = _pivot(own, bounds)
        if pivot is None:
            return None
        at = {"pk": pivot[0], "pref": pivot[1], "pcur": pivot[2]}
        v1 = probe.execute("PRAGMA data_version").fetchone()[0]
        base, params = _plan(probe, as_of, at)
        job = {"path": path, "sql": half_sql(base, True), "params": params, "fmt": "table"}
        started = proc is not None and _send(proc, job, close=False)
        parallel.begin_snapshot(own)
        same = started and probe.execute("PRAGMA data_version").fetchone()[0] == v1
        if _plan(own, as_of, at) != (base, params):  # the snapshot moved meanwhile
            same = False
            base, params = _plan(own, as_of, at)
        if proc is not None and not same and proc.poll() is None:
            proc.kill()
        kept = aging_widths.report_state(own, base, params, names)
        if kept is not None:  # the widths kept (m021): each half written in one pass
            return _write_kept(own, proc if same else None, kept, (base, params), cols, fh,
                               title, theirs_file, as_of)  # fmt: skip
        if same and proc is not None:
            try:
                assert proc.stdin is not None
                _put(proc.stdin, {"measure": True})
            except OSError:  # the worker is gone: its state is missed below
                pass
        with reports.paused_gc():
            state = aging_out.measure(_rows(own, half_sql(base, False), params), names, mine)
        other = None
        if same and proc is not None:
            try:
                assert proc.stdout is not None
                other = _get(proc.stdout)
            except (OSError, EOFError, ValueError):
                other = None
        worker = other is not None
        if other is None:
            with reports.paused_gc():
                other = aging_out.measure(_rows(own, half_sql(base, True), params), names, upper)
        shape = aging_out.layout(cols, aging_out.merged(state, other))
        if worker and proc is not None:
            try:
                assert proc.stdin is not None
                _put(proc.stdin, shape)
                proc.stdin.close()
            except OSError:
                worker = False
        aging_out.write_head(shape, cols, fh, title)
        with reports.paused_gc():
            aging_out.write_lines(shape, mine, names, fh)
            if worker and proc is not None and proc.stdout is not None:
                worker = proc.stdout.read() == b"D" and proc.wait() == 0
            if worker:
                aging_lines.copy_lines(theirs_file, fh)
            else:  # the other half's lines here, same snapshot: the same layout
                if upper.tell() == 0:
                    aging_out.measure(_rows(own, half_sql(base, True), params), names, upper)
                aging_out.write_lines(shape, upper, names, fh)
        aging_out.write_tail(shape, fh)
        own.execute("COMMIT")
        return int(state["count"]) + int(other["count"])
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        own.close()
        probe.close()
        for f in (theirs_file, mine, upper):
            f.close()


def _write_kept(
    own: sqlite3.Connection,
    proc: subprocess.Popen[bytes] | None,
    state: dict[str, Any],
    plan: tuple[str, dict[str, Any]],
    cols: list[Any],
    fh: IO[str],
    title: str,
    theirs_file: IO[bytes],
    as_of: date,
) -> int:
    """The table with the widths kept: the layout sent to the worker (``proc``, None
    when it does not share this snapshot), this half's lines written from its rows, then
    the worker's (or the other half here). The lines made by SQLite when it can
    (aging_lines.table_statement: the worker gets its half of that statement)."""
    base, params = plan
    names = aging_out._names(own)
    shape = aging_out.layout(cols, state)
    lined = aging_lines.table_statement(own, as_of, shape, names)
    order: dict[str, Any] = {"shape": shape}
    if lined is not None:  # with the pivot's parameters
        lined = (lined[0], params | lined[1])
        order |= {"sql": half_sql(lined[0], True), "params": lined[1]}
    worker = proc is not None
    if proc is not None:
        try:
            assert proc.stdin is not None
            _put(proc.stdin, order)
            proc.stdin.close()
        except OSError:
            worker = False

    def half(upper: bool) -> None:
        if lined is not None:
            batches = _rows(own, half_sql(lined[0], upper), lined[1])
            aging_lines.write_table_lines(batches, shape, names, fh)
        else:
            aging_out.write_batches(shape, _rows(own, half_sql(base, upper), params), names, fh)

    aging_out.write_head(shape, cols, fh, title)
    with reports.paused_gc():
        half(False)
        if worker and proc is not None and proc.stdout is not None:
            worker = proc.stdout.read() == b"D" and proc.wait() == 0
        if worker:
            aging_lines.copy_lines(theirs_file, fh)
        else:
            half(True)
    aging_out.write_tail(shape, fh)
    own.execute("COMMIT")
    return int(state["count"])


def _table_worker(conn: sqlite3.Connection, job: dict[str, Any], fd: int) -> None:
    """The layout received: this half's lines. Else (the widths measured): pass one
    over this half, its state sent; the layout received; pass two."""
    names = aging_out._names(conn)
    order = _get(sys.stdin.buffer)
    if "shape" in order:
        out = open(fd, "w", encoding="utf-8", newline="", buffering=1 << 20)  # noqa: SIM115
        with out as fh, reports.paused_gc():
            if "sql" in order:  # the lines made by SQLite (aging_lines.table_statement)
                aging_lines.write_table_lines(
                    _rows(conn, order["sql"], order["params"]), order["shape"], names, fh
                )
            else:
                aging_out.write_batches(
                    order["shape"], _rows(conn, job["sql"], job["params"]), names, fh
                )
        conn.execute("COMMIT")
        sys.stdout.buffer.write(b"D")
        sys.stdout.buffer.flush()
        return
    with tempfile.TemporaryFile() as spill, reports.paused_gc():
        state = aging_out.measure(_rows(conn, job["sql"], job["params"]), names, spill)
        conn.execute("COMMIT")
        _put(sys.stdout.buffer, state)
        shape = _get(sys.stdin.buffer)
        with open(fd, "w", encoding="utf-8", newline="", buffering=1 << 20) as fh:
            aging_out.write_lines(shape, spill, names, fh)
    sys.stdout.buffer.write(b"D")
    sys.stdout.buffer.flush()


def _worker() -> None:
    """``python -m dunning.db.aging_split``: a job on stdin, "S" on stdout once the
    snapshot is taken, then its half written to the file descriptor it was given, then
    the marshalled (sums, count)."""
    fd = int(sys.argv[1])
    job = _get(sys.stdin.buffer)
    out = sys.stdout.buffer
    conn = _connect(job["path"])
    parallel.begin_snapshot(conn)
    out.write(b"S")
    out.flush()
    if job.get("fmt") == "table":
        _table_worker(conn, job, fd)
        return
    fh = open(fd, "w", encoding="utf-8", newline="", buffering=1 << 20)  # noqa: SIM115
    with fh:
        as_of = date.fromisoformat(job["as_of"])
        n = aging_csv.write_half(conn, as_of, job["at"], True, fh)  # lines by SQLite
        add = not aging_widths.applies(conn, job["sql"])  # as this process's parent decides
        result = ({}, n) if n is not None else _write_half(conn, job["sql"], job["params"], fh, add)
    conn.close()
    out.write(marshal.dumps(result))
    out.flush()


if __name__ == "__main__":
    _worker()
