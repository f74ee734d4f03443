"""The check before `queue refresh` follows a policy (db/integrity.py ``refresh_check``):
the scoped check (``quick_check(TABLE)`` of the tables it writes) only when a whole-file
check passed within 24 h by the command's clock, recorded in ``meta`` by ``dunning
backup`` or by the refresh itself; otherwise the whole file, free list included.
"""

from __future__ import annotations

import shutil
import sqlite3
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_backup_safety import digest, dunning

from dunning.clock import FixedClock, to_iso
from dunning.db import private
from dunning.db.backup import backup
from dunning.db.connection import open_db
from dunning.db.integrity import (
    CHECKED_KEY,
    CorruptDatabase,
    last_whole,
    quick_check,
    record_whole,
    refresh_check,
)
from dunning.demo.build import build_demo


@pytest.fixture(autouse=True)
def _fresh_policy() -> None:
    private.reset_for_tests()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    build_demo(path, customers=200, seed=8)
    return path


@pytest.fixture
def live(demo: Path, tmp_path: Path) -> Path:
    path = tmp_path / "live.db"
    shutil.copyfile(demo, path)
    path.chmod(0o600)
    return path


def _recorded(path: Path) -> str | None:
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT set_at FROM meta WHERE key = ?", (CHECKED_KEY,)).fetchone()
        return None if row is None else str(row[0])
    finally:
        conn.close()


def _checked_at(path: Path, clock: FixedClock, hours_ago: float) -> None:
    conn = open_db(path)
    try:
        then = FixedClock(clock.now() - timedelta(hours=hours_ago))
        assert record_whole(conn, then, "backup") is None
    finally:
        conn.close()


def _policy(path: Path, clock: FixedClock) -> str:
    conn = open_db(path)
    try:
        scope, unrecorded = refresh_check(conn, path, clock)
    finally:
        conn.close()
    assert unrecorded is None
    return scope


def test_no_recorded_check_means_the_whole_check_and_it_is_recorded(live: Path) -> None:
    clock = FixedClock()
    assert _recorded(live) is None
    assert _policy(live, clock) == "whole"
    assert _recorded(live) == to_iso(clock.now())
    assert _policy(live, clock) == "scoped"  # the refresh's own check counts too


@pytest.mark.parametrize(
    ("hours_ago", "scope"), [(23, "scoped"), (25, "whole"), (24, "whole"), (-1, "whole")]
)
def test_the_age_of_the_recorded_check_decides(live: Path, hours_ago: float, scope: str) -> None:
    """23 h old: scoped; 24 h or more: whole; recorded in the future (a clock set back):
    whole."""
    clock = FixedClock()
    _checked_at(live, clock, hours_ago)
    assert _policy(live, clock) == scope
    if scope == "whole":  # and the whole check is recorded at the command's now
        assert _recorded(live) == to_iso(clock.now())


def test_an_unreadable_record_means_the_whole_check(live: Path) -> None:
    conn = sqlite3.connect(live)
    with conn:
        conn.execute(
            "INSERT INTO meta (key, value, set_at, set_by) VALUES (?, 'not json', ?, 'x')",
            (CHECKED_KEY, to_iso(FixedClock().now())),
        )
    assert last_whole(conn) is None
    conn.close()
    assert _policy(live, FixedClock()) == "whole"


def test_backup_records_the_check_of_the_live_file(live: Path, tmp_path: Path) -> None:
    clock = FixedClock()
    conn = open_db(live)
    try:
        result = backup(conn, tmp_path / "copy.db", clock)
        assert result.unrecorded is None
        assert last_whole(conn) == clock.now()
    finally:
        conn.close()
    clock.advance(hours=23)
    assert _policy(live, clock) == "scoped"


def test_a_read_only_live_file_is_backed_up_and_the_record_reported(
    live: Path, tmp_path: Path
) -> None:
    """Not recording the check is not fatal: the copy is what a backup promises; the
    next refresh then checks the whole file."""
    conn = open_db(live)
    conn.close()
    ro = sqlite3.connect(f"file:{live}?mode=ro", uri=True)
    try:
        result = backup(ro, tmp_path / "copy.db", FixedClock())
    finally:
        ro.close()
    assert result.path.exists() and result.unrecorded
    assert _recorded(live) is None


def corrupt_the_free_list(path: Path) -> None:
    """Free pages (a table filled and dropped), then the first free-list leaf made to
    point at a live page (the root of ``customers``): only a whole-file check sees it."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("CREATE TABLE scratch (x BLOB)")
        conn.executemany("INSERT INTO scratch VALUES (?)", [(b"x" * 3000,)] * 40)
        conn.commit()
        conn.execute("DROP TABLE scratch")
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        victim = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'customers'"
        ).fetchone()[0]
        assert conn.execute("PRAGMA freelist_count").fetchone()[0] > 1
    finally:
        conn.close()
    with path.open("r+b") as fh:
        fh.seek(32)
        trunk = struct.unpack(">I", fh.read(4))[0]
        fh.seek((trunk - 1) * page_size + 4)
        leaves = struct.unpack(">I", fh.read(4))[0]
        assert leaves > 0
        fh.write(struct.pack(">I", victim))  # the first leaf: a live page


def test_a_damaged_free_list_with_no_recent_check_stops_the_refresh(live: Path) -> None:
    corrupt_the_free_list(live)
    conn = sqlite3.connect(live)
    assert quick_check(conn) != ["ok"]  # the whole file's check sees it
    conn.close()
    before = digest(live)
    done = dunning("--db", str(live), "queue", "refresh")
    assert done.returncode == 1, done.stdout
    assert f"{live}: the live database is damaged (PRAGMA quick_check:" in done.stderr
    assert "refreshed" not in done.stdout and "Traceback" not in done.stderr
    assert digest(live) == before  # nothing written, not even the record


def test_a_damaged_free_list_after_a_recent_check_is_not_seen(live: Path) -> None:
    """The documented hole: within 24 h of a passed whole-file check the refresh checks
    only the tables it writes, which does not read the free list (the next backup's
    check finds it)."""
    clock = FixedClock()
    _checked_at(live, clock, 1)
    corrupt_the_free_list(live)
    assert _policy(live, clock) == "scoped"
    conn = open_db(live)
    try:
        with pytest.raises(CorruptDatabase):
            refresh_check(conn, live, FixedClock(clock.now() + timedelta(days=1)))
    finally:
        conn.close()


def test_a_check_recorded_by_the_system_clock_serves_the_cli(live: Path) -> None:
    now = FixedClock(datetime.now(UTC) - timedelta(hours=1))  # as `dunning backup` would
    conn = open_db(live)
    try:
        assert record_whole(conn, now, "backup") is None
    finally:
        conn.close()
    done = dunning("--db", str(live), "queue", "refresh")
    assert done.returncode == 0, done.stderr
    assert _recorded(live) == to_iso(now.now())  # scoped: no new record
