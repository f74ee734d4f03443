"""The compose view (`m`, issue 10 item 6), end to end with Pilot: a real file, the real
app, keys; then what the database holds, what was written or arrived over SMTP (a real
aiosmtpd server on loopback) and what the screen shows."""

from __future__ import annotations

import socket
from dataclasses import replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from test_tui_palette import open_palette, palette_hits
from textual.widgets import Button, Input, Select, TextArea
from tui_helpers import build_portfolio, db_rows, settle, wait_until

from dunning.clock import FixedClock
from dunning.db.connection import connect, write_tx
from dunning.letters.settings import LetterSettings
from dunning.letters.smtp_settings import SmtpSettings
from dunning.queue.collectors import get_collector
from dunning.queue.config import Settings
from dunning.queue.session import WorkSession
from dunning.tui.app import DunningApp
from dunning.tui.screens.compose import ComposeScreen
from dunning.tui.screens.work import WorkScreen
from dunning.tui.widgets.account import AccountPane

ADDRESS = "compta@acme.example"


def compose_portfolio(path: Path, clock: FixedClock) -> None:
    """The Pilot portfolio; Acme (alice's first account) is a Quebec customer whose
    contact writes in French and has an e-mail address."""
    build_portfolio(path, clock)
    conn = connect(path)
    with write_tx(conn):
        conn.execute(
            "UPDATE customers SET country = 'CA', subdivision = 'QC', language = 'fr' "
            "WHERE name = 'Acme Anvils Inc.'"
        )
        conn.execute(
            "UPDATE contacts SET language = 'fr', email = ? WHERE customer_id = "
            "(SELECT id FROM customers WHERE name = 'Acme Anvils Inc.')",
            (ADDRESS,),
        )
    conn.close()


def compose_settings(tmp_path: Path, smtp: SmtpSettings | None = None) -> Settings:
    letters = LetterSettings(
        company_name="Northwind Supply Co.",
        email="ar@northwind.example",
        outbox=str(tmp_path / "outbox"),
    )
    return replace(Settings(), letters=letters, smtp=smtp)


def compose_app(path: Path, clock: FixedClock, settings: Settings) -> DunningApp:
    conn = connect(path)
    me = get_collector(conn, "alice")
    conn.close()
    assert me is not None
    return DunningApp(WorkSession(path, me, settings, clock))


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "compose.db"
    compose_portfolio(path, clock)
    return path


def compose_screen(pilot: Any) -> ComposeScreen:
    screen = pilot.app.screen
    assert isinstance(screen, ComposeScreen)
    return screen


async def open_compose(pilot: Any) -> ComposeScreen:
    await settle(pilot)
    await pilot.press("m")
    await wait_until(
        pilot,
        lambda: isinstance(pilot.app.screen, ComposeScreen) and pilot.app.screen.preview,
    )
    return compose_screen(pilot)


def shown(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector).render())


def pane_text(pilot: Any) -> str:
    pane = pilot.app.screen.query_one("#account", AccountPane)
    return "\n".join(strip.text for strip in pane.render_lines(pane.region.reset_offset))


def sent_rows(path: Path) -> list[Any]:
    return db_rows(
        path,
        "SELECT a.outcome, a.note, l.kind, l.recipient, l.subject, l.locale, l.note, l.path "
        "FROM activities a JOIN letters_sent l ON l.activity_id = a.id",
    )


async def test_french_preview_kind_note_and_eml(tmp_path: Path, db: Path, clock: FixedClock):
    settings = compose_settings(tmp_path)
    async with compose_app(db, clock, settings).run_test(size=(100, 40)) as pilot:
        screen = await open_compose(pilot)
        start = screen.start
        assert start is not None and start.locale == "fr_CA" and start.email == ADDRESS
        # the oldest invoice is 206 days past due, and no letter went yet: the levels climb
        # one at a time, so the level's letter is the first reminder (queue/levels.py)
        assert start.kind == start.level_kind == "reminder_1"
        assert screen.query_one("#compose-kind", Select).value == "reminder_1"
        # only what the account can have: no promise, plan or dispute to write about
        assert set(start.kinds) == {"reminder_1", "reminder_2", "reminder_3", "reminder_4",
                                    "statement"}  # fmt: skip
        assert "Rappel amical" in shown(screen, "#compose-subject")
        assert "Bonjour" in shown(screen, "#compose-text")
        assert screen.query_one("#compose-to", Input).value == ADDRESS

        # another kind from the list: the statement (the last)
        await pilot.press("enter", "end", "enter")
        await wait_until(pilot, lambda: screen.preview is not None
                         and screen.preview.kind == "statement")  # fmt: skip
        assert "Relevé de compte" in shown(screen, "#compose-subject")
        assert "Attached: the statement of account (PDF)" in shown(screen, "#compose-subject")

        # an added line: the preview shows it
        screen.set_focus(screen.query_one("#compose-note", Input))
        await pilot.press(*"Merci de rappeler Alice")
        await wait_until(pilot, lambda: "Merci de rappeler Alice" in shown(screen, "#compose-text"))

        # a recipient that is no address: said, nothing written
        screen.query_one("#compose-to", Input).value = "not an address"
        await pilot.press("ctrl+e")
        await wait_until(
            pilot, lambda: "not an e-mail address" in shown(screen, "#compose-message")
        )
        assert not (tmp_path / "outbox").exists()
        screen.query_one("#compose-to", Input).value = ADDRESS

        await pilot.press("ctrl+e")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, WorkScreen))
        work = await settle(pilot)
        status = shown(work, "#status")
        assert "written to" in status
        files = list((tmp_path / "outbox").glob("*.eml"))
        assert len(files) == 1 and files[0].name.endswith(".eml")
        assert oct(files[0].stat().st_mode & 0o777) == "0o600"
        msg = message_from_bytes(files[0].read_bytes(), policy=policy.default)
        assert isinstance(msg, EmailMessage)
        assert msg["To"] == ADDRESS
        assert str(msg["Subject"]).startswith("Relevé de compte")
        body = msg.get_body(("plain",))
        assert body is not None and "Merci de rappeler Alice" in body.get_content()
        pdfs = [p for p in msg.iter_attachments() if p.get_content_type() == "application/pdf"]
        assert len(pdfs) == 1 and pdfs[0].get_content().startswith(b"%PDF")

        rows = sent_rows(db)
        assert [tuple(r)[:7] for r in rows] == [
            ("email_sent", "Merci de rappeler Alice", "statement", ADDRESS,
             str(msg["Subject"]), "fr_CA", "Merci de rappeler Alice"),
        ]  # fmt: skip
        assert rows[0]["path"] == str(files[0])
        # not the level's letter: no invoice reached a level
        assert db_rows(db, "SELECT 1 FROM dunning_levels") == []
        # the history line, on screen
        await wait_until(pilot, lambda: "Merci de rappeler Alice" in pane_text(pilot))


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_send_through_loopback_smtp(tmp_path: Path, db: Path, clock: FixedClock):
    inbox = Inbox()
    port = free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port)
    server.start()
    try:
        smtp = SmtpSettings(host="127.0.0.1", port=port, starttls=False,
                            sender="Northwind AR <ar@northwind.example>", timeout=10)  # fmt: skip
        settings = compose_settings(tmp_path, smtp)
        async with compose_app(db, clock, settings).run_test(size=(100, 40)) as pilot:
            screen = await open_compose(pilot)
            screen.set_focus(screen.query_one("#compose-note", Input))
            await pilot.press(*"Dernier avis")
            await wait_until(pilot, lambda: "Dernier avis" in shown(screen, "#compose-text"))
            await pilot.press("enter")  # Enter in a field sends
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, WorkScreen))
            work = await settle(pilot)
            assert f"sent to {ADDRESS} at" in shown(work, "#status")
            await wait_until(pilot, lambda: "Dernier avis" in pane_text(pilot))
            assert "e-mail sent: Rappel amical" in pane_text(pilot)  # the history line
    finally:
        server.stop()
    assert len(inbox.messages) == 1
    sender, rcpt, data = inbox.messages[0]
    assert sender == "ar@northwind.example" and rcpt == [ADDRESS]
    msg = message_from_bytes(data, policy=policy.default)
    assert str(msg["Subject"]).startswith("Rappel amical")
    rows = sent_rows(db)
    assert [(r["outcome"], r["kind"], r["recipient"], r["note"], r["path"]) for r in rows] == [
        ("email_sent", "reminder_1", ADDRESS, "Dernier avis", "")
    ]
    # the level's letter, sent by hand: Acme's two overdue invoices reached level 1 (the
    # letter run will not send it again), with the archived letter
    levels = db_rows(
        db,
        "SELECT i.number, d.level, d.letter_id = l.id FROM dunning_levels d "
        "JOIN invoices i ON i.id = d.invoice_id JOIN letters_sent l ON l.customer_id = "
        "d.customer_id ORDER BY i.number",
    )
    assert [tuple(r) for r in levels] == [("INV-1-0", 1, 1), ("INV-1-1", 1, 1)]


async def test_cease_account_refused(tmp_path: Path, db: Path, clock: FixedClock):
    settings = compose_settings(tmp_path)
    async with compose_app(db, clock, settings).run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        # the ERP's import marks the account on screen: the customer asked us to stop
        conn = connect(db)
        with write_tx(conn):
            conn.execute("UPDATE customers SET status = 'cease' WHERE name = 'Acme Anvils Inc.'")
        conn.close()
        screen = await open_compose(pilot)
        verdict = shown(screen, "#compose-verdict")
        assert "cease" in verdict
        assert not screen.query_one("#compose-send", Button).display
        await pilot.press("ctrl+s", "ctrl+e", "enter")
        await pilot.pause(0.2)
        assert isinstance(pilot.app.screen, ComposeScreen)
    assert sent_rows(db) == []
    assert db_rows(db, "SELECT 1 FROM activities WHERE outcome = 'email_sent'") == []
    assert not (tmp_path / "outbox").exists()


async def test_escape_keeps_the_call_note(tmp_path: Path, db: Path, clock: FixedClock):
    settings = compose_settings(tmp_path)
    async with compose_app(db, clock, settings).run_test(size=(100, 40)) as pilot:
        work = await settle(pilot)
        await pilot.press("tab", *"will pay friday", "escape")
        screen = await open_compose(pilot)
        # Esc in the list of kinds closes the list, not the view
        await pilot.press("enter")
        await wait_until(pilot, lambda: screen.query_one("#compose-kind", Select).expanded)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.query_one("#compose-kind", Select).expanded)
        assert pilot.app.screen is screen
        screen.set_focus(screen.query_one("#compose-note", Input))
        await pilot.press(*"not sent")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, WorkScreen))
        assert work.query_one("#note", TextArea).text == "will pay friday"
        await wait_until(
            pilot,
            lambda: [r[0] for r in db_rows(db, "SELECT text FROM drafts")] == ["will pay friday"],
        )
    assert sent_rows(db) == []


def test_recipient_checked() -> None:
    from dunning.queue.compose import check_recipient

    assert check_recipient(" a@b.example ") == "a@b.example"
    for bad in ("", "a@b.example\r\nBcc: x@evil.example", "a\x1b[2J@b.example", "a@b, c@d.e",
                "Name <a@b.example>", "no-at-sign"):  # fmt: skip
        with pytest.raises(ValueError):
            check_recipient(bad)


async def test_palette_opens_compose(tmp_path: Path, db: Path, clock: FixedClock):
    settings = compose_settings(tmp_path)
    async with compose_app(db, clock, settings).run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await open_palette(pilot, "compose")
        assert "Compose a letter" in palette_hits(pilot.app)[0]
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ComposeScreen)
                         and pilot.app.screen.preview is not None)  # fmt: skip
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, WorkScreen))
    assert sent_rows(db) == []


async def test_m_on_the_read_only_account_view(tmp_path: Path, db: Path, clock: FixedClock):
    """A lead looking at an account (tui/screens/account_view.py): `m` composes for it."""
    from dunning.tui.screens.account_view import AccountViewScreen, open_read_only

    settings = compose_settings(tmp_path)
    conn = connect(db)
    lena = get_collector(conn, "lena")
    acme = conn.execute("SELECT id FROM customers WHERE name = 'Acme Anvils Inc.'").fetchone()[0]
    conn.close()
    assert lena is not None
    app = DunningApp(WorkSession(db, lena, settings, clock))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        open_read_only(app, app.session, acme)
        await wait_until(pilot, lambda: isinstance(app.screen, AccountViewScreen)
                         and app.screen.look is not None)  # fmt: skip
        await pilot.press("m")
        await wait_until(pilot, lambda: isinstance(app.screen, ComposeScreen)
                         and app.screen.preview is not None)  # fmt: skip
        assert compose_screen(pilot).start.ref == "C00001"  # type: ignore[union-attr]
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, AccountViewScreen))
    assert sent_rows(db) == []
