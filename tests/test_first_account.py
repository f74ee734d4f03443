"""The first account claimed ahead of the screen (WorkSession.prefetch_first, issue 8:
start -> first account): the same account, the same claim and the same errors as when
the screen claims it itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from tui_helpers import build_portfolio, db_rows, part, settle

from dunning.clock import FixedClock
from dunning.db.connection import connect
from dunning.queue.access import ClaimError
from dunning.queue.collectors import Collector, get_collector
from dunning.queue.config import Settings
from dunning.queue.session import WorkSession
from dunning.tui.app import DunningApp


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "work.db"
    build_portfolio(path, clock)
    return path


def alice(path: Path) -> Collector:
    conn = connect(path)
    try:
        me = get_collector(conn, "alice")
    finally:
        conn.close()
    assert me is not None
    return me


def _claimed_ahead(session: WorkSession) -> None:
    """The claim made ahead (as `dunning` makes it while Textual imports), finished."""
    session.prefetch_first()
    assert session._first is not None
    session._first[0].join()


def claimed(path: Path) -> list[int]:
    return [r[0] for r in db_rows(path, "SELECT customer_id FROM queue WHERE claimed_by = 1")]


def test_prefetched_is_the_account_next_account_claims(tmp_path: Path, clock: FixedClock) -> None:
    plain_db, ahead_db = tmp_path / "a.db", tmp_path / "b.db"
    build_portfolio(plain_db, clock)
    build_portfolio(ahead_db, clock)
    plain = WorkSession(plain_db, alice(plain_db), Settings(), clock)
    ahead = WorkSession(ahead_db, alice(ahead_db), Settings(), clock)
    try:
        ahead.prefetch_first()
        for _ in range(3):  # the first from the prefetch, then claimed as usual
            a, b = plain.next_account(), ahead.next_account()
            assert a is not None and b is not None
            assert (a.id, a.name) == (b.id, b.name)
            assert plain.current == ahead.current == a.id
        assert claimed(plain_db) == claimed(ahead_db)
    finally:
        plain.close()
        ahead.close()


def test_a_prefetch_error_is_raised_by_next_account(
    db: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = WorkSession(db, alice(db), Settings(), clock)
    try:
        calls: list[frozenset[int]] = []
        real = session._claim_next

        def failing(exclude: frozenset[int]) -> object:
            calls.append(exclude)
            if len(calls) == 1:
                raise ClaimError("the queue is locked")
            return real(exclude)

        monkeypatch.setattr(session, "_claim_next", failing)
        session.prefetch_first()
        with pytest.raises(ClaimError, match="the queue is locked"):
            session.next_account()
        view = session.next_account()  # the next one claims again
        assert view is not None and len(calls) == 2
    finally:
        session.close()


def test_next_account_with_exclusions_does_not_take_the_prefetch(
    db: Path, clock: FixedClock
) -> None:
    session = WorkSession(db, alice(db), Settings(), clock)
    try:
        session.prefetch_first()  # claims Acme (id 1)
        view = session.next_account(exclude=frozenset({1}))
        assert view is not None and view.id != 1
    finally:
        session.close()


async def test_the_screen_shows_the_prefetched_account(db: Path, clock: FixedClock) -> None:
    session = WorkSession(db, alice(db), Settings(), clock)
    session.prefetch_first()
    app = DunningApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        assert "Acme Anvils" in part(screen, "title")
        assert screen.view is not None and claimed(db) == [screen.view.id]
        assert session._first is None
    session.close()


@pytest.mark.parametrize(("width", "wide"), [(80, False), (129, False), (130, True), (160, True)])
async def test_the_screen_starts_with_its_width_class(
    db: Path, clock: FixedClock, width: int, wide: bool
) -> None:
    """Given before the first resize (so the screen is not styled twice), the same class
    that resize gives; resizing still switches it."""
    session = WorkSession(db, alice(db), Settings(), clock)
    app = DunningApp(session)
    async with app.run_test(size=(width, 30)) as pilot:
        screen = await settle(pilot)
        assert screen.has_class("-wide") is wide
        assert screen.has_class("-narrow") is not wide
        await pilot.resize_terminal(100 if wide else 150, 30)
        await settle(pilot)
        assert screen.has_class("-wide") is not wide
        assert screen.has_class("-narrow") is wide
    session.close()


async def test_collections_deferred_at_start_resume_once_the_account_is_drawn(
    db: Path, clock: FixedClock
) -> None:
    import gc

    from dunning import startup

    before = gc.get_threshold()
    startup.defer_collections()
    try:
        assert gc.get_threshold()[0] >= startup.START_THRESHOLD
        session = WorkSession(db, alice(db), Settings(), clock)
        app = DunningApp(session)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert gc.get_threshold() == before
        session.close()
    finally:
        startup.resume_collections()
    assert gc.get_threshold() == before


def test_a_command_runs_with_the_usual_collections(tmp_path: Path) -> None:
    import gc

    from dunning import startup
    from dunning.cli import main

    before = gc.get_threshold()
    for argv in (["--db", str(tmp_path / "none.db")], ["--version"], ["collectors", "--help"]):
        startup.defer_collections()  # as `python -m dunning` does
        main(argv)
        assert gc.get_threshold() == before


def _frames(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Each frame of the work screen: (the account's name or "", the status line)."""
    from dunning.tui.screens.work import WorkScreen

    seen: list[tuple[str, str]] = []
    real = DunningApp._display

    def display(self: DunningApp, screen: object, renderable: object) -> None:
        if isinstance(screen, WorkScreen) and renderable is not None:
            name = screen.view.name if screen.view is not None else ""
            seen.append((name, str(screen.query_one("#status").content)))
        real(self, screen, renderable)  # type: ignore[arg-type]

    monkeypatch.setattr(DunningApp, "_display", display)
    return seen


def _statuses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the status line is given, in order."""
    from textual.widgets import Static

    from dunning.tui.widgets.shown import Shown

    seen: list[str] = []
    real = Shown.update

    def update(self: Static, content: object = "", *args: object, **kw: object) -> None:
        if self.id == "status":
            seen.append(str(content))
        real(self, content, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Shown, "update", update)
    return seen


async def test_a_first_account_claimed_before_the_mount_is_the_first_frame(
    db: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim made while Textual imports is done: the screen's first frame is the
    account (no "Loading…" frame drawn, no worker claiming it)."""
    from dunning.tui.screens.work import WorkScreen

    frames = _frames(monkeypatch)
    session = WorkSession(db, alice(db), Settings(), clock)
    _claimed_ahead(session)
    app = DunningApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        assert isinstance(screen, WorkScreen)
        assert frames[0] == ("Acme Anvils Inc.", "")  # the first frame: no "Loading…"
        assert "Acme Anvils" in part(screen, "title")
        assert claimed(db) == [screen.view.id] and session._first is None
        await pilot.pause(0.1)
        assert screen._counts  # the header's counts came in a worker
    session.close()


async def test_a_first_claim_still_running_at_mount_is_taken_by_a_worker(
    db: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    statuses = _statuses(monkeypatch)
    session = WorkSession(db, alice(db), Settings(), clock)
    go = threading.Event()
    real = session._claim_next

    def slow(exclude: frozenset[int]) -> object:
        go.wait(10)
        return real(exclude)

    monkeypatch.setattr(session, "_claim_next", slow)
    session.prefetch_first()
    app = DunningApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.screen.view is None and statuses == ["Loading…"]
        go.set()
        screen = await settle(pilot)
        assert "Acme Anvils" in part(screen, "title")
        assert claimed(db) == [screen.view.id]
    session.close()


async def test_a_failed_first_claim_is_shown_as_before(
    db: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = WorkSession(db, alice(db), Settings(), clock)

    def failing(exclude: frozenset[int]) -> object:
        raise ClaimError("the queue is locked")

    monkeypatch.setattr(session, "_claim_next", failing)
    _claimed_ahead(session)
    app = DunningApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        assert screen.view is None
        assert "the queue is locked" in str(screen.query_one("#status").content)
    session.close()
