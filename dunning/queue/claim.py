"""Claiming: one collector works an account at a time.

``claim_next`` runs in one ``BEGIN IMMEDIATE`` transaction: it wakes accounts whose next
action came due, decides promises whose grace ended, then takes the highest-priority
ready account of the collector that nobody else holds and that may be called now, and
stamps it with a lease. A lease that expires (a crashed process, a dropped SSH link)
frees the account for others; the collector's own process renews it while it is open.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import timedelta

from dunning.clock import Clock, to_iso
from dunning.db.connection import write_tx
from dunning.queue.calendar import account_zones
from dunning.queue.config import Settings
from dunning.queue.contact_rules import check_callable
from dunning.queue.promises import evaluate_promises

WAKE_CHUNK = 5000
CANDIDATE_PAGE = 25
MAX_CANDIDATES = 500


class ClaimError(Exception):
    """The account cannot be claimed (held by someone else, not found)."""


@dataclass(frozen=True)
class Claim:
    customer_id: int
    expires_at: str
    resumed: bool = False  # came back to an account held or drafted before
    passed_over: list[tuple[int, str]] = field(default_factory=list)  # (id, why) not callable


def wake_due(conn: sqlite3.Connection, now_iso: str) -> int:
    """Waiting accounts whose next action is due become ready (bounded per call)."""
    cur = conn.execute(
        """UPDATE queue SET state = 'ready' WHERE customer_id IN (
               SELECT customer_id FROM queue WHERE state = 'waiting' AND next_action_at <= ?
               LIMIT ?)""",
        (now_iso, WAKE_CHUNK),
    )
    return cur.rowcount


def _stamp(conn: sqlite3.Connection, collector_id: int, customer_id: int, expires: str) -> None:
    conn.execute(
        "UPDATE queue SET claimed_by = ?, claim_expires_at = ? WHERE customer_id = ?",
        (collector_id, expires, customer_id),
    )


def _resume(conn: sqlite3.Connection, collector_id: int, now_iso: str) -> int | None:
    row = conn.execute(
        """SELECT customer_id FROM queue WHERE claimed_by = ? AND claim_expires_at > ?
           ORDER BY claim_expires_at DESC LIMIT 1""",
        (collector_id, now_iso),
    ).fetchone()
    if row:
        return int(row[0])
    row = conn.execute(
        """SELECT d.customer_id FROM drafts d JOIN queue q ON q.customer_id = d.customer_id
           WHERE d.collector_id = ? AND (q.claimed_by IS NULL OR q.claimed_by = ?
                 OR q.claim_expires_at <= ?)
           ORDER BY d.updated_at DESC LIMIT 1""",
        (collector_id, collector_id, now_iso),
    ).fetchone()
    return int(row[0]) if row else None


def claim_next(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    collector_id: int,
    *,
    exclude: frozenset[int] = frozenset(),
    resume: bool = True,
) -> Claim | None:
    """Claim the collector's next account; None when nothing can be called now.

    ``resume``: first hand back an account this collector holds or has a draft on (after
    a crash, a dropped link). Otherwise only accounts nobody holds are candidates, not
    even ones this collector holds in another process.
    """
    now = clock.now()
    now_iso = to_iso(now)
    expires = to_iso(now + timedelta(minutes=settings.lease_minutes))
    with write_tx(conn):
        if resume:
            held = _resume(conn, collector_id, now_iso)
            if held is not None and held not in exclude:
                _stamp(conn, collector_id, held, expires)
                return Claim(held, expires, resumed=True)
        wake_due(conn, now_iso)
        evaluate_promises(conn, clock, settings)
        passed: list[tuple[int, str]] = []
        last_priority: int | None = None
        last_id = 0
        seen = 0
        while seen < MAX_CANDIDATES:
            if last_priority is None:
                page_filter, params = "", []
            else:
                page_filter = "AND (q.priority < ? OR (q.priority = ? AND q.customer_id > ?))"
                params = [last_priority, last_priority, last_id]
            rows = conn.execute(
                f"""SELECT q.customer_id, q.priority, c.portfolio, c.country, c.subdivision
                    FROM queue q JOIN customers c ON c.id = q.customer_id
                    WHERE q.collector_id = ? AND q.state = 'ready'
                      AND (q.claimed_by IS NULL OR q.claim_expires_at <= ?)
                      {page_filter}
                    ORDER BY q.priority DESC, q.customer_id LIMIT ?""",
                [collector_id, now_iso, *params, CANDIDATE_PAGE],
            ).fetchall()
            if not rows:
                break
            for row in rows:
                seen += 1
                last_priority, last_id = row["priority"], row["customer_id"]
                cid = int(row["customer_id"])
                if cid in exclude:
                    continue
                if row["portfolio"] in settings.contact_rules_portfolios:
                    verdict = check_callable(
                        conn,
                        now,
                        settings,
                        customer_id=cid,
                        portfolio=row["portfolio"],
                        country=row["country"],
                        subdivision=row["subdivision"],
                        zones=account_zones(conn, cid, row["country"], row["subdivision"]),
                    )
                    if not verdict.ok:
                        passed.append((cid, verdict.code))
                        continue
                _stamp(conn, collector_id, cid, expires)
                return Claim(cid, expires, passed_over=passed)
    return None


def claim_account(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    collector_id: int,
    customer_id: int,
) -> Claim:
    """Open a given account (from search): claim it unless someone else holds it."""
    now = clock.now()
    now_iso = to_iso(now)
    expires = to_iso(now + timedelta(minutes=settings.lease_minutes))
    with write_tx(conn):
        row = conn.execute(
            """SELECT q.claimed_by, q.claim_expires_at, k.username FROM queue q
               LEFT JOIN collectors k ON k.id = q.claimed_by WHERE q.customer_id = ?""",
            (customer_id,),
        ).fetchone()
        if row is None:
            raise ClaimError(f"no account with id {customer_id}")
        if row["claimed_by"] not in (None, collector_id) and row["claim_expires_at"] > now_iso:
            raise ClaimError(f"{row['username']} is working this account right now")
        _stamp(conn, collector_id, customer_id, expires)
    return Claim(customer_id, expires)


def renew(
    conn: sqlite3.Connection, clock: Clock, settings: Settings, collector_id: int, customer_id: int
) -> bool:
    """Extend the lease while the account is on screen; False if it was lost."""
    now = clock.now()
    with write_tx(conn):
        cur = conn.execute(
            """UPDATE queue SET claimed_by = ?, claim_expires_at = ? WHERE customer_id = ?
               AND (claimed_by = ? OR claimed_by IS NULL OR claim_expires_at <= ?)""",
            (
                collector_id,
                to_iso(now + timedelta(minutes=settings.lease_minutes)),
                customer_id,
                collector_id,
                to_iso(now),
            ),
        )
    return cur.rowcount > 0


def release(conn: sqlite3.Connection, collector_id: int, customer_id: int) -> None:
    with write_tx(conn):
        conn.execute(
            """UPDATE queue SET claimed_by = NULL, claim_expires_at = NULL
               WHERE customer_id = ? AND claimed_by = ?""",
            (customer_id, collector_id),
        )
