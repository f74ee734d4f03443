"""Issue 7, part 1 (screen): a name, a contact, an invoice number or a note carrying escape
sequences, bidi overrides or Textual markup is shown literally and visibly: never obeyed by
the terminal, never read as markup (a `[@click=app.quit]` name quits nothing)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from textual.widgets import OptionList, Static, TextArea
from tui_helpers import make_app, search_results, settle, wait_until

from dunning.clock import FixedClock
from dunning.db.connection import connect
from dunning.db.schema import migrate
from dunning.queue.config import Settings
from dunning.tui.screens.history import HistoryScreen

PAYLOAD = "\x1b]52;c;aGk=\x07\x1b]0;pwned\x1b\\\x1b[5;5Hfake"
MARKUP = "[@click=app.quit]x[/] [b]bold[/b] [link='http://e.vil']l[/link]"
NAME = f"Hostile {MARKUP} {PAYLOAD} \u202eevil\x9b"
DANGER = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u2028-\u202e\u2066-\u2069]"
)


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    from conftest import Ledger

    path = tmp_path / "work.db"
    conn = connect(path)
    migrate(conn)
    led = Ledger(conn, clock, Settings())
    alice = led.collector("alice")
    cid = led.customer(NAME, collector=alice, phones=["+12125550100"])
    with conn:  # data already in the database: an older version, another program, a restore
        conn.execute(
            "UPDATE contacts SET name = ? WHERE customer_id = ?", ("Jo " + PAYLOAD + MARKUP, cid)
        )
        conn.execute(
            "UPDATE invoices SET number = ? WHERE customer_id = ?", ("INV\x1b[2J" + MARKUP, cid)
        )
        conn.execute(
            """INSERT INTO activities (customer_id, collector_id, at, outcome, attempt, contact,
                   rpc, worked, note, next_action, next_action_at)
               VALUES (?, ?, '2026-11-22T15:00:00Z', 'note', 0, 0, 0, 0, ?, 'call',
                   '2026-11-23T15:00:00Z')""",
            (cid, alice, "said x " + PAYLOAD + " " + MARKUP),
        )
        conn.execute(
            "INSERT INTO drafts (collector_id, customer_id, text, updated_at) VALUES (?,?,?,?)",
            (alice, cid, "draft \x1b]0;t\x07 kept", "2026-11-23T15:00:00Z"),
        )
    conn.close()
    return path


def shown(screen) -> dict[str, str]:  # noqa: ANN001
    """What every Static of the screen shows, by id; on the work screen also each part of
    the account pane (one Line-API widget) and every line it draws."""
    from dunning.tui.widgets.account import PARTS, AccountPane

    texts = {
        w.id or repr(w): str(w.render())
        for w in screen.query(Static)
        if w.display and w.id != "footer-corner"
    }
    for pane in screen.query(AccountPane):
        texts.update({name: pane.part_text(name) for name in PARTS})
        texts["account-drawn"] = "\n".join(pane.drawn_text())
    return texts


def assert_safe(texts: dict[str, str]) -> None:
    for wid, text in texts.items():
        found = DANGER.search(text)
        assert found is None, f"{found.group()!r} in {wid}: {text!r}"


async def test_the_account_and_history_show_the_payload_literally(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settle(pilot)
        texts = shown(screen)
        assert_safe(texts)
        title = texts["title"]
        assert "Hostile [@click=app.quit]x[/] [b]bold[/b] [link='http://e.vil']l[/link]" in title
        assert "␛]52;c;aGk=␛]0;pwned␛\\␛[5;5Hfake" in title  # BEL: dropped by Rich itself
        assert "<U+202E>evil\\x9b" in title
        assert "Jo ␛]52;c;aGk=" in texts["call"] and "[@click=app.quit]x[/]" in texts["call"]
        assert "INV␛[2J[@click=app.quit]x[/]" in texts["invoices"]
        assert "said x ␛]52;c;aGk=" in texts["history-inline"]
        assert "[@click=app.quit]x[/]" in texts["history-inline"]
        drawn = texts["account-drawn"]  # the cells drawn: the same, literally
        assert "␛]52;c;aGk=␛]0;pwned␛\\␛[5;5Hfake" in drawn and "said x ␛]52;c;aGk=" in drawn
        # the draft came back without its control characters
        assert screen.query_one("#note", TextArea).text == "draft ]0;t kept"
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await wait_until(
            pilot, lambda: "said" in str(app.screen.query_one("#history-all").render())
        )
        texts = shown(app.screen)
        assert_safe(texts)
        assert "[@click=app.quit]x[/]" in texts["history-title"]
        assert "␛]0;pwned" in texts["history-title"]
        assert "said x ␛]52;c;aGk=" in texts["history-all"]
        await pilot.press("escape")
        await settle(pilot)
        assert app.is_running  # nothing in the data quit the app


async def test_search_results_and_notifications_are_literal(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.press(*"Hostile")
        await wait_until(pilot, lambda: search_results(pilot) > 0)
        results = app.screen.query_one("#search-results", OptionList)
        prompt = str(results.get_option_at_index(0).prompt)
        assert "Hostile [@click=app.quit]x[/]" in prompt  # the name, cut at 34 characters
        assert DANGER.search(prompt) is None
        await pilot.press("escape")
        await settle(pilot)
        app.notify("refused: " + NAME, severity="error")
        await pilot.pause(0.05)
        note = list(app._notifications)[-1]  # noqa: SLF001 - what the toast will show
        assert note.markup is False
        assert "[@click=app.quit]x[/]" in note.message and "␛]0;pwned" in note.message
        assert DANGER.search(note.message) is None
        assert app.is_running


async def test_a_note_typed_with_escapes_is_saved_clean_and_said(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settle(pilot)
        note = screen.query_one("#note", TextArea)
        note.load_text("called \x1b]52;c;aGk=\x07 back")
        await pilot.press("n")  # no answer
        await settle(pilot)
        conn = sqlite3.connect(db)
        saved = conn.execute("SELECT note FROM activities ORDER BY id DESC").fetchone()[0]
        conn.close()
        assert saved == "called ]52;c;aGk= back"  # the pane cleaned it as it changed


async def test_the_screen_says_what_log_outcome_removed(db, clock):
    """An outcome saved with control characters (the key pressed before the pane's own
    cleaning ran) says how many went, as the CLI does."""
    from dunning.queue.outcomes import Logged
    from dunning.tui.messages import AccountLoaded

    app = make_app(db, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settle(pilot)
        view = screen.view
        logged = Logged(1, view.id, "note", "call", "2026-11-24T15:00:00Z", "ready", cleaned=3)
        screen.post_message(AccountLoaded(view, logged))
        await pilot.pause(0.1)
        status = str(screen.query_one("#status", Static).render())
        assert "removed 3 control character(s) from the note" in status


async def test_a_paste_with_escapes_is_cleaned_in_the_note_pane(db, clock):
    from textual import events

    app = make_app(db, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settle(pilot)
        note = screen.query_one("#note", TextArea)
        note.load_text("")
        note.focus()
        await pilot.pause(0.05)
        app.post_message(events.Paste("pasted \x1b]0;pwned\x07 text\u202e"))
        await pilot.pause(0.5)
        assert note.text == "pasted ]0;pwned text"
        await wait_until(
            pilot,
            lambda: any(
                r[0] == "pasted ]0;pwned text"
                for r in sqlite3.connect(db).execute("SELECT text FROM drafts")
            ),
        )
