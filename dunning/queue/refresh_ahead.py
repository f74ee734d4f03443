"""The night's reads done while the check runs (``dunning queue refresh``).

Before it writes, the command checks the tables it writes (db/integrity.py
``refresh_check``: 4.2-4.3 s of CPU at 1,000,000 customers, a third of the night). The
check reads only; so do the refresh's first steps: who is read tonight
(queue/refresh_scope.py ``begin``) and the rows of those customers, computed and compared
with the rows as they are (``refresh_rows.changes_where``). So the check runs on a
connection of its own in a thread (``integrity.RefreshCheck``: SQLite leaves the GIL
while ``quick_check`` runs) and this connection reads meanwhile:

1. the scope (one read transaction);
2. the customers who are not promise candidates, ``part`` at a time, each part in a read
   transaction of its own with ``PRAGMA data_version`` noted before it, until the check
   has finished (or all are read). The candidates are left: their promises are decided
   first, by writes that change their rows;
3. the verdict: the check's CorruptDatabase, or the go-ahead (the whole-file check
   recorded, when it was the whole file's).

Nothing is written before the verdict. A read that fails before it (a damaged page met
by a read, or anything a damaged page makes go wrong) waits for the check first: when
the check fails, its message is the one raised, as when it ran before the reads.

``refresh.refresh_all(..., ahead=...)`` then writes: the promises decided, the parts read
ahead (each recomputed under the write lock, as any range is, when another connection
committed since its reads), then the rest read, computed and written as before. The
parts read ahead are kept in memory until they are written: at most what the reads do in
the check's time (at 1M about 40,000 rows of a 70,000-customer night), never more than
the night's scope.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from dunning.clock import Clock, to_iso
from dunning.db.connection import data_version
from dunning.db.integrity import RefreshCheck, named_corrupt
from dunning.queue import refresh_scope
from dunning.queue.accounts import RowMaker
from dunning.queue.config import Settings
from dunning.queue.refresh_rows import IN_CHUNK, Changes, changes_where


@dataclass
class Ahead:
    """What the reads before the verdict found: the scope, the maker whose day it is, and
    the parts computed (ids, ``data_version`` before their reads, their changes)."""

    maker: RowMaker
    scope: refresh_scope.Scope
    parts: deque[tuple[list[int], int, Changes]] = field(default_factory=deque)
    read: set[int] = field(default_factory=set)  # the customers in ``parts``
    check: str = "scoped"  # which check ran: "scoped" or "whole"
    unrecorded: str | None = None  # why a passed whole-file check was not recorded
    check_cpu: float = 0.0  # CPU seconds of the check's thread (bench/bench_refresh.py)
    check_wall: float = 0.0


def read_part(
    conn: sqlite3.Connection, maker: RowMaker, part: list[int]
) -> tuple[str, int, Changes]:
    """The rows of ``part``'s customers computed in one read transaction: (its WHERE,
    the ``data_version`` it was read at, the changes). The writer compares the version
    under its lock and reads again when another connection committed since."""
    where = f"customer_id IN ({','.join('?' * len(part))})"
    seen = data_version(conn)
    conn.execute("BEGIN")
    try:
        changes = changes_where(conn, maker, where, part)
    finally:
        conn.execute("COMMIT")
    return where, seen, changes


def part_size(conn: sqlite3.Connection, chunk: int) -> int:
    """Customers in one IN list: as many as SQLite allows, up to ``chunk``."""
    return max(IN_CHUNK, min(chunk, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) - 1))


def maker_for(clock: Clock, settings: Settings) -> RowMaker:
    now = clock.now()
    maker = RowMaker(to_iso(now), now.date(), settings)
    maker.keep_unchanged = True
    return maker


def read_ahead(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    candidates_sql: str,
    *,
    full: bool = False,
    chunk: int,
    until: RefreshCheck | None = None,
    cell_size_check: str = "ON",
) -> Ahead:
    """The scope, and the parts of non-candidate customers read until ``until`` is done
    (None: none read ahead). Reads only."""
    maker = maker_for(clock, settings)
    was = conn.execute("PRAGMA cell_size_check").fetchone()[0]
    conn.execute(f"PRAGMA cell_size_check = {cell_size_check}")
    try:
        scope = refresh_scope.begin(
            conn, settings, maker.today_iso, maker.now_iso, candidates_sql, full=full
        )
        ahead = Ahead(maker, scope)
        if scope.ids is None or until is None:
            return ahead
        skip = set(scope.candidates or [])
        size = part_size(conn, chunk)
        todo = [c for c in scope.ids if c not in skip]
        for i in range(0, len(todo), size):
            if until.done():
                break
            part = todo[i : i + size]
            _, seen, changes = read_part(conn, maker, part)
            ahead.parts.append((part, seen, changes))
            ahead.read.update(part)
        return ahead
    finally:
        conn.execute(f"PRAGMA cell_size_check = {int(was)}")


def checked_ahead(
    conn: sqlite3.Connection,
    path: Path | str | None,
    clock: Clock,
    settings: Settings,
    *,
    full: bool = False,
    chunk: int | None = None,
) -> Ahead:
    """The command's check (``integrity.refresh_check``) with the night's first reads
    beside it; CorruptDatabase (naming ``path``) when the check fails. See the module's
    text."""
    from dunning.queue import refresh

    check = RefreshCheck(path, clock)
    try:
        try:
            with named_corrupt(path):  # a damaged page met by a read: named, not raw
                ahead = read_ahead(
                    conn,
                    clock,
                    settings,
                    refresh._CANDIDATES,
                    full=full,
                    chunk=refresh.CHUNK if chunk is None else chunk,
                    until=check,
                    cell_size_check=refresh.CELL_SIZE_CHECK,
                )
        except Exception:
            check.wait()  # the check's finding first: a damaged page is the check's to name
            raise
        ahead.check, ahead.unrecorded = check.verdict(conn)
        ahead.check_cpu, ahead.check_wall = check.cpu, check.wall
    except BaseException:
        check.cancel()
        raise
    return ahead
