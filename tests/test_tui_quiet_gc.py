"""No garbage collection between an outcome key and the next account drawn
(tui/quiet_gc.py): paused while the outcome is saved and the next account claimed, on
again once that account's frame is written, and on again when the save fails."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static
from tui_helpers import build_portfolio, db_rows, make_app, part, settle, wait_until

from dunning.clock import FixedClock
from dunning.queue.session import WorkSession
from dunning.tui.quiet_gc import QuietCollections


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "quiet.db"
    build_portfolio(path, clock)
    return path


@pytest.fixture(autouse=True)
def gc_back_on() -> Iterator[None]:
    yield
    gc.enable()  # whatever a failing test left


async def test_collections_pause_during_the_save_and_resume_once_drawn(
    db: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    log, claim = WorkSession.log, WorkSession.next_account

    def logged(self: WorkSession, inp):  # noqa: ANN001, ANN202
        seen.append(gc.isenabled())
        return log(self, inp)

    def claimed(self: WorkSession, exclude=frozenset()):  # noqa: ANN001, ANN202
        seen.append(gc.isenabled())
        return claim(self, exclude)

    monkeypatch.setattr(WorkSession, "log", logged)
    monkeypatch.setattr(WorkSession, "next_account", claimed)
    app = make_app(db, clock)
    app.quiet_gc = True
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        seen.clear()
        assert gc.isenabled()
        await pilot.press("n")
        screen = await settle(pilot)
        assert "Bolt Brothers" in part(screen, "title")
        assert seen == [False, False]  # the save and the claim ran without collections
        await wait_until(pilot, gc.isenabled)  # on again once the frame is written
        rows = db_rows(db, "SELECT outcome FROM activities WHERE outcome = 'no_answer'")
        assert len(rows) == 1


async def test_collections_resume_when_the_save_fails(
    db: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: WorkSession, inp):  # noqa: ANN001, ANN202
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(WorkSession, "log", broken)
    app = make_app(db, clock)
    app.quiet_gc = True
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        await pilot.press("n")
        screen = await settle(pilot)
        assert "disk on fire" in str(screen.query_one("#status", Static).render())
        assert gc.isenabled()
        assert "Acme Anvils" in part(screen, "title")  # still the account it was


async def test_the_app_in_a_test_never_pauses_collections(db: Path, clock: FixedClock) -> None:
    app = make_app(db, clock)  # quiet_gc is the real app's (run_app), like gc.freeze
    assert app.quiet_gc is False
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert gc.isenabled()


def test_someone_elses_pause_is_left_alone_and_a_late_timer_releases_only_its_own() -> None:
    quiet = QuietCollections(True)
    gc.disable()  # e.g. db/reports.py paused_gc in a worker
    assert quiet.hold() is None
    quiet.release()
    assert not gc.isenabled()  # not ours to undo
    gc.enable()
    first = quiet.hold()
    assert first is not None and not gc.isenabled()
    quiet.release()
    second = quiet.hold()
    assert second is not None
    quiet.release_late(first)  # the first pause's timer, late: not this pause
    assert not gc.isenabled()
    quiet.release_late(second)
    assert gc.isenabled()
