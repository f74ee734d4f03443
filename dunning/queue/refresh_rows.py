"""The rows a night's refresh changes, and how they are written (queue/refresh.py).

A range's queue rows are computed (``RowMaker``) and compared with the rows as they are:
rows to create, rows whose standing alone changes (bound as ``SCORE_ONLY`` takes them, so
the writer hands them to SQLite as they come), other changed rows, and a count of the
unchanged ones, which are not written.

The stored priority and reasons are not compared: they move every day as the days past
due and since contact move, and nothing reads them for order or for display any more
(the claim orders by the standing, queue/standing.py; the reasons are computed when shown,
queue/account_view.py). They are written with every row that is written, as of that day;
a row whose standing, state, next action and balances did not change is left alone.
"""

from __future__ import annotations

import sqlite3

from dunning.queue.accounts import UPSERT, NewRow, RowMaker

Changes = tuple[list[tuple], list[tuple], list[tuple], int]
IN_CHUNK = 900  # ids in an IN list (SQLite's default limit is 999 host parameters)

SCORE_ONLY = """UPDATE queue SET priority = ?, reasons = ?, pclass = ?, pkey = ?,
    restand_on = ?, updated_at = ? WHERE customer_id = ?"""
UPDATE = """UPDATE queue SET state = ?, priority = ?, reasons = ?, next_action = ?,
    next_action_at = ?, open_minor = ?, disputed_minor = ?, unapplied_minor = ?,
    oldest_due = ?, pclass = ?, pkey = ?, restand_on = ?, updated_at = ?
    WHERE customer_id = ?"""


def changes_where(
    conn: sqlite3.Connection, maker: RowMaker, where: str, params: list[int]
) -> Changes:
    new_rows: list[NewRow] = []
    score_only: list[tuple] = []
    now_iso = maker.now_iso
    other: list[NewRow] = []
    same = 0
    for new, old in maker.rows(conn, where, params):
        if old is None:
            new_rows.append(new)
        elif new[4:10] == old[4:10] and new[1] == old[1]:
            if new[10:] == old[12:15]:
                same += 1
            else:  # as SCORE_ONLY binds them, so the writer hands them to SQLite as they come
                score_only.append((new[2], new[3], new[10], new[11], new[12], now_iso, new[0]))
        else:
            other.append(new)
    return new_rows, score_only, other, same


def write_changes(
    conn: sqlite3.Connection, now_iso: str, changes: Changes, table: str = "queue"
) -> None:
    """The changes written to ``table`` (the live queue, or the next one being built)."""
    created, score_only, other, _ = changes
    if created:
        upsert = UPSERT if table == "queue" else UPSERT.replace("INTO queue ", f"INTO {table} ")
        conn.executemany(upsert, [(*r, now_iso) for r in created])
    if score_only:
        sql = SCORE_ONLY.replace("UPDATE queue ", f"UPDATE {table} ")
        conn.executemany(sql, score_only)
    if other:
        sql = UPDATE.replace("UPDATE queue ", f"UPDATE {table} ")
        conn.executemany(sql, [(*r[1:], now_iso, r[0]) for r in other])
