"""The screen obeys the rights the command line obeys (dunning/queue/rights.py): a
collector's `A` shows the aging of their own accounts (reports are for leads and admins),
a lead's the team's; `a` (reassign) is for leads and admins only."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Static
from tui_helpers import build_portfolio, make_app, settle

from dunning.clock import FixedClock


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "work.db"
    build_portfolio(path, clock)
    return path


async def _aging_rows(pilot) -> tuple[str, list[str]]:  # noqa: ANN001
    app = pilot.app
    await pilot.press("A")
    table = None
    for _ in range(100):
        await pilot.pause(0.05)
        found = app.screen.query(DataTable)
        table = found.first() if found else None
        if table is not None and table.row_count:
            break
    assert table is not None and table.row_count
    title = str(app.screen.query_one("#aging-title", Static).render())
    return title, [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def test_a_collectors_aging_is_their_own_portfolio(db, clock):
    app = make_app(db, clock, "alice")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        title, keys = await _aging_rows(pilot)
    assert title.startswith("Aging of your accounts")
    assert set(keys) == {"alice", "TOTAL"}  # bruno's accounts are not shown to alice


async def test_a_leads_aging_is_the_teams(db, clock):
    app = make_app(db, clock, "lena")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        title, keys = await _aging_rows(pilot)
    assert title.startswith("Aging by collector")
    assert {"alice", "bruno"} <= set(keys)


async def test_reassign_follows_the_rights_table(db, clock, monkeypatch):
    from dunning.queue import rights

    app = make_app(db, clock, "alice")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        assert screen.check_action("reassign", ()) is False
        assert not screen.session.may("assign")
        # the screen asks the same table as the command line, not the role name
        monkeypatch.setitem(rights.ACTION_ROLES, "assign", ("collector", "lead", "admin"))
        assert screen.check_action("reassign", ()) is True
