"""``dunning backup DEST``: a consistent copy of the live database.

SQLite's online backup API copies every page in one step inside a read transaction, so
the copy is the database as of one instant even while collectors keep writing (WAL lets
them). The copy goes to ``DEST.partial``, is checked with ``PRAGMA quick_check``, made
durable, then renamed into place: a crash never leaves a half-written DEST.

- The live database is checked first (``PRAGMA quick_check``): a corrupt page stops the
  backup with a message naming the live file, and nothing is written. A check that
  passes is recorded in the live file's ``meta`` (db/integrity.py ``record_whole``), so
  the nightly refresh may check only the tables it writes.
- A destination that is part of a live database is refused, ``--force`` or not: the
  live file, its ``-wal``, ``-shm`` or ``-journal``, whatever path (symlink, hard link)
  leads to them, and any database file that has a ``-wal``/``-shm``/``-journal`` beside
  it (overwriting it would corrupt that database).
- A destination that exists and is not a regular file (a device, a FIFO, a socket, a
  symbolic link) is refused, ``--force`` or not: the rename would replace it with a file
  (``/dev/null`` as root).
- The ``.partial`` is created private (dunning/db/private.py) and locked (``flock``) for
  the whole run. A ``.partial`` left by a killed backup holds no lock: the next backup
  into the same directory removes it, and only such ones: SQLite files of this user
  whose lock nobody holds (a backup still running holds its lock).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from dunning.clock import Clock
from dunning.db import private
from dunning.db.integrity import CorruptDatabase, check_live, record_whole
from dunning.i18n import _

SQLITE_HEADER = b"SQLite format 3\x00"
EMPTY_STALE_SECONDS = 3600


class BackupError(Exception):
    pass


class DamagedLive(BackupError, CorruptDatabase):
    """The live database failed its check: a backup error, and nothing may be written to
    the damaged file (not even the audit row)."""


@dataclass
class BackupResult:
    path: Path
    bytes: int
    seconds: float
    cleaned: list[Path] = field(default_factory=list)  # stale .partial files removed
    unrecorded: str | None = None  # why the live file's passed check was not recorded


def live_path(conn: sqlite3.Connection) -> Path | None:
    main = conn.execute("PRAGMA database_list").fetchone()
    return Path(main[2]) if main and main[2] else None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _real(path: Path) -> Path:
    """The path with every symlink resolved (a loop stays as it is: no exception)."""
    return Path(os.path.realpath(path))


def refuse_live_parts(dest: Path, live: Path | None) -> None:
    """BackupError when writing ``dest`` would overwrite a live database or one of the
    files SQLite keeps beside it."""
    target = _real(dest)
    if live is not None:
        parts = [live, *(Path(f"{live}{s}") for s in private.SUFFIXES)]
        for part in parts:
            if target in (_real(part), part.absolute()) or _same_file(dest, part):
                if part == live:
                    raise BackupError(
                        _(
                            "{dest}: is the live database itself ({live}); choose another name"
                        ).format(dest=dest, live=live)  # fmt: skip
                    )
                raise BackupError(
                    _(
                        "{dest}: is part of the live database {live} (its {suffix} file); "
                        "choose another name"
                    ).format(  # fmt: skip
                        dest=dest, live=live, suffix=str(part)[len(str(live)) :]
                    )
                )
    for suffix in private.SUFFIXES:
        # another database's journal or WAL (live or left to recover), or a file that has one
        if target.name.endswith(suffix):
            owner = target.with_name(target.name[: -len(suffix)])
            if owner.is_file():
                raise BackupError(
                    _(
                        "{dest}: is the {suffix} file of the database {owner}; choose another name"
                    ).format(dest=dest, suffix=suffix, owner=owner)  # fmt: skip
                )
        if os.path.lexists(f"{target}{suffix}"):
            raise BackupError(
                _(
                    "{dest}: is a database in use or not cleanly closed ({suffix} beside it); "
                    "choose another name"
                ).format(dest=dest, suffix=f"{target}{suffix}")  # fmt: skip
            )


def refuse_special(dest: Path) -> None:
    """BackupError when ``dest`` exists and is not a regular file (or a link to one):
    ``--force`` renames the copy over the path, so a device (``/dev/null`` as root), a
    pipe, a socket or ``/dev/stdout``'s link would be replaced by a file."""
    if os.path.lexists(dest) and (dest.is_symlink() or not dest.is_file()):
        raise BackupError(
            _(
                "{dest}: is not a regular file (a device, pipe, socket or link); "
                "choose a file or a directory"
            ).format(dest=dest)  # fmt: skip
        )


def _is_ours(path: Path, now: float) -> bool:
    """A regular file of this user holding an SQLite database (or nothing, for an hour:
    a report's ``.partial`` is empty for an instant too)."""
    try:
        st = path.lstat()
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid():
            return False
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except OSError:
        return False
    return head == SQLITE_HEADER or (head == b"" and now - st.st_mtime > EMPTY_STALE_SECONDS)


def clean_stale(directory: Path) -> list[Path]:
    """Remove the ``.partial`` backups left in ``directory`` by killed backups: SQLite
    files of this user that no running backup holds locked. Returns what was removed."""
    removed: list[Path] = []
    try:
        candidates = sorted(directory.glob("*.partial"))
    except OSError:
        return removed
    now = time.time()
    for path in candidates:
        if not _is_ours(path, now):
            continue
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a backup is writing it
            st, now = os.fstat(fd), path.lstat()
            if (st.st_dev, st.st_ino) == (now.st_dev, now.st_ino):  # still the same file
                path.unlink()
                removed.append(path)
                journal = Path(f"{path}-journal")  # the copy's own rollback journal
                if journal.is_file() and journal.lstat().st_uid == os.getuid():
                    journal.unlink()
        except OSError:
            continue
        finally:
            os.close(fd)  # releases the lock
    return removed


def _start_partial(tmp: Path, dest: Path) -> int:
    """Create ``tmp`` private and locked; its descriptor (the lock lasts while it is open)."""
    if os.path.lexists(tmp):
        raise BackupError(
            _("{dest}: another backup to this file is running ({tmp} is in use)").format(
                dest=dest, tmp=tmp
            )
        )
    try:
        fd = private.create(tmp)
    except OSError as exc:
        # SQLite's own error ("unable to open database file") names neither the file nor
        # the cause; the OS's does (permission denied...)
        raise BackupError(
            _("{dest}: cannot write the backup there: {reason}").format(
                dest=dest, reason=exc.strerror
            )
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise
    return fd


def backup(
    conn: sqlite3.Connection, dest: Path, clock: Clock, *, force: bool = False
) -> BackupResult:
    dest = Path(dest)
    if dest.is_dir():
        stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
        dest = dest / f"dunning-{stamp}.db"
    live = live_path(conn)
    refuse_live_parts(dest, live)
    refuse_special(dest)
    if os.path.lexists(dest) and not force:
        raise BackupError(
            _("{dest}: already exists; choose another name or use --force").format(dest=dest)
        )
    if not dest.parent.is_dir():
        raise BackupError(_("{dir}: no such directory").format(dir=dest.parent))
    try:
        check_live(conn, live)
    except CorruptDatabase as exc:
        raise DamagedLive(str(exc)) from None
    # recorded at once, in its own short write transaction (the check held no lock); a
    # read-only file or a lock not had is reported, not fatal: the copy is what a backup
    # promises, and the next refresh then checks the whole file itself
    unrecorded = record_whole(conn, clock, "backup")
    cleaned = clean_stale(dest.parent)
    tmp = dest.with_name(dest.name + ".partial")
    started = time.perf_counter()
    lock = _start_partial(tmp, dest)
    try:
        _copy(conn, tmp, dest)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        refuse_live_parts(dest, live)  # nothing was swapped in meanwhile
        refuse_special(dest)
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"{dest}: {exc.strerror}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        os.close(lock)
    return BackupResult(
        dest, dest.stat().st_size, time.perf_counter() - started, cleaned, unrecorded
    )


def _copy(conn: sqlite3.Connection, tmp: Path, dest: Path) -> None:
    try:
        target = sqlite3.connect(str(tmp))
    except sqlite3.Error as exc:
        raise BackupError(
            _("{dest}: cannot write the backup there: {reason}").format(dest=dest, reason=exc)
        ) from None
    try:
        # the header on disk at once: a .partial left by a kill is recognisably a database
        target.execute("PRAGMA user_version = 0")
        conn.backup(target, pages=-1)  # every page in one step: one consistent snapshot
        check = target.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(
                _("{dest}: the copy failed its check: {check}").format(dest=dest, check=check)
            )
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    except sqlite3.Error as exc:
        raise BackupError(f"{dest}: {exc}") from None
    finally:
        with contextlib.suppress(sqlite3.Error):
            target.close()
