"""Waiting for the write lock: how long, and telling the person who waits.

SQLite lets one writer at a time. ``write_tx`` waits for the lock up to the lock wait
(``DUNNING_LOCK_WAIT`` seconds, default 120: longer than the longest writer the docs
describe, a first million-row import holding it ~27 s, docs/IMPORT.md), in short steps:
SQLite's own busy handler for ``STEP_MS`` (it polls after 1, 2, 5 and 10 ms), then a
jittered pause, then again. SQLite's handler alone backs off to 100 ms sleeps, so under
a team of writers the waiter who came first sat out whole timeouts while later ones,
still polling fast, took every gap (issue 8: claim p99 4.2 s during a lead's move); short
steps with a random pause let waiters take turns. The connection's busy timeout for
everything else (reads, a checkpoint) stays ``connection.BUSY_TIMEOUT_MS``.
From the first second on, each second waited is reported to the
connection's ``on_wait`` (the screen's status line) or else to the process's reporter
(the CLI's stderr line) as a :class:`LockWait`, then ``None`` once the lock is taken.

Who holds it: long writers (import, queue refresh, bulk assign) announce themselves with
:func:`announce` in the ``meta`` table (key ``writer``: what, OS user, since, pid, host)
before they take the lock and remove the note after; a waiting process reads it (reads
are never blocked in WAL mode). A note whose process is gone (same host) is ignored, so
a killed import never names itself for ever. Short writers (a collector's outcome, a
claim) write no note: they hold the lock for milliseconds.
"""

from __future__ import annotations

import json
import os
import pwd
import random
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime

from dunning.i18n import N_, _

DEFAULT_LOCK_WAIT = 120.0
# one step of SQLite's busy handler while waiting for the write lock, then a random pause
# of up to JITTER_S before the next step (see the module's note)
STEP_MS = 25
JITTER_S = 0.004
WRITER_KEY = "writer"
# what a long writer announces (a code: the waiting person reads it in their language)
WRITERS = {"import": N_("import"), "assign": N_("reassignment"), "refresh": N_("queue refresh")}


@dataclass(frozen=True)
class Holder:
    """Who announced a long write: what, the OS user, since when (UTC ISO)."""

    what: str
    by: str
    since: str
    pid: int
    host: str

    def label(self) -> str:
        try:
            since = datetime.fromisoformat(self.since).astimezone().strftime("%H:%M")
        except ValueError:
            since = self.since
        what = _(WRITERS[self.what]) if self.what in WRITERS else self.what
        return _("{what} by {by} since {since}").format(what=what, by=self.by, since=since)


@dataclass(frozen=True)
class LockWait:
    seconds: float
    holder: Holder | None

    def message(self) -> str:
        n = int(self.seconds)
        if self.holder is None:
            return _("waiting for the write lock: {n} s").format(n=n)
        return _("waiting for the write lock ({holder}): {n} s").format(
            holder=self.holder.label(), n=n
        )


Reporter = Callable[[LockWait | None], None]
_reporter: Reporter | None = None


def set_reporter(reporter: Reporter | None) -> None:
    """The process-wide reporter for connections without their own ``on_wait``."""
    global _reporter
    _reporter = reporter


def lock_wait_seconds() -> float:
    """``$DUNNING_LOCK_WAIT`` (seconds, 1 to 86400), else 120. The CLI checks it at start
    (cli.py), so a bad value is said at once, not first when a write has to wait."""
    text = os.environ.get("DUNNING_LOCK_WAIT", "").strip()
    if not text:
        return DEFAULT_LOCK_WAIT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 1 <= value <= 86400:  # nan and inf fail too
        from dunning.db.connection import DatabaseError

        raise DatabaseError(
            _("DUNNING_LOCK_WAIT={value!r} is not a number of seconds between 1 and 86400")
            .format(value=text[:200])
        )  # fmt: skip
    return value


def _locked(exc: sqlite3.OperationalError) -> bool:
    msg = str(exc).lower()
    return "locked" in msg or "busy" in msg


def begin_immediate(conn: sqlite3.Connection) -> None:
    """``BEGIN IMMEDIATE``, waiting for the lock up to the lock wait and saying so."""
    from dunning.db.connection import BUSY_TIMEOUT_MS

    conn.execute(f"PRAGMA busy_timeout={STEP_MS}")  # the write lock: short steps
    try:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not _locked(exc):
                raise
        _wait(conn)
    finally:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def holder(conn: sqlite3.Connection) -> Holder | None:
    """The long writer's note, when its process may still be alive."""
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (WRITER_KEY,)).fetchone()
    except sqlite3.Error:  # no meta table yet (an old file), or busy: name nobody
        return None
    if row is None:
        return None
    try:
        note = json.loads(row[0])
        found = Holder(
            str(note["what"]), str(note["by"]), str(note["since"]), int(note["pid"]),
            str(note["host"]),
        )  # fmt: skip
    except (ValueError, KeyError, TypeError):
        return None
    if found.host == socket.gethostname() and not _alive(found.pid):
        return None
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def _os_name() -> str:
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


@contextmanager
def announce(conn: sqlite3.Connection, what: str, since_iso: str) -> Iterator[None]:
    """Name this process as the long writer while the block runs (best effort: a file
    without the ``meta`` table gets no note)."""
    from dunning.db.connection import write_tx

    note = json.dumps(
        {"what": what, "by": _os_name(), "since": since_iso, "pid": os.getpid(),
         "host": socket.gethostname()}, sort_keys=True,
    )  # fmt: skip
    written = False
    try:
        with write_tx(conn):
            conn.execute(
                "INSERT INTO meta (key, value, set_at, set_by) VALUES (?,?,?,?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value, "
                "set_at = excluded.set_at, set_by = excluded.set_by",
                (WRITER_KEY, note, since_iso, _os_name()),
            )
        written = True
    except sqlite3.OperationalError:
        pass
    try:
        yield
    finally:
        if written:
            with suppress(Exception):
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                with write_tx(conn):
                    conn.execute("DELETE FROM meta WHERE key = ? AND value = ?", (WRITER_KEY, note))


def _wait(conn: sqlite3.Connection) -> None:
    from dunning.db.connection import DatabaseError

    limit = lock_wait_seconds()
    report: Reporter | None = getattr(conn, "on_wait", None) or _reporter
    started = time.monotonic() - STEP_MS / 1000  # the first step already waited
    who: Holder | None = None
    asked = -10.0
    said = 0  # whole seconds reported so far
    try:
        while True:
            waited = time.monotonic() - started
            if waited >= limit:
                who = holder(conn)
                what = who.label() if who else _("another process")
                raise DatabaseError(
                    _(
                        "the database is busy: {what} has held the write lock for over "
                        "{n} s; try again later (DUNNING_LOCK_WAIT sets how long to wait)"
                    ).format(what=what, n=int(limit))
                )
            if int(waited) > said:  # once a second, from the first second on
                said = int(waited)
                if waited - asked >= 5:  # the note changes rarely: read it every 5 s
                    who, asked = holder(conn), waited
                if report is not None:
                    report(LockWait(waited, who))
            time.sleep(random.random() * JITTER_S)
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _locked(exc):
                    raise
    finally:
        if said and report is not None:
            report(None)
