"""Open disputes, their service level, and how they end (issue 9, item 6).

A dispute (DOMAIN.md) names invoices, a reason and the department that must resolve it.
Its age is counted in business days of the customer's calendar (their zone and public
holidays, queue/calendar.py); past ``[disputes] service_days`` (10) it is overdue.

A lead (or admin) resolves it:

- ``valid``: a credit note is expected; the disputed invoices stay out of collection
  (``invoices.disputed`` stays 1) until the ERP brings the credit or closes them;
- ``invalid``: the invoices come back into collection (unless another open dispute
  holds them) and the customer's next action is set (a call now, or ``next_at``).

Each resolution is one transaction: the dispute's status (open -> resolved, the
append-only trigger allows exactly that), a ``dispute_decisions`` row (who, when, why),
a ``system`` activity in the account's history, the invoices, the aging row
(``aging_snapshot.touch``), the queue row (``refresh_accounts``) and the audit row.
An import whose file says ``disputed=no`` for a disputed invoice closes its dispute
(db/ledger/invoices.py: ``close_disputes``, decided by the ERP).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from dunning.bounds import int64_or_none
from dunning.clock import Clock, to_iso
from dunning.db import aging_snapshot
from dunning.db.connection import write_tx
from dunning.i18n import N_, _
from dunning.queue.accounts import DUE_ANYWAY, REVIEW_ACTIONS, refresh_accounts
from dunning.queue.audit import record
from dunning.queue.calendar import CustomerCalendar
from dunning.queue.collectors import Collector
from dunning.queue.config import Settings
from dunning.queue.identity import refuse
from dunning.queue.lead_scope import scope_of
from dunning.queue.outcome_rules import DEPARTMENTS
from dunning.queue.review import MAX_AHEAD, check_reason
from dunning.queue.rights import RightsError, require

DEPARTMENT_NAMES: dict[str, str] = {
    "sales": N_("sales"),
    "customer_service": N_("customer service"),
    "billing": N_("billing"),
    "legal": N_("legal"),
}


class DisputeError(ValueError):
    """Cannot resolve as given (bad input, not open, ambiguous); nothing changed."""


class DisputeRefused(Exception):
    """Refused: someone is on the phone with the account now."""


@dataclass(frozen=True)
class DisputeItem:
    id: int
    customer_id: int
    ref: str
    name: str
    collector: str | None
    department: str
    reason: str
    amount_minor: int
    currency: str
    opened_at: str
    opened_by: str | None
    invoices: tuple[str, ...]
    age_days: int  # business days on the customer's calendar
    due_on: date  # the last day of the service level
    overdue: bool

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "customer_id": self.customer_id,
            "ref": self.ref,
            "name": self.name,
            "collector": self.collector,
            "department": self.department,
            "reason": self.reason,
            "amount_minor": self.amount_minor,
            "currency": self.currency,
            "opened_at": self.opened_at,
            "opened_by": self.opened_by,
            "invoices": list(self.invoices),
            "age_business_days": self.age_days,
            "due_on": self.due_on.isoformat(),
            "overdue": self.overdue,
        }


def business_days_between(start: date, end: date, cal: CustomerCalendar) -> int:
    """Business days after ``start`` up to ``end`` (0 on the day it was opened)."""
    if end <= start:
        return 0
    return _upto(cal, end) - _upto(cal, start)


def service_end(start: date, days: int, cal: CustomerCalendar) -> date:
    """The ``days``-th business day after ``start``: overdue after it."""
    goal = _upto(cal, start) + days
    d = start + timedelta(days=days)  # never sooner: at most one business day a day
    while _upto(cal, d) < goal:
        d += timedelta(days=1)
    return d


def _upto(cal: CustomerCalendar, day: date) -> int:
    """Business days from 1 Jan ``ANCHOR`` (exclusive) up to ``day`` on ``cal`` (negative
    before): the difference of two is the business days between them, read from each
    year's running count (computed once per calendar and year) instead of day by day."""
    key = (cal.country, cal.subdivision)
    return _year_base(key, day.year) + _running(key, day.year)[day.timetuple().tm_yday]


ANCHOR = 2026  # any year: only differences count; near the dates asked, few years read


@lru_cache(maxsize=4096)
def _running(key: tuple[str, str | None], year: int) -> tuple[int, ...]:
    """[0, business days of 1 Jan, of 1-2 Jan, ...] of ``year`` on the calendar ``key``."""
    cal = CustomerCalendar(country=key[0], subdivision=key[1])
    out, n, d = [0], 0, date(year, 1, 1)
    while d.year == year:
        n += cal.is_business_day(d)
        out.append(n)
        d += timedelta(days=1)
    return tuple(out)


@lru_cache(maxsize=4096)
def _year_base(key: tuple[str, str | None], year: int) -> int:
    """Business days from 1 Jan ``ANCHOR`` (exclusive) to 1 Jan ``year`` (exclusive)."""
    if year == ANCHOR:
        return -1 if CustomerCalendar(country=key[0], subdivision=key[1]).is_business_day(
            date(ANCHOR, 1, 1)) else 0  # fmt: skip
    if year > ANCHOR:
        return _year_base(key, year - 1) + _running(key, year - 1)[-1]
    return _year_base(key, year + 1) - _running(key, year)[-1]


def _require(conn: sqlite3.Connection, clock: Clock, by: Collector, target: str) -> None:
    try:
        require(by.role, "disputes", who=by.username)
    except RightsError as exc:
        refuse(conn, clock, action="disputes", message=str(exc), collector_id=by.id,
               target=target)  # fmt: skip
        raise


def check_department(department: str | None) -> None:
    if department is not None and department not in DEPARTMENTS:
        raise DisputeError(
            _("department {department!r}: one of {choices}").format(
                department=department[:80], choices=", ".join(DEPARTMENTS)
            )
        )


def list_disputes(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    by: Collector,
    *,
    department: str | None = None,
    overdue_only: bool = False,
    team: str | None = None,
    limit: int | None = None,
) -> list[DisputeItem]:
    """Open disputes in ``by``'s scope, oldest first (one department when asked), each
    with its age, at most ``limit``: read a page at a time (disputes_list.py)."""
    from dunning.queue.disputes_list import disputes_page, listing

    lst = listing(conn, clock, by, department=department, overdue_only=overdue_only,
                  team=team)  # fmt: skip
    out: list[DisputeItem] = []
    page = disputes_page(conn, clock, settings, lst)
    while True:
        out.extend(page.rows)
        if limit is not None and len(out) >= limit:
            return out[:limit]
        if not page.more_after:
            return out
        page = disputes_page(conn, clock, settings, lst, after=page.last)


def find_dispute(conn: sqlite3.Connection, text: str) -> int:
    """A dispute by id, or by a customer's reference when it has exactly one open."""
    t = text.strip()
    row = conn.execute(
        "SELECT id FROM customers WHERE external_ref = ? COLLATE NOCASE LIMIT 1", (t,)
    ).fetchone()
    if row is not None:
        ids = [
            int(r[0])
            for r in conn.execute(
                "SELECT id FROM disputes WHERE customer_id = ? AND status = 'open' ORDER BY id",
                (row[0],),
            )
        ]
        if len(ids) == 1:
            return ids[0]
        if not ids:
            raise DisputeError(_("{ref} has no open dispute").format(ref=t[:80]))
        raise DisputeError(
            _("{ref} has {n} open disputes ({ids}): give the dispute's id").format(
                ref=t[:80], n=len(ids), ids=", ".join(map(str, ids))
            )
        )
    n = int64_or_none(t)
    if n is not None and conn.execute("SELECT 1 FROM disputes WHERE id = ?", (n,)).fetchone():
        return n
    raise DisputeError(
        _("no dispute {value!r} (give a dispute id or a customer reference)").format(value=t[:80])
    )


@dataclass(frozen=True)
class Resolution:
    dispute_id: int
    ref: str
    valid: bool
    invoices_back: int  # invoices back into collection (invalid)
    next_action_at: str | None

    def text(self) -> str:
        if self.valid:
            return _(
                "dispute {id} ({ref}) resolved valid: its invoices stay out of collection "
                "until the ERP brings the credit"
            ).format(id=self.dispute_id, ref=self.ref)
        return _(
            "dispute {id} ({ref}) resolved invalid: {n} invoice(s) back into collection"
        ).format(id=self.dispute_id, ref=self.ref, n=self.invoices_back)


def resolve_dispute(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    by: Collector,
    dispute_id: int,
    *,
    valid: bool,
    reason: str,
    next_at: datetime | None = None,
) -> Resolution:
    """Resolve one open dispute (see the module's note); one transaction."""
    row = conn.execute(
        """SELECT d.customer_id, c.external_ref FROM disputes d
           JOIN customers c ON c.id = d.customer_id WHERE d.id = ?""",
        (dispute_id,),
    ).fetchone()
    if row is None:
        raise DisputeError(_("no dispute {value!r}").format(value=str(dispute_id)))
    ref = str(row["external_ref"])
    _require(conn, clock, by, ref)
    why = check_reason(reason)
    now = clock.now()
    if next_at is not None:
        if valid:
            raise DisputeError(_("a next action goes with a dispute resolved invalid"))
        if next_at < now - timedelta(minutes=1):
            raise DisputeError(_("the next action cannot be in the past"))
        if next_at > now + MAX_AHEAD:
            raise DisputeError(_("the next action is over a year away"))
    try:
        return _resolve(conn, clock, settings, by, dispute_id, int(row["customer_id"]), ref,
                        valid, why, next_at)  # fmt: skip
    except (DisputeError, DisputeRefused) as exc:
        refuse(conn, clock, action="disputes.resolve", message=str(exc), collector_id=by.id,
               target=ref, detail={"dispute": dispute_id, "reason": why})  # fmt: skip
        raise


def _resolve(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    by: Collector,
    dispute_id: int,
    cid: int,
    ref: str,
    valid: bool,
    why: str,
    next_at: datetime | None,
) -> Resolution:
    with write_tx(conn):
        now_iso = to_iso(clock.now())
        status = conn.execute("SELECT status FROM disputes WHERE id = ?", (dispute_id,)).fetchone()
        if status[0] != "open":
            raise DisputeError(
                _("dispute {id} is not open (it is {status})").format(id=dispute_id,
                                                                      status=status[0])
            )  # fmt: skip
        q = conn.execute(
            """SELECT q.claimed_by, q.claim_expires_at, q.next_action, h.username AS holder
               FROM queue q LEFT JOIN collectors h ON h.id = q.claimed_by
               WHERE q.customer_id = ?""",
            (cid,),
        ).fetchone()
        if (
            q is not None
            and q["claimed_by"] is not None
            and q["claimed_by"] != by.id
            and (q["claim_expires_at"] or "") > now_iso
        ):
            raise DisputeRefused(
                _("{ref} is being worked by {who} right now").format(ref=ref, who=q["holder"])
            )
        owner = conn.execute(
            """SELECT q.collector_id, k.username FROM queue q
               LEFT JOIN collectors k ON k.id = q.collector_id WHERE q.customer_id = ?""",
            (cid,),
        ).fetchone()
        if owner is not None and not scope_of(conn, by).holds(owner[0]):
            raise DisputeRefused(
                _("{ref} is {who}'s account, not your team's").format(ref=ref, who=owner[1])
            )
        outcome = "valid" if valid else "invalid"
        conn.execute(
            "UPDATE disputes SET status = ?, resolved_at = ?, resolved_by = ? WHERE id = ?",
            (f"resolved_{outcome}", now_iso, by.id, dispute_id),
        )
        back = 0
        at_iso: str | None = None
        if not valid:
            back = conn.execute(
                """UPDATE invoices SET disputed = 0, updated_at = ?
                   WHERE disputed = 1 AND id IN (SELECT invoice_id FROM dispute_invoices
                                                 WHERE dispute_id = ?)
                     AND NOT EXISTS (SELECT 1 FROM dispute_invoices di
                                     JOIN disputes d ON d.id = di.dispute_id
                                     WHERE di.invoice_id = invoices.id
                                       AND d.status IN ('open', 'resolved_valid'))""",
                (now_iso, dispute_id),
            ).rowcount
            aging_snapshot.touch(conn, [cid])  # its aging row changed (db/aging_snapshot.py)
            keep = q is not None and (q["next_action"] in DUE_ANYWAY | REVIEW_ACTIONS)
            if next_at is not None or (q is not None and not keep):
                at_iso = to_iso(next_at) if next_at is not None else now_iso
                conn.execute(
                    """UPDATE queue SET next_action = 'call', next_action_at = ?, updated_at = ?
                       WHERE customer_id = ?""",
                    (at_iso, now_iso, cid),
                )
        conn.execute(
            """INSERT INTO dispute_decisions (dispute_id, customer_id, decided_at, decided_by,
                   outcome, next_action_at, reason) VALUES (?,?,?,?,?,?,?)""",
            (dispute_id, cid, now_iso, by.id, outcome, at_iso, why),
        )
        details = {"dispute_id": dispute_id, "resolved": outcome, "reason": why}
        conn.execute(
            """INSERT INTO activities (customer_id, collector_id, at, outcome, note, details)
               VALUES (?, ?, ?, 'system', ?, ?)""",
            (cid, by.id, now_iso, f"dispute {dispute_id} resolved {outcome}: {why}",
             json.dumps(details, ensure_ascii=False)),
        )  # fmt: skip
        refresh_accounts(conn, clock, settings, [cid])
        record(conn, clock, action="disputes.resolve", collector_id=by.id, target=ref,
               detail={**details, "invoices_back": back})  # fmt: skip
    return Resolution(dispute_id, ref, valid, back, at_iso)
