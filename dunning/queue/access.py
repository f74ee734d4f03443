"""Who may change an account (issue 7, section 2): the CLI and the screen ask here.

- A collector changes only their own accounts (assigned to them). Another collector's
  account, or one assigned to nobody, opens read-only: every outcome, next action, void
  and note on it is refused with one line ("C000123 belongs to bruno: ask a lead to
  reassign it"), nothing changes, and the refusal is in the audit log.
- A lead (or admin) may act on any account, with a reason: it is kept in the activity's
  details (``for``, ``lead_reason``) and in the audit log, so the history says
  "lena for bruno: the customer called the hotline".
- Nobody changes an account another person holds right now (a live claim): an outcome
  needs the claim. ``log_outcome`` takes and releases it in its own transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass

from dunning.clock import Clock, to_iso
from dunning.i18n import _
from dunning.queue import audit
from dunning.queue.collectors import Collector
from dunning.queue.rights import allowed

MAX_REASON = 500  # characters of a lead's reason kept


class ClaimError(Exception):
    """The account cannot be claimed or changed (held by someone else, not found)."""


class AccountRefused(ClaimError):
    """Refused (exit 1): the account is not this collector's, or someone holds it now.
    Nothing changed; the message is one translated line."""

    def __init__(self, message: str, *, ref: str = "", owner: str | None = None) -> None:
        super().__init__(message)
        self.ref = ref
        self.owner = owner


class ReasonNeeded(AccountRefused):
    """A lead acting on another collector's account gave no reason."""


@dataclass(frozen=True)
class Access:
    """What ``by`` may do with one account, as the screen and the CLI show it."""

    customer_id: int
    ref: str
    owner: str | None  # the collector it is assigned to (username), or None
    mine: bool  # assigned to the person asking
    lead: bool  # the person asking is a lead or admin
    held_by: str | None = None  # someone else holds a live claim on it now
    holds: bool = False  # the person asking holds a live claim on it (taken while theirs)

    @property
    def read_only(self) -> bool:
        """A collector looking at someone else's account: history only."""
        return not self.mine and not self.lead

    @property
    def needs_reason(self) -> bool:
        """A lead acting on an account that is not theirs says why."""
        return not self.mine and self.lead

    def marker(self) -> str:
        """The screen's mark for an account that is not one's own, '' otherwise."""
        if self.read_only:
            if self.owner:
                return _("read-only: {owner}'s account").format(owner=self.owner)
            return _("read-only: assigned to nobody")
        if self.needs_reason:
            if self.owner:
                return _("{owner}'s account: an outcome needs your reason").format(owner=self.owner)
            return _("assigned to nobody: an outcome needs your reason")
        return ""


def access_for(
    customer_id: int,
    ref: str,
    owner: str | None,
    by: Collector,
    held_by: str | None = None,
    *,
    holds: bool = False,
) -> Access:
    """The rule itself, without a database (the screen has owner in its AccountView)."""
    return Access(
        customer_id,
        ref,
        owner,
        mine=owner is not None and owner == by.username,
        lead=allowed(by.role, "act_on_any"),  # leads and admins (queue/rights.py)
        held_by=held_by if held_by != by.username else None,
        holds=holds,
    )


def load_access(
    conn: sqlite3.Connection, now_iso: str, by: Collector, customer_id: int
) -> Access | None:
    """The account's owner and live claim, read now; None when there is no such account."""
    row = conn.execute(
        """SELECT c.id, c.external_ref, k.username AS owner, q.claimed_by, q.claim_expires_at,
                  h.username AS holder
           FROM customers c LEFT JOIN queue q ON q.customer_id = c.id
           LEFT JOIN collectors k ON k.id = q.collector_id
           LEFT JOIN collectors h ON h.id = q.claimed_by
           WHERE c.id = ?""",
        (customer_id,),
    ).fetchone()
    if row is None:
        return None
    live = row["claimed_by"] is not None and (row["claim_expires_at"] or "") > now_iso
    return access_for(
        int(row["id"]),
        str(row["external_ref"]),
        row["owner"],
        by,
        held_by=(row["holder"] or "?") if live and row["claimed_by"] != by.id else None,
        holds=live and row["claimed_by"] == by.id,
    )


def not_yours(ref: str, owner: str | None) -> str:
    """The one line a collector reads on someone else's account."""
    if owner:
        return _("{ref} belongs to {owner}: ask a lead to reassign it").format(ref=ref, owner=owner)
    return _("{ref} is assigned to nobody: ask a lead to assign it").format(ref=ref)


def may_claim(access: Access) -> bool:
    """Only one's own accounts are claimed (a lead: any); someone's live claim stops all."""
    return access.held_by is None and (access.mine or access.lead or access.holds)


def check_change(access: Access, reason: str = "") -> None:
    """Raise AccountRefused unless ``access`` allows a change (with ``reason`` for a lead
    acting on an account that is not theirs)."""
    if access.held_by is not None:
        raise AccountRefused(
            _("{ref} is being worked by {who} right now").format(
                ref=access.ref, who=access.held_by
            ),
            ref=access.ref,
            owner=access.owner,
        )
    if access.mine:
        return
    if not access.lead:
        if access.holds:  # claimed while it was theirs (reassigned during the call)
            return
        raise AccountRefused(
            not_yours(access.ref, access.owner), ref=access.ref, owner=access.owner
        )
    if not reason.strip():
        text = (
            _("{ref} belongs to {owner}: a lead acting on it must say why (a reason)")
            if access.owner
            else _("{ref} is assigned to nobody: a lead acting on it must say why (a reason)")
        )
        raise ReasonNeeded(
            text.format(ref=access.ref, owner=access.owner), ref=access.ref, owner=access.owner
        )


def on_behalf(access: Access, reason: str) -> dict[str, object]:
    """What a lead's change on someone else's account records beside it ({} otherwise)."""
    if not access.needs_reason:
        return {}
    return {"for": access.owner or "", "lead_reason": reason.strip()[:MAX_REASON]}


def audit_refusal(
    conn: sqlite3.Connection,
    clock: Clock,
    by: Collector,
    *,
    action: str,
    target: str,
    error: Exception,
    detail: Mapping[str, object] | None = None,
) -> None:
    """Record a refusal in the audit log, in its own transaction (the refused change was
    rolled back: its audit row must not be)."""
    extra = dict(detail or {})
    extra["message"] = str(error)
    owner = getattr(error, "owner", None)
    if owner:
        extra["owner"] = owner
    audit.record(
        conn,
        clock,
        action=action,
        collector_id=by.id,
        target=target,
        result="refused",
        detail=extra,
    )


def require_change(
    conn: sqlite3.Connection,
    clock: Clock,
    by: Collector,
    customer_id: int,
    *,
    action: str,
    reason: str = "",
    detail: Mapping[str, object] | None = None,
) -> Access:
    """Check before any work (outside a transaction): refused -> audited and raised."""
    access = load_access(conn, to_iso(clock.now()), by, customer_id)
    if access is None:
        raise AccountRefused(_("no customer with id {id}").format(id=customer_id))
    try:
        check_change(access, reason)
    except AccountRefused as exc:
        audit_refusal(conn, clock, by, action=action, target=access.ref, error=exc, detail=detail)
        raise
    return access
