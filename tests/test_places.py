"""Where a consumer may be (issue 6, section 1): the subdivision zone table is complete and
widens, numbers add their zones, a number that says nothing about place adds the whole
country only when the address is unknown, and an unknown province falls back to the
numbers' area codes, then to the strictest rules of the country."""

from __future__ import annotations

import json
import zoneinfo
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dunning.data import gen_area_codes
from dunning.places import (
    area_code_subdivisions,
    country_zones,
    number_place,
    reach,
    subdivision_code,
    subdivision_table,
    subdivision_zones,
)
from dunning.queue.claim import claim_next
from dunning.queue.contact_rules import in_window, rule_for

NY, LA, CHI, DEN, PHX = (
    "America/New_York",
    "America/Los_Angeles",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
)
# ISO 3166-2 subdivisions of the US that are territories, and their own ISO 3166-1 codes
TERRITORIES = {"PR", "GU", "VI", "AS", "MP", "UM"}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- the table -------------------------------------------------------------------------------


def _tab_zones() -> dict[str, set[str]]:
    """country -> zones, from every zone.tab / zone1970.tab zoneinfo knows."""
    out: dict[str, set[str]] = {}
    found = False
    for root in zoneinfo.TZPATH:
        for name in ("zone.tab", "zone1970.tab"):
            path = Path(root) / name
            if not path.exists():
                continue
            found = True
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.startswith("#") or not line.strip():
                    continue
                codes, _coords, tz = line.split("\t")[:3]
                for code in codes.split(","):
                    country = "US" if code in TERRITORIES else code
                    out.setdefault(country, set()).add(tz)
    if not found:
        pytest.skip("no zone.tab in zoneinfo.TZPATH")
    return out


def test_the_table_covers_us_canada_and_mexico():
    table = subdivision_table()
    assert len(table["US"]) == 50 + 1 + 6  # states, DC, territories
    assert len(table["CA"]) == 13
    assert len(table["MX"]) == 32


@pytest.mark.parametrize("country", ["US", "CA", "MX"])
def test_every_zone_of_the_country_appears_under_some_subdivision(country):
    listed = {z for zones in subdivision_table()[country].values() for z in zones}
    missing = _tab_zones()[country] - listed
    assert not missing, f"{country}: zones in no subdivision: {sorted(missing)}"


def test_every_zone_in_the_table_is_a_valid_zone():
    for country, subs in subdivision_table().items():
        for sub, zones in subs.items():
            assert zones, (country, sub)
            for z in zones:
                ZoneInfo(z)  # raises when unknown


def test_every_zone_phonenumbers_gives_a_us_or_canadian_number_is_in_its_country():
    from phonenumbers.tzdata import TIMEZONE_DATA

    table = subdivision_table()
    us_ca = {z for c in ("US", "CA") for per in table[c].values() for z in per}
    for code in range(200, 1000):
        zones = TIMEZONE_DATA.get(f"1{code}")
        subs = area_code_subdivisions(str(code))
        if zones and subs:
            assert set(zones) <= us_ca, (code, zones)


def test_the_area_code_table_is_what_phonenumbers_says():
    stored = json.loads(gen_area_codes.OUT.read_text(encoding="utf-8"))
    assert stored == gen_area_codes.generate(), "run python -m dunning.data.gen_area_codes"
    table = subdivision_table()
    for code, subs in stored.items():
        for s in subs:
            country, sub = s.split("-")
            assert sub in table[country], (code, s)


@pytest.mark.parametrize(
    ("country", "sub", "must"),
    [
        ("US", "TX", {CHI, DEN}),
        ("US", "FL", {NY, CHI}),
        ("US", "AZ", {PHX, DEN}),  # the Navajo Nation keeps daylight time
        ("US", "AK", {"America/Anchorage", "America/Adak"}),
        ("US", "HI", {"Pacific/Honolulu"}),
        ("CA", "ON", {"America/Toronto", "America/Winnipeg"}),
        ("CA", "QC", {"America/Toronto", "America/Halifax", "America/Blanc-Sablon"}),
        ("CA", "BC", {"America/Vancouver", "America/Edmonton", "America/Creston"}),
        ("CA", "NL", {"America/St_Johns", "America/Goose_Bay"}),
        ("MX", "CHH", {"America/Chihuahua", "America/Ciudad_Juarez"}),
    ],
)
def test_subdivisions_widen(country, sub, must):
    assert must <= set(subdivision_zones(country, sub))
    assert must <= set(subdivision_zones(country, f"{country}-{sub}"))  # ISO form too


# -- numbers and addresses -------------------------------------------------------------------


def test_a_number_adds_its_zones_to_the_address():
    assert set(reach("US", "NY", ("+12135550100",)).zones) == {NY, LA}
    assert set(reach("US", "CA", ("+12125550100",)).zones) == {NY, LA}
    assert reach("US", "NY", ("+12135550100",)).zones[0] == NY  # the address's zone first


def test_navajo_nation_number_is_denver_and_phoenix():
    assert {DEN, PHX} <= set(number_place("+19288710000").zones)
    assert {DEN, PHX} <= set(reach("US", "AZ", ("+19288710000",)).zones)
    assert {DEN, PHX} <= set(reach("US", None, ("+19288710000",)).zones)


def test_a_toll_free_number_adds_nothing_to_a_known_address():
    assert reach("US", "HI", ("+18002345678",)).zones == ("Pacific/Honolulu",)
    assert number_place("+18002345678").zones == ()


def test_a_toll_free_number_without_an_address_is_the_whole_country():
    where = reach("US", None, ("+18002345678",))
    assert set(where.zones) == set(country_zones("US"))
    assert where.jurisdictions == (("US", None),)


def test_no_province_falls_back_to_the_area_code():
    where = reach("CA", None, ("+15145550123",))
    assert where.jurisdictions == (("CA", "QC"),)
    assert set(subdivision_zones("CA", "QC")) <= set(where.zones)
    # 867 serves three territories: all of them
    assert set(reach("CA", None, ("+18675550123",)).jurisdictions) == {
        ("CA", "NT"),
        ("CA", "NU"),
        ("CA", "YT"),
    }


def test_unknown_everything_is_the_strictest_rule_of_the_country():
    where = reach("CA", None, ("+18002345678",))
    assert where.jurisdictions == (("CA", None),)
    assert "America/St_Johns" in where.zones and "America/Vancouver" in where.zones
    rule = rule_for(where.jurisdictions)
    # Quebec: never on Sunday; Ontario: 07:00-21:00; both: 08:00-20:00 Monday-Saturday
    assert rule.window.days[6] is None
    assert rule.window.days[0] == (8, 20)


# -- the cases seen (section 1): claim_next never deals them ---------------------------------


@pytest.mark.parametrize(
    ("sub", "phone", "bad", "good"),
    [
        # New York address, Los Angeles number: 21:30 New York is too late
        ("NY", "+12135550100", "2026-11-24T02:30", "2026-11-24T01:30"),
        # California address, New York number: 05:30 Pacific is 08:30 New York, too early there
        ("CA", "+12125550100", "2026-11-23T13:30", "2026-11-23T16:30"),
        # Hawaii address, toll-free number: 06:00 HST is too early in Hawaii
        ("HI", "+18002345678", "2026-11-23T16:00", "2026-11-23T18:30"),
        # Arizona Navajo Nation number: 07:30 Phoenix is 08:30 Denver in July (DST)
        ("AZ", "+19288710000", "2026-07-01T14:30", "2026-07-01T15:30"),
        # Texas: 08:00 Chicago is 07:00 in El Paso
        ("TX", "+12145550100", "2026-11-23T14:30", "2026-11-23T15:30"),
    ],
)
def test_seen_cases_are_not_dealt(conn, clock, settings, ledger, sub, phone, bad, good):
    alice = ledger.collector("alice")
    cid = ledger.customer(
        "Jane",
        collector=alice,
        portfolio="consumer",
        subdivision=sub,
        phones=[phone],
        invoices=[(50_000, "2026-01-01")],
    )
    clock.at = utc(bad)
    claim = claim_next(conn, clock, settings, alice)
    assert claim is None
    clock.at = utc(good)
    claim = claim_next(conn, clock, settings, alice)
    assert claim is not None and claim.customer_id == cid


def test_a_quebec_number_with_no_province_gets_quebec_rules(conn, clock, settings, ledger):
    alice = ledger.collector("alice")
    ledger.customer(
        "Jean",
        collector=alice,
        country="CA",
        currency="CAD",
        portfolio="consumer",
        subdivision=None,
        phones=["+15145550123"],
        invoices=[(50_000, "2026-01-01")],
    )
    clock.at = utc("2026-11-29T19:00")  # Sunday 14:00 Montreal: Quebec forbids Sundays
    assert claim_next(conn, clock, settings, alice) is None
    clock.at = utc("2026-11-30T19:00")  # Monday 14:00
    assert claim_next(conn, clock, settings, alice) is not None


def test_a_rule_over_no_zone_never_allows():
    assert not in_window(utc("2026-11-23T17:00"), (), rule_for((("US", None),)))


def test_iso_subdivision_codes_get_the_same_zones_and_rules(conn, clock, settings, ledger):
    assert reach("CA", "CA-QC", ()) == reach("CA", "QC", ())
    alice = ledger.collector("alice")
    ledger.customer(
        "Jean",
        collector=alice,
        country="CA",
        currency="CAD",
        portfolio="consumer",
        subdivision="CA-QC",
        phones=["+15145550123"],
        invoices=[(50_000, "2026-01-01")],
    )
    clock.at = utc("2026-11-29T19:00")  # Sunday 14:00 Montreal
    assert claim_next(conn, clock, settings, alice) is None


def test_anywhere_in_the_us_means_the_states_not_guam_or_pago_pago():
    # a US consumer with no state and only a toll-free number may be anywhere from Hawaii
    # to Maine; Guam and American Samoa are addresses of their own (GU, AS)
    zones = set(country_zones("US"))
    assert {"Pacific/Honolulu", "America/New_York", "America/Anchorage"} <= zones
    assert not zones & {"Pacific/Guam", "Pacific/Pago_Pago", "America/Puerto_Rico"}
    assert "Pacific/Guam" in subdivision_zones("US", "GU")


def test_the_rules_read_a_subdivision_however_it_was_written():
    # rows written before imports normalized them (or by hand) still get their rules
    for written in ("QC", "CA-QC", "qc", "Québec", "Quebec", "PQ"):
        assert subdivision_code("CA", written) == "QC", written
    assert subdivision_zones("CA", "Québec") == subdivision_zones("CA", "QC")
    assert subdivision_code("FR", "FR-75") == "75"
