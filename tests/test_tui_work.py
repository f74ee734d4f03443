"""Pilot tests: a collector presses keys; the database and the screen both change."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from textual.widgets import Static, TextArea
from tui_helpers import build_portfolio, db_rows, make_app, part, search_results, settle, wait_until

from dunning.clock import FixedClock
from dunning.tui.dialogs.outcome import OutcomeDialog, ReassignDialog


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "work.db"
    build_portfolio(path, clock)
    return path


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def rendered(widget: Static, width: int = 100) -> str:
    """What a Static shows, as text (for renderables other than plain Text)."""
    from rich.console import Console

    console = Console(width=width, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


def last_activity(db: Path):
    rows = db_rows(
        db,
        "SELECT a.*, c.name FROM activities a JOIN customers c "
        "ON c.id = a.customer_id ORDER BY a.id DESC LIMIT 1",
    )
    return rows[0] if rows else None


async def test_lands_on_the_top_account_and_says_why(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        assert "Acme Anvils" in part(screen, "title")
        why = part(screen, "why")
        assert "days past due" in why and "owes" in why
        call = part(screen, "call")
        assert "(212) 555-0100" in call and "10:00" in call  # New York local time
        assert screen.view is not None
        held = db_rows(db, "SELECT claimed_by FROM queue WHERE customer_id = ?", (screen.view.id,))
        assert held[0][0] is not None


@pytest.mark.parametrize(
    ("key", "outcome", "next_action", "state"),
    [
        ("l", "left_message", "call", "waiting"),
        ("n", "no_answer", "call", "waiting"),
        ("b", "busy", "call", "waiting"),
        ("r", "refused", "lead_review", "review"),
    ],
)
async def test_one_key_outcomes_log_and_move_on(db, clock, key, outcome, next_action, state):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        first = screen.view
        await pilot.press(key)
        screen = await settle(pilot)
        act = last_activity(db)
        assert act["outcome"] == outcome and act["customer_id"] == first.id
        assert act["next_action"] == next_action
        assert act["attempt"] == 1 and act["collector_id"] is not None
        q = db_rows(db, "SELECT state, claimed_by FROM queue WHERE customer_id = ?", (first.id,))[0]
        assert q["state"] == state and q["claimed_by"] is None
        assert screen.view is not None and screen.view.id != first.id
        assert "Bolt Brothers" in part(screen, "title")
        assert "Saved" in text_of(screen, "#status")


async def test_note_typed_is_saved_with_the_outcome(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("i", *"Voicemail full", "escape", "n")
        screen = await settle(pilot)
        assert last_activity(db)["note"] == "Voicemail full"
        assert screen.query_one("#note", TextArea).text == ""
        assert db_rows(db, "SELECT COUNT(*) FROM drafts")[0][0] == 0


async def test_outcome_keys_type_into_the_note_while_editing(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("tab", *"pnb")
        # the draft is written by a worker after a quiet spell (under load, one may come
        # between two keys): wait for the whole text, not a time
        await wait_until(
            pilot, lambda: [r[0] for r in db_rows(db, "SELECT text FROM drafts")] == ["pnb"]
        )
        screen = app.screen
        assert screen.query_one("#note", TextArea).text == "pnb"
        assert last_activity(db) is None
        drafts = db_rows(db, "SELECT text FROM drafts")
        assert [r[0] for r in drafts] == ["pnb"]


async def test_promise_to_pay(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await pilot.pause(0.1)
        assert isinstance(app.screen, OutcomeDialog)
        await pilot.press(*"1500", "tab", *"+7d", "enter")
        screen = await settle(pilot)
        promise = db_rows(db, "SELECT * FROM promises")[0]
        assert promise["amount_minor"] == 150_000 and promise["due_date"] == "2026-11-30"
        assert promise["status"] == "pending" and promise["grace_days"] == 2
        act = last_activity(db)
        assert act["outcome"] == "promise_to_pay" and act["rpc"] == 1
        assert act["next_action"] == "promise_check"
        assert act["next_action_at"] == "2026-12-02T05:00:00Z"  # midnight in New York
        assert "Bolt Brothers" in part(screen, "title")


async def test_bad_input_is_named_and_nothing_is_saved(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("p", *"12,3.4x", "tab", *"2026-01-01", "enter")
        await pilot.pause(0.1)
        dialog = app.screen
        assert isinstance(dialog, OutcomeDialog)
        error = str(dialog.query_one("#dialog-error").render())
        assert "Amount" in error and "12,3.4x" in error
        await pilot.press("shift+tab", *"100", "enter")  # fix the amount; date still past
        await pilot.pause(0.1)
        assert isinstance(app.screen, OutcomeDialog)
        assert "in the past" in str(app.screen.query_one("#dialog-error").render())
        await pilot.press("escape")
        screen = await settle(pilot)
        assert last_activity(db) is None
        assert db_rows(db, "SELECT COUNT(*) FROM promises")[0][0] == 0
        assert "Acme Anvils" in part(screen, "title")


async def test_paid_callback_and_skip(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("x", *"250.00", "tab", "tab", *"CHQ 1182", "enter")
        await settle(pilot)
        report = db_rows(db, "SELECT * FROM payment_reports")[0]
        assert report["amount_minor"] == 25_000 and report["reference"] == "CHQ 1182"
        assert report["paid_on"] == "2026-11-23"
        assert last_activity(db)["next_action"] == "verify_payment"

        await pilot.press("c", *"tomorrow 9:00", "enter")
        await settle(pilot)
        act = last_activity(db)
        assert act["outcome"] == "callback" and act["next_action"] == "callback"
        assert act["next_action_at"] == "2026-11-24T14:00:00Z"  # 9:00 in New York (EST)

        await pilot.press("s", *"closed for inventory", "enter")
        screen = await settle(pilot)
        act = last_activity(db)
        assert act["outcome"] == "skip" and "closed for inventory" in act["note"]
        assert act["next_action_at"] == "2026-11-23T16:00:00Z"
        assert "Dynamo" in part(screen, "title")


async def test_dispute_escalate_wrong_number(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        acme = screen.view.id
        await pilot.press("d")
        await pilot.pause(0.1)
        await pilot.press("space", "ctrl+s")  # tick the oldest invoice; pricing, billing
        screen = await settle(pilot)
        dispute = db_rows(db, "SELECT * FROM disputes")[0]
        assert dispute["customer_id"] == acme
        assert (dispute["reason"], dispute["department"]) == ("pricing", "billing")
        assert dispute["amount_minor"] == 2_500_000
        inv = db_rows(
            db, "SELECT disputed FROM invoices WHERE customer_id = ? ORDER BY due_date", (acme,)
        )
        assert [r[0] for r in inv] == [1, 0, 0]

        await pilot.press("e")
        await pilot.pause(0.1)
        await pilot.press("ctrl+s")  # default: lead review
        await settle(pilot)
        act = last_activity(db)
        assert act["outcome"] == "escalated" and act["next_action"] == "lead_review"

        await pilot.press("w")
        await pilot.pause(0.1)
        await pilot.press("ctrl+s")  # the first usable number is ticked
        screen = await settle(pilot)
        bad = db_rows(db, "SELECT customer_id, bad, bad_by FROM phones WHERE bad = 1")
        assert len(bad) == 1 and bad[0]["bad_by"] is not None
        assert last_activity(db)["outcome"] == "wrong_number"


async def test_reschedule_with_shift(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("N")
        await pilot.pause(0.1)
        await pilot.press(*"+3h", "enter")
        await settle(pilot)
        act = last_activity(db)
        assert act["outcome"] == "no_answer"
        assert act["next_action_at"] == "2026-11-23T18:00:00Z"


async def test_search_opens_an_account(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"cogs")
        await wait_until(pilot, lambda: search_results(pilot) > 0)
        await pilot.press("enter")
        screen = await settle(pilot)
        assert "Cogs Co" in part(screen, "title")
        await pilot.press("slash", *"+1 514 555 0123")
        await wait_until(pilot, lambda: search_results(pilot) > 0)
        await pilot.press("enter")
        screen = await settle(pilot)
        assert "Bolt Brothers" in part(screen, "title")
        held = db_rows(
            db,
            "SELECT c.name FROM queue q JOIN customers c ON c.id = q.customer_id "
            "WHERE q.claimed_by IS NOT NULL",
        )
        assert [r[0] for r in held] == ["Bolt Brothers"]


async def test_quit_keeps_the_draft_and_it_comes_back(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("i", *"promised to call back", "escape", "q")
    assert [r[0] for r in db_rows(db, "SELECT text FROM drafts")] == ["promised to call back"]
    assert db_rows(db, "SELECT COUNT(*) FROM queue WHERE claimed_by IS NOT NULL")[0][0] == 0
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        assert screen.query_one("#note", TextArea).text == "promised to call back"
        assert "came back" in text_of(screen, "#status")


async def test_a_french_collector_sees_french(db, clock):
    app = make_app(db, clock, "bruno")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        assert "Épicerie Gagnon" in part(screen, "title")
        assert "12\u00a0345,50\u00a0$" in part(screen, "aging")
        assert "jours de retard" in part(screen, "why")
        await pilot.press("n")
        screen = await settle(pilot)
        assert last_activity(db)["outcome"] == "no_answer"
        assert "Enregistré : Pas de réponse" in text_of(screen, "#status")


async def test_a_lead_reassigns_the_open_account(db, clock):
    app = make_app(db, clock, "lena")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        assert screen.view is None  # a lead has no queue of her own
        await pilot.press("slash", *"acme")
        await wait_until(pilot, lambda: search_results(pilot) > 0)
        await pilot.press("enter")
        screen = await settle(pilot)
        assert screen.check_action("reassign", ()) is True
        await pilot.press("a")
        # the collectors are read by a worker before the dialog opens
        await wait_until(pilot, lambda: isinstance(app.screen, ReassignDialog))
        await pilot.press("tab", *"speaks French", "enter")
        screen = await settle(pilot)
        row = db_rows(
            db,
            "SELECT k.username FROM queue q JOIN collectors k "
            "ON k.id = q.collector_id JOIN customers c ON c.id = q.customer_id "
            "WHERE c.name = 'Acme Anvils Inc.'",
        )[0]
        assert row[0] == "bruno"
        hist = db_rows(
            db,
            "SELECT b.username, s.reason FROM assignments s "
            "JOIN collectors b ON b.id = s.assigned_by",
        )
        assert [tuple(r) for r in hist] == [("lena", "speaks French")]
        # the lead let go of it and moved on (she has no queue: nothing to call), so
        # bruno is never told it "is being worked by lena"
        claimed = db_rows(
            db,
            "SELECT q.claimed_by FROM queue q JOIN customers c ON c.id = q.customer_id "
            "WHERE c.name = 'Acme Anvils Inc.'",
        )
        assert claimed[0][0] is None
        assert screen.view is None or screen.view.name != "Acme Anvils Inc."
        assert "Reassigned to bruno" in text_of(screen, "#status")


async def test_a_collector_has_no_reassign_key(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        assert screen.check_action("reassign", ()) is False
        await pilot.press("a")
        await pilot.pause(0.2)
        assert app.screen is screen
        assert db_rows(db, "SELECT COUNT(*) FROM assignments")[0][0] == 0


async def test_aging_screen_adds_up_to_the_ledger(db, clock):
    from textual.widgets import DataTable

    app = make_app(db, clock, "lena")
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await pilot.press("A")
        table = None
        for _ in range(100):
            await pilot.pause(0.05)
            table = app.screen.query(DataTable).first() if app.screen.query(DataTable) else None
            if table is not None and table.row_count:
                break
        assert table is not None and table.row_count
        cells = [str(c) for c in table.get_row_at(table.row_count - 1)]
        usd_open = db_rows(
            db, "SELECT SUM(open_minor) FROM invoices WHERE currency = 'USD' AND status = 'open'"
        )[0][0]
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        usd_total = [
            r
            for r in rows
            if r[0] == "TOTAL" and "$" in r[-1] and "MX" not in r[-1] and "CA" not in r[-1]
        ]
        assert usd_total, rows
        assert usd_total[0][-1] == f"${usd_open / 100:,.2f}"
        assert cells[0] == "TOTAL"
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.screen.__class__.__name__ == "WorkScreen"


async def test_promises_and_disputes_are_listed(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        acme = screen.view.id
        await pilot.press("p", *"1500", "tab", *"+7d", "enter")
        await settle(pilot)
        await pilot.press("slash", *"acme")
        await wait_until(pilot, lambda: search_results(pilot) > 0)
        await pilot.press("enter")
        screen = await settle(pilot)
        assert screen.view.id == acme
        shown = part(screen, "promises")
        assert "Promise $1,500.00 by Nov 30, 2026: pending" in shown


async def test_full_history_screen(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("i", *"first note", "escape", "L")
        await pilot.pause(0.1)
        await pilot.press(*"+1h", "enter")
        await settle(pilot)
        await pilot.press("slash", *"acme")
        await wait_until(pilot, lambda: search_results(pilot) > 0)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("h")
        await wait_until(
            pilot,
            lambda: (
                "first note" in str(app.screen.query_one("#history-all").render())
                if app.screen.query("#history-all")
                else False
            ),
        )
        shown = str(app.screen.query_one("#history-all").render())
        assert "Left message" in shown and "alice" in shown
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.screen.__class__.__name__ == "WorkScreen"


async def test_keys_rebound_from_config(db, clock):
    from dunning.db.connection import connect
    from dunning.queue.collectors import get_collector
    from dunning.queue.config import settings_from_dict
    from dunning.queue.session import WorkSession
    from dunning.tui.app import DunningApp

    settings = settings_from_dict({"keys": {"outcome.no_answer": "0"}})
    conn = connect(db)
    me = get_collector(conn, "alice")
    conn.close()
    app = DunningApp(WorkSession(db, me, settings, clock), settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("0")
        await settle(pilot)
        assert last_activity(db)["outcome"] == "no_answer"
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        help_text = rendered(app.screen.query_one("#help-text", Static))
        assert "0  No answer" in help_text  # the key as rebound, not the default


async def test_help_lists_outcome_keys_and_what_happens_next(db, clock):
    from dunning.tui.screens.help import HelpScreen
    from dunning.tui.screens.work import WorkScreen

    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        assert isinstance(app.screen, HelpScreen)
        text = rendered(app.screen.query_one("#help-text", Static))
        assert "n  No answer  tried again the next business day" in text
        assert "p  Promise to pay" in text and "L/N/B" in text
        assert "another collector" not in text  # alice is no lead
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert isinstance(app.screen, WorkScreen)
        assert last_activity(db) is None  # reading the help logged nothing


@pytest.mark.parametrize(("user", "last_word"), [("alice", "only."), ("bruno", "seulement.")])
async def test_why_a_held_account_takes_no_call_is_read_whole_at_80_columns(
    tmp_path: Path, clock: FixedClock, user: str, last_word: str
):
    """A cease account opened through search: the status line says why and what may still
    be done, wrapped and whole in the narrow side pane (it used to stop after 3 lines)."""
    from conftest import Ledger

    from dunning.db.connection import connect
    from dunning.db.schema import migrate
    from dunning.queue.config import Settings

    path = tmp_path / "cease.db"
    conn = connect(path)
    migrate(conn)
    led = Ledger(conn, clock, Settings())
    who = led.collector(user, languages="fr,en" if user == "bruno" else "en",
                        locale="fr_CA" if user == "bruno" else "en_US")  # fmt: skip
    led.customer("Cecile Cease", collector=who, portfolio="consumer", status="cease",
                 invoices=[(50_000, "2026-09-01")], phones=["+12125550100"])  # fmt: skip
    conn.close()
    app = make_app(path, clock, user)
    async with app.run_test(size=(80, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"Cecile")
        await wait_until(pilot, lambda: search_results(pilot) > 0)
        await pilot.press("enter")
        screen = await settle(pilot)
        status = screen.query_one("#status", Static)
        width, height = status.content_size.width, status.content_size.height
        lines = rendered(status, width).rstrip().splitlines()
        assert lines[-1].rstrip().endswith(last_word), lines
        assert 3 < len(lines) <= height, (lines, height)


async def test_nothing_to_call_at_start_does_not_stay_loading(tmp_path: Path, clock: FixedClock):
    """A collector with nothing to call opens the app: the status line stops saying
    "Loading…" (it used to say it forever)."""
    from conftest import Ledger

    from dunning.db.connection import connect
    from dunning.db.schema import migrate
    from dunning.queue.config import Settings

    path = tmp_path / "empty.db"
    conn = connect(path)
    migrate(conn)
    Ledger(conn, clock, Settings()).collector("alice")
    conn.close()
    app = make_app(path, clock, "alice")
    async with app.run_test(size=(80, 30)) as pilot:
        screen = await settle(pilot)
        assert screen.view is None
        assert "Loading" not in rendered(screen.query_one("#status", Static), 40)
        assert "Nothing to call" in part(screen, "title")
