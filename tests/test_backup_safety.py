"""Issue 7 §7, backups: never into a live database, no .partial left forever, and a damaged
page found by `backup` and the nightly `queue refresh`, naming the live file. Real files
and real `dunning` processes."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dunning.db import private
from dunning.demo.build import build_demo

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _fresh_policy() -> None:
    private.reset_for_tests()


def env() -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DUNNING_")}
    return {**clean, "PYTHONPATH": str(ROOT)}


def dunning(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dunning", *argv], capture_output=True,
                          text=True, timeout=120, env=env())  # fmt: skip


def digest(path: Path) -> str:
    """In another process: closing any descriptor of a database file in this one would
    drop the POSIX locks of the connection this test holds (and let SQLite delete its WAL)."""
    return subprocess.run(["sha256sum", str(path)], capture_output=True, text=True,
                          check=True).stdout.split()[0]  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    build_demo(path, customers=300, seed=4)
    return path


@pytest.fixture
def live(demo: Path, tmp_path: Path) -> Path:
    """A copy of a real dunning database, held open in WAL mode (its -wal and -shm
    exist) as a collector's screen holds it."""
    path = tmp_path / "live.db"
    shutil.copyfile(demo, path)
    path.chmod(0o600)
    return path


@pytest.fixture
def held(live: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(live, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("UPDATE customers SET name = name || '' WHERE id = 1")  # WAL has frames
    yield conn
    conn.close()


def _contents(conn: sqlite3.Connection) -> list[object]:
    """Every row of every table but the audit log."""
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'audit_log' "
            "ORDER BY name"
        )
    ]
    return [(n, conn.execute(f'SELECT * FROM "{n}"').fetchall()) for n in names]


def test_backup_into_a_part_of_the_live_database_is_refused_even_with_force(
    live: Path, held: sqlite3.Connection, tmp_path: Path
) -> None:
    wal, shm = Path(f"{live}-wal"), Path(f"{live}-shm")
    assert wal.stat().st_size > 0 and shm.exists()
    (tmp_path / "to-live.db").symlink_to(live)
    (tmp_path / "to-wal").symlink_to(wal)
    os.link(wal, tmp_path / "hard-wal")
    os.link(live, tmp_path / "hard-live.db")
    (tmp_path / "dir-link").symlink_to(tmp_path)
    before = _contents(held), {p: p.stat().st_ino for p in (live, wal)}
    shm_before = (shm.stat().st_ino, shm.stat().st_size)  # its read marks change: readers
    targets = {
        wal: "its -wal file",
        shm: "its -shm file",
        Path(f"{live}-journal"): "its -journal file",
        live: "live database itself",
        tmp_path / "to-live.db": "live database itself",
        tmp_path / "to-wal": "its -wal file",
        tmp_path / "hard-wal": "its -wal file",
        tmp_path / "hard-live.db": "live database itself",
        tmp_path / "dir-link" / "live.db-wal": "its -wal file",
    }
    for dest, why in targets.items():
        for force in ([], ["--force"]):
            done = dunning("--db", str(live), "backup", str(dest), *force)
            assert done.returncode == 2, (dest, done.stdout)
            assert why in done.stderr and str(dest) in done.stderr, done.stderr
            assert "Traceback" not in done.stderr
    # the files are the same files with the same data (each refusal is audited: the
    # audit log grows, nothing else changes)
    assert (_contents(held), {p: p.stat().st_ino for p in (live, wal)}) == before
    assert shm.stat().st_ino == shm_before[0]
    refused = held.execute("SELECT count(*) FROM audit_log WHERE action = 'backup'").fetchone()
    assert refused[0] == 2 * len(targets)
    assert held.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    assert not list(tmp_path.glob("*.partial"))


def test_backup_over_another_database_in_use_is_refused(
    live: Path, tmp_path: Path, demo: Path
) -> None:
    other = tmp_path / "other.db"
    shutil.copyfile(demo, other)
    conn = sqlite3.connect(other)  # another program's live database: -wal beside it
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS x (y)")
    try:
        before = digest(other)
        for dest in (other, Path(f"{other}-wal")):
            done = dunning("--db", str(live), "backup", str(dest), "--force")
            assert done.returncode == 2 and str(dest) in done.stderr, done.stderr
        assert digest(other) == before
    finally:
        conn.close()
    # closed cleanly (no -wal left): --force replaces it as before
    assert not Path(f"{other}-wal").exists()
    done = dunning("--db", str(live), "backup", str(other), "--force")
    assert done.returncode == 0, done.stderr


STALLED = """
import sys, time
import sqlite3
from dunning.clock import SystemClock
from dunning.db import backup as b
from dunning.db.connection import connect

def stalled(conn, tmp, dest):  # the copy has started (header on disk), then nothing
    target = sqlite3.connect(str(tmp))
    target.execute("PRAGMA user_version = 0")
    print("copying", flush=True)
    time.sleep(120)

b._copy = stalled
b.backup(connect(sys.argv[1]), b.Path(sys.argv[2]), SystemClock())
"""


def start_backup(live: Path, dest: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", STALLED, str(live), str(dest)],
                            stdout=subprocess.PIPE, text=True, env=env())  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "copying"
    return proc


def test_a_killed_backup_leaves_a_partial_that_the_next_backup_removes_not_a_running_one(
    live: Path, tmp_path: Path
) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    running = start_backup(live, backups / "running.db")
    killed = start_backup(live, backups / "killed.db")  # leaves the running one alone
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    left = backups / "killed.db.partial"
    assert left.exists()  # before: there forever
    # an old one from a backup killed long ago, and files that are not ours
    old = backups / "old.db.partial"
    shutil.copyfile(live, old)
    os.utime(old, (time.time() - 86_400, time.time() - 86_400))
    report = backups / "aging.csv.partial"
    report.write_text("customer,open\n")
    os.utime(report, (time.time() - 86_400, time.time() - 86_400))
    try:
        done = dunning("--db", str(live), "backup", str(backups))
        assert done.returncode == 0, done.stderr
        assert f"removed {left}: left by a backup that was stopped" in done.stderr
        assert f"removed {old}" in done.stderr
        assert not left.exists() and not old.exists()
        assert (backups / "running.db.partial").exists()  # still being written: kept
        assert report.exists()  # not a backup
        # a second backup to the same name as the running one waits its turn
        done = dunning("--db", str(live), "backup", str(backups / "running.db"))
        assert done.returncode == 2 and "another backup to this file is running" in done.stderr
        assert (backups / "running.db.partial").exists()
    finally:
        running.kill()
        running.wait()
    (made,) = backups.glob("dunning-*.db")
    copy = sqlite3.connect(made)
    assert copy.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    copy.close()
    # the running one was killed in turn: the next backup removes it
    done = dunning("--db", str(live), "backup", str(backups / "later.db"))
    assert done.returncode == 0 and "running.db.partial" in done.stderr
    assert sorted(p.name for p in backups.iterdir()) == ["aging.csv.partial", made.name,
                                                         "later.db"]  # fmt: skip


def corrupt_a_table_page(path: Path, table: str = "activities") -> None:
    """Garbage in the middle of a b-tree page of ``table`` (a leaf below its root when
    there is one), never the file header or the schema."""
    conn = sqlite3.connect(path)
    try:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)
        ).fetchone()[0]
        leaves = "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf'"
        pages = [r[0] for r in conn.execute(leaves, (table,))]
    except sqlite3.OperationalError:  # no dbstat in this SQLite: the root page then
        pages = []
    finally:
        conn.close()
    page = pages[len(pages) // 2] if pages else root
    assert page > 1
    with path.open("r+b") as fh:
        fh.seek((page - 1) * page_size)
        fh.write(b"\xde\xad\xbe\xef" * 64)


def test_a_damaged_page_stops_backup_and_queue_refresh_naming_the_live_file(
    live: Path, tmp_path: Path
) -> None:
    assert dunning("--db", str(live), "queue", "refresh").returncode == 0  # sound before
    corrupt_a_table_page(live)
    before = digest(live)
    dest = tmp_path / "b.db"
    done = dunning("--db", str(live), "backup", str(dest))
    assert done.returncode == 2
    assert f"{live}: the live database is damaged (PRAGMA quick_check:" in done.stderr
    assert "Traceback" not in done.stderr
    assert not dest.exists() and not list(tmp_path.glob("*.partial"))
    done = dunning("--db", str(live), "backup", str(tmp_path / "old.db"), "--force")
    assert done.returncode == 2 and "damaged" in done.stderr
    done = dunning("--db", str(live), "queue", "refresh")
    assert done.returncode == 1, done.stdout
    assert f"{live}: the live database is damaged" in done.stderr
    assert "refreshed" not in done.stdout and "Traceback" not in done.stderr
    assert digest(live) == before  # nothing written
