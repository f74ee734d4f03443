"""`dunning void ACTIVITY_ID --reason`: the id from `history`, the rules of queue/void.py,
exit codes 0 done, 1 refused, 2 bad usage."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from dunning.cli import main


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def db(db_path, ledger):
    alice = ledger.collector("alice")
    ledger.collector("bruno", languages="fr,en", locale="fr_CA")
    ledger.collector("lena", role="lead")
    ledger.customer("Big Co", collector=alice, invoices=[(5_000_000, "2026-06-01")])
    return db_path


@pytest.fixture
def run(db, clock, capsys):
    def go(*argv: str) -> tuple[int, str, str]:
        code = main(["--db", str(db), *argv], clock=clock)
        out, err = capsys.readouterr()
        return code, out, err

    return go


def one(db: Path, sql: str, *params: object) -> tuple:
    conn = sqlite3.connect(db)
    try:
        return tuple(conn.execute(sql, params).fetchone())
    finally:
        conn.close()


def test_a_lead_voids_a_promise_the_queue_is_recomputed(run, db, clock):
    assert run("log", "C00001", "no_answer", "--as", "alice")[0] == 0
    clock.advance(minutes=10)
    code, out, err = run(
        "log", "C00001", "promise_to_pay", "--amount", "100", "--date", "+7d", "--as", "alice"
    )
    assert (code, err) == (0, "")
    code, out, _ = run("history", "C00001", "--json")
    entries = json.loads(out)
    promise = entries[0]
    assert promise["code"] == "promise_to_pay" and promise["voided"] is None
    aid = promise["id"]
    code, out, _ = run("history", "C00001")
    assert f"#{aid}" in out

    code, out, err = run("void", str(aid), "--reason", "wrong account", "--as", "lena", "--json")
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert result["cancelled"] == {"promises": [[1, "pending"]]}
    assert (result["next_action"], result["state"]) == ("call", "waiting")  # no_answer's retry
    assert one(db, "SELECT status FROM promises") == ("cancelled",)
    assert one(db, "SELECT next_action FROM queue") == ("call",)

    code, out, _ = run("history", "C00001", "--json")
    voided = json.loads(out)[0]
    assert voided["voided"]["by"] == "lena" and voided["voided"]["reason"] == "wrong account"
    code, out, _ = run("history", "C00001")
    line = next(x for x in out.splitlines() if f"#{aid}" in x)
    assert "~~promise_to_pay~~" in line and "[voided by lena" in line

    code, _, err = run("void", str(aid), "--reason", "again", "--as", "lena")
    assert code == 1 and "already voided" in err


def test_a_collector_cannot_void_anothers_outcome(run, db):
    run("log", "C00001", "refused", "--as", "alice")
    (aid,) = one(db, "SELECT id FROM activities")
    code, out, err = run("void", str(aid), "--reason", "mine", "--as", "bruno")
    # bruno works in French: the refusal is his language's
    assert code == 1 and "seul un chef d’équipe peut l’annuler" in err and err.count("\n") == 1
    assert one(db, "SELECT COUNT(*) FROM voids") == (0,)
    code, _, err = run("void", str(aid), "--reason", "slipped", "--as", "alice")
    assert code == 0 and err == ""
    assert one(db, "SELECT state FROM queue") == ("ready",)


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["void", "abc", "--reason", "x"], 2, "activity id 'abc' is not a number"),
        (["void", "999", "--reason", "x"], 2, "no activity with id 999"),
        (["void", "1", "--reason", "  "], 2, "a reason is required"),
        (["void", "1"], 2, "--reason"),
    ],
)
def test_bad_usage(run, argv, code, message):
    got, _, err = run(*argv, "--as", "lena")
    assert got == code and message in err
