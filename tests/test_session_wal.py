"""A collector's session never checkpoints inside an outcome's commit, and something still
checkpoints its WAL: the screen every few seconds, off the event loop; a session without a
screen after an outcome when none ran for a while. The header's counts stay right."""

from __future__ import annotations

from pathlib import Path

import pytest
from tui_helpers import build_portfolio, db_rows, make_app, settle, wait_until

from dunning.clock import FixedClock
from dunning.db.connection import checkpoint, connect
from dunning.queue import session as session_mod
from dunning.queue.collectors import get_collector
from dunning.queue.config import Settings
from dunning.queue.outcomes import OutcomeInput
from dunning.queue.session import WorkSession
from dunning.tui.screens import work as work_mod


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "wal.db"
    build_portfolio(path, clock)
    return path


def open_session(db: Path, clock: FixedClock) -> WorkSession:
    conn = connect(db)
    me = get_collector(conn, "alice")
    conn.close()
    assert me is not None
    return WorkSession(db, me, Settings(), clock)


def test_an_outcome_commit_runs_no_checkpoint_and_the_session_checkpoints(
    db: Path, clock: FixedClock
) -> None:
    session = open_session(db, clock)
    try:
        assert session._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        assert session.next_account() is not None
        session.log(OutcomeInput("no_answer"))
        assert session.last_checkpoint is None  # not on the commit
        busy, frames, copied = session.checkpoint()
        assert busy == 0
        assert frames > 0 and copied == frames  # every committed page is in the file
    finally:
        session.close()
    # the outcome is in the database file whoever reads it
    assert db_rows(db, "SELECT outcome FROM activities ORDER BY id DESC LIMIT 1")[0][0] == (
        "no_answer"
    )


def test_a_session_without_a_screen_checkpoints_after_an_outcome_when_none_ran(
    db: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_mod, "CHECKPOINT_FALLBACK", 0.0)
    session = open_session(db, clock)
    try:
        assert session.next_account() is not None
        session.log(OutcomeInput("no_answer"))
        assert session.last_checkpoint is not None
        busy, frames, copied = session.last_checkpoint
        assert busy == 0 and frames > 0 and copied == frames
    finally:
        session.close()


def test_other_connections_keep_automatic_checkpoints(db: Path) -> None:
    conn = connect(db)
    try:
        assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
        assert checkpoint(conn, "TRUNCATE")[0] == 0
        assert Path(f"{db}-wal").stat().st_size == 0  # TRUNCATE empties the file
        with pytest.raises(ValueError, match="'SOMETIMES'"):
            checkpoint(conn, "SOMETIMES")
    finally:
        conn.close()


async def test_the_screen_checkpoints_the_wal_while_the_collector_works(
    db: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(work_mod, "CHECKPOINT_EVERY", 0.05)
    app = make_app(db, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        session = app.session
        session.last_checkpoint = None
        await wait_until(pilot, lambda: session.last_checkpoint is not None)
        busy, frames, copied = session.last_checkpoint  # type: ignore[misc]
        assert busy == 0 and copied == frames > 0


async def test_the_header_counts_stay_right_after_outcomes(db: Path, clock: FixedClock) -> None:
    def truth() -> dict[str, int]:
        rows = db_rows(
            db,
            "SELECT state, COUNT(*) FROM queue q JOIN collectors c ON c.id = q.collector_id "
            "WHERE c.username = 'alice' GROUP BY state",
        )
        return {r[0]: r[1] for r in rows}

    app = make_app(db, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        await wait_until(pilot, lambda: bool(screen._counts))
        for key in ("n", "l"):
            await pilot.press(key)
            await settle(pilot)
        want = truth()
        shown = str(screen.query_one("#topbar").render())
        expect = f"{want.get('ready', 0)} ready · {want.get('waiting', 0)} waiting"
        assert expect in shown, shown
        screen._refresh_counts()  # the periodic refresh agrees with what was counted
        await wait_until(pilot, lambda: screen._counts == want)
