"""The night's first reads run while the command's check runs (queue/refresh_ahead.py,
db/integrity.py ``RefreshCheck``): the queue ends exactly as a whole pass leaves it, a
write by another connection between the reads and the writes is read again under the
lock, and a damaged page is still the check's to name, with nothing written.

The check of a 400-customer ledger ends before the first part is read; these tests make
it look unfinished (``RefreshCheck.done``) so that every part, or the first ones, are
read ahead, as at 1,000,000 customers.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from test_backup_safety import corrupt_a_table_page, digest
from test_refresh_scope import CHANGES, _clock, _night, _state, refreshed  # noqa: F401

from dunning.clock import FixedClock
from dunning.db import integrity
from dunning.db.connection import open_db
from dunning.db.integrity import CorruptDatabase, RefreshCheck, record_whole
from dunning.queue import refresh_ahead
from dunning.queue.config import Settings
from dunning.queue.refresh import RefreshStats, refresh_all
from dunning.queue.refresh_ahead import Ahead, checked_ahead


def _slow_check(monkeypatch: pytest.MonkeyPatch, parts: int | None) -> None:
    """The check looks unfinished for ``parts`` parts (None: all of them); parts as small
    as 10 customers (``chunk`` below: 25), so a 400-customer night has several."""
    calls = {"n": 0}

    def done(self: RefreshCheck) -> bool:
        calls["n"] += 1
        return parts is not None and calls["n"] > parts

    monkeypatch.setattr(RefreshCheck, "done", done)
    monkeypatch.setattr(refresh_ahead, "IN_CHUNK", 10)


def _ahead_night(db: Path, day: int, *, chunk: int = 25) -> tuple[RefreshStats, Ahead]:
    conn = open_db(db)
    try:
        ahead = checked_ahead(conn, db, _clock(day), Settings(), chunk=chunk)
        stats = refresh_all(conn, _clock(day), Settings(), workers=0, chunk=chunk, ahead=ahead)
        return stats, ahead
    finally:
        conn.close()


@pytest.mark.parametrize("parts", [None, 2], ids=["all-ahead", "two-parts-ahead"])
@pytest.mark.parametrize("name", list(CHANGES))
def test_reads_ahead_leave_the_queue_a_whole_pass_would(
    refreshed: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    parts: int | None,
) -> None:
    _slow_check(monkeypatch, parts)
    ahead_db, whole = tmp_path / "ahead.db", tmp_path / "whole.db"
    for db in (ahead_db, whole):
        shutil.copy(refreshed, db)
        conn = open_db(db)
        try:
            CHANGES[name](conn, _clock(0))
        finally:
            conn.close()
    got, ahead = _ahead_night(ahead_db, 1)
    want = _night(whole, 1, full=True)
    assert got.read is not None and got.read < got.of  # scoped
    candidates = len(ahead.scope.candidates or [])
    if parts is None:  # every customer but the promise candidates was read ahead
        assert len(ahead.read) == got.read - candidates
    else:
        assert 0 < len(ahead.read) <= 2 * 25  # two parts of 25
    assert _state(ahead_db) == _state(whole)
    assert got.decided == want.decided
    assert got.changed == want.changed


def test_a_write_after_the_reads_ahead_is_read_again_under_the_lock(
    refreshed: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _slow_check(monkeypatch, None)
    db = tmp_path / "w.db"
    shutil.copy(refreshed, db)
    conn = open_db(db)
    try:
        ahead = checked_ahead(conn, db, _clock(1), Settings(), chunk=25)
        assert ahead.parts
        cid = ahead.parts[0][0][0]
        other = sqlite3.connect(db)
        with other:  # a writer that does not recompute the row (the ERP, by SQL)
            other.execute("UPDATE customers SET status = 'legal' WHERE id = ?", (cid,))
        other.close()
        stats = refresh_all(conn, _clock(1), Settings(), workers=0, chunk=25, ahead=ahead)
        assert stats.recomputed >= 1
        state = conn.execute("SELECT state FROM queue WHERE customer_id = ?", (cid,)).fetchone()
        assert state[0] == "hold"
    finally:
        conn.close()


@pytest.mark.parametrize("recent", [False, True], ids=["whole-check", "scoped-check"])
@pytest.mark.parametrize("table", ["queue", "queue_worklist"])
def test_a_damaged_page_read_ahead_is_the_checks_to_name_and_nothing_is_written(
    refreshed: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    table: str,
    recent: bool,
) -> None:
    _slow_check(monkeypatch, None)
    db = tmp_path / "d.db"
    shutil.copy(refreshed, db)
    db.chmod(0o600)
    if recent:  # the nightly backup's record: the check is the tables it writes
        conn = open_db(db)
        try:
            assert record_whole(conn, FixedClock(), "t") is None
        finally:
            conn.close()
    corrupt_a_table_page(db, table)
    before = digest(db)
    conn = open_db(db)
    try:
        with pytest.raises(CorruptDatabase) as caught:
            checked_ahead(conn, db, _clock(0), Settings(), chunk=25)
    finally:
        conn.close()
    assert str(caught.value).startswith(f"{db}: the live database is damaged (PRAGMA quick_check:")
    assert digest(db) == before  # nothing written, not even the check's record


def test_the_check_runs_beside_the_reads_and_its_whole_check_is_recorded(
    refreshed: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = tmp_path / "r.db"
    shutil.copy(refreshed, db)
    threads: list[str] = []
    real = integrity.check_live

    def spy(*args: object, **kwargs: object) -> None:
        import threading

        threads.append(threading.current_thread().name)
        real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(integrity, "check_live", spy)
    conn = open_db(db)
    try:
        ahead = checked_ahead(conn, db, _clock(1), Settings())
        assert threads == ["dunning-refresh-check"]
        assert (ahead.check, ahead.unrecorded) == ("whole", None)  # none recorded before
        assert integrity.last_whole(conn) == _clock(1).now()
        assert not integrity.whole_due(conn, _clock(1))
    finally:
        conn.close()
