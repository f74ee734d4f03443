"""One SQLite file shared by every collector's process.

WAL mode, foreign keys on, a busy timeout, ``synchronous=FULL`` (a committed outcome
survives a power cut; measured at ~0.3 ms a commit here, against ~0.1 ms for NORMAL, and
3-25 ms at the disk's p99 on a busy host). A transaction that writes only what a power cut
may take back without harm (a claim's lease: see :func:`write_tx`'s ``durable``) is
committed with ``synchronous=NORMAL``: not synced by itself, synced by the next durable
commit of any connection (the WAL is one file, written in order) or checkpoint.
Every write transaction starts with ``BEGIN IMMEDIATE`` through :func:`write_tx`, which
is also the one place that waits for the write lock, up to ``DUNNING_LOCK_WAIT`` seconds
(default 120: docs/IMPORT.md's first million-row load holds it ~27 s), telling the person
who waits (dunning/db/lockwait.py), so that a user never sees "database is locked".

write_tx is also where a connection checks that its file is still the file at its path
(device and inode, recorded when it opened): a database deleted or replaced under a
running session (a restore moved over it) would otherwise take every later write into
the unlinked file and lose it while saying "saved". Then :class:`FileReplaced` stops the
work with a clear message. One ``os.stat`` before each ``COMMIT``: ~7-10 µs measured here
against ~210-240 µs for a durable one-row commit (bench/bench_write_guard.py).
"""

from __future__ import annotations

import os
import random
import sqlite3
import stat
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from dunning.db import private
from dunning.i18n import _

# SQLite's busy timeout for reads and checkpoints. Waiting for the write lock is
# write_tx's: short steps with jittered pauses until the lock wait ends (db/lockwait.py).
BUSY_TIMEOUT_MS = 1000
WRITE_RETRIES = 8  # the WAL switch of a new file (see _wal)


class DatabaseError(Exception):
    """A storage problem worth a clear message (never a traceback)."""


class FileReplaced(DatabaseError):
    """The file at the database's path is no longer the file this connection writes to."""

    def __init__(self, path: Path, saved_at: float) -> None:
        self.path = path
        self.saved_at = saved_at
        super().__init__(
            _(
                "the database file {path} was replaced or deleted while you worked; nothing "
                "was saved after {time}; restart dunning"
            ).format(path=path, time=time.strftime("%H:%M", time.localtime(saved_at)))
        )


class Connection(sqlite3.Connection):
    """sqlite3's connection, with what write_tx needs to know about its file."""

    db_path: Path | None = None
    file_id: tuple[int, int] | None = None  # (st_dev, st_ino) of the path when opened
    last_saved: float = 0.0  # wall time of the last commit (or of opening)
    durable_sync: str = "FULL"  # the synchronous level of every durable commit
    # called while write_tx waits for the lock (a LockWait), then with None when it got it
    on_wait: Callable[[Any], None] | None = None


def default_db_path() -> Path:
    """``$DUNNING_DB``, else ``$XDG_DATA_HOME/dunning/dunning.db`` (~/.local/share)."""
    env = os.environ.get("DUNNING_DB")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dunning" / "dunning.db"


def _file_id(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


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
        _("a directory")
        if stat.S_ISDIR(mode)
        else _("a named pipe (FIFO)")
        if stat.S_ISFIFO(mode)
        else _("a socket")
        if stat.S_ISSOCK(mode)
        else _("a device")
        if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
        else _("not a regular file")
    )
    raise DatabaseError(_("{path} is {kind}, not a database file").format(path=path, kind=kind))


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
            factory=Connection,
        )
    else:
        private.prepare_db(path)  # created 0600 (0640 with file_group), whatever the umask
        before = _file_id(path)
        conn = sqlite3.connect(
            str(path),
            isolation_level=None,
            timeout=BUSY_TIMEOUT_MS / 1000,
            check_same_thread=not any_thread,
            factory=Connection,
        )
        assert isinstance(conn, Connection)
        conn.db_path = path
        conn.last_saved = time.time()
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys=ON")
    if not readonly:
        _wal(conn)  # a new file exists from here on
        private.settle_db(path)
        assert isinstance(conn, Connection)
        now = _file_id(path)
        # the file we opened: the one there before and after (a new one: after)
        conn.file_id = now if before in (None, now) else None
        if conn.file_id is None and str(path) not in ("", ":memory:"):
            conn.close()
            raise DatabaseError(
                _("the database file {path} was replaced while it was being opened; try again")
                .format(path=path)
            )  # fmt: skip
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


def check_same_file(conn: sqlite3.Connection) -> None:
    """Raise FileReplaced when the path no longer names the file this connection opened
    (deleted, or another file moved over it). A connection without a path (opened by
    sqlite3 directly, read-only) is not checked."""
    expected = getattr(conn, "file_id", None)
    if expected is None:
        return
    path: Path = conn.db_path  # type: ignore[attr-defined]
    if _file_id(path) != expected:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        _empty_wal(conn)
        raise FileReplaced(path, conn.last_saved)  # type: ignore[attr-defined]


def _empty_wal(conn: sqlite3.Connection) -> None:
    """Empty this connection's WAL into its own (replaced) file: a restore moved over the
    database leaves the old ``-wal`` beside the new file, and the next process to open it
    would replay the old file's pages onto the restored one. The checkpoint writes only
    through the descriptors this connection holds (the old file, the old WAL)."""
    with suppress(sqlite3.Error):
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    # closing the last connection to the old file would checkpoint and delete the WAL at
    # the path, by name, which may by then be the new file's: not on close (Python 3.12+)
    setconfig = getattr(conn, "setconfig", None)
    flag = getattr(sqlite3, "SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE", None)
    if setconfig is not None and flag is not None:
        with suppress(sqlite3.Error):
            setconfig(flag, True)


@contextmanager
def write_tx(conn: sqlite3.Connection, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error.

    Taking the write lock up front means a transaction never fails half-way because
    another process wrote first. The lock is waited for up to the lock wait (see
    dunning/db/lockwait.py); just before the commit, the file is checked to still be the
    path's (FileReplaced: rolled back, nothing acknowledged).

    ``durable=False``: the COMMIT does not wait for the disk (``synchronous=NORMAL`` for
    this transaction only). Its changes are seen by every process at once and survive any
    crash of a process; only a power cut or a crash of the host before the next durable
    commit (any connection's: they share one WAL, synced as a whole and in order) or
    checkpoint takes them back, and with them every process that relied on them. Only for
    what such a cut may undo without harm: a claim's lease (the holder dies with the
    host; a lease lost is a lease expired), the claim's memos and wakes (worked out again).
    Never for what a person typed or decided (:func:`sync_wal` when a lax transaction
    also wrote some of that).
    """
    from dunning.db.lockwait import begin_immediate

    lax = not durable
    if lax:
        conn.execute("PRAGMA synchronous=NORMAL")  # not allowed inside a transaction
    try:
        yield from _write_tx(conn, begin_immediate)
    finally:
        if lax:
            conn.execute(f"PRAGMA synchronous={getattr(conn, 'durable_sync', 'FULL')}")


def _write_tx(
    conn: sqlite3.Connection, begin_immediate: Callable[[sqlite3.Connection], None]
) -> Iterator[sqlite3.Connection]:
    try:
        begin_immediate(conn)
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        yield conn
        check_same_file(conn)  # nothing is committed into a file no longer at the path
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
        if isinstance(conn, Connection):
            conn.last_saved = time.time()


def sync_wal(conn: sqlite3.Connection) -> None:
    """Make every commit so far durable, as ``synchronous=FULL`` would have at its COMMIT:
    one fsync of the WAL file (the commits of a lax :func:`write_tx` that wrote something
    a person must not lose, e.g. a promise decided). No-op without a file path."""
    path = getattr(conn, "db_path", None)
    if path is None:
        return
    try:
        fd = os.open(f"{path}-wal", os.O_RDONLY)
    except FileNotFoundError:
        return  # no WAL: nothing was written since the last checkpoint emptied it
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def main_path(conn: sqlite3.Connection) -> str:
    """The main database's file ('' in memory or temporary): where another process opens it."""
    rows = conn.execute("PRAGMA database_list").fetchall()
    return next((str(r[2] or "") for r in rows if r[1] == "main"), "")


def data_version(conn: sqlite3.Connection) -> int:
    """Changes when another connection commits: a cheap cross-process change signal."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])


def manual_checkpoints(conn: sqlite3.Connection) -> None:
    """No automatic checkpoint on this connection's commits: SQLite runs one inside the
    COMMIT that crosses 1000 WAL pages, and that commit (an outcome) then waits for pages
    to be copied and synced (commit p99 5.7 -> 1.8 ms at 1M customers without). Whoever
    calls this must checkpoint itself (:func:`checkpoint`, as WorkSession does every
    CHECKPOINT_EVERY seconds off the event loop); every other connection keeps SQLite's
    automatic one, so the WAL stays bounded."""
    conn.execute("PRAGMA wal_autocheckpoint=0")


def checkpoint(conn: sqlite3.Connection, mode: str = "PASSIVE") -> tuple[int, int, int]:
    """Copy the WAL's committed pages into the database file: ``PASSIVE`` waits for no one
    (writers go on; what readers still need stays in the WAL for the next one);
    ``TRUNCATE`` (a nightly job, when no one works) also empties the WAL file. Returns
    SQLite's (busy, WAL frames, frames checkpointed)."""
    if mode not in ("PASSIVE", "FULL", "RESTART", "TRUNCATE"):
        raise ValueError(f"unknown checkpoint mode {mode!r}")
    busy, log, done = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
    return int(busy), int(log), int(done)


SORT_CACHE_KIB = 2048  # the main page cache while a big sort runs (sort_cache)


@contextmanager
def sort_cache(conn: sqlite3.Connection) -> Iterator[None]:
    """The main page cache at ``SORT_CACHE_KIB`` while big sorts run (CREATE INDEX, a
    GROUP BY over a million staged rows), the one before restored. SQLite's sorter sorts
    runs as large as the main database's page cache in memory before merging them (for
    a TEMP table too): with the import's 32 MB cache, the four deferred invoice indexes
    of a 1,000,000-row first load took 5.0-6.1 s; with 2 MB runs (sorted within the
    CPU's caches, merged from the OS's) 3.2-3.9 s."""
    cache = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute(f"PRAGMA cache_size={-SORT_CACHE_KIB}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA cache_size={cache}")
