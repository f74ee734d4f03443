"""The kind of letter an account's dunning level calls for, until the levels of issue 10
(item 5, dunning/queue/levels.py) are in: the highest reminder the oldest overdue,
undisputed invoice warrants by DOMAIN.md's ladder (7, 30, 60, 90 days past due).

Same signature as ``dunning.queue.levels.kind_for_account``, which replaces it.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime

from dunning.queue.config import Settings

# (days past due of the oldest overdue invoice, the reminder it warrants), highest first
LADDER: tuple[tuple[int, str], ...] = (
    (90, "reminder_4"),
    (60, "reminder_3"),
    (30, "reminder_2"),
    (7, "reminder_1"),
)


def kind_for_account(
    conn: sqlite3.Connection, now_utc: datetime, settings: Settings, customer_id: int
) -> str | None:
    """``reminder_1`` .. ``reminder_4``, or None when nothing undisputed is 7 days overdue."""
    del settings  # the ladder is DOMAIN.md's until [levels] is configurable
    row = conn.execute(
        "SELECT MIN(due_date) FROM invoices WHERE customer_id = ? AND status = 'open' "
        "AND open_minor > 0 AND disputed = 0",
        (customer_id,),
    ).fetchone()
    if row is None or row[0] is None:
        return None
    days = (now_utc.date() - date.fromisoformat(str(row[0])[:10])).days
    for at_least, kind in LADDER:
        if days >= at_least:
            return kind
    return None
