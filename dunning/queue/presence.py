"""Who is logged in (issue 9, item 8): each open screen beats.

The work screen writes one ``work_sessions`` row per process (host, pid) every
``BEAT_EVERY`` seconds, in a worker thread after its first account is drawn: when it
started, its last beat, the account on screen and since when (the beat that first saw it).
A session whose last beat is older than ``ONLINE_WITHIN`` is gone (a crash, a dropped SSH
connection); one closed properly is ended. A beat is one short write transaction (a
single-row UPDATE, or the INSERT of the first), off the collector's key path.

The beat also answers whether the collector is still active: a lead's deactivation ends
the screen at its next beat (queue/people.py).
"""

from __future__ import annotations

import os
import socket
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from dunning.clock import Clock, from_iso, to_iso
from dunning.db.connection import write_tx

BEAT_EVERY = 30.0  # seconds between two beats of an open screen
ONLINE_WITHIN = timedelta(seconds=3 * BEAT_EVERY)  # a later beat missing: gone


def _me() -> tuple[str, int]:
    return socket.gethostname(), os.getpid()


def beat(
    conn: sqlite3.Connection, clock: Clock, collector_id: int, customer_id: int | None
) -> bool:
    """This process's screen is open, on ``customer_id``; False when the collector has
    been deactivated (the screen then closes)."""
    host, pid = _me()
    now_iso = to_iso(clock.now())
    with write_tx(conn):
        cur = conn.execute(
            """UPDATE work_sessions SET beat_at = ?1,
                   on_since = CASE WHEN customer_id IS ?2 THEN on_since
                                   WHEN ?2 IS NULL THEN NULL ELSE ?1 END,
                   customer_id = ?2
               WHERE host = ?3 AND pid = ?4 AND collector_id = ?5 AND ended_at IS NULL""",
            (now_iso, customer_id, host, pid, collector_id),
        )
        if cur.rowcount == 0:
            conn.execute(
                """INSERT INTO work_sessions (collector_id, host, pid, started_at, beat_at,
                       customer_id, on_since) VALUES (?,?,?,?,?,?,?)""",
                (collector_id, host, pid, now_iso, now_iso, customer_id,
                 now_iso if customer_id is not None else None),
            )  # fmt: skip
        row = conn.execute("SELECT active FROM collectors WHERE id = ?", (collector_id,)).fetchone()
    return bool(row and row[0])


def end(conn: sqlite3.Connection, clock: Clock, collector_id: int) -> None:
    """This process's screen closed."""
    host, pid = _me()
    with write_tx(conn):
        conn.execute(
            """UPDATE work_sessions SET ended_at = ?, customer_id = NULL, on_since = NULL
               WHERE host = ? AND pid = ? AND collector_id = ? AND ended_at IS NULL""",
            (to_iso(clock.now()), host, pid, collector_id),
        )


@dataclass(frozen=True)
class Online:
    collector_id: int
    since: datetime  # the earliest open session's start
    last_beat: datetime
    sessions: int
    customer_id: int | None  # the account on screen in the latest session
    on_since: datetime | None


def online(conn: sqlite3.Connection, now: datetime) -> dict[int, Online]:
    """Collectors with a screen that beat within ONLINE_WITHIN, by collector id."""
    after = to_iso(now - ONLINE_WITHIN)
    out: dict[int, Online] = {}
    rows = conn.execute(
        """SELECT collector_id, started_at, beat_at, customer_id, on_since FROM work_sessions
           WHERE ended_at IS NULL AND beat_at > ? ORDER BY beat_at""",
        (after,),
    )
    for r in rows:
        cid = int(r["collector_id"])
        was = out.get(cid)
        started = from_iso(r["started_at"])
        out[cid] = Online(
            cid,
            min(started, was.since) if was else started,
            from_iso(r["beat_at"]),
            (was.sessions if was else 0) + 1,
            r["customer_id"],
            from_iso(r["on_since"]) if r["on_since"] else None,
        )
    return out
