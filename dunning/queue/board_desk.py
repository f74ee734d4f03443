"""The team board for the screen: two connections of its own (the live tier and the book
are read in separate thread workers, so a slow book never holds up a refresh), each used
under its own lock. The rules and the SQL are in board.py; this carries the connections,
the clock, the scope and whether anything changed since the last read."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from pathlib import Path

from dunning.clock import Clock
from dunning.db.connection import connect
from dunning.queue import board
from dunning.queue.collectors import Collector
from dunning.queue.config import Settings
from dunning.queue.identity import Actor
from dunning.queue.rights import allowed

STALE_AFTER = 20.0  # seconds: read again even if nothing was committed (online, "since")


class BoardDesk:
    def __init__(
        self, db_path: str | Path, collector: Collector, settings: Settings, clock: Clock
    ) -> None:
        self.collector = collector
        self.clock = clock
        self.zone = settings.team_zone
        self.service_days = settings.disputes.service_days
        self._live_lock = threading.Lock()
        self._book_lock = threading.Lock()
        self._live = connect(Path(db_path), any_thread=True)
        self._book = connect(Path(db_path), any_thread=True)
        self._version: int | None = None
        self._read_at = float("-inf")
        self.team: str | None = None
        self._reader: board.BoardReader | None = None

    def may(self) -> bool:
        return allowed(self.collector.role, "board")

    def _scope(self) -> board.BoardReader:
        if self._reader is None:
            actor = Actor(self.collector.username, -1, self.collector)
            self.team = board.check_scope(self._live, self.clock, actor, None)
            self._reader = board.BoardReader(self._live, self.clock, self.zone, self.team,
                                             service_days=self.service_days,
                                             disputes=False)  # fmt: skip
        return self._reader

    def live(self, *, force: bool = False) -> board.Board | None:
        """The live tier, or None when nothing was committed since the last read (PRAGMA
        data_version: other connections' commits) and it is not older than STALE_AFTER."""
        with self._live_lock:
            reader = self._scope()
            version = int(self._live.execute("PRAGMA data_version").fetchone()[0])
            fresh = time.monotonic() - self._read_at < STALE_AFTER
            if not force and version == self._version and fresh:
                return None
            self._version = version
            self._read_at = time.monotonic()
            return reader.live()

    def book(self) -> board.Book:
        with self._live_lock:
            self._scope()
        # every open dispute, read again with each book: the live reader goes on from
        # there (what changed without a history row, a direct edit, heals in 5 minutes)
        with self._book_lock:
            book = board.read_book(self._book, self.clock, self.zone, self.team,
                                   self.service_days)  # fmt: skip
        with self._live_lock:  # the live reader goes on from the book's disputes
            self._scope().adopt(book.disputes)
            book.disputes = None
        return book

    def close(self) -> None:
        for lock, conn in ((self._live_lock, self._live), (self._book_lock, self._book)):
            with lock, contextlib.suppress(sqlite3.Error):
                conn.close()
