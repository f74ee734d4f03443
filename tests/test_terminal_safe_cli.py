"""Issue 7, part 1 (CLI): nothing from the data reaches the terminal as a control sequence.

A note logged with OSC 52 (clipboard), OSC 0 (window title) and CSI H (cursor move), and a
customer name carrying the same, are shown visibly by `history`, `search`, `next`, error
messages and exports printed as tables; `--json` stays exact and terminal-safe; the note is
saved without them, saying how many were removed."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from dunning.cli import main

# built here, never stored as a file: clipboard write, window title, cursor move
PAYLOAD = "x \x1b]52;c;aGk=\x07 \x1b]0;pwned\x1b\\ \x1b[5;5Hfake"
# C1 controls (a one-character CSI and OSC), bidi override and isolate, zero-width space
C1_BIDI = "\x9b5;5H\x9d0;t\x9c \u202eevil\u202c \u2066iso\u2069 z\u200bw"
DANGER = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u2028-\u202e\u2066-\u2069]"
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def db(db_path, ledger):  # type: ignore[no-untyped-def]
    alice = ledger.collector("alice")
    ledger.collector("lena", role="lead")
    ledger.customer("Hostile " + PAYLOAD, collector=alice)  # C00001
    ledger.customer("Bidi " + C1_BIDI, collector=alice, invoices=[(500, "2026-11-20")])  # C00002
    return db_path


@pytest.fixture
def run(db, clock, capsys):  # type: ignore[no-untyped-def]
    def go(*argv: str) -> tuple[int, str, str]:
        code = main(["--db", str(db), *argv], clock=clock)
        out, err = capsys.readouterr()
        return code, out, err

    return go


def assert_safe(text: str) -> None:
    found = DANGER.search(text)
    assert found is None, f"{found.group()!r} reached the terminal in {text!r}"


def raw_note(db: Path, ref: str, note: str) -> None:
    """A note already in the database with its control characters (an older version, a
    restore, another program): display must be safe whatever input cleaning did."""
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            """INSERT INTO activities (customer_id, collector_id, at, outcome, attempt, contact,
                   rpc, worked, note, next_action, next_action_at)
               SELECT id, 1, '2026-11-22T15:00:00Z', 'note', 0, 0, 0, 0, ?, 'call',
                   '2026-11-23T15:00:00Z' FROM customers WHERE external_ref = ?""",
            (note, ref),
        )
    conn.close()


def test_a_hostile_note_is_saved_clean_and_said(run, db) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run("--as", "alice", "log", "C00001", "note", "--note", PAYLOAD)
    assert code == 0, err
    assert "removed 5 control character(s) from the note" in err
    assert_safe(out + err)
    conn = sqlite3.connect(db)
    stored = conn.execute("SELECT note FROM activities ORDER BY id DESC").fetchone()[0]
    conn.close()
    assert stored == "x ]52;c;aGk= ]0;pwned\\ [5;5Hfake"  # nothing else lost


def test_history_search_next_show_the_payload_never_send_it(run, db) -> None:  # type: ignore[no-untyped-def]
    raw_note(db, "C00001", PAYLOAD)
    raw_note(db, "C00002", C1_BIDI)
    for ref in ("C00001", "C00002"):
        code, out, err = run("history", ref)
        assert code == 0, err
        assert_safe(out + err)
    code, out, _ = run("history", "C00001")
    assert "Hostile x ␛]52;c;aGk=␇ ␛]0;pwned␛\\ ␛[5;5Hfake" in out  # the name, visible
    assert "| x ␛]52;c;aGk=␇" in out  # the note, visible
    code, out, _ = run("history", "C00002")
    assert "\\x9b5;5H\\x9d0;t\\x9c <U+202E>evil<U+202C>" in out
    code, out, err = run("search", "Hostile")
    assert code == 0 and "C00001" in out
    assert_safe(out + err)
    code, out, err = run("search", "Bidi")
    assert code == 0 and "C00002" in out
    assert_safe(out + err)
    code, out, err = run("--as", "alice", "next")
    assert code == 0, err
    assert "C0000" in out
    assert_safe(out + err)
    assert "␛" in out or "\\x9b" in out  # the account's name or note, shown


def test_json_is_exact_and_terminal_safe(run, db) -> None:  # type: ignore[no-untyped-def]
    raw_note(db, "C00002", C1_BIDI + " " + PAYLOAD)
    code, out, err = run("search", "Bidi", "--json")
    assert code == 0, err
    assert_safe(out)
    assert json.loads(out)[0]["name"] == "Bidi " + C1_BIDI  # the data, exactly
    code, out, err = run("history", "C00002", "--json")
    assert code == 0, err
    assert_safe(out)
    assert json.loads(out)[0]["note"] == C1_BIDI + " " + PAYLOAD
    code, out, err = run("--as", "alice", "next", "--json")
    assert code == 0, err
    assert_safe(out)
    assert json.loads(out)["account"]["name"] in ("Hostile " + PAYLOAD, "Bidi " + C1_BIDI)


def test_error_messages_quote_data_safely(run) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run("history", "C9" + PAYLOAD + C1_BIDI)
    assert code != 0
    assert err.startswith("dunning: ") and err.count("\n") == 1
    assert_safe(out + err)
    code, out, err = run("--as", "alice", "log", "C00001", PAYLOAD)  # an unknown outcome
    assert code != 0
    assert_safe(out + err)


def test_reports_and_exports_on_the_terminal(run, db) -> None:  # type: ignore[no-untyped-def]
    raw_note(db, "C00001", PAYLOAD + C1_BIDI)
    code, out, err = run("report", "aging")
    assert code == 0, err
    assert_safe(out + err)
    assert "Hostile x ␛]52" in out
    code, out, err = run("export", "activities", "--format", "jsonl")
    assert code == 0, err
    assert_safe(out)
    assert json.loads(out.splitlines()[-1])["note"] == PAYLOAD + C1_BIDI


def test_void_and_assign_reasons_are_cleaned(run, db) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run("--as", "alice", "log", "C00001", "note", "--note", "fine")
    assert code == 0, err
    code, out, err = run("--as", "alice", "void", "1", "--reason", "typo\x1b[2J")
    assert code == 0, err
    assert "removed 1 control character(s) from the reason" in err
    assert_safe(out + err)
    code, out, err = run("--as", "lena", "assign", "C00002", "--to", "lena", "--reason", "\x9bx")
    assert code == 0, err
    assert "removed 1 control character(s) from the reason" in err
    conn = sqlite3.connect(db)
    reasons = [
        r[0]
        for r in conn.execute("SELECT reason FROM voids UNION ALL SELECT reason FROM assignments")
    ]
    conn.close()
    assert "typo[2J" in reasons and "x" in reasons
