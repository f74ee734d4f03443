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

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from dunning.clock import Clock, to_iso
from dunning.db.connection import data_version, write_tx
from dunning.queue.accounts import UPSERT, NewRow, RowMaker
from dunning.queue.config import Settings
from dunning.queue.promises import evaluate_promises

CHUNK = 5000

_RANGE = "customer_id BETWEEN ? AND ?"
# the promises evaluate_promises(ids) would look at, for an id range
_CANDIDATES = """SELECT customer_id FROM promises
    WHERE status = 'pending' AND customer_id BETWEEN ?1 AND ?2
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
_SCORE_ONLY = "UPDATE queue SET priority = ?, reasons = ?, updated_at = ? WHERE customer_id = ?"
_UPDATE = """UPDATE queue SET state = ?, priority = ?, reasons = ?, next_action = ?,
    next_action_at = ?, open_minor = ?, disputed_minor = ?, unapplied_minor = ?,
    oldest_due = ?, updated_at = ? WHERE customer_id = ?"""


@dataclass
class RefreshStats:
    of: int = 0  # customers at the start
    done: int = 0  # customers in the ranges finished
    changed: int = 0  # queue rows written (new or different)
    unchanged: int = 0  # queue rows already right, not written
    decided: int = 0  # promises decided
    recomputed: int = 0  # ranges read again under the lock (someone wrote meanwhile)
    longest_lock: float = 0.0  # seconds: the longest write transaction
    lock_total: float = 0.0


def refresh_all(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    *,
    chunk: int = CHUNK,
    after_chunk: Callable[[RefreshStats], None] | None = None,
    stats: RefreshStats | None = None,
) -> RefreshStats:
    """Decide promises and bring every queue row up to date; see the module's text.

    Not inside a transaction: it makes its own, one or two per range. ``stats`` (filled
    as it goes) says how far it got when it is interrupted."""
    now = clock.now()
    maker = RowMaker(to_iso(now), now.date(), settings)
    stats = stats if stats is not None else RefreshStats()
    stats.of = int(conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0])
    last = 0
    while True:
        bounds = conn.execute(
            "SELECT MIN(id), MAX(id), COUNT(*) FROM "
            "(SELECT id FROM customers WHERE id > ? ORDER BY id LIMIT ?)",
            (last, chunk),
        ).fetchone()
        if not bounds[2]:
            break
        lo, hi, count = int(bounds[0]), int(bounds[1]), int(bounds[2])
        _refresh_range(conn, clock, settings, maker, lo, hi, stats)
        stats.done += count
        last = hi
        if after_chunk is not None:
            after_chunk(stats)
    return stats


def _refresh_range(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    maker: RowMaker,
    lo: int,
    hi: int,
    stats: RefreshStats,
) -> None:
    candidates = [r[0] for r in conn.execute(_CANDIDATES, (lo, hi))]
    if candidates:
        with write_tx(conn):
            t = time.perf_counter()
            stats.decided += evaluate_promises(conn, clock, settings, candidates)
        _held(stats, t)
    seen = data_version(conn)
    conn.execute("BEGIN")  # one snapshot for the range's reads
    try:
        changes = _changes(conn, maker, lo, hi)
    finally:
        conn.execute("COMMIT")
    if not any(changes[:3]) and data_version(conn) == seen:
        stats.unchanged += changes[3]
        return
    with write_tx(conn):
        t = time.perf_counter()
        if data_version(conn) != seen:  # someone wrote since: read again, under the lock
            stats.recomputed += 1
            changes = _changes(conn, maker, lo, hi)
        _write(conn, maker.now_iso, changes)
    _held(stats, t)
    stats.changed += len(changes[0]) + len(changes[1]) + len(changes[2])
    stats.unchanged += changes[3]


Changes = tuple[list[tuple], list[tuple], list[tuple], int]


def _changes(conn: sqlite3.Connection, maker: RowMaker, lo: int, hi: int) -> Changes:
    """(rows to create, rows whose score alone changes, other changed rows, unchanged)."""
    new_rows: list[NewRow] = []
    score_only: list[tuple] = []
    other: list[NewRow] = []
    same = 0
    for new, old in maker.rows(conn, _RANGE, [lo, hi]):
        if old is None:
            new_rows.append(new)
        elif new == old[:10]:
            same += 1
        elif new[4:] == old[4:10] and new[1] == old[1]:
            score_only.append((new[2], new[3], new[0]))
        else:
            other.append(new)
    return new_rows, score_only, other, same


def _write(conn: sqlite3.Connection, now_iso: str, changes: Changes) -> None:
    created, score_only, other, _ = changes
    if created:
        conn.executemany(UPSERT, [(*r, now_iso) for r in created])
    if score_only:
        conn.executemany(_SCORE_ONLY, [(p, r, now_iso, c) for p, r, c in score_only])
    if other:
        conn.executemany(_UPDATE, [(*r[1:], now_iso, r[0]) for r in other])


def _held(stats: RefreshStats, since: float) -> None:
    held = time.perf_counter() - since
    stats.lock_total += held
    stats.longest_lock = max(stats.longest_lock, held)
