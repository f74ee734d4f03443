"""A nightly refresh's ranges of customers, what a range's reads compute, and the helper
process that reads and computes ranges for the writer (queue/refresh.py)."""

from __future__ import annotations

import contextlib
import marshal
import signal
import sqlite3
from collections.abc import Iterator
from multiprocessing.connection import Connection

from dunning.db.integrity import is_corrupt
from dunning.queue.accounts import RowMaker
from dunning.queue.config import Settings
from dunning.queue.refresh_rows import Changes, changes_where

RANGE = "customer_id BETWEEN ? AND ?"


def ranges(conn: sqlite3.Connection, chunk: int) -> Iterator[tuple[int, int, int]]:
    """(first id, last id, customers) of each range of ``chunk`` customers, in order."""
    last = 0
    while True:
        lo, hi, count = conn.execute(
            "SELECT MIN(id), MAX(id), COUNT(*) FROM "
            "(SELECT id FROM customers WHERE id > ? ORDER BY id LIMIT ?)",
            (last, chunk),
        ).fetchone()
        if not count:
            return
        yield int(lo), int(hi), int(count)
        last = int(hi)


def changes_in(conn: sqlite3.Connection, maker: RowMaker, lo: int, hi: int) -> Changes:
    """(rows to create, rows whose score alone changes, other changed rows, unchanged)."""
    return changes_where(conn, maker, RANGE, [lo, hi])


def helper(
    path: str,
    now_iso: str,
    today: object,
    settings: Settings,
    cell_size_check: str,
    asks: Connection,
    answers: Connection,
) -> None:
    """Read and compute the ranges asked for, on a connection of its own, read-only."""
    import traceback
    from datetime import date

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the writer's to handle
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        conn.execute("PRAGMA query_only = ON")
        conn.execute(f"PRAGMA cell_size_check = {cell_size_check}")  # as the writer's
        assert isinstance(today, date)
        maker = RowMaker(now_iso, today, settings)
        maker.keep_unchanged = True
        while True:
            try:
                ask = marshal.loads(asks.recv_bytes())
            except EOFError:
                return
            if ask is None:
                return
            lo, hi = ask
            conn.execute("BEGIN")
            try:
                changes = changes_in(conn, maker, lo, hi)
            finally:
                conn.execute("COMMIT")
            answers.send_bytes(marshal.dumps(("ok", changes)))
    except BaseException as exc:
        reply = ("corrupt", str(exc)) if is_corrupt(exc) else ("error", traceback.format_exc())
        with contextlib.suppress(OSError):
            answers.send_bytes(marshal.dumps(reply))
    finally:
        answers.close()
