"""The nightly refresh's way of writing when nearly every queue row changes.

Every night the days past due move, so nearly every queue row gets a new priority and new
reasons. Updated in place, each changed row moves its entry in the worklist index
(collector, state, priority): a range of 5,000 accounts touches pages all over the index,
and every range's commit writes those pages again (at 1,000,000 accounts most of the
writer's time). Instead the next queue is built beside the live one:

1. ``begin``: an empty ``queue_next`` (the live table's own definition, no index), a
   ``queue_touched`` list, and triggers that put in it the id of every queue row anyone
   inserts, updates or deletes from now on (collectors claim and log while it runs);
2. ``copy_range``, in each range's short write transaction: the range's live rows are
   copied into ``queue_next`` as they are at that moment (claims, assignment, contacts),
   in primary-key order (appends), the refresh's changes are written to the copies, and
   the range's ids leave ``queue_touched`` (their copies are current);
3. ``swap``, in one write transaction: the rows written since their range was copied
   (``queue_touched``) are copied again, ``queue`` is dropped, ``queue_next`` renamed
   ``queue`` and the indexes built by sorting (one pass each); the carried-over rows are
   then computed again in that transaction, as a range written meanwhile is.

The longest write lock is the swap (about the time to build the indexes). Collectors'
prepared statements see the schema change and are prepared again by SQLite. The file
keeps the pages of the old table on its free list for the next night's build (the
database is about one queue table bigger than after an in-place refresh). An interrupted
or failed build is dropped (``abandon``) and the live queue is untouched; leftovers of a
killed process are dropped by the next refresh (``begin``).
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import sqlite3
import time
from collections.abc import Callable
from datetime import timedelta

from dunning.clock import from_iso
from dunning.db.connection import write_tx
from dunning.queue import claim_closed
from dunning.queue.claim import holder_gone

NEXT = "queue_next"
TOUCHED = "queue_touched"
OWNER = "queue_next_owner"  # the process building: (pid, host, since)
STALE = timedelta(hours=12)  # a build this old on another host was abandoned
# (an outer statement's conflict clause overrides a trigger's, so no OR IGNORE here)
_LOG = (
    "BEGIN INSERT INTO " + TOUCHED + "(customer_id) SELECT {row}.customer_id "
    "WHERE NOT EXISTS (SELECT 1 FROM " + TOUCHED + " WHERE customer_id = {row}.customer_id); END"
)
TRIGGERS = {
    "queue_touched_ins": "AFTER INSERT ON queue " + _LOG.format(row="NEW"),
    "queue_touched_upd": "AFTER UPDATE ON queue " + _LOG.format(row="NEW"),
    "queue_touched_del": "AFTER DELETE ON queue " + _LOG.format(row="OLD"),
}
_TABLE_NAME = re.compile(
    r"^\s*CREATE\s+TABLE\s+(\"queue\"|'queue'|`queue`|\[queue\]|queue)(?=[\s(])", re.I
)


def _drop_leftovers(conn: sqlite3.Connection) -> None:
    for name in TRIGGERS:
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    conn.execute(f"DROP TABLE IF EXISTS {NEXT}")
    conn.execute(f"DROP TABLE IF EXISTS {TOUCHED}")
    conn.execute(f"DROP TABLE IF EXISTS {OWNER}")


def _building(conn: sqlite3.Connection, now_iso: str) -> bool:
    """Whether another refresh's build is under way (its process still runs)."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (OWNER,)).fetchone():
        return False
    row = conn.execute(f"SELECT pid, host, since FROM {OWNER}").fetchone()
    if row is None:
        return False
    pid, host, since = row
    if holder_gone(pid, host):
        return False
    return host == socket.gethostname() or from_iso(now_iso) - from_iso(since) < STALE


def leftovers(conn: sqlite3.Connection) -> bool:
    """Whether a killed refresh left its build behind."""
    names = (NEXT, TOUCHED, OWNER, *TRIGGERS)
    marks = ",".join("?" * len(names))
    return bool(
        conn.execute(f"SELECT 1 FROM sqlite_master WHERE name IN ({marks})", names).fetchone()
    )


def begin(conn: sqlite3.Connection, now_iso: str) -> list[str] | None:
    """Create the empty next table, the touched list and its triggers (dropping what a
    killed refresh left); returns the SQL of the live queue's indexes and triggers, made
    again at the swap.
    None, nothing done, while another refresh is building (this one updates in place)."""
    with write_tx(conn):
        if _building(conn, now_iso):
            return None
        _drop_leftovers(conn)
        conn.execute(f"CREATE TABLE {OWNER} (pid INTEGER, host TEXT, since TEXT)")
        conn.execute(
            f"INSERT INTO {OWNER} VALUES (?, ?, ?)", (os.getpid(), socket.gethostname(), now_iso)
        )
        (sql,) = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'queue'"
        ).fetchone()
        next_sql, n = _TABLE_NAME.subn(f"CREATE TABLE {NEXT}", sql, count=1)
        if n != 1:
            raise RuntimeError(f"unexpected definition of the queue table: {sql[:60]!r}")
        conn.execute(next_sql)
        conn.execute(f"CREATE TABLE {TOUCHED} (customer_id INTEGER PRIMARY KEY)")
        for name, body in TRIGGERS.items():
            conn.execute(f"CREATE TRIGGER {name} {body}")
        marks = ",".join("?" * len(TRIGGERS))
        return [  # and the live queue's own triggers (m030's), which go with its table
            str(r[0])
            for r in conn.execute(
                "SELECT sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
                f"AND tbl_name = 'queue' AND sql IS NOT NULL AND name NOT IN ({marks}) "
                "ORDER BY type, name",
                tuple(TRIGGERS),
            )
        ]


def copy_range(conn: sqlite3.Connection, after: int, last: int) -> None:
    """Inside the range's write transaction: the live rows with ``after < customer_id <=
    last`` copied into the next table; they leave the touched list."""
    conn.execute(
        f"INSERT INTO {NEXT} SELECT * FROM queue WHERE customer_id > ? AND customer_id <= ?",
        (after, last),
    )
    conn.execute(f"DELETE FROM {TOUCHED} WHERE customer_id > ? AND customer_id <= ?", (after, last))


def swap(
    conn: sqlite3.Connection,
    indexes: list[str],
    after: int,
    recompute: Callable[[list[int]], None],
    timings: dict[str, float] | None = None,
) -> int:
    """Inside a write transaction: carry over the rows written since their range was
    copied (and any beyond the last range, id > ``after``), put the next table in the
    live one's place with its indexes, and ``recompute`` the carried-over rows (the ids
    still in the queue). Returns how many rows were carried over; ``timings`` gets the
    seconds of each step."""
    timings = timings if timings is not None else {}
    t = time.perf_counter()

    def step(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        timings[name] = timings.get(name, 0.0) + now - t
        t = now

    carried = [
        int(r[0])
        for r in conn.execute(
            f"SELECT customer_id FROM {TOUCHED} UNION SELECT customer_id FROM queue "
            "WHERE customer_id > ? ORDER BY 1",
            (after,),
        )
    ]
    conn.execute(
        f"INSERT OR REPLACE INTO {NEXT} SELECT * FROM queue WHERE customer_id IN "
        f"(SELECT customer_id FROM {TOUCHED}) OR customer_id > ?",
        (after,),
    )
    conn.execute(
        f"DELETE FROM {NEXT} WHERE customer_id IN (SELECT customer_id FROM {TOUCHED}) "
        "AND customer_id NOT IN (SELECT customer_id FROM queue)"
    )
    step("carry over")
    # other tables' triggers that name the queue (the claim's memo, m023) would stop the
    # rename: lifted here and put back once the next table is the queue
    named = claim_closed.lift_triggers(conn)
    conn.execute("DROP TABLE queue")  # its triggers go with it
    step("drop the old table")
    conn.execute(f"DROP TABLE {TOUCHED}")
    conn.execute(f"DROP TABLE {OWNER}")
    conn.execute(f"ALTER TABLE {NEXT} RENAME TO queue")
    for sql in named:
        conn.execute(sql)
    step("rename")
    for sql in indexes:
        conn.execute(sql)  # built by sorting the whole table once
        step(sql.split()[2] if len(sql.split()) > 2 else "index")
    present = {
        int(r[0])
        for r in conn.execute(
            "SELECT customer_id FROM queue WHERE customer_id IN (SELECT value FROM json_each(?))",
            (f"[{','.join(map(str, carried))}]",),
        )
    }
    recompute([c for c in carried if c in present])
    step("recompute")
    return len(carried)


def abandon(conn: sqlite3.Connection) -> None:
    """Drop this process's unfinished build (best effort: the next refresh drops it
    otherwise)."""
    with contextlib.suppress(Exception):
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        with write_tx(conn):
            _drop_leftovers(conn)
