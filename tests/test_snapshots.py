"""Snapshots of the main screens at 80x24 and at a wide 160x48.

Update after an intended change with: pytest tests/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input
from tui_helpers import build_portfolio, make_app, search_results, settle, wait_until

from dunning.clock import FixedClock


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "snap.db"
    build_portfolio(path, clock)
    return path


async def _ready(pilot) -> None:
    await settle(pilot)


async def _steady_cursor(pilot) -> None:
    """A text field's cursor blinks every 0.5 s: whether it is drawn depended on how long
    the machine took to get to the screenshot. Held on, the picture is always the same."""
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_work_screen(snap_compare, db, clock, size):
    assert snap_compare(make_app(db, clock), terminal_size=size, run_before=_ready)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_work_screen_with_history(snap_compare, db, clock, size):
    async def log_two_then_return(pilot) -> None:
        await settle(pilot)
        await pilot.press("i", *"Left a voicemail for AP", "escape", "l")
        await settle(pilot)
        await pilot.press("slash", *"acme")
        await wait_until(pilot, lambda: search_results(pilot) > 0)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(db, clock), terminal_size=size, run_before=log_two_then_return)


def test_promise_dialog(snap_compare, db, clock):
    async def open_dialog(pilot) -> None:
        await settle(pilot)
        await pilot.press("p")
        await wait_until(pilot, lambda: pilot.app.screen.query("#f-amount"))
        await _steady_cursor(pilot)

    assert snap_compare(make_app(db, clock), terminal_size=(80, 24), run_before=open_dialog)


def test_dispute_dialog(snap_compare, db, clock):
    async def open_dialog(pilot) -> None:
        await settle(pilot)
        await pilot.press("d")
        await wait_until(pilot, lambda: pilot.app.screen.query("#f-invoices"))

    assert snap_compare(make_app(db, clock), terminal_size=(80, 24), run_before=open_dialog)


def test_search_screen(snap_compare, db, clock):
    async def search(pilot) -> None:
        await settle(pilot)
        await pilot.press("slash", *"co")
        await wait_until(pilot, lambda: search_results(pilot) > 0)
        await _steady_cursor(pilot)

    assert snap_compare(make_app(db, clock), terminal_size=(80, 24), run_before=search)


def test_empty_queue(snap_compare, db, clock):
    async def work_all(pilot) -> None:
        await settle(pilot)
        for _ in range(4):
            await pilot.press("n")
            await settle(pilot)

    assert snap_compare(make_app(db, clock), terminal_size=(80, 24), run_before=work_all)


def test_work_screen_in_french(snap_compare, db, clock):
    """bruno works in fr_CA: labels, money (1 234,55 $) and dates in French."""
    assert snap_compare(make_app(db, clock, "bruno"), terminal_size=(80, 24), run_before=_ready)


def test_aging_screen(snap_compare, db, clock):
    async def open_aging(pilot) -> None:
        from textual.widgets import DataTable

        await settle(pilot)
        await pilot.press("A")
        await wait_until(
            pilot,
            lambda: (
                pilot.app.screen.query(DataTable)
                and pilot.app.screen.query_one(DataTable).row_count > 0
            ),
        )

    assert snap_compare(make_app(db, clock, "lena"), terminal_size=(160, 48), run_before=open_aging)
