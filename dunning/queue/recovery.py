"""A note that could not be saved is never lost: written to a private file.

When the database file was replaced or deleted under a running session (FileReplaced),
nothing more can be saved in it; the screen keeps the typed note in its pane and writes it
here too: ``$XDG_DATA_HOME/dunning/recovered/`` (else ~/.local/share), directory 0700 and
files 0600 whatever the umask, one file per account and session, rewritten as the note
changes. No SQL: the database is exactly what cannot be trusted then.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path


def recovery_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dunning" / "recovered"


def _safe(text: str) -> str:
    """A file-name part from data (an account reference): letters, digits, - and _."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text)[:40] or "account"


def note_path(username: str, ref: str, started: datetime) -> Path:
    stamp = started.strftime("%Y%m%d-%H%M%S")
    return recovery_dir() / f"note-{_safe(username)}-{stamp}-{_safe(ref)}.txt"


def save_note(path: Path, text: str, *, db_path: Path, ref: str, now: datetime) -> Path:
    """Write (or rewrite) the kept note at ``path``, 0600 in a 0700 directory."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    body = (
        f"database: {db_path}\naccount: {ref}\nkept at: {now.isoformat(timespec='seconds')}\n"
        f"\n{text}\n"
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, body.encode("utf-8"))
    finally:
        os.close(fd)
    return path
