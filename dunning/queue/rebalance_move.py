"""A rebalance moved, and its loans given back (queue/rebalance.py plans it).

:func:`commit` stages the plan's moves (customer, from, to) in a temporary table and moves
them in chunks as ``dunning assign --from`` does (queue/assign.py: the chunk sized to hold
the write lock ~50 ms, a pause between chunks with the WAL checkpointed, so the team's
claims and outcomes go on). In each chunk's transaction: the ``assignments`` rows (to
whom, by whom, when, why) for the accounts whose owner is still the one planned (read
again under the lock), their new owner on the queue row, and with ``--until`` one
``loans`` row each. One ``audit_log`` row for the command, with its counts.

:func:`return_loans` gives lent accounts back to their owners: the loans due (the nightly
``dunning queue refresh``, ``dunning rebalance return``) or one owner's now (``return
--from dave``: back early). An account the lead moved elsewhere meanwhile stays where it
is (the loan ends ``moved``), and one whose owner was deactivated stays with its holder
(``inactive``); each loan ends with a ``loan_returns`` row in the same transaction as the
move back.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from dunning.clock import Clock, to_iso
from dunning.db.connection import write_tx
from dunning.db.lockwait import announce
from dunning.i18n import _
from dunning.queue.assign import PAUSE_S, Pacer, breathe
from dunning.queue.audit import record
from dunning.queue.bulk import Interrupted, record_interrupted
from dunning.queue.collectors import Collector
from dunning.queue.rebalance import Plan

STAGE = "temp.rebalance_move"
PLANNED = "temp.rebalance_planned"
RETURN_CHUNK = 500


def _stage(conn: sqlite3.Connection, plan: Plan) -> None:
    """The moves in the worklist index's order, per target (as ``assign --from`` moves a
    book, queue/assign.py ``_move_book``): a chunk's index entries are neighbours at both
    ends, so a chunk writes about half the pages it would in id order."""
    conn.execute(f"DROP TABLE IF EXISTS {PLANNED}")
    conn.execute(
        f"""CREATE TABLE {PLANNED} (customer_id INTEGER PRIMARY KEY, from_id INTEGER NOT NULL,
               to_id INTEGER NOT NULL)"""
    )
    conn.executemany(
        f"INSERT INTO {PLANNED} (customer_id, from_id, to_id) VALUES (?,?,?)", plan.moves
    )
    conn.execute(f"DROP TABLE IF EXISTS {STAGE}")
    conn.execute(
        f"""CREATE TABLE {STAGE} (pos INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL UNIQUE,
               from_id INTEGER NOT NULL, to_id INTEGER NOT NULL)"""
    )
    conn.execute(
        f"""INSERT INTO {STAGE} (customer_id, from_id, to_id)
            SELECT p.customer_id, p.from_id, p.to_id
            FROM {PLANNED} p JOIN queue q ON q.customer_id = p.customer_id
            ORDER BY p.to_id, p.from_id, q.state, q.pclass, q.pkey DESC, p.customer_id"""
    )
    conn.execute(f"DROP TABLE IF EXISTS {PLANNED}")


def _detail(plan: Plan) -> dict[str, object]:
    return {
        "from": plan.source.username if plan.source else None,
        "team": plan.team,
        "by": plan.by,
        "until": plan.until.isoformat() if plan.until else None,
        "reason": plan.reason,
        "planned": plan.moving,
        "left": plan.left,
        "any_language": plan.any_language,
    }


def commit(
    conn: sqlite3.Connection,
    clock: Clock,
    lead: Collector,
    plan: Plan,
    *,
    pause: float = PAUSE_S,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Move ``plan``; returns how many accounts changed hands. Ctrl-C leaves whole chunks
    moved (with their loans) and raises :class:`Interrupted` saying how many."""
    start = conn.execute("SELECT COALESCE(MAX(id), 0) FROM assignments").fetchone()[0]
    target = plan.source.username if plan.source else (plan.team or "")
    try:
        with announce(conn, "rebalance", to_iso(clock.now())):
            moved = _move(conn, clock, lead, plan, pause, progress)
    except KeyboardInterrupt:
        moved = int(conn.execute(
            "SELECT COUNT(*) FROM assignments WHERE id > ? AND assigned_by = ?",
            (start, lead.id),
        ).fetchone()[0])  # fmt: skip
        record_interrupted(conn, clock, action="rebalance", done=moved, of=plan.moving,
                           collector_id=lead.id, target=target)  # fmt: skip
        raise Interrupted(
            _("{moved:,} of {of:,} accounts moved before the interruption; run the same "
              "command again to spread the rest").format(moved=moved, of=plan.moving),
            moved,
            plan.moving,
        ) from None  # fmt: skip
    except Exception as exc:
        with contextlib.suppress(sqlite3.Error):
            record(conn, clock, action="rebalance", collector_id=lead.id, target=target,
                   result="failed", detail={**_detail(plan), "error": str(exc)[:500]})  # fmt: skip
        raise
    record(conn, clock, action="rebalance", collector_id=lead.id, target=target,
           detail={**_detail(plan), "moved": moved})  # fmt: skip
    return moved


def _move(
    conn: sqlite3.Connection,
    clock: Clock,
    lead: Collector,
    plan: Plan,
    pause: float,
    progress: Callable[[int], None] | None,
) -> int:
    if not plan.moves:
        return 0
    _stage(conn, plan)
    n = len(plan.moves)

    def chunk(pos: int, size: int) -> int:
        now_iso = to_iso(clock.now())
        before = conn.execute("SELECT COALESCE(MAX(id), 0) FROM assignments").fetchone()[0]
        # the owner read again under the lock; a target deactivated since is skipped
        k = conn.execute(
            f"""INSERT INTO assignments (customer_id, collector_id, assigned_at,
                    assigned_by, reason, from_collector_id)
                SELECT m.customer_id, m.to_id, ?, ?, ?, m.from_id
                FROM {STAGE} m CROSS JOIN queue q ON q.customer_id = m.customer_id
                WHERE m.pos > ? AND m.pos <= ? AND q.collector_id = m.from_id
                  AND EXISTS (SELECT 1 FROM collectors k
                              WHERE k.id = m.to_id AND k.active = 1)
                ORDER BY m.customer_id""",
            (now_iso, lead.id, plan.reason, pos, pos + size),
        ).rowcount
        conn.execute(
            """UPDATE queue SET updated_at = ?, collector_id = (
                   SELECT a.collector_id FROM assignments a
                   WHERE a.customer_id = queue.customer_id AND a.id > ?)
               WHERE customer_id IN (SELECT customer_id FROM assignments WHERE id > ?)""",
            (now_iso, before, before),
        )
        if plan.until is not None and plan.due_at is not None:
            conn.execute(
                f"""INSERT INTO loans (customer_id, owner_id, holder_id, lent_at,
                        lent_by, until, due_at, reason)
                    SELECT a.customer_id, m.from_id, a.collector_id, ?, ?, ?, ?, ?
                    FROM assignments a JOIN {STAGE} m ON m.customer_id = a.customer_id
                    WHERE a.id > ?""",
                (now_iso, lead.id, plan.until.isoformat(), plan.due_at, plan.reason,
                 before),
            )  # fmt: skip
        return k

    try:
        return Pacer(pause).run(conn, n, chunk, 0, progress)
    finally:
        with contextlib.suppress(sqlite3.Error):
            conn.execute(f"DROP TABLE IF EXISTS {STAGE}")


@dataclass
class Returned:
    """What a return did: accounts given back, loans ended without a move (the account
    had changed hands since; its owner is deactivated)."""

    returned: int = 0
    moved: int = 0
    inactive: int = 0

    @property
    def ended(self) -> int:
        return self.returned + self.moved + self.inactive


def open_loans(conn: sqlite3.Connection, *, owner_id: int | None = None) -> int:
    """How many loans are open (of one owner)."""
    sql = "SELECT COUNT(*) FROM loans l WHERE NOT EXISTS (SELECT 1 FROM loan_returns r " \
          "WHERE r.loan_id = l.id)"  # fmt: skip
    params: list[object] = []
    if owner_id is not None:
        sql += " AND l.owner_id = ?"
        params.append(owner_id)
    return int(conn.execute(sql, params).fetchone()[0])


def return_loans(
    conn: sqlite3.Connection,
    clock: Clock,
    *,
    by: Collector | None,
    owner_id: int | None = None,
    pause: float = PAUSE_S,
) -> Returned:
    """End the loans due now (``owner_id``: that owner's open loans, due or not), in
    chunks. ``by`` None: the nightly job (assignments and returns name no collector)."""
    out = Returned()
    by_id = by.id if by is not None else None
    after = 0
    while True:
        with write_tx(conn):
            now_iso = to_iso(clock.now())
            sql = """SELECT l.id, l.customer_id, l.owner_id, l.holder_id, l.until,
                            q.collector_id, k.active
                     FROM loans l JOIN queue q ON q.customer_id = l.customer_id
                     JOIN collectors k ON k.id = l.owner_id
                     WHERE l.id > ? AND NOT EXISTS (SELECT 1 FROM loan_returns r
                                                    WHERE r.loan_id = l.id)"""
            params: list[object] = [after]
            if owner_id is None:
                sql += " AND l.due_at <= ?"
                params.append(now_iso)
            else:
                sql += " AND l.owner_id = ?"
                params.append(owner_id)
            rows = conn.execute(sql + " ORDER BY l.id LIMIT ?", [*params, RETURN_CHUNK]).fetchall()
            if not rows:
                break
            ends, back = [], []
            for loan_id, cid, owner, holder, until, now_owner, active in rows:
                if now_owner != holder:
                    result = "moved"
                elif not active:
                    result = "inactive"
                else:
                    result = "returned"
                    back.append((cid, owner, now_iso, by_id, f"loan until {until} ended", holder))
                ends.append((loan_id, now_iso, by_id, result))
                setattr(out, result, getattr(out, result) + 1)
            conn.executemany(
                """INSERT INTO assignments (customer_id, collector_id, assigned_at, assigned_by,
                       reason, from_collector_id) VALUES (?,?,?,?,?,?)""",
                back,
            )
            conn.executemany(
                "UPDATE queue SET collector_id = ?, updated_at = ? WHERE customer_id = ?",
                [(owner, now, cid) for cid, owner, now, _by, _r, _from in back],
            )
            conn.executemany(
                "INSERT INTO loan_returns (loan_id, returned_at, returned_by, result) "
                "VALUES (?,?,?,?)",
                ends,
            )
            after = int(rows[-1][0])
        if len(rows) < RETURN_CHUNK:
            break
        breathe(conn, pause)
    if out.ended:
        record(conn, clock, action="rebalance.return", collector_id=by_id,
               detail={"returned": out.returned, "moved": out.moved, "inactive": out.inactive,
                       "owner_id": owner_id})  # fmt: skip
    return out
