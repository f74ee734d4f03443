"""The nightly recompute of every queue row (``dunning queue refresh``).

Customers are taken by id range, ``CHUNK`` at a time. For each range:

1. the promises that can be decided are found with one read (pending ones, and broken or
   partial ones that money loaded since may decide again) and, if there are any, decided
   in a short write transaction of their own (``evaluate_promises``, which recomputes the
   rows it changes);
2. the range's queue rows are computed from set-based reads in id order (``RowMaker``:
   one grouped pass over open invoices, unapplied cash and usable phones, through
   covering indexes) outside any write transaction, and compared with the rows as they
   are: a row that would not change is not written (it keeps its ``updated_at``);
3. the rows that change are written in one short write transaction. If another
   connection committed since the reads (``PRAGMA data_version``: a collector's outcome,
   an import), the range is read and computed again inside that transaction, so nothing
   written is stale.

Collectors keep working: the write lock is held only to write a range's changes (or, when
someone wrote meanwhile, to recompute that range). A Ctrl-C keeps the ranges written and
the caller says how many accounts (queue/bulk.py).
"""

from __future__ import annotations

import contextlib
import marshal
import multiprocessing as mp
import os
import sqlite3
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection

from dunning.clock import Clock, to_iso
from dunning.db.connection import data_version, write_tx
from dunning.db.integrity import damaged_on_read
from dunning.queue import rebuild as next_queue
from dunning.queue import refresh_scope
from dunning.queue.accounts import RowMaker
from dunning.queue.config import Settings
from dunning.queue.promises import evaluate_promises
from dunning.queue.refresh_ahead import Ahead, maker_for, part_size, read_part
from dunning.queue.refresh_ranges import RANGE as _RANGE
from dunning.queue.refresh_ranges import changes_in as _changes
from dunning.queue.refresh_ranges import helper as _helper
from dunning.queue.refresh_ranges import ranges as _ranges
from dunning.queue.refresh_rows import IN_CHUNK, Changes, changes_where, write_changes
from dunning.queue.refresh_stats import RefreshStats
from dunning.queue.refresh_stats import checkpoint as _checkpoint
from dunning.queue.refresh_stats import count as _count
from dunning.queue.refresh_stats import held as _held

CHUNK = 5000
# From this many customers on, helper processes read and compute ranges while this one
# decides promises and writes (the reads and the scoring are two thirds of the work).
PARALLEL_FROM = 50_000
WRITE_CACHE_KIB = -100_000  # the writer's page cache during the refresh (100 MB)
CELL_SIZE_CHECK = "ON"  # PRAGMA cell_size_check on the refresh's connections (writer, helpers)
DECIDE_CHUNK = 1000  # customers whose promises a scoped night decides in one transaction
AHEAD = 2  # ranges handed to each helper before its first answer is awaited
# ``rebuild=None``: from this many customers on, when at least this share of the first
# range's rows change, the next queue is built beside the live one and swapped in
# (queue/rebuild.py) instead of updated in place. Not the default: measured at 1,000,000
# customers under load 10-18 it used 16% less of the writer's CPU and a third of the WAL
# copying, but was no faster in wall time, and its swap holds the write lock while three
# indexes are built (README, Benchmarks).
REBUILD_FROM = 50_000
REBUILD_SHARE = 0.5

# the customers of an id range whose promises evaluate_promises(ids) may change tonight:
# a pending promise whose deadline came (or is not stored), or with money dated inside its
# window (it may be kept early), or whose customer has a partial or broken promise (it is
# decided again with the pending ones); and partial or broken promises that money loaded
# since they were decided may decide again. A pending promise with none of these is left
# as it is by evaluate_promises (its deadline has not come and nothing is paid towards
# it), so its customer is not evaluated: at 1,000,000 customers 57,000 customers a night
# were, ~4,300 promises decided (tests/test_refresh_same.py compares with every pending
# promise evaluated).
_CANDIDATES = """SELECT p.customer_id FROM promises p
    WHERE p.status = 'pending' AND p.customer_id BETWEEN ?1 AND ?2
    AND (p.decide_at IS NULL OR p.decide_at <= ?3
         OR EXISTS (SELECT 1 FROM payments y
                    WHERE y.customer_id = p.customer_id AND y.amount_minor > 0
                    AND y.paid_on BETWEEN p.promised_on AND p.decide_after)
         OR EXISTS (SELECT 1 FROM invoice_closures x
                    WHERE x.customer_id = p.customer_id AND x.amount_minor > 0
                    AND x.closed_on BETWEEN p.promised_on AND p.decide_after)
         OR EXISTS (SELECT 1 FROM promises q
                    WHERE q.customer_id = p.customer_id AND q.status IN ('partial', 'broken')))
    UNION
    SELECT p.customer_id FROM promises p
    WHERE p.status IN ('partial', 'broken') AND p.customer_id BETWEEN ?1 AND ?2
    AND (EXISTS (SELECT 1 FROM payments y
                 WHERE y.customer_id = p.customer_id
                 AND y.paid_on BETWEEN p.promised_on AND p.decide_after
                 AND y.created_at >= p.decided_at)
         OR EXISTS (SELECT 1 FROM invoice_closures x
                    WHERE x.customer_id = p.customer_id
                    AND x.closed_on BETWEEN p.promised_on AND p.decide_after
                    AND x.created_at >= p.decided_at))"""


def refresh_all(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    *,
    chunk: int = CHUNK,
    after_chunk: Callable[[RefreshStats], None] | None = None,
    stats: RefreshStats | None = None,
    workers: int | None = None,
    rebuild: bool | None = False,
    full: bool = False,
    ahead: Ahead | None = None,
) -> RefreshStats:
    """Decide promises and bring every queue row up to date; see the module's text.

    Not inside a transaction: it makes its own, one or two per range. ``stats`` (filled
    as it goes) says how far it got when it is interrupted. ``workers``: helper
    processes that read and compute (default: two from PARALLEL_FROM customers on, if
    the machine has two cores; 0: all in this process). ``rebuild``: build the next queue
    beside the live one and swap it in (None: from REBUILD_FROM customers on, when
    REBUILD_SHARE of the first range's rows change; False, the default: in place).

    Only the customers whose row can have changed since the last refresh are read
    (queue/refresh_scope.py), unless there is no record of one, the settings changed or
    ``full``: then every customer is. ``ahead``: the scope and the parts already read
    while the command's check ran (queue/refresh_ahead.py ``checked_ahead``)."""
    maker = ahead.maker if ahead is not None else maker_for(clock, settings)
    stats = stats if stats is not None else RefreshStats()
    stats.of = int(conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0])
    if workers is None:
        workers = 2 if stats.of >= PARALLEL_FROM and (os.cpu_count() or 1) > 1 else 0
    path = _path(conn)
    cache = conn.execute("PRAGMA cache_size").fetchone()[0]
    # a range's writes touch pages all over the worklist index: kept in the cache, they
    # are not spilled and read again before the commit (a quarter of the lock time)
    conn.execute(f"PRAGMA cache_size={WRITE_CACHE_KIB}")
    # the WAL is copied back after each write transaction, outside it (SQLite's automatic
    # checkpoint runs inside COMMIT, after the lock is released, and was counted as held)
    autocheckpoint = conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    # a page whose cells overlap or overflow it is SQLITE_CORRUPT (named, db/integrity.py)
    # when read, not a wrong answer or a write into a neighbour's cell. Cost at 100,000
    # customers (bench_refresh.py --cell-size-check on/off, three runs each, load 3-4):
    # first refresh 4.2-4.6 s CPU on vs 4.2-5.1 off, writer 1.5-1.6 vs 1.5-1.8: no
    # difference above the noise, so it stays on
    cell_check = conn.execute("PRAGMA cell_size_check").fetchone()[0]
    conn.execute(f"PRAGMA cell_size_check = {CELL_SIZE_CHECK}")
    # a next queue built beside the live one is a whole pass (rebuild=True asks for one)
    if ahead is not None and (ahead.scope.ids is None or not rebuild):
        scope = ahead.scope  # read while the check ran (ids None: a whole pass)
    else:
        scope = refresh_scope.begin(
            conn, settings, maker.today_iso, maker.now_iso, _CANDIDATES, full=full or bool(rebuild)
        )
    if scope.ids is not None:
        rebuild = False
    elif rebuild is None:
        rebuild = None if stats.of >= REBUILD_FROM else False
    writer = _Writer(conn, maker, stats, rebuild)
    try:
        if scope.ids is not None:
            _scoped(conn, clock, settings, maker, scope, chunk, stats, after_chunk, ahead)
        elif workers and path:
            _parallel(
                conn, clock, settings, maker, path, chunk, workers, stats, writer, after_chunk
            )
        else:
            _serial(conn, clock, settings, maker, chunk, stats, writer, after_chunk)
        writer.finish()
        with write_tx(conn):
            refresh_scope.finish(conn, scope, settings)
        if scope.ids is not None:
            stats.done = stats.of  # every row is what a whole pass would leave
    except BaseException:
        writer.abandon()
        raise
    finally:
        conn.execute(f"PRAGMA cache_size={int(cache)}")
        conn.execute(f"PRAGMA wal_autocheckpoint = {int(autocheckpoint)}")
        conn.execute(f"PRAGMA cell_size_check = {int(cell_check)}")
    return stats


def _serial(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    maker: RowMaker,
    chunk: int,
    stats: RefreshStats,
    writer: _Writer,
    after_chunk: Callable[[RefreshStats], None] | None,
) -> None:
    for lo, hi, count in _ranges(conn, chunk):
        _decide(conn, clock, settings, lo, hi, stats)
        seen = data_version(conn)
        conn.execute("BEGIN")  # one snapshot for the range's reads
        try:
            changes = _changes(conn, maker, lo, hi)
        finally:
            conn.execute("COMMIT")
        writer.apply(lo, hi, count, seen, changes)
        if after_chunk is not None:
            after_chunk(stats)
        _checkpoint(conn, stats)


def _scoped(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    maker: RowMaker,
    scope: refresh_scope.Scope,
    chunk: int,
    stats: RefreshStats,
    after_chunk: Callable[[RefreshStats], None] | None,
    ahead: Ahead | None = None,
) -> None:
    """The customers of ``scope`` only (queue/refresh_scope.py): promises decided first
    (DECIDE_CHUNK customers a write transaction), then the parts read ahead written
    (``ahead``: read while the check ran; recomputed under the lock when another
    connection committed since), then the rest read, computed and written ``chunk``
    customers at a time, as a range is."""
    ids = scope.ids or []
    stats.read = len(ids)
    candidates = scope.candidates or []
    for i in range(0, len(candidates), DECIDE_CHUNK):
        with write_tx(conn):
            t = time.perf_counter()
            stats.decided += evaluate_promises(
                conn, clock, settings, candidates[i : i + DECIDE_CHUNK]
            )
        _held(stats, t)
    # a write transaction and a checkpoint per CHUNK customers, not per 900 (at 1M: 79
    # commits and checkpoints were 5 s of a 15 s night): one IN list as long as SQLite
    # allows (32,766 host parameters since 3.32)
    # (the promises decided change only their own customers' rows, which are never
    # among the parts read ahead)
    while ahead is not None and ahead.parts:
        part, seen, changes = ahead.parts.popleft()
        where = f"customer_id IN ({','.join('?' * len(part))})"
        _apply(conn, maker, where, part, seen, changes, stats)
        stats.done += len(part)
        if after_chunk is not None:
            after_chunk(stats)
        _checkpoint(conn, stats)
    if ahead is not None and ahead.read:
        ids = [c for c in ids if c not in ahead.read]
    size = part_size(conn, chunk)
    for i in range(0, len(ids), size):
        part = ids[i : i + size]
        where, seen, changes = read_part(conn, maker, part)
        _apply(conn, maker, where, part, seen, changes, stats)
        stats.done += len(part)
        if after_chunk is not None:
            after_chunk(stats)
        _checkpoint(conn, stats)


def _path(conn: sqlite3.Connection) -> str:
    """The main database's file ('' in memory or temporary)."""
    for row in conn.execute("PRAGMA database_list"):
        if row[1] == "main":
            return str(row[2] or "")
    return ""


def _parallel(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    maker: RowMaker,
    path: str,
    chunk: int,
    workers: int,
    stats: RefreshStats,
    writer: _Writer,
    after_chunk: Callable[[RefreshStats], None] | None,
) -> None:
    """Ranges computed by ``workers`` helper processes, decided and written here.

    Each range's promises are decided (and committed) before it is handed out, and
    ``data_version`` is noted then: the helper's reads begin after it, so if no other
    connection commits before the range is written, what the helper read is what is
    there (this process's own commits touch other ranges only)."""
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    helpers: list[tuple[mp.process.BaseProcess, Connection, Connection]] = []
    try:
        for _ in range(workers):
            ask_recv, ask_send = ctx.Pipe(duplex=False)
            ans_recv, ans_send = ctx.Pipe(duplex=False)
            p = ctx.Process(
                target=_helper,
                args=(
                    path,
                    maker.now_iso,
                    maker.today,
                    settings,
                    CELL_SIZE_CHECK,
                    ask_recv,
                    ans_send,
                ),
                daemon=True,
            )
            p.start()
            ask_recv.close()
            ans_send.close()
            helpers.append((p, ask_send, ans_recv))
        ranges = _ranges(conn, chunk)
        inflight: deque[tuple[int, int, int, int, Connection]] = deque()
        turn = 0

        def hand_out() -> bool:
            nonlocal turn
            r = next(ranges, None)
            if r is None:
                return False
            lo, hi, count = r
            _decide(conn, clock, settings, lo, hi, stats)
            seen = data_version(conn)
            _, ask, answer = helpers[turn % len(helpers)]
            turn += 1
            # a helper that failed has sent why and ended: its answer, read in turn,
            # says so before the missing ones would
            with contextlib.suppress(OSError):
                ask.send_bytes(marshal.dumps((lo, hi)))
            inflight.append((lo, hi, count, seen, answer))
            return True

        while len(inflight) < AHEAD * len(helpers) and hand_out():
            pass
        while inflight:
            lo, hi, count, seen, answer = inflight.popleft()
            try:
                data = answer.recv_bytes()
            except EOFError:
                raise RuntimeError("a queue refresh helper process died") from None
            reply = marshal.loads(data)
            if reply[0] == "corrupt":  # a damaged page met by a helper's read
                raise damaged_on_read(path, reply[1])
            if reply[0] == "error":
                raise RuntimeError(f"a queue refresh helper failed:\n{reply[1]}")
            writer.apply(lo, hi, count, seen, reply[1])
            if after_chunk is not None:
                after_chunk(stats)
            _checkpoint(conn, stats)
            hand_out()
    finally:
        for p, ask, answer in helpers:
            with contextlib.suppress(OSError):
                ask.send_bytes(marshal.dumps(None))
            ask.close()
            answer.close()
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join(timeout=5)


def _decide(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    lo: int,
    hi: int,
    stats: RefreshStats,
) -> None:
    """Decide the range's promises, in a write transaction of their own."""
    candidates = [r[0] for r in conn.execute(_CANDIDATES, (lo, hi, to_iso(clock.now())))]
    if candidates:
        with write_tx(conn):
            t = time.perf_counter()
            stats.decided += evaluate_promises(conn, clock, settings, candidates)
        _held(stats, t)


def _apply(
    conn: sqlite3.Connection,
    maker: RowMaker,
    where: str,
    params: list[int],
    seen: int,
    changes: Changes,
    stats: RefreshStats,
) -> None:
    """Write the range's changes in place; read and compute them again under the lock
    when another connection committed since ``seen``."""
    if not any(changes[:3]) and data_version(conn) == seen:
        stats.unchanged += changes[3]
        return
    with write_tx(conn):
        t = time.perf_counter()
        if data_version(conn) != seen:  # someone wrote since: read again, under the lock
            stats.recomputed += 1
            changes = changes_where(conn, maker, where, params)
        write_changes(conn, maker.now_iso, changes)
    _held(stats, t)
    _count(stats, changes)


class _Writer:
    """Writes each range as it comes, in place or into the next queue (queue/rebuild.py),
    the way decided at the first range when ``rebuild`` is None."""

    def __init__(
        self, conn: sqlite3.Connection, maker: RowMaker, stats: RefreshStats, rebuild: bool | None
    ) -> None:
        self.conn = conn
        self.maker = maker
        self.stats = stats
        self.rebuild = rebuild
        self.indexes: list[str] | None = None  # the live indexes, while a build is under way
        self.after = 0  # the last customer id copied into the next queue
        self.built = 0  # customers in the ranges copied, counted done at the swap

    def apply(self, lo: int, hi: int, count: int, seen: int, changes: Changes) -> None:
        stats = self.stats
        if self.rebuild is None:  # the first range decides
            changed = len(changes[0]) + len(changes[1]) + len(changes[2])
            self.rebuild = changed >= REBUILD_SHARE * max(changed + changes[3], 1)
        if self.rebuild and self.indexes is None:
            self.indexes = next_queue.begin(self.conn, self.maker.now_iso)
            self.rebuild = self.indexes is not None  # else another refresh is building
        if self.indexes is None:
            _apply(self.conn, self.maker, _RANGE, [lo, hi], seen, changes, stats)
            stats.done += count
            return
        conn = self.conn
        with write_tx(conn):
            t = time.perf_counter()
            if data_version(conn) != seen:  # someone wrote since: read again, under the lock
                stats.recomputed += 1
                changes = _changes(conn, self.maker, lo, hi)
            next_queue.copy_range(conn, self.after, hi)
            write_changes(conn, self.maker.now_iso, changes, next_queue.NEXT)
        _held(stats, t)
        _count(stats, changes)
        self.after = hi
        self.built += count

    def finish(self) -> None:
        """Swap the next queue in, if one was built."""
        if self.indexes is None:
            return
        conn, maker, stats = self.conn, self.maker, self.stats

        def recompute(ids: list[int]) -> None:
            for i in range(0, len(ids), IN_CHUNK):
                part = ids[i : i + IN_CHUNK]
                where = f"customer_id IN ({','.join('?' * len(part))})"
                changes = changes_where(conn, maker, where, part)
                write_changes(conn, maker.now_iso, changes)

        with write_tx(conn):
            t = time.perf_counter()
            stats.swap = {}
            stats.carried = next_queue.swap(conn, self.indexes, self.after, recompute, stats.swap)
        _held(stats, t)
        self.indexes = None
        stats.rebuilt = True
        stats.done += self.built
        self.built = 0
        _checkpoint(conn, stats)

    def abandon(self) -> None:
        if self.indexes is not None:
            next_queue.abandon(self.conn)
            self.indexes = None
