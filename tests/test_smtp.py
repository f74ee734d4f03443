"""Sending through a real SMTP server on loopback (aiosmtpd): what arrives (headers, both
parts, accents, the statement attached), the activity and the archive row; a relay down,
a refused login or a refused recipient records nothing and says why, naming the relay."""

from __future__ import annotations

import email
import email.policy
import socket
from dataclasses import replace
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from dunning.letters.settings import LetterSettings
from dunning.letters.smtp_settings import SmtpSettings
from dunning.queue.collectors import get_collector_by_id
from dunning.queue.sending import send_letter
from dunning.queue.smtp import SmtpTransport


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, ANN201, N802
        if address.startswith("nobody@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def messages(self) -> list[email.message.EmailMessage]:
        return [
            email.message_from_bytes(e.content, policy=email.policy.default)  # type: ignore[misc]
            for e in self.envelopes
        ]


def _check_login(server, session, envelope, mechanism, auth_data):  # noqa: ANN001, ANN201
    ok = auth_data.login == b"ar" and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)  # handled=False: the server says 535


@pytest.fixture(params=[False], ids=["ascii"])
def relay(request):
    inbox = Inbox()
    port = _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_check_login,
        auth_require_tls=False,
        enable_SMTPUTF8=request.param,
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _settings(settings, port: int, **smtp: Any):
    letters = LetterSettings(company_name="Ouellet & Fils", email="ar@ouellet.example")
    relay = SmtpSettings(
        host="127.0.0.1",
        port=port,
        starttls=False,
        sender="Comptes clients <noreply@ouellet.example>",
        timeout=5,
    )
    return replace(settings, letters=letters, smtp=replace(relay, **smtp))


@pytest.fixture
def account(ledger, conn):
    return french_account(ledger, conn)


def french_account(ledger, conn):  # noqa: ANN001, ANN201
    """Ana's account of Société Générale (Quebec), whose contact writes in French."""
    ana = ledger.collector("ana", languages="en,fr")
    cid = ledger.customer(
        "Société Générale", collector=ana, country="CA", subdivision="QC", currency="CAD"
    )
    conn.execute(
        "UPDATE contacts SET email = 'ap@sg.example', language = 'fr', name = 'Hélène Côté' "
        "WHERE customer_id = ?",
        (cid,),
    )
    conn.commit()
    return get_collector_by_id(conn, ana), cid


def _counts(conn) -> tuple[int, int]:
    acts = conn.execute(
        "SELECT COUNT(*) FROM activities WHERE outcome IN ('email_sent', 'letter_sent')"
    ).fetchone()[0]
    return acts, conn.execute("SELECT COUNT(*) FROM letters_sent").fetchone()[0]


def test_a_statement_arrives_with_both_parts_accents_and_the_pdf(
    relay, conn, clock, settings, account
):
    inbox, port = relay
    me, cid = account
    s = _settings(settings, port)
    result = send_letter(conn, clock, me, s, "C00001", "statement", note="Merci, Hélène")
    assert result.sent, result.reason
    assert result.path is None and result.message_id.endswith("@ouellet.example>")
    [envelope] = inbox.envelopes
    assert envelope.mail_from == "noreply@ouellet.example"
    assert envelope.rcpt_tos == ["ap@sg.example"]
    [msg] = inbox.messages()
    assert msg["To"] == "ap@sg.example"
    assert msg["From"].addresses[0].display_name == "Comptes clients"
    assert msg["Reply-To"] == "ar@ouellet.example"
    assert msg["Subject"] == result.subject and "Relevé de compte C00001" in msg["Subject"]
    assert msg["Message-ID"] == result.message_id
    assert msg["Date"].datetime == clock.now()
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Hélène Côté" in text and "Hélène Côté" in html
    assert "Merci, Hélène" in text and "Merci, Hélène" in html  # the collector's line
    assert "1\xa0000,00\xa0$" in text  # fr_CA money (no-break spaces)
    [pdf] = list(msg.iter_attachments())
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_filename().endswith(".pdf") and pdf.get_content().startswith(b"%PDF")
    act = conn.execute("SELECT * FROM activities WHERE id = ?", (result.activity_id,)).fetchone()
    assert (act["outcome"], act["collector_id"], act["customer_id"]) == ("email_sent", me.id, cid)
    assert (act["attempt"], act["contact"], act["rpc"], act["note"]) == (0, 0, 0, "Merci, Hélène")
    row = conn.execute("SELECT * FROM letters_sent WHERE id = ?", (result.letter_id,)).fetchone()
    assert row["activity_id"] == result.activity_id and row["recipient"] == "ap@sg.example"
    assert (row["kind"], row["channel"], row["language"], row["locale"]) == (
        "statement", "email", "fr", "fr_CA",
    )  # fmt: skip
    assert row["subject"] == msg["Subject"]
    assert row["body_text"] == text.replace("\r\n", "\n")  # the archive: as sent
    assert row["message_id"] == result.message_id and row["path"] == ""


def test_a_consumer_email_carries_the_opt_out_line_in_both_parts(
    relay, conn, clock, settings, ledger
):
    inbox, port = relay
    ana = ledger.collector("ana")
    cid = ledger.customer("Pat Doe", collector=ana, portfolio="consumer")
    conn.execute("UPDATE contacts SET email = 'pat@example.org' WHERE customer_id = ?", (cid,))
    conn.commit()
    me = get_collector_by_id(conn, ana)
    result = send_letter(conn, clock, me, _settings(settings, port), "C00001", "reminder_1")
    assert result.sent, result.reason
    [msg] = inbox.messages()
    for part in ("plain", "html"):
        body = msg.get_body((part,)).get_content()
        assert "STOP" in body, part  # the opt-out line: reply STOP, or write to us
    assert not list(msg.iter_attachments())  # a reminder: no statement unless asked


def test_login_with_the_password_from_the_environment(
    relay, conn, clock, settings, account, monkeypatch
):
    inbox, port = relay
    me, _ = account
    monkeypatch.setenv("RELAY_PASSWORD", "s3cret")
    s = _settings(settings, port, username="ar", password_env="RELAY_PASSWORD")
    assert send_letter(conn, clock, me, s, "C00001", "reminder_1").sent
    assert len(inbox.envelopes) == 1


def test_a_refused_login_records_nothing_and_names_the_relay(
    relay, conn, clock, settings, account, monkeypatch
):
    inbox, port = relay
    me, _ = account
    monkeypatch.setenv("RELAY_PASSWORD", "wrong")
    s = _settings(settings, port, username="ar", password_env="RELAY_PASSWORD")
    result = send_letter(conn, clock, me, s, "C00001", "reminder_1")
    assert not result.sent and result.code == "smtp_failed"
    assert f"127.0.0.1:{port}: authentication refused for ar" in result.reason
    assert inbox.envelopes == [] and _counts(conn) == (0, 0)


def test_a_missing_password_variable_is_said(relay, conn, clock, settings, account, monkeypatch):
    _, port = relay
    me, _ = account
    monkeypatch.delenv("RELAY_PASSWORD", raising=False)
    s = _settings(settings, port, username="ar", password_env="RELAY_PASSWORD")
    result = send_letter(conn, clock, me, s, "C00001", "reminder_1")
    assert not result.sent and "RELAY_PASSWORD" in result.reason and _counts(conn) == (0, 0)


def test_a_refused_recipient_records_nothing(relay, conn, clock, settings, account):
    inbox, port = relay
    me, cid = account
    conn.execute("UPDATE contacts SET email = 'nobody@sg.example' WHERE customer_id = ?", (cid,))
    conn.commit()
    result = send_letter(conn, clock, me, _settings(settings, port), "C00001", "reminder_1")
    assert not result.sent and result.code == "smtp_failed"
    assert "recipient refused (nobody@sg.example)" in result.reason and "550" in result.reason
    assert inbox.envelopes == [] and _counts(conn) == (0, 0)


def test_a_relay_that_is_down_records_nothing(conn, clock, settings, account):
    me, _ = account
    port = _free_port()  # nothing listens there
    result = send_letter(conn, clock, me, _settings(settings, port), "C00001", "reminder_1")
    assert not result.sent and result.code == "smtp_failed"
    assert result.reason == f"127.0.0.1:{port}: connection refused (is the relay running?)"
    assert _counts(conn) == (0, 0)


def test_one_connection_carries_a_run_of_messages(relay, conn, clock, settings, account):
    inbox, port = relay
    me, _ = account
    s = _settings(settings, port)
    assert s.smtp is not None
    with SmtpTransport(s.smtp) as transport:
        for kind in ("reminder_1", "reminder_2"):
            assert send_letter(conn, clock, me, s, "C00001", kind, transport=transport).sent
        assert transport._smtp is not None  # kept open between the two
    assert len(inbox.envelopes) == 2 and _counts(conn) == (2, 2)


@pytest.mark.parametrize(
    ("relay", "smtputf8"), [(True, True), (False, False)], ids=["smtputf8", "ascii-only"],
    indirect=["relay"],
)  # fmt: skip
def test_an_address_that_is_not_ascii_goes_with_smtputf8_or_is_refused(
    relay, smtputf8, conn, clock, settings, account
):
    """RFC 6531/6532: a mailbox like josé@... needs a relay that offers SMTPUTF8; without
    it the send is refused, naming why, and nothing is recorded."""
    inbox, port = relay
    me, cid = account
    conn.execute("UPDATE contacts SET email = 'josé@sg.example' WHERE customer_id = ?", (cid,))
    conn.commit()
    result = send_letter(conn, clock, me, _settings(settings, port), "C00001", "reminder_1")
    if smtputf8:
        assert result.sent, result.reason
        [envelope] = inbox.envelopes
        assert envelope.rcpt_tos == ["josé@sg.example"]
        assert "SMTPUTF8" in envelope.mail_options
        [msg] = inbox.messages()
        assert msg["To"] == "josé@sg.example" and "Hélène Côté" in msg.get_body().get_content()
    else:
        assert result.code == "smtp_failed" and "SMTPUTF8" in result.reason, result.reason
        assert _counts(conn) == (0, 0)
