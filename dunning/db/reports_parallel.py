"""The aging's scan, and the same scan split over two processes by customer range.

:func:`scan` runs the aging's SQL over one range of customer ids (or all of them, or a
list of ids) and returns plain tuples: no dataclass is built here. ``reports.aging``
turns them into rows.

Above a size threshold ``reports.aging`` splits the work: this module is started as a
second process (``python -m dunning.db.reports_parallel``, standard library and this
module only) that scans the upper half of the customer ids on its own read-only
connection while the caller's process scans the lower half, and sends its tuples back
with ``marshal``. Two processes, not two threads: most of the time is turning SQLite's
rows into Python objects, which holds the GIL (measured on 5,000,000 invoices: two threads
ran 1.2x as fast as one, two processes 1.4x).

One snapshot. Each process reads in its own read transaction, and the two must see the
same committed state. The caller reads ``PRAGMA data_version`` on a connection of its own
before the worker starts and again once both read transactions are open; equal values
mean no write committed in between, so both transactions read the same snapshot. If one
did (a collector's outcome landing in that ~50 ms window), the worker is stopped and the
report is scanned on the caller's connection alone, as below the threshold.
"""

from __future__ import annotations

import gc
import marshal
import os
import sqlite3
import struct
import subprocess
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

try:
    import fcntl
except ImportError:  # not POSIX: no shared claims, the caller computes in one process
    fcntl = None  # type: ignore[assignment]

# Bucket sums with FILTER rather than CASE: a row outside a bucket skips the aggregate
# step instead of adding 0 (measured ~40% less time for the scan). SUM over no row is
# NULL, hence the COALESCE; the sums are integers, exact as before. BUCKET_SUMS is shared
# with the aging of a past date (reports_past.py), which sums rebuilt open amounts.
# The figures are those of dunning/owed.py: buckets hold positive, undisputed amounts;
# credit notes (whatever their due date) are credits; disputed amounts are apart. The
# disputed test comes last in each bucket: only the row's one bucket evaluates it
# (measured, CPU time of the scan on 1,000,000 invoices: +5% over the buckets before
# disputes were taken out, against +17% with the test before the dates).
BUCKET_SUMS = """
           COALESCE(SUM(open_minor) FILTER (WHERE open_minor > 0 AND due_date >= :b1
                                            AND NOT disputed), 0) AS b0,
           COALESCE(SUM(open_minor) FILTER (WHERE open_minor > 0 AND due_date < :b1
                                            AND due_date >= :b2 AND NOT disputed), 0) AS b1,
           COALESCE(SUM(open_minor) FILTER (WHERE open_minor > 0 AND due_date < :b2
                                            AND due_date >= :b3 AND NOT disputed), 0) AS b2,
           COALESCE(SUM(open_minor) FILTER (WHERE open_minor > 0 AND due_date < :b3
                                            AND due_date >= :b4 AND NOT disputed), 0) AS b3,
           COALESCE(SUM(open_minor) FILTER (WHERE open_minor > 0 AND due_date < :b4
                                            AND due_date >= :b5 AND NOT disputed), 0) AS b4,
           COALESCE(SUM(open_minor) FILTER (WHERE open_minor > 0 AND due_date < :b5
                                            AND NOT disputed), 0) AS b5,
           COALESCE(SUM(open_minor) FILTER (WHERE open_minor < 0), 0) AS cr,
           COALESCE(SUM(open_minor) FILTER (WHERE open_minor > 0 AND disputed), 0) AS dp"""
GROUPS_SQL = (
    """
    SELECT customer_id, currency,"""
    + BUCKET_SUMS
    + """
    FROM invoices WHERE status = 'open' AND open_minor != 0 {where}
    GROUP BY customer_id, currency  -- the covering index invoices_aging, in order
"""
)
# Unapplied cash per customer. Over a whole range, reading the payments table straight
# through is ~3x faster than the customer index (which has no invoice_id to filter on).
UNAPPLIED_CASH_SQL = """
    SELECT customer_id, currency, -SUM(amount_minor) AS cash FROM payments {hint}
    WHERE invoice_id IS NULL {where} GROUP BY customer_id, currency
"""
NO_OPEN_INVOICE = """NOT EXISTS (
    SELECT 1 FROM invoices i WHERE i.customer_id = {t}.customer_id AND i.currency = {t}.currency
    AND i.status = 'open' AND i.open_minor != 0)"""
# by customer: (-total, ref, currency, b0..b5, credits, disputed, name, collector id),
# ordered largest total first, then ref (then currency: one customer, two currencies)
CUSTOMER_SQL = (
    "WITH u AS (" + UNAPPLIED_CASH_SQL + "), a AS (" + GROUPS_SQL + """), m AS (
    SELECT a.customer_id, a.currency, a.b0, a.b1, a.b2, a.b3, a.b4, a.b5,
           a.cr + COALESCE(u.cash, 0) AS cr, a.dp
    FROM a LEFT JOIN u ON u.customer_id = a.customer_id AND u.currency = a.currency
    UNION ALL
    SELECT u.customer_id, u.currency, 0, 0, 0, 0, 0, 0, u.cash, 0 FROM u
    WHERE """ + NO_OPEN_INVOICE.format(t="u") + """
)
SELECT -(m.b0 + m.b1 + m.b2 + m.b3 + m.b4 + m.b5 + m.cr + m.dp) AS k, c.external_ref, m.currency,
       m.b0, m.b1, m.b2, m.b3, m.b4, m.b5, m.cr, m.dp, c.name, q.collector_id
FROM m JOIN customers c ON c.id = m.customer_id
LEFT JOIN queue q ON q.customer_id = m.customer_id
ORDER BY k, c.external_ref, m.currency
"""
)  # fmt: skip
# by collector: (collector id, currency, b0..b5, credits, disputed, customers)
COLLECTOR_SQL = (
    """SELECT q.collector_id, a.currency, SUM(a.b0), SUM(a.b1), SUM(a.b2), SUM(a.b3),
              SUM(a.b4), SUM(a.b5), SUM(a.cr), SUM(a.dp), COUNT(*) FROM ("""
    + GROUPS_SQL
    + """) a
LEFT JOIN queue q ON q.customer_id = a.customer_id
GROUP BY q.collector_id, a.currency
"""
)
# by collector, unapplied cash: (collector id, currency, cash, customers with no open
# invoice in that currency)
COLLECTOR_CASH_SQL = (
    "SELECT q.collector_id, u.currency, SUM(u.cash), SUM(" + NO_OPEN_INVOICE.format(t="u")
    + ") FROM (" + UNAPPLIED_CASH_SQL + """) u
JOIN customers c ON c.id = u.customer_id
LEFT JOIN queue q ON q.customer_id = u.customer_id
GROUP BY q.collector_id, u.currency
"""
)  # fmt: skip

Tuples = list[tuple[Any, ...]]
# by customer: the rows, and per currency [b0..b5, credits, disputed, rows]
# by collector: the aggregate rows and the unapplied-cash rows
Result = tuple[Tuples, dict[str, list[int]]] | tuple[Tuples, Tuples]


def read_connection(path: str, timeout_ms: int = 5000) -> sqlite3.Connection:
    """A read-only connection for one scan: tuples, no ``sqlite3.Row``; sorting in memory;
    the file memory-mapped (pages read in place rather than copied into the cache)."""
    conn = sqlite3.connect(
        f"file:{quote(path)}?mode=ro", uri=True, isolation_level=None, timeout=timeout_ms / 1000
    )
    conn.execute(f"PRAGMA busy_timeout={int(timeout_ms)}")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA cache_size=-65536")
    conn.execute("PRAGMA mmap_size=4294967296")
    return conn


def bound_memory(conn: sqlite3.Connection, cache_kib: int = 16384) -> sqlite3.Connection:
    """One large statement in bounded memory: no memory map (touched pages would count in
    the process's memory), temporary B-trees and sorts in files, a ``cache_kib`` cache."""
    conn.execute("PRAGMA mmap_size=0")
    conn.execute("PRAGMA temp_store=FILE")
    conn.execute(f"PRAGMA cache_size=-{int(cache_kib)}")
    return conn


_CLAIMS = struct.Struct("<qq")  # the claims file: next chunk from the bottom, end from the top


def claims_file(chunks: int) -> str | None:
    """A private file holding the chunks not yet claimed (0..chunks-1) that two processes
    share (:func:`claim`); None where files cannot be locked (not POSIX) or made."""
    if fcntl is None:
        return None
    import tempfile

    try:
        fd, path = tempfile.mkstemp(prefix="dunning-claims-")  # mode 0600
    except OSError:  # no writable temporary directory: one process
        return None
    try:
        os.write(fd, _CLAIMS.pack(0, chunks))
    finally:
        os.close(fd)
    return path


def claim(fd: int, low: bool) -> int | None:
    """The next chunk not yet claimed, taken from the bottom (``low``) or from the top of
    what is left, under an exclusive lock of the claims file; None when none is left. The
    worker takes from the bottom, the report's process from the top once its own part
    is done: whichever process is faster (or has a core to itself) does more, and the
    two end together within a chunk."""
    assert fcntl is not None
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        lo, hi = _CLAIMS.unpack(os.pread(fd, _CLAIMS.size, 0))
        if lo >= hi:
            return None
        if low:
            got, lo = lo, lo + 1
        else:
            hi -= 1
            got = hi
        os.pwrite(fd, _CLAIMS.pack(lo, hi), 0)
        return got
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def chunk_range(chunks: dict[str, int], n: int) -> dict[str, int]:
    """The customer ids of chunk ``n``: ``lo``..``hi`` of ``chunks`` ({"lo", "hi", "step"})."""
    lo = chunks["lo"] + n * chunks["step"]
    return {"lo": lo, "hi": min(lo + chunks["step"] - 1, chunks["hi"])}


def claimed_rows(
    conn: sqlite3.Connection, sql: str, params: dict[str, Any], chunks: dict[str, Any], low: bool
) -> Tuples:
    """``sql``'s rows for every chunk of customers this process claims (``chunks``:
    {"lo", "hi", "step", "claims": the claims file}), in its open read transaction."""
    cur = conn.cursor()
    cur.row_factory = None
    rows: Tuples = []
    fd = os.open(chunks["claims"], os.O_RDWR)
    try:
        while (n := claim(fd, low)) is not None:
            rows += cur.execute(sql, params | chunk_range(chunks, n)).fetchall()
    finally:
        os.close(fd)
    return rows


def begin_snapshot(conn: sqlite3.Connection) -> None:
    """Open a read transaction and take its snapshot now (at the first read)."""
    conn.execute("BEGIN")
    conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()


def scan(
    conn: sqlite3.Connection, by: str, where: str, params: dict[str, Any], whole: bool
) -> Result:
    """The aging's tuples for the customers ``where`` selects (``AND customer_id ...``).

    ``whole``: the range is all or half the ledger (read payments straight through)."""
    cur = conn.cursor()
    cur.row_factory = None  # plain tuples, whatever the connection's row factory
    hint = "NOT INDEXED" if whole else ""
    if by == "collector":
        rows = cur.execute(COLLECTOR_SQL.format(where=where), params).fetchall()
        cash = cur.execute(COLLECTOR_CASH_SQL.format(where=where, hint=hint), params).fetchall()
        return rows, cash
    rows = cur.execute(CUSTOMER_SQL.format(where=where, hint=hint), params).fetchall()
    return rows, currency_sums(rows)


def scan_groups(conn: sqlite3.Connection, params: dict[str, Any]) -> Tuples:
    """The aggregate alone, over every customer (for bench/bench_aging.py)."""
    cur = conn.cursor()
    cur.row_factory = None
    return cur.execute(GROUPS_SQL.format(where=""), params).fetchall()


def currency_sums(rows: Tuples) -> dict[str, list[int]]:
    """Per currency: the six buckets, credits, disputed, and the number of rows."""
    sums: dict[str, list[int]] = {}
    for _, _, cur, b0, b1, b2, b3, b4, b5, cr, dp, _, _ in rows:
        t = sums.get(cur)
        if t is None:
            t = sums[cur] = [0] * 9
        t[0] += b0
        t[1] += b1
        t[2] += b2
        t[3] += b3
        t[4] += b4
        t[5] += b5
        t[6] += cr
        t[7] += dp
        t[8] += 1
    return sums


def split_scan(
    path: str,
    by: str,
    params: dict[str, Any],
    mid: int,
    ready: Callable[[Result], None] | None = None,
) -> list[Result] | None:
    """Customers ``<= mid`` scanned here, ``> mid`` by a second process, both in one
    snapshot. None when that could not be done (a write committed between the two read
    transactions, or the worker failed): the caller then scans on one connection.

    ``ready`` is given this process's half as soon as it is scanned, to work on it while
    the worker finishes."""
    job = {"path": path, "by": by, "params": params, "mid": mid}
    probe = read_connection(path)  # sees a commit by any connection, the caller's included
    v1 = probe.execute("PRAGMA data_version").fetchone()[0]
    proc = subprocess.Popen(
        [sys.executable, "-m", __name__],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    own = read_connection(path)
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(marshal.dumps(job))
        proc.stdin.close()
        begin_snapshot(own)
        started = proc.stdout.read(1) == b"S"
        if not started or probe.execute("PRAGMA data_version").fetchone()[0] != v1:
            return None
        mine = scan(own, by, "AND customer_id <= :mid", params | {"mid": mid}, True)
        own.close()
        if ready is not None:
            ready(mine)
        data = proc.stdout.read()
        if proc.wait() != 0:
            return None
        return [mine, marshal.loads(data)]
    finally:
        own.close()
        probe.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _worker() -> None:
    """``python -m dunning.db.reports_parallel``: a job on stdin, "S" on stdout once the
    snapshot is taken, then the marshalled result."""
    gc.disable()  # half a million tuples, no cycles: see reports.paused_gc
    job = marshal.loads(sys.stdin.buffer.read())
    out = sys.stdout.buffer
    conn = read_connection(job["path"])
    if "sql" in job:  # one statement's rows (past_collector.py)
        bound_memory(conn)
    begin_snapshot(conn)
    out.write(b"S")
    out.flush()
    if "chunks" in job:  # chunks of customers claimed from the bottom (past_collector.py)
        out.write(marshal.dumps(claimed_rows(conn, job["sql"], job["params"], job["chunks"], True)))
        out.flush()
        conn.close()
        return
    if "sql" in job:
        cur = conn.cursor()
        cur.row_factory = None
        out.write(marshal.dumps(cur.execute(job["sql"], job["params"]).fetchall()))
        out.flush()
        conn.close()
        return
    params = job["params"] | {"mid": job["mid"]}
    result = scan(conn, job["by"], "AND customer_id > :mid", params, True)
    out.write(marshal.dumps(result))
    out.flush()
    conn.close()


if __name__ == "__main__":
    _worker()
