"""Every action is a command of the palette (ctrl+p), translated, obeying the same rules
as its key; the theme a user picks is remembered for their next start; the screen beats
(who is logged in) and closes when a lead deactivates its collector (issue 9, 8 and 10)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.command import CommandPalette
from tui_helpers import build_portfolio, db_rows, make_app, settle, wait_until

from dunning.clock import FixedClock
from dunning.db.connection import connect
from dunning.tui.dialogs.outcome import OutcomeDialog
from dunning.tui.screens import work_jobs


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "palette.db"
    build_portfolio(path, clock)
    return path


def palette_hits(app) -> list[str]:  # noqa: ANN001
    from textual.widgets import OptionList

    found = app.screen.query_one(OptionList)
    return [str(found.get_option_at_index(i).prompt) for i in range(found.option_count)]


async def open_palette(pilot, text: str) -> None:  # noqa: ANN001
    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette))
    await pilot.press(*text)
    await wait_until(pilot, lambda: bool(palette_hits(pilot.app)))


async def test_promise_from_the_palette_opens_the_promise_dialog(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_palette(pilot, "promise")
        assert "Promise to pay" in palette_hits(app)[0]
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, OutcomeDialog))
        assert app.screen.query("#f-amount")  # the same dialog as the `p` key


async def test_voicemail_logs_a_left_message_like_its_key(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_palette(pilot, "voicemail")
        assert palette_hits(app)[0].startswith("Left message")
        await pilot.press("enter")
        screen = await settle(pilot)
        await wait_until(pilot, lambda: screen.view is not None and screen.view.name != "Acme")
        rows = db_rows(db, "SELECT c.name, a.outcome FROM activities a "
                           "JOIN customers c ON c.id = a.customer_id")  # fmt: skip
        assert [tuple(r) for r in rows] == [("Acme Anvils Inc.", "left_message")]
        assert "Saved: Left message" in str(screen.query_one("#status").render())


async def test_a_lead_command_is_offered_to_leads_only(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_palette(pilot, "reassi")
        assert not any("Reassign" in h for h in palette_hits(app))
    app = make_app(db, clock, "lena")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.session.open_account(5)  # bruno's: alice's app above still holds hers
        await pilot.press("ctrl+r")
        await settle(pilot)
        await open_palette(pilot, "reassi")
        assert palette_hits(app)[0].startswith("Reassign")


async def test_the_commands_are_in_the_collectors_language(db, clock):
    app = make_app(db, clock, "bruno")  # fr_CA
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_palette(pilot, "promesse")
        assert palette_hits(app)[0].startswith("Promesse de paiement")


async def test_the_theme_picked_is_the_next_starts(db, clock):
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.theme == "textual-dark"
        await open_palette(pilot, "theme")
        await pilot.press("enter")  # Textual's theme picker
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"nord")
        await wait_until(pilot, lambda: any("nord" in h for h in palette_hits(app)))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.theme == "nord")
        await pilot.press("q")  # quitting at once still saves it
    assert db_rows(db, "SELECT theme FROM collectors WHERE username = 'alice'")[0][0] == "nord"
    assert db_rows(db, "SELECT theme FROM collectors WHERE username = 'bruno'")[0][0] is None
    again = make_app(db, clock)
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert again.theme == "nord"
    other = make_app(db, clock, "bruno")
    async with other.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert other.theme == "textual-dark"


async def test_an_unknown_stored_theme_is_ignored(db, clock):
    conn = connect(db)
    conn.execute("UPDATE collectors SET theme = 'gone-theme' WHERE username = 'alice'")
    conn.commit()
    conn.close()
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.theme == "textual-dark"


async def test_the_screen_beats_and_closes_when_deactivated(db, clock, monkeypatch):
    monkeypatch.setattr(work_jobs, "FIRST_BEAT", 0.05)
    app = make_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        await wait_until(pilot, lambda: bool(db_rows(db, "SELECT 1 FROM work_sessions")))

        def beat_row() -> tuple[object, ...]:
            return tuple(db_rows(db, "SELECT k.username, w.customer_id, w.ended_at "
                                     "FROM work_sessions w JOIN collectors k "
                                     "ON k.id = w.collector_id")[0])  # fmt: skip

        # the first beat may come before the first account is on screen (it then says
        # "online, no account"); the next one names the account
        screen._beat()
        await wait_until(pilot, lambda: beat_row() == ("alice", screen.view.id, None))
        conn = connect(db)
        conn.execute("UPDATE collectors SET active = 0 WHERE username = 'alice'")
        conn.commit()
        conn.close()
        await pilot.press("i", *"promised friday")
        screen._beat()
        await wait_until(pilot, lambda: not app.is_running or app._exit_renderables)
    assert app.return_code == 1
    draft = db_rows(db, "SELECT text FROM drafts")
    assert [r[0] for r in draft] == ["promised friday"]
    assert db_rows(db, "SELECT COUNT(*) FROM queue WHERE claimed_by IS NOT NULL")[0][0] == 0
