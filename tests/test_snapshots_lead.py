"""Snapshots of the lead's review queue (`R`) and disputes (`D`) at 80x24 and 160x48.

Update after an intended change with:
pytest tests/test_snapshots_lead.py --snapshot-update
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_lead_desk import lead_desk_portfolio, rows
from tui_helpers import make_app, settle, wait_until

from dunning.clock import FixedClock

SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "snap.db"
    lead_desk_portfolio(path, clock)
    return path


def opened(key: str, expect: int):  # noqa: ANN201
    async def run_before(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press(key)
        await wait_until(pilot, lambda: rows(pilot) == expect)

    return run_before


@SIZES
def test_review_queue(snap_compare, db, clock, size):
    assert snap_compare(make_app(db, clock, "lena"), terminal_size=size, run_before=opened("R", 2))


@SIZES
def test_disputes(snap_compare, db, clock, size):
    assert snap_compare(make_app(db, clock, "lena"), terminal_size=size, run_before=opened("D", 1))
