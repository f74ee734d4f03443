"""Snapshots of the lead's account list (`F`) at 80x24 and 160x48: a filter applied, two
accounts selected.

Update after an intended change with:
pytest tests/test_snapshots_accounts.py --snapshot-update
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_accounts import accounts_portfolio, apply_filter, open_accounts, table, title
from tui_helpers import make_app, wait_until

from dunning.clock import FixedClock

SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "snap.db"
    accounts_portfolio(path, clock)
    return path


async def filtered(pilot) -> None:  # noqa: ANN001
    await open_accounts(pilot, 100)
    await apply_filter(pilot, "collector=carmen,alice")
    await wait_until(pilot, lambda: "119 matching" in title(pilot) and not table(pilot).busy)
    await pilot.press("space", "space")
    await wait_until(pilot, lambda: "2 selected" in title(pilot))


@SIZES
def test_account_list(snap_compare, db, clock, size):
    assert snap_compare(make_app(db, clock, "lena"), terminal_size=size, run_before=filtered)
