"""Taking an outcome back: the collector's `u` within seconds, or a void later, with a reason.

A void is an appended record (table ``voids``): the activity stays in the history, shown
struck through. What the outcome created is cancelled in the same write transaction:

- its promise, or every instalment of its plan -> ``cancelled``, whatever their status:
  the promise was never made, so it counts neither kept nor broken (a decision the
  system took on it is undone with it; its "promise broken" line stays in the history);
- its dispute, while open -> ``voided``; each of its invoices is no longer disputed unless
  another open dispute covers it (a dispute already resolved stays as resolved);
- its payment report -> voided with its activity (the report row is kept);
- the number it marked wrong -> usable again, unless another outcome that stands also
  found it wrong (then that one's mark is put back);
- an escalation's status (legal, agency, credit hold) -> the status before it;
- the queue row -> recomputed from what remains: the next action of the latest outcome
  that stands (or ``call`` now), the last attempt and contact, the broken-promise flag.

Who may: a lead or admin any outcome; a collector only their own, on the same local day.
A system activity (a promise decided, an assignment) is not an outcome: never voided.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from dunning.bounds import fits_int64
from dunning.clock import Clock, from_iso, to_iso
from dunning.db import aging_snapshot
from dunning.db.connection import write_tx
from dunning.i18n import _
from dunning.queue.access import AccountRefused, audit_refusal, check_change, load_access
from dunning.queue.accounts import refresh_accounts
from dunning.queue.claim import _stamp
from dunning.queue.collectors import Collector
from dunning.queue.config import Settings
from dunning.queue.void_restore import (
    _recompute_queue,
    _restore_status,
    _unmark_phone,
)
from dunning.textsafe import clean

UNDONE = "undone"  # the reason recorded for the collector's `u`
NOT_OUTCOMES = ("system", "assign")  # activities the system writes


class VoidRefused(Exception):  # noqa: N818 - reads as what happened: refused (exit 1)
    """The void is not allowed (rights, too late, twice, held by someone): nothing changed."""


class VoidInputError(ValueError):
    """Bad input (no such activity, no reason): nothing changed (exit 2)."""


@dataclass(frozen=True)
class Voided:
    activity_id: int
    customer_id: int
    external_ref: str
    outcome: str
    reason: str
    note: str
    cancelled: dict[str, object]
    next_action: str
    next_action_at: str
    state: str
    cleaned: int = 0  # control/bidi characters removed from the reason (dunning/textsafe.py)


def cleaned_message(n: int) -> str:
    """Said after control characters were removed from a void's reason."""
    return _("removed {n} control character(s) from the reason").format(n=n)


def local_day(at: datetime, collector: Collector) -> date:
    """The collector's calendar day of an instant (their own time zone, else the host's):
    the day a collector may still void their own outcome."""
    return at.astimezone(collector.zone).date()


def too_late(age: float, activity_id: int) -> VoidRefused:
    return VoidRefused(
        _("too late to undo: it was saved {n} s ago; a lead can void it (activity {id})").format(
            n=int(age), id=activity_id
        )
    )


def check_rights(act: sqlite3.Row, by: Collector, now: datetime) -> None:
    """Who may void this activity; raises VoidRefused with the reason."""
    if act["collector_id"] is None or act["outcome"] in NOT_OUTCOMES:
        raise VoidRefused(
            _("activity {id} was written by the system, not logged: it cannot be voided").format(
                id=act["id"]
            )
        )
    if act["outcome"] in ("email_sent", "letter_sent"):  # it went out: the archive keeps it
        raise VoidRefused(
            _("activity {id} is a letter sent: it cannot be taken back").format(id=act["id"])
        )
    if by.is_lead:
        return
    if act["collector_id"] != by.id:
        raise VoidRefused(
            _("activity {id} was logged by {who}: only a lead can void it").format(
                id=act["id"], who=act["who"]
            )
        )
    if local_day(from_iso(act["at"]), by) != local_day(now, by):
        raise VoidRefused(
            _("activity {id} was logged on an earlier day: only a lead can void it now").format(
                id=act["id"]
            )
        )


def void_activity(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    *,
    by: Collector,
    activity_id: int,
    reason: str,
) -> Voided:
    """Void an outcome (CLI `dunning void`, a lead's history screen): one transaction."""
    reason, cleaned = clean(reason)
    reason = reason.strip()
    if not reason:
        raise VoidInputError(_("say why the outcome is voided (a reason is required)"))
    now = clock.now()
    try:
        with write_tx(conn):
            act = _activity(conn, activity_id)
            check_rights(act, by, now)
            _check_account(conn, act, by, now, reason)
            voided = _void(conn, clock, settings, act, by, reason, undo=False)
    except (VoidRefused, AccountRefused) as exc:  # rolled back; the refusal is kept
        _audit_refusal(conn, clock, by, "void", activity_id, exc)
        raise
    return replace(voided, cleaned=cleaned) if cleaned else voided


def _check_account(
    conn: sqlite3.Connection, act: sqlite3.Row, by: Collector, now: datetime, reason: str
) -> None:
    """A void changes the account: it must still be the collector's (a lead: any, the void's
    reason recorded) and nobody else may hold it now (queue/access.py)."""
    access = load_access(conn, to_iso(now), by, act["customer_id"])
    if access is not None:
        check_change(access, reason)


def _audit_refusal(
    conn: sqlite3.Connection,
    clock: Clock,
    by: Collector,
    action: str,
    activity_id: int,
    exc: Exception,
) -> None:
    row = conn.execute(
        """SELECT c.external_ref FROM activities a JOIN customers c ON c.id = a.customer_id
           WHERE a.id = ?""",
        (activity_id,),
    ).fetchone()
    audit_refusal(
        conn,
        clock,
        by,
        action=action,
        target=row[0] if row else f"#{activity_id}",
        error=exc,
        detail={"activity_id": activity_id},
    )


def undo_outcome(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    *,
    by: Collector,
    activity_id: int,
    release_id: int | None = None,
) -> Voided:
    """The collector's `u`: void their own outcome saved less than ``undo_seconds`` ago,
    claim the account again and put its note back in the draft, in one transaction. The
    account now on screen (``release_id``) is released."""
    try:
        return _undo(conn, clock, settings, by, activity_id, release_id)
    except (VoidRefused, AccountRefused) as exc:  # rolled back; the refusal is kept
        _audit_refusal(conn, clock, by, "undo", activity_id, exc)
        raise


def _undo(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    by: Collector,
    activity_id: int,
    release_id: int | None,
) -> Voided:
    now = clock.now()
    with write_tx(conn):
        act = _activity(conn, activity_id)
        if act["collector_id"] != by.id:
            raise VoidRefused(
                _("activity {id} was logged by {who}: only a lead can void it").format(
                    id=act["id"], who=act["who"]
                )
            )
        # `at` is stored to the second: saved at 12:00:00.9 reads 12:00:00
        age = (now - from_iso(act["at"])).total_seconds()
        if age >= settings.undo_seconds + 1:
            raise too_late(age, act["id"])
        cid = act["customer_id"]
        q = conn.execute(
            """SELECT q.claimed_by, q.claim_expires_at, k.username FROM queue q
               LEFT JOIN collectors k ON k.id = q.claimed_by WHERE q.customer_id = ?""",
            (cid,),
        ).fetchone()
        if (
            q is not None
            and q["claimed_by"] not in (None, by.id)
            and (q["claim_expires_at"] or "") > to_iso(now)
        ):
            raise VoidRefused(
                _("{ref} is now open for {who}: nothing was undone").format(
                    ref=act["external_ref"], who=q["username"]
                )
            )
        _check_account(conn, act, by, now, UNDONE)
        voided = _void(conn, clock, settings, act, by, UNDONE, undo=True)
        if release_id is not None and release_id != cid:
            conn.execute(
                """UPDATE queue SET claimed_by = NULL, claim_expires_at = NULL,
                       claim_pid = NULL, claim_host = NULL
                   WHERE customer_id = ? AND claimed_by = ?""",
                (release_id, by.id),
            )
        _stamp(conn, by.id, cid, to_iso(now + timedelta(minutes=settings.lease_minutes)))
        note = _note_of(act)
        if note:
            conn.execute(
                """INSERT INTO drafts (collector_id, customer_id, text, updated_at)
                   VALUES (?,?,?,?) ON CONFLICT(collector_id, customer_id)
                   DO UPDATE SET text = excluded.text || char(10) || drafts.text,
                                 updated_at = excluded.updated_at""",
                (by.id, cid, note, to_iso(now)),
            )
        return voided


def _note_of(act: sqlite3.Row) -> str:
    """The note as the collector typed it (a skip's reason line is the screen's, not theirs)."""
    note = str(act["note"] or "")
    if act["outcome"] == "skip" and act["details"]:
        reason = json.loads(act["details"]).get("reason")
        first, _sep, rest = note.partition("\n")
        if reason and first.endswith(f": {reason}"):
            note = rest
    return note.strip()


def _activity(conn: sqlite3.Connection, activity_id: int) -> sqlite3.Row:
    if not fits_int64(activity_id):  # no row has it, and SQLite cannot even bind it
        raise VoidInputError(_("no activity with id {id}").format(id=activity_id))
    act = conn.execute(
        """SELECT a.*, COALESCE(k.username, 'system') AS who, c.external_ref,
                  v.voided_at, v.reason AS void_reason, vb.username AS voided_by
           FROM activities a JOIN customers c ON c.id = a.customer_id
           LEFT JOIN collectors k ON k.id = a.collector_id
           LEFT JOIN voids v ON v.activity_id = a.id
           LEFT JOIN collectors vb ON vb.id = v.voided_by
           WHERE a.id = ?""",
        (activity_id,),
    ).fetchone()
    if act is None:
        raise VoidInputError(_("no activity with id {id}").format(id=activity_id))
    if act["voided_at"] is not None:
        raise VoidRefused(
            _("activity {id} is already voided ({who}: {reason})").format(
                id=activity_id, who=act["voided_by"], reason=act["void_reason"]
            )
        )
    return act


def _void(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    act: sqlite3.Row,
    by: Collector,
    reason: str,
    *,
    undo: bool,
) -> Voided:
    now_iso = to_iso(clock.now())
    aid, cid = act["id"], act["customer_id"]
    cancelled: dict[str, object] = {}
    # promises and plan instalments
    promises = conn.execute(
        "SELECT id, status FROM promises WHERE activity_id = ? AND status != 'cancelled'", (aid,)
    ).fetchall()
    if promises:
        cancelled["promises"] = [[p["id"], p["status"]] for p in promises]
        conn.execute(
            """UPDATE promises SET status = 'cancelled', decided_at = COALESCE(decided_at, ?)
               WHERE activity_id = ? AND status != 'cancelled'""",
            (now_iso, aid),
        )
        # a promise renegotiated by this one stands again: the renegotiation never happened
        ids = [p["id"] for p in promises]
        marks = ",".join("?" * len(ids))
        restored = [
            r[0]
            for r in conn.execute(
                f"""UPDATE promises SET status = 'pending', superseded_by = NULL,
                        decided_at = NULL
                    WHERE superseded_by IN ({marks}) AND status = 'cancelled' RETURNING id""",
                ids,
            )
        ]
        if restored:
            cancelled["restored_promises"] = sorted(restored)
            for pid in sorted(restored):
                conn.execute(
                    """INSERT INTO activities (customer_id, collector_id, at, outcome, note,
                                              details)
                       VALUES (?, NULL, ?, 'system', 'promise restored',
                               json_object('promise_id', ?, 'status', 'pending',
                                           'from', 'cancelled'))""",
                    (cid, now_iso, pid),
                )
    # disputes
    disputes = [
        r[0]
        for r in conn.execute(
            "SELECT id FROM disputes WHERE activity_id = ? AND status = 'open'", (aid,)
        )
    ]
    if disputes:
        cancelled["disputes"] = disputes
        marks = ",".join("?" * len(disputes))
        conn.execute(
            f"""UPDATE disputes SET status = 'voided', resolved_at = ?, resolved_by = ?
                WHERE id IN ({marks})""",
            [now_iso, by.id, *disputes],
        )
        conn.execute(
            f"""UPDATE invoices SET disputed = 0, updated_at = ?
                WHERE id IN (SELECT invoice_id FROM dispute_invoices
                             WHERE dispute_id IN ({marks}))
                AND NOT EXISTS (SELECT 1 FROM dispute_invoices di
                                JOIN disputes d ON d.id = di.dispute_id
                                WHERE di.invoice_id = invoices.id AND d.status = 'open')""",
            [now_iso, *disputes],
        )
        aging_snapshot.touch(conn, [cid])  # its aging row changed (db/aging_snapshot.py)
    reports = [
        r[0] for r in conn.execute("SELECT id FROM payment_reports WHERE activity_id = ?", (aid,))
    ]
    if reports:
        cancelled["payment_reports"] = reports
    # the insert comes before the recomputations: they read what still stands
    conn.execute(
        """INSERT INTO voids (activity_id, customer_id, voided_at, voided_by, reason, undo,
               details) VALUES (?,?,?,?,?,?,?)""",
        (aid, cid, now_iso, by.id, reason, int(undo), None),
    )
    wrong = act["outcome"] == "wrong_number" and act["phone_id"] is not None
    if wrong and _unmark_phone(conn, act):
        cancelled["bad_phone"] = act["phone_id"]
    if act["outcome"] == "escalated":
        status = _restore_status(conn, act, now_iso)
        if status:
            cancelled["status"] = status
    next_action, next_at = _recompute_queue(conn, cid, act, now_iso)
    conn.execute(
        "UPDATE voids SET details = ? WHERE activity_id = ?",
        (json.dumps(cancelled) if cancelled else None, aid),
    )
    refresh_accounts(conn, clock, settings, [cid])
    state = conn.execute("SELECT state FROM queue WHERE customer_id = ?", (cid,)).fetchone()
    return Voided(
        aid,
        cid,
        act["external_ref"],
        act["outcome"],
        reason,
        _note_of(act),
        cancelled,
        next_action,
        next_at,
        state[0] if state else "closed",
    )
