"""Property (issue 6): over random instants of 2026, daylight-saving changes included, and
random addresses and numbers, claim_next never deals a consumer at an hour some zone they
may be in forbids; the same through `dunning next` on a real file.

The oracle is written apart from the code under test: the zones come straight from the
data table and phonenumbers, and the hours are checked with plain datetime arithmetic."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from phonenumbers import timezone as pn_tz

from dunning.cli import main
from dunning.db.connection import write_tx
from dunning.places import area_code_subdivisions, subdivision_table
from dunning.queue.claim import claim_next, release

NUMBERS = [
    "+12125550100",  # New York
    "+12135550100",  # Los Angeles
    "+19288710000",  # Arizona, Navajo Nation: Denver and Phoenix
    "+19075550123",  # Alaska
    "+18085550123",  # Hawaii
    "+19155550123",  # El Paso
    "+18002345678",  # toll-free
    "+15145550123",  # Montreal
    "+14165550123",  # Toronto
    "+18075550123",  # north-western Ontario
    "+17095550123",  # Newfoundland
    "+18675550123",  # the three territories
    "+16045550123",  # Vancouver
    "+525512345678",  # Mexico City
    "+526641234567",  # Tijuana
    "+529981234567",  # Cancun
]
TABLE = subdivision_table()
ADDRESSES = [(c, s) for c in ("US", "CA", "MX") for s in [None, *sorted(TABLE[c])]]
START = datetime(2026, 1, 1, tzinfo=UTC)
# the days clocks change in North America and Mexico's border cities
CHANGES = [datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC)]

instants = st.one_of(
    st.integers(0, 365 * 86400 - 1).map(lambda s: START + timedelta(seconds=s)),
    st.builds(
        lambda base, s: base + timedelta(seconds=s),
        st.sampled_from(CHANGES),
        st.integers(-20 * 3600, 20 * 3600),
    ),
)


def _zones_of_number(e164: str) -> set[str]:
    n = phonenumbers.parse(e164)
    if phonenumbers.number_type(n) == phonenumbers.PhoneNumberType.TOLL_FREE:
        return set()
    return {z for z in pn_tz.time_zones_for_number(n) if z != "Etc/Unknown"}


def _oracle(country: str, sub: str | None, numbers: list[str]) -> tuple[set[str], set]:
    """Zones the consumer may be in, and the jurisdictions whose rules may apply."""
    zones: set[str] = set(TABLE[country].get(sub or "", ()))
    juris: set = {(country, sub)} if sub else set()
    everywhere = False
    for e164 in numbers:
        own = _zones_of_number(e164)
        zones |= own
        if not sub:
            if not own:
                everywhere = True
            for c, s in area_code_subdivisions(e164[2:5]) if e164.startswith("+1") else ():
                zones |= set(TABLE[c][s])
                juris.add((c, s))
            if e164.startswith("+52"):
                juris.add(("MX", None))
    if not sub and (everywhere or not juris):
        # US territories are addresses of their own (GU, PR...), not 'anywhere in the US'
        zones |= {
            z
            for s, per in TABLE[country].items()
            if not (country == "US" and s in {"PR", "GU", "VI", "AS", "MP", "UM"})
            for z in per
        }
        juris.add((country, None))
    return zones, juris


def _allowed(local: datetime, country: str, sub: str | None) -> bool:
    h, wd = local.hour, local.weekday()
    quebec = 8 <= h < 20 and wd < 6
    ontario = (13 <= h < 17) if wd == 6 else (7 <= h < 21)
    if country == "CA" and sub == "QC":
        return quebec
    if country == "CA" and sub == "ON":
        return ontario
    if country == "CA" and sub is None:  # the strictest of the country
        return quebec and ontario
    return 8 <= h < 21


def _check(now: datetime, country: str, sub: str | None, numbers: list[str]) -> None:
    zones, juris = _oracle(country, sub, numbers)
    for name in zones:
        local = now.astimezone(ZoneInfo(name))
        for c, s in juris:
            assert _allowed(local, c, s), f"dealt at {local:%a %H:%M} in {name} ({c}-{s})"


@pytest.fixture
def consumer(ledger):
    alice = ledger.collector("alice")
    cid = ledger.customer(
        "Jane", collector=alice, portfolio="consumer", invoices=[(50_000, "2026-01-01")]
    )
    return alice, cid


def _set(conn, cid: int, country: str, sub: str | None, numbers: list[str]) -> None:
    with write_tx(conn):
        conn.execute(
            "UPDATE customers SET country = ?, subdivision = ? WHERE id = ?", (country, sub, cid)
        )
        conn.execute("DELETE FROM phones WHERE customer_id = ?", (cid,))
        for e164 in numbers:
            conn.execute(
                "INSERT INTO phones (customer_id, e164, type, created_at) "
                "VALUES (?, ?, 'fixed_line', '2026-01-01T00:00:00Z')",
                (cid, e164),
            )
        conn.execute("UPDATE queue SET state = 'ready' WHERE customer_id = ?", (cid,))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
@given(
    now=instants,
    address=st.sampled_from(ADDRESSES),
    numbers=st.lists(st.sampled_from(NUMBERS), min_size=1, max_size=3, unique=True),
)
def test_claim_next_never_deals_outside_any_zone_window(
    conn, clock, settings, consumer, now, address, numbers
):
    alice, cid = consumer
    country, sub = address
    _set(conn, cid, country, sub, numbers)
    clock.at = now
    claim = claim_next(conn, clock, settings, alice, resume=False)
    event("dealt" if claim is not None else "not dealt")  # --hypothesis-show-statistics
    if claim is not None:
        assert claim.customer_id == cid
        _check(now, country, sub, numbers)
        release(conn, alice, cid)


CLI_CASES = [
    # (when, country, subdivision, numbers, dealt)
    ("2026-11-24T02:30:00", "US", "NY", ["+12135550100"], False),  # 21:30 New York
    ("2026-11-24T01:30:00", "US", "NY", ["+12135550100"], True),
    ("2026-11-23T13:30:00", "US", "CA", ["+12125550100"], False),  # 05:30 Pacific
    ("2026-11-23T16:00:00", "US", "HI", ["+18002345678"], False),  # 06:00 Hawaii
    ("2026-11-23T18:30:00", "US", "HI", ["+18002345678"], True),
    ("2026-07-01T14:30:00", "US", "AZ", ["+19288710000"], False),  # 08:30 Denver, 07:30 Phoenix
    ("2026-11-29T19:00:00", "CA", None, ["+15145550123"], False),  # Sunday, Quebec number
    ("2026-11-30T19:00:00", "CA", None, ["+15145550123"], True),
]


@pytest.mark.parametrize(("when", "country", "sub", "numbers", "dealt"), CLI_CASES)
def test_dunning_next_on_a_real_file(
    db_path, conn, clock, consumer, capsys, monkeypatch, when, country, sub, numbers, dealt
):
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    _alice, cid = consumer
    _set(conn, cid, country, sub, numbers)
    clock.at = datetime.fromisoformat(when).replace(tzinfo=UTC)
    code = main(["--db", str(db_path), "next", "--as", "alice", "--json"], clock=clock)
    data = json.loads(capsys.readouterr().out)
    if dealt:
        assert code == 0 and data["account"]["id"] == cid
        _check(clock.at, country, sub, numbers)
    else:
        assert data["account"] is None


def test_dunning_next_prints_the_window(db_path, conn, clock, consumer, capsys, monkeypatch):
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    _alice, cid = consumer
    _set(conn, cid, "US", "NY", ["+12135550100"])
    clock.at = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)
    code = main(["--db", str(db_path), "next", "--as", "alice"], clock=clock)
    out = capsys.readouterr().out
    assert code == 0
    assert "window  16:00-02:00 your time (Los Angeles, New York)" in out  # TZ=UTC in tests
