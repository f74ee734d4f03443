"""Dialogs do what they say: Enter saves from any field, arrows move and choose, space
ticks, a blank "next action" takes the default, Esc says it cancelled, labels and errors
are whole in French and Spanish at 80 columns, and keys in one burst act as typed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.widgets import Input, Label, RadioSet, Static
from tui_helpers import build_portfolio, burst, db_rows, make_app, settle

from dunning.clock import FixedClock
from dunning.tui.dialogs.base import Choices
from dunning.tui.dialogs.outcome import OutcomeDialog
from dunning.tui.screens.work import WorkScreen

CLEAR = ("end", "ctrl+u")  # empty the focused field

# Words of English sentences that no French or Spanish message contains.
ENGLISH = ("is", "the", "not", "needs", "must", "past", "required", "amount", "away", "ago")


def english_words(text: str) -> list[str]:
    words = {w.strip(".,:;()'\"").lower() for w in text.split()}
    return [w for w in ENGLISH if w in words]


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "dialogs.db"
    build_portfolio(path, clock)
    return path


def speak(db: Path, user: str, locale: str) -> None:
    conn = sqlite3.connect(db)
    conn.execute("UPDATE collectors SET locale = ? WHERE username = ?", (locale, user))
    conn.commit()
    conn.close()


def last_activity(db: Path) -> sqlite3.Row | None:
    rows = db_rows(db, "SELECT * FROM activities ORDER BY id DESC LIMIT 1")
    return rows[0] if rows else None


async def open_dialog(pilot, key: str) -> OutcomeDialog:  # noqa: ANN001
    await pilot.press(key)
    await pilot.pause(0.1)
    dialog = pilot.app.screen
    assert isinstance(dialog, OutcomeDialog)
    return dialog


def error_of(dialog: OutcomeDialog) -> str:
    return str(dialog.query_one("#dialog-error", Label).render())


async def test_escalate_opens_on_its_default_and_arrows_choose(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        dialog = await open_dialog(pilot, "e")
        choices = dialog.query_one("#f-to", Choices)
        assert dialog.focused is choices
        assert choices.pressed_button is not None
        assert choices.pressed_button.name == "lead_review"
        assert choices._selected == choices.pressed_index  # noqa: SLF001 - the highlight
        await pilot.press("up")  # lead_review -> credit_hold: chosen as it is highlighted
        assert choices.pressed_button.name == "credit_hold"
        await pilot.press("enter")
        await settle(pilot)
        act = last_activity(db)
        assert act is not None and act["outcome"] == "escalated"
        assert json.loads(act["details"])["escalation"] == "credit_hold"


async def test_enter_saves_from_a_list_and_from_radio_choices(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_dialog(pilot, "d")
        # tick the first invoice, then reason down one, department down one, Enter
        await pilot.press("space", "tab", "down", "tab", "down", "enter")
        await settle(pilot)
        dispute = db_rows(db, "SELECT reason, department FROM disputes")
        assert [tuple(r) for r in dispute] == [("not_received", "legal")]


async def test_enter_in_the_invoice_list_saves(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_dialog(pilot, "d")
        await pilot.press("down", "space", "enter")  # the second invoice
        await settle(pilot)
        rows = db_rows(db, "SELECT number FROM invoices WHERE disputed = 1")
        assert [r[0] for r in rows] == ["INV-1-1"]


async def test_one_wrong_number_is_a_radio_choice(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        dialog = await open_dialog(pilot, "w")
        assert isinstance(dialog.query_one("#f-phone"), RadioSet)
        await pilot.press("down", "enter")  # the second number of Acme
        await settle(pilot)
        bad = db_rows(db, "SELECT e164 FROM phones WHERE bad = 1")
        assert [r[0] for r in bad] == ["+12125550111"]


async def test_a_blank_next_action_takes_the_default(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        dialog = await open_dialog(pilot, "N")
        assert dialog.query_one("#f-next", Input).value == ""
        await pilot.press("enter")
        await settle(pilot)
        act = last_activity(db)
        assert act is not None and act["outcome"] == "no_answer"
        assert "next_action_override" not in json.loads(act["details"] or "{}")
        assert act["next_action_at"] == "2026-11-24T15:00:00Z"  # the next business day


@pytest.mark.parametrize(
    ("user", "locale", "said"),
    [
        ("alice", "en_US", "Cancelled: nothing saved"),
        ("bruno", "fr_CA", "Annulé : rien n’a été enregistré"),
        ("bruno", "es_MX", "Cancelado: no se guardó nada"),
    ],
)
async def test_esc_on_a_dialog_says_cancelled(db, clock, user, locale, said):
    speak(db, user, locale)
    app = make_app(db, clock, user)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_dialog(pilot, "p")
        await pilot.press("escape")
        screen = await settle(pilot)
        assert said in str(screen.query_one("#status", Static).render())
        assert last_activity(db) is None


@pytest.mark.parametrize(("user", "locale"), [("bruno", "fr_CA"), ("bruno", "es_MX")])
async def test_bad_input_in_french_and_spanish_has_no_english(db, clock, user, locale):
    speak(db, user, locale)
    app = make_app(db, clock, user)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        seen = []
        dialog = await open_dialog(pilot, "p")
        await pilot.press(*CLEAR, *"12,3.4x", "enter")  # not an amount
        await pilot.pause(0.1)
        seen.append(error_of(dialog))
        await pilot.press(*CLEAR, *"100", "tab", *"2026-01-01", "enter")  # in the past
        await pilot.pause(0.1)
        seen.append(error_of(dialog))
        await pilot.press(*CLEAR, *"someday", "enter")  # not a date
        await pilot.pause(0.1)
        seen.append(error_of(dialog))
        await pilot.press("tab", *CLEAR, *"99", "shift+tab", *CLEAR, *"+3d", "enter")
        await pilot.pause(0.1)
        seen.append(error_of(dialog))  # grace days out of range
        await pilot.press("escape")
        await settle(pilot)
        dialog = await open_dialog(pilot, "c")
        await pilot.press(*"25:00", "enter")
        await pilot.pause(0.1)
        seen.append(error_of(dialog))
        await pilot.press("escape")
        await settle(pilot)
        assert all(seen), seen
        assert "12,3.4x" in seen[0] and "someday" in seen[2] and "25:00" in seen[4]
        assert "2026" in seen[1] and "30" in seen[3]
        for text in seen:
            assert not english_words(text), text
        assert last_activity(db) is None


@pytest.mark.parametrize("locale", ["fr_CA", "es_MX"])
async def test_labels_whole_and_errors_wrapped_at_80_columns(db, clock, locale):
    speak(db, "bruno", locale)
    app = make_app(db, clock, "bruno")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for key in ("p", "x", "N", "s"):
            dialog = await open_dialog(pilot, key)
            for label in dialog.query(".field-row > .field-label").results(Label):
                text = str(label.render())
                assert label.size.width * label.size.height >= cell_len(text), text
                assert label.size.height == 1 or label.size.width >= 20, text
            await pilot.press("escape")
            await settle(pilot)
        dialog = await open_dialog(pilot, "p")
        await pilot.press(*CLEAR, *("9" * 40), "x", "enter")
        await pilot.pause(0.2)
        error = dialog.query_one("#dialog-error", Label)
        box = dialog.query_one("#dialog")
        text = error_of(dialog)
        assert "9" * 40 in text and cell_len(text) > error.size.width
        assert error.size.height >= 2  # wrapped, not cut
        assert error.region.right <= box.region.right


@pytest.mark.parametrize("locale", ["en_US", "fr_CA", "es_MX"])
async def test_help_and_quit_fit_in_the_footer_at_80_columns(db, clock, locale):
    speak(db, "bruno", locale)
    app = make_app(db, clock, "bruno")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        corner = screen.query_one("#footer-corner", Static)
        shown = str(corner.render())
        assert "? " in shown and "q " in shown
        assert corner.region.right <= 80 and corner.region.width >= cell_len(shown.rstrip())
        assert corner.region.y == 23


async def test_paid_on_a_weekday_is_the_last_one(db, clock):
    """2026-11-23 is a Monday: "paid on lun" in French is the Monday before."""
    app = make_app(db, clock, "bruno")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_dialog(pilot, "x")
        await pilot.press(*"100", "tab", *"ven", "enter")
        await settle(pilot)
        rows = db_rows(db, "SELECT paid_on FROM payment_reports")
        assert [r[0] for r in rows] == ["2026-11-20"]


async def test_esc_then_an_outcome_key_in_one_burst(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        first = screen.view
        await burst(pilot, "p", *"15", "escape", "n")
        screen = await settle(pilot)
        assert isinstance(app.screen, WorkScreen)
        act = db_rows(db, "SELECT customer_id, outcome FROM activities")
        assert [tuple(r) for r in act] == [(first.id, "no_answer")]
        assert db_rows(db, "SELECT COUNT(*) FROM promises")[0][0] == 0


async def test_enter_then_more_keys_in_one_burst_reads_what_was_typed_before(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await burst(pilot, "c", *"tomorrow 9:00", "enter", *"xyz")
        await settle(pilot)
        act = last_activity(db)
        assert act is not None and act["outcome"] == "callback"
        # 9:00 in the customer's time (Eastern): 14:00 UTC
        assert act["next_action_at"] == "2026-11-24T14:00:00Z"


async def test_several_j_in_one_burst_scroll_as_many_lines(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        pane = screen.query_one("#account")
        assert pane.max_scroll_y >= 3
        await burst(pilot, "j", "j", "j")
        await pilot.pause(0.3)
        assert pane.scroll_y == 3
        await burst(pilot, "k", "k")
        await pilot.pause(0.3)
        assert pane.scroll_y == 1


async def test_enter_on_the_reassign_choices_saves_the_one_chosen(db, clock):
    from tui_helpers import search_results, wait_until

    from dunning.tui.dialogs.outcome import ReassignDialog

    app = make_app(db, clock, "lena")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"acme")
        await wait_until(pilot, lambda: search_results(pilot) > 0)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, ReassignDialog))
        choices = app.screen.query_one("#f-to", Choices)
        assert app.screen.focused is choices
        assert choices.pressed_button is not None and choices.pressed_button.name == "bruno"
        await pilot.press("down", "enter")  # bruno -> lena, and Enter from the list
        await settle(pilot)
        row = db_rows(
            db,
            "SELECT k.username FROM queue q JOIN collectors k ON k.id = q.collector_id "
            "JOIN customers c ON c.id = q.customer_id WHERE c.name = 'Acme Anvils Inc.'",
        )
        assert row[0][0] == "lena"
