"""write_tx waits for the write lock in short steps with jittered pauses, so that waiters
take turns (issue 8: SQLite's own handler backs off to 100 ms sleeps and starved some
waiters for its whole timeout). Real processes hold the lock; no timed assertions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dunning.db.connection import BUSY_TIMEOUT_MS, DatabaseError, connect, write_tx
from dunning.db.lockwait import STEP_MS, LockWait
from dunning.db.schema import migrate

HOLDER = """
import sys, time
from dunning.db.connection import connect, write_tx
conn = connect(sys.argv[1])
with write_tx(conn):
    conn.execute("INSERT INTO meta (key, value, set_at, set_by) VALUES ('holder', '', '', '')")
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
print("released", flush=True)
"""

WAITER = """
import sys
from dunning.db.connection import connect, write_tx
conn = connect(sys.argv[1])
print("ready", flush=True)
with write_tx(conn):
    seen = conn.execute("SELECT COUNT(*) FROM meta WHERE key = 'holder'").fetchone()[0]
    conn.execute("INSERT INTO meta (key, value, set_at, set_by) VALUES (?, ?, '', '')",
                 (sys.argv[2], str(seen)))
print("done", flush=True)
"""


def env(**extra: str) -> dict[str, str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("DUNNING_")}
    full.update(extra)
    return full


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "team.db"
    conn = connect(path)
    migrate(conn)
    conn.close()
    return path


def hold(db: Path, seconds: float) -> subprocess.Popen[str]:
    p = subprocess.Popen([sys.executable, "-c", HOLDER, str(db), str(seconds)],
                         stdout=subprocess.PIPE, text=True, env=env())  # fmt: skip
    assert p.stdout is not None and p.stdout.readline().strip() == "holding"
    return p


def meta(db: Path) -> dict[str, str]:
    conn = connect(db)
    try:
        return {r[0]: r[1] for r in conn.execute("SELECT key, value FROM meta")}
    finally:
        conn.close()


def test_every_waiting_process_gets_in_after_the_holder_commits(db):
    holder = hold(db, 2.0)
    waiters = [
        subprocess.Popen([sys.executable, "-c", WAITER, str(db), f"w{i}"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())
        for i in range(6)
    ]  # fmt: skip
    try:
        results = [w.communicate(timeout=120) for w in waiters]
    finally:
        holder.wait(timeout=60)
    for w, (out, err) in zip(waiters, results, strict=True):
        assert w.returncode == 0 and out.split() == ["ready", "done"], err
    rows = meta(db)
    # each waiter wrote after the holder's transaction was committed, and none was lost
    assert {k: v for k, v in rows.items() if k.startswith("w")} == {f"w{i}": "1" for i in range(6)}


def test_the_wait_uses_short_steps_and_says_so_then_restores_the_timeout(db):
    conn = connect(db)
    seen: list[tuple[LockWait | None, int]] = []

    def on_wait(wait: LockWait | None) -> None:
        seen.append((wait, conn.execute("PRAGMA busy_timeout").fetchone()[0]))

    conn.on_wait = on_wait  # type: ignore[attr-defined]
    holder = hold(db, 2.5)
    try:
        with write_tx(conn):
            conn.execute("INSERT INTO meta (key, value, set_at, set_by) VALUES ('me', '', '', '')")
    finally:
        holder.wait(timeout=60)
    waits = [w for w, _ in seen if w is not None]
    assert waits and all(w.seconds >= 1 for w in waits)  # said from the first second on
    assert seen[-1][0] is None  # and cleared once the lock was taken
    # SQLite's own busy handler ran in short steps while waiting (it was 1 s before)
    assert {timeout for w, timeout in seen if w is not None} == {STEP_MS}
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT_MS
    assert set(meta(db)) >= {"holder", "me"}
    conn.close()


def test_a_waiter_gives_up_after_the_lock_wait_with_the_clear_message(db, monkeypatch):
    monkeypatch.setenv("DUNNING_LOCK_WAIT", "1")
    conn = connect(db)
    holder = hold(db, 5.0)
    try:
        with pytest.raises(DatabaseError) as caught, write_tx(conn):
            conn.execute("INSERT INTO meta (key, value, set_at, set_by) VALUES ('me', '', '', '')")
    finally:
        holder.wait(timeout=60)
    assert str(caught.value) == (
        "the database is busy: another process has held the write lock for over 1 s; try "
        "again later (DUNNING_LOCK_WAIT sets how long to wait)"
    )
    assert not conn.in_transaction
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT_MS
    assert "me" not in meta(db) and "holder" in meta(db)
    conn.close()
