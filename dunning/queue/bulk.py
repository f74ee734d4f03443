"""A bulk change stopped part-way (Ctrl-C, SIGINT) says how far it got.

Bulk changes (reassigning thousands of accounts, the nightly queue refresh) commit in
chunks so that collectors' writes never wait long; a chunk is all or nothing, so after an
interruption the chunks before it are written. :class:`Interrupted` carries how many
accounts moved of how many, with a translated message saying how to finish, and the
interruption is recorded in the audit log (result ``interrupted``).
"""

from __future__ import annotations

import contextlib
import sqlite3

from dunning.clock import Clock
from dunning.queue import audit


class Interrupted(Exception):
    """The message says what was done and how to finish; ``done``/``of`` the counts."""

    def __init__(self, message: str, done: int, of: int) -> None:
        super().__init__(message)
        self.done = done
        self.of = of


def record_interrupted(
    conn: sqlite3.Connection,
    clock: Clock,
    *,
    action: str,
    done: int,
    of: int,
    collector_id: int | None = None,
    target: str = "",
    counted: str = "moved",
) -> None:
    """The audit row of an interrupted bulk change (best effort: the interruption is
    reported on screen whether or not the row can be written)."""
    with contextlib.suppress(Exception):
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        audit.record(
            conn,
            clock,
            action=action,
            collector_id=collector_id,
            target=target,
            result="interrupted",
            detail={counted: done, "of": of},
        )
