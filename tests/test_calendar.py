"""Whose calendar: business days are the customer's weekdays, typed dates the collector's.

A no answer at 17:30 on a Thursday in Los Angeles is 01:30 Friday UTC; counting on
UTC's calendar skipped Friday. "today" typed at 18:00 in Los Angeles was refused as
past because UTC had already moved on.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from dunning.queue.calendar import add_business_days, day_start
from dunning.queue.outcomes import MAX_MINOR, OutcomeError, OutcomeInput, check_input, log_outcome

LA = ZoneInfo("America/Los_Angeles")


def test_business_days_count_on_the_given_calendar() -> None:
    thursday_evening_la = datetime(2026, 12, 4, 1, 30, tzinfo=UTC)  # Thu 17:30 PST
    assert add_business_days(thursday_evening_la, 1, LA) == datetime(
        2026, 12, 5, 1, 30, tzinfo=UTC
    )  # Friday 17:30 PST
    assert add_business_days(thursday_evening_la, 1) == datetime(
        2026, 12, 7, 1, 30, tzinfo=UTC
    )  # UTC's calendar: Friday UTC -> Monday UTC


def test_wall_clock_time_is_kept_across_a_dst_change() -> None:
    friday = datetime(2027, 3, 12, 17, 0, tzinfo=UTC)  # 09:00 PST, Friday
    after = add_business_days(friday, 1, LA)  # Monday, after the clocks went forward
    assert after.astimezone(LA).replace(tzinfo=None) == datetime(2027, 3, 15, 9, 0)


def test_day_start_is_midnight_where_the_customer_is() -> None:
    assert day_start(date(2026, 12, 2), LA) == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def test_no_answer_in_los_angeles_comes_back_on_friday(ledger, clock) -> None:
    alice = ledger.collector("alice")
    cid = ledger.customer(
        "Pacific Pools", collector=alice, subdivision="CA", phones=["+14155550123"]
    )
    clock.at = datetime(2026, 12, 4, 1, 30, tzinfo=UTC)
    logged = log_outcome(
        ledger.conn,
        clock,
        ledger.settings,
        collector_id=alice,
        customer_id=cid,
        inp=OutcomeInput("no_answer"),
    )
    assert logged.next_action_at == "2026-12-05T01:30:00Z"


@pytest.fixture
def in_los_angeles(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    yield
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


def test_today_is_the_collectors_today(in_los_angeles) -> None:
    evening = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # Thu 18:00 in Los Angeles
    check_input(
        OutcomeInput("promise_to_pay", amount_minor=1000, on_date=date(2026, 12, 3)), evening
    )
    with pytest.raises(OutcomeError, match="in the future"):
        check_input(OutcomeInput("paid", amount_minor=1000, on_date=date(2026, 12, 4)), evening)


@pytest.mark.parametrize(
    ("inp", "message"),
    [
        (
            OutcomeInput("promise_to_pay", amount_minor=MAX_MINOR, on_date=date(2026, 12, 1)),
            "too large",
        ),
        (OutcomeInput("paid", amount_minor=100, on_date=date(1, 1, 1)), "over a year ago"),
        (OutcomeInput("callback", callback_at=datetime(9999, 12, 31, tzinfo=UTC)), "over a year"),
        (
            OutcomeInput("no_answer", next_action_at=datetime(2028, 1, 1, tzinfo=UTC)),
            "over a year",
        ),
        (
            OutcomeInput(
                "payment_plan",
                instalments=[(100, date(2026, 12, 1)), (100, date(2031, 1, 1))],
            ),
            "over 3 years",
        ),
    ],
)
def test_dates_and_amounts_out_of_reach_are_refused(inp, message) -> None:
    now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
    with pytest.raises(OutcomeError, match=message):
        check_input(inp, now)


def test_a_time_typed_past_a_dst_change_keeps_its_wall_clock(monkeypatch) -> None:
    from dunning.when import parse_when

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        now_local = datetime(2027, 3, 12, 15, 0, tzinfo=UTC).astimezone()  # fixed EST offset
        for text in ("+3d 9:00", "2027-03-15 9:00", "mon 9:00"):
            assert parse_when(text, now_local).astimezone(UTC) == datetime(
                2027, 3, 15, 13, 0, tzinfo=UTC
            ), text  # 09:00 EDT
        with pytest.raises(ValueError):
            parse_when("9999-12-31 23:59", now_local)
    finally:
        monkeypatch.setenv("TZ", "UTC")
        time.tzset()
