"""Keys typed faster than the screen changes: every key lands where it was meant.

Over SSH several keystrokes often arrive in one packet. Before priority bindings and
type-ahead, "i" + a note opened the promise dialog at the note's first "p", and "tab +7d"
in a dialog typed the date into the amount (see dunning/tui/typeahead.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, TextArea
from tui_helpers import build_portfolio, burst, db_rows, make_app, part, settle, wait_until

from dunning.clock import FixedClock
from dunning.tui.dialogs.outcome import OutcomeDialog
from dunning.tui.screens.search import SearchScreen
from dunning.tui.screens.work import WorkScreen


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "burst.db"
    build_portfolio(path, clock)
    return path


async def test_a_note_typed_in_one_burst_is_text_not_outcomes(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        await burst(pilot, "i", *"Spoke to Jean, he will pay on Friday", "escape")
        await wait_until(pilot, lambda: len(db_rows(db, "SELECT text FROM drafts")) == 1)
        assert app.screen is screen, "no dialog opened by the letters of the note"
        assert screen.query_one("#note", TextArea).text == "Spoke to Jean, he will pay on Friday"
        assert screen.focused is not None and screen.focused.id == "account"
        assert db_rows(db, "SELECT COUNT(*) FROM activities")[0][0] == 0
        assert [r[0] for r in db_rows(db, "SELECT text FROM drafts")] == [
            "Spoke to Jean, he will pay on Friday"
        ]
        await burst(pilot, "n")
        await settle(pilot)
        act = db_rows(db, "SELECT outcome, note FROM activities")
        assert [tuple(r) for r in act] == [("no_answer", "Spoke to Jean, he will pay on Friday")]


async def test_a_whole_promise_typed_in_one_burst(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await burst(pilot, "p", *"1500", "tab", *"+7d", "enter")
        screen = await settle(pilot)
        rows = db_rows(db, "SELECT amount_minor, due_date FROM promises")
        assert [tuple(r) for r in rows] == [(150_000, "2026-11-30")]
        assert isinstance(screen, WorkScreen) and "Bolt Brothers" in part(screen, "title")


async def test_keys_behind_the_outcome_key_reach_the_dialog(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await burst(pilot, "c", *"tomorrow 9:00")
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, OutcomeDialog)
                and app.screen.query_one("#f-at", Input).value == "tomorrow 9:00"
            ),
        )
        assert isinstance(app.screen, OutcomeDialog)
        assert app.screen.query_one("#f-at", Input).value == "tomorrow 9:00"


async def test_search_typed_in_one_burst(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await burst(pilot, "slash", *"bolt")
        await wait_until(
            pilot,
            lambda: (
                isinstance(app.screen, SearchScreen)
                and app.screen.query_one("#search-input", Input).value == "bolt"
            ),
        )
        assert isinstance(app.screen, SearchScreen)
        assert app.screen.query_one("#search-input", Input).value == "bolt"


async def test_a_note_begun_while_the_outcome_saves_goes_to_the_next_account(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        first = screen.view
        await burst(pilot, "i", *"Voicemail full", "escape", "n", "i", *"Asked for Marc")
        screen = await settle(pilot)
        await wait_until(pilot, lambda: len(db_rows(db, "SELECT * FROM drafts")) == 1)
        assert screen.view is not None and screen.view.id != first.id
        act = db_rows(db, "SELECT customer_id, note FROM activities")
        assert [tuple(r) for r in act] == [(first.id, "Voicemail full")]
        assert screen.query_one("#note", TextArea).text == "Asked for Marc"
        drafts = db_rows(db, "SELECT customer_id, text FROM drafts")
        assert [tuple(r) for r in drafts] == [(screen.view.id, "Asked for Marc")]


async def test_quit_right_after_the_note_keeps_all_of_it(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await burst(pilot, "i", *"Call back after lunch", "escape", "q")
        await pilot.pause(0.3)
    assert [r[0] for r in db_rows(db, "SELECT text FROM drafts")] == ["Call back after lunch"]
    assert db_rows(db, "SELECT COUNT(*) FROM queue WHERE claimed_by IS NOT NULL")[0][0] == 0
