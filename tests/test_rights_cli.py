"""Roles gate every command, and each run records who ran it (issue 7, sections 3 and 8).

In-process: the test owns the database file, so ``--as NAME`` is honoured and chooses
whose role applies; without ``--as`` the test process is the host operator (an admin).
tests/test_identity_os.py runs the same as real OS users.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from dunning.cli import main
from dunning.clock import FixedClock
from dunning.queue.audit import os_account

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def db(db_path: Path, ledger) -> Path:  # noqa: ANN001
    alice = ledger.collector("alice")
    ledger.collector("bruno")
    ledger.collector("lena", role="lead")
    ledger.collector("boss", role="admin")
    for i in range(1, 4):
        ledger.customer(f"Customer {i}", collector=alice, invoices=[(10_000, "2026-09-01")])
    return db_path


@pytest.fixture
def run(db: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]) -> Run:
    def go(*argv: str, with_db: bool = True) -> tuple[int, str, str]:
        code = main([*(["--db", str(db)] if with_db else []), *argv], clock=clock)
        out, err = capsys.readouterr()
        return code, out, err

    return go


def audit(db: Path, action: str) -> list[dict[str, object]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute(
            "SELECT a.*, c.username FROM audit_log a LEFT JOIN collectors c "
            "ON c.id = a.collector_id WHERE action = ? ORDER BY a.id",
            (action,),
        )
        return [dict(r) for r in rows]
    finally:
        conn.close()


def scalar(db: Path, sql: str, *params: object) -> object:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchone()[0]
    finally:
        conn.close()


def test_who_may_run_which_command(run: Run, db: Path, tmp_path: Path) -> None:
    csv = tmp_path / "c.csv"
    csv.write_text("customer_ref,name\nN1,New One\n")
    commands = {
        "import": ["import", "customers", str(csv), "-q"],
        "report": ["report", "aging", "-o", str(tmp_path / "aging-{who}.csv")],
        "export": ["export", "activities", "-o", str(tmp_path / "act-{who}.csv")],
        "backup": ["backup", str(tmp_path / "backup-{who}.db")],
        "queue.refresh": ["queue", "refresh"],
    }
    may = {
        "alice": set(),
        "lena": {"report", "export"},  # where a lead expects them
        "boss": set(commands),
    }
    for who, allowed in may.items():
        for action, argv in commands.items():
            code, _out, err = run(*(a.format(who=who) for a in argv), "--as", who)
            last = audit(db, action)[-1]
            assert last["username"] == who and last["os_user"] == os_account()[1]
            if action in allowed:
                assert (code, err, last["result"]) == (0, "", "done"), (who, action, err)
            else:
                assert code == 1, (who, action)
                assert err.startswith(f"dunning: {who} ") and "may not" in err, err
                assert len(err.strip().splitlines()) == 1
                assert last["result"] == "refused"
    assert not (tmp_path / "backup-lena.db").exists()


def test_the_host_operator_runs_host_commands_and_is_recorded(run: Run, db: Path) -> None:
    code, out, err = run("queue", "refresh")
    assert (code, err) == (0, "")
    row = audit(db, "queue.refresh")[-1]
    assert (row["os_user"], row["collector_id"], row["result"]) == (os_account()[1], None, "done")
    assert json.loads(str(row["detail"]))["accounts"] == 3
    # but the app, `next` and `assign` need a collector: the operator says whom
    code, _out, err = run("assign", "C1", "--to", "bruno")
    assert code == 1 and "reassign with --as NAME" in err
    code, _out, err = run("next")
    assert code == 1 and "not a collector: say whom to work as with --as NAME" in err


def test_assign_and_collectors_are_recorded(run: Run, db: Path) -> None:
    ref = str(scalar(db, "SELECT external_ref FROM customers ORDER BY id LIMIT 1"))
    assert run("assign", ref, "--to", "bruno", "--as", "lena", "--reason", "cover")[0] == 0
    row = audit(db, "assign")[-1]
    assert (row["username"], row["target"], row["result"]) == ("lena", "bruno", "done")
    assert json.loads(str(row["detail"])) == {"accounts": 1, "moved": 1, "reason": "cover"}
    assert run("collectors", "add", "zoe", "--as", "lena")[0] == 0
    assert run("collectors", "add", "max", "--role", "admin", "--as", "lena")[0] == 1
    assert [(r["target"], r["result"]) for r in audit(db, "collectors.add")] == [
        ("zoe", "done"),
        ("max", "refused"),
    ]
    assert run("collectors", "set", "zoe", "--tz", "UTC", "--as", "zoe")[0] == 0
    assert run("collectors", "set", "alice", "--tz", "UTC", "--as", "zoe")[0] == 1
    assert [(r["username"], r["result"]) for r in audit(db, "collectors.set")] == [
        ("zoe", "done"),
        ("zoe", "refused"),
    ]


def test_an_import_assigning_accounts_records_the_importer(
    run: Run, db: Path, tmp_path: Path
) -> None:
    refs = [
        str(r)
        for (r,) in sqlite3.connect(db).execute("SELECT external_ref FROM customers ORDER BY id")
    ]
    csv = tmp_path / "mine.csv"
    csv.write_text("customer_ref,name,collector\n" + "".join(f"{r},X,bruno\n" for r in refs))
    owners = "SELECT COUNT(*) FROM queue WHERE collector_id = (SELECT id FROM collectors " + (
        "WHERE username = 'bruno')"
    )
    code, _out, err = run("import", "customers", str(csv), "-q", "--as", "bruno")
    assert code == 1 and "bruno (collector) may not import ledgers" in err
    assert scalar(db, owners) == 0
    code, _out, err = run("import", "customers", str(csv), "-q", "--as", "boss")
    assert (code, err) == (0, "")
    assert scalar(db, owners) == 3
    boss = scalar(db, "SELECT id FROM collectors WHERE username = 'boss'")
    assert {
        tuple(r)
        for r in sqlite3.connect(db).execute(
            "SELECT assigned_by, reason FROM assignments WHERE reason LIKE 'import%'"
        )
    } == {(boss, "import by boss")}
    done = audit(db, "import")[-1]
    assert (done["username"], done["result"]) == ("boss", "done")
    assert json.loads(str(done["detail"]))["assigned"] == 3


def test_an_import_whose_rows_are_refused_is_recorded_as_failed(
    run: Run, db: Path, tmp_path: Path
) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("customer_ref,name,collector\nZ1,Zed,nobody\n")
    code, _out, _err = run("import", "customers", str(csv), "-q")
    assert code == 1
    row = audit(db, "import")[-1]
    assert row["result"] == "failed" and json.loads(str(row["detail"]))["refused"] == 1


def test_history_and_search_need_a_known_reader(run: Run, db: Path) -> None:
    assert run("search", "Customer", "--as", "alice")[0] == 0
    assert run("history", "C1", "--as", "ghost")[0] == 1
    row = audit(db, "history")[-1]
    assert row["result"] == "refused" and "unknown collector 'ghost'" in str(row["detail"])


def test_init_creates_adopts_and_refuses(run: Run, tmp_path: Path) -> None:
    new = tmp_path / "team" / "new.db"
    code, out, err = run("--db", str(new), "init", "--admin", "boss", with_db=False)
    assert (code, err) == (0, "")
    assert f"created {new}" in out and "added admin boss" in out
    assert "service account: none" in out
    assert scalar(new, "SELECT role FROM collectors WHERE username = 'boss'") == "admin"
    code, out, _err = run("--db", str(new), "init", "--admin", "boss", with_db=False)
    assert code == 0 and "is up to date" in out and "boss already exists" in out
    me = os_account()[1]
    code, out, _err = run("--db", str(new), "init", "--service-account", me, with_db=False)
    assert code == 0 and f"service account: {me}" in out
    assert scalar(new, "SELECT value FROM meta WHERE key = 'service_account'") == me
    code, _out, err = run(
        "--db", str(new), "init", "--service-account", "no-such-user-zz", with_db=False
    )
    assert code == 2 and "no OS user of that name" in err
    assert [r["result"] for r in audit(new, "init")] == ["done", "done", "done"]
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    code, _out, err = run("--db", str(other), "init", with_db=False)
    assert code == 1 and "not a dunning database" in err


def test_the_environment_names_no_service_account(
    run: Run, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUNNING_SERVICE_ACCOUNT", "someone-else")
    code, out, _err = run("--help", with_db=False)
    assert "DUNNING_SERVICE_ACCOUNT" not in out
    # the owner of the file keeps --as whatever the variable says
    assert run("search", "Customer", "--as", "alice")[0] == 0
