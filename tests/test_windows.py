"""The window arithmetic: allowed periods in every zone, when an account opens, today's
window in the collector's clock and the zones that bound it, and the holiday hook."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dunning.queue.config import Settings
from dunning.queue.contact_rules import check_callable, rule_for
from dunning.queue.windows import Rule, call_window, opens_at

NY, LA = "America/New_York", "America/Los_Angeles"
US = rule_for((("US", None),))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_window_in_the_collectors_clock_and_the_zones_that_bound_it():
    now = utc("2026-11-23T17:00")  # Monday 12:00 New York
    w = call_window(now, (NY, LA), US, ZoneInfo(NY))
    assert w.open_now
    start, end = w.current
    assert (start.hour, end.hour) == (11, 21)  # 08:00 Los Angeles .. 21:00 New York
    assert w.opens_from == (LA,) and w.closes_in == (NY,)
    assert w.bounds == (LA, NY)
    # a collector in Paris sees the same window in their own clock
    w = call_window(now, (NY, LA), US, ZoneInfo("Europe/Paris"))
    assert (w.current[0].hour, w.current[1].hour) == (17, 3)


def test_when_closed_the_next_opening():
    now = utc("2026-11-24T02:30")  # 21:30 New York
    w = call_window(now, (NY, LA), US, ZoneInfo(NY))
    assert not w.open_now
    assert w.next_open == datetime(2026, 11, 24, 11, 0, tzinfo=ZoneInfo(NY))


def test_opening_across_the_spring_change():
    # Saturday 2026-03-07 22:00 New York (EST); clocks go forward on Sunday at 02:00
    now = utc("2026-03-08T03:00")
    opened = opens_at(now, (NY,), US)
    assert opened == utc("2026-03-08T12:00")  # 08:00 EDT


def test_a_holiday_closes_the_day_and_is_named():
    christmas = date(2026, 12, 25)

    def closed(d: date) -> str | None:
        return "Christmas Day" if d == christmas else None

    rule = Rule(US.window, closed)
    now = utc("2026-12-25T17:00")  # noon in New York on Christmas Day
    w = call_window(now, (NY,), rule, ZoneInfo(NY))
    assert not w.open_now and w.holiday == "Christmas Day"
    assert w.next_open == datetime(2026, 12, 26, 8, 0, tzinfo=ZoneInfo(NY))


def test_check_callable_says_when_it_opens(conn):
    v = check_callable(
        conn,
        utc("2026-11-24T02:30"),
        Settings(),
        customer_id=0,
        portfolio="consumer",
        country="US",
        subdivision="NY",
        zones=(NY, LA),
    )
    assert (v.ok, v.code) == (False, "outside_window")
    assert v.opens_at == utc("2026-11-24T16:00")


def test_no_province_means_the_strictest_rule_of_the_country(conn):
    sunday = utc("2026-11-29T19:00")  # Sunday 14:00 Toronto: Ontario allows, Quebec does not
    args = dict(customer_id=0, portfolio="consumer", zones=("America/Toronto",))
    on = check_callable(conn, sunday, Settings(), country="CA", subdivision="ON", **args)
    anywhere = check_callable(conn, sunday, Settings(), country="CA", subdivision=None, **args)
    assert on.ok and not anywhere.ok
    assert anywhere.opens_at == sunday + timedelta(hours=18)  # Monday 08:00


def test_start_up_never_imports_the_geocoder():
    code = (
        "import sys\n"
        "from dunning.places import reach\n"
        "reach('CA', None, ('+15145550123', '+18002345678'))\n"
        "assert 'phonenumbers.geocoder' not in sys.modules\n"
        "assert 'phonenumbers.geodata' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
