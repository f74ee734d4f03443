"""Public holidays (issue 6, section 2): Ontario and Quebec accounts are not dealt on their
holidays; business days skip the customer's holidays everywhere.

Seen before: Ontario and Quebec accounts were dealt on Canada Day, Good Friday,
Saint-Jean-Baptiste and Christmas; a no answer on Thursday 24 December came back on
Friday 25.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dunning.data import gen_holiday_bans
from dunning.queue.calendar import CustomerCalendar, add_business_days
from dunning.queue.claim import claim_next
from dunning.queue.contact_rules import check_callable
from dunning.queue.holiday_view import next_callable
from dunning.queue.holidays import holiday_ban, holiday_name, is_business_day
from dunning.queue.outcomes import OutcomeInput, log_outcome

TORONTO = ZoneInfo("America/Toronto")
MONTREAL_NUMBER = "+15145550123"  # America/Toronto
TORONTO_NUMBER = "+14165550123"
VANCOUVER_NUMBER = "+16045550123"


def toronto(*args: int) -> datetime:
    return datetime(*args, tzinfo=TORONTO).astimezone(UTC)


def consumer(ledger, alice: int, name: str, subdivision: str | None, phone: str) -> int:
    return ledger.customer(
        name,
        collector=alice,
        country="CA",
        subdivision=subdivision,
        currency="CAD",
        portfolio="consumer",
        phones=[phone],
    )


def verdict(conn, settings, now: datetime, cid: int, subdivision: str | None):
    from dunning.queue.calendar import account_zones

    return check_callable(
        conn,
        now,
        settings,
        customer_id=cid,
        portfolio="consumer",
        country="CA",
        subdivision=subdivision,
        zones=account_zones(conn, cid, "CA", subdivision),
    )


def dealt(conn, clock, settings, alice: int) -> list[int]:
    """Every account claim_next deals alice now (each claimed account set aside)."""
    out: list[int] = []
    while (claim := claim_next(conn, clock, settings, alice, exclude=frozenset(out))) is not None:
        out.append(claim.customer_id)
    return out


@pytest.mark.parametrize(
    ("day", "ontario", "quebec"),
    [
        (date(2026, 7, 1), "Canada Day", "Canada Day"),
        (date(2026, 4, 3), "Good Friday", "Good Friday"),
        (date(2026, 6, 24), None, "Saint Jean Baptiste Day"),
        (date(2026, 12, 25), "Christmas Day", "Christmas Day"),
        (date(2026, 4, 6), "Easter Monday", "Easter Monday"),  # a "holiday" in both laws
        (date(2026, 8, 3), "Civic Holiday", None),
        (date(2026, 7, 2), None, None),
    ],
)
def test_ontario_and_quebec_are_not_dealt_on_their_holidays(
    conn, clock, settings, ledger, day, ontario, quebec
):
    alice = ledger.collector("alice")
    on = consumer(ledger, alice, "Olivia Ontario", "ON", TORONTO_NUMBER)
    qc = consumer(ledger, alice, "Québec Québécois", "QC", MONTREAL_NUMBER)
    bc = consumer(ledger, alice, "Bea Columbia", "BC", VANCOUVER_NUMBER)
    clock.at = datetime(day.year, day.month, day.day, 19, 0, tzinfo=UTC)  # 15:00 / 12:00
    for cid, sub, holiday in ((on, "ON", ontario), (qc, "QC", quebec)):
        v = verdict(conn, settings, clock.now(), cid, sub)
        if holiday:
            assert (v.ok, v.code) == (False, "holiday")
            assert v.detail.startswith(holiday)
        else:
            assert v.ok, v
    expected = {bc} | ({on} if not ontario else set()) | ({qc} if not quebec else set())
    assert set(dealt(conn, clock, settings, alice)) == expected  # BC has no holiday ban


def test_the_customers_local_date_counts(conn, clock, settings, ledger):
    alice = ledger.collector("alice")
    on = consumer(ledger, alice, "Olivia Ontario", "ON", TORONTO_NUMBER)
    # 1 July 03:00 UTC is 30 June 23:00 in Toronto: not the holiday there (just late)
    assert verdict(conn, settings, toronto(2026, 6, 30, 23, 0), on, "ON").code == "outside_window"
    # 1 July 23:30 in Toronto is 2 July UTC: still Canada Day there
    assert verdict(conn, settings, toronto(2026, 7, 1, 23, 30), on, "ON").code == "holiday"
    # Ontario spans Central time too (Kenora): 07:00 Toronto is 06:00 there
    assert verdict(conn, settings, toronto(2026, 7, 2, 8, 0), on, "ON").ok


def test_a_canadian_with_no_province_gets_the_strictest_holidays(conn, clock, settings, ledger):
    alice = ledger.collector("alice")
    cid = consumer(ledger, alice, "Nobody Knows", None, MONTREAL_NUMBER)
    v = verdict(conn, settings, toronto(2026, 6, 24, 12, 0), cid, None)  # Quebec's holiday
    assert (v.ok, v.code) == (False, "holiday")
    v = verdict(conn, settings, toronto(2026, 8, 3, 12, 0), cid, None)  # Ontario's
    assert (v.ok, v.code) == (False, "holiday")


def test_b2b_and_us_accounts_are_not_banned_on_holidays(conn, clock, settings, ledger):
    alice = ledger.collector("alice")
    b2b = ledger.customer("Acme", collector=alice, country="CA", subdivision="ON",
                          currency="CAD", phones=[TORONTO_NUMBER])  # fmt: skip
    us = ledger.customer("Jane", collector=alice, portfolio="consumer")  # New York
    clock.at = toronto(2026, 7, 1, 12, 0)  # Canada Day
    assert set(dealt(conn, clock, settings, alice)) == {b2b, us}
    clock.at = datetime(2026, 7, 3, 16, 0, tzinfo=UTC)  # Independence Day (observed), NY
    assert us in dealt(conn, clock, settings, alice)
    assert holiday_ban("US", "NY", date(2026, 7, 3)) is None


def test_holiday_names_in_the_collectors_language():
    assert holiday_name("CA", "QC", date(2026, 6, 24), language="fr_CA") == (
        "Fête nationale du Québec"
    )
    assert holiday_name("CA", "ON", date(2026, 7, 1), language="fr_CA") == "Fête du Canada"
    assert holiday_name("CA", "ON", date(2026, 7, 1), language="en_US") == "Canada Day"
    assert holiday_name("CA", "ON", date(2026, 7, 1), language="es_MX") == "Canada Day"
    assert holiday_name("MX", "CMX", date(2026, 9, 16), language="es_MX") == (
        "Día de la Independencia"
    )
    assert holiday_name("MX", "CMX", date(2026, 9, 16), language="fr_CA") == "Independence Day"
    assert holiday_name("CA", "ON", date(2026, 7, 2)) is None
    assert holiday_name("ZZ", None, date(2026, 7, 1)) is None  # unknown to the package
    assert holiday_name("FR", "IDF", date(2026, 7, 14)) == "National Day"  # country-wide


# -- business days --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "subdivision", "days", "start", "expected"),
    [
        # Thu 24 Dec 2026: Christmas Fri 25; Ontario's Boxing Day (Sat 26) is observed Mon 28
        ("CA", "ON", 1, date(2026, 12, 24), date(2026, 12, 29)),
        ("CA", "QC", 1, date(2026, 12, 24), date(2026, 12, 28)),  # no Boxing Day in Quebec
        ("US", "NY", 1, date(2026, 12, 24), date(2026, 12, 28)),
        ("CA", "ON", 3, date(2026, 12, 24), date(2026, 12, 31)),
        ("US", "NY", 2, date(2026, 11, 25), date(2026, 11, 30)),  # Thanksgiving Thu 26
        ("FR", None, 1, date(2026, 7, 13), date(2026, 7, 15)),  # 14 July
        ("CA", "QC", 1, date(2026, 6, 23), date(2026, 6, 25)),  # Saint-Jean-Baptiste
        ("CA", "ON", 1, date(2026, 6, 23), date(2026, 6, 24)),  # not Ontario's
        ("ZZ", None, 1, date(2026, 12, 24), date(2026, 12, 25)),  # unknown: weekdays
    ],
)
def test_business_days_skip_the_customers_holidays(country, subdivision, days, start, expected):
    cal = CustomerCalendar(TORONTO, country, subdivision)
    got = add_business_days(datetime.combine(start, datetime.min.time(), TORONTO) +
                            timedelta(hours=15), days, cal)  # fmt: skip
    assert got.astimezone(TORONTO) == datetime(
        expected.year, expected.month, expected.day, 15, 0, tzinfo=TORONTO
    )


@pytest.mark.parametrize(
    ("outcome", "kw", "next_action", "expected"),
    [
        ("no_answer", {}, "call", toronto(2026, 12, 29, 11, 0)),
        ("left_message", {}, "call", toronto(2026, 12, 30, 11, 0)),
        ("paid", {"amount_minor": 1000, "on_date": date(2026, 12, 23)}, "verify_payment",
         toronto(2026, 12, 31, 11, 0)),
        ("escalated", {"escalation": "credit_hold"}, "call", toronto(2026, 12, 29, 11, 0)),
    ],
)  # fmt: skip
def test_a_no_answer_on_christmas_eve_comes_back_after_the_holidays(
    conn, clock, settings, ledger, outcome, kw, next_action, expected
):
    alice = ledger.collector("alice")
    cid = consumer(ledger, alice, "Olivia Ontario", "ON", TORONTO_NUMBER)
    clock.at = toronto(2026, 12, 24, 11, 0)  # Thursday
    logged = log_outcome(
        conn, clock, settings, collector_id=alice, customer_id=cid, inp=OutcomeInput(outcome, **kw)
    )
    assert logged.next_action == next_action
    assert logged.next_action_at == expected.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_is_business_day():
    assert not is_business_day("CA", "ON", date(2026, 12, 28))
    assert is_business_day("CA", "QC", date(2026, 12, 28))
    assert not is_business_day("US", "NY", date(2026, 12, 26))  # Saturday


# -- when the customer may be called again --------------------------------------------------


def test_next_callable_skips_the_holiday_and_the_night():
    zones = ("America/Toronto",)
    got = next_callable(toronto(2026, 7, 1, 12, 5), zones, "CA", "ON")
    assert got == toronto(2026, 7, 2, 7, 0)  # Thursday, when Ontario's window opens
    got = next_callable(toronto(2026, 12, 24, 20, 10), zones, "CA", "QC")
    assert got == toronto(2026, 12, 26, 8, 0)  # Saturday: Quebec allows it, no Boxing Day
    assert next_callable(toronto(2026, 7, 1, 12, 0), (), "CA", "ON") is None


# -- cost -----------------------------------------------------------------------------------


def test_a_look_up_costs_microseconds_and_holidays_is_not_imported_at_start():
    holiday_ban("CA", "ON", date(2026, 7, 1))  # builds the year
    start = time.perf_counter()
    for k in range(5000):
        holiday_ban("CA", "ON", date(2026, 7, 1 + k % 28))
        is_business_day("US", "NY", date(2026, 7, 1 + k % 28))
    per_call = (time.perf_counter() - start) / 10_000
    assert per_call < 50e-6, per_call  # ~1-2 µs measured
    code = (
        "import sys, dunning.cli, dunning.queue.claim, dunning.tui.app, "
        "dunning.tui.screens.work; print('holidays' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_stored_holiday_bans_are_what_the_package_says():
    stored = json.loads(gen_holiday_bans.OUT.read_text(encoding="utf-8"))
    assert stored == gen_holiday_bans.generate(), "run python -m dunning.data.gen_holiday_bans"
    assert stored["CA-QC"]["2026-06-24"] == "Saint Jean Baptiste Day"


def test_deciding_a_call_on_a_banned_holiday_never_imports_the_package():
    """Seen: the first claim of a process imported and built the package (0.25-0.6 s) as
    soon as a Canadian consumer was a candidate, so start-up (process start -> first
    account) lost that much; the claim reads the stored table instead."""
    code = (
        "import sys\n"
        "from datetime import UTC, date, datetime\n"
        "from dunning.queue.contact_rules import rule_for\n"
        "from dunning.queue.holidays import holiday_ban\n"
        "from dunning.queue.windows import allowed_at\n"
        "noon = datetime(2026, 6, 24, 16, 0, tzinfo=UTC)\n"
        "zones = ('America/Toronto',)\n"
        "print(allowed_at(noon, zones, rule_for((('CA', 'QC'),))),\n"
        "      allowed_at(noon, zones, rule_for((('CA', 'ON'),))),\n"
        "      holiday_ban('CA', None, date(2026, 6, 24)),\n"
        "      'holidays' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "Saint", "Jean", "Baptiste", "Day", "False"]
    # a year the table does not hold still comes from the package
    assert holiday_ban("CA", "QC", date(2050, 6, 24)) == "Saint Jean Baptiste Day"


# -- properties over 2026 -------------------------------------------------------------------

INSTANTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31, 23, 59), timezones=st.just(UTC)
)
PLACES = st.sampled_from(
    [("ON", ("America/Toronto",)), ("QC", ("America/Toronto",)), ("ON", ("America/Winnipeg",)),
     (None, ("America/Toronto", "America/Halifax")), ("BC", ("America/Vancouver",))]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(now=INSTANTS, place=PLACES)
def test_never_callable_on_a_banned_holiday_and_the_next_opening_is_the_first(now, place):
    from dunning.queue.config import Settings as Rules
    from dunning.queue.contact_rules import holiday_today, in_window, legal_window

    sub, zones = place
    local_days = {now.astimezone(ZoneInfo(z)).date() for z in zones}
    banned = any(holiday_ban("CA", sub, d) for d in local_days)
    v = check_callable(None, now, Rules(), customer_id=0, portfolio="consumer",  # type: ignore[arg-type]
                       country="CA", subdivision=sub, zones=zones) if banned else None  # fmt: skip
    if banned:
        assert (v.ok, v.code) == (False, "holiday")
    assert (holiday_today(now, zones, "CA", sub) is not None) == banned
    again = next_callable(now, zones, "CA", sub)
    assert again is not None and now <= again <= now + timedelta(days=6)
    window = legal_window("CA", sub)
    assert in_window(again, zones, window) and holiday_today(again, zones, "CA", sub) is None
    before = again - timedelta(minutes=15)
    if before >= now:
        assert not in_window(before, zones, window) or holiday_today(before, zones, "CA", sub)
