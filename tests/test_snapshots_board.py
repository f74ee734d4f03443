"""Snapshots of the team board at 80x24 and 160x48 (issue 9, item 1).

Update after an intended change with:
pytest tests/test_snapshots_board.py --snapshot-update
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_board import board_app, on_board
from test_tui_lead_desk import lead_desk_portfolio
from tui_helpers import wait_until

from dunning.clock import FixedClock

SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "snap.db"
    lead_desk_portfolio(path, clock)  # alice refused, escalated and logged a dispute today
    return path


@SIZES
def test_team_board(snap_compare, db, clock, size):
    async def run_before(pilot) -> None:  # noqa: ANN001
        await on_board(pilot)
        # the live rows and the book drawn together, whichever was read first (the
        # columns' widths are set with the rows: nothing left for an idle moment)
        await wait_until(pilot, lambda: pilot.app.screen.drawn)
        await pilot.pause(0.1)

    assert snap_compare(board_app(db, clock), terminal_size=size, run_before=run_before)
