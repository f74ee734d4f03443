"""The nightly refresh's counts (RefreshStats) and the small steps every writer of the
refresh times with them: rows counted, write locks held, WAL checkpoints (queue/refresh.py)."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from dunning.queue.refresh_rows import Changes


@dataclass
class RefreshStats:
    of: int = 0  # customers at the start
    done: int = 0  # customers in the ranges finished
    changed: int = 0  # queue rows written (new or different)
    unchanged: int = 0  # queue rows already right, not written
    decided: int = 0  # promises decided
    rebuilt: bool = False  # the next queue was built beside the live one and swapped in
    carried: int = 0  # rows written by others during the build, carried over at the swap
    recomputed: int = 0  # ranges read again under the lock (someone wrote meanwhile)
    longest_lock: float = 0.0  # seconds: the longest write transaction, its commit included
    lock_total: float = 0.0
    checkpoints: float = 0.0  # seconds spent copying the WAL back, after the commits
    swap: dict[str, float] | None = None  # seconds of each step of the swap, when rebuilt
    read: int | None = None  # customers read when scoped (queue/refresh_scope.py); None: all


def count(stats: RefreshStats, changes: Changes) -> None:
    stats.changed += len(changes[0]) + len(changes[1]) + len(changes[2])
    stats.unchanged += changes[3]


def held(stats: RefreshStats, since: float) -> None:
    held = time.perf_counter() - since
    stats.lock_total += held
    stats.longest_lock = max(stats.longest_lock, held)


def checkpoint(conn: sqlite3.Connection, stats: RefreshStats) -> None:
    """Copy the WAL back, PASSIVE (it waits for no one and no one waits for it), after a
    range is written and counted (a Ctrl-C here loses no count)."""
    t = time.perf_counter()
    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    stats.checkpoints += time.perf_counter() - t
