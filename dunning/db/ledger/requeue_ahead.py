"""The queue rows of the accounts a file created, read and computed by a helper process
while the import writes the previous chunk's (issue 8: the import's refresh of 100,000 new
accounts was 6.5 s of a 1M-row import's ~30 s, nearly half of it reading and scoring).

A helper process (forked, like the nightly refresh's: dunning/queue/refresh_ranges.py)
opens the database read-only on a connection of its own and, for each id range it is
asked (the consecutive ids of new customers), reads the range in one read transaction and
sends the rows (marshal) back in order. The writer writes each chunk in its own write
transaction as before. The helper's rows are used only when no other connection
committed since they were asked for (``PRAGMA data_version`` on the writer's connection,
read before the asks and again under the write lock): then what the helper read is what
the writer would have read, as the writer's own commits touch other ranges' queue rows
only. Otherwise, or when the helper fails, the writer reads the chunk itself.
"""

from __future__ import annotations

import contextlib
import marshal
import multiprocessing as mp
import os
import signal
import sqlite3
import threading
from datetime import date
from multiprocessing.connection import Connection

from dunning.db.connection import data_version, main_path
from dunning.queue.accounts import RowMaker
from dunning.queue.config import Settings

RANGE = "customer_id BETWEEN ? AND ?"
AHEAD_FROM = 4  # chunks of new accounts from which a helper is worth its start (~30 ms)


def _helper(
    path: str,
    now_iso: str,
    today: date,
    settings: Settings,
    ranges: list[tuple[int, int]],
    answers: Connection,
) -> None:
    """Read and compute every range in order, each in a read transaction of its own."""
    import traceback

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the writer's to handle
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        conn.execute("PRAGMA query_only = ON")
        maker = RowMaker(now_iso, today, settings)
        for lo, hi in ranges:
            conn.execute("BEGIN")
            try:
                rows = [(*new, now_iso) for new, _ in maker.rows(conn, RANGE, [lo, hi])]
            finally:
                conn.execute("COMMIT")
            answers.send_bytes(marshal.dumps(("ok", rows)))
    except BaseException:
        with contextlib.suppress(OSError):
            answers.send_bytes(marshal.dumps(("error", traceback.format_exc())))
    finally:
        answers.close()


class Ahead:
    """The helper and its answers, chunk by chunk (``take`` in the chunks' order)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        now_iso: str,
        today: date,
        settings: Settings,
        chunks: dict[int, tuple[int, int]],
    ) -> None:
        self.chunks = chunks  # chunk index -> (first id, last id), asked in this order
        self.seen = data_version(conn)  # before the helper's first read begins
        ctx = mp.get_context("fork")
        self._answers, send = ctx.Pipe(duplex=False)
        ranges = [chunks[k] for k in sorted(chunks)]
        self._proc = ctx.Process(
            target=_helper,
            args=(main_path(conn), now_iso, today, settings, ranges, send),
            daemon=True,
        )
        self._proc.start()
        send.close()
        self._broken = False

    @classmethod
    def start(
        cls,
        conn: sqlite3.Connection,
        now_iso: str,
        today: date,
        settings: Settings,
        chunks: list[list[int]],
    ) -> Ahead | None:
        """A helper for the chunks that are one id range each (new customers), when there
        are enough of them, the machine has a second core and the database is a file."""
        ranges = {
            k: (ids[0], ids[-1])
            for k, ids in enumerate(chunks)
            if ids and ids[-1] - ids[0] + 1 == len(ids)
        }
        if (
            len(ranges) < AHEAD_FROM
            or (os.cpu_count() or 1) < 2
            or "fork" not in mp.get_all_start_methods()
            or threading.active_count() > 1  # a fork copies one thread: only when alone
            or not main_path(conn)
        ):
            return None
        return cls(conn, now_iso, today, settings, ranges)

    def take(self, conn: sqlite3.Connection, k: int) -> list[tuple[object, ...]] | None:
        """Chunk ``k``'s rows, inside the writer's write transaction; None when it was not
        asked for, the helper failed, or another connection committed since the asks
        (the writer then reads the chunk itself)."""
        if k not in self.chunks or self._broken:
            return None
        try:
            reply = marshal.loads(self._answers.recv_bytes())
        except (EOFError, OSError, ValueError, TypeError):  # gone, or garbage
            self._broken = True
            return None
        if not isinstance(reply, tuple) or reply[0] != "ok":
            self._broken = True  # the writer's own read will say what is wrong
            return None
        if data_version(conn) != self.seen:
            return None  # someone else wrote since: what the helper read may be stale
        return list(reply[1])

    def close(self) -> None:
        self._answers.close()
        self._proc.join(timeout=0.5)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(timeout=5)
