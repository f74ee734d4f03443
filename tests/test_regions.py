"""States and provinces written many ways (issue 6, section 3): stored as ISO 3166-2 codes.

Seen before: 'Quebec', 'Québec', 'CA-QC' and 'PQ' were stored as given, so the Quebec
rules never applied (dealt on Sunday 14:00).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
import sqlite_utils
from test_ledger_support import cli, count, load, write_csv

from dunning.clock import FixedClock
from dunning.db.connection import connect, write_tx
from dunning.db.schema import migrate, migrations
from dunning.demo.data import REGIONS
from dunning.queue.claim import claim_next
from dunning.queue.config import Settings
from dunning.regions import NAMES, fold, normalize_subdivision, subdivision_code

# ISO 3166-2:MX, the 32 federal entities (the holidays package has no Mexican states)
MX_STATES = {
    "AGU", "BCN", "BCS", "CAM", "CHH", "CHP", "CMX", "COA", "COL", "DUR", "GRO", "GUA", "HID",
    "JAL", "MEX", "MIC", "MOR", "NAY", "NLE", "OAX", "PUE", "QUE", "ROO", "SIN", "SLP", "SON",
    "TAB", "TAM", "TLA", "VER", "YUC", "ZAC",
}  # fmt: skip


def test_the_table_is_complete():
    assert set(NAMES["US"]) == set(holidays.US.subdivisions)  # 50 states, DC, 6 territories
    assert set(NAMES["CA"]) == set(holidays.CA.subdivisions)
    assert set(NAMES["MX"]) == MX_STATES


@pytest.mark.parametrize("country", ["US", "CA", "MX"])
def test_every_name_means_one_place(country):
    seen: dict[str, str] = {}
    for code, names in NAMES[country].items():
        for name in (code, *names):
            key = fold(name)
            assert seen.setdefault(key, code) == code, f"{name!r}: {seen[key]} or {code}"


def test_the_package_names_are_known():
    for country in ("US", "CA"):
        for name, code in holidays.country_holidays(country).subdivisions_aliases.items():
            assert subdivision_code(country, name) == code, name


@pytest.mark.parametrize(
    ("country", "value", "code"),
    [
        ("CA", "Quebec", "QC"), ("CA", "Québec", "QC"), ("CA", "quebec", "QC"),
        ("CA", "QUÉBEC", "QC"), ("CA", "CA-QC", "QC"), ("CA", "ca-qc", "QC"),
        ("CA", "PQ", "QC"), ("CA", "P.Q.", "QC"), ("CA", "Que.", "QC"), ("CA", " qc ", "QC"),
        ("CA", "Ontario", "ON"), ("CA", "Ont.", "ON"), ("CA", "Colombie-Britannique", "BC"),
        ("CA", "Île-du-Prince-Édouard", "PE"), ("CA", "Nfld.", "NL"), ("CA", "T.N.-O.", "NT"),
        ("US", "California", "CA"), ("US", "Calif.", "CA"), ("US", "N.Y.", "NY"),
        ("US", "new york", "NY"), ("US", "US-NY", "NY"), ("US", "Nueva York", "NY"),
        ("US", "Caroline du Nord", "NC"), ("US", "Washington, D.C.", "DC"),
        ("US", "Washington", "WA"), ("US", "Puerto Rico", "PR"), ("US", "Hawái", "HI"),
        ("US", "Tejas", "TX"),
        ("MX", "CDMX", "CMX"), ("MX", "DF", "CMX"), ("MX", "D.F.", "CMX"), ("MX", "CMX", "CMX"),
        ("MX", "DIF", "CMX"), ("MX", "MX-CMX", "CMX"), ("MX", "Ciudad de Mexico", "CMX"),
        ("MX", "Edomex", "MEX"), ("MX", "Estado de México", "MEX"), ("MX", "NL", "NLE"),
        ("MX", "Nuevo Leon", "NLE"), ("MX", "Jal.", "JAL"), ("MX", "jalisco", "JAL"),
        ("MX", "Q. Roo", "ROO"), ("MX", "Qro.", "QUE"), ("MX", "Yucatan", "YUC"),
    ],
)  # fmt: skip
def test_names_and_abbreviations(country, value, code):
    assert normalize_subdivision(country, value) == code


@pytest.mark.parametrize(
    ("country", "value"),
    [("US", "Nowhere"), ("US", "QC"), ("CA", "NY"), ("CA", "US-NY"), ("MX", "Texas"),
     ("US", "CA-QC")],
)  # fmt: skip
def test_unknown_subdivisions_are_refused(country, value):
    with pytest.raises(ValueError, match=repr(value)):
        normalize_subdivision(country, value)


def test_other_countries_keep_what_was_given():
    assert normalize_subdivision("FR", " Île-de-France ") == "Île-de-France"
    assert normalize_subdivision("FR", "idf") == "IDF"
    assert normalize_subdivision("FR", "FR-IDF") == "IDF"
    with pytest.raises(ValueError, match="at most 64"):
        normalize_subdivision("FR", "x" * 65)


def test_the_demo_writes_valid_codes():
    for r in REGIONS:
        if r.country in NAMES and r.subdivision is not None:
            assert subdivision_code(r.country, r.subdivision) == r.subdivision, r


# -- import ---------------------------------------------------------------------------------

HEADER = ["customer_ref", "name", "country", "subdivision", "currency", "portfolio", "phone"]
TORONTO = ZoneInfo("America/Toronto")


def test_quebec_written_four_ways_is_stored_qc_and_its_rules_apply(
    conn: sqlite3.Connection, tmp_path: Path, settings: Settings
) -> None:
    rows = [
        HEADER,
        ["C1", "Alice", "CA", "Quebec", "CAD", "consumer", "514 555 0101"],
        ["C2", "Benoît", "CA", "Québec", "CAD", "consumer", "514 555 0102"],
        ["C3", "Chloé", "CA", "CA-QC", "CAD", "consumer", "514 555 0103"],
        ["C4", "Denis", "CA", "PQ", "CAD", "consumer", "514 555 0104"],
        ["C5", "Eve", "US", "N.Y.", "USD", "consumer", "212 555 0105"],
        ["C6", "Félix", "MX", "CDMX", "MXN", "consumer", "55 1234 5678"],
        ["C7", "Gaëlle", "FR", "Île-de-France", "EUR", "consumer", "01 42 68 53 00"],
    ]
    clock = FixedClock(datetime(2026, 11, 22, 19, 0, tzinfo=UTC))  # Sunday 14:00 Montreal
    r = load(conn, write_csv(tmp_path / "c.csv", rows), "customers", clock)
    assert (r.created, r.refused) == (7, 0)
    got = dict(conn.execute("SELECT external_ref, subdivision FROM customers"))
    assert got == {"C1": "QC", "C2": "QC", "C3": "QC", "C4": "QC", "C5": "NY", "C6": "CMX",
                   "C7": "Île-de-France"}  # fmt: skip
    invoices = [["customer_ref", "number", "issue_date", "due_date", "amount"]]
    invoices += [[f"C{k}", f"INV-{k}", "2026-08-01", "2026-09-01", "100.00"] for k in range(1, 5)]
    r = load(conn, write_csv(tmp_path / "i.csv", invoices), "invoices", clock)
    assert r.refused == 0
    with write_tx(conn):
        alice = conn.execute(
            "INSERT INTO collectors (username, display_name, created_at) "
            "VALUES ('alice', 'Alice', '2026-11-01T00:00:00Z')"
        ).lastrowid
        conn.execute("UPDATE queue SET collector_id = ?", (alice,))
    # Quebec: Monday to Saturday only; Sunday 14:00 is callable in Ontario, not here
    assert claim_next(conn, clock, settings, alice) is None
    clock.at = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)  # Monday 14:00
    assert claim_next(conn, clock, settings, alice) is not None
    # re-importing the file the same way changes nothing
    again = load(conn, write_csv(tmp_path / "c.csv", rows), "customers", clock)
    assert (again.updated, again.unchanged) == (0, 7)


def test_an_unknown_us_state_is_refused_with_file_line_column_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "d.db"
    path = write_csv(tmp_path / "bad.csv", [
        HEADER,
        ["C1", "Alice", "US", "NY", "USD", "consumer", "212 555 0101"],
        ["C2", "Bob", "US", "Nowhere", "USD", "consumer", "212 555 0102"],
        ["C3", "Carl", "CA", "Texas", "CAD", "consumer", "514 555 0103"],
    ])  # fmt: skip
    assert cli(db, "import", "customers", str(path)) == 1
    err = capsys.readouterr().err
    assert f"{path}:3: refused: column 'subdivision', value 'Nowhere': " in err
    assert "'Nowhere' is not a state, province or territory of US" in err
    assert f"{path}:4: refused: column 'subdivision', value 'Texas': " in err
    conn = connect(db)
    assert count(conn, "SELECT COUNT(*) FROM customers") == 0  # nothing written
    conn.close()


# -- existing data --------------------------------------------------------------------------


def test_m007_rewrites_recognized_subdivisions_and_leaves_the_rest(tmp_path: Path) -> None:
    conn = connect(tmp_path / "old.db")
    with write_tx(conn):
        migrations.apply(sqlite_utils.Database(conn), stop_before="m007_subdivisions_normalized")
    values = [("CA", "Québec"), ("CA", "PQ"), ("CA", "ON"), ("US", "Calif."), ("US", "Nowhere"),
              ("MX", "DF"), ("FR", "Île-de-France"), ("CA", None)]  # fmt: skip
    with write_tx(conn):
        for k, (country, sub) in enumerate(values):
            conn.execute(
                "INSERT INTO customers (external_ref, name, country, subdivision, currency, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, 'USD', 'x', 'x')",
                (f"C{k}", f"N{k}", country, sub),
            )
    assert "m007_subdivisions_normalized" in migrate(conn)
    got = [r[0] for r in conn.execute("SELECT subdivision FROM customers ORDER BY id")]
    assert got == ["QC", "QC", "ON", "CA", "Nowhere", "CMX", "Île-de-France", None]
    conn.close()
