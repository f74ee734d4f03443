"""The queue rows of the customers an import changed, brought up to date after the
ledger's commit (dunning/db/ledger/importer.py calls :func:`refresh_queue`).

Apart from the importer so that the import stays readable; like it, this module reads
queue/ (queue/accounts.py makes the rows): the import must leave every account it
touched where the nightly refresh would put it.
"""

from __future__ import annotations

import sqlite3

from dunning.bounds import clip
from dunning.clock import Clock, to_iso
from dunning.db.connection import DatabaseError, write_tx
from dunning.db.ledger.interrupt import HeldInterrupt
from dunning.db.ledger.requeue_ahead import Ahead
from dunning.queue.accounts import UPSERT, RowMaker, refresh_accounts
from dunning.queue.config import Settings

REFRESH_CHUNK = 2000  # accounts refreshed per write transaction after the ledger's commit


def refresh_queue(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    customer_ids: set[int],
    held: HeldInterrupt,
) -> tuple[int, str]:
    """The queue rows of the customers whose ledger changed, after the ledger's commit:
    in short write transactions of ``REFRESH_CHUNK`` accounts each, so that collectors'
    writes get the lock between them (refreshing 100,000 new accounts in the import's own
    transaction held it for most of its ~25 s). The ledger is already whole; meanwhile an
    account not yet refreshed shows its queue row as it was before the import (a new
    account: none yet). A Ctrl-C stops between chunks; returns how many accounts were left,
    which ``dunning queue refresh`` (or the next import) brings up to date, and why; a
    database error (the lock not had in time) stops it the same way, as the ledger's
    commit must not be reported as a failure."""
    ordered = sorted(customer_ids)
    chunks = [ordered[i : i + REFRESH_CHUNK] for i in range(0, len(ordered), REFRESH_CHUNK)]
    now = clock.now()  # one instant for the whole refresh (the helper's rows carry it)
    ahead = Ahead.start(conn, to_iso(now), now.date(), settings, chunks)
    try:
        for k, ids in enumerate(chunks):
            start = k * REFRESH_CHUNK
            if held.came:
                return len(ordered) - start, "interrupted"
            try:
                with write_tx(conn):
                    rows = ahead.take(conn, k) if ahead is not None else None
                    if rows is None:
                        _refresh_chunk(conn, clock, settings, ids)
                    else:  # read and scored by the helper while the last chunk was written
                        conn.executemany(UPSERT, rows)
            except (sqlite3.Error, DatabaseError) as exc:
                return len(ordered) - start, clip(str(exc), 200)
    finally:
        if ahead is not None:
            ahead.close()
    return 0, ""


def _refresh_chunk(
    conn: sqlite3.Connection, clock: Clock, settings: Settings, ids: list[int]
) -> None:
    """One chunk of ``refresh_queue`` (sorted ids), inside its write transaction. The
    customers a file creates have consecutive ids: their chunks are read as an id range
    through the covering indexes (as the nightly refresh reads), not by an IN list of
    900 ids at a time; any other chunk is ``refresh_accounts``."""
    if ids[-1] - ids[0] + 1 != len(ids):
        refresh_accounts(conn, clock, settings, ids)
        return
    now = clock.now()
    now_iso = to_iso(now)
    maker = RowMaker(now_iso, now.date(), settings)
    conn.executemany(
        UPSERT,
        [
            (*new, now_iso)
            for new, _ in maker.rows(conn, "customer_id BETWEEN ? AND ?", [ids[0], ids[-1]])
        ],
    )
