"""Times in the right clock: a collector's zone, callbacks in the customer's time, the
calling window for chosen times, and the CLI that says which clock each option uses."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from dunning.cli import main
from dunning.clock import HostZone, host_zone, zone_named
from dunning.queue.outcomes import OutcomeError, OutcomeInput, check_input
from dunning.queue.times import (
    OutsideWindowError,
    check_chosen_time,
    next_opening,
    read_time,
)

if TYPE_CHECKING:
    from conftest import Ledger

NY = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")
MON_10_NY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # the tests' clock: Mon 10:00 in New York
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def db(db_path: Path, ledger: Ledger) -> Path:
    """alice (no zone: the host's), lead lena; C00001 a New York consumer, C00002 a New
    York business, C00003 a consumer with no number and no known zone."""
    alice = ledger.collector("alice")
    ledger.collector("lena", role="lead")
    ledger.customer("Jane Doe", collector=alice, portfolio="consumer", phones=["+12125550100"])
    ledger.customer("Big Co", collector=alice, phones=["+12125550101"])
    return db_path


@pytest.fixture
def run(db: Path, clock, capsys):  # noqa: ANN001
    def go(*argv: str) -> tuple[int, str, str]:
        code = main(["--db", str(db), *argv], clock=clock)
        out, err = capsys.readouterr()
        return code, out, err

    return go


def one(db: Path, sql: str, *params: object) -> tuple:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute(sql, params).fetchone()
        return tuple(row) if row else ()
    finally:
        conn.close()


# -- the case seen: 9:00 for a New York consumer -----------------------------------------

LOG_AT_9 = """
import sys
from datetime import UTC, datetime
from dunning.cli import main
from dunning.clock import FixedClock
clock = FixedClock(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
sys.exit(main(["--db", sys.argv[1], "log", "C00001", "callback", "--as", "alice",
               "--at", sys.argv[2], "--json"], clock=clock))
"""


@pytest.mark.parametrize("server_tz", ["UTC", "Asia/Tokyo", "America/Los_Angeles"])
def test_a_callback_typed_9_00_is_9_00_for_the_new_york_customer(db: Path, server_tz: str):
    """Seen: '9:00' stored as 09:00 UTC (04:00 in New York) on a UTC server."""
    env = {**os.environ, "TZ": server_tz, "PYTHONPATH": str(REPO)}
    p = subprocess.run(
        [sys.executable, "-c", LOG_AT_9, str(db), "9:00"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert p.returncode == 0, p.stderr
    # the next 9:00 in New York after Mon 10:00 there: Tue 09:00 EST = 14:00Z
    assert json.loads(p.stdout)["next_action_at"] == "2026-11-24T14:00:00Z"
    assert one(db, "SELECT next_action_at FROM queue WHERE customer_id = 1") == (
        "2026-11-24T14:00:00Z",
    )


def test_read_time_in_either_clock() -> None:
    t = read_time("tomorrow 9:00", MON_10_NY, customer=NY, collector=PARIS)
    assert t.at == datetime(2026, 11, 24, 14, 0, tzinfo=UTC) and not t.own_clock
    t = read_time("tomorrow 15:00 me", MON_10_NY, customer=NY, collector=PARIS)
    assert t.at == datetime(2026, 11, 24, 14, 0, tzinfo=UTC) and t.own_clock
    for word in ("moi", "yo", "ME"):  # in French and Spanish sessions too
        t = read_time(f"demain 15:00 {word}", MON_10_NY, customer=NY, collector=PARIS)
        assert t.own_clock and t.at == datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    # no zone known for the customer: the collector's clock
    t = read_time("tomorrow 9:00", MON_10_NY, customer=None, collector=PARIS)
    assert t.at == datetime(2026, 11, 24, 8, 0, tzinfo=UTC) and t.own_clock
    # across a daylight-saving change each date keeps its own offset
    t = read_time("2027-07-01 9:00", MON_10_NY, customer=NY, collector=PARIS)
    assert t.at == datetime(2027, 7, 1, 13, 0, tzinfo=UTC)
    # relative times are the same on both clocks
    t = read_time("+2h", MON_10_NY, customer=NY, collector=PARIS)
    assert t.at == datetime(2026, 11, 23, 17, 0, tzinfo=UTC)


def test_both_clocks_name_the_collectors_day_when_it_differs() -> None:
    from dunning.queue.times import both_clocks

    at = datetime(2026, 11, 25, 2, 30, tzinfo=UTC)  # Tue 21:30 in New York, Wed 3:30 in Paris
    assert both_clocks(at, customer=NY, collector=PARIS, locale="en_US") == (
        "Tue 24 Nov 21:30 New York = Wed 3:30 for you"
    )
    assert both_clocks(at, customer=None, collector=PARIS, locale="en_US") == (
        "Wed 25 Nov 3:30 for you (the customer's time zone is unknown)"
    )


# -- the calling window --------------------------------------------------------------------


def test_a_time_outside_the_window_is_refused_saying_when_it_opens() -> None:
    late = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # Mon 22:00 in New York
    with pytest.raises(OutsideWindowError) as err:
        check_chosen_time(
            late,
            rules=True,
            country="US",
            subdivision="NY",
            zones=("America/New_York",),
            collector=PARIS,
            locale="en_US",
        )
    msg = str(err.value)
    assert "Mon 23 Nov 22:00 New York is outside the calling window" in msg
    assert "it opens Tue 24 Nov 8:00 New York (14:00 for you)" in msg
    # business accounts, and times inside the window, pass
    check_chosen_time(
        late,
        rules=False,
        country="US",
        subdivision="NY",
        zones=("America/New_York",),
        collector=PARIS,
        locale="en_US",
    )
    with pytest.raises(OutsideWindowError, match="no time zone is known"):
        check_chosen_time(
            MON_10_NY,
            rules=True,
            country="US",
            subdivision="NY",
            zones=(),
            collector=PARIS,
            locale="en_US",
        )
    check_chosen_time(
        MON_10_NY,
        rules=True,
        country="US",
        subdivision="NY",
        zones=("America/New_York",),
        collector=PARIS,
        locale="en_US",
    )


def test_the_window_opens_when_every_zone_allows_it() -> None:
    from dunning.queue.contact_rules import legal_window

    window = legal_window("US", "NY")
    late = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    both = ("America/New_York", "America/Los_Angeles")
    # 08:00 in Los Angeles is 11:00 in New York: 16:00Z
    assert next_opening(late, both, window) == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    assert next_opening(late, (), window) is None
    # Quebec: no call on Sunday; Saturday 21:00 opens Monday 08:00
    qc = legal_window("CA", "QC")
    sat = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # Sat 21:00 in Montreal
    assert next_opening(sat, ("America/Toronto",), qc) == datetime(2026, 11, 30, 13, 0, tzinfo=UTC)


def test_the_cli_refuses_a_consumer_callback_outside_the_window(run, db):
    code, out, err = run("log", "C00001", "callback", "--as", "alice", "--at", "tomorrow 22:00")
    assert code == 2 and out == ""
    assert "outside the calling window" in err and "it opens Wed 25 Nov 8:00 New York" in err
    assert "13:00 for you" in err  # alice has no zone: the host's (UTC in tests)
    assert err.count("\n") == 1 and "Traceback" not in err
    assert one(db, "SELECT COUNT(*) FROM activities") == (0,)
    # --next for a call follows the same rule
    code, _, err = run("log", "C00001", "no_answer", "--as", "alice", "--next", "+3d 7:00")
    assert code == 2 and "outside the calling window" in err
    assert one(db, "SELECT COUNT(*) FROM activities") == (0,)
    # inside the window, and any time for a business account
    assert run("log", "C00001", "no_answer", "--as", "alice", "--next", "+3d 8:00")[0] == 0
    code, out, _ = run(
        "log", "C00002", "callback", "--as", "alice", "--at", "tomorrow 22:00", "--json"
    )
    assert code == 0 and json.loads(out)["next_action_at"] == "2026-11-25T03:00:00Z"


def test_own_clock_suffix_and_the_collectors_zone(run, db):
    assert run("collectors", "set", "alice", "--tz", "Europe/Paris", "--as", "lena")[0] == 0
    code, out, _ = run(
        "log", "C00001", "callback", "--as", "alice", "--at", "tomorrow 15:00 me", "--json"
    )
    assert code == 0 and json.loads(out)["next_action_at"] == "2026-11-24T14:00:00Z"
    code, out, _ = run("log", "C00002", "no_answer", "--as", "alice", "--next", "+1d 9:00")
    # printed on alice's clock, with the customer's beside it
    assert code == 0 and "at 2026-11-24 15:00" in out and "09:00 New York" in out


# -- the collector's day -------------------------------------------------------------------


def test_typed_dates_are_read_on_the_collectors_day_not_the_servers() -> None:
    evening = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # Thu 18:00 in Los Angeles, UTC Fri
    la = ZoneInfo("America/Los_Angeles")
    paid_friday = OutcomeInput("paid", amount_minor=1000, on_date=date(2026, 12, 4))
    with pytest.raises(OutcomeError, match="in the future"):
        check_input(paid_friday, evening, la)
    check_input(paid_friday, evening, ZoneInfo("UTC"))
    check_input(
        OutcomeInput("promise_to_pay", amount_minor=1000, on_date=date(2026, 12, 3)), evening, la
    )


def test_cli_today_is_the_collectors_today(run, db):
    # 15:00Z is already Tuesday 00:00 in Tokyo
    assert run("collectors", "set", "alice", "--tz", "Asia/Tokyo", "--as", "lena")[0] == 0
    code, _, err = run(
        "log", "C00002", "paid", "--as", "alice", "--amount", "10", "--date", "today"
    )
    assert (code, err) == (0, "")
    assert one(db, "SELECT paid_on FROM payment_reports") == ("2026-11-24",)


# -- collectors' zones ---------------------------------------------------------------------


def test_collectors_add_and_set_a_time_zone(run, db):
    code, out, err = run("collectors", "add", "zoe", "--tz", "America/Toronto", "--as", "lena")
    assert (code, err) == (0, "") and "America/Toronto" in out
    assert one(db, "SELECT tz FROM collectors WHERE username = 'zoe'") == ("America/Toronto",)
    code, _, err = run("collectors", "add", "max", "--tz", "Mars/Olympus", "--as", "lena")
    assert code == 2 and "'Mars/Olympus'" in err and "Traceback" not in err
    assert one(db, "SELECT COUNT(*) FROM collectors WHERE username = 'max'") == (0,)

    assert run("collectors", "set", "zoe", "--tz", "America/Vancouver", "--as", "zoe")[0] == 0
    assert one(db, "SELECT tz FROM collectors WHERE username = 'zoe'") == ("America/Vancouver",)
    code, _, err = run("collectors", "set", "alice", "--tz", "UTC", "--as", "zoe")
    assert code == 1 and "may not change another collector" in err
    code, _, err = run("collectors", "set", "zoe", "--tz", "Nowhere", "--as", "lena")
    assert code == 2 and "'Nowhere'" in err
    assert one(db, "SELECT tz FROM collectors WHERE username = 'zoe'") == ("America/Vancouver",)
    code, _, err = run("collectors", "set", "nobody", "--tz", "UTC", "--as", "lena")
    assert code == 2 and "'nobody'" in err
    assert run("collectors", "set", "zoe", "--tz", "", "--as", "lena")[0] == 0  # the host's
    assert one(db, "SELECT tz FROM collectors WHERE username = 'zoe'") == (None,)
    code, out, _ = run("collectors", "list", "--json")
    assert {c["username"]: c["tz"] for c in json.loads(out)}["zoe"] == ""


def test_log_help_says_which_clock_each_option_uses(capsys):
    assert main(["log", "--help"]) == 0
    out = capsys.readouterr().out
    assert "CUSTOMER's time" in out and "YOUR calendar" in out and "' me'" in out


def test_zone_names_and_the_hosts_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    assert zone_named("America/Toronto").key == "America/Toronto"
    for bad in ("", "Mars/Olympus", "../../etc/passwd", "/etc/localtime"):
        with pytest.raises(ValueError, match="unknown time zone"):
            zone_named(bad)
    monkeypatch.setenv("TZ", "America/Chicago")
    time.tzset()
    try:
        assert getattr(host_zone(), "key", None) == "America/Chicago"
        monkeypatch.setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3")  # POSIX, not IANA
        time.tzset()
        host = host_zone()
        assert isinstance(host, HostZone)
        summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC).astimezone(host)
        winter = datetime(2026, 1, 1, 12, 0, tzinfo=UTC).astimezone(host)
        assert (summer.hour, winter.hour) == (14, 13)
    finally:
        monkeypatch.setenv("TZ", "UTC")
        time.tzset()


def test_the_demo_team_has_zones() -> None:
    from dunning.demo.data import COLLECTOR_TZ, COLLECTORS

    assert {c[0] for c in COLLECTORS} == set(COLLECTOR_TZ)
    for name in COLLECTOR_TZ.values():
        zone_named(name)


def test_a_time_on_a_holiday_is_refused_naming_the_holiday() -> None:
    """A callback on Christmas for a Quebec consumer: the refusal says it is a holiday there
    (not only the window's hours, which Friday 10:00 is inside) and when calls resume."""
    christmas = datetime(2026, 12, 25, 15, 0, tzinfo=UTC)  # Fri 10:00 in Montreal
    with pytest.raises(OutsideWindowError) as err:
        check_chosen_time(
            christmas,
            rules=True,
            country="CA",
            subdivision="QC",
            zones=("America/Toronto",),
            collector=PARIS,
            locale="en_US",
        )
    msg = str(err.value)
    assert "Fri 25 Dec 10:00 Toronto is a holiday where the customer is: Christmas" in msg
    assert "it opens Sat 26 Dec 8:00 Toronto" in msg
