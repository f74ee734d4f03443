"""Snapshots of the compose view (`m`) at 80x24 and 160x48: the level's letter for a
French-speaking Quebec customer, previewed in French.

Update after an intended change with:
pytest tests/test_snapshots_compose.py --snapshot-update
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_compose import compose_app, compose_portfolio, compose_settings, open_compose

from dunning.clock import FixedClock

SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])


@SIZES
def test_compose(snap_compare, tmp_path: Path, clock: FixedClock, size):
    path = tmp_path / "snap.db"
    compose_portfolio(path, clock)
    settings = compose_settings(Path("/nonexistent"))

    async def run_before(pilot) -> None:  # noqa: ANN001
        await open_compose(pilot)

    assert snap_compare(compose_app(path, clock, settings), terminal_size=size,
                        run_before=run_before)  # fmt: skip
