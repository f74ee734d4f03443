"""``dunning export audit``: audit_log rows and the person-made changes of the history
tables, in one time-ordered listing (CSV, XLSX, JSON); for admins only; recorded."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from pathlib import Path

import pytest
from conftest import Ledger
from openpyxl import load_workbook

from dunning.cli import main
from dunning.clock import FixedClock
from dunning.db.connection import write_tx
from dunning.queue.audit import record


@pytest.fixture
def story(ledger: Ledger, clock: FixedClock) -> dict[str, int]:
    """An import, a reassignment by a lead, a void, and audited commands, out of order."""
    conn = ledger.conn
    alice, lena = ledger.collector("alice"), ledger.collector("lena", role="lead")
    ledger.collector("root_admin", role="admin")
    cid = ledger.customer('=HYPERLINK("http://x")', collector=alice)
    with write_tx(conn):
        x = conn.execute
        x(
            "INSERT INTO import_runs (kind, file, profile, started_at, finished_at, rows, "
            "created) VALUES ('invoices', 'ar.csv', 'generic', '2026-11-20T09:00:00Z', "
            "'2026-11-20T09:00:05Z', 3, 3)"
        )
        x(
            "INSERT INTO assignments (customer_id, collector_id, assigned_at, assigned_by, "
            "reason) VALUES (?, ?, '2026-11-21T14:00:00Z', ?, 'cover'), "
            "(?, ?, '2026-11-19T10:00:00Z', NULL, 'import')",
            (cid, lena, lena, cid, alice),
        )
        aid = x(
            "INSERT INTO activities (customer_id, collector_id, at, outcome, note) "
            "VALUES (?, ?, '2026-11-22T15:00:00Z', 'no_answer', '')",
            (cid, alice),
        ).lastrowid
        x(
            "INSERT INTO voids (activity_id, customer_id, voided_at, voided_by, reason) "
            "VALUES (?, ?, '2026-11-22T16:00:00Z', ?, 'wrong account')",
            (aid, cid, lena),
        )
        record(conn, clock, action="backup", target="/backups/x.db", collector_id=None)
    record(
        conn, clock, action="assign", collector_id=alice, target="C00001", result="refused",
        detail={"why": "needs the lead role"},
    )  # fmt: skip
    return {"alice": alice, "lena": lena, "cid": cid}


def run(db: Path, clock: FixedClock, *argv: str) -> int:
    return main(["--db", str(db), "export", "audit", *argv], clock=clock)


def test_everything_in_one_time_ordered_csv(story, db_path: Path, clock, tmp_path: Path, capsys):
    out = tmp_path / "audit.csv"
    assert run(db_path, clock, "-o", str(out)) == 0
    assert f"written to {out}" in capsys.readouterr().out
    rows = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
    got = [(r["source"], r["action"], r["collector"]) for r in rows]
    # collectors and the customer were made at T0 (the fixture clock): last, with the audit
    assert got[:4] == [
        ("assignments", "assign", ""),  # by the system (an import): no one
        ("import_runs", "import.invoices", ""),
        ("assignments", "assign", "lena"),
        ("voids", "void", "lena"),
    ]
    assert [r["at_utc"] for r in rows] == sorted(r["at_utc"] for r in rows)
    assigned = rows[2]
    assert assigned["target"] == "C00001"
    assert json.loads(assigned["detail"])["to"] == "lena"
    assert assigned["at_local"] == "2026-11-21T14:00:00+00:00"  # TZ=UTC in tests
    refused = [r for r in rows if r["result"] == "refused"]
    assert len(refused) == 1 and refused[0]["collector"] == "alice"
    assert refused[0]["os_user"] and refused[0]["os_uid"] == str(os.getuid())
    assert {("collectors", "collector.created", "lena")} <= {
        (r["source"], r["action"], r["target"]) for r in rows
    }
    # a hostile customer name reaches the CSV only through detail (JSON), never a formula
    assert not [c for r in rows for c in r.values() if c.startswith(("=", "+", "@"))]
    # private file (h4 makes every output 0600; this one at least is never world-readable)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_json_and_xlsx_and_the_date_range(story, db_path: Path, clock, tmp_path, capsys):
    capsys.readouterr()
    assert run(db_path, clock, "--format", "json", "--from", "2026-11-21", "--to",
               "2026-11-22") == 0  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert doc["export"] == "audit" and doc["missing_guards"] == []
    assert [(r["source"], r["action"]) for r in doc["rows"]] == [
        ("assignments", "assign"),
        ("voids", "void"),
    ]
    assert doc["rows"][1]["detail"]["reason"] == "wrong account"
    xlsx = tmp_path / "audit.xlsx"
    assert run(db_path, clock, "-o", str(xlsx)) == 0
    assert stat.S_IMODE(xlsx.stat().st_mode) == 0o600
    assert not list(tmp_path.glob("*.partial"))
    ws = load_workbook(xlsx)["audit"]
    header = [c.value for c in ws[1]]
    assert header[:3] == ["at_utc", "at_local", "source"]
    for row in ws.iter_rows(min_row=2):
        for c in row:
            assert c.data_type != "f"  # never a formula


def test_the_export_is_itself_recorded(story, db_path: Path, clock, capsys):
    assert run(db_path, clock, "--format", "json") == 0
    capsys.readouterr()
    assert run(db_path, clock, "--format", "json") == 0
    doc = json.loads(capsys.readouterr().out)
    mine = [r for r in doc["rows"] if r["action"] == "export.audit"]
    assert len(mine) == 1 and mine[0]["detail"]["format"] == "json"
    assert mine[0]["target"] == "-"


@pytest.mark.parametrize("who", ["alice", "lena"])
def test_only_an_admin_exports_the_audit(story, db_path: Path, clock, capsys, who: str):
    capsys.readouterr()
    assert main(["--db", str(db_path), "--as", who, "export", "audit"], clock=clock) == 1  # refused
    err = capsys.readouterr().err
    assert f"{who} (" in err and "may not export the audit log" in err
    assert len(err.strip().splitlines()) == 1
    assert main(["--db", str(db_path), "--as", "root_admin", "export", "audit", "--format",
                 "json"], clock=clock) == 0  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    refusals = [r for r in doc["rows"] if r["action"] == "export.audit"]
    assert [(r["collector"], r["result"]) for r in refusals] == [(who, "refused")]


def test_a_missing_guard_is_said(story, db_path: Path, clock, capsys, ledger: Ledger):
    with write_tx(ledger.conn):
        ledger.conn.execute("DROP TRIGGER activities_no_update")
    capsys.readouterr()
    assert run(db_path, clock, "--format", "json") == 0
    captured = capsys.readouterr()
    assert "activities_no_update" in captured.err
    assert json.loads(captured.out)["missing_guards"] == ["activities_no_update"]


def test_bad_dates_are_one_line(story, db_path: Path, clock, capsys):
    assert run(db_path, clock, "--from", "2026-11-22", "--to", "2026-11-01") == 2
    err = capsys.readouterr().err
    assert "before" in err and len(err.strip().splitlines()) == 1


def test_csv_reads_back(story, db_path: Path, clock, capsys):
    capsys.readouterr()
    assert run(db_path, clock) == 0  # csv on stdout by default
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][0] == "at_utc" and len(rows) > 5
