"""The lead's review queue (`R`) and disputes (`D`) on screen: keys pressed, then the
database and the screen asserted; hidden from collectors; listed in the help."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import DataTable, Input, Static
from tui_helpers import build_portfolio, db_rows, make_app, settle, wait_until

from dunning.clock import FixedClock
from dunning.db.connection import connect
from dunning.queue.config import Settings
from dunning.queue.outcomes import OutcomeInput, log_outcome


def lead_desk_portfolio(path: Path, clock: FixedClock) -> None:
    """The Pilot portfolio; Acme refused and Cogs escalated to lead review (both alice's),
    one invoice of Bolt disputed with billing."""
    build_portfolio(path, clock)
    conn = connect(path)
    alice = conn.execute("SELECT id FROM collectors WHERE username = 'alice'").fetchone()[0]
    settings = Settings()
    refs = {r[1]: r[0] for r in conn.execute("SELECT id, name FROM customers")}

    def log(name: str, inp: OutcomeInput) -> None:
        log_outcome(conn, clock, settings, collector_id=alice, customer_id=refs[name], inp=inp)

    log("Acme Anvils Inc.", OutcomeInput("refused", note="says the goods were late"))
    clock.advance(minutes=3)
    log("Cogs Co", OutcomeInput("escalated", escalation="lead_review", note="asks for a plan"))
    inv = conn.execute(
        "SELECT id FROM invoices WHERE customer_id = ?", (refs["Bolt Brothers"],)
    ).fetchone()[0]
    log("Bolt Brothers", OutcomeInput("dispute", invoice_ids=[inv], reason="damaged",
                                      department="billing"))  # fmt: skip
    clock.advance(minutes=1)
    conn.close()


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "lead.db"
    lead_desk_portfolio(path, clock)
    return path


def help_text(pilot) -> str:  # noqa: ANN001
    console = Console(width=160, record=True, file=io.StringIO())
    console.print(pilot.app.screen.query_one("#help-text", Static).content)
    return console.export_text()


def rows(pilot) -> int:  # noqa: ANN001
    found = pilot.app.screen.query(DataTable)
    return found.first().row_count if found else 0


async def open_list(pilot, key: str, expect: int) -> None:  # noqa: ANN001
    await settle(pilot)
    await pilot.press(key)
    await wait_until(pilot, lambda: rows(pilot) == expect)


async def type_reason(pilot, text: str) -> None:  # noqa: ANN001
    await wait_until(pilot, lambda: bool(pilot.app.screen.query("#f-reason")))
    pilot.app.screen.query_one("#f-reason", Input).value = text
    await pilot.press("enter")


async def test_a_lead_sends_a_refused_account_back_to_its_collector(db, clock):
    app = make_app(db, clock, "lena")
    async with app.run_test(size=(160, 48)) as pilot:
        await open_list(pilot, "R", 2)
        table = pilot.app.screen.query_one(DataTable)
        assert "Acme" in str(table.get_row_at(0)[2])
        assert "refused to pay" in str(table.get_row_at(0)[4])
        await pilot.press("b")
        await type_reason(pilot, "call the CFO instead")
        await wait_until(pilot, lambda: rows(pilot) == 1)
        status = str(pilot.app.screen.query_one("#review-status").render())
        assert "back to the collector (alice)" in status
        assert "Cogs" in str(pilot.app.screen.query_one(DataTable).get_row_at(0)[2])
    d = db_rows(db, "SELECT decision, reason FROM review_decisions")
    assert [tuple(r) for r in d] == [("back", "call the CFO instead")]
    q = db_rows(db, "SELECT q.state FROM queue q JOIN customers c ON c.id = q.customer_id "
                    "WHERE c.name = 'Acme Anvils Inc.'")  # fmt: skip
    assert q[0][0] == "ready"


async def test_a_lead_sends_one_to_legal_and_another_to_bruno(db, clock):
    app = make_app(db, clock, "lena")
    async with app.run_test(size=(160, 48)) as pilot:
        await open_list(pilot, "R", 2)
        await pilot.press("l")
        await type_reason(pilot, "no answer to the final demand")
        await wait_until(pilot, lambda: rows(pilot) == 1)
        await pilot.press("c")
        await wait_until(pilot, lambda: bool(pilot.app.screen.query("#f-to")))
        await type_reason(pilot, "speaks their language")
        await wait_until(pilot, lambda: rows(pilot) == 0)
    status = db_rows(db, "SELECT status FROM customers WHERE name = 'Acme Anvils Inc.'")
    assert status[0][0] == "legal"
    moved = db_rows(
        db,
        "SELECT k.username FROM queue q JOIN customers c ON c.id = q.customer_id "
        "JOIN collectors k ON k.id = q.collector_id WHERE c.name = 'Cogs Co'",
    )
    assert moved[0][0] == "bruno"


async def test_an_empty_reason_is_named_in_the_dialog_and_nothing_changes(db, clock):
    app = make_app(db, clock, "lena")
    async with app.run_test(size=(80, 24)) as pilot:
        await open_list(pilot, "R", 2)
        await pilot.press("w")
        await type_reason(pilot, "")
        await pilot.pause(0.1)
        assert "say why" in str(pilot.app.screen.query_one("#dialog-error").render())
        await pilot.press("escape")
    assert db_rows(db, "SELECT COUNT(*) FROM review_decisions")[0][0] == 0


async def test_a_lead_resolves_a_dispute_invalid(db, clock):
    app = make_app(db, clock, "lena")
    async with app.run_test(size=(160, 48)) as pilot:
        await open_list(pilot, "D", 1)
        assert "Bolt" in str(pilot.app.screen.query_one(DataTable).get_row_at(0)[2])
        await pilot.press("i")
        await type_reason(pilot, "the goods were fine")
        await wait_until(pilot, lambda: rows(pilot) == 0)
        assert "resolved invalid" in str(pilot.app.screen.query_one("#disputes-status").render())
    d = db_rows(db, "SELECT status, resolved_by FROM disputes")
    assert d[0]["status"] == "resolved_invalid"
    assert db_rows(db, "SELECT COUNT(*) FROM invoices WHERE disputed = 1")[0][0] == 0


async def test_enter_opens_the_history_read_only(db, clock):
    app = make_app(db, clock, "lena")
    async with app.run_test(size=(160, 48)) as pilot:
        await open_list(pilot, "R", 2)
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(pilot.app.screen.query("#history-all")))
        await wait_until(
            pilot,
            lambda: "says the goods" in str(pilot.app.screen.query_one("#history-all").render()),
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: rows(pilot) == 2)


async def test_a_collector_has_neither_key_nor_help_line(db, clock):
    app = make_app(db, clock, "alice")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await pilot.press("D")
        await pilot.pause(0.1)
        assert type(pilot.app.screen).__name__ == "WorkScreen"
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        text = help_text(pilot)
        assert "review queue" not in text
    lead = make_app(db, clock, "lena")
    async with lead.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        text = help_text(pilot)
        assert "review queue" in text and "open disputes" in text


async def test_a_french_lead_reads_the_review_queue_in_french(db, clock):
    conn = connect(db)
    conn.execute("UPDATE collectors SET locale = 'fr_CA' WHERE username = 'lena'")
    conn.close()
    app = make_app(db, clock, "lena")
    async with app.run_test(size=(160, 48)) as pilot:
        await open_list(pilot, "R", 2)
        title = str(pilot.app.screen.query_one("#review-title").render())
        assert "File de révision : 2 compte(s)" in title
        assert "refus de payer" in str(pilot.app.screen.query_one(DataTable).get_row_at(0)[4])
