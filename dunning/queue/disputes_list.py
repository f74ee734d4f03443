"""Open disputes a page at a time (issue 9, item 6): keyset pages, oldest first, one
department or all, overdue only or all, in the asker's scope (queue/lead_scope.py).

A page reads the open disputes in ``(created_at, id)`` order after (or before) the last
row seen, ``LIMIT page + 1``, through the partial indexes of open disputes (m032:
``disputes_open_age``, ``disputes_open_department``), then each row's age in business days
of its customer's calendar. Overdue (past ``[disputes] service_days`` business days) is
decided per row on that calendar; the SQL reads only disputes opened before the earliest
day one could be overdue on any calendar (``loose_cutoff``), so an overdue-only page stops
at the first young dispute. Business days are counted from each calendar's running count
per year (queue/disputes.py), not day by day.

The count is read separately: every open dispute in scope (the index alone), and the
overdue ones: those older than ``sure_days`` are overdue on any calendar (counted by the
index alone); the younger ones are read in one pass (their customer's country and
subdivision), each decided on its calendar in the zone of the address's place (the
numbers' zone, read per customer, only when the place has none).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from dunning.clock import Clock, from_iso
from dunning.phones import zone
from dunning.places import subdivision_code, subdivision_zones
from dunning.queue.calendar import CustomerCalendar, customer_calendar
from dunning.queue.collectors import Collector
from dunning.queue.config import Settings
from dunning.queue.disputes import (
    DisputeItem,
    _require,
    business_days_between,
    check_department,
    service_end,
)
from dunning.queue.lead_scope import Scope, scope_of

PAGE = 100
Cursor = tuple[str, int]  # (created_at, dispute id)


def sure_days(service_days: int) -> int:
    """Calendar days after which a dispute is overdue on any calendar: its service days
    with their weekends, a day either way for the zone, and three weeks of weekday public
    holidays besides (more than any calendar of the ``holidays`` package has in so short a
    window)."""
    return service_days * 7 // 5 + 2 + 21


def never_before(now: datetime, service_days: int) -> str:
    """The first UTC day from which no dispute is overdue today on any calendar: overdue
    on none even with weekends alone (public holidays only push the end later), a day
    either way for the zone."""
    today, one = now.date(), timedelta(days=1)
    plain = CustomerCalendar()
    d = today
    while today + one <= service_end(d - 2 * one, service_days, plain):
        d -= one
    return (d + one).isoformat()


@dataclass(frozen=True)
class DisputePage:
    rows: list[DisputeItem]
    more_after: bool
    more_before: bool

    @property
    def first(self) -> Cursor | None:
        return (self.rows[0].opened_at, self.rows[0].id) if self.rows else None

    @property
    def last(self) -> Cursor | None:
        return (self.rows[-1].opened_at, self.rows[-1].id) if self.rows else None


@dataclass(frozen=True)
class Listing:
    """What a list shows: the department (None: all), overdue only, and whose."""

    department: str | None
    overdue_only: bool
    scope: Scope


def loose_cutoff(now: datetime, service_days: int) -> str:
    """No dispute opened on or after this UTC day is overdue today on any calendar (a
    zone moves the customer's days by at most one either way)."""
    return (now.date() - timedelta(days=service_days - 2)).isoformat()


def _where(listing: Listing, now: datetime, service_days: int) -> tuple[str, list[object]]:
    where, args = "d.status = 'open'", []
    if listing.department is not None:
        where += " AND d.department = ?"
        args.append(listing.department)
    if listing.overdue_only:
        where += " AND d.created_at < ?"
        args.append(loose_cutoff(now, service_days))
    seen, params = listing.scope.sql()
    if seen != "1":
        where += f" AND EXISTS (SELECT 1 FROM queue q WHERE q.customer_id = d.customer_id " \
                 f"AND {seen})"  # fmt: skip
        args += params
    return where, args


_ROW = """SELECT d.id, d.customer_id, d.department, d.reason, d.amount_minor, d.currency,
                 d.created_at, k.username AS opened_by, c.external_ref, c.name,
                 c.country, c.subdivision, o.username AS owner,
                 (SELECT group_concat(i.number, ',') FROM dispute_invoices di
                  JOIN invoices i ON i.id = di.invoice_id
                  WHERE di.dispute_id = d.id) AS numbers
          FROM disputes d JOIN customers c ON c.id = d.customer_id
          LEFT JOIN collectors k ON k.id = d.created_by
          LEFT JOIN queue q ON q.customer_id = d.customer_id
          LEFT JOIN collectors o ON o.id = q.collector_id
          WHERE d.id = ?"""


def item(
    conn: sqlite3.Connection,
    r: sqlite3.Row,
    now: datetime,
    service_days: int,
    calendars: dict[int, CustomerCalendar],
) -> DisputeItem:
    cid = int(r["customer_id"])
    cal = calendars.get(cid)
    if cal is None:
        cal = calendars[cid] = customer_calendar(conn, cid, r["country"], r["subdivision"])
    opened = from_iso(r["created_at"]).astimezone(cal.tz).date()
    today = now.astimezone(cal.tz).date()
    due = service_end(opened, service_days, cal)
    return DisputeItem(
        id=int(r["id"]),
        customer_id=cid,
        ref=r["external_ref"],
        name=r["name"],
        collector=r["owner"],
        department=r["department"],
        reason=r["reason"],
        amount_minor=int(r["amount_minor"] or 0),
        currency=r["currency"],
        opened_at=r["created_at"],
        opened_by=r["opened_by"],
        invoices=tuple(sorted((r["numbers"] or "").split(","))) if r["numbers"] else (),
        age_days=business_days_between(opened, today, cal),
        due_on=due,
        overdue=today > due,
    )


def listing(
    conn: sqlite3.Connection,
    clock: Clock,
    by: Collector,
    *,
    department: str | None = None,
    overdue_only: bool = False,
    team: str | None = None,
) -> Listing:
    """The list ``by`` asked for: DisputeError for an unknown department, RightsError for
    a collector, ScopeError for a team not theirs."""
    check_department(department)
    _require(conn, clock, by, "list")
    return Listing(department, overdue_only, scope_of(conn, by, team))


def disputes_page(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    lst: Listing,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    last: bool = False,
    size: int | None = None,
) -> DisputePage:
    """One page: the first (no cursor), the one after ``after``, the one before
    ``before``, or the last (``last``)."""
    size = size or PAGE
    now = clock.now()
    days = settings.disputes.service_days
    where, args = _where(lst, now, days)
    backwards = before is not None or last
    cursor = before if before is not None else after
    order, cmp = ("DESC", "<") if backwards else ("ASC", ">")
    got: list[DisputeItem] = []
    calendars: dict[int, CustomerCalendar] = {}
    while len(got) <= size:
        need = size + 1 - len(got)
        sql = f"SELECT d.id, d.created_at FROM disputes d WHERE {where}"
        params = list(args)
        if cursor is not None:
            sql += f" AND d.created_at {cmp}= ? AND (d.created_at {cmp} ? OR d.id {cmp} ?)"
            params += [cursor[0], cursor[0], cursor[1]]
        sql += f" ORDER BY d.created_at {order}, d.id {order} LIMIT ?"
        params.append(need)
        ids = conn.execute(sql, params).fetchall()
        for did, at in ids:
            d = item(conn, conn.execute(_ROW, (did,)).fetchone(), now, days, calendars)
            if d.overdue or not lst.overdue_only:
                got.append(d)
            cursor = (str(at), int(did))
        if len(ids) < need:
            break
    more = len(got) > size
    got = got[:size]
    if backwards:
        got.reverse()
    if before is not None:
        return DisputePage(got, more_after=True, more_before=more)
    if last:
        return DisputePage(got, more_after=False, more_before=more)
    return DisputePage(got, more_after=more, more_before=after is not None)


def disputes_count(
    conn: sqlite3.Connection, clock: Clock, settings: Settings, lst: Listing
) -> tuple[int, int]:
    """(open disputes in the list, how many of them are overdue) without reading every
    row (see the module's note)."""
    now = clock.now()
    days = settings.disputes.service_days
    every = Listing(lst.department, False, lst.scope)
    where, args = _where(every, now, days)
    today = now.date()
    sure = (today - timedelta(days=sure_days(days))).isoformat()
    n, overdue = conn.execute(  # one pass: every one, and the old ones (overdue anywhere)
        f"SELECT COUNT(*), COALESCE(SUM(d.created_at < ?), 0) FROM disputes d WHERE {where}",
        [sure, *args],
    ).fetchone()
    n, overdue = int(n), int(overdue)
    # the younger ones: each on its customer's calendar; decided by its UTC day when the
    # customer's zone cannot change the answer (its day moves by one at most), else in the
    # zone of the address's place (one per country and subdivision) or of its numbers
    zones: dict[tuple[str, str | None], tzinfo | None] = {}
    ends: dict[tuple[str, str | None, date], date] = {}
    by_day: dict[tuple[str, str | None, str], bool | None] = {}

    def end(country: str, code: str | None, day: date) -> date:
        key = (country, code, day)
        if key not in ends:
            ends[key] = service_end(day, days, CustomerCalendar(country=country, subdivision=code))
        return ends[key]

    one = timedelta(days=1)
    for cid, country, sub, at in conn.execute(
        f"""SELECT d.customer_id, c.country, c.subdivision, d.created_at
            FROM disputes d JOIN customers c ON c.id = d.customer_id
            WHERE {where} AND d.created_at >= ? AND d.created_at < ?""",
        [*args, sure, never_before(now, days)],
    ):
        group = (country or "", sub, at[:10])
        if group not in by_day:
            code, day = subdivision_code(country, sub), date.fromisoformat(at[:10])
            if today - one > end(group[0], code, day + one):
                by_day[group] = True  # overdue whatever the zone
            elif today + one <= end(group[0], code, day - one):
                by_day[group] = False  # not overdue, whatever the zone
            else:
                by_day[group] = None
        sure_answer = by_day[group]
        if sure_answer is not None:
            overdue += sure_answer
            continue
        code = subdivision_code(country, sub)
        if (group[0], code) not in zones:
            home = subdivision_zones(country, code)
            zones[(group[0], code)] = zone(home[0]) if home else None
        tz = zones[(group[0], code)] or customer_calendar(conn, cid, country, sub).tz
        opened = from_iso(at).astimezone(tz).date()
        overdue += now.astimezone(tz).date() > end(group[0], code, opened)
    return n, overdue
