"""`dunning queue refresh` checks only the tables it writes (``PRAGMA quick_check(TABLE)``)
when a whole-file check passed within 24 h (tests/test_integrity_policy.py), and turns a
damaged page met by its reads of the others into the same named refusal.

The whole-file check costs more than the command's budget at 1,000,000 customers
(db/integrity.py); these tests prove that a damaged page still stops the night's run,
named, with no traceback and no audit row written into the damaged file.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_backup_safety import corrupt_a_table_page, digest, dunning

from dunning.clock import FixedClock
from dunning.db import private
from dunning.db.connection import open_db
from dunning.db.integrity import (
    REFRESH_WRITES,
    CorruptDatabase,
    check_live,
    named_corrupt,
    quick_check,
    record_whole,
)
from dunning.demo.build import build_demo
from dunning.queue.config import Settings
from dunning.queue.refresh import refresh_all


@pytest.fixture(autouse=True)
def _fresh_policy() -> None:
    private.reset_for_tests()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    build_demo(path, customers=300, seed=4)
    return path


@pytest.fixture
def live(demo: Path, tmp_path: Path) -> Path:
    path = tmp_path / "live.db"
    shutil.copyfile(demo, path)
    path.chmod(0o600)
    return path


def _recently_checked(path: Path) -> None:
    """A whole-file check recorded an hour ago by the system clock (as `dunning backup`
    records it), so the command's check is the scoped one."""
    conn = open_db(path)
    try:
        assert record_whole(conn, FixedClock(datetime.now(UTC) - timedelta(hours=1)), "t") is None
    finally:
        conn.close()


def _audit_rows(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        sql = "SELECT COUNT(*) FROM audit_log WHERE action = 'queue.refresh'"
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def test_the_refresh_checks_the_tables_it_writes_and_not_the_others(live: Path) -> None:
    corrupt_a_table_page(live, "invoices")
    conn = sqlite3.connect(live)
    try:
        assert quick_check(conn, REFRESH_WRITES) == ["ok"]
        assert quick_check(conn, ["invoices"]) != ["ok"]
        assert quick_check(conn) != ["ok"]  # the whole file (backup's check)
        assert quick_check(conn, ["no_such_table", "queue"]) == ["ok"]
    finally:
        conn.close()


@pytest.mark.parametrize("table", ["queue", "queue_worklist", "promises"])
def test_a_damaged_page_of_a_table_it_writes_stops_it_before_it_writes(
    live: Path, table: str
) -> None:
    corrupt_a_table_page(live, table)
    before = digest(live)
    done = dunning("--db", str(live), "queue", "refresh")
    assert done.returncode == 1, done.stdout
    assert f"{live}: the live database is damaged (PRAGMA quick_check:" in done.stderr
    assert "refreshed" not in done.stdout and "Traceback" not in done.stderr
    assert digest(live) == before  # nothing written


@pytest.mark.parametrize("table", ["invoices_aging", "customers", "phones_usable"])
def test_a_damaged_page_it_only_reads_stops_it_named(live: Path, table: str) -> None:
    """After a recent whole-file check (the nightly backup's) the page is not checked
    first: the read that meets it stops the run with the file's name and no traceback;
    no audit row goes into the damaged file."""
    _recently_checked(live)
    audits = _audit_rows(live)
    corrupt_a_table_page(live, table)
    # a whole pass reads every customer (a scoped night reads only what changed)
    done = dunning("--db", str(live), "queue", "refresh", "--full")
    assert done.returncode == 1, done.stdout
    assert f"{live}: the live database is damaged (read: " in done.stderr
    assert "nothing more was written" in done.stderr
    assert "refreshed" not in done.stdout and "Traceback" not in done.stderr
    assert _audit_rows(live) == audits


def test_a_helper_process_meeting_a_damaged_page_says_so_by_name(live: Path) -> None:
    """On a big ledger helper processes read the ranges: their damaged page is the same
    CorruptDatabase naming the file, not a helper's traceback."""
    corrupt_a_table_page(live, "invoices_aging")
    conn = open_db(live)
    try:
        clock = FixedClock()
        clock.advance(days=1)
        with pytest.raises(CorruptDatabase) as caught, named_corrupt(live):
            refresh_all(conn, clock, Settings(), chunk=50, workers=2, full=True)
    finally:
        conn.close()
    assert str(caught.value).startswith(f"{live}: the live database is damaged (read: ")
    assert "Traceback" not in str(caught.value)


def test_check_live_of_some_tables_names_the_file(live: Path) -> None:
    corrupt_a_table_page(live, "queue")
    conn = sqlite3.connect(live)
    try:
        with pytest.raises(CorruptDatabase, match="the live database is damaged"):
            check_live(conn, live, REFRESH_WRITES)
        check_live(conn, live, ["invoices"])  # not damaged: no error
    finally:
        conn.close()
