"""The relay over TLS, with a real certificate (trustme: a certificate authority made for
the test): STARTTLS on a submission port and TLS from the first byte, the relay's
certificate checked against ``[smtp] cafile``; a certificate the host does not trust is
refused, naming the relay and why, and nothing is recorded."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from test_smtp import Inbox, _counts, _free_port, _settings, french_account

from dunning.queue.sending import send_letter


class TlsInbox(Inbox):
    def __init__(self) -> None:
        super().__init__()
        self.tls: list[bool] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        # STARTTLS sets session.ssl; TLS from the first byte shows on the transport
        wrapped = server.transport.get_extra_info("ssl_object") is not None
        self.tls.append(session.ssl is not None or wrapped)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def account(ledger, conn):  # noqa: ANN001, ANN201
    return french_account(ledger, conn)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(params=["starttls", "ssl"])
def tls_relay(request, ca: trustme.CA):  # noqa: ANN001, ANN201
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server)
    inbox = TlsInbox()
    port = _free_port()
    kw: dict[str, Any] = (
        {"tls_context": server, "require_starttls": True}
        if request.param == "starttls"
        else {"ssl_context": server}
    )
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kw)
    controller.start()
    try:
        yield inbox, port, request.param
    finally:
        controller.stop()


def test_a_letter_goes_over_tls_to_a_relay_whose_certificate_is_checked(
    tls_relay, ca_file, conn, clock, settings, account
):
    inbox, port, mode = tls_relay
    me, _ = account
    s = _settings(settings, port, starttls=mode == "starttls", ssl=mode == "ssl", cafile=ca_file)
    result = send_letter(conn, clock, me, s, "C00001", "reminder_1")
    assert result.sent, result.reason
    assert inbox.tls == [True]  # the message travelled encrypted
    [msg] = inbox.messages()
    assert msg["To"] == "ap@sg.example" and _counts(conn) == (1, 1)


def test_a_relay_certificate_the_host_does_not_trust_is_refused(
    tls_relay, conn, clock, settings, account
):
    inbox, port, mode = tls_relay
    me, _ = account
    s = _settings(settings, port, starttls=mode == "starttls", ssl=mode == "ssl")  # no cafile
    result = send_letter(conn, clock, me, s, "C00001", "reminder_1")
    assert not result.sent and result.code == "smtp_failed"
    assert result.reason.startswith(f"127.0.0.1:{port}: the relay's certificate is not trusted")
    assert "[smtp] cafile" in result.reason
    assert inbox.envelopes == [] and _counts(conn) == (0, 0)
