"""Approvals on screen (issue 9, item 7): a collector logs a payment plan outside the
policy with keys (`P`), reads "waiting for approval" and moves on; the lead approves it
from the review queue (`R`, `y`): the plan's instalments exist, the decision is recorded,
the account is back in its collector's queue. Keys pressed, then the database and the
screen asserted."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Input
from tui_helpers import build_portfolio, db_rows, make_app, settle, wait_until

from dunning.clock import FixedClock


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "plans.db"
    build_portfolio(path, clock)
    return path


def status(pilot) -> str:  # noqa: ANN001
    return str(pilot.app.screen.query_one("#status").render())


def rows(pilot) -> int:  # noqa: ANN001
    found = pilot.app.screen.query(DataTable)
    return found.first().row_count if found else 0


async def fill(pilot, values: dict[str, str]) -> None:  # noqa: ANN001
    await wait_until(pilot, lambda: bool(pilot.app.screen.query("#f-count")))
    for key, value in values.items():
        pilot.app.screen.query_one(f"#f-{key}", Input).value = value
    await pilot.press("enter")


async def log_long_plan(db: Path, clock: FixedClock) -> str:
    """alice, on her first account, logs 24 monthly instalments (over 12 months)."""
    app = make_app(db, clock, "alice")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await settle(pilot)
        ref = screen.view.external_ref
        await pilot.press("P")
        await fill(pilot, {"count": "24", "amount": "50", "first": "+7d", "every": "1"})
        await wait_until(pilot, lambda: "waiting for approval" in status(pilot))
        assert "payment plan outside policy" in status(pilot)
        await settle(pilot)
        assert pilot.app.screen.view.external_ref != ref  # moved on
    return ref


async def test_a_plan_outside_policy_waits_then_the_lead_approves_it(db, clock):
    ref = await log_long_plan(db, clock)
    q = db_rows(db, "SELECT q.state, q.next_action FROM queue q JOIN customers c "
                    "ON c.id = q.customer_id WHERE c.external_ref = ?", (ref,))  # fmt: skip
    assert tuple(q[0]) == ("review", "lead_review")
    assert db_rows(db, "SELECT COUNT(*) FROM promises")[0][0] == 0
    clock.advance(minutes=2)
    lead = make_app(db, clock, "lena")
    async with lead.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await wait_until(pilot, lambda: rows(pilot) == 1)
        table = pilot.app.screen.query_one(DataTable)
        assert "payment plan outside policy" in str(table.get_row_at(0)[4])
        assert "24 instalments" in str(table.get_row_at(0)[6])
        detail = str(pilot.app.screen.query_one("#review-detail").render())
        assert "over 12 months" in detail and "y approves" in detail
        await pilot.press("y")
        await wait_until(pilot, lambda: bool(pilot.app.screen.query("#f-reason")))
        pilot.app.screen.query_one("#f-reason", Input).value = "long-standing customer"
        await pilot.press("enter")
        await wait_until(pilot, lambda: rows(pilot) == 0)
        said = str(pilot.app.screen.query_one("#review-status").render())
        assert f"{ref}: payment plan approved (alice)" in said
    promises = db_rows(db, "SELECT COUNT(*), MIN(status), MAX(status), MIN(plan_ref) "
                           "FROM promises")  # fmt: skip
    assert (promises[0][0], promises[0][1], promises[0][2]) == (24, "pending", "pending")
    d = db_rows(db, "SELECT r.decision, r.came_for, r.reason, k.username FROM review_decisions r "
                    "JOIN collectors k ON k.id = r.decided_by")  # fmt: skip
    assert tuple(d[0]) == ("plan_approved", "plan_outside_policy", "long-standing customer",
                           "lena")  # fmt: skip
    q = db_rows(db, "SELECT q.state, q.next_action, k.username FROM queue q JOIN customers c "
                    "ON c.id = q.customer_id JOIN collectors k ON k.id = q.collector_id "
                    "WHERE c.external_ref = ?", (ref,))  # fmt: skip
    assert tuple(q[0]) == ("waiting", "instalment_check", "alice")


async def test_a_bad_plan_is_named_in_the_dialog_and_nothing_is_saved(db, clock):
    app = make_app(db, clock, "alice")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("P")
        await fill(pilot, {"count": "x", "amount": "50", "first": "+7d"})
        await pilot.pause(0.1)
        error = str(pilot.app.screen.query_one("#dialog-error").render())
        assert "Instalments: 'x' is not a number from 2 to 60" in error
        await pilot.press("escape")
    assert db_rows(db, "SELECT COUNT(*) FROM activities WHERE outcome = 'payment_plan'")[0][0] == 0


async def test_n_declines_the_plan_and_it_goes_back_without_promises(db, clock):
    ref = await log_long_plan(db, clock)
    lead = make_app(db, clock, "lena")
    async with lead.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await wait_until(pilot, lambda: rows(pilot) == 1)
        await pilot.press("n")
        await wait_until(pilot, lambda: bool(pilot.app.screen.query("#f-reason")))
        pilot.app.screen.query_one("#f-reason", Input).value = "too long: 12 months at most"
        await pilot.press("enter")
        await wait_until(pilot, lambda: rows(pilot) == 0)
    assert db_rows(db, "SELECT COUNT(*) FROM promises")[0][0] == 0
    q = db_rows(db, "SELECT q.state FROM queue q JOIN customers c ON c.id = q.customer_id "
                    "WHERE c.external_ref = ?", (ref,))  # fmt: skip
    assert q[0][0] == "ready"
    d = db_rows(db, "SELECT decision FROM review_decisions")
    assert d[0][0] == "plan_declined"
