"""The team board after a bulk move, and its open and overdue disputes per collector
(issue 9): queue/board.py, queue/board_disputes.py, m033_moves."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from tui_helpers import build_portfolio

from dunning.cli import main
from dunning.clock import FixedClock, to_iso
from dunning.db.connection import connect, write_tx
from dunning.queue import board
from dunning.queue.config import Settings
from dunning.queue.outcomes import OutcomeInput, log_outcome

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
    conn = connect(path)
    with write_tx(conn):  # carmen: a third collector, with nothing to do with the moves
        conn.execute(
            "INSERT INTO collectors (username, display_name, role, languages, locale, "
            "created_at) VALUES ('carmen', 'Carmen', 'collector', 'en,fr,es', 'en_US', ?)",
            (to_iso(clock.now()),),
        )
    conn.close()
    return path


@pytest.fixture
def run(db: Path, clock, capsys):  # noqa: ANN001
    def go(*argv: str) -> tuple[int, str, str]:
        code = main(["--db", str(db), *argv], clock=clock)
        out, err = capsys.readouterr()
        return code, out, err

    return go


def ids(conn: sqlite3.Connection) -> dict[str, int]:
    return {r[1]: int(r[0]) for r in conn.execute("SELECT id, username FROM collectors")}


def rows(found: board.Board) -> dict[str, board.BoardRow]:
    return {r.username: r for r in found.rows}


def counted_ranges(conn: sqlite3.Connection) -> tuple[list[int], list[str]]:
    """Trace a connection: the collectors whose worklist range is counted, and the
    statements that count every collector at once."""
    one: list[int] = []
    every: list[str] = []

    def seen(sql: str) -> None:
        flat = " ".join(sql.split())
        got = re.search(r"FROM queue INDEXED BY queue_worklist WHERE collector_id = (\d+)", flat)
        if got and "COUNT(*)" in flat:
            one.append(int(got.group(1)))
        if "GROUP BY collector_id, state" in flat:
            every.append(flat)

    conn.set_trace_callback(seen)
    return one, every


def test_a_bulk_move_recounts_its_giver_and_taker_only(db, clock, run):
    conn = connect(db)
    who = ids(conn)
    reader = board.BoardReader(conn, clock, UTC_ZONE, "")
    first = rows(reader.live())
    assert (first["alice"].ready, first["bruno"].ready, first["carmen"].ready) == (4, 1, 0)
    code, out, err = run("assign", "--from", "alice", "--to", "bruno", "--limit", "2",
                         "--reason", "leave", "--as", "lena", "--any-language")  # fmt: skip
    assert code == 0, err
    # each account moved says who gave it
    got = conn.execute(
        "SELECT from_collector_id, collector_id, COUNT(*) FROM assignments "
        "WHERE reason = 'leave' GROUP BY 1, 2"
    ).fetchall()
    assert [tuple(r) for r in got] == [(who["alice"], who["bruno"], 2)]
    one, every = counted_ranges(conn)
    after = rows(reader.live())
    conn.set_trace_callback(None)
    assert (after["alice"].ready, after["bruno"].ready, after["carmen"].ready) == (2, 3, 0)
    assert sorted(one) == sorted([who["alice"], who["bruno"]]) and every == []
    # nothing moved since: nobody recounted (carmen, counted moments ago, is not read)
    one, every = counted_ranges(conn)
    again = rows(reader.live())
    conn.set_trace_callback(None)
    assert one == [] and every == [] and again["bruno"].ready == 3
    conn.close()


def dispute(conn: sqlite3.Connection, clock: FixedClock, who: str, name: str) -> None:
    """``who`` logs a dispute of the customer's first invoice (billing)."""
    collector = ids(conn)[who]
    cid, inv = conn.execute(
        "SELECT c.id, MIN(i.id) FROM customers c JOIN invoices i ON i.customer_id = c.id "
        "WHERE c.name = ? GROUP BY c.id",
        (name,),
    ).fetchone()
    inp = OutcomeInput("dispute", invoice_ids=[inv], reason="damaged", department="billing")
    log_outcome(conn, clock, Settings(), collector_id=collector, customer_id=cid, inp=inp)


def test_open_and_overdue_disputes_per_collector(db, clock, run):
    conn = connect(db)
    dispute(conn, clock, "alice", "Acme Anvils Inc.")  # US-NY
    dispute(conn, clock, "alice", "Bolt Brothers")  # CA-QC
    reader = board.BoardReader(conn, clock, UTC_ZONE, "")
    now = rows(reader.live())
    assert (now["alice"].disputes, now["alice"].overdue) == (2, 0)
    assert (now["bruno"].disputes, now["bruno"].overdue) == (0, 0)
    # Mon 23 Nov + 16 days = Wed 9 Dec: past 10 business days on both calendars (US-NY
    # skips Thanksgiving; due 8 Dec); the same reader reads the new day's cut-offs
    clock.advance(days=16)
    late = rows(reader.live())
    assert (late["alice"].disputes, late["alice"].overdue) == (2, 2)
    # a wider service level: not overdue yet
    assert (
        rows(board.BoardReader(conn, clock, UTC_ZONE, "", service_days=30).live())["alice"].overdue
        == 0
    )
    # a dispute opened today: open, not overdue; then one account moves to bruno
    dispute(conn, clock, "alice", "Cogs Co")
    acme = conn.execute("SELECT external_ref FROM customers WHERE name LIKE 'Acme%'").fetchone()[0]
    code, _, err = run("assign", acme, "--to", "bruno", "--as", "lena", "--reason", "his now")
    assert code == 0, err
    moved = rows(reader.live())
    assert (moved["alice"].disputes, moved["alice"].overdue) == (2, 1)
    assert (moved["bruno"].disputes, moved["bruno"].overdue) == (1, 1)
    # the lead ends Acme's dispute: bruno has none open
    code, _, err = run("disputes", "resolve", acme, "--invalid", "--reason", "delivered",
                       "--as", "lena")  # fmt: skip
    assert code == 0, err
    ended = rows(reader.live())
    assert (ended["bruno"].disputes, ended["bruno"].overdue) == (0, 0)
    # the CLI says the same
    code, out, _ = run("board", "--as", "lena")
    assert code == 0 and "open disputes 2, 1 overdue" in out
    code, out, _ = run("board", "--as", "lena", "--json")
    alice = next(c for c in json.loads(out)["collectors"] if c["collector"] == "alice")
    assert (alice["disputes_open"], alice["disputes_overdue"]) == (2, 1)
    conn.close()


def test_a_reader_kept_open_agrees_with_a_new_one(db, clock, run):
    """The counts kept between reads (each refresh reads only the customers written for
    since) are those of a whole read, step after step."""
    conn = connect(db)
    kept = board.BoardReader(conn, clock, UTC_ZONE, "")

    def same() -> dict[str, tuple[int, int]]:
        got = {k: (r.disputes, r.overdue) for k, r in rows(kept.live()).items()}
        fresh = rows(board.BoardReader(conn, clock, UTC_ZONE, "").live())
        assert got == {k: (r.disputes, r.overdue) for k, r in fresh.items()}
        return got

    assert same()["alice"] == (0, 0)
    dispute(conn, clock, "alice", "Acme Anvils Inc.")
    assert same()["alice"] == (1, 0)
    clock.advance(days=16)
    dispute(conn, clock, "bruno", "Épicerie Gagnon")
    assert same() == {"alice": (1, 1), "bruno": (1, 0), "carmen": (0, 0)}
    code, _, err = run("assign", "--where", "collector=alice", "--to", "carmen", "--reason",
                       "cover", "--as", "lena", "--any-language")  # fmt: skip
    assert code == 0, err
    assert same() == {"alice": (0, 0), "bruno": (1, 0), "carmen": (1, 1)}
    act = conn.execute("SELECT MAX(id) FROM activities WHERE outcome = 'dispute'").fetchone()[0]
    code, _, err = run("void", str(act), "--as", "lena", "--reason", "typed on the wrong one")
    assert code == 0, err
    assert same()["bruno"] == (0, 0)
    conn.close()
