"""Options checked before any file is read, what the result says about the file's
columns and date orders, and a Ctrl-C around the commit that never lies."""

from __future__ import annotations

import os
import signal
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_ledger_support import INVOICE_HEADER, cli, count, invoices_csv, load, write_csv

from dunning.db.connection import connect
from dunning.db.ledger import ImportOptions, LedgerImportError, importer, validate_options

GOOD = ["C1", "Acme", "INV-1", "2026-09-01", "2026-10-01", "1,234", "1,234"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"locale": "xx_YY"}, "--locale 'xx_YY': not a locale babel knows"),
        ({"country": "Narnia"}, "--country 'Narnia': not an ISO 3166 alpha-2"),
        ({"country": "EU"}, "--country 'EU': not an ISO 3166 alpha-2"),
        ({"currency": "ZZZ"}, "--currency 'ZZZ': not an ISO 4217"),
        ({"dates": "dym"}, "--dates 'dym'"),
        ({"encoding": "klingon"}, "--encoding 'klingon': unknown encoding"),
        ({"profile": "sage"}, "unknown profile 'sage'"),
        ({"kind": "customers", "snapshot": True}, "--snapshot applies to invoices"),
        ({"kind": "payments", "snapshot": True}, "means nothing for payments"),
        ({"kind": "contacts", "snapshot": True}, "means nothing for contacts"),
    ],
)
def test_validate_options_names_the_option_and_the_value(
    changes: dict[str, object], message: str
) -> None:
    options = ImportOptions(**{"kind": "invoices", **changes})  # type: ignore[arg-type]
    with pytest.raises(LedgerImportError, match=message.replace("(", r"\(")):
        validate_options(options)


def test_validate_options_normalizes() -> None:
    got = validate_options(ImportOptions(kind="invoices", locale="fr-FR", country="ca",
                                         currency="cad"))  # fmt: skip
    assert (got.locale, got.country, got.currency) == ("fr_FR", "CA", "CAD")


def test_cli_bad_locale_country_snapshot_are_one_line_exit_2_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "d.db"
    path = invoices_csv(tmp_path / "amb.csv", [GOOD])  # 1,234: ambiguous, the locale decides
    for extra, message in [
        (["--locale", "xx_YY"], "--locale 'xx_YY'"),
        (["--country", "Narnia"], "--country 'Narnia'"),
    ]:
        assert cli(db, "import", "invoices", str(path), "--create-customers", *extra) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and "UnknownLocaleError" not in err
    customers = write_csv(tmp_path / "c.csv", [["customer_ref", "name"], ["C1", "Acme"]])
    assert cli(db, "import", "customers", str(customers), "--snapshot") == 2
    assert "--snapshot applies to invoices" in capsys.readouterr().err
    assert not db.exists()  # refused before the database was even opened


def test_a_customers_file_with_a_bad_country_is_refused_per_row(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    rows = [["customer_ref", "name", "country"], ["C1", "Acme", "CA"], ["C2", "Bolt", "Narnia"],
            ["C3", "Cube", "EU"]]  # fmt: skip
    r = load(conn, write_csv(tmp_path / "c.csv", rows), "customers")
    assert (r.refused, r.written) == (2, False)
    got = [(w, x.column, x.value) for w, x in r.seen]  # type: ignore[attr-defined]
    assert got == [(f"{tmp_path / 'c.csv'}:3", "country", "NARNIA"),
                   (f"{tmp_path / 'c.csv'}:4", "country", "EU")]  # fmt: skip


def test_misspelt_columns_are_on_the_result_with_what_they_probably_meant(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    rows = [["customer_ref", "number", "issue_date", "due_date", "amount", "open_amout", "Memo"],
            ["C1", "TY-1", "2026-10-01", "2026-10-31", "100", "40", "x"]]  # fmt: skip
    r = load(conn, write_csv(tmp_path / "typo.csv", rows), "invoices", create_customers=True)
    assert r.ignored_columns == {"open_amout": "open_amount", "Memo": ""}
    assert any("'open_amout' is not read (did you mean open_amount?" in n for n in r.notes)
    assert count(conn, "SELECT open_minor FROM invoices") == 10000  # as documented, but said


def test_a_file_mixing_date_orders_names_the_first_line_of_each(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    rows = [INVOICE_HEADER, ["C1", "A", "D-0", "1/2/2026", "1/3/2026", "1", "1"],
            ["C1", "A", "D-1", "15/10/2026", "14/11/2026", "1", "1"],
            ["C1", "A", "D-2", "10/15/2026", "11/14/2026", "1", "1"]]  # fmt: skip
    with pytest.raises(LedgerImportError) as exc:
        load(conn, write_csv(tmp_path / "mix.csv", rows), "invoices", create_customers=True)
    assert "D/M/YYYY (line 3: 15/10/2026) and M/D/YYYY (line 4: 10/15/2026)" in str(exc.value)


@contextmanager
def _sigint_after(real: object) -> Iterator[object]:
    """write_tx, then a Ctrl-C the moment the COMMIT has returned."""

    @contextmanager
    def tx(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        with real(conn) as c:  # type: ignore[operator]
            yield c
        os.kill(os.getpid(), signal.SIGINT)

    yield tx


def test_ctrl_c_just_after_the_commit_reports_what_was_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "d.db"
    path = invoices_csv(tmp_path / "inv.csv", [GOOD[:5] + ["5", "5"]])
    with _sigint_after(importer.write_tx) as tx:
        monkeypatch.setattr(importer, "write_tx", tx)
        rc = cli(db, "import", "invoices", str(path), "--create-customers")
    out, err = capsys.readouterr()
    conn = connect(db)
    try:
        assert count(conn, "SELECT COUNT(*) FROM invoices") == 1  # it was committed...
    finally:
        conn.close()
    assert "nothing was written" not in err  # ...so the CLI must not say otherwise
    assert rc == 0 and "written" in out and "written in full" in err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_before_the_commit_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "d.db"
    path = invoices_csv(tmp_path / "inv.csv", [GOOD[:5] + ["5", "5"]])

    def merge(*args: object, **kw: object) -> object:
        os.kill(os.getpid(), signal.SIGINT)
        raise AssertionError("not reached")

    monkeypatch.setattr(importer.invoices, "merge", merge)
    assert cli(db, "import", "invoices", str(path), "--create-customers") == 130
    assert "interrupted: nothing was written" in capsys.readouterr().err
    conn = connect(db)
    try:
        assert count(conn, "SELECT COUNT(*) FROM invoices") == 0
    finally:
        conn.close()


def test_cli_dry_run_fails_on_a_refused_row_and_lists_ignored_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "d.db"
    bad = invoices_csv(tmp_path / "bad.csv", [GOOD, ["C1", "Acme", "INV-2", "x", "y", "1", "1"]])
    assert cli(db, "import", "invoices", str(bad), "--create-customers", "--dry-run") == 1
    capsys.readouterr()
    rows = [[*INVOICE_HEADER[:-1], "open_amout"], [*GOOD[:-1], "7"]]
    typo = write_csv(tmp_path / "typo.csv", rows)
    assert cli(db, "import", "invoices", str(typo), "--create-customers") == 0
    out = capsys.readouterr().out
    assert "ignored columns: open_amout (open_amount?)" in out


def test_cli_an_unchanged_re_import_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    db = tmp_path / "d.db"
    path = invoices_csv(
        tmp_path / "inv.csv", [["C1", "Acme", "INV-1", "2026-09-01", "2026-10-01", "10", "10"]]
    )
    assert cli(db, "import", "invoices", str(path), "--create-customers") == 0
    assert capsys.readouterr().out.rstrip().endswith("written")
    assert cli(db, "import", "invoices", str(path), "--create-customers") == 0
    assert "nothing to change" in capsys.readouterr().out
