"""Pilot: the callback dialog reads the customer's time, shows both clocks as the time is
typed, and refuses a time outside a consumer's calling window saying when it opens."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from textual.widgets import Static
from tui_helpers import build_portfolio, db_rows, make_app, settle

from dunning.clock import FixedClock
from dunning.tui.dialogs.outcome import OutcomeDialog


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    """Acme (New York, on top of alice's queue) is a consumer; alice works from Paris."""
    path = tmp_path / "times.db"
    build_portfolio(path, clock)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE customers SET portfolio = 'consumer' WHERE name LIKE 'Acme%'")
        conn.execute("UPDATE collectors SET tz = 'Europe/Paris' WHERE username = 'alice'")
    conn.close()
    return path


def shown(app, selector: str) -> str:  # noqa: ANN001
    return str(app.screen.query_one(selector, Static).render())


def activities(db: Path) -> int:
    return int(db_rows(db, "SELECT COUNT(*) FROM activities")[0][0])


async def test_the_callback_dialog_shows_both_clocks_as_you_type(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause(0.1)
        assert isinstance(app.screen, OutcomeDialog)
        assert "customer's time (New York)" in shown(app, "#clocks-at")
        await pilot.press(*"tomorrow 9:00")
        await pilot.pause(0.05)
        assert shown(app, "#clocks-at") == "Tue 24 Nov 9:00 New York = 15:00 for you"
        await pilot.press(*" me")
        await pilot.pause(0.05)
        assert shown(app, "#clocks-at") == "Tue 24 Nov 3:00 New York = 9:00 for you"
        await pilot.press("backspace", "backspace", "backspace", "enter")
        screen = await settle(pilot)
        act = db_rows(db, "SELECT * FROM activities ORDER BY id DESC LIMIT 1")[0]
        assert act["outcome"] == "callback"
        assert act["next_action_at"] == "2026-11-24T14:00:00Z"  # 9:00 in New York
        assert screen.view is not None and "Acme" not in screen.view.name


async def test_a_callback_outside_the_window_is_refused_with_when_it_opens(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("c", *"tomorrow 21:30", "enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, OutcomeDialog)  # still open
        error = str(app.screen.query_one("#dialog-error").render())
        assert "Tue 24 Nov 21:30 New York is outside the calling window" in error
        assert "it opens Wed 25 Nov 8:00 New York (14:00 for you)" in error
        assert activities(db) == 0
        await pilot.press("escape")
        await settle(pilot)
        assert activities(db) == 0


async def test_a_next_action_chosen_with_shift_follows_the_same_rule(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("N", *"tomorrow 7:00", "enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, OutcomeDialog)
        assert "outside the calling window" in str(app.screen.query_one("#dialog-error").render())
        assert activities(db) == 0
        await pilot.press(*["backspace"] * 4, *"8:00", "enter")
        await settle(pilot)
        act = db_rows(db, "SELECT * FROM activities ORDER BY id DESC LIMIT 1")[0]
        assert act["outcome"] == "no_answer"
        assert act["next_action_at"] == "2026-11-24T13:00:00Z"  # 8:00 in New York
