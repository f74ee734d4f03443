"""Snapshots of the command palette with the work screen's commands (issue 9, item 10),
at 80x24 and 160x48. Update after an intended change with:
pytest tests/test_snapshots_palette.py --snapshot-update"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.widgets import Input, OptionList
from tui_helpers import build_portfolio, make_app, settle, wait_until

from dunning.clock import FixedClock


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "snap.db"
    build_portfolio(path, clock)
    return path


def _hits(pilot) -> int:  # noqa: ANN001
    try:
        return pilot.app.screen.query_one(OptionList).option_count
    except Exception:  # noqa: BLE001 - not open yet
        return 0


def _palette(text: str):  # noqa: ANN202
    async def run(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette))
        await pilot.press(*text)
        await wait_until(pilot, lambda: _hits(pilot) > 0)
        for field in pilot.app.screen.query(Input):
            field.cursor_blink = False
        await pilot.pause(0.3)

    return run


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_palette_finds_an_outcome(snap_compare, db, clock, size):
    assert snap_compare(make_app(db, clock), terminal_size=size, run_before=_palette("no"))


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_palette_of_a_lead(snap_compare, db, clock, size):
    async def lead(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        pilot.app.screen.session.open_account(5)
        await pilot.press("ctrl+r")
        await _palette("re")(pilot)

    assert snap_compare(make_app(db, clock, "lena"), terminal_size=size, run_before=lead)
