"""The nightly refresh that builds the next queue beside the live one and swaps it in
(queue/rebuild.py): the same table afterwards, nothing lost that others wrote meanwhile,
nothing left behind by an interruption or a killed process.

The rows it writes are compared with the refresh as it was before issue 8 in
tests/test_refresh_same.py (the ``rebuild`` case)."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dunning.clock import FixedClock, from_iso, to_iso
from dunning.db.connection import connect, open_db, write_tx
from dunning.demo.build import build_demo
from dunning.queue import rebuild, refresh
from dunning.queue.accounts import refresh_accounts
from dunning.queue.config import Settings
from dunning.queue.refresh import RefreshStats, refresh_all

ALL = "SELECT * FROM queue ORDER BY customer_id"


def _night_after() -> FixedClock:
    clock = FixedClock()
    clock.advance(days=1)
    return clock


def _schema(conn: sqlite3.Connection) -> dict[str, object]:
    """The queue table's columns, keys and indexes as SQLite reports them."""
    indexes = sorted(tuple(r) for r in conn.execute("PRAGMA index_list(queue)"))
    return {
        "columns": [tuple(r) for r in conn.execute("PRAGMA table_info(queue)")],
        "foreign keys": [tuple(r) for r in conn.execute("PRAGMA foreign_key_list(queue)")],
        "indexes": indexes,
        "index columns": {
            r[1]: [tuple(x) for x in conn.execute(f"PRAGMA index_xinfo({r[1]})")] for r in indexes
        },
        "index sql": sorted(
            tuple(r)
            for r in conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'queue'"
            )
        ),
        "others": sorted(
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE name LIKE 'queue%' AND tbl_name != 'queue'"
            )
        ),
    }


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    db = tmp_path / "ledger.db"
    build_demo(db, customers=300, seed=5, clock=FixedClock())
    return db


def test_the_swapped_in_queue_is_the_same_table_twice_over(demo: Path):
    conn = open_db(demo)
    before = _schema(conn)
    for day in (1, 2):
        clock = FixedClock()
        clock.advance(days=day)
        stats = refresh_all(conn, clock, Settings(), chunk=40, workers=0, rebuild=True)
        assert stats.rebuilt and stats.done == stats.of == 300
        assert _schema(conn) == before, day
        assert not rebuild.leftovers(conn)
        assert [tuple(r) for r in conn.execute("PRAGMA integrity_check")] == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check(queue)").fetchall() == []
        # and it is what an in-place refresh leaves: nothing more to change
        again = refresh_all(conn, clock, Settings(), chunk=40, workers=0, rebuild=False)
        assert again.changed == 0 and not again.rebuilt
    conn.close()


def _moves(conn: sqlite3.Connection) -> None:
    """A night on which every row changes. The days moving no longer change a row (its
    stored standing does not move with the date, queue/standing.py): a stale standing in
    every row, as a new version's different weights would leave, does."""
    with conn:
        conn.execute("UPDATE queue SET pkey = pkey + 1")


def test_when_asked_to_decide_a_night_that_moves_rebuilds(demo: Path, monkeypatch):
    """``rebuild=None``: the night after, most rows change and the queue is rebuilt; the
    same day again, nothing changes and nothing is rebuilt."""
    monkeypatch.setattr(refresh, "REBUILD_FROM", 0)
    conn = open_db(demo)
    _moves(conn)
    clock = _night_after()
    # a whole pass (the build recorded its scope: a scoped night is never rebuilt)
    first = refresh_all(conn, clock, Settings(), chunk=40, workers=0, rebuild=None, full=True)
    assert first.rebuilt and first.changed > 150
    again = refresh_all(conn, clock, Settings(), chunk=40, workers=0, rebuild=None)
    assert again.changed == 0 and not again.rebuilt
    default = refresh_all(conn, _night_after(), Settings(), chunk=40, workers=0)
    assert not default.rebuilt  # in place unless asked
    conn.close()


def test_an_interrupted_build_leaves_the_live_queue_as_it_was(demo: Path):
    conn = open_db(demo)
    _moves(conn)
    before = conn.execute(ALL).fetchall()
    stats = RefreshStats()

    def stop(s: RefreshStats) -> None:
        if s.changed > 100:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        refresh_all(
            conn, _night_after(), Settings(), chunk=40, workers=0, rebuild=True,
            after_chunk=stop, stats=stats,
        )  # fmt: skip
    assert stats.done == 0  # nothing refreshed: the build is dropped
    assert conn.execute(ALL).fetchall() == before
    assert not rebuild.leftovers(conn)
    conn.close()


def _pid_of(cmd: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, *cmd])


def test_a_killed_refresh_leaves_a_build_the_next_one_drops(demo: Path):
    conn = open_db(demo)
    rebuild.begin(conn, "2026-11-24T02:00:00Z")  # as a refresh killed during its build
    dead = _pid_of(["-c", "pass"])
    dead.wait()
    conn.execute(f"UPDATE {rebuild.OWNER} SET pid = ?", (dead.pid,))
    conn.close()
    other = connect(demo)  # collectors keep working meanwhile
    with write_tx(other):
        other.execute("UPDATE queue SET broken_promise = 1 WHERE customer_id = 3")
    other.close()
    conn = open_db(demo)
    assert rebuild.leftovers(conn)
    stats = refresh_all(conn, _night_after(), Settings(), chunk=40, workers=0, rebuild=True)
    assert stats.rebuilt and not rebuild.leftovers(conn)
    assert conn.execute("SELECT broken_promise FROM queue WHERE customer_id = 3").fetchone()[0]
    conn.close()


def test_while_another_refresh_builds_this_one_updates_in_place(demo: Path):
    conn = open_db(demo)
    rebuild.begin(conn, "2026-11-24T02:00:00Z")
    alive = _pid_of(["-c", "import time; time.sleep(60)"])
    try:
        conn.execute(f"UPDATE {rebuild.OWNER} SET pid = ?", (alive.pid,))
        stats = refresh_all(conn, _night_after(), Settings(), chunk=40, workers=0, rebuild=True)
        assert not stats.rebuilt and stats.changed > 0  # in place; the other's build kept
        assert rebuild.leftovers(conn)
        # its rows were logged for the other build to carry over at its swap
        assert conn.execute(f"SELECT COUNT(*) FROM {rebuild.TOUCHED}").fetchone()[0] > 0
    finally:
        alive.kill()
        alive.wait()
    conn.close()


def test_rows_written_after_their_range_was_copied_are_carried_over(demo: Path):
    """A claim and a hold written by another connection in a range already copied: kept,
    and the row computed again for the night (a hold, today's score)."""
    conn = open_db(demo)
    clock = _night_after()
    now = to_iso(clock.now())
    target = 7  # in the first range

    def meanwhile(s: RefreshStats) -> None:
        if s.changed and not s.carried and rebuild.leftovers(conn):
            other = connect(demo)
            with write_tx(other):
                other.execute("UPDATE customers SET status = 'legal' WHERE id = ?", (target,))
                other.execute(
                    "UPDATE queue SET claimed_by = 1, claim_expires_at = ? WHERE customer_id = ?",
                    (now, target),
                )
                other.execute("DELETE FROM queue WHERE customer_id = 9")
                refresh_accounts(other, FixedClock(), Settings(), [12])  # yesterday's clock
            other.close()
            s.carried = -1  # once

    stats = refresh_all(
        conn, clock, Settings(), chunk=40, workers=0, rebuild=True, after_chunk=meanwhile
    )
    assert stats.carried == 3  # 7, 9 and 12
    row = conn.execute(
        "SELECT state, claimed_by, claim_expires_at FROM queue WHERE customer_id = ?", (target,)
    ).fetchone()
    assert tuple(row) == ("hold", 1, now)
    # 9 was deleted, not put back by the swap; everything else is right for the night
    assert conn.execute("SELECT 1 FROM queue WHERE customer_id = 9").fetchone() is None
    again = refresh_all(conn, clock, Settings(), chunk=40, workers=0, rebuild=False)
    assert again.changed == 1  # only 9, created again
    conn.close()


def _collector(db: str, collector_id: int, now: str, go: object, stop: object, out: object) -> None:
    """A collector's process: claim the next account, log "no answer", until told to stop."""
    from dunning.queue.claim import claim_next
    from dunning.queue.outcomes import OutcomeInput, log_outcome

    clock = FixedClock(from_iso(now))
    settings = Settings()
    conn = connect(db)
    worked: list[int] = []
    errors: list[str] = []
    go.wait(60)  # type: ignore[attr-defined]
    try:
        while not stop.is_set():  # type: ignore[attr-defined]
            claim = claim_next(conn, clock, settings, collector_id, resume=False)
            if claim is None:
                time.sleep(0.01)
                continue
            log_outcome(
                conn, clock, settings, collector_id=collector_id,
                customer_id=claim.customer_id, inp=OutcomeInput("no_answer"),
            )  # fmt: skip
            worked.append(claim.customer_id)
            time.sleep(0.005)
    except Exception as exc:  # reported to the test
        errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()
    out.put((worked, errors))  # type: ignore[attr-defined]


def test_collectors_working_during_the_build_lose_nothing(tmp_path: Path):
    db = tmp_path / "ledger.db"
    build_demo(db, customers=400, seed=7, clock=FixedClock())
    clock = _night_after()
    now = to_iso(clock.now())
    conn = open_db(db)
    (collector,) = conn.execute(
        "SELECT collector_id FROM queue WHERE collector_id IS NOT NULL "
        "GROUP BY collector_id ORDER BY COUNT(*) DESC LIMIT 1"
    ).fetchone()
    ctx = mp.get_context("spawn")
    go, stop, out = ctx.Barrier(3), ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=_collector, args=(str(db), collector, now, go, stop, out))
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    go.wait(60)
    try:
        stats = refresh_all(
            conn, clock, Settings(), chunk=25, workers=0, rebuild=True,
            after_chunk=lambda s: time.sleep(0.05),
        )  # fmt: skip
    finally:
        stop.set()
        results = [out.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(timeout=30)
    assert [e for _, errors in results for e in errors] == []
    worked = [c for w, _ in results for c in w]
    assert stats.rebuilt and stats.carried > 0
    assert len(worked) == len(set(worked)) > 0, "no account worked twice"
    # every outcome is there, and its account's row says so after the swap
    logged = conn.execute(
        "SELECT COUNT(*) FROM activities WHERE outcome = 'no_answer' AND at = ?", (now,)
    ).fetchone()[0]
    assert logged == len(worked)
    marks = ",".join("?" * len(worked))
    rows = conn.execute(
        f"SELECT last_attempt_at, claimed_by, state FROM queue WHERE customer_id IN ({marks})",
        worked,
    ).fetchall()
    assert len(rows) == len(worked)
    assert all(r[0] == now and r[1] is None and r[2] == "waiting" for r in rows)
    assert (
        conn.execute("SELECT COUNT(*) FROM queue WHERE claimed_by IS NOT NULL").fetchone()[0] == 0
    )
    # and every row is what a refresh of the night gives: nothing left to change
    again = refresh_all(conn, clock, Settings(), chunk=25, workers=0, rebuild=False)
    assert again.changed == 0
    conn.close()
