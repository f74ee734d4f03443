"""Snapshots of issue 9's approvals and the lead's read-only view at 80x24 and 160x48:
the review queue with a plan outside policy (its terms, the row in full below), the
payment plan dialog (`P`), and a held account opened read-only by a lead.

Update after an intended change with:
pytest tests/test_snapshots_approvals.py --snapshot-update
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input
from tui_helpers import build_portfolio, make_app, settle, wait_until

from dunning.clock import FixedClock
from dunning.db.connection import connect
from dunning.queue.collectors import get_collector
from dunning.queue.config import Settings
from dunning.queue.outcomes import OutcomeInput, log_outcome
from dunning.queue.session import WorkSession
from dunning.tui.screens.account_view import AccountViewScreen

SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    """The Pilot portfolio; Cogs's plan (18 months) waits for a lead; alice holds Acme."""
    path = tmp_path / "snap.db"
    build_portfolio(path, clock)
    conn = connect(path)
    alice = get_collector(conn, "alice")
    assert alice is not None
    cogs = conn.execute("SELECT id FROM customers WHERE name = 'Cogs Co'").fetchone()[0]
    plan = [(10_000, date(2026 + (11 + k) // 12, (11 + k) % 12 + 1, 1)) for k in range(18)]
    log_outcome(conn, clock, Settings(), collector_id=alice.id, customer_id=cogs,
                inp=OutcomeInput("payment_plan", instalments=plan, note="needs time"))  # fmt: skip
    conn.close()
    return path


def review_open(expect: int):  # noqa: ANN201
    async def run_before(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("R")
        await wait_until(
            pilot,
            lambda: (
                bool(pilot.app.screen.query(DataTable))
                and pilot.app.screen.query_one(DataTable).row_count == expect
            ),
        )

    return run_before


async def plan_dialog(pilot) -> None:  # noqa: ANN001
    await settle(pilot)
    await pilot.press("P")
    await wait_until(pilot, lambda: bool(pilot.app.screen.query("#f-count")))
    for field in pilot.app.screen.query(Input):  # a blinking cursor: held on (test_snapshots)
        field.cursor_blink = False
    await pilot.pause()


async def look_at_held(pilot) -> None:  # noqa: ANN001
    await settle(pilot)
    await pilot.press("slash")
    await wait_until(pilot, lambda: bool(pilot.app.screen.query("#search-input")))
    pilot.app.screen.query_one("#search-input", Input).value = "Acme"
    await wait_until(pilot, lambda: pilot.app.screen.query_one("#search-results").option_count > 0)
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, AccountViewScreen))
    await wait_until(
        pilot, lambda: "held by" in str(pilot.app.screen.query_one("#look-holder").render())
    )


@SIZES
def test_review_queue_with_a_plan(snap_compare, db, clock, size):
    app = make_app(db, clock, "lena")
    assert snap_compare(app, terminal_size=size, run_before=review_open(1))


@SIZES
def test_plan_dialog(snap_compare, db, clock, size):
    assert snap_compare(make_app(db, clock, "alice"), terminal_size=size, run_before=plan_dialog)


@SIZES
def test_held_account_read_only(snap_compare, db, clock, size):
    conn = connect(db)
    alice = get_collector(conn, "alice")
    conn.close()
    session = WorkSession(db, alice, Settings(), clock)
    session.open_account(1)  # Acme: alice holds it
    try:
        app = make_app(db, clock, "lena")
        assert snap_compare(app, terminal_size=size, run_before=look_at_held)
    finally:
        session.close()
