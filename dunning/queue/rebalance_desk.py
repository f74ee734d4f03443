"""The rebalance dialog's access to the database: a connection of its own (the work
session's is issue 8's hot path and is not touched), every call serialized by a lock so
thread workers may use it. The rules are in rebalance.py and rebalance_move.py."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from dunning.clock import Clock
from dunning.db.connection import connect
from dunning.queue import rebalance, rebalance_move
from dunning.queue.collectors import Collector
from dunning.queue.config import Settings
from dunning.queue.rights import allowed

T = TypeVar("T")


class RebalanceDesk:
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

    def may(self) -> bool:
        return allowed(self.collector.role, "rebalance")

    def plan(
        self, *, source: str, targets: list[str], by: str, until: str, reason: str
    ) -> rebalance.Plan:
        return self._run(
            lambda conn: rebalance.plan(
                conn, self.clock, self.settings, self.collector, source=source or None,
                targets=targets or None, by=by, until=until or None, reason=reason,
            )
        )  # fmt: skip

    def commit(self, plan: rebalance.Plan) -> int:
        return self._run(lambda conn: rebalance_move.commit(conn, self.clock, self.collector, plan))

    def close(self) -> None:
        with self._lock:
            self._conn.close()
