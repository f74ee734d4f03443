"""The e-mail opt-out from the screen (issue 10 item 4, Regulation F 1006.6(e)): `o` on the
account, Enter; then what the database holds (the contact's columns, the audit row), what
the pane shows, and the compose view's refusal. The opt-in the same way; a refusal on an
account the collector does not hold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_tui_compose import ADDRESS, compose_app, compose_portfolio, compose_settings
from test_tui_palette import open_palette, palette_hits
from test_tui_work import rendered
from textual.widgets import Button, SelectionList, Static
from tui_helpers import db_rows, search_results, settle, wait_until

from dunning.clock import FixedClock, to_iso
from dunning.db.connection import connect, write_tx
from dunning.queue.collectors import get_collector
from dunning.queue.opt_out import screen_actor, set_email_opt_out
from dunning.tui.dialogs.opt_out import OptOutDialog
from dunning.tui.screens.compose import ComposeScreen
from dunning.tui.screens.help import HelpScreen
from dunning.tui.widgets.account import AccountPane

OTHER = "ap@acme.example"


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "opt.db"
    compose_portfolio(path, clock)  # Acme, alice's first account: compta@acme.example
    return path


def acme_ref(path: Path) -> str:
    return str(db_rows(path, "SELECT external_ref FROM customers WHERE name LIKE 'Acme%'")[0][0])


def opt_rows(path: Path) -> list[tuple[Any, ...]]:
    rows = db_rows(
        path,
        "SELECT email, email_opt_out_at, email_opt_out_by FROM contacts "
        "WHERE COALESCE(email, '') != '' ORDER BY id",
    )
    return [tuple(r) for r in rows]


def audit_rows(path: Path) -> list[tuple[str, str, str, dict[str, Any]]]:
    rows = db_rows(
        path,
        "SELECT action, target, result, detail FROM audit_log "
        "WHERE action LIKE 'contacts.opt_%' ORDER BY id",
    )
    return [(r[0], r[1], r[2], json.loads(r[3])) for r in rows]


def pane_calls(pilot: Any) -> str:
    return pilot.app.screen.query_one("#account", AccountPane).part_text("call")


def status(pilot: Any) -> str:
    return str(pilot.app.screen.query_one("#status", Static).render())


def dialog_text(pilot: Any) -> str:
    screen = pilot.app.screen
    assert isinstance(screen, OptOutDialog)
    return " ".join(str(w.render()) for w in screen.query("Shown"))


async def press_o(pilot: Any, key: str = "o") -> OptOutDialog:
    await settle(pilot)
    await pilot.press(key)
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, OptOutDialog))
    screen = pilot.app.screen
    assert isinstance(screen, OptOutDialog)
    return screen


async def test_opt_out_then_compose_refuses(tmp_path: Path, db: Path, clock: FixedClock):
    ref = acme_ref(db)
    app = compose_app(db, clock, compose_settings(tmp_path))
    async with app.run_test(size=(100, 40)) as pilot:
        await press_o(pilot)
        text = dialog_text(pilot)
        assert "no more e-mail" in text and ADDRESS in text  # the address it changes
        assert opt_rows(db) == [(ADDRESS, None, None)]  # nothing before Enter
        await pilot.press("enter")
        await wait_until(pilot, lambda: opt_rows(db)[0][1] is not None)
        work = await settle(pilot)
        assert work is app.screen
        await wait_until(pilot, lambda: "opt-out" in pane_calls(pilot))
        assert opt_rows(db) == [(ADDRESS, to_iso(clock.now()), "alice")]
        assert audit_rows(db) == [
            (
                "contacts.opt_out",
                ref,
                "done",
                {"by": "alice", "changed": [ADDRESS], "unchanged": []},
            )
        ]
        call = pane_calls(pilot)
        assert ADDRESS in call and "e-mail opt-out" in call and "(alice)" in call
        assert f"{ref}: no more e-mail to {ADDRESS} (opted out)" in status(pilot)
        # the compose view says why nothing can be sent, and nothing can
        await pilot.press("m")
        await wait_until(
            pilot,
            lambda: isinstance(app.screen, ComposeScreen) and app.screen.refusal != "",
        )
        compose = app.screen
        assert isinstance(compose, ComposeScreen)
        verdict = str(compose.query_one("#compose-verdict").render())
        assert f"{ADDRESS} opted out of e-mail" in verdict
        assert not compose.query_one("#compose-send", Button).display
    assert db_rows(db, "SELECT COUNT(*) FROM letters_sent")[0][0] == 0


async def test_opt_in_with_the_same_key(tmp_path: Path, db: Path, clock: FixedClock):
    ref = acme_ref(db)
    conn = connect(db)
    alice = get_collector(conn, "alice")
    assert alice is not None
    set_email_opt_out(conn, clock, screen_actor(alice), ref)  # the CLI's way, yesterday
    conn.close()
    app = compose_app(db, clock, compose_settings(tmp_path))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        assert "e-mail opt-out" in pane_calls(pilot)  # seen before composing
        await press_o(pilot)  # every address opted out: `o` offers the opt-in
        text = dialog_text(pilot)
        assert "e-mail again" in text and ADDRESS in text
        await pilot.press("escape")  # cancelled: nothing changes
        await settle(pilot)
        assert opt_rows(db)[0][2] == "alice"
        await press_o(pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: opt_rows(db)[0][1] is None)
        await wait_until(pilot, lambda: "opt-out" not in pane_calls(pilot))
        assert opt_rows(db) == [(ADDRESS, None, None)]
        assert f"{ref}: {ADDRESS} may be e-mailed again (opted in)" in status(pilot)
    assert [r[0] for r in audit_rows(db)] == ["contacts.opt_out", "contacts.opt_in"]
    assert audit_rows(db)[1][3]["changed"] == [ADDRESS]


async def test_several_addresses_pick_one(tmp_path: Path, db: Path, clock: FixedClock):
    conn = connect(db)
    with write_tx(conn):
        conn.execute(
            "INSERT INTO contacts (customer_id, name, email, is_primary, created_at) "
            "SELECT id, 'Accounts payable', ?, 0, '2026-01-01T00:00:00Z' FROM customers "
            "WHERE name LIKE 'Acme%'",
            (OTHER,),
        )
    conn.close()
    app = compose_app(db, clock, compose_settings(tmp_path))
    async with app.run_test(size=(100, 40)) as pilot:
        dialog = await press_o(pilot)
        picks = dialog.query_one("#f-addresses", SelectionList)
        assert list(picks.selected) == [ADDRESS, OTHER]  # all, unless unticked
        await pilot.press("space")  # the first (highlighted) is unticked
        await wait_until(pilot, lambda: list(picks.selected) == [OTHER])
        await pilot.press("enter")
        await wait_until(pilot, lambda: opt_rows(db)[1][1] is not None)
        await settle(pilot)
        await wait_until(pilot, lambda: "opt-out" in pane_calls(pilot))
        assert [r[2] for r in opt_rows(db)] == [None, "alice"]
        call = pane_calls(pilot)
        assert f"Accounts payable {OTHER}" in call  # another contact: shown when opted out
        # `O`: the opt-in of the one that opted out, named
        await press_o(pilot, "O")
        assert OTHER in dialog_text(pilot) and ADDRESS not in dialog_text(pilot)
        await pilot.press("escape")
        await settle(pilot)


async def test_refused_on_someone_elses_account(tmp_path: Path, db: Path, clock: FixedClock):
    conn = connect(db)
    with write_tx(conn):
        conn.execute(
            "UPDATE contacts SET email = 'info@gagnon.example' WHERE customer_id = "
            "(SELECT id FROM customers WHERE name = 'Épicerie Gagnon')"
        )
    conn.close()
    ref = str(db_rows(db, "SELECT external_ref FROM customers WHERE name LIKE 'Épicerie%'")[0][0])
    app = compose_app(db, clock, compose_settings(tmp_path))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"gagnon")
        await wait_until(pilot, lambda: search_results(pilot) > 0)
        await pilot.press("enter")
        work = await settle(pilot)
        assert work.account_read_only  # bruno's account, opened read-only
        await pilot.press("o")
        message = f"{ref} belongs to bruno: ask a lead to reassign it"
        await wait_until(pilot, lambda: message in status(pilot))
        assert app.screen is work  # no dialog
    assert opt_rows(db) == [(ADDRESS, None, None), ("info@gagnon.example", None, None)]
    assert [(a, t, r) for a, t, r, _d in audit_rows(db)] == [("contacts.opt_out", ref, "refused")]


async def test_help_and_palette_list_it(tmp_path: Path, db: Path, clock: FixedClock):
    app = compose_app(db, clock, compose_settings(tmp_path))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_text = rendered(app.screen.query_one("#help-text", Static), 120)
        assert "o  the customer asks for no more e-mail: record the opt-out" in help_text
        assert "O  the customer asks for e-mail again: record the opt-in" in help_text
        await pilot.press("escape")
        await settle(pilot)
        await open_palette(pilot, "opt-out")
        assert "No more e-mail (opt-out)" in palette_hits(app)[0]
        await pilot.press("enter")  # the same dialog as the key
        await wait_until(pilot, lambda: isinstance(app.screen, OptOutDialog))


async def test_refusal_and_dialog_in_french(tmp_path: Path, db: Path, clock: FixedClock):
    """bruno (fr_CA) on his own Gagnon: the dialog in French; on alice's Acme: refused."""
    conn = connect(db)
    with write_tx(conn):
        conn.execute(
            "UPDATE contacts SET email = 'info@gagnon.example' WHERE customer_id = "
            "(SELECT id FROM customers WHERE name = 'Épicerie Gagnon')"
        )
    bruno = get_collector(conn, "bruno")
    conn.close()
    assert bruno is not None
    from dunning.queue.session import WorkSession
    from dunning.tui.app import DunningApp

    app = DunningApp(WorkSession(db, bruno, compose_settings(tmp_path), clock))
    async with app.run_test(size=(100, 40)) as pilot:
        await press_o(pilot)
        text = dialog_text(pilot)
        assert "le client ne veut plus de courriels" in text and "info@gagnon.example" in text
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("slash", *"acme")
        await wait_until(pilot, lambda: search_results(pilot) > 0)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("o")
        await wait_until(pilot, lambda: "appartient à alice" in status(pilot))
    assert opt_rows(db) == [(ADDRESS, None, None), ("info@gagnon.example", None, None)]


async def test_hostile_address_never_reaches_the_terminal(
    tmp_path: Path, db: Path, clock: FixedClock
):
    evil = "x\x1b]0;pwned\x07@acme.example"
    conn = connect(db)
    with write_tx(conn):
        conn.execute("UPDATE contacts SET email = ?, name = 'AP\x1b[2J' WHERE email = ?",
                     (evil, ADDRESS))  # fmt: skip
    conn.close()
    app = compose_app(db, clock, compose_settings(tmp_path))
    async with app.run_test(size=(100, 40)) as pilot:
        await press_o(pilot)
        text = dialog_text(pilot)
        assert "\x1b" not in text and "\x07" not in text and "␛" in text
        await pilot.press("enter")
        await wait_until(pilot, lambda: "opt-out" in pane_calls(pilot))
        assert "\x1b" not in status(pilot) and "␛" in status(pilot)
        pane = app.screen.query_one("#account", AccountPane)
        assert not any("\x1b" in line or "\x07" in line for line in pane.drawn_text())
    assert opt_rows(db)[0][0] == evil and opt_rows(db)[0][2] == "alice"
