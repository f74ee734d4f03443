"""Each number's place stored (m028_places, db/phone_places.py): read back it gives what
parsing gives (zones, country, subdivisions, dial formats); every writer fills it; a claim
and the account's view read it without importing phonenumbers."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import phonenumbers
import pytest
from phonenumbers.phonemetadata import PhoneMetadata
from test_ledger_support import load, write_csv

from dunning import phones, places
from dunning.clock import FixedClock
from dunning.db import phone_places
from dunning.db.connection import write_tx
from dunning.db.schema import MIGRATIONS_TABLE, migrate

NUMBERS = [
    "+15145550123",  # Quebec
    "+12125550100",  # New York
    "+18675550100",  # the three territories
    "+18005550100",  # toll-free: says nothing
    "+17875550100",  # Puerto Rico: US
    "+33142685300",
    "+33612345678",
    "+525512345678",
    "+442071838750",
    "+14165550100",
    "+34912345678",
]
CALLERS = ["US", "CA", "MX", "FR", "GB", "ES", "DE", "JP", "XX"]


@pytest.fixture(autouse=True)
def _forget() -> None:
    places._KNOWN.clear()
    places._FORMATS.clear()


def test_the_callers_table_is_phonenumbers_metadata() -> None:
    for region, (code, nanp, prefix) in phones._CALLERS.items():
        meta = PhoneMetadata.metadata_for_region(region)
        assert phonenumbers.country_code_for_region(region) == code, region
        assert phonenumbers.is_nanpa_country(region) == nanp, region
        assert (meta.preferred_international_prefix or meta.international_prefix) == prefix


@pytest.mark.parametrize("e164", NUMBERS)
def test_a_stored_place_reads_back_as_the_parse(e164: str) -> None:
    parsed = places._parsed_place(e164)
    slow = {r: phones.dial_format(e164, r) for r in CALLERS}
    intl = phones.international(e164)
    places.known(e164, places.place_text(e164))
    assert e164 in places._KNOWN
    assert places.number_place(e164) == parsed
    assert {r: phones.dial_format(e164, r) for r in CALLERS} == slow
    assert phones.international(e164) == intl


def test_a_stored_place_is_what_the_claim_uses(conn: sqlite3.Connection, ledger) -> None:
    """A stored place wins over the parse: the claim's reach says what the row says."""
    from dunning.queue.calendar import account_reach

    cid = ledger.customer("Zed", country="CA", subdivision=None, phones=["+15145550199"])
    fake = places.place_text("+12125550100").replace("NY", "ZZ")
    with write_tx(conn):
        conn.execute("INSERT INTO phone_places VALUES (?, ?)", ("+15145550199", fake))
    where = account_reach(conn, cid, "CA", None)
    assert ("US", "ZZ") in where.jurisdictions


def test_the_migration_fills_the_numbers_already_stored(conn: sqlite3.Connection, ledger) -> None:
    ledger.customer("A", phones=["+15145550123", "+33142685300"])
    ledger.customer("B", phones=["+15145550123"])
    with write_tx(conn):
        conn.execute("DROP TABLE phone_places")
        conn.execute(f"DELETE FROM {MIGRATIONS_TABLE} WHERE name = 'm028_places'")
    migrate(conn)
    got = dict(conn.execute("SELECT e164, place FROM phone_places"))
    assert got == {n: places.place_text(n) for n in ("+15145550123", "+33142685300")}
    assert phone_places.fill_missing(conn) == 0


def test_the_import_fills_each_new_number(conn: sqlite3.Connection, tmp_path: Path) -> None:
    header = ["customer_ref", "name", "country", "subdivision", "currency", "phone"]
    rows = [header, ["C1", "Acme", "CA", "QC", "CAD", "514 555 0123"],
            ["C2", "Cube", "FR", "", "EUR", "01 42 68 53 00"]]  # fmt: skip
    load(conn, write_csv(tmp_path / "c.csv", rows), "customers", FixedClock())
    got = dict(conn.execute("SELECT e164, place FROM phone_places"))
    assert got == {n: places.place_text(n) for n in ("+15145550123", "+33142685300")}


def test_the_demo_build_stores_every_number(tmp_path: Path) -> None:
    from dunning.demo.build import build_demo_report

    path = tmp_path / "d.db"
    build_demo_report(path, customers=40, seed=3, clock=FixedClock(), worker=False)
    conn = sqlite3.connect(path)
    numbers = {r[0] for r in conn.execute("SELECT e164 FROM phones")}
    stored = dict(conn.execute("SELECT e164, place FROM phone_places"))
    assert numbers and set(stored) == numbers
    assert all(stored[n] == places.place_text(n) for n in numbers)


def test_the_claims_reach_and_the_dial_format_import_no_phonenumbers(
    conn: sqlite3.Connection, ledger, db_path: Path
) -> None:
    cid = ledger.customer("A", country="US", subdivision=None, phones=["+15145550123"])
    with write_tx(conn):
        phone_places.fill_missing(conn)
    code = (
        "import sys, sqlite3; from dunning.queue.calendar import account_reach;"
        "from dunning.phones import dial_format;"
        f"c = sqlite3.connect({str(db_path)!r});"
        f"r = account_reach(c, {cid}, 'US', None);"
        "print(r.zones[0], dial_format('+15145550123', 'US'), 'phonenumbers' in sys.modules,"
        " sep='|')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("|") == ["America/Toronto", "1 (514) 555-0123", "False\n"]
