"""The lead's review queue (issue 9, item 5): the accounts a collector could not finish.

An account is in review (queue state ``review``) when its next action is
``lead_review``: a refusal, an escalation to "lead review", later a plan outside policy
or a write-off request (the reason is an open code list, ``REVIEW_REASONS``: an outcome
may say its own in ``details.review_reason``). Nothing a collector does brings it back;
a lead (or admin) decides here, for the CLI (``dunning review``) and the screen alike:

- ``back``: back to its collector's queue, with a next action (default: now);
- ``collector``: to another collector's queue (an ``assignments`` row), next action too;
- ``legal`` / ``agency``: the account's status (out of the queue, as an escalation);
- ``writeoff_approved``: status ``write_off`` (closed; DOMAIN.md: a lead approves);
- ``writeoff_declined``: back to the collector's queue, as ``back``.

Each decision is one write transaction: the ``review_decisions`` row (who, when, why,
what sent it there, the status before and after), a ``system`` activity the account's
history shows, the account's status and queue row (recomputed by ``refresh_accounts``)
and the audit row. A refusal (not a lead, not in review, someone on the phone with it)
changes nothing, is one translated line, and is in the audit log.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from dunning.clock import Clock, to_iso
from dunning.db.connection import write_tx
from dunning.i18n import N_, _
from dunning.queue import approvals, writeoffs
from dunning.queue.accounts import refresh_accounts
from dunning.queue.approvals import APPROVED, DECLINED, ApprovalRefused
from dunning.queue.audit import record
from dunning.queue.calendar import customer_calendar
from dunning.queue.collectors import Collector
from dunning.queue.config import Settings
from dunning.queue.filters import in_scope
from dunning.queue.identity import refuse
from dunning.queue.lead_scope import scope_of
from dunning.queue.rights import RightsError, require
from dunning.textsafe import clean

# why an account is in review: code -> what a person reads (an open list: an unknown code
# is shown as it is)
REVIEW_REASONS: dict[str, str] = {
    "refused": N_("refused to pay"),
    "lead_review": N_("escalated to lead review"),
    "plan_outside_policy": N_("payment plan outside policy"),
    "writeoff_request": N_("write-off request"),
    "settlement_request": N_("settlement request"),
    "hold_release_request": N_("credit-hold release request"),
    "other": N_("other"),
}
DECISIONS: dict[str, str] = {
    "back": N_("back to the collector"),
    "collector": N_("to another collector"),
    "legal": N_("to legal"),
    "agency": N_("to an agency"),
    "writeoff_approved": N_("write-off approved"),
    "writeoff_declined": N_("write-off declined"),
    "plan_approved": N_("payment plan approved"),
    "plan_declined": N_("payment plan declined"),
    "settlement_approved": N_("settlement approved"),
    "settlement_declined": N_("settlement declined"),
    "hold_release_approved": N_("credit-hold release approved"),
    "hold_release_declined": N_("credit-hold release declined"),
}
BACK_TO_QUEUE = ("back", "collector", *DECLINED)
STATUS_AFTER = {"legal": "legal", "agency": "agency", "writeoff_approved": "write_off"}
# approvals whose terms take effect (queue/approvals.py apply_approved); write-off is above
EFFECTS = ("plan_approved", "settlement_approved", "hold_release_approved")
MAX_REASON = 500
MAX_AHEAD = timedelta(days=366)


class ReviewError(ValueError):
    """The decision cannot be made as given (bad input, not in review); nothing changed."""


class ReviewRefused(Exception):
    """Refused (someone holds the account now, the collector cannot take it)."""


@dataclass(frozen=True)
class ReviewItem:
    customer_id: int
    ref: str
    name: str
    collector: str | None  # the owner's username
    came_for: str  # a REVIEW_REASONS code (or another, as written)
    note: str  # the collector's note on the outcome that sent it
    sent_by: str | None  # who logged that outcome
    since: str  # UTC ISO: since when it waits
    owed_minor: int
    currency: str
    activity_id: int | None
    terms: str = ""  # the proposed terms, as a person reads them (approvals)
    proposal: dict[str, object] | None = None  # the same, as stored
    key: str = ""  # the queue row's next_action_at: the page's order (review_list.py)

    @property
    def came_for_text(self) -> str:
        return _(REVIEW_REASONS.get(self.came_for, self.came_for))

    def as_json(self) -> dict[str, object]:
        return {
            "customer_id": self.customer_id,
            "ref": self.ref,
            "name": self.name,
            "collector": self.collector,
            "came_for": self.came_for,
            "note": self.note,
            "sent_by": self.sent_by,
            "since": self.since,
            "owed_minor": self.owed_minor,
            "currency": self.currency,
            "activity_id": self.activity_id,
            "terms": self.terms,
            "proposal": self.proposal,
        }


def _require(conn: sqlite3.Connection, clock: Clock, by: Collector, target: str) -> None:
    try:
        require(by.role, "review", who=by.username)
    except RightsError as exc:
        refuse(conn, clock, action="review", message=str(exc), collector_id=by.id,
               target=target)  # fmt: skip
        raise


def count_review(conn: sqlite3.Connection) -> int:
    """Every account in review (no scope: the board's figure); a lead's list counts its
    own (review_list.review_count)."""
    from dunning.queue.lead_scope import Scope
    from dunning.queue.review_list import count_in

    return count_in(conn, Scope(None))


def came_for(conn: sqlite3.Connection, customer_id: int) -> sqlite3.Row | None:
    """The outcome that sent the account to review: the latest one standing (not voided)
    whose next action is ``lead_review``."""
    return conn.execute(
        """SELECT a.id, a.outcome, a.note, a.at, a.details, a.collector_id,
                  k.username AS who
           FROM activities a LEFT JOIN collectors k ON k.id = a.collector_id
           WHERE a.customer_id = ? AND a.next_action = 'lead_review'
             AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.activity_id = a.id)
           ORDER BY a.at DESC, a.id DESC LIMIT 1""",
        (customer_id,),
    ).fetchone()


def proposal_of(row: sqlite3.Row | None) -> dict[str, object]:
    """The terms a collector proposed (``details.proposal``), {} when none."""
    details = json.loads(row["details"]) if row is not None and row["details"] else {}
    p = details.get("proposal") if isinstance(details, dict) else None
    return p if isinstance(p, dict) else {}


def _reason_code(row: sqlite3.Row | None) -> str:
    if row is None:
        return "other"
    details = json.loads(row["details"]) if row["details"] else {}
    if isinstance(details, dict) and isinstance(details.get("review_reason"), str):
        return str(details["review_reason"])
    if row["outcome"] == "refused":
        return "refused"
    return "lead_review"


def list_review(
    conn: sqlite3.Connection,
    clock: Clock,
    by: Collector,
    *,
    limit: int | None = None,
    team: str | None = None,
) -> list[ReviewItem]:
    """The accounts in review in ``by``'s scope, oldest first (at most ``limit``), read a
    page at a time (review_list.py)."""
    from dunning.queue.review_list import PAGE, review_page

    out: list[ReviewItem] = []
    page = review_page(conn, clock, by, team=team)
    while True:
        out.extend(page.rows)
        if limit is not None and len(out) >= limit:
            return out[:limit]
        if not page.more_after:
            return out
        page = review_page(conn, clock, by, after=page.last, size=PAGE, team=team)


@dataclass(frozen=True)
class Decision:
    """What a lead decided, as the CLI and the screen say it."""

    decision: str
    ref: str
    to: str | None  # the collector it goes to (back to the queue)
    status_after: str
    next_action_at: str | None

    def text(self) -> str:
        what = _(DECISIONS[self.decision])
        if self.to:
            return _("{ref}: {what} ({to})").format(ref=self.ref, what=what, to=self.to)
        return _("{ref}: {what}").format(ref=self.ref, what=what)


def parse_decision(text: str) -> tuple[str, str | None]:
    """``back``, ``collector:NAME``, ``legal``, ``agency``, ``writeoff-approve``,
    ``writeoff-decline`` -> (decision code, collector name or None)."""
    t = text.strip().lower()
    aliases = {
        "back": "back",
        "legal": "legal",
        "agency": "agency",
        "writeoff-approve": "writeoff_approved",
        "writeoff-approved": "writeoff_approved",
        "writeoff_approved": "writeoff_approved",
        "writeoff-decline": "writeoff_declined",
        "writeoff-declined": "writeoff_declined",
        "writeoff_declined": "writeoff_declined",
    }
    for code in (*APPROVED, *DECLINED):  # plan-approve(d), settlement-decline(d), ...
        stem, verb = code.rsplit("_", 1)
        dashed = stem.replace("_", "-")
        aliases[f"{dashed}-{verb}"] = aliases[f"{dashed}-{verb[:-1]}"] = aliases[code] = code
    if t in aliases:
        return aliases[t], None
    if t.startswith("collector:") and text.strip()[10:].strip():
        return "collector", text.strip()[10:].strip()
    raise ReviewError(
        _(
            "decision {value!r}: one of back, collector:NAME, legal, agency, "
            "writeoff-approve, writeoff-decline, plan-approve, plan-decline, "
            "settlement-approve, settlement-decline, hold-release-approve, "
            "hold-release-decline"
        ).format(value=text[:80])
    )


def check_reason(reason: str) -> str:
    text = clean(reason)[0].strip()
    if not text:
        raise ReviewError(_("say why (a reason is kept with the decision)"))
    return text[:MAX_REASON]


def decide(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    by: Collector,
    customer_id: int,
    decision: str,
    reason: str,
    *,
    to: Collector | None = None,
    next_at: datetime | None = None,
) -> Decision:
    """Decide on one account in review (see the module's note); one transaction."""
    ref_row = conn.execute(
        "SELECT external_ref FROM customers WHERE id = ?", (customer_id,)
    ).fetchone()
    if ref_row is None:
        raise ReviewError(_("no customer with id {id}").format(id=customer_id))
    ref = str(ref_row[0])
    _require(conn, clock, by, ref)
    if decision not in DECISIONS:
        raise ReviewError(
            _("decision {value!r}: one of {choices}").format(
                value=decision, choices=", ".join(DECISIONS)
            )
        )
    why = check_reason(reason)
    now = clock.now()
    if next_at is not None:
        if decision not in (*BACK_TO_QUEUE, "hold_release_approved"):
            raise ReviewError(
                _("a next action goes with an account sent back to a queue, not {what}").format(
                    what=_(DECISIONS[decision])
                )
            )
        if next_at < now - timedelta(minutes=1):
            raise ReviewError(_("the next action cannot be in the past"))
        if next_at > now + MAX_AHEAD:
            raise ReviewError(_("the next action is over a year away"))
    if decision == "collector" and to is None:
        raise ReviewError(_("name the collector: collector:NAME"))
    try:
        return _decide(conn, clock, settings, by, customer_id, ref, decision, why, to, next_at)
    except (ReviewError, ReviewRefused, ApprovalRefused) as exc:
        refuse(conn, clock, action="review.decide", message=str(exc), collector_id=by.id,
               target=ref, detail={"decision": decision, "reason": why})  # fmt: skip
        raise


def _decide(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    by: Collector,
    cid: int,
    ref: str,
    decision: str,
    why: str,
    to: Collector | None,
    next_at: datetime | None,
) -> Decision:
    with write_tx(conn):
        now_iso = to_iso(clock.now())
        q = conn.execute(
            """SELECT q.state, q.collector_id, q.claimed_by, q.claim_expires_at,
                      q.open_minor, q.unapplied_minor, k.username AS owner,
                      h.username AS holder, c.id, c.status, c.currency, c.country,
                      c.subdivision
               FROM queue q JOIN customers c ON c.id = q.customer_id
               LEFT JOIN collectors k ON k.id = q.collector_id
               LEFT JOIN collectors h ON h.id = q.claimed_by
               WHERE q.customer_id = ?""",
            (cid,),
        ).fetchone()
        if q is None or q["state"] != "review":
            state = q["state"] if q is not None else "-"
            raise ReviewError(
                _("{ref} is not in review (its queue state is {state})").format(
                    ref=ref, state=state
                )
            )
        live = q["claimed_by"] is not None and (q["claim_expires_at"] or "") > now_iso
        if live and q["claimed_by"] != by.id:
            raise ReviewRefused(
                _("{ref} is being worked by {who} right now").format(ref=ref, who=q["holder"])
            )
        owner_id, owner = q["collector_id"], q["owner"]
        if not scope_of(conn, by).holds(owner_id):
            raise ReviewRefused(
                _("{ref} is {who}'s account, not your team's").format(ref=ref, who=owner)
            )
        if to is not None and not in_scope(by, to):
            raise ReviewRefused(_("{name} is not in your team").format(name=to.username))
        sent = came_for(conn, cid)
        came = _reason_code(sent)
        wants = APPROVED.get(decision) or DECLINED.get(decision)
        if wants is not None and wants != came and not decision.startswith("writeoff_"):
            raise ReviewError(
                _("{ref} came for {why}, not for {what}").format(
                    ref=ref, why=_(REVIEW_REASONS.get(came, came)), what=_(DECISIONS[decision])
                )
            )
        proposal = proposal_of(sent)
        partial = decision == "writeoff_approved" and bool(proposal.get("invoice_ids"))
        if decision == "writeoff_approved":  # a lead up to their limit, above it an admin
            amount = approvals.writeoff_amount(conn, q, proposal)
            approvals.check_writeoff_limit(
                settings, by.role, by.username, q["currency"], amount, by.locale
            )
        if decision in EFFECTS or partial:
            cal = customer_calendar(conn, cid, q["country"], q["subdivision"])
            status_after, action, at_iso = approvals.apply_approved(
                conn, settings, clock.now(), cal.tz, q, sent, proposal, decision
            )
            if owner_id is None:
                nobody = _("{ref} is assigned to nobody: give it to a collector (collector:NAME)")
                raise ReviewError(nobody.format(ref=ref))
            target = owner
            if status_after != q["status"]:
                conn.execute(
                    "UPDATE customers SET status = ?, updated_at = ? WHERE id = ?",
                    (status_after, now_iso, cid),
                )
            if next_at is not None and action == "call":
                at_iso = to_iso(next_at)
            conn.execute(
                """UPDATE queue SET next_action = ?, next_action_at = ?, updated_at = ?
                   WHERE customer_id = ?""",
                (action, at_iso, now_iso, cid),
            )
        elif decision in BACK_TO_QUEUE:
            target_id, target = owner_id, owner
            if to is not None:
                active = conn.execute(
                    "SELECT active FROM collectors WHERE id = ?", (to.id,)
                ).fetchone()
                if active is None or not active[0]:
                    raise ReviewError(
                        _("{name!r} is not an active collector").format(name=to.username)
                    )
                target_id, target = to.id, to.username
            if target_id is None:
                nobody = _("{ref} is assigned to nobody: give it to a collector (collector:NAME)")
                raise ReviewError(nobody.format(ref=ref))
            if target_id != owner_id:
                conn.execute(
                    """INSERT INTO assignments (customer_id, collector_id, assigned_at,
                           assigned_by, reason, from_collector_id) VALUES (?,?,?,?,?,?)""",
                    (cid, target_id, now_iso, by.id, why, owner_id),
                )
            at_iso = to_iso(next_at) if next_at is not None else now_iso
            conn.execute(
                """UPDATE queue SET collector_id = ?, next_action = 'call', next_action_at = ?,
                       updated_at = ? WHERE customer_id = ?""",
                (target_id, at_iso, now_iso, cid),
            )
            status_after = q["status"]
        else:
            target, at_iso = None, None
            status_after = STATUS_AFTER[decision]
            conn.execute(
                "UPDATE customers SET status = ?, updated_at = ? WHERE id = ?",
                (status_after, now_iso, cid),
            )
            conn.execute(
                """UPDATE queue SET next_action = ?, next_action_at = ?, updated_at = ?
                   WHERE customer_id = ?""",
                (status_after, now_iso, now_iso, cid),
            )
        cur = conn.execute(
            """INSERT INTO review_decisions (customer_id, decided_at, decided_by, came_for,
                   activity_id, decision, to_collector, next_action_at, status_before,
                   status_after, reason) VALUES (?,?,?,?,?,?,?,?,?,?,?)""",
            (
                cid, now_iso, by.id, came, sent["id"] if sent else None,
                decision, conn.execute(
                    "SELECT id FROM collectors WHERE username = ?", (target,)
                ).fetchone()[0] if target else None,
                at_iso, q["status"], status_after, why,
            ),
        )  # fmt: skip
        if decision == "writeoff_approved":  # the invoices leave collection (writeoffs.py)
            writeoffs.write_off(
                conn, clock.now(), cid, invoice_ids=proposal.get("invoice_ids") or None,  # type: ignore[arg-type]
                activity_id=sent["id"] if sent else None, decision_id=cur.lastrowid,
                by_id=by.id, reason=why,
            )  # fmt: skip
        details = {"review": decision, "to": target, "reason": why}
        conn.execute(
            """INSERT INTO activities (customer_id, collector_id, at, outcome, note,
                   next_action, next_action_at, details)
               VALUES (?, ?, ?, 'system', ?, ?, ?, ?)""",
            (
                cid, by.id, now_iso, f"review: {decision}: {why}",
                action if decision in EFFECTS or partial else "call" if at_iso else status_after,
                at_iso or now_iso,
                json.dumps(details, ensure_ascii=False),
            ),
        )  # fmt: skip
        refresh_accounts(conn, clock, settings, [cid])
        record(conn, clock, action="review.decide", collector_id=by.id, target=ref,
               detail=details)  # fmt: skip
    return Decision(decision, ref, target, status_after, at_iso)
