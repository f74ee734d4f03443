"""One SQLite file shared by every collector's process.

WAL mode, foreign keys on, a busy timeout, ``synchronous=FULL`` (a committed outcome
survives a power cut; measured at ~0.3 ms a commit here, against ~0.1 ms for NORMAL).
Every write transaction starts with ``BEGIN IMMEDIATE`` through :func:`write_tx`, which
is also the one place that retries with backoff when SQLite's unfair busy handler gives
up ("database is locked"), so that a user never sees it.
"""

from __future__ import annotations

import os
import random
import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

BUSY_TIMEOUT_MS = 5000
WRITE_RETRIES = 8


class DatabaseError(Exception):
    """A storage problem worth a clear message (never a traceback)."""


def default_db_path() -> Path:
    """``$DUNNING_DB``, else ``$XDG_DATA_HOME/dunning/dunning.db`` (~/.local/share)."""
    env = os.environ.get("DUNNING_DB")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dunning" / "dunning.db"


def refuse_non_regular(path: str | Path) -> None:
    """DatabaseError when ``path`` exists and is not a regular file (or a link to one):
    SQLite would wait forever on a FIFO and read a device or socket as pages. A missing
    path is fine (a new database); a directory is refused too."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise DatabaseError(f"{path}: {exc.strerror or exc}") from None
    if stat.S_ISREG(mode):
        return
    kind = (
        "a directory"
        if stat.S_ISDIR(mode)
        else "a named pipe (FIFO)"
        if stat.S_ISFIFO(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "a device"
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else "not a regular file"
    )
    raise DatabaseError(f"{path} is {kind}, not a database file")


def connect(
    path: str | Path, *, readonly: bool = False, any_thread: bool = False
) -> sqlite3.Connection:
    """A connection in autocommit mode; transactions are explicit (see write_tx).

    ``any_thread``: the caller serializes use across threads itself (WorkSession's lock).
    A path that is not a regular file is refused first (``refuse_non_regular``).
    """
    if str(path) != ":memory:":
        refuse_non_regular(path)
    path = Path(path)
    if readonly:
        uri = f"file:{path}?mode=ro"
        conn = sqlite3.connect(
            uri,
            uri=True,
            isolation_level=None,
            timeout=BUSY_TIMEOUT_MS / 1000,
            check_same_thread=not any_thread,
        )
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            str(path),
            isolation_level=None,
            timeout=BUSY_TIMEOUT_MS / 1000,
            check_same_thread=not any_thread,
        )
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys=ON")
    if not readonly:
        _wal(conn)
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA cache_size=-20000")
    return conn


def _wal(conn: sqlite3.Connection) -> None:
    """Switch a new file to WAL. The switch needs the file to itself and SQLite answers
    "database is locked" at once, without the busy handler, when another process is
    opening the same new file (every collector's first morning): retry as write_tx does."""
    delay = 0.005
    for attempt in range(WRITE_RETRIES):
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if not _is_locked(exc) or attempt == WRITE_RETRIES - 1:
                raise
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 0.5)


def open_db(path: str | Path) -> sqlite3.Connection:
    """Connect and bring the schema up to date."""
    from dunning.db.schema import migrate

    conn = connect(path)
    migrate(conn)
    return conn


def _is_locked(exc: sqlite3.OperationalError) -> bool:
    msg = str(exc).lower()
    return "locked" in msg or "busy" in msg


@contextmanager
def write_tx(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error.

    Taking the write lock up front means a transaction never fails half-way because
    another process wrote first. Acquiring the lock is retried with jittered backoff.
    """
    delay = 0.005
    for attempt in range(WRITE_RETRIES):
        try:
            conn.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError as exc:
            if not _is_locked(exc) or attempt == WRITE_RETRIES - 1:
                raise DatabaseError(
                    "the database is busy: another process holds the write lock; try again"
                ) from exc
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 0.5)
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        try:
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def data_version(conn: sqlite3.Connection) -> int:
    """Changes when another connection commits: a cheap cross-process change signal."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])
