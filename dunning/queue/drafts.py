"""The note being typed, saved as it is typed, so nothing is lost on a crash or hang-up."""

from __future__ import annotations

import sqlite3

from dunning.clock import Clock, to_iso
from dunning.db.connection import write_tx
from dunning.queue.access import AccountRefused, load_access, not_yours
from dunning.queue.collectors import get_collector_by_id
from dunning.textsafe import clean


def save_draft(
    conn: sqlite3.Connection, clock: Clock, collector_id: int, customer_id: int, text: str
) -> None:
    """Save (or clear) the note being typed. Only on an account one may change: another
    collector's account is read-only (queue/access.py), a note typed there is refused."""
    text = clean(text, lines=True)[0]  # logging the note says how many went
    with write_tx(conn):
        me = get_collector_by_id(conn, collector_id)
        access = load_access(conn, to_iso(clock.now()), me, customer_id) if me else None
        if access is not None and not (access.mine or access.lead or access.holds):
            raise AccountRefused(not_yours(access.ref, access.owner), ref=access.ref)
        if text.strip():
            conn.execute(
                """INSERT INTO drafts (collector_id, customer_id, text, updated_at)
                   VALUES (?,?,?,?) ON CONFLICT(collector_id, customer_id)
                   DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at""",
                (collector_id, customer_id, text, to_iso(clock.now())),
            )
        else:
            conn.execute(
                "DELETE FROM drafts WHERE collector_id = ? AND customer_id = ?",
                (collector_id, customer_id),
            )


def load_draft(conn: sqlite3.Connection, collector_id: int, customer_id: int) -> str:
    row = conn.execute(
        "SELECT text FROM drafts WHERE collector_id = ? AND customer_id = ?",
        (collector_id, customer_id),
    ).fetchone()
    return clean(str(row[0]), lines=True)[0] if row else ""
