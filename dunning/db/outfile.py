"""Writing a report or export file all at once or not at all.

The output goes to ``DEST.partial`` beside the destination and is renamed over it only
when complete: a failed write (a bad value, a full disk, an interrupt) never leaves a
truncated DEST or a ``.partial`` behind, and an existing DEST is untouched until then.
An error names the destination, never the ``.partial``. A destination that exists and
is not a regular file (``/dev/null``, a pipe) is written in place.

The ``.partial`` is created private (``0600``, ``0640`` with ``file_group``: see
dunning/db/private.py) before anything is written, and the rename keeps its mode.
"""

from __future__ import annotations

import errno
import fcntl
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from dunning.db import private
from dunning.i18n import _
from dunning.textsafe import unguarded


def _named(exc: OSError, dest: Path) -> OSError:
    """The same error, naming the destination."""
    return OSError(exc.errno, exc.strerror or str(exc), str(dest))


_SQLITE_HEADER = b"SQLite format 3\x00"


def _is_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(16) == _SQLITE_HEADER
    except OSError:
        return False


def _database_part(dest: Path) -> bool:
    """DEST is a SQLite database (whatever its name: `-o live.csv` where the ledger is
    called live.csv), its -wal/-shm/-journal, or a file with such sidecars beside it."""
    if dest.is_file() and _is_sqlite(dest):
        return True
    if any(os.path.lexists(f"{dest}{s}") for s in ("-wal", "-shm", "-journal")):
        return True
    for suffix in ("-wal", "-shm", "-journal"):
        if dest.name.endswith(suffix):
            base = dest.with_name(dest.name[: -len(suffix)])
            if base.is_file() and _is_sqlite(base):
                return True
    return False


def _check(dest: Path) -> bool:
    """True when DEST is written through a .partial (a new or regular file). A special
    file (a pipe, a terminal, ``/dev/null``) is written in place only when it is the
    user's own or root's: a FIFO another user planted under the name would receive the
    whole export (issue 7, section 4)."""
    if dest.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory", str(dest))
    if _database_part(dest):
        raise PermissionError(
            errno.EEXIST,
            _("a SQLite database or part of one: a report or export never replaces it"),
            str(dest),
        )
    if not dest.exists() or dest.is_file():
        return True
    owner = dest.stat().st_uid
    if owner not in (0, os.getuid()):
        raise PermissionError(
            errno.EACCES,
            _("not a regular file and owned by another user: nothing written into it"),
            str(dest),
        )
    return False


@contextmanager
def partial_path(dest: Path) -> Iterator[Path]:
    """A path to write the whole file to (for writers that take a path, openpyxl);
    renamed to ``dest`` when the block ends without an error."""
    if not _check(dest):
        try:
            yield dest
        except OSError as exc:
            raise _named(exc, dest) from None
        return
    tmp = dest.with_name(dest.name + ".partial")
    try:
        # a leftover (or a planted symlink) is replaced by a new private file
        if os.path.lexists(tmp) and not os.path.isdir(tmp):
            tmp.unlink()
        held = private.create(tmp)
    except OSError as exc:
        raise _named(exc, dest) from None
    try:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # in use: never a stale one
        yield tmp
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _named(exc, dest) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        os.close(held)


@contextmanager
def text_output(dest: Path | None) -> Iterator[IO[str]]:
    """A text file (UTF-8, newlines as written) that becomes ``dest`` once complete;
    standard output when ``dest`` is None: as it is when that is a pipe or a file (a CSV
    or JSON file keeps its exact bytes), through the CLI's terminal guard when it is a
    terminal (dunning/textsafe.py: no control sequence from the data reaches it)."""
    if dest is None:
        yield sys.stdout if sys.stdout.isatty() else unguarded(sys.stdout)
        return
    with partial_path(dest) as path:
        try:
            fh = _open_text(path, fresh=path != dest)
        except OSError as exc:
            raise _named(exc, dest) from None
        try:
            yield fh
        finally:
            fh.close()


def _open_text(path: Path, *, fresh: bool) -> IO[str]:
    """``path`` for writing text: the private ``.partial`` just created, or a special
    file (``/dev/null``, a pipe) written in place."""
    if fresh:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW)
    else:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, private.file_mode())
    return os.fdopen(fd, "w", newline="", encoding="utf-8")
