"""The customer's calendar: business days and the start of a day where the customer is.

"Try again the next business day" means the customer's next working day, not UTC's: a no
answer at 17:30 on a Thursday in Los Angeles (01:30 Friday UTC) comes back on Friday at
17:30 there, not on Monday; and a no answer on Thursday 24 December in Ontario comes back
after Christmas, the weekend and Boxing Day (observed): Tuesday 29. Holidays are those of
the customer's country and subdivision (``dunning.queue.holidays``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from dunning.phones import zone
from dunning.places import Reach, known, reach, subdivision_code
from dunning.queue.holidays import is_business_day


def account_reach(
    conn: sqlite3.Connection, customer_id: int, country: str, subdivision: str | None
) -> Reach:
    """Where the consumer may be: the zones of the address's subdivision and of every number
    that may be dialled (not bad, not do-not-call), and whose rules apply. Each number's
    stored place comes with it (``db/phone_places.py``): no phonenumbers parse for it."""
    rows = conn.execute(_USABLE, (customer_id,)).fetchall()
    for e164, place in rows:
        known(e164, place)
    return reach(country, subdivision, tuple(r[0] for r in rows))


_USABLE = (
    "SELECT p.e164, pp.place FROM phones p LEFT JOIN phone_places pp ON pp.e164 = p.e164 "
    "WHERE p.customer_id = ? AND p.bad = 0 AND p.do_not_call = 0 ORDER BY p.id"
)


@dataclass(frozen=True)
class CustomerCalendar:
    """Where the customer's days are counted: their time zone and their public holidays
    (country and subdivision; no country = weekends only)."""

    tz: tzinfo = UTC
    country: str = ""
    subdivision: str | None = None

    def is_business_day(self, day: date) -> bool:
        if not self.country:
            return day.weekday() < 5
        return is_business_day(self.country, self.subdivision, day)


def account_zones(
    conn: sqlite3.Connection, customer_id: int, country: str, subdivision: str | None
) -> tuple[str, ...]:
    """Every zone the consumer may be in (the address's main zone first)."""
    return account_reach(conn, customer_id, country, subdivision).zones


def customer_tz(zones: tuple[str, ...]) -> tzinfo:
    """The zone whose calendar counts: the address's main zone, else the first number's
    (UTC when none is known)."""
    return zone(zones[0]) if zones else UTC


def customer_calendar(
    conn: sqlite3.Connection, customer_id: int, country: str, subdivision: str | None
) -> CustomerCalendar:
    """The customer's calendar: first number's zone, holidays of their place."""
    zones = account_zones(conn, customer_id, country, subdivision)
    return CustomerCalendar(
        customer_tz(zones), country or "", subdivision_code(country, subdivision)
    )


def add_business_days(start: datetime, days: int, cal: CustomerCalendar | tzinfo = UTC) -> datetime:
    """The same wall-clock time ``days`` business days later on the customer's calendar
    (a bare time zone: weekdays there, no holidays); returned in UTC."""
    if not isinstance(cal, CustomerCalendar):
        cal = CustomerCalendar(cal)
    local = start.astimezone(cal.tz)
    day = local.date()
    added = 0
    while added < days:
        day += timedelta(days=1)
        if cal.is_business_day(day):
            added += 1
    out = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=cal.tz)
    return out.astimezone(UTC)


def day_start(d: date, tz: tzinfo = UTC) -> datetime:
    """00:00 of ``d`` in ``tz``, in UTC."""
    return datetime.combine(d, time(0, 0), tzinfo=tz).astimezone(UTC)
