"""``dunning backup DEST``: a consistent copy of the live database.

SQLite's online backup API copies every page in one step inside a read transaction, so
the copy is the database as of one instant even while collectors keep writing (WAL lets
them). The copy goes to ``DEST.partial``, is checked with ``PRAGMA quick_check``, made
durable, then renamed into place: a crash never leaves a half-written DEST.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from dunning.clock import Clock


class BackupError(Exception):
    pass


@dataclass
class BackupResult:
    path: Path
    bytes: int
    seconds: float


def backup(
    conn: sqlite3.Connection, dest: Path, clock: Clock, *, force: bool = False
) -> BackupResult:
    dest = Path(dest)
    if dest.is_dir():
        stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
        dest = dest / f"dunning-{stamp}.db"
    if dest.exists() and not force:
        raise BackupError(f"{dest}: already exists; choose another name or use --force")
    if not dest.parent.exists():
        raise BackupError(f"{dest.parent}: no such directory")
    main = conn.execute("PRAGMA database_list").fetchone()
    if main and main[2] and Path(main[2]).resolve() == dest.resolve():
        raise BackupError(f"{dest}: is the live database itself")
    tmp = dest.with_name(dest.name + ".partial")
    started = time.perf_counter()
    try:
        # created here first: SQLite's own error ("unable to open database file") names
        # neither the file nor the cause; the OS's does (permission denied...)
        tmp.unlink(missing_ok=True)
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as exc:
        raise BackupError(f"{dest}: cannot write the backup there: {exc.strerror}") from None
    try:
        target = sqlite3.connect(str(tmp))
    except sqlite3.Error as exc:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"{dest}: cannot write the backup there: {exc}") from None
    try:
        conn.backup(target, pages=-1)  # every page in one step: one consistent snapshot
        check = target.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"{dest}: the copy failed its check: {check}")
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    except sqlite3.Error as exc:
        target.close()
        tmp.unlink(missing_ok=True)
        raise BackupError(f"{dest}: {exc}") from None
    except BaseException:
        target.close()
        tmp.unlink(missing_ok=True)
        raise
    target.close()
    try:
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"{dest}: {exc.strerror}") from None
    return BackupResult(dest, dest.stat().st_size, time.perf_counter() - started)
