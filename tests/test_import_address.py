"""The customers import's postal address columns (m039): stored as given (accents kept),
an absent column changes nothing, a blank one clears; a control character is removed as
in every text column (the note names file:line and column); an overlong value refuses
the file, naming file:line, column and value, and nothing is written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from test_ledger_support import dump, load, write_csv

from dunning.cli import main
from dunning.clock import FixedClock

HEADER = ["customer_ref", "name", "country", "subdivision", "currency", "Address Line 1",
          "Address Line 2", "City", "ZIP"]  # fmt: skip
ROWS = [
    HEADER,
    ["C1", "Épicerie Côté", "CA", "Québec", "CAD", "1234, rue Saint-Denis", "Bureau 200",
     "Montréal", "H2X 3K2"],
    ["C2", "Ferretería Núñez", "MX", "Jalisco", "MXN", "Av. Juárez 123", "Col. Centro",
     "Guadalajara", "44100"],
    ["C3", "Acme", "US", "NY", "USD", "", "", "", ""],
]  # fmt: skip
SELECT = (
    "SELECT external_ref, subdivision, address_line1, address_line2, city, postal_code "
    "FROM customers ORDER BY external_ref"
)


def _rows(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
    return [tuple(r) for r in conn.execute(SELECT)]


def test_address_columns_are_stored_kept_when_absent_and_cleared_when_blank(
    conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock
) -> None:
    r = load(conn, write_csv(tmp_path / "a.csv", ROWS), "customers", clock)
    assert (r.created, r.refused) == (3, 0)
    assert r.columns["address_line1"] == "Address Line 1" and r.columns["postal_code"] == "ZIP"
    assert _rows(conn) == [
        ("C1", "QC", "1234, rue Saint-Denis", "Bureau 200", "Montréal", "H2X 3K2"),
        ("C2", "JAL", "Av. Juárez 123", "Col. Centro", "Guadalajara", "44100"),
        ("C3", "NY", None, None, None, None),
    ]
    # a file without the address columns changes no address
    partial = [["customer_ref", "name", "risk_score"], ["C1", "Épicerie Côté", "50"]]
    r = load(conn, write_csv(tmp_path / "b.csv", partial), "customers", clock)
    assert (r.updated, r.refused) == (1, 0)
    assert _rows(conn)[0] == ("C1", "QC", "1234, rue Saint-Denis", "Bureau 200", "Montréal",
                              "H2X 3K2")  # fmt: skip
    # a blank cell clears that line (the suite moved), the others change
    moved = [["customer_ref", "name", "address", "address2", "city"],
             ["C1", "Épicerie Côté", "99 boul. René-Lévesque", "", "Québec"]]  # fmt: skip
    clock.advance(hours=1)
    r = load(conn, write_csv(tmp_path / "c.csv", moved), "customers", clock)
    assert (r.updated, r.unchanged) == (1, 0)
    assert _rows(conn)[0] == ("C1", "QC", "99 boul. René-Lévesque", None, "Québec", "H2X 3K2")
    runs = conn.execute("SELECT kind, updated FROM import_runs ORDER BY id").fetchall()
    assert [tuple(x) for x in runs][-1] == ("customers", 1)
    # the same file again: nothing changes
    before = dump(conn)
    r = load(conn, write_csv(tmp_path / "c.csv", moved), "customers", clock)
    assert (r.updated, r.unchanged) == (0, 1)
    assert dump(conn) == before


def test_control_characters_are_removed_and_noted(
    conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock
) -> None:
    rows = [HEADER, ["C1", "Acme", "US", "NY", "USD", "1 Main\x1b[2J St\r\nRear", "",
                     "Albany\u202e", "12207"]]  # fmt: skip
    r = load(conn, write_csv(tmp_path / "x.csv", rows), "customers", clock)
    assert (r.created, r.refused) == (1, 0)
    assert _rows(conn) == [("C1", "NY", "1 Main[2J St Rear", None, "Albany", "12207")]
    assert any(
        "x.csv:2: removed 2 control character(s) from 2 cell(s), first in column "
        "'Address Line 1'" in n
        for n in r.notes
    ), r.notes


@pytest.mark.parametrize(
    ("column", "index", "value"),
    [("Address Line 1", 5, "x" * 101), ("City", 7, "C" * 65), ("ZIP", 8, "1" * 17)],
)
def test_an_overlong_value_is_refused_and_nothing_is_written(
    db_path: Path,
    conn: sqlite3.Connection,
    tmp_path: Path,
    clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
    column: str,
    index: int,
    value: str,
) -> None:
    load(conn, write_csv(tmp_path / "a.csv", ROWS), "customers", clock)
    before = dump(conn)
    addresses = _rows(conn)
    row = list(ROWS[1])
    row[index] = value
    path = write_csv(tmp_path / "long.csv", [HEADER, ROWS[3], row])
    assert main(["--db", str(db_path), "import", "customers", str(path)], clock=clock) != 0
    out, err = capsys.readouterr()
    limit = {"Address Line 1": 100, "City": 64, "ZIP": 16}[column]
    assert (
        f"{path}:3: refused: column {column!r}, value {value!r}: longer than {limit} characters"
        in out + err
    ), out + err
    assert dump(conn) == before and _rows(conn) == addresses
