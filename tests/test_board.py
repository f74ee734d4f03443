"""The team board (issue 9, item 1): queue/board.py and `dunning board`."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from tui_helpers import build_portfolio

from dunning.cli import main
from dunning.clock import FixedClock, to_iso
from dunning.db.connection import connect, write_tx
from dunning.queue import board
from dunning.queue.collectors import get_collector
from dunning.queue.config import Settings
from dunning.queue.identity import Actor
from dunning.queue.rights import RightsError
from dunning.queue.session import WorkSession

UTC_ZONE = ZoneInfo("UTC")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "board.db"
    build_portfolio(path, clock)  # alice: Acme, Bolt, Cogs, Dynamo; bruno: Épicerie; lena lead
    return path


@pytest.fixture
def run(db: Path, clock, capsys):  # noqa: ANN001
    def go(*argv: str) -> tuple[int, str, str]:
        code = main(["--db", str(db), *argv], clock=clock)
        out, err = capsys.readouterr()
        return code, out, err

    return go


def actor(conn: sqlite3.Connection, name: str) -> Actor:
    me = get_collector(conn, name)
    assert me is not None
    return Actor(name, 1000, me)


def by_name(found: board.Board) -> dict[str, board.BoardRow]:
    return {r.username: r for r in found.rows}


def ref(conn: sqlite3.Connection, name: str) -> str:
    return conn.execute("SELECT external_ref FROM customers WHERE name = ?", (name,)).fetchone()[0]


def test_each_collector_their_day_and_book(db, clock, run):
    conn = connect(db)
    acme, bolt = ref(conn, "Acme Anvils Inc."), ref(conn, "Bolt Brothers")
    before = by_name(board.read_board(conn, clock, UTC_ZONE, actor(conn, "lena")))
    assert set(before) == {"alice", "bruno"}  # lena holds no accounts: not a row
    assert (before["alice"].ready, before["alice"].attempts) == (4, 0)
    # alice: a promise on Acme, no answer on Bolt; a payment loaded today on Cogs
    code, _, err = run("log", acme, "promise_to_pay", "--as", "alice", "--amount", "1000",
                       "--date", "+7d", "--note", "pays friday")  # fmt: skip
    assert code == 0, err
    code, _, err = run("log", bolt, "no_answer", "--as", "alice", "--phone", "+15145550123")
    assert code == 0, err
    cogs = conn.execute("SELECT id FROM customers WHERE name = 'Cogs Co'").fetchone()[0]
    with write_tx(conn):
        conn.execute(
            "INSERT INTO payments (customer_id, amount_minor, currency, paid_on, created_at) "
            "VALUES (?, 50000, 'USD', '2026-11-22', ?)",
            (cogs, to_iso(clock.now())),
        )
    found = board.read_board(conn, clock, UTC_ZONE, actor(conn, "lena"))
    alice = by_name(found)["alice"]
    assert (alice.attempts, alice.contacts, alice.rpc) == (2, 1, 1)
    assert (alice.promises, alice.promised) == (1, {"USD": 100_000})
    assert alice.collected == {"USD": 50_000}
    assert (alice.ready, alice.waiting) == (2, 2)
    assert alice.untouched == 2  # Cogs and Dynamo: never tried
    assert found.book is not None and found.book.unserved == {}
    assert set(alice.buckets or {}) == {"USD", "CAD", "MXN"}
    assert sum(alice.buckets["MXN"]) == 4_000_000  # type: ignore[index]
    bruno = by_name(found)["bruno"]
    assert (bruno.attempts, bruno.collected, bruno.untouched) == (0, {}, 1)
    # the CLI says the same, in JSON and in text with the lead's money
    code, out, err = run("board", "--as", "lena", "--json")
    assert code == 0, err
    data = {c["collector"]: c for c in json.loads(out)["collectors"]}
    assert data["alice"]["promised_minor"] == {"USD": 100000}
    assert data["alice"]["attempts"] == 2
    code, out, _ = run("board", "--as", "lena")
    assert "2 attempts" in out and "$1,000.00" in out and "collected $500.00" in out
    conn.close()


def test_today_is_the_teams_day(db, clock):
    conn = connect(db)
    acme = conn.execute("SELECT id FROM customers WHERE name = 'Acme Anvils Inc.'").fetchone()[0]
    alice = get_collector(conn, "alice")
    assert alice is not None
    # 03:00 UTC on the 23rd is the 22nd in Toronto (the team's day) but the 23rd in UTC
    early = to_iso(clock.now().replace(hour=3))
    with write_tx(conn):
        conn.execute(
            "INSERT INTO activities (customer_id, collector_id, at, outcome, attempt) "
            "VALUES (?, ?, ?, 'no_answer', 1)",
            (acme, alice.id, early),
        )
    lena = actor(conn, "lena")
    assert by_name(board.read_board(conn, clock, UTC_ZONE, lena))["alice"].attempts == 1
    toronto = ZoneInfo("America/Toronto")
    assert by_name(board.read_board(conn, clock, toronto, lena))["alice"].attempts == 0
    conn.close()


def test_who_is_on_what_since_when(db, clock):
    conn = connect(db)
    me = get_collector(conn, "alice")
    assert me is not None
    work = WorkSession(db, me, Settings(), clock)
    try:
        view = work.next_account()
        assert view is not None
        assert work.beat() is True
        clock.advance(minutes=7)
        assert work.beat() is True  # still on it
        found = board.read_board(conn, clock, UTC_ZONE, actor(conn, "lena"), book=False)
        alice = by_name(found)["alice"]
        assert alice.working_on == view.external_ref and alice.working_id == view.id
        assert alice.online_since == clock.now() - timedelta(minutes=7)
        assert board.since_text(alice.working_since, found.at) == "7 min"
        assert by_name(found)["bruno"].online_since is None
    finally:
        work.close()
    conn.close()


def test_a_reader_recounts_after_a_commit(db, clock, run):
    conn = connect(db)
    reader = board.BoardReader(conn, clock, UTC_ZONE, "")
    first = by_name(reader.live())["alice"]
    assert (first.ready, first.waiting) == (4, 0)
    code, _, err = run("log", ref(conn, "Cogs Co"), "no_answer", "--as", "alice",
                       "--phone", "+13125550199")  # fmt: skip
    assert code == 0, err
    again = by_name(reader.live())["alice"]
    assert (again.ready, again.waiting, again.attempts) == (3, 1, 1)
    # read since the last id: a promise adds its amount; a void reads the day again
    code, out, err = run("log", ref(conn, "Acme Anvils Inc."), "promise_to_pay", "--as",
                         "alice", "--amount", "75", "--date", "+3d")  # fmt: skip
    assert code == 0, err
    again = by_name(reader.live())["alice"]
    assert (again.attempts, again.promises, again.promised) == (2, 1, {"USD": 7_500})
    act = conn.execute("SELECT MAX(id) FROM activities WHERE outcome = 'promise_to_pay'")
    code, _, err = run("void", str(act.fetchone()[0]), "--as", "lena", "--reason", "test")
    assert code == 0, err
    again = by_name(reader.live())["alice"]
    assert (again.attempts, again.promises, again.promised) == (1, 0, {})
    # a lead's move: both collectors recounted
    code, _, err = run("assign", ref(conn, "Dynamo Distribución"), "--to", "bruno", "--as",
                       "lena", "--reason", "Spanish")  # fmt: skip
    assert code == 0, err
    moved = by_name(reader.live())
    assert (moved["alice"].ready, moved["bruno"].ready) == (2, 2)
    conn.close()


def test_accounts_no_active_collector_can_serve(db, clock, run):
    conn = connect(db)
    with write_tx(conn):
        conn.execute("UPDATE customers SET language = 'de' WHERE name = 'Cogs Co'")
        conn.execute("UPDATE customers SET language = 'es' WHERE name LIKE 'Dynamo%'")
    found = board.read_board(conn, clock, UTC_ZONE, actor(conn, "lena"))
    # lena speaks es, but she is a lead: she serves no queue; nobody speaks de
    assert found.book is not None and found.book.unserved == {"de": 1, "es": 1}
    code, out, _ = run("board", "--as", "lena")
    assert "de 1, es 1" in out
    conn.close()


def test_rights_and_bad_input(db, clock, run):
    conn = connect(db)
    with pytest.raises(RightsError):
        board.read_board(conn, clock, UTC_ZONE, actor(conn, "alice"))
    conn.close()
    code, out, err = run("board", "--as", "alice")
    assert code == 1 and out == ""
    assert err.strip() == (
        "dunning: alice (collector) may not see the team board: that needs the lead or admin role"
    )
    code, _, err = run("board", "--as", "bruno")  # fr_CA: the refusal in French
    assert code == 1 and "voir le tableau de l'équipe" in err
    code, _, err = run("board", "--as", "lena", "--team", "Nord")
    assert code == 2 and err.count("\n") == 1 and "'Nord'" in err
    with write_tx(conn := connect(db)):
        conn.execute("UPDATE collectors SET team = 'West' WHERE username = 'bruno'")
    code, _, err = run("board", "--as", "lena", "--team", "West")
    assert code == 1 and "'West'" in err
    audit = conn.execute(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'board' AND result = 'refused'"
    ).fetchone()[0]
    assert audit >= 3
    # lena's own team ('') no longer shows bruno
    code, out, _ = run("board", "--as", "lena", "--json")
    assert [c["collector"] for c in json.loads(out)["collectors"]] == ["alice"]
    conn.close()


def test_the_real_entry_point(db):
    out = subprocess.run(
        [sys.executable, "-m", "dunning", "--db", str(db), "board", "--as", "lena", "--json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert {c["collector"] for c in json.loads(out.stdout)["collectors"]} == {"alice", "bruno"}


def test_counts_changed_without_an_activity_are_read_again(db, clock, monkeypatch):
    conn = connect(db)
    reader = board.BoardReader(conn, clock, UTC_ZONE, "")
    assert by_name(reader.live())["alice"].waiting == 0
    with write_tx(conn):  # as a claim wakes or parks accounts: no activity written
        conn.execute(
            "UPDATE queue SET state = 'waiting' WHERE customer_id IN "
            "(SELECT id FROM customers WHERE name IN ('Cogs Co', 'Bolt Brothers'))"
        )
    assert by_name(reader.live())["alice"].waiting == 0  # counted moments ago: kept
    monkeypatch.setattr(board, "RECOUNT_EVERY", 0.0)
    assert by_name(reader.live())["alice"].waiting == 2  # old enough: read again
    conn.close()


def test_counted_in_one_pass_or_per_collector_the_same(db, clock, monkeypatch):
    conn = connect(db)
    each = [
        (r.ready, r.waiting, r.review)
        for r in board.BoardReader(conn, clock, UTC_ZONE, "").live().rows
    ]
    monkeypatch.setattr(board, "BULK", 0)  # a big team: one GROUP BY over the index
    bulk = [
        (r.ready, r.waiting, r.review)
        for r in board.BoardReader(conn, clock, UTC_ZONE, "").live().rows
    ]
    assert each == bulk == [(4, 0, 0), (1, 0, 0)]
    conn.close()
