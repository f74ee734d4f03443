"""A partial write-off on screen (issue 9, item 7; queue/writeoffs.py): the collector
escalates (`e`) to a write-off with one invoice ticked, reads "waiting for approval"; the
lead approves it from the review queue (`R`, `y`): that invoice is closed and recorded as
written off, the rest of the account is back in its collector's queue."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Input
from tui_helpers import build_portfolio, db_rows, make_app, settle, wait_until

from dunning.clock import FixedClock
from dunning.tui.dialogs.outcome import OutcomeDialog


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "writeoffs.db"
    build_portfolio(path, clock)
    return path


def status(pilot) -> str:  # noqa: ANN001
    return str(pilot.app.screen.query_one("#status").render())


def rows(pilot) -> int:  # noqa: ANN001
    found = pilot.app.screen.query(DataTable)
    return found.first().row_count if found else 0


ACME_INVOICES = "SELECT number, status, open_minor FROM invoices WHERE customer_id = 1 ORDER BY id"


async def test_a_collector_writes_off_one_invoice_and_the_lead_approves(db, clock):
    app = make_app(db, clock, "alice")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await settle(pilot)
        assert screen.view.name == "Acme Anvils Inc."
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, OutcomeDialog))
        await wait_until(pilot, lambda: bool(pilot.app.screen.query("#f-invoices")))
        # lead_review -> settlement -> writeoff; back to the invoices; the second one
        await pilot.press("down", "down", "shift+tab", "down", "space", "enter")
        await wait_until(pilot, lambda: "waiting for approval" in status(pilot))
        assert "write-off request" in status(pilot)
    assert [tuple(r) for r in db_rows(db, ACME_INVOICES)] == [
        ("INV-1-0", "open", 2_500_000), ("INV-1-1", "open", 300_000), ("INV-1-2", "open", -20_000),
    ]  # fmt: skip

    clock.advance(minutes=2)
    lead = make_app(db, clock, "lena")
    async with lead.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await wait_until(pilot, lambda: rows(pilot) == 1)
        terms = str(pilot.app.screen.query_one(DataTable).get_row_at(0)[6])
        assert "write off $3,000.00: invoices INV-1-1" in terms
        await pilot.press("y")
        await wait_until(pilot, lambda: bool(pilot.app.screen.query("#f-reason")))
        pilot.app.screen.query_one("#f-reason", Input).value = "short shipped, agreed"
        await pilot.press("enter")
        await wait_until(pilot, lambda: rows(pilot) == 0)
        said = str(pilot.app.screen.query_one("#review-status").render())
        assert "write-off approved (alice)" in said

    assert [tuple(r) for r in db_rows(db, ACME_INVOICES)] == [
        ("INV-1-0", "open", 2_500_000), ("INV-1-1", "closed", 0), ("INV-1-2", "open", -20_000),
    ]  # fmt: skip
    w = db_rows(
        db,
        """SELECT w.amount_minor, w.kind, k.username, w.reason, d.decision
           FROM writeoffs w JOIN collectors k ON k.id = w.by_id
           JOIN review_decisions d ON d.id = w.decision_id""",
    )
    assert [tuple(r) for r in w] == [
        (300_000, "writeoff", "lena", "short shipped, agreed", "writeoff_approved")
    ]
    q = db_rows(
        db,
        """SELECT q.state, k.username, c.status FROM queue q JOIN customers c
           ON c.id = q.customer_id JOIN collectors k ON k.id = q.collector_id
           WHERE c.id = 1""",
    )
    assert tuple(q[0]) == ("ready", "alice", "active")  # the rest is still collected


async def test_the_escalate_dialog_shows_each_choice_its_own_fields(db, clock):
    app = make_app(db, clock, "alice")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, OutcomeDialog))
        dialog = pilot.app.screen

        def shown() -> tuple[bool, bool]:
            return (dialog.query_one("#for-amount").display,
                    dialog.query_one("#for-invoices").display)  # fmt: skip

        await wait_until(pilot, lambda: shown() == (False, False))  # lead review
        await pilot.press("down")  # settlement: its amount and date
        await wait_until(pilot, lambda: shown() == (True, False))
        assert dialog.query_one("#for-date").display
        await pilot.press("down")  # write-off: the invoices to tick
        await wait_until(pilot, lambda: shown() == (False, True))
        await pilot.press("up")  # settlement again: 800.00 by +14d
        await wait_until(pilot, lambda: shown() == (True, False))
        dialog.query_one("#f-amount", Input).value = "800"
        dialog.query_one("#f-date", Input).value = "+14d"
        await pilot.press("enter")
        await wait_until(pilot, lambda: "waiting for approval" in status(pilot))
        assert "settlement request" in status(pilot)
    act = db_rows(db, "SELECT details FROM activities WHERE outcome = 'escalated'")
    assert (
        '"amount_minor": 80000' in act[0][0]
        and '"review_reason": "settlement_request"' in (act[0][0])
    )
