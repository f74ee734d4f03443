"""The e-mail a letter is sent as (standard library ``email.mime``: bench_letters found
``EmailMessage`` slow).

``multipart/mixed`` holding a ``multipart/alternative`` (the plain text, then the HTML)
and the attachments (the statement PDF). UTF-8 throughout: the subject and display names
are RFC 2047 encoded, the bodies quoted-printable (a French or Spanish letter stays
readable in the .eml). Headers: From, To, Reply-To (when ``[letters] email`` is set),
Subject, Date, Message-ID (``make_msgid`` with the sender's domain), MIME-Version.

Header values are checked here once more (the caller checks them first): a value holding
a line break or any other control character is refused (ValueError), so no "\r\nBcc:"
can add a header.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email import charset as _charset
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, make_msgid

_UTF8 = _charset.Charset("utf-8")
_UTF8.header_encoding = _charset.QP
_UTF8.body_encoding = _charset.QP


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    mime: str = "application/pdf"


def _header_safe(name: str, value: str) -> str:
    if any(ord(ch) < 32 or ord(ch) == 127 or 0x80 <= ord(ch) < 0xA0 for ch in value):
        raise ValueError(f"{name}: a control character or line break in a header value")
    return value


def _address(name: str, address: str) -> str:
    _header_safe("address", address)
    _header_safe("display name", name)
    return formataddr((name, address), charset="utf-8") if name else address


def build_message(
    *,
    subject: str,
    text: str,
    html: str,
    sender: tuple[str, str],
    to: str,
    date: datetime,
    reply_to: str = "",
    attachments: Sequence[Attachment] = (),
    message_id: str | None = None,
) -> MIMEMultipart:
    """The message, ready for ``as_bytes()`` or ``smtplib.send_message``.

    ``sender``: (display name, address); ``to``: one plain address; ``date``: aware."""
    name, address = sender
    domain = address.rpartition("@")[2] or "localhost"
    alternative = MIMEMultipart("alternative")
    alternative.attach(MIMEText(text, "plain", _UTF8))  # type: ignore[arg-type]
    alternative.attach(MIMEText(html, "html", _UTF8))  # type: ignore[arg-type]
    msg = MIMEMultipart("mixed")
    msg["From"] = _address(name, address)
    msg["To"] = _address("", to)
    if reply_to and reply_to != address:
        msg["Reply-To"] = _address("", reply_to)
    msg["Subject"] = Header(_header_safe("subject", subject), "utf-8")  # type: ignore[assignment]
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = _header_safe("message-id", message_id or make_msgid(domain=domain))
    msg.attach(alternative)
    for item in attachments:
        maintype, _, subtype = item.mime.partition("/")
        part = MIMEApplication(item.data, _subtype=subtype or "octet-stream")
        if maintype != "application":
            part.replace_header("Content-Type", item.mime)
        part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", item.filename))
        msg.attach(part)
    return msg
