"""The audit log: who did what outside the call history (issue 7, section 8).

Every import, export, report, backup, collector change and reassignment appends a row,
and so does every refusal ("alice may not log on bruno's account"). The real OS user is
always recorded (from ``os.getuid()``, which the environment cannot forge) beside the
collector the command acted as.

``record`` joins the caller's transaction when one is open (the change and its audit
row commit together), else writes its own.
"""

from __future__ import annotations

import json
import os
import pwd
import sqlite3
from collections.abc import Mapping
from typing import Any

from dunning.clock import Clock, to_iso
from dunning.db.connection import write_tx

RESULTS = ("done", "refused", "interrupted", "failed")


def os_account() -> tuple[int, str]:
    """(uid, name) of the real OS user running this process; never LOGNAME/USER."""
    uid = os.getuid()
    try:
        return uid, pwd.getpwuid(uid).pw_name
    except KeyError:  # a uid with no passwd entry (a container): the number is the name
        return uid, str(uid)


def record(
    conn: sqlite3.Connection,
    clock: Clock,
    *,
    action: str,
    collector_id: int | None = None,
    target: str = "",
    result: str = "done",
    detail: Mapping[str, Any] | None = None,
) -> int:
    """Append one audit row; returns its id."""
    if result not in RESULTS:
        raise ValueError(f"audit result {result!r} is not one of {', '.join(RESULTS)}")
    uid, name = os_account()
    row = (
        to_iso(clock.now()),
        name,
        uid,
        collector_id,
        action,
        target,
        result,
        json.dumps(dict(detail or {}), ensure_ascii=False, sort_keys=True, default=str),
    )
    sql = (
        "INSERT INTO audit_log (at, os_user, os_uid, collector_id, action, target, result, "
        "detail) VALUES (?,?,?,?,?,?,?,?)"
    )
    if conn.in_transaction:
        return int(conn.execute(sql, row).lastrowid or 0)
    with write_tx(conn):
        return int(conn.execute(sql, row).lastrowid or 0)


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(conn: sqlite3.Connection, clock: Clock, key: str, value: str) -> None:
    """Set a fact about this database, recorded with the OS user who set it."""
    _uid, name = os_account()
    with write_tx(conn):
        conn.execute(
            "INSERT INTO meta (key, value, set_at, set_by) VALUES (?,?,?,?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value, set_at = excluded.set_at, "
            "set_by = excluded.set_by",
            (key, value, to_iso(clock.now()), name),
        )
        record(conn, clock, action="meta.set", target=key, detail={"value": value})
