"""``PRAGMA quick_check`` of the live database, run by ``backup`` and the nightly
``queue refresh`` before they read or copy anything.

A damaged page is otherwise noticed only when a collector's screen happens to read it,
and a backup of it is a copy of the damage. The check reads every page: 6 s for the
100,000-customer demo (274 MB) on the shared 2-core test host. It finds broken b-tree
pages, bad free lists, out-of-order records and broken NOT NULL/CHECK constraints, not
an index that disagrees with its table (``PRAGMA integrity_check``: slower).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from dunning.db.connection import DatabaseError
from dunning.i18n import _

SQLITE_CORRUPT = 11
SQLITE_NOTADB = 26
SHOWN = 3  # problems quoted in the message (quick_check lists up to 100)


class CorruptDatabase(DatabaseError):
    """The live database failed ``PRAGMA quick_check``; the message names the file."""


def quick_check(conn: sqlite3.Connection) -> list[str]:
    """``["ok"]``, or the problems quick_check found (at most 100)."""
    try:
        return [str(r[0]) for r in conn.execute("PRAGMA main.quick_check(100)")]
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorcode", None) in (SQLITE_CORRUPT, SQLITE_NOTADB):
            return [str(exc)]
        raise


def check_live(conn: sqlite3.Connection, path: Path | str | None) -> None:
    """CorruptDatabase naming ``path`` when quick_check finds a problem."""
    problems = quick_check(conn)
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
