"""A lead's screen's way to the database: one connection of its own, every call serialized
by a lock, so that Textual's thread workers may use it (queue/lead_desk.py for the review
queue and disputes, account_desk.py for the account lists, rebalance_desk.py for a
rebalance). The rules stay in the modules each desk calls."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from dunning.clock import Clock
from dunning.db.connection import connect
from dunning.queue.collectors import Collector
from dunning.queue.config import Settings

T = TypeVar("T")


class Desk:
    def __init__(
        self, db_path: str | Path, collector: Collector, settings: Settings, clock: Clock
    ) -> None:
        self.collector = collector
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()
        self._conn = connect(Path(db_path), any_thread=True)

    def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            return fn(self._conn)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
