"""The customer's calendar: business days and the start of a day where the customer is.

"Try again the next business day" means the customer's next weekday, not UTC's: a no
answer at 17:30 on a Thursday in Los Angeles (01:30 Friday UTC) comes back on Friday at
17:30 there, not on Monday. Holidays are not known (see README, "Not yet").
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from dunning.phones import zone
from dunning.places import Reach, reach


def account_reach(
    conn: sqlite3.Connection, customer_id: int, country: str, subdivision: str | None
) -> Reach:
    """Where the consumer may be: the zones of the address's subdivision and of every number
    that may be dialled (not bad, not do-not-call), and whose rules apply."""
    rows = conn.execute(
        "SELECT e164 FROM phones WHERE customer_id = ? AND bad = 0 AND do_not_call = 0 ORDER BY id",
        (customer_id,),
    ).fetchall()
    return reach(country, subdivision, tuple(r[0] for r in rows))


def account_zones(
    conn: sqlite3.Connection, customer_id: int, country: str, subdivision: str | None
) -> tuple[str, ...]:
    """Every zone the consumer may be in (the address's main zone first)."""
    return account_reach(conn, customer_id, country, subdivision).zones


def customer_tz(zones: tuple[str, ...]) -> tzinfo:
    """The zone whose calendar counts: the address's main zone, else the first number's
    (UTC when none is known)."""
    return zone(zones[0]) if zones else UTC


def add_business_days(start: datetime, days: int, tz: tzinfo = UTC) -> datetime:
    """The same wall-clock time ``days`` weekdays later in ``tz``; returned in UTC."""
    local = start.astimezone(tz)
    day = local.date()
    added = 0
    while added < days:
        day += timedelta(days=1)
        if day.weekday() < 5:
            added += 1
    out = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=tz)
    return out.astimezone(UTC)


def day_start(d: date, tz: tzinfo = UTC) -> datetime:
    """00:00 of ``d`` in ``tz``, in UTC."""
    return datetime.combine(d, time(0, 0), tzinfo=tz).astimezone(UTC)
