"""Screen formats are memoized (issue 6 benchmarks: an outcome key to the next account
drawn formats dozens of figures and dates, the history twice); a cached instant still
follows the process's time zone when it changes."""

from __future__ import annotations

import os
import time

import pytest

from dunning.tui import fmt


@pytest.fixture(autouse=True)
def _fresh_caches():
    for f in (fmt.money, fmt.day, fmt._local_dt):
        f.cache_clear()
    yield
    for f in (fmt.money, fmt.day, fmt._local_dt):
        f.cache_clear()


def test_each_figure_and_instant_is_formatted_once(monkeypatch):
    calls: list[str] = []
    real_money, real_dt = fmt.format_money, fmt.format_datetime

    def money(*a, **k):
        calls.append("money")
        return real_money(*a, **k)

    def dt(*a, **k):
        calls.append("dt")
        return real_dt(*a, **k)

    monkeypatch.setattr(fmt, "format_money", money)
    monkeypatch.setattr(fmt, "format_datetime", dt)
    for _ in range(3):
        assert fmt.money(123450, "EUR", "fr_FR") == "1\u202f234,50\u00a0€"
        assert fmt.money(123450, "USD", "en_US") == "$1,234.50"
        fmt.local_dt("2026-07-01T15:00:00Z", "en_US")
    assert calls.count("money") == 2
    assert calls.count("dt") == 1


def test_a_cached_instant_follows_a_change_of_the_local_zone():
    before = os.environ.get("TZ")
    try:
        os.environ["TZ"] = "America/New_York"
        time.tzset()
        assert fmt.local_dt("2026-07-01T15:00:00Z", "en_US") == "7/1/26, 11:00\u202fAM"
        os.environ["TZ"] = "America/Los_Angeles"
        time.tzset()
        assert fmt.local_dt("2026-07-01T15:00:00Z", "en_US") == "7/1/26, 8:00\u202fAM"
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()
