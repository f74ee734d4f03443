"""``PRAGMA quick_check`` of the live database, run by ``backup`` (the whole file) and the
nightly ``queue refresh`` (the tables it writes, or the whole file when no whole-file check
passed within 24 h: ``refresh_check``) before they read, copy or write anything.

A damaged page is otherwise noticed only when a collector's screen happens to read it,
and a backup of it is a copy of the damage. The check reads every page: 6 s for the
100,000-customer demo (274 MB) on the shared 2-core test host. It finds broken b-tree
pages, bad free lists, out-of-order records and broken NOT NULL/CHECK constraints, not
an index that disagrees with its table (``PRAGMA integrity_check``: slower).

``queue refresh`` checks only the tables it writes and their indexes (``REFRESH_WRITES``,
``PRAGMA quick_check(TABLE)`` each): at 1,000,000 customers the whole 3.1 GB file takes
16-17 s, more than the command's budget, and the tables it writes about 4 s of CPU. What it
only reads (invoices, payments, customers, phones...) is read under ``named_corrupt``: a
read that meets a damaged page (SQLITE_CORRUPT, SQLITE_NOTADB) stops the run with the same
named message, before anything more is written. Not covered by a partial check: the file's
free list (SQLite checks it only in a whole-file check), which the writes draw new pages
from, and pages the refresh never reads. Hence the policy (``refresh_check``): every
whole-file check that passes (``dunning backup``'s, the refresh's own) is recorded in
``meta`` (key ``CHECKED_KEY``: when, by the command's clock, and what); the refresh runs
the partial check only when a whole-file check passed less than ``WHOLE_EVERY`` (24 h)
before, by its clock, and the whole one otherwise (none recorded, unreadable, or recorded
in the future: a clock set back). The nightly order import, backup, refresh makes the
refresh's check the partial one.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from dunning.clock import Clock, from_iso, to_iso
from dunning.db.connection import DatabaseError, write_tx
from dunning.i18n import _

SQLITE_CORRUPT = 11
SQLITE_NOTADB = 26
CHECKED_KEY = "integrity.checked"  # meta: the last whole-file quick_check that passed
WHOLE_EVERY = timedelta(hours=24)  # a recorded check younger than this: the partial one
SHOWN = 3  # problems quoted in the message (quick_check lists up to 100)
# The tables ``queue refresh`` writes (rows rewritten or appended, with their indexes):
# the queue rows, the promises it decides and their history (activities), the aging
# snapshot it advances, the writer's note (meta) and its audit row. At 1,000,000
# customers, CPU seconds of ``quick_check(TABLE)`` under load 8: queue 2.2, activities
# 1.0, promises 0.5, the rest ~0.
REFRESH_WRITES = (
    "queue",
    "promises",
    "activities",
    "aging_snapshot",
    "aging_snapshot_state",
    "aging_dirty",
    "refresh_dirty",  # queue/refresh_scope.py: the refresh's own record
    "refresh_state",
    "meta",
    "audit_log",
)


class CorruptDatabase(DatabaseError):
    """The live database failed ``PRAGMA quick_check``; the message names the file."""


def is_corrupt(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite saying the file is damaged or not a database (extended
    codes such as SQLITE_CORRUPT_INDEX included)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in (SQLITE_CORRUPT, SQLITE_NOTADB)


def quick_check(conn: sqlite3.Connection, tables: Sequence[str] | None = None) -> list[str]:
    """``["ok"]``, or the problems quick_check found (at most 100): of the whole file, or
    of ``tables`` and their indexes only (those that exist)."""
    try:
        if tables is None:
            return [str(r[0]) for r in conn.execute("PRAGMA main.quick_check(100)")]
        present = {
            str(r[0])
            for r in conn.execute("SELECT name FROM main.sqlite_master WHERE type = 'table'")
        }
        problems: list[str] = []
        for table in tables:
            if table not in present:
                continue
            found = [str(r[0]) for r in conn.execute(f'PRAGMA main.quick_check("{table}")')]
            if found != ["ok"]:
                problems += found
        return problems or ["ok"]
    except sqlite3.DatabaseError as exc:
        if is_corrupt(exc):
            return [str(exc)]
        raise


def check_live(
    conn: sqlite3.Connection, path: Path | str | None, tables: Sequence[str] | None = None
) -> None:
    """CorruptDatabase naming ``path`` when quick_check (of ``tables`` only, when given)
    finds a problem."""
    problems = quick_check(conn, tables)
    if problems == ["ok"]:
        return
    shown = "; ".join(" ".join(p.split()) for p in problems[:SHOWN])
    if len(problems) > SHOWN:
        shown += _(" (and {n} more)").format(n=len(problems) - SHOWN)
    raise CorruptDatabase(
        _(
            "{path}: the live database is damaged (PRAGMA quick_check: {problems}); nothing "
            "was written. Stop the collectors, keep a copy of the file as it is and restore "
            "the last good backup (sqlite3 .recover may save what a backup lacks)"
        ).format(path=path or "database", problems=shown)
    )


def damaged_on_read(path: Path | str | None, exc: BaseException | str) -> CorruptDatabase:
    """The named message for a damaged page met by a read (not by the check)."""
    problem = " ".join(str(exc).split())
    return CorruptDatabase(
        _(
            "{path}: the live database is damaged (read: {problems}); nothing more was "
            "written. Stop the collectors, keep a copy of the file as it is and restore "
            "the last good backup (sqlite3 .recover may save what a backup lacks)"
        ).format(path=path or "database", problems=problem)
    )


@contextmanager
def named_corrupt(path: Path | str | None) -> Iterator[None]:
    """Turn SQLITE_CORRUPT / SQLITE_NOTADB met by the block into CorruptDatabase naming
    ``path`` (a transaction the block had open is rolled back by its own ``write_tx``)."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        if is_corrupt(exc):
            raise damaged_on_read(path, exc) from None
        raise


def record_whole(conn: sqlite3.Connection, clock: Clock, by: str) -> str | None:
    """Record in ``meta`` that a whole-file quick_check of this file just passed, in its
    own short write transaction (after the check, never holding the lock during it).
    None, or the reason it could not be recorded (a read-only file, the lock not had, no
    ``meta`` table): not fatal, the next refresh then runs the whole check itself."""
    from dunning.db.lockwait import _os_name

    now = clock.now()
    value = json.dumps(
        {"check": "quick_check", "scope": "whole file", "by": by, "at": to_iso(now)},
        sort_keys=True,
    )
    try:
        with write_tx(conn):
            conn.execute(
                "INSERT INTO meta (key, value, set_at, set_by) VALUES (?,?,?,?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value, "
                "set_at = excluded.set_at, set_by = excluded.set_by",
                (CHECKED_KEY, value, to_iso(now), _os_name()),
            )
    except (sqlite3.Error, DatabaseError) as exc:
        return " ".join(str(exc).split()) or type(exc).__name__
    return None


def last_whole(conn: sqlite3.Connection) -> datetime | None:
    """When the last recorded whole-file check passed (UTC), or None: none recorded, or
    the record unreadable (a damaged page, a value that is not ours)."""
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (CHECKED_KEY,)).fetchone()
        if row is None:
            return None
        value = json.loads(str(row[0]))
        if value.get("scope") != "whole file" or value.get("check") != "quick_check":
            return None
        return from_iso(str(value["at"]))
    except (sqlite3.Error, ValueError, TypeError, KeyError, AttributeError):
        return None


def whole_due(conn: sqlite3.Connection, clock: Clock) -> bool:
    """Whether the refresh must check the whole file: no whole-file check recorded as
    passed within ``WHOLE_EVERY`` before ``clock``'s now (one in the future counts as
    none: a clock set back must not excuse a check)."""
    at = last_whole(conn)
    if at is None:
        return True
    age = clock.now() - at
    return not timedelta(0) <= age < WHOLE_EVERY


def refresh_check(
    conn: sqlite3.Connection, path: Path | str | None, clock: Clock
) -> tuple[str, str | None]:
    """The refresh's check before it writes: ``("scoped", None)`` when a whole-file
    check passed within ``WHOLE_EVERY``, else the whole file, recorded when it passes
    (``("whole", why not recorded or None)``). CorruptDatabase naming ``path`` when it
    fails."""
    if not whole_due(conn, clock):
        check_live(conn, path, REFRESH_WRITES)
        return "scoped", None
    check_live(conn, path)
    return "whole", record_whole(conn, clock, "queue refresh")


class RefreshCheck:
    """``refresh_check``'s check run on a connection of its own in a thread, while the
    refresh reads what it will write (queue/refresh_ahead.py): SQLite leaves Python's GIL
    while ``PRAGMA quick_check`` runs, so the check and the reads share the two cores.
    Nothing may be written before :meth:`verdict` returned: it waits for the check and
    raises its CorruptDatabase, exactly as ``refresh_check`` would have before the reads
    (the whole-file check's record is written by :meth:`verdict`, after it passed, on the
    caller's connection). A file without a path (in memory) is checked by :meth:`verdict`
    itself, on the caller's connection."""

    def __init__(self, path: Path | str | None, clock: Clock) -> None:
        self.path = path
        self.clock = clock
        self.scope = "scoped"
        self.error: BaseException | None = None
        self.cpu = 0.0  # CPU seconds of the check's thread
        self.wall = 0.0  # its wall seconds
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        if path:
            self._thread = threading.Thread(
                target=self._run, name="dunning-refresh-check", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        from dunning.db.connection import connect

        cpu, wall = time.thread_time(), time.perf_counter()
        try:
            conn = connect(str(self.path), readonly=True)
            with self._lock:
                self._conn = conn
            try:
                self.scope = "whole" if whole_due(conn, self.clock) else "scoped"
                check_live(conn, self.path, None if self.scope == "whole" else REFRESH_WRITES)
            finally:
                with self._lock:
                    self._conn = None
                conn.close()
        except BaseException as exc:  # handed to verdict(), in the caller's thread
            self.error = exc
        self.cpu, self.wall = time.thread_time() - cpu, time.perf_counter() - wall

    def done(self) -> bool:
        """Whether the check has finished (passed or not)."""
        return self._thread is None or not self._thread.is_alive()

    def wait(self) -> None:
        """Wait for the check; raise what it found (CorruptDatabase naming the file, or
        the error that stopped it). Nothing recorded."""
        if self._thread is not None:
            self._thread.join()
        if self.error is not None:
            raise self.error

    def verdict(self, conn: sqlite3.Connection) -> tuple[str, str | None]:
        """``refresh_check``'s answer: ``("scoped", None)`` or ``("whole", why the
        whole-file check was not recorded, or None)``, once the check passed; its
        CorruptDatabase when it failed."""
        if self._thread is None:
            return refresh_check(conn, self.path, self.clock)
        self.wait()
        if self.scope == "whole":
            return "whole", record_whole(conn, self.clock, "queue refresh")
        return "scoped", None

    def cancel(self) -> None:
        """Stop the check (a Ctrl-C, an error before the verdict) and wait for it."""
        with self._lock:
            if self._conn is not None:
                self._conn.interrupt()
        if self._thread is not None:
            self._thread.join()
