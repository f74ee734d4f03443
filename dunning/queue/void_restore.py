"""Putting back what a voided outcome changed (dunning/queue/void.py calls these inside its
write transaction): the number it marked wrong, the status an escalation set, and the queue
row recomputed from the outcomes that stand."""

from __future__ import annotations

import json
import sqlite3

ESCALATED_STATUSES = ("legal", "agency", "credit_hold")
# requests that set a status when the policy let them take effect (queue/approvals.py)
REQUEST_STATUSES = {"writeoff": "write_off", "hold_release": "active"}

STANDING = "NOT EXISTS (SELECT 1 FROM voids v WHERE v.activity_id = a.id)"


def _unmark_phone(conn: sqlite3.Connection, act: sqlite3.Row) -> bool:
    """Undo the bad mark this outcome put on its number; another standing wrong_number
    outcome on it puts its own mark back (who found it bad first stays on record)."""
    phone = conn.execute(
        "SELECT bad, bad_at, bad_by FROM phones WHERE id = ?", (act["phone_id"],)
    ).fetchone()
    if phone is None or not phone["bad"]:
        return False
    if (phone["bad_at"], phone["bad_by"]) != (act["at"], act["collector_id"]):
        return False  # someone else's mark (or the ledger's): not this outcome's
    other = conn.execute(
        f"""SELECT at, collector_id FROM activities a WHERE phone_id = ?
            AND outcome = 'wrong_number' AND id != ? AND {STANDING} ORDER BY at, id LIMIT 1""",
        (act["phone_id"], act["id"]),
    ).fetchone()
    conn.execute(
        "UPDATE phones SET bad = ?, bad_at = ?, bad_by = ? WHERE id = ?",
        (
            1 if other else 0,
            other["at"] if other else None,
            other["collector_id"] if other else None,
            act["phone_id"],
        ),
    )
    return other is None


def _restore_request(
    conn: sqlite3.Connection, act: sqlite3.Row, details: dict, set_to: str, now_iso: str
) -> str | None:
    """A write-off within the collector's limit or a free credit-hold release: the status
    before it, if it still stands as the request left it. A request sent to a lead never
    set a status (``review_reason``): nothing to put back."""
    if details.get("review_reason"):
        return None
    if set_to == "write_off":  # the invoices it wrote off are open again
        from dunning.queue.writeoffs import reopen  # noqa: PLC0415

        reopen(conn, int(act["id"]), now_iso)
    cur = conn.execute(
        "SELECT status FROM customers WHERE id = ?", (act["customer_id"],)
    ).fetchone()
    if cur is None or cur[0] != set_to:
        return None
    before = str(details.get("status_before") or "active")
    conn.execute(
        "UPDATE customers SET status = ?, updated_at = ? WHERE id = ?",
        (before, now_iso, act["customer_id"]),
    )
    return before


def _restore_status(conn: sqlite3.Connection, act: sqlite3.Row, now_iso: str) -> str | None:
    """An escalation set the customer's status: put back the one before it (the latest
    standing earlier escalation's, else active), if nothing changed it since."""
    details = json.loads(act["details"] or "{}")
    escalation = details.get("escalation")
    if escalation in REQUEST_STATUSES:  # a request that took effect alone (approvals.py)
        return _restore_request(conn, act, details, REQUEST_STATUSES[escalation], now_iso)
    if escalation not in ESCALATED_STATUSES:
        return None
    cur = conn.execute(
        "SELECT status FROM customers WHERE id = ?", (act["customer_id"],)
    ).fetchone()
    if cur is None or cur[0] != escalation:
        return None
    for row in conn.execute(
        f"""SELECT details FROM activities a WHERE customer_id = ? AND outcome = 'escalated'
            AND (at > ? OR (at = ? AND id > ?)) AND {STANDING}""",
        (act["customer_id"], act["at"], act["at"], act["id"]),
    ):
        if json.loads(row[0] or "{}").get("escalation") == escalation:
            return None  # a later escalation that stands set this status too
    # the status this escalation replaced (recorded since issue 6; 'active' before), or,
    # going back, the one an earlier escalation that stands set; an earlier voided one that
    # had set it hands on the status it had replaced (a cease account stays cease)
    before = json.loads(act["details"] or "{}").get("status_before") or "active"
    for row in conn.execute(
        f"""SELECT details, {STANDING} FROM activities a
            WHERE customer_id = ? AND outcome = 'escalated'
            AND (at < ? OR (at = ? AND id < ?)) ORDER BY at DESC, id DESC""",
        (act["customer_id"], act["at"], act["at"], act["id"]),
    ):
        d = json.loads(row[0] or "{}")
        esc = d.get("escalation")
        if esc not in ESCALATED_STATUSES:
            continue
        if row[1]:
            before = esc
            break
        if esc == before:
            before = d.get("status_before") or "active"
    conn.execute(
        "UPDATE customers SET status = ?, updated_at = ? WHERE id = ?",
        (before, now_iso, act["customer_id"]),
    )
    return before


def _recompute_queue(
    conn: sqlite3.Connection, cid: int, act: sqlite3.Row, now_iso: str
) -> tuple[str, str]:
    """The queue row from the outcomes that stand: the next action of the latest one (a
    note only carries the next action forward), last attempt and contact, broken flag."""
    q = conn.execute(
        "SELECT next_action, next_action_at FROM queue WHERE customer_id = ?", (cid,)
    ).fetchone()
    latest = conn.execute(
        f"""SELECT id, outcome, at, next_action, next_action_at FROM activities a
            WHERE customer_id = ? AND collector_id IS NOT NULL
            AND outcome NOT IN ('note', 'system', 'assign') AND {STANDING}
            ORDER BY at DESC, id DESC LIMIT 1""",
        (cid,),
    ).fetchone()
    later = latest is not None and (latest["at"], latest["id"]) > (act["at"], act["id"])
    if act["outcome"] in ("note",) or later:
        next_action = q["next_action"] if q else "call"
        next_at = q["next_action_at"] if q else now_iso
    elif latest is not None and latest["next_action"]:
        next_action, next_at = latest["next_action"], latest["next_action_at"]
    else:
        next_action, next_at = "call", now_iso
    if next_action in ("promise_check", "instalment_check"):
        pending = conn.execute(
            """SELECT MIN(date(due_date, '+' || grace_days || ' days')) FROM promises
               WHERE customer_id = ? AND status = 'pending'""",
            (cid,),
        ).fetchone()[0]
        if pending is None:  # decided or cancelled since: nothing left to check
            next_action, next_at = "call", now_iso
    last = conn.execute(
        f"""SELECT MAX(CASE WHEN attempt = 1 THEN at END),
                   MAX(CASE WHEN contact = 1 THEN at END),
                   MAX(CASE WHEN rpc = 1 THEN at END)
            FROM activities a WHERE customer_id = ? AND {STANDING}""",
        (cid,),
    ).fetchone()
    broken = conn.execute(
        """SELECT EXISTS (SELECT 1 FROM promises WHERE customer_id = ?
                          AND status IN ('broken', 'partial') AND decided_at > ?)""",
        (cid, last[2] or ""),
    ).fetchone()[0]
    conn.execute(
        """UPDATE queue SET next_action = ?, next_action_at = ?, last_attempt_at = ?,
               last_contact_at = ?, broken_promise = ? WHERE customer_id = ?""",
        (next_action, next_at, last[0], last[1], broken, cid),
    )
    return next_action, next_at
