"""What each output format does with awkward names and many currencies: XLSX text is
never a formula and each money cell shows its currency; the aligned table keeps a row on
one line and cuts long names; CSV and JSON keep every character."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from openpyxl import load_workbook

from dunning.cli import main
from dunning.clock import FixedClock
from dunning.db import exports
from dunning.db.reports import AgingReport, AgingRow

if TYPE_CHECKING:
    from conftest import Ledger

AS_OF = date(2026, 11, 23)
FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+1+cmd|' /C calc'!A0", "-2+3",
            "@SUM(A1:A2)", "\t=1+1", "\r=1+1"]  # fmt: skip
LONG = "Compagnie Générale des Établissements Michelin SCA"


def _report(names: list[str], currencies: list[str]) -> AgingReport:
    rows = [AgingRow(f"C{n}", name, "ana", cur, [123456, 0, 0, 0, 0, 0], -100, 0, 1)
            for n, (name, cur) in enumerate(zip(names, currencies, strict=True))]  # fmt: skip
    totals = [AgingRow("TOTAL", "", "", cur, [123456, 0, 0, 0, 0, 0], -100, 0, 1)
              for cur in sorted(set(currencies))]  # fmt: skip
    return AgingReport(AS_OF, "customer", rows, totals)


def test_xlsx_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    names = [*FORMULAS, "bell\x07and\x00nul"]
    cols, rows = exports.aging_table(_report(names, ["USD"] * len(names)))
    exports.write(cols, rows, "xlsx", tmp_path / "a.xlsx", title="Aging", meta={"as_of": AS_OF})
    ws = load_workbook(tmp_path / "a.xlsx")["Aging"]
    cells = [row[1] for row in ws.iter_rows(min_row=2, max_row=len(names) + 1)]
    assert all(c.data_type == "s" for c in cells)
    assert [c.value for c in cells[:4]] == FORMULAS[:4]
    assert cells[-1].value == "bell and nul"  # characters a sheet cannot hold: spaces
    with ZipText(tmp_path / "a.xlsx") as sheet:
        assert "<f>" not in sheet


class ZipText:
    """The first worksheet's XML, to check no cell holds a formula."""

    def __init__(self, path: Path) -> None:
        import zipfile

        self.zf = zipfile.ZipFile(path)

    def __enter__(self) -> str:
        return self.zf.read("xl/worksheets/sheet1.xml").decode()

    def __exit__(self, *exc: object) -> None:
        self.zf.close()


def test_xlsx_money_cells_show_their_currency_and_its_decimals(tmp_path: Path) -> None:
    report = _report(["Acme", "Tanaka", "Kuwait Co"], ["USD", "JPY", "KWD"])
    cols, rows = exports.aging_table(report)
    exports.write(cols, rows, "xlsx", tmp_path / "a.xlsx", title="Aging", meta={})
    ws = load_workbook(tmp_path / "a.xlsx")["Aging"]
    header = [c.value for c in ws[1]]
    at = header.index("current"), header.index("credits"), header.index("currency")
    got = {row[at[2]].value: (row[at[0]].value, row[at[0]].number_format,
                              row[at[1]].number_format)
           for row in ws.iter_rows(min_row=2, max_row=4)}  # fmt: skip
    assert got == {
        "USD": (1234.56, '#,##0.00 "USD"', '#,##0.00 "USD"'),
        "JPY": (123456, '#,##0 "JPY"', '#,##0 "JPY"'),
        "KWD": (123.456, '#,##0.000 "KWD"', '#,##0.000 "KWD"'),
    }


def test_the_table_keeps_each_row_on_one_line_and_cuts_long_names() -> None:
    names = ["two\nlines", "tab\there", "cr\rlf", "bidi\u202eevil", "sep\u2028line", LONG]
    report = _report(names, ["USD"] * len(names))
    cols, rows = exports.aging_table(report)
    text = exports.to_string(cols, rows, "table")
    lines = text.splitlines()
    assert len(lines) == 2 + len(names) + 1  # header, rule, rows, TOTAL
    # shown, not obeyed (dunning/textsafe.py)
    assert "two␊lines" in text and "tab␉here" in text and "cr␍lf" in text
    assert "bidi<U+202E>evil" in text and "sep<U+2028>line" in text
    assert "\u202e" not in text and "\u2028" not in text
    cut = LONG[:31] + "\u2026"
    assert cut in text and LONG not in text
    assert max(len(x) for x in lines) < 150
    # CSV and JSON keep every character
    cols, rows = exports.aging_table(report)
    parsed = list(csv.DictReader(io.StringIO(exports.to_string(cols, rows, "csv"))))
    assert [r["name"] for r in parsed[: len(names)]] == names


def test_a_formula_name_through_the_cli(
    ledger: Ledger, tmp_path: Path, db_path: Path, clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    ledger.customer(FORMULAS[0], invoices=[(10_000, "2026-10-01")])
    ledger.customer("Line\nbreak " + LONG, currency="JPY", invoices=[(5_000, "2026-10-01")])
    base = ["--db", str(db_path), "report", "aging"]
    assert main([*base, "-o", str(tmp_path / "a.xlsx")], clock=clock) == 0
    ws = load_workbook(tmp_path / "a.xlsx").worksheets[0]
    names = {r[1].value: r[1].data_type for r in ws.iter_rows(min_row=2, max_row=3)}
    assert names[FORMULAS[0]] == "s"
    formats = {r[3].value: r[4].number_format for r in ws.iter_rows(min_row=2, max_row=5)}
    assert formats == {"USD": '#,##0.00 "USD"', "JPY": '#,##0 "JPY"'}
    capsys.readouterr()
    assert main([*base, "--format", "json"], clock=clock) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in doc["rows"]} == {FORMULAS[0], "Line\nbreak " + LONG, ""}
    assert main(base, clock=clock) == 0
    table = capsys.readouterr().out
    assert "Line\u240abreak Compagnie Générale d\u2026" in table
    assert len(table.splitlines()) == 2 + 2 + 2 + 1  # title, header, rule, 2 rows, 2 TOTALs
