"""Claims a lead can see and break (issue 9, item 9).

A claim lives on the queue row (``claimed_by``, ``claim_expires_at``, the process's pid
and host: queue/claim.py). :func:`list_claims` reads the live ones through the partial
index ``queue_claims`` (as many rows as claims in flight), with since when the account
has been on its holder's screen (queue/presence.py) and whether that screen still beats.
:func:`release_claim` breaks one: a ``claim_releases`` row (whose, until when, which
process, who released it, when, why), the claim cleared and an ``audit_log`` row, in one
transaction. Only a lead or an admin may do either (``claims`` in queue/rights.py).

A released claim of a screen still open is taken back at that screen's next renewal if
the account is still its collector's (they may be on the phone); releasing is for a claim
left behind (a screen that stopped beating, a ``dunning next`` never followed by a log).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from dunning.clock import Clock, from_iso, to_iso
from dunning.db.connection import write_tx
from dunning.i18n import _
from dunning.queue import audit
from dunning.queue.access import ClaimError
from dunning.queue.identity import Actor, refuse
from dunning.queue.presence import ONLINE_WITHIN
from dunning.queue.rights import RightsError, require
from dunning.textsafe import clean

MAX_REASON = 500


@dataclass(frozen=True)
class HeldClaim:
    customer_id: int
    ref: str
    name: str
    holder: str
    owner: str | None  # whom the account is assigned to (may differ: reassigned meanwhile)
    expires_at: datetime
    host: str | None
    pid: int | None
    since: datetime | None  # on the holder's screen since (None: not known)
    last_beat: datetime | None  # the holder's screen's last beat (None: no screen)
    stale: bool  # no screen of its holder beats on it


def require_lead(conn: sqlite3.Connection, clock: Clock, actor: Actor, action: str,
                 target: str = "") -> None:  # fmt: skip
    """RightsError (recorded in the audit log) unless the actor is a lead or an admin."""
    try:
        require(actor.role, "claims", who=actor.name)
    except RightsError as exc:
        refuse(conn, clock, action=action, message=str(exc), collector_id=actor.collector_id,
               target=target)  # fmt: skip
        raise


def list_claims(
    conn: sqlite3.Connection, clock: Clock, customer_id: int | None = None
) -> list[HeldClaim]:
    """Every live claim, the oldest on screen first (unknown ones last); ``customer_id``:
    that account's only (its primary key: one row read)."""
    now = clock.now()
    one = "" if customer_id is None else " AND q.customer_id = ?"
    rows = conn.execute(
        """SELECT q.customer_id, c.external_ref, c.name, h.username AS holder,
                  o.username AS owner, q.claim_expires_at, q.claim_host, q.claim_pid,
                  w.on_since, w.beat_at, w.customer_id AS on_screen
           FROM queue q
           JOIN customers c ON c.id = q.customer_id
           JOIN collectors h ON h.id = q.claimed_by
           LEFT JOIN collectors o ON o.id = q.collector_id
           LEFT JOIN work_sessions w ON w.host = q.claim_host AND w.pid = q.claim_pid
                AND w.ended_at IS NULL AND w.collector_id = q.claimed_by
           WHERE q.claimed_by IS NOT NULL AND q.claim_expires_at > ?"""
        + one,
        (to_iso(now),) if customer_id is None else (to_iso(now), customer_id),
    ).fetchall()
    out = []
    for r in rows:
        beat = from_iso(r["beat_at"]) if r["beat_at"] else None
        live = beat is not None and now - beat <= ONLINE_WITHIN
        here = live and r["on_screen"] == r["customer_id"]
        out.append(
            HeldClaim(
                int(r["customer_id"]),
                r["external_ref"],
                r["name"],
                r["holder"],
                r["owner"],
                from_iso(r["claim_expires_at"]),
                r["claim_host"],
                r["claim_pid"],
                from_iso(r["on_since"]) if here and r["on_since"] else None,
                beat,
                not here,
            )
        )
    far = datetime.max.replace(tzinfo=now.tzinfo)
    out.sort(key=lambda h: (h.since or far, h.ref))
    return out


def release_claim(
    conn: sqlite3.Connection, clock: Clock, actor: Actor, customer_id: int, ref: str, reason: str
) -> HeldClaim:
    """Break the live claim on one account; returns what it was. ClaimError when nobody
    holds it; ValueError without a reason."""
    reason = clean(reason or "")[0].strip()[:MAX_REASON]
    require_lead(conn, clock, actor, "claims.release", ref)
    if not reason:
        raise ValueError(_("say why with --reason (it is kept in the history)"))
    now_iso = to_iso(clock.now())
    held = {h.customer_id: h for h in list_claims(conn, clock)}.get(customer_id)
    with write_tx(conn):
        row = conn.execute(
            """SELECT claimed_by, claim_expires_at, claim_pid, claim_host FROM queue
               WHERE customer_id = ? AND claimed_by IS NOT NULL AND claim_expires_at > ?""",
            (customer_id, now_iso),
        ).fetchone()
        if row is None or held is None:
            raise ClaimError(_("nobody holds {ref} now: nothing to release").format(ref=ref))
        conn.execute(
            """INSERT INTO claim_releases (customer_id, held_by, expires_at, pid, host,
                   released_at, released_by, reason) VALUES (?,?,?,?,?,?,?,?)""",
            (customer_id, row["claimed_by"], row["claim_expires_at"], row["claim_pid"],
             row["claim_host"], now_iso, actor.collector_id, reason),
        )  # fmt: skip
        conn.execute(
            """UPDATE queue SET claimed_by = NULL, claim_expires_at = NULL, claim_pid = NULL,
                   claim_host = NULL WHERE customer_id = ?""",
            (customer_id,),
        )
        audit.record(
            conn, clock, action="claims.release", collector_id=actor.collector_id, target=ref,
            detail={"holder": held.holder, "expires_at": row["claim_expires_at"],
                    "stale": held.stale, "reason": reason},
        )  # fmt: skip
    return held
