"""The rows a night's refresh changes, and how they are written (queue/refresh.py).

A range's queue rows are computed (``RowMaker``) and compared with the rows as they are:
rows to create, rows whose standing alone changes, other changed rows (both bound as
their UPDATE takes them, so the writer hands them to SQLite as they come: only the
columns that changed are set, ``update_sql``), and a count of the unchanged ones, which
are not written.

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

# The columns a refresh writes, in a new row's order (NewRow[1:13]). An UPDATE sets only
# the ones that changed (besides the priority and reasons, written with every row: no
# index reads them): SQLite maintains no index none of whose columns (nor its WHERE's) is
# in the SET list, so a row whose state alone moved (waiting -> ready: most of a night's
# changed rows) rewrites the worklist's and the waiting list's entries, not the account
# lists' (db/list_schema.py) nor the standing's.
COLUMNS = (
    "state",
    "priority",
    "reasons",
    "next_action",
    "next_action_at",
    "open_minor",
    "disputed_minor",
    "unapplied_minor",
    "oldest_due",
    "pclass",
    "pkey",
    "restand_on",
)
_OLD_AT = (1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14)  # each one's place in the row as it is
_COMPARED = tuple(k for k in range(12) if COLUMNS[k] not in ("priority", "reasons"))


def _changed(new: tuple, old: tuple, now_iso: str) -> tuple[int, tuple]:
    """(which columns changed, as bits of COLUMNS; the UPDATE's parameters)."""
    mask = 0
    values: list[object] = [new[2], new[3]]
    for k in _COMPARED:
        v = new[k + 1]
        if v != old[_OLD_AT[k]]:
            mask |= 1 << k
            values.append(v)
    return mask, (*values, now_iso, new[0])


def update_sql(mask: int, table: str = "queue") -> str:
    """The UPDATE of the rows whose changed columns are ``mask`` (bits of COLUMNS)."""
    cols = ["priority", "reasons", *(COLUMNS[k] for k in _COMPARED if mask >> k & 1)]
    sets = ", ".join(f"{c} = ?" for c in cols)
    return f"UPDATE {table} SET {sets}, updated_at = ? WHERE customer_id = ?"


def changes_where(
    conn: sqlite3.Connection, maker: RowMaker, where: str, params: list[int]
) -> Changes:
    new_rows: list[NewRow] = []
    score_only: list[tuple] = []
    now_iso = maker.now_iso
    other: list[tuple[int, tuple]] = []
    same = 0
    for new, old in maker.rows(conn, where, params):
        if old is None:
            new_rows.append(new)
        elif new[4:10] == old[4:10] and new[1] == old[1]:
            if new[10:] == old[12:15]:
                same += 1
            else:  # the standing alone
                score_only.append(_changed(new, old, now_iso))
        else:
            other.append(_changed(new, old, now_iso))
    return new_rows, score_only, other, same


def write_changes(
    conn: sqlite3.Connection, now_iso: str, changes: Changes, table: str = "queue"
) -> None:
    """The changes written to ``table`` (the live queue, or the next one being built)."""
    created, score_only, other, _ = changes
    if created:
        upsert = UPSERT if table == "queue" else UPSERT.replace("INTO queue ", f"INTO {table} ")
        conn.executemany(upsert, [(*r, now_iso) for r in created])
    by_mask: dict[int, list[tuple]] = {}
    for mask, params in (*score_only, *other):
        by_mask.setdefault(mask, []).append(params)
    for mask, rows in by_mask.items():
        conn.executemany(update_sql(mask, table), rows)
