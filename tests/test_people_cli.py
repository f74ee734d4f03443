"""People (issue 9, item 8): `dunning collectors set|deactivate|reactivate|show|list`,
each change recorded (who, when, old, new, why) in the same transaction, the rights in
queue/people.py, a deactivated collector refused at login, and who is logged in."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dunning.cli import main
from dunning.clock import FixedClock
from dunning.db.connection import connect
from dunning.queue import presence

if TYPE_CHECKING:
    from conftest import Ledger

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def db(db_path: Path, ledger: Ledger) -> Path:
    alice = ledger.collector("alice")
    ledger.collector("bruno", languages="fr,en", locale="fr_CA")
    ledger.collector("lena", role="lead")
    ledger.collector("ada", role="admin")
    ledger.customer("Jane Doe", collector=alice, phones=["+12125550100"])
    ledger.customer("Big Co", collector=alice, phones=["+12125550101"])
    return db_path


@pytest.fixture
def run(db: Path, clock, capsys):  # noqa: ANN001
    def go(*argv: str) -> tuple[int, str, str]:
        code = main(["--db", str(db), *argv], clock=clock)
        out, err = capsys.readouterr()
        return code, out, err

    return go


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return [tuple(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def test_a_lead_changes_a_collector_and_each_change_is_recorded(run, db):
    code, out, err = run(
        "collectors", "set", "alice", "--display-name", "Alice Martin", "--languages", "EN, es",
        "--locale", "es_MX", "--team", "West", "--reason", "moved to the Spanish desk",
        "--as", "lena",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert "alice: languages en -> en,es" in out and "alice: team - -> West" in out
    assert rows(
        db, "SELECT display_name, languages, locale, team FROM collectors WHERE username='alice'"
    ) == [("Alice Martin", "en,es", "es_MX", "West")]
    hist = rows(
        db,
        "SELECT h.field, h.old, h.new, h.reason, k.username, h.at FROM collector_changes h "
        "JOIN collectors k ON k.id = h.by_id ORDER BY h.id",
    )
    assert [h[0] for h in hist] == ["display_name", "languages", "locale", "team"]
    assert hist[1][1:5] == ("en", "en,es", "moved to the Spanish desk", "lena")
    assert {h[5] for h in hist} == {"2026-11-23T15:00:00Z"}
    audit = rows(db, "SELECT action, target, result, detail FROM audit_log "
                     "WHERE action = 'collectors.set'")  # fmt: skip
    assert audit[0][:3] == ("collectors.set", "alice", "done")
    assert json.loads(audit[0][3])["changed"]["team"] == ["", "West"]
    # the same values again: nothing changes, nothing recorded
    code, out, _ = run("collectors", "set", "alice", "--team", "West", "--as", "lena")
    assert code == 0 and "nothing to change" in out
    assert rows(db, "SELECT COUNT(*) FROM collector_changes") == [(4,)]


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--languages", "english"], "'english'"),
        (["--locale", "xx_QQ_zz"], "'xx_QQ_zz'"),
        (["--tz", "Mars/Base"], "'Mars/Base'"),
        (["--team", "x" * 41], "at most 40"),
        (["--display-name", "  "], "display name may not be empty"),
        ([], "say what to change"),
    ],
)
def test_bad_values_are_named_and_nothing_changes(run, db, argv, named):
    before = rows(db, "SELECT * FROM collectors ORDER BY id")
    code, out, err = run("collectors", "set", "alice", *argv, "--as", "lena")
    assert code == 2 and named in err and "Traceback" not in err
    assert err.count("\n") == 1
    assert rows(db, "SELECT * FROM collectors ORDER BY id") == before
    assert rows(db, "SELECT COUNT(*) FROM collector_changes") == [(0,)]


def test_rights(run, db):
    # a collector: their own time zone only
    assert run("collectors", "set", "alice", "--tz", "UTC", "--as", "alice")[0] == 0
    code, _, err = run("collectors", "set", "alice", "--team", "A", "--as", "alice")
    assert code == 1 and "may not change another collector" in err
    code, _, err = run("collectors", "deactivate", "bruno", "--reason", "x", "--as", "alice")
    assert code == 1 and "that needs the lead or admin role" in err
    # a lead: not an admin, not their own role
    code, _, err = run("collectors", "set", "alice", "--role", "admin", "--as", "lena")
    assert code == 1 and "only an admin may change an admin or make one" in err
    code, _, err = run("collectors", "set", "ada", "--team", "x", "--as", "lena")
    assert code == 1 and "only an admin" in err
    code, _, err = run("collectors", "set", "lena", "--role", "collector", "--as", "lena")
    assert code == 1 and "your own role" in err
    code, _, err = run("collectors", "deactivate", "lena", "--reason", "x", "--as", "lena")
    assert code == 1 and "yourself" in err
    # an admin may
    assert run("collectors", "set", "alice", "--role", "lead", "--as", "ada")[0] == 0
    assert rows(db, "SELECT role FROM collectors WHERE username = 'alice'") == [("lead",)]
    refused = rows(db, "SELECT COUNT(*) FROM audit_log WHERE result = 'refused'")[0][0]
    assert refused == 6
    assert rows(db, "SELECT field, new FROM collector_changes ORDER BY id") == [
        ("tz", "UTC"),
        ("role", "lead"),
    ]


def test_refusals_are_translated(run, db):
    code, _, err = run("collectors", "deactivate", "alice", "--reason", "x", "--as", "bruno")
    assert code == 1 and "bruno" in err and "may not" not in err  # bruno reads French
    code, _, err = run("collectors", "set", "bruno", "--languages", "français", "--as", "bruno")
    assert code == 2 and "'français'" in err and "ISO 639-1" in err


def test_deactivate_lists_the_book_refuses_login_and_reactivates(run, db, clock):
    conn = connect(db)
    alice = conn.execute("SELECT id FROM collectors WHERE username = 'alice'").fetchone()[0]
    conn.execute(
        "UPDATE queue SET claimed_by = ?, claim_expires_at = '2026-11-23T15:10:00Z' "
        "WHERE customer_id = 1",
        (alice,),
    )
    conn.commit()
    conn.close()
    code, _, err = run("collectors", "deactivate", "alice", "--as", "lena")
    assert code == 2 and "--reason" in err  # argparse: required
    code, out, err = run("collectors", "deactivate", "alice", "--reason", "left", "--as", "lena")
    assert (code, err) == (0, "")
    assert "alice deactivated" in out and "1 claim(s) released" in out
    assert "2 account(s) still assigned to alice" in out
    assert "dunning assign --from alice --to NAME" in out
    assert rows(db, "SELECT active FROM collectors WHERE username = 'alice'") == [(0,)]
    assert rows(db, "SELECT COUNT(*) FROM queue WHERE claimed_by IS NOT NULL") == [(0,)]
    assert rows(db, "SELECT customer_id, held_by, reason FROM claim_releases") == [
        (1, alice, "left")
    ]
    # no login, no claim, no log: one translated line saying who and when
    code, _, err = run("next", "--as", "alice")
    assert code == 1 and "alice was deactivated on 2026-11-23 by lena" in err
    code, out, _ = run("collectors", "show", "alice", "--as", "lena")
    assert "deactivated" in out and "dunning assign --from alice" in out
    assert "lena: active 1 -> 0 (left)" in out
    code, out, _ = run("collectors", "list")
    assert "alice" not in out
    code, out, _ = run("collectors", "list", "--all")
    assert "alice" in out and "(deactivated)" in out
    code, _, err = run("collectors", "deactivate", "alice", "--reason", "x", "--as", "lena")
    assert code == 2 and "already deactivated" in err
    # a deactivated collector gets no accounts
    code, _, err = run("assign", "2", "--to", "alice", "--reason", "x", "--as", "lena")
    assert code == 2 and "alice" in err
    assert run("collectors", "reactivate", "alice", "--reason", "back", "--as", "lena")[0] == 0
    assert run("next", "--as", "alice")[0] == 0
    assert rows(db, "SELECT field, old, new, reason FROM collector_changes ORDER BY id") == [
        ("active", "1", "0", "left"),
        ("active", "0", "1", "back"),
    ]


def test_history_tables_are_append_only(run, db):
    run("collectors", "deactivate", "alice", "--reason", "left", "--as", "lena")
    conn = sqlite3.connect(db)
    for sql in (
        "UPDATE collector_changes SET reason = 'x'",
        "DELETE FROM collector_changes",
        "INSERT OR REPLACE INTO collector_changes (id, collector_id, at, os_user, field) "
        "VALUES (1, 1, 'x', 'x', 'x')",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(sql)
    conn.close()


def test_list_shows_who_is_online_in_the_readers_clock(run, db, clock):
    conn = connect(db)
    alice = conn.execute("SELECT id FROM collectors WHERE username = 'alice'").fetchone()[0]
    earlier = FixedClock(clock.now() - timedelta(minutes=30))
    assert presence.beat(conn, earlier, alice, 1) is True
    presence.beat(conn, clock, alice, 1)
    conn.close()
    assert run("collectors", "set", "lena", "--tz", "America/Toronto", "--as", "lena")[0] == 0
    code, out, _ = run("collectors", "list", "--as", "lena")
    line = next(x for x in out.splitlines() if x.startswith("alice"))
    assert "online since 09:30" in line  # 14:30 UTC in Toronto
    assert "online" not in next(x for x in out.splitlines() if x.startswith("bruno"))
    code, out, _ = run("collectors", "show", "alice", "--as", "lena")
    assert "online since 09:30 · on C" in out and "since 09:30" in out
    code, out, _ = run("collectors", "list", "--json")
    assert {c["username"]: c["online_since"] for c in json.loads(out)}["alice"] == (
        "2026-11-23T14:30:00Z"
    )
    # gone quiet for longer than ONLINE_WITHIN: not online any more
    conn = connect(db)
    assert alice in presence.online(conn, clock.now())
    assert presence.online(conn, clock.now() + timedelta(minutes=5)) == {}
    presence.end(conn, clock, alice)  # a screen closed properly: at once
    assert presence.online(conn, clock.now()) == {}
    conn.close()


def test_through_the_real_entry_point(db):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "dunning", "--db", str(db), "collectors", "set", "bruno",
         "--team", "Québec", "--as", "lena"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "bruno: team - -> Québec" in proc.stdout
    proc = subprocess.run(
        [sys.executable, "-m", "dunning", "--db", str(db), "collectors", "deactivate", "bruno",
         "--reason", "parti", "--as", "bruno"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr


def test_add_takes_a_team(run, db):
    code, out, err = run("collectors", "add", "carmen", "--team", "Sud", "--as", "lena")
    assert (code, err) == (0, "")
    assert rows(db, "SELECT team FROM collectors WHERE username = 'carmen'") == [("Sud",)]
    code, _, err = run("collectors", "add", "max", "--team", "y" * 41, "--as", "lena")
    assert code == 2 and "at most 40 characters" in err
    assert rows(db, "SELECT COUNT(*) FROM collectors WHERE username = 'max'") == [(0,)]
