"""The account screen shows the calling window in the collector's clock, and re-checks it
as time passes: a green account open past 21:00 turns red with nobody committing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from tui_helpers import db_rows, make_app, part, settle, wait_until

from dunning.clock import FixedClock
from dunning.db.connection import connect
from dunning.db.schema import migrate
from dunning.queue.config import Settings
from dunning.tui import window_watch


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    """alice's one consumer: a New York address and a Los Angeles number."""
    from conftest import Ledger

    path = tmp_path / "windows.db"
    conn = connect(path)
    migrate(conn)
    led = Ledger(conn, clock, Settings())
    alice = led.collector("alice")
    led.customer(
        "Jane Doe",
        collector=alice,
        portfolio="consumer",
        subdivision="NY",
        phones=["+12135550100"],
        invoices=[(50_000, "2026-06-01")],
    )
    conn.close()
    return path


def call_text(screen) -> str:
    return part(screen, "call")


async def test_the_window_and_its_zones_are_shown(db, clock):
    clock.at = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # 12:00 New York, 09:00 Los Angeles
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        text = call_text(screen)
        # the collector's clock is UTC here: 08:00 Los Angeles = 16:00, 21:00 New York = 02:00
        assert "callable 16:00–02:00 your time: Los Angeles and New York" in text
        assert "not callable" not in text
        assert all(len(line) <= 80 for line in text.splitlines())


async def test_a_green_account_turns_red_at_21_00_new_york(db, clock, monkeypatch):
    monkeypatch.setattr(window_watch, "RECHECK_EVERY", 0.2)
    clock.at = datetime(2026, 11, 24, 1, 50, tzinfo=UTC)  # 20:50 New York
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        assert screen.view is not None and screen.view.callable.ok
        assert "not callable" not in call_text(screen)
        clock.advance(minutes=15)  # 21:05 New York: nobody commits anything
        await wait_until(pilot, lambda: "not callable now" in call_text(screen))
        text = call_text(screen)
        assert "outside calling hours" in text
        # it opens at 08:00 Los Angeles, 16:00 for this (UTC) collector
        assert "callable from 16:00 your time: Los Angeles" in text
        assert not screen.view.callable.ok
        assert db_rows(db, "SELECT COUNT(*) FROM activities")[0][0] == 0
        # and it turns green again when the window opens
        clock.at = datetime(2026, 11, 24, 16, 1, tzinfo=UTC)
        await wait_until(pilot, lambda: "not callable" not in call_text(screen))
        assert screen.view.callable.ok


async def test_the_screen_rechecks_at_the_edge_of_the_window(db, clock):
    """No need to wait for the minute: a timer is set for 21:00 sharp."""
    clock.at = datetime(2026, 11, 24, 1, 59, 59, 500_000, tzinfo=UTC)  # 20:59:59.5 New York
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        assert screen.view is not None and screen.view.callable.ok
        clock.advance(seconds=1)  # the edge timer (in half a second) finds 21:00:00.5
        await wait_until(pilot, lambda: "not callable now" in call_text(screen), timeout=3)
