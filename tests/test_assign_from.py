"""A lead moves a collector's book: `dunning assign --from USER --to USER [--limit N]`
(issue 8). Set-based chunks, each account's history row with who and when, one audit row
for the command with its counts, rights, a claimed account left with the person on the
call, bad input named, and Ctrl-C leaving whole chunks moved."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dunning.cli import main
from dunning.clock import FixedClock
from dunning.db.connection import connect, write_tx
from dunning.queue.accounts import refresh_accounts
from dunning.queue.claim import claim_account
from dunning.queue.outcomes import OutcomeInput, log_outcome

N = 1_234
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def build_book(conn: sqlite3.Connection, ledger, clock, settings, n: int) -> list[int]:  # noqa: ANN001
    """``n`` customers of alice (every third French, every fifth waiting); bruno and the
    lead lena have none."""
    ledger.collector("alice")
    ledger.collector("bruno", languages="en,fr")  # routing by language: serves both
    ledger.collector("lena", role="lead")
    now = ledger.now
    with write_tx(conn):
        conn.executemany(
            "INSERT INTO customers (external_ref, name, country, currency, language, "
            "created_at, updated_at) VALUES (?, ?, 'US', 'USD', ?, ?, ?)",
            [(f"K{i:06d}", f"Customer {i}", "fr" if i % 3 == 0 else "en", now, now)
             for i in range(n)],
        )  # fmt: skip
        ids = [r[0] for r in conn.execute("SELECT id FROM customers ORDER BY id")]
        refresh_accounts(conn, clock, settings, ids)
        conn.execute(
            "UPDATE queue SET collector_id = (SELECT id FROM collectors WHERE username = 'alice')"
        )
        conn.execute(
            "UPDATE queue SET state = CASE WHEN customer_id % 5 = 0 THEN 'waiting' ELSE 'ready' END"
        )
    return ids


@pytest.fixture
def book(conn, ledger, clock, settings) -> list[int]:  # noqa: ANN001
    return build_book(conn, ledger, clock, settings, N)


@pytest.fixture
def run(db_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]) -> Run:
    def go(*argv: str) -> tuple[int, str, str]:
        code = main(["--db", str(db_path), *argv], clock=clock)
        out, err = capsys.readouterr()
        return code, out, err

    return go


def owners(conn: sqlite3.Connection) -> dict[str, int]:
    rows = conn.execute(
        "SELECT k.username, COUNT(*) FROM queue q JOIN collectors k ON k.id = q.collector_id "
        "GROUP BY 1"
    )
    return {r[0]: r[1] for r in rows}


def audit_rows(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT a.*, k.username FROM audit_log a LEFT JOIN collectors k ON k.id = a.collector_id "
        "WHERE action = 'assign' ORDER BY a.id"
    ).fetchall()


def test_a_lead_moves_a_whole_book_with_history_and_one_audit_row(run, conn, book):
    code, out, err = run("assign", "--from", "alice", "--to", "bruno", "--as", "lena",
                         "--reason", "territory")  # fmt: skip
    assert code == 0, err
    assert f"{N:,} account(s) of alice assigned to bruno" in out
    assert owners(conn) == {"bruno": N}
    rows = conn.execute(
        "SELECT COUNT(*), COUNT(DISTINCT customer_id), MIN(k.username), MAX(k.username), "
        "MIN(a.reason), MIN(assigned_at), MAX(assigned_at), MIN(a.collector_id) "
        "FROM assignments a JOIN collectors k ON k.id = a.assigned_by"
    ).fetchone()
    bruno = conn.execute("SELECT id FROM collectors WHERE username = 'bruno'").fetchone()[0]
    assert tuple(rows) == (N, N, "lena", "lena", "territory", "2026-11-23T15:00:00Z",
                           "2026-11-23T15:00:00Z", bruno)  # fmt: skip
    (row,) = audit_rows(conn)
    assert (row["username"], row["target"], row["result"]) == ("lena", "bruno", "done")
    assert json.loads(row["detail"]) == {"from": "alice", "reason": "territory", "moved": N}
    # the move named itself as the lock's holder while it ran, and removed the note
    assert conn.execute("SELECT COUNT(*) FROM meta WHERE key = 'writer'").fetchone()[0] == 0


def test_limit_state_and_language_choose_which_accounts_move(run, conn, book):
    code, out, _err = run("assign", "--from", "alice", "--to", "bruno", "--as", "lena",
                          "--limit", "100")  # fmt: skip
    assert code == 0 and "100 account(s) of alice assigned to bruno" in out
    moved = [r[0] for r in conn.execute("SELECT customer_id FROM assignments ORDER BY id")]
    assert moved == book[:100]  # the lowest ids first
    assert (
        run("assign", "--from", "alice", "--to", "bruno", "--as", "lena", "--limit", "100")[0] == 0
    )
    assert owners(conn) == {"alice": N - 200, "bruno": 200}
    # only alice's ready French customers
    count = (
        "SELECT COUNT(*) FROM queue q JOIN customers c ON c.id = q.customer_id "
        "WHERE q.collector_id = (SELECT id FROM collectors WHERE username = 'alice') "
        "AND q.state = 'ready' AND c.language = 'fr'"
    )
    expected = conn.execute(count).fetchone()[0]
    code, out, _err = run("assign", "--from", "alice", "--to", "bruno", "--as", "lena",
                          "--state", "ready", "--language", "fr")  # fmt: skip
    assert code == 0 and f"{expected:,} account(s) of alice assigned" in out
    assert expected > 0 and conn.execute(count).fetchone()[0] == 0
    assert owners(conn)["alice"] == N - 200 - expected
    details = [json.loads(r["detail"]) for r in audit_rows(conn)]
    assert details[-1] == {"from": "alice", "reason": "", "state": "ready", "language": "fr",
                           "moved": expected}  # fmt: skip
    assert details[0]["limit"] == 100 and details[0]["moved"] == 100


def test_a_collector_may_not_move_a_book(run, conn, book):
    code, _out, err = run("assign", "--from", "alice", "--to", "bruno", "--as", "alice")
    assert code == 1
    assert "alice (collector) may not reassign accounts: that needs the lead or admin" in err
    assert owners(conn) == {"alice": N}
    assert conn.execute("SELECT COUNT(*) FROM assignments").fetchone()[0] == 0
    (row,) = audit_rows(conn)
    assert (row["username"], row["result"]) == ("alice", "refused")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--from", "zed"], "unknown collector 'zed'"),
        (["--from", "alice", "--limit", "ten"], "--limit 'ten' is not a number of accounts"),
        (["--from", "alice", "--limit", "0"], "--limit '0' is not a number of accounts"),
        (["--limit", "5", "K000001"], "--limit goes with --from NAME"),
        (["--from", "alice", "K000001"], "name accounts or --from 'alice', not both"),
        ([], "name the accounts to reassign, or --from NAME"),
        (["--from", "bruno", "--to", "bruno"], "'bruno' already has these accounts"),
    ],
)
def test_bad_input_is_named_and_changes_nothing(run, conn, book, args, needle):
    to = [] if "--to" in args else ["--to", "bruno"]
    code, _out, err = run("assign", *args, *to, "--as", "lena")
    assert code != 0 and needle in err, err
    assert "Traceback" not in err
    assert owners(conn) == {"alice": N}
    assert conn.execute("SELECT COUNT(*) FROM assignments").fetchone()[0] == 0


def test_an_account_on_a_call_moves_but_its_collector_finishes_the_call(
    run, conn, clock, settings, book
):
    alice = conn.execute("SELECT id FROM collectors WHERE username = 'alice'").fetchone()[0]
    on_call = book[1]
    claim_account(conn, clock, settings, alice, on_call)
    assert run("assign", "--from", "alice", "--to", "bruno", "--as", "lena")[0] == 0
    q = conn.execute(
        "SELECT k.username AS owner, claimed_by FROM queue q JOIN collectors k "
        "ON k.id = q.collector_id WHERE customer_id = ?",
        (on_call,),
    ).fetchone()
    assert (q["owner"], q["claimed_by"]) == ("bruno", alice)  # the claim stays hers
    logged = log_outcome(conn, clock, settings, collector_id=alice, customer_id=on_call,
                         inp=OutcomeInput(outcome="no_answer"))  # fmt: skip
    assert logged.customer_id == on_call
    assert (
        conn.execute("SELECT claimed_by FROM queue WHERE customer_id = ?", (on_call,)).fetchone()[0]
        is None
    )


def test_an_inactive_collectors_book_can_be_moved(run, conn, book):
    conn.execute("UPDATE collectors SET active = 0 WHERE username = 'alice'")
    code, out, err = run("assign", "--from", "alice", "--to", "bruno", "--as", "lena")
    assert code == 0, err
    assert owners(conn) == {"bruno": N}


# -- interrupted: whole chunks moved, said and audited --------------------------------

BIG = 30_000


def test_ctrl_c_leaves_whole_chunks_moved_and_says_how_many(tmp_path, clock, settings):
    from conftest import Ledger

    from dunning.db.schema import migrate

    path = tmp_path / "book.db"
    conn = connect(path)
    migrate(conn)
    build_book(conn, Ledger(conn, clock, settings), clock, settings, BIG)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUNNING_")}
    argv = [sys.executable, "-m", "dunning", "--db", str(path), "assign", "--from", "alice",
            "--to", "bruno", "--as", "lena", "--limit", "25000"]  # fmt: skip
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while conn.execute("SELECT COUNT(*) FROM assignments").fetchone()[0] < 1000:
            assert p.poll() is None and time.monotonic() < deadline
            time.sleep(0.005)
        p.send_signal(signal.SIGINT)
        _out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    moved = conn.execute("SELECT COUNT(*) FROM assignments").fetchone()[0]
    assert p.returncode == 130, err
    assert 1000 <= moved < 25_000
    # whole chunks: every history row has its new owner, no owner changed without one
    assert owners(conn) == {"alice": BIG - moved, "bruno": moved}
    assert (
        f"{moved:,} of 25,000 accounts moved to bruno before the interruption; run it again "
        f"with --limit {25_000 - moved} to move the rest"
    ) in err
    assert "Traceback" not in err
    (row,) = audit_rows(conn)
    assert (row["target"], row["result"]) == ("bruno", "interrupted")
    assert json.loads(row["detail"]) == {"moved": moved, "of": 25_000}
    assert conn.execute("SELECT COUNT(*) FROM meta WHERE key = 'writer'").fetchone()[0] == 0
    conn.close()
