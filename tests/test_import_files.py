"""Files as they really arrive: stray quotes, shifted cells, UTF-16, workbooks and binaries
renamed .csv, CR line endings, mixed encodings, data on another sheet. Each bad file is
one clear line naming file:line, exit 2, never a traceback, and nothing is written."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from openpyxl import Workbook
from test_ledger_support import INVOICE_HEADER, cli, count, load

from dunning.db.connection import connect

HEADER = "customer_ref,number,issue_date,due_date,amount,reference"


def _lines(n: int) -> list[str]:
    return [f"C1,S-{i:04d},2026-10-01,2026-10-31,10.00,ok" for i in range(n)]


def _write(path: Path, lines: list[str], newline: str = "\n") -> Path:
    path.write_text(newline.join([HEADER, *lines]) + newline, encoding="utf-8")
    return path


def _open_count(db: Path) -> object:
    conn = connect(db)
    try:
        return count(conn, "SELECT COUNT(*) FROM invoices WHERE status = 'open'")
    finally:
        conn.close()


def test_an_unclosed_quote_is_refused_and_snapshot_closes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "d.db"
    full = _write(tmp_path / "full.csv", _lines(50))
    assert cli(db, "import", "invoices", str(full), "--create-customers", "--snapshot") == 0
    lines = _lines(50)
    lines[4] = lines[4].replace(",ok", ',"stray')  # file line 6: swallows the rest
    bad = _write(tmp_path / "bad.csv", lines)
    capsys.readouterr()
    assert cli(db, "import", "invoices", str(bad), "--snapshot") == 2
    err = capsys.readouterr().err
    assert f"{bad}:6: unterminated quoted field" in err and "never closed" in err
    assert "Traceback" not in err
    assert _open_count(db) == 50  # nothing closed, nothing written


def test_a_quote_closed_lines_later_or_followed_by_text_is_refused(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    from dunning.db.ledger import LedgerImportError

    lines = _lines(5)
    lines[1] = lines[1].replace(",ok", ',"stray')
    lines[3] = lines[3].replace(",ok", ',"ok"')
    with pytest.raises(LedgerImportError, match=r"runs\.csv:3: unterminated .* line 5"):
        load(conn, _write(tmp_path / "runs.csv", lines), "invoices", create_customers=True)
    lines = _lines(5)
    lines[2] = lines[2].replace(",ok", ',"12" pipe')
    with pytest.raises(LedgerImportError, match=r"text\.csv:4: text after the closing quote"):
        load(conn, _write(tmp_path / "text.csv", lines), "invoices", create_customers=True)
    lines = _lines(3)
    lines[1] = lines[1].replace(",ok", ',"two\nlines"')  # a real multi-line cell is fine
    r = load(conn, _write(tmp_path / "ok.csv", lines), "invoices", create_customers=True)
    assert (r.created, r.refused) == (3, 0)


def _invoice_text() -> str:
    rows = [INVOICE_HEADER, ["C1", "Åsa Ünal AB", "U-1", "2026-10-01", "2026-10-31", "12.50",
            "12.50"]]  # fmt: skip
    return "".join("\t".join(r) + "\r\n" for r in rows)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("excel_unicode.txt", b"\xff\xfe" + _invoice_text().encode("utf-16-le")),  # BOM
        ("sap_utf16.txt", _invoice_text().encode("utf-16-le")),  # SAP GUI: no BOM
        ("be.txt", b"\xfe\xff" + _invoice_text().encode("utf-16-be")),
    ],
    ids=["bom", "le-without-bom", "be"],
)
def test_utf16_files_are_read(
    conn: sqlite3.Connection, tmp_path: Path, name: str, data: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    r = load(conn, path, "invoices", create_customers=True)
    assert (r.created, r.refused, r.delimiter) == (1, 0, "\t")
    assert r.encoding.startswith("utf-16")
    assert count(conn, "SELECT name FROM customers") == "Åsa Ünal AB"


def test_workbooks_archives_and_binaries_renamed_csv_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wb = Workbook()
    wb.active.append(["customer_ref", "number"])
    wb.save(tmp_path / "book.xlsx")
    (tmp_path / "book.csv").write_bytes((tmp_path / "book.xlsx").read_bytes())
    (tmp_path / "old.csv").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    (tmp_path / "prog.csv").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8)
    db = tmp_path / "d.db"
    for name, message in [
        ("book.csv", "this is an XLSX workbook (rename it .xlsx)"),
        ("old.csv", "this is an old Excel .xls workbook"),
        ("prog.csv", "a binary file, not CSV text"),
    ]:
        assert cli(db, "import", "invoices", str(tmp_path / name)) == 2
        err = capsys.readouterr().err
        assert f"{tmp_path / name}: {message}" in err and "new-line character" not in err


def test_cr_only_line_endings_are_read(conn: sqlite3.Connection, tmp_path: Path) -> None:
    path = tmp_path / "oldmac.csv"
    path.write_bytes((HEADER + "\r\n" + "\r".join(_lines(3)) + "\r").encode())
    r = load(conn, path, "invoices", create_customers=True)
    assert (r.created, r.refused) == (3, 0)


def test_a_utf8_file_with_one_cp1252_line_is_refused_naming_the_line(
    conn: sqlite3.Connection, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        "customer_ref,name\nM1,Société Générale\nM2,Müller\n".encode()
        + "M3,Café Noir\n".encode("cp1252")
    )
    db = tmp_path / "d.db"
    assert cli(db, "import", "customers", str(path)) == 2
    err = capsys.readouterr().err
    assert f"{path}:4: byte 0xE9 is not UTF-8" in err and "--encoding" in err
    assert "Traceback" not in err
    assert cli(db, "import", "customers", str(path), "--encoding", "cp1252") == 0  # as told
    whole = tmp_path / "cp1252.csv"  # every accented byte cp1252: still read as cp1252
    whole.write_bytes("customer_ref,name\nM1,Société Générale\nM3,Café Noir\n".encode("cp1252"))
    r = load(conn, whole, "customers")
    assert (r.created, r.encoding) == (2, "cp1252")
    assert count(conn, "SELECT name FROM customers WHERE external_ref = 'M1'") == "Société Générale"


def test_data_on_another_sheet_is_pointed_at(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wb = Workbook()
    wb.active.title = "Cover"
    data = wb.create_sheet("Open items")
    data.append(INVOICE_HEADER)
    data.append(["C1", "Acme", "X-1", "2026-10-01", "2026-10-31", 5, 5])
    wb.create_sheet("Notes")
    path = tmp_path / "book.xlsx"
    wb.save(path)
    db = tmp_path / "d.db"
    assert cli(db, "import", "invoices", str(path), "--create-customers") == 2
    err = capsys.readouterr().err
    assert "sheet 'Cover' is empty; data is on 'Open items': say --sheet 'Open items'" in err
    assert cli(db, "import", "invoices", str(path), "--create-customers", "--sheet",
               "Open items") == 0  # fmt: skip
