"""Writing a report or export file all at once or not at all.

The output goes to ``DEST.partial`` beside the destination and is renamed over it only
when complete: a failed write (a bad value, a full disk, an interrupt) never leaves a
truncated DEST or a ``.partial`` behind, and an existing DEST is untouched until then.
An error names the destination, never the ``.partial``. A destination that exists and
is not a regular file (``/dev/null``, a pipe) is written in place.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from dunning.textsafe import unguarded


def _named(exc: OSError, dest: Path) -> OSError:
    """The same error, naming the destination."""
    return OSError(exc.errno, exc.strerror or str(exc), str(dest))


def _check(dest: Path) -> bool:
    """True when DEST is written through a .partial (a new or regular file)."""
    if dest.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory", str(dest))
    return not dest.exists() or dest.is_file()


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
        yield tmp
        os.replace(tmp, dest)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _named(exc, dest) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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
            fh = path.open("w", newline="", encoding="utf-8")
        except OSError as exc:
            raise _named(exc, dest) from None
        try:
            yield fh
        finally:
            fh.close()
