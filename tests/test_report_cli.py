"""`dunning report`, `export activities` and `backup` on the command line: no database is
ever created, dates are typed as everywhere else, the output format and the -o name agree,
files are written whole or not at all, and bad input is one line and a non-zero exit."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from openpyxl import load_workbook

from dunning.cli import main
from dunning.clock import FixedClock
from dunning.db import exports

if TYPE_CHECKING:
    from conftest import Ledger


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def db(db_path: Path, ledger: Ledger) -> Path:
    alice = ledger.collector("alice")
    cid = ledger.customer("Big Co", collector=alice, invoices=[(5_000_000, "2026-06-01")])
    with ledger.conn:
        ledger.conn.execute(
            "INSERT INTO activities (customer_id, collector_id, at, outcome, attempt, note) "
            "VALUES (?, ?, '2026-11-20T14:00:00Z', 'no_answer', 1, 'first')",
            (cid, alice),
        )
    return db_path


Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(clock: FixedClock, capsys: pytest.CaptureFixture[str]) -> Run:
    def go(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv), clock=clock)
        out, err = capsys.readouterr()
        return code, out, err

    return go


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dunning: "), err
    assert "Traceback" not in err
    return lines[0]


COMMANDS = [
    ["report", "aging"],
    ["report", "metrics", "--from", "2026-10-01", "--to", "2026-10-31"],
    ["export", "activities"],
]


@pytest.mark.parametrize("argv", [*COMMANDS, ["backup", "BACKUP"]])
def test_a_missing_database_is_refused_and_never_created(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    missing = tmp_path / "nowhere.db"
    argv = [str(tmp_path / "b.db") if a == "BACKUP" else a for a in argv]
    code, _, err = run("--db", str(missing), *argv)
    assert code == 1 and f"no database at {missing}" in one_line(err)
    monkeypatch.setenv("DUNNING_DB", str(missing))
    code, _, err = run(*argv)
    assert code == 1 and f"no database at {missing}" in one_line(err)
    assert not missing.exists() and not (tmp_path / "b.db").exists()


@pytest.mark.parametrize(
    ("name", "fmt", "why"),
    [("x.xlsx", "csv", "names xlsx but --format is csv"),
     ("x.csv", "xlsx", "names csv but --format is xlsx"),
     ("x.pdf", None, ".pdf is not a format"), ("x.xls", None, ".xls is not a format"),
     ("x.jsonl", None, ".jsonl is not a format"), ("x", None, "no extension")],
)  # fmt: skip
def test_the_format_and_the_file_name_must_agree(
    run: Run, db: Path, tmp_path: Path, name: str, fmt: str | None, why: str
) -> None:
    out = tmp_path / name
    extra = ["--format", fmt] if fmt else []
    for argv in COMMANDS[:2]:
        code, _, err = run("--db", str(db), *argv, "-o", str(out), *extra)
        assert code == 2 and why in one_line(err) and str(out) in err
        assert not out.exists()


def test_the_format_comes_from_the_extension(run: Run, db: Path, tmp_path: Path) -> None:
    base = ["--db", str(db), "report", "aging"]
    assert run(*base, "-o", str(tmp_path / "a.XLSX"))[0] == 0
    assert (tmp_path / "a.XLSX").read_bytes()[:2] == b"PK"
    assert run(*base, "-o", str(tmp_path / "a.txt"))[0] == 0
    assert (tmp_path / "a.txt").read_text().startswith("Aging as of 2026-11-23\ncustomer")
    assert run(*base, "-o", str(tmp_path / "a.json"))[0] == 0
    assert json.loads((tmp_path / "a.json").read_text())["report"] == "aging"
    assert run(*base, "-o", str(tmp_path / "plain"), "--format", "csv")[0] == 0
    assert (tmp_path / "plain").read_text().startswith("customer,name")
    assert run(*base, "--format", "xlsx")[0] == 2
    code, _, err = run("--db", str(db), "export", "activities", "-o", str(tmp_path / "a.xlsx"))
    assert code == 2 and "name it .csv, .json, .jsonl" in one_line(err)


def test_a_refused_or_failed_export_leaves_an_existing_file_alone(
    run: Run, db: Path, tmp_path: Path
) -> None:
    keep = tmp_path / "keep.xlsx"
    keep.write_bytes(b"finance's spreadsheet")
    code, _, err = run("--db", str(db), "export", "activities", "-o", str(keep))
    assert code == 2 and str(keep) in one_line(err)
    assert keep.read_bytes() == b"finance's spreadsheet"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("keep.xlsx.")]
    # a destination that cannot be written: the error names it, not a .partial
    gone = tmp_path / "no-such-dir" / "act.csv"
    code, _, err = run("--db", str(db), "export", "activities", "-o", str(gone))
    assert code == 2 and f"{gone}: No such file or directory" in one_line(err)
    assert ".partial" not in err


def test_a_write_that_fails_halfway_leaves_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "act.csv"
    dest.write_text("yesterday's export\n")

    def rows() -> Iterator[dict[str, Any]]:
        yield {k: "x" for k in exports.ACTIVITY_COLUMNS}
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError) as caught:
        exports.write_activities(rows(), "csv", dest)
    assert caught.value.filename == str(dest)
    assert dest.read_text() == "yesterday's export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["act.csv"]


def test_activities_as_json_are_one_array(run: Run, db: Path, tmp_path: Path) -> None:
    out = tmp_path / "act.json"
    code, stdout, _ = run("--db", str(db), "export", "activities", "-o", str(out))
    assert code == 0 and "1 activities written" in stdout
    doc = json.loads(out.read_text())
    assert isinstance(doc, list) and doc[0]["note"] == "first"
    code, stdout, _ = run("--db", str(db), "export", "activities", "--format", "json",
                          "--from", "2027-01-01")  # fmt: skip
    assert code == 0 and json.loads(stdout) == []
    code, stdout, _ = run("--db", str(db), "export", "activities", "--format", "jsonl")
    assert [json.loads(x)["note"] for x in stdout.splitlines()] == ["first"]


@pytest.mark.parametrize(
    "argv",
    [["report", "metrics", "--from", "0001-01-01", "--to", "2026-01-01"],
     ["report", "metrics", "--from", "2026-01-01", "--to", "9999-12-31"],
     ["report", "metrics", "--from", "0001-01-01", "--to", "9999-12-31", "--format", "json"],
     ["report", "aging", "--as-of", "0001-01-01"],
     ["report", "aging", "--as-of", "9999-12-31", "--by", "collector"],
     ["export", "activities", "--to", "9999-12-31"],
     ["export", "activities", "--from", "0001-01-01", "--to", "0001-01-01"]],
)  # fmt: skip
def test_extreme_dates_are_handled(run: Run, db: Path, argv: list[str]) -> None:
    code, _, err = run("--db", str(db), *argv)
    assert code == 0 and err == ""


def test_extreme_dates_in_a_spreadsheet(run: Run, db: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.xlsx"
    argv = ["report", "metrics", "--from", "0001-01-01", "--to", "9999-12-31", "-o", str(out)]
    assert run("--db", str(db), *argv)[0] == 0
    about = {r[0].value: r[1].value for r in load_workbook(out)["about"].iter_rows()}
    assert about["from"] == "0001-01-01" and about["to"].year == 9999


def test_dates_are_typed_as_everywhere_else(run: Run, db: Path) -> None:
    base = ["--db", str(db), "report", "aging", "--format", "json"]
    as_of = {a: json.loads(run(*base, "--as-of", a)[1])["as_of"] for a in
             ("today", "tomorrow", "+3d", "+1w", "fri", "2026-11-01")}  # fmt: skip
    assert as_of == {"today": "2026-11-23", "tomorrow": "2026-11-24", "+3d": "2026-11-26",
                     "+1w": "2026-11-30", "fri": "2026-11-27",
                     "2026-11-01": "2026-11-01"}  # fmt: skip
    assert json.loads(run(*base)[1])["as_of"] == "2026-11-23"
    code, out, _ = run("--db", str(db), "report", "metrics", "--from", "2026-11-01",
                       "--to", "today", "--format", "json")  # fmt: skip
    assert code == 0 and json.loads(out)["to"] == "2026-11-23"
    code, out, _ = run("--db", str(db), "export", "activities", "--from", "today")
    assert code == 0 and out.count("\n") == 1  # the header: nothing logged today
    code, _, err = run(*base, "--as-of", "someday")
    assert code == 2 and "--as-of: 'someday' is not a date" in one_line(err)
    code, _, err = run("--db", str(db), "report", "metrics", "--from", "2026-13-01",
                       "--to", "today")  # fmt: skip
    assert code == 2 and "--from: '2026-13-01' is not a date" in one_line(err)


def test_export_refuses_an_empty_period_and_an_unknown_collector(run: Run, db: Path) -> None:
    base = ["--db", str(db), "export", "activities"]
    code, out, err = run(*base, "--from", "2026-11-02", "--to", "2026-11-01")
    assert code == 2 and out == ""
    assert "--to 2026-11-01 is before --from 2026-11-02" in one_line(err)
    code, out, err = run(*base, "--collector", "nobody")
    assert code == 2 and out == "" and "no collector 'nobody'" in one_line(err)
    code, out, _ = run(*base, "--collector", "alice")
    assert code == 0 and "first" in out
    code, _, err = run("--db", str(db), "report", "metrics", "--from", "tomorrow", "--to", "today")
    assert code == 2 and "is before --from" in one_line(err)


def test_nothing_is_created_beside_stdout_output(run: Run, db: Path, tmp_path: Path) -> None:
    before = sorted(os.listdir(tmp_path))
    assert run("--db", str(db), "report", "aging", "--format", "csv")[0] == 0
    assert sorted(os.listdir(tmp_path)) == before
