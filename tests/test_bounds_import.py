"""Issue 7, section 6: bounded work for any import file. Every hostile file is generated
here in tmp_path: a zip bomb, an XLSX whose dimension lies, a 16 MB CSV field, a 15 MB
row, too many columns, duplicate headers, amounts past what SQLite stores."""

from __future__ import annotations

import os
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_files import row, run_limited, shared_cell, text_cell, write_xlsx
from test_ledger_support import cli, dump, load, write_csv

from dunning.db.ledger import LedgerImportError
from dunning.db.ledger.xlsx_guard import (
    MAX_COLUMNS,
    MAX_FIELD,
    MAX_SHARED_COUNT,
    MAX_SHARED_STRINGS,
)

HEADER = row(1, text_cell("A1", "customer_ref"), text_cell("B1", "name"))
ONE_CUSTOMER = HEADER + row(2, text_cell("A2", "C1"), shared_cell("B2", 0))
MIB = b"a" * (1 << 20)


def test_a_shared_string_expanding_past_the_limit_is_refused_before_it_is_read(
    tmp_path: Path,
) -> None:
    # 129 MiB of one letter: a 0.5 MB file (the was 1 GiB and took 2.1 GB RSS)
    mib = (MAX_SHARED_STRINGS >> 20) + 1
    bomb = write_xlsx(tmp_path / "bomb.xlsx", ONE_CUSTOMER, shared=(MIB for _ in range(mib)))
    assert bomb.stat().st_size < 2 << 20
    done = run_limited(
        "import", "customers", str(bomb), "--db", str(tmp_path / "d.db"), memory_mib=1024
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr
    assert f"{bomb}: xl/sharedStrings.xml expands to {mib} MiB" in done.stderr
    assert "at most 128 MiB" in done.stderr and "nothing was read" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_part_compressed_more_than_100_times_is_refused(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    bomb = write_xlsx(tmp_path / "ratio.xlsx", ONE_CUSTOMER, shared=(MIB for _ in range(8)))
    before = dump(conn)
    with pytest.raises(LedgerImportError, match=r"expands [\d,]+ times .* more than 100 times"):
        load(conn, bomb, "customers")
    assert dump(conn) == before


def test_a_workbook_declaring_a1_xfd1048576_is_read_as_the_rows_it_holds(
    tmp_path: Path,
) -> None:
    # 2 KB declaring 16,384 columns x 1,048,576 rows: it burned 98 s of CPU. The rows the
    # file holds are read (the millionth row too); under a 30 s CPU limit, not a timer
    rows = ONE_CUSTOMER + row(1048576, text_cell("A1048576", "C2"), text_cell("B1048576", "Bo"))
    tiny = write_xlsx(tmp_path / "tiny.xlsx", rows, dimension="A1:XFD1048576")
    assert tiny.stat().st_size < 4096
    done = run_limited(
        "import", "customers", str(tiny), "--db", str(tmp_path / "d.db"), cpu_seconds=30
    )
    assert done.returncode == 0, done.stderr
    assert "customers: 2 rows, 2 created" in done.stdout


def test_a_cell_far_to_the_right_is_refused_naming_the_row(tmp_path: Path) -> None:
    rows = ONE_CUSTOMER + row(3, text_cell("A3", "C2"), text_cell("XFD3", "x"))
    wide = write_xlsx(tmp_path / "wide.xlsx", rows, dimension="A1:XFD3")
    done = run_limited("import", "customers", str(wide), "--db", str(tmp_path / "d.db"))
    assert done.returncode == 2
    assert f"{wide}:Sheet1!3: 16,384 columns; an import reads at most 1,024" in done.stderr


def test_an_xlsx_row_over_4_mib_of_text_is_refused(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    # five cells of 1 MiB, each under the field's limit: the row is over the row's
    cells = [text_cell(f"{c}2", os.urandom(MAX_FIELD // 2).hex()) for c in "BCDEF"]
    book = write_xlsx(tmp_path / "fat.xlsx", HEADER + row(2, text_cell("A2", "C1"), *cells))
    with pytest.raises(
        LedgerImportError, match=r"fat.xlsx:Sheet1!2: the row holds 5,242,882 characters"
    ):
        load(conn, book, "customers")


def test_a_sheet_going_past_excels_last_row_is_refused(tmp_path: Path) -> None:
    rows = ONE_CUSTOMER + row(1048577, text_cell("A1048577", "C2"))
    long = write_xlsx(tmp_path / "long.xlsx", rows)
    done = run_limited("import", "customers", str(long), "--db", str(tmp_path / "d.db"))
    assert done.returncode == 2
    assert "the sheet goes on past row 1,048,576" in done.stderr


def test_a_16_mb_csv_field_on_line_2_is_refused_with_its_line(tmp_path: Path) -> None:
    # it raised _csv.Error out of the separator sniffer
    path = tmp_path / "big.csv"
    with path.open("w") as fh:
        fh.write("customer_ref,name\n")
        fh.write('C1,"' + "x" * (16 << 20) + '"\n')
    done = run_limited("import", "customers", str(path), "--db", str(tmp_path / "d.db"))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"{path}:2: a row is longer than 4 MiB (4,194,304 bytes of the file" in done.stderr
    assert len(done.stderr) < 400


def test_a_15_mb_row_is_refused_in_a_short_message(
    conn: sqlite3.Connection, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "row.csv"
    with path.open("w") as fh:
        fh.write("customer_ref,name\nC1,Acme\n")
        fh.write(",".join(["C2", *["y" * 500_000] * 30]) + "\n")  # 15 MB, unquoted
    assert cli(conn_path(conn), "import", "customers", str(path)) == 2
    err = capsys.readouterr().err
    assert f"{path}:3: a row is longer than" in err and len(err) < 400


@pytest.mark.parametrize("before", [0, 300])  # in the top of the file, and far below it
def test_a_field_over_one_mib_is_refused_naming_its_column(
    conn: sqlite3.Connection, tmp_path: Path, before: int
) -> None:
    good = [[f"C{i}", "n" * 1000] for i in range(before)]
    path = write_csv(
        tmp_path / "f.csv", [["customer_ref", "name"], *good, ["C1", "z" * (MAX_FIELD + 1)]]
    )
    with pytest.raises(LedgerImportError) as caught:
        load(conn, path, "customers")
    msg = str(caught.value)
    assert msg.startswith(f"{path}:{before + 2}: column 2 ('name') holds 1,048,577 characters")
    assert "at most 1,048,576" in msg and len(msg) < 400


def test_more_columns_than_the_cap_are_refused(conn: sqlite3.Connection, tmp_path: Path) -> None:
    header = ["customer_ref", "name", *[f"c{i}" for i in range(MAX_COLUMNS)]]
    path = write_csv(tmp_path / "cols.csv", [header, ["C1", "Acme"]])
    with pytest.raises(LedgerImportError, match=r"cols.csv:1: 1,026 columns; .* at most 1,024"):
        load(conn, path, "customers")


def test_trailing_empty_cells_past_the_column_cap_are_ignored(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    path = tmp_path / "commas.csv"
    path.write_text("customer_ref,name" + "," * 3000 + "\nC1,Acme" + "," * 3000 + "\n")
    assert load(conn, path, "customers").created == 1


def test_refused_values_are_quoted_at_most_200_characters(
    conn: sqlite3.Connection, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # under the caps, but refused: the value (and a row wider than its header) is cut
    long = "Q" * 900_000
    path = write_csv(
        tmp_path / "v.csv",
        [["customer_ref", "name", "country"], ["C1", "Acme", long], ["C2", "Bo", "US", long]],
    )
    assert cli(conn_path(conn), "import", "customers", str(path)) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if ": refused:" in line]
    assert len(lines) == 2
    assert all(len(line) < 700 for line in lines), [len(line) for line in lines]
    assert "(900,000 characters)" in lines[0]


def test_duplicate_headers_are_refused_naming_both_columns(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    # it silently read the first "Name"; "name" and "Name " are one name once normalized
    path = write_csv(
        tmp_path / "dup.csv", [["customer_ref", "name", "Name "], ["C1", "Acme", "Other"]]
    )
    before = dump(conn)
    with pytest.raises(
        LedgerImportError,
        match=r"dup.csv:1: columns 2 and 3 are both named 'name' / 'Name' \(read as name\)",
    ):
        load(conn, path, "customers")
    assert dump(conn) == before


def test_a_duplicate_column_no_field_reads_is_left_alone(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    path = write_csv(
        tmp_path / "ok.csv", [["customer_ref", "name", "notes", "Notes"], ["C1", "Acme", "", ""]]
    )
    assert load(conn, path, "customers").created == 1


@pytest.mark.parametrize("amount", ["99999999999999999999999", "1e400", "10000000000000.00"])
def test_an_amount_sqlite_cannot_store_is_a_refused_row(
    conn: sqlite3.Connection, tmp_path: Path, amount: str
) -> None:
    # 10**23 raised OverflowError out of the staging insert
    path = write_csv(
        tmp_path / "inv.csv",
        [
            ["customer_ref", "number", "issue_date", "due_date", "amount"],
            ["C1", "I1", "2026-01-01", "2026-02-01", amount],
        ],
    )
    before = dump(conn)
    r = load(conn, path, "invoices", create_customers=True)
    assert r.refused == 1 and not r.written
    refusal = r.seen[0][1]  # type: ignore[attr-defined]
    assert refusal.column == "amount"
    assert dump(conn) == before


def conn_path(conn: sqlite3.Connection) -> Path:
    return Path(conn.execute("PRAGMA database_list").fetchone()["file"])


def test_a_risk_score_of_1e999999999_is_refused_without_building_the_number(
    tmp_path: Path,
) -> None:
    # int(Decimal("1e999999999")) builds a billion digits: under a CPU limit, not a timer
    path = write_csv(
        tmp_path / "risk.csv",
        [["customer_ref", "name", "risk_score"], ["C1", "Acme", "1e999999999"]],
    )
    done = run_limited("import", "customers", str(path), "--db", str(tmp_path / "d.db"))
    assert done.returncode == 1, done.stderr
    assert "column 'risk_score', value '1e999999999': must be between 0 and 100" in done.stderr


@pytest.mark.parametrize("number", ["1e300", "1E+20"])
def test_an_xlsx_amount_past_the_bound_is_a_refused_row(
    conn: sqlite3.Connection, tmp_path: Path, number: str
) -> None:
    # a float cell of 1e300 raised decimal.InvalidOperation out of the import
    names = ["customer_ref", "number", "issue_date", "due_date", "amount"]
    header = row(1, *(text_cell(f"{c}1", n) for c, n in zip("ABCDE", names, strict=True)))
    values = ["C1", "I1", "2026-01-01", "2026-02-01"]
    cells = [text_cell(f"{c}2", v) for c, v in zip("ABCD", values, strict=True)]
    book = write_xlsx(
        tmp_path / "amount.xlsx", header + row(2, *cells, f'<c r="E2"><v>{number}</v></c>')
    )
    r = load(conn, book, "invoices", create_customers=True)
    assert r.refused == 1 and not r.written
    refusal = r.seen[0][1]  # type: ignore[attr-defined]
    assert refusal.column == "amount" and "too large" in refusal.reason


def test_more_shared_strings_than_the_limit_are_refused_before_openpyxl_loads_them(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    # 2,000,001 tiny strings: 35 MiB of XML that openpyxl would hold as ~350 MB of objects
    def strings() -> Iterator[bytes]:
        yield b"Acme</t></si>"
        for start in range(0, MAX_SHARED_COUNT, 100_000):
            yield b"".join(b"<si><t>%07d</t></si>" % i for i in range(start, start + 100_000))
        yield b"<si><t>last"

    book = write_xlsx(tmp_path / "many.xlsx", ONE_CUSTOMER, shared=strings())
    with pytest.raises(LedgerImportError, match=r"holds more than 2,000,000 distinct texts"):
        load(conn, book, "customers")


def test_a_zip_renamed_csv_is_named_without_inflating_its_parts(tmp_path: Path) -> None:
    # the sniffer read a "mimetype" entry whole to tell an .ods from other archives
    path = tmp_path / "x.csv"
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z,
        z.open("mimetype", "w", force_zip64=True) as fh,
    ):
        for _ in range(1024):
            fh.write(MIB)  # 1 GiB of one letter
    done = run_limited(
        "import", "customers", str(path), "--db", str(tmp_path / "d.db"), memory_mib=512
    )
    assert done.returncode == 2, done.stderr
    assert f"{path}: a zip archive, not CSV text" in done.stderr
