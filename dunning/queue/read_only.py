"""An account looked at, never touched (issue 9, item 9): a lead opens any account of
their team read-only even while a collector holds it.

:func:`look_at` reads the account as the work screen shows it (``load_account``), who it
is assigned to, and who holds it now, since when (the holder's screen, queue/presence.py)
and until when the lease runs (queue/claims.py). It writes nothing: no claim, no lease,
no draft, no audit row; the holder keeps working and never notices. The screen is
dunning/tui/screens/account_view.py (``open_read_only``), which the search (a lead on a
held account), the review queue (``o``) and the team board call.

Who may look: a lead or admin at any account of their team (a lead whose ``team`` is
set: accounts assigned to a collector of that team, or to nobody; an admin, or a lead
without a team: every account); a collector at any account, as ``/`` already allows
(another collector's account opens read-only: queue/access.py). A refusal is one
translated line, recorded in the audit log.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from dunning.clock import Clock
from dunning.i18n import _
from dunning.queue.access import AccountRefused, audit_refusal
from dunning.queue.account_view import AccountView, load_account
from dunning.queue.claims import HeldClaim, list_claims
from dunning.queue.collectors import Collector
from dunning.queue.config import Settings


@dataclass(frozen=True)
class Holder:
    username: str
    display_name: str
    since: datetime | None  # on their screen since (None: not known)
    until: datetime  # the lease's end
    stale: bool  # no screen of theirs beats on it


@dataclass(frozen=True)
class ReadOnlyAccount:
    view: AccountView
    owner: str | None  # whom it is assigned to
    owner_team: str
    holder: Holder | None  # someone holds it now (None: nobody, or the looker)


def holder_of(conn: sqlite3.Connection, clock: Clock, customer_id: int) -> Holder | None:
    """Who holds a live claim on the account now (one indexed read), None: nobody."""
    held: list[HeldClaim] = list_claims(conn, clock, customer_id)
    if not held:
        return None
    h = held[0]
    name = conn.execute(
        "SELECT display_name FROM collectors WHERE username = ?", (h.holder,)
    ).fetchone()
    return Holder(h.holder, name[0] if name else h.holder, h.since, h.expires_at, h.stale)


def held_by_other(
    conn: sqlite3.Connection, clock: Clock, by: Collector, customer_id: int
) -> Holder | None:
    """The holder when someone other than ``by`` holds the account now."""
    h = holder_of(conn, clock, customer_id)
    return h if h is not None and h.username != by.username else None


def look_at(
    conn: sqlite3.Connection, clock: Clock, settings: Settings, by: Collector, customer_id: int
) -> ReadOnlyAccount:
    """The account, read-only, with its holder; AccountRefused (audited) when ``by`` may
    not look at it (see the module's note). Writes nothing but a refusal's audit row."""
    row = conn.execute(
        """SELECT c.external_ref, k.username AS owner, COALESCE(k.team, '') AS team
           FROM customers c LEFT JOIN queue q ON q.customer_id = c.id
           LEFT JOIN collectors k ON k.id = q.collector_id WHERE c.id = ?""",
        (customer_id,),
    ).fetchone()
    if row is None:
        raise AccountRefused(_("no customer with id {id}").format(id=customer_id))
    ref, owner, team = str(row["external_ref"]), row["owner"], str(row["team"])
    if by.role == "lead" and by.team and owner is not None and team != by.team:
        exc = AccountRefused(
            _("{ref} is {owner}'s account, of team {team}: not your team ({mine})").format(
                ref=ref, owner=owner, team=team or "-", mine=by.team
            ),
            ref=ref,
            owner=owner,
        )
        audit_refusal(conn, clock, by, action="look", target=ref, error=exc)
        raise exc
    view = load_account(conn, clock, settings, customer_id, by.id, viewer_tz=by.zone)
    if view is None:
        raise AccountRefused(_("no customer with id {id}").format(id=customer_id), ref=ref)
    holder = held_by_other(conn, clock, by, customer_id)
    return ReadOnlyAccount(view, owner, team, holder)
