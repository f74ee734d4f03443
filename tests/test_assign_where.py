"""`dunning assign --where FILTER --to NAME --reason TEXT [--dry-run] [--any-language]`:
the lead's bulk move by filter, through the CLI (and once the real entry point): what a
dry run prints and that it changes nothing, each moved account's history row and the
command's audit row, the lead's hold released and a collector's call left alone, the
language check, rights, bad filters and bad usage named."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from test_filters import PEOPLE, book  # noqa: F401 (the fixture)

from dunning.cli import main
from dunning.clock import FixedClock
from dunning.db.connection import write_tx

REPO = Path(__file__).resolve().parents[1]
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def run(db_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]) -> Run:
    def go(*argv: str) -> tuple[int, str, str]:
        code = main(["--db", str(db_path), *argv], clock=clock)
        out, err = capsys.readouterr()
        return code, out, err

    return go


@pytest.fixture
def team(conn: sqlite3.Connection, ledger, book):  # noqa: ANN001, ANN201, F811
    ledger.collector("carmen", languages="es,en")
    return book


def owners(conn: sqlite3.Connection) -> dict[str, str | None]:
    return {
        r[0]: r[1]
        for r in conn.execute(
            "SELECT c.name, k.username FROM customers c JOIN queue q ON q.customer_id = c.id "
            "LEFT JOIN collectors k ON k.id = q.collector_id"
        )
    }


def test_a_dry_run_prints_what_would_move_and_changes_nothing(conn, run, team) -> None:  # noqa: ANN001
    before = owners(conn)
    code, out, err = run("assign", "--where", "bucket>=61", "--to", "carmen", "--dry-run",
                         "--as", "lena")  # fmt: skip
    assert code == 0, err
    assert "dry run: 3 account(s) would move to carmen; nothing changed" in out
    assert "from: alice 1, bruno 1, dave 1" in out
    assert "by bucket: 61-90 1, 91-120 1, 120+ 1" in out
    assert "refused without --any-language: carmen does not speak fr 1" in out
    lines = [line for line in out.splitlines() if line.startswith("  C0")]
    # several currencies: by oldest due (amounts of different currencies are not compared)
    assert [line.split()[0] for line in lines] == ["C00003", "C00005", "C00001"]
    assert "MX$20,000.00" in lines[0]
    assert owners(conn) == before
    assert conn.execute("SELECT COUNT(*) FROM assignments").fetchone()[0] == 0


def test_a_move_records_each_account_and_lets_go_of_the_leads_hold(conn, run, team) -> None:  # noqa: ANN001
    lena, dave = (conn.execute("SELECT id FROM collectors WHERE username = ?", (u,)).fetchone()[0]
                  for u in ("lena", "dave"))  # fmt: skip
    with write_tx(conn):  # lena holds Bolt, dave is on the phone with Cogs
        conn.execute("UPDATE queue SET claimed_by = ?, claim_expires_at = '2026-11-23T15:10:00Z'"
                     " WHERE customer_id = ?", (lena, team["Bolt"]))  # fmt: skip
        conn.execute("UPDATE queue SET claimed_by = ?, claim_expires_at = '2026-11-23T15:10:00Z'"
                     " WHERE customer_id = ?", (dave, team["Cogs"]))  # fmt: skip
    code, out, err = run("assign", "--where", "lang=es", "--to", "carmen", "--reason",
                         "Spanish desk", "--as", "lena")  # fmt: skip
    assert code == 0, err
    assert out.strip() == "2 account(s) assigned to carmen (lang=es)"
    assert owners(conn)["Bolt"] == owners(conn)["Cogs"] == "carmen"
    claims = dict(conn.execute("SELECT customer_id, claimed_by FROM queue").fetchall())
    assert claims[team["Bolt"]] is None  # the lead's hold let go
    assert claims[team["Cogs"]] == dave  # the call goes on; the account is carmen's after
    rows = conn.execute(
        "SELECT a.customer_id, k.username, b.username, a.reason, a.assigned_at FROM assignments a"
        " JOIN collectors k ON k.id = a.collector_id JOIN collectors b ON b.id = a.assigned_by"
    ).fetchall()
    assert sorted(tuple(r) for r in rows) == sorted(
        (team[n], "carmen", "lena", "Spanish desk", "2026-11-23T15:00:00Z")
        for n in ("Bolt", "Cogs")
    )
    audit = conn.execute(
        "SELECT action, result, detail FROM audit_log WHERE action = 'assign'"
    ).fetchall()
    assert [(a[0], a[1]) for a in audit] == [("assign", "done")]
    assert json.loads(audit[0][2]) == {"where": "lang=es", "reason": "Spanish desk",
                                       "matched": 2, "moved": 2}  # fmt: skip
    code, out, _err = run("assign", "--where", "lang=es", "--to", "carmen", "--reason", "again",
                          "--as", "lena")  # fmt: skip
    assert code == 0 and out.startswith("0 account(s)")  # already hers: nothing moves


def test_a_target_who_does_not_speak_the_language_is_refused(conn, run, team) -> None:  # noqa: ANN001
    before = owners(conn)
    code, out, err = run("assign", "--where", "collector=dave,bruno", "--to", "alice",
                         "--reason", "cover", "--as", "lena")  # fmt: skip
    assert code == 1 and out == ""
    assert err.strip() == (
        "dunning: alice does not speak the language of 3 of these accounts: es (2), fr (1); "
        "add lang=... to the filter, or --any-language to move them anyway"
    )
    assert owners(conn) == before
    refused = conn.execute("SELECT result FROM audit_log WHERE action = 'assign'").fetchall()
    assert [r[0] for r in refused] == ["refused"]
    code, out, err = run("assign", "--where", "collector=dave,bruno", "--to", "alice",
                         "--reason", "cover", "--any-language", "--as", "lena")  # fmt: skip
    assert code == 0, err
    assert owners(conn)["Bolt"] == owners(conn)["Ecru"] == "alice"


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (
            ["--where", "lang=es bucket>=45", "--reason", "x"],
            2,
            "dunning: filter term 2 'bucket>=45': '45' is not an aging bucket",
        ),
        (
            ["--where", "lang=es", "--reason", "x", "--as", "alice"],
            1,
            "dunning: alice (collector) may not reassign accounts: that needs the lead or admin",
        ),
        (
            ["--where", "lang=es", "--from", "dave", "--reason", "x"],
            2,
            "dunning: --from does not go with --where",
        ),
        (["--dry-run", "--reason", "x"], 2, "dunning: --dry-run goes with --where FILTER"),
        (["--where", "lang=es"], 2, "dunning: --reason TEXT is needed"),
        (["--where", "  ", "--reason", "x"], 2, "dunning: --where needs a filter"),
        (
            ["--where", "lang=es", "--reason", "x", "C00001"],
            2,
            "dunning: name accounts or --where, not both",
        ),
    ],
)
def test_bad_input_is_named_and_nothing_changes(conn, run, team, argv, code, message) -> None:  # noqa: ANN001
    before = owners(conn)
    if "--as" not in argv:
        argv = [*argv, "--as", "lena"]
    got, out, err = run("assign", "--to", "carmen", *argv)
    assert (got, out) == (code, "")
    assert err.startswith(message) and err.count("\n") == 1
    assert owners(conn) == before


def test_a_lead_moves_only_within_their_team(conn, run, team) -> None:  # noqa: ANN001
    with write_tx(conn):
        conn.execute("UPDATE collectors SET team = 'East' WHERE username IN ('alice', 'lena')")
        conn.execute("UPDATE collectors SET team = 'West' WHERE username IN ('dave', 'carmen')")
    code, out, err = run("assign", "--where", "lang=es", "--to", "carmen", "--reason", "x",
                         "--as", "lena")  # fmt: skip
    assert code == 1 and "carmen is not in your team (East)" in err
    code, out, err = run("assign", "--where", "lang=fr", "--to", "alice", "--dry-run",
                         "--as", "lena")  # fmt: skip
    assert code == 0 and "1 account(s) would move" in out  # Dube (nobody's); bruno's unseen


def test_through_the_real_entry_point(conn, db_path, team) -> None:  # noqa: ANN001
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-m", "dunning", "--db", str(db_path), "assign", "--where",
            "lang=es", "--to", "carmen", "--as", "lena"]  # fmt: skip
    proc = subprocess.run([*argv, "--dry-run"], capture_output=True, text=True, env=env,
                          timeout=60, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "dry run: 2 account(s) would move to carmen" in proc.stdout
    proc = subprocess.run([*argv, "--reason", "desk"], capture_output=True, text=True, env=env,
                          timeout=60, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert owners(conn)["Cogs"] == "carmen"
    proc = subprocess.run([*argv[:7], "lang=es bucket>=9", "--to", "carmen", "--reason", "x",
                           "--as", "lena"], capture_output=True, text=True, env=env,
                          timeout=60, check=False)  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and "'bucket>=9'" in proc.stderr
    assert len(PEOPLE) == 6
