"""The files a letter is written to: ``<folder>/<ref>-<kind>-<UTC time>.eml`` (or ``.txt``
and ``.pdf`` for a letter on paper), private (0600, 0640 with ``file_group``), never over
an existing file."""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

from dunning.db import private

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def file_stem(ref: str, kind: str, at: datetime) -> str:
    """``C0000042-reminder_1-20261123T150000Z``: the reference made safe for a file name."""
    safe = _UNSAFE_NAME.sub("_", ref).strip("._") or "account"
    return f"{safe[:80]}-{kind}-{at.strftime('%Y%m%dT%H%M%SZ')}"


def write_new(folder: Path, stem: str, suffix: str, data: bytes) -> Path:
    """``folder/stem.suffix``, private (0600), never over an existing file: ``stem-2``,
    ``stem-3``... when it exists. OSError names the file."""
    for n in range(1, 1000):
        path = folder / (f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}")
        try:
            fd = private.create(path)
        except FileExistsError:
            continue
        except FileNotFoundError:  # the folder first (once: a letter run writes thousands)
            private.make_dirs(folder)
            fd = private.create(path)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        return path
    raise FileExistsError(f"{folder / stem}{suffix}: too many files of that name")
