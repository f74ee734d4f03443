"""Bad input: every refused row reported by line, column, value and reason; nothing
written unless --skip-invalid, which writes the rest and a rejects file."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest
from test_ledger_support import INVOICE_HEADER, cli, count, dump, invoices_csv, load, write_csv

GOOD = ["C1", "Acme", "INV-1", "2026-09-01", "2026-10-01", "100.00", "100.00"]


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        (["C1", "Acme", "INV-9", "2026-02-30", "2026-10-01", "1", "1"], "issue_date",
         "no such date"),
        (["C1", "Acme", "INV-9", "2026-09-01", "soon", "1", "1"], "due_date", "not a date"),
        (["C1", "Acme", "INV-9", "2026-09-01", "2026-08-01", "1", "1"], "due_date",
         "due before"),
        (["C1", "Acme", "INV-9", "2026-09-01", "2026-10-01", "12.345", ""], "amount",
         "decimals"),
        (["C1", "Acme", "INV-9", "2026-09-01", "2026-10-01", "ten", ""], "amount",
         "not an amount"),
        (["C1", "Acme", "INV-9", "2026-09-01", "2026-10-01", "10", "11"], "open_amount",
         "exceeds"),
        (["C1", "Acme", "INV-9", "2026-09-01", "2026-10-01", "10", "-1"], "open_amount",
         "sign"),
        (["", "Acme", "INV-9", "2026-09-01", "2026-10-01", "10", ""], "customer_ref",
         "required"),
        (["C1", "Acme", "", "2026-09-01", "2026-10-01", "10", ""], "number", "required"),
        (["C1", "Acme", "INV-9", "2026-09-01", "", "10", ""], "due_date", "required"),
        (["C1", "Acme", "INV-1", "2026-09-01", "2026-10-01", "10", ""], "number",
         "also on line 2"),
    ],
)  # fmt: skip
def test_each_bad_row_is_refused_with_its_line_and_nothing_is_written(
    conn: sqlite3.Connection, tmp_path: Path, row: list[str], column: str, reason: str
) -> None:
    before = dump(conn)
    path = invoices_csv(tmp_path / "bad.csv", [GOOD, row, GOOD[:2] + ["INV-2"] + GOOD[3:]])
    r = load(conn, path, "invoices", create_customers=True)
    assert r.refused == 1 and not r.written
    where, refusal = r.seen[0]  # type: ignore[attr-defined]
    assert where == f"{path}:3"
    assert refusal.column == column and reason in refusal.reason
    assert dump(conn) == before


def test_an_invoice_of_another_customer_and_a_currency_clash_are_refused(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    load(conn, invoices_csv(tmp_path / "a.csv", [GOOD]), "invoices", create_customers=True)
    rows = [
        INVOICE_HEADER + ["currency"],
        ["C2", "Bolt", "INV-1", "2026-09-01", "2026-10-01", "5", "5", "USD"],
        ["C1", "Acme", "INV-7", "2026-09-01", "2026-10-01", "5", "5", "EUR"],
        ["C3", "Cube", "INV-8", "2026-09-01", "2026-10-01", "5", "5", "EUR"],
        ["C3", "Cube", "INV-9", "2026-09-01", "2026-10-01", "5", "5", "GBP"],
        ["C3", "Cube", "INV-10", "2026-09-01", "2026-10-01", "5", "5", "XXY"],
    ]
    r = load(conn, write_csv(tmp_path / "b.csv", rows), "invoices", create_customers=True)
    reasons = {ref.line: ref.reason for _, ref in r.seen}  # type: ignore[attr-defined]
    assert "belongs to customer C1" in reasons[2]
    assert "account is in USD" in reasons[3]
    assert "is in EUR (line 4)" in reasons[5]
    assert "ISO 4217" in reasons[6]
    assert r.refused == 4 and not r.written


def test_skip_invalid_writes_valid_rows_and_a_rejects_file(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    bad = ["C1", "Acme", "INV-9", "2026-13-01", "2026-10-01", "1", "1"]
    path = invoices_csv(tmp_path / "in.csv", [GOOD, bad, ["C2", "Bolt", "INV-3", "2026-09-01",
                                                         "2026-10-01", "7", "7"]])  # fmt: skip
    r = load(conn, path, "invoices", create_customers=True, skip_invalid=True)
    assert (r.created, r.refused, r.written) == (2, 1, True)
    assert r.rejects == tmp_path / "in.rejects.csv"
    with r.rejects.open(newline="") as fh:
        rejects = list(csv.reader(fh))
    assert rejects[0] == ["_line", "_reason", *INVOICE_HEADER]
    assert rejects[1][:3] == ["3", "issue_date: no such date", "C1"]
    assert len(rejects) == 2


def test_snapshot_with_refused_rows_keeps_their_invoices_open(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    two = [GOOD, ["C1", "Acme", "INV-2", "2026-09-01", "2026-10-01", "5", "5"]]
    load(conn, invoices_csv(tmp_path / "a.csv", two), "invoices", create_customers=True)
    newer = [GOOD, ["C1", "Acme", "INV-2", "2026-09-01", "2026-10-01", "five", "5"]]
    r = load(conn, invoices_csv(tmp_path / "b.csv", newer), "invoices", snapshot=True,
             skip_invalid=True)  # fmt: skip
    assert (r.refused, r.closed) == (1, 0)
    assert count(conn, "SELECT COUNT(*) FROM invoices WHERE status = 'open'") == 2


def test_blank_trailing_rows_and_title_rows_are_ignored(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "Receivables extract 2026-11-23\n\n" + ",".join(INVOICE_HEADER) + "\n"
        + ",".join(GOOD) + "\n,,,,,,\n  , ,,,,,\n\n\n",
        encoding="utf-8",
    )  # fmt: skip
    r = load(conn, path, "invoices", create_customers=True)
    assert (r.created, r.refused, r.header_line) == (1, 0, 3)


def test_cli_reports_file_line_column_value_and_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "d.db"
    bad = ["C1", "Acme", "INV-9", "2026-09-01", "2026-10-01", "12,34,5", ""]
    path = invoices_csv(tmp_path / "bad.csv", [GOOD, bad])
    assert cli(db, "import", "invoices", str(path), "--create-customers") == 1
    err = capsys.readouterr().err
    assert f"{path}:3: refused: column 'amount', value '12,34,5': " in err
    assert "nothing was written" in err and "Traceback" not in err
    assert cli(db, "import", "invoices", str(tmp_path / "missing.csv")) == 2
    assert "no such file" in capsys.readouterr().err
    wrong = write_csv(tmp_path / "w.csv", [["a", "b"], ["1", "2"]])
    assert cli(db, "import", "invoices", str(wrong)) == 2
    err = capsys.readouterr().err
    assert "w.csv:1: no column for customer_ref" in err and "--map" in err
    rows = [["Cust", "Doc", "Dt", "Due", "Amt"], ["C5", "D1", "2026-01-05", "2026-02-04", "5"]]
    mapped = write_csv(tmp_path / "m.csv", rows)
    maps = ["Cust=customer_ref", "Doc=number", "Dt=issue_date", "Due=due_date", "Amt=amount"]
    args = [a for m in maps for a in ("--map", m)]
    assert cli(db, "import", "invoices", str(mapped), "--create-customers", *args) == 0
    assert "1 created" in capsys.readouterr().out


def test_an_undecodable_file_names_the_encoding(tmp_path: Path, conn: sqlite3.Connection) -> None:
    path = invoices_csv(tmp_path / "x.csv", [GOOD])
    from dunning.db.ledger import LedgerImportError

    with pytest.raises(LedgerImportError, match="unknown encoding"):
        load(conn, path, "invoices", encoding="klingon")


def test_letters_around_amounts_are_read_or_refused_never_dropped(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    rows = [
        GOOD[:5] + ["1,000.00 CR", ""],
        ["C1", "Acme", "X-2", "2026-09-01", "2026-10-01", "500.00 GBP", ""],
        ["C1", "Acme", "X-3", "2026-09-01", "2026-10-01", "EUR 300", ""],
        ["C1", "Acme", "X-4", "2026-09-01", "2026-10-01", "€300", ""],
        ["C1", "Acme", "X-5", "2026-09-01", "2026-10-01", "12.50DR", ""],
    ]
    r = load(conn, invoices_csv(tmp_path / "cr.csv", rows), "invoices", create_customers=True)
    reasons = {x.line: x.reason for _, x in r.seen}  # type: ignore[attr-defined]
    assert reasons == {
        3: "the amount says GBP, the row's currency is USD",
        4: "the amount says EUR, the row's currency is USD",
        5: "'€' is EUR, the row's currency is USD",
    }
    assert not r.written
    ok = load(conn, invoices_csv(tmp_path / "ok.csv", [rows[0], rows[4]]), "invoices",
              create_customers=True)  # fmt: skip
    assert ok.written
    assert dict(conn.execute("SELECT number, amount_minor FROM invoices")) == {
        "INV-1": -100000, "X-5": 1250,
    }  # fmt: skip


def test_more_fields_than_the_header_are_refused_trailing_blanks_tolerated(
    conn: sqlite3.Connection, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "shift.csv"
    path.write_text(
        "customer_ref,number,issue_date,due_date,amount\n"
        "C1,W-1,2026-10-01,2026-10-31,5.00,,\n"  # Excel's trailing empty cells
        "C1,W-3,2026-10-01,2026-10-31,1,234.00\n",
        encoding="utf-8",
    )
    before = dump(conn)
    r = load(conn, path, "invoices", create_customers=True)
    assert (r.refused, r.written) == (1, False)
    where, refusal = r.seen[0]  # type: ignore[attr-defined]
    assert where == f"{path}:3"
    assert refusal.reason.startswith("6 fields, the header has 5")
    assert refusal.value == "C1,W-3,2026-10-01,2026-10-31,1,234.00"
    assert dump(conn) == before
    customers = tmp_path / "shift3.csv"
    customers.write_text(
        "customer_ref;name;credit_limit;phone\nC1;Acme;1;000,00;212 555 0123\n", encoding="utf-8"
    )
    db = tmp_path / "cli.db"
    assert cli(db, "import", "customers", str(customers)) == 1
    err = capsys.readouterr().err
    assert f"{customers}:2: refused:" in err and "5 fields, the header has 4" in err


def test_rows_refused_for_width_go_to_the_rejects_file(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    rows = [INVOICE_HEADER, ["C1", "Acme", "I-1", "2026-10-01", "2026-10-31", "5", "5"],
            ["C1", "Acme", "I-2", "2026-10-01", "2026-10-31", "1", "234.00", "234.00"]]  # fmt: skip
    r = load(conn, write_csv(tmp_path / "w.csv", rows), "invoices", create_customers=True,
             skip_invalid=True)  # fmt: skip
    assert (r.created, r.refused) == (1, 1)
    assert r.rejects is not None and "8 fields, the header has 7" in r.rejects.read_text()
