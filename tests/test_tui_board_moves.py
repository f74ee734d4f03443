"""The team board on screen after a bulk move and with open disputes (issue 9): another
process's commits, then the screen and the database asserted."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_board import board_app, cell, on_board, text
from test_tui_lead_desk import lead_desk_portfolio
from tui_helpers import db_rows, wait_until

from dunning.cli import main
from dunning.clock import FixedClock


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "lead.db"
    lead_desk_portfolio(path, clock)  # alice: a dispute on Bolt (billing) today
    return path


async def test_a_bulk_move_and_its_dispute_show_on_the_board(db, clock, capsys):
    app = board_app(db, clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await on_board(pilot)
        await wait_until(pilot, lambda: pilot.app.screen.drawn)
        assert cell(pilot, "alice", "disputes") == "1" and cell(pilot, "bruno", "disputes") == "0"
        assert "open disputes: 1, 0 overdue" in text(pilot, "#board-detail")  # on alice
        before = (cell(pilot, "alice", "ready"), cell(pilot, "bruno", "ready"))
        # the lead moves every account of alice's to bruno from the command line
        code = main(["--db", str(db), "assign", "--where", "collector=alice", "--to", "bruno",
                     "--reason", "alice is off", "--any-language", "--as", "lena"],
                    clock=clock)  # fmt: skip
        assert code == 0, capsys.readouterr().err
        await wait_until(pilot, lambda: cell(pilot, "bruno", "disputes") == "1", timeout=5)
        assert cell(pilot, "alice", "disputes") == "0"
        assert cell(pilot, "alice", "ready") == "0" and before[0] != "0"
        assert int(cell(pilot, "bruno", "ready")) > int(before[1])
        assert "no open dispute" in text(pilot, "#board-detail")  # alice, still under the cursor
    rows = db_rows(db, "SELECT DISTINCT from_collector_id, collector_id FROM assignments "
                       "WHERE reason = 'alice is off'")  # fmt: skip
    ids = dict(db_rows(db, "SELECT username, id FROM collectors"))
    assert [tuple(r) for r in rows] == [(ids["alice"], ids["bruno"])]


async def test_at_80_columns_the_disputes_are_in_the_detail(db, clock):
    app = board_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await on_board(pilot)
        await wait_until(pilot, lambda: pilot.app.screen.drawn)
        assert "open disputes: 1, 0 overdue" in text(pilot, "#board-detail")
        await pilot.press("j")  # bruno
        await wait_until(pilot, lambda: "bruno" in text(pilot, "#board-detail"))
        assert "no open dispute" in text(pilot, "#board-detail")
