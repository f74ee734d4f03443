"""Imported text fields lose their control, bidi and invisible characters: the row still
imports, and the import says how many went and where the first was (docs/IMPORT.md)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from test_ledger_support import load, write_csv

from dunning.cli import main
from dunning.clock import FixedClock

PAYLOAD = "\x1b]52;c;aGk=\x07\x1b]0;pwned\x1b\\\x1b[5;5Hfake"
HEADER = ["customer_ref", "name", "country", "subdivision", "currency", "phone", "email",
          "contact_name"]  # fmt: skip
ROWS = [
    HEADER,
    ["C1", "Acme " + PAYLOAD, "US", "NY", "USD", "212 555 0100", "", "Jo\u202eevil"],
    ["C2", "Plain Co", "US", "NY", "USD", "", "", ""],
    ["C3", "Two\r\nlines\tco", "US", "NY", "USD", "", "", "Ann\x9b"],
]


def test_names_import_without_control_characters(
    conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock
) -> None:
    r = load(conn, write_csv(tmp_path / "c.csv", ROWS), "customers", clock)
    assert (r.created, r.refused) == (3, 0)
    names = dict(conn.execute("SELECT external_ref, name FROM customers"))
    assert names == {"C1": "Acme ]52;c;aGk=]0;pwned\\[5;5Hfake", "C2": "Plain Co",
                     "C3": "Two lines co"}  # fmt: skip
    contacts = {r[0] for r in conn.execute("SELECT name FROM contacts")}
    assert {"Joevil", "Ann"} <= contacts
    assert r.cleaned == 7  # 5 in the payload, the bidi override, the C1 CSI
    assert any(
        re.fullmatch(r".*c\.csv:2: removed 7 control character\(s\) from 3 cell\(s\), first in "
                     r"column 'name'; the rows were imported without them", n)
        for n in r.notes
    ), r.notes  # fmt: skip


def test_the_cli_says_so_in_one_safe_line(
    db_path: Path, conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    path = write_csv(tmp_path / "c.csv", ROWS)
    assert main(["--db", str(db_path), "import", "customers", str(path)], clock=clock) == 0
    out, err = capsys.readouterr()
    assert "\x1b" not in out + err and "\x9b" not in out + err
    assert "3 created" in out
    assert f"dunning: {path}:2: removed 7 control character(s)" in err
