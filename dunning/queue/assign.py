"""Reassigning accounts: a lead moves accounts from one collector to another.

Each moved account gets an ``assignments`` history row (to whom, by whom, when, why) and
its ``queue.collector_id`` set, in the same write transaction. Bulk moves are chunked
(1,000 accounts per transaction) so that other collectors' writes never wait long
(DESIGN.md: a 100,000-row UPDATE stalls every writer ~1 s; 1,000-row chunks ~50 ms).
A claim in progress is left alone: the collector on the call finishes it. A bulk move
stopped part-way (Ctrl-C) raises :class:`~dunning.queue.bulk.Interrupted` saying how many
moved, and audits it; running the same command again moves the rest.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable

from dunning.clock import Clock, to_iso
from dunning.db.connection import write_tx
from dunning.db.lockwait import announce
from dunning.i18n import _
from dunning.queue.accounts import refresh_accounts
from dunning.queue.audit import record
from dunning.queue.bulk import Interrupted, record_interrupted
from dunning.queue.collectors import Collector
from dunning.queue.config import Settings
from dunning.queue.identity import refuse
from dunning.queue.rights import RightsError, require
from dunning.textsafe import clean

CHUNK = 1000


class AssignError(Exception):
    """Refused: the person reassigning is not a lead, or the target cannot take accounts."""


def reassign(
    conn: sqlite3.Connection,
    clock: Clock,
    lead: Collector,
    customer_ids: Iterable[int],
    to: Collector,
    reason: str,
    *,
    settings: Settings | None = None,
) -> int:
    """Give ``customer_ids`` to ``to``; returns how many accounts changed hands.

    Accounts already assigned to ``to`` and ids that are not customers are left out.
    Accounts without a queue row yet (imported, not refreshed) get one first.
    """
    reason = clean(reason)[0].strip()  # the CLI says how many went (dunning/textsafe.py)
    try:
        require(lead.role, "assign", who=lead.username)
    except RightsError as exc:
        refuse(conn, clock, action="assign", message=str(exc), collector_id=lead.id,
               target=to.username, detail={"reason": reason})  # fmt: skip
        raise AssignError(str(exc)) from None
    ids = sorted(set(customer_ids))
    detail = {"accounts": len(ids), "reason": reason}
    start = conn.execute("SELECT COALESCE(MAX(id), 0) FROM assignments").fetchone()[0]
    try:
        if len(ids) <= CHUNK:
            moved = _reassign(conn, clock, lead, ids, to, reason, settings)
        else:
            with announce(conn, "assign", to_iso(clock.now())):
                moved = _reassign(conn, clock, lead, ids, to, reason, settings)
    except KeyboardInterrupt:
        # the chunks committed before the interruption are written: count them in the
        # database (exact whatever instant the signal came at), say so, and audit it
        moved = int(
            conn.execute(
                "SELECT COUNT(*) FROM assignments WHERE id > ? AND assigned_by = ?",
                (start, lead.id),
            ).fetchone()[0]
        )
        record_interrupted(
            conn, clock, action="assign", done=moved, of=len(ids), collector_id=lead.id,
            target=to.username,
        )  # fmt: skip
        raise Interrupted(
            _(
                "{moved:,} of {of:,} accounts moved to {name} before the interruption; run "
                "the same command again to move the rest"
            ).format(moved=moved, of=len(ids), name=to.username),
            moved,
            len(ids),
        ) from None
    except Exception as exc:
        with contextlib.suppress(sqlite3.Error):
            record(conn, clock, action="assign", collector_id=lead.id, target=to.username,
                   result="failed", detail={**detail, "error": str(exc)[:500]})  # fmt: skip
        raise
    # who moved what (dunning export audit)
    record(conn, clock, action="assign", collector_id=lead.id, target=to.username,
           detail={**detail, "moved": moved})  # fmt: skip
    return moved


def _reassign(
    conn: sqlite3.Connection,
    clock: Clock,
    lead: Collector,
    ids: list[int],
    to: Collector,
    reason: str,
    settings: Settings | None,
) -> int:
    moved = 0
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        marks = ",".join("?" * len(chunk))
        with write_tx(conn):
            now_iso = to_iso(clock.now())
            active = conn.execute("SELECT active FROM collectors WHERE id = ?", (to.id,)).fetchone()
            if active is None or not active[0]:
                raise AssignError(_("{name!r} is not an active collector").format(name=to.username))
            current = {
                int(r[0]): r[1]
                for r in conn.execute(
                    f"SELECT customer_id, collector_id FROM queue WHERE customer_id IN ({marks})",
                    chunk,
                )
            }
            missing = [
                int(r[0])
                for r in conn.execute(f"SELECT id FROM customers WHERE id IN ({marks})", chunk)
                if int(r[0]) not in current
            ]
            if missing:
                refresh_accounts(conn, clock, settings or Settings(), missing)
                current.update(dict.fromkeys(missing))
            changing = [cid for cid in chunk if cid in current and current[cid] != to.id]
            if not changing:
                continue
            conn.executemany(
                """INSERT INTO assignments (customer_id, collector_id, assigned_at, assigned_by,
                       reason) VALUES (?,?,?,?,?)""",
                [(cid, to.id, now_iso, lead.id, reason) for cid in changing],
            )
            change_marks = ",".join("?" * len(changing))
            conn.execute(
                f"""UPDATE queue SET collector_id = ?, updated_at = ?
                    WHERE customer_id IN ({change_marks})""",
                [to.id, now_iso, *changing],
            )
        moved += len(changing)
    return moved
