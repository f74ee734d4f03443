"""The e-mail a letter is sent as (standard library ``email.mime``: bench_letters found
``EmailMessage`` slow).

``multipart/mixed`` holding a ``multipart/alternative`` (the plain text, then the HTML)
and the attachments (the statement PDF). UTF-8 throughout: the subject and display names
are RFC 2047 encoded, the bodies quoted-printable (a French or Spanish letter stays
readable in the .eml). Headers: From, To, Reply-To (when ``[letters] email`` is set),
Subject, Date, Message-ID (``make_msgid`` with the sender's domain), MIME-Version.

Built and serialised by the standard library (``as_bytes()``, ``smtplib.send_message``)
with four cuts that took a letter's message from ~1.2 to ~0.25 ms (docs/SPEED.md "Round
10"): the policy (:data:`POLICY`, compat32 as ``email.mime`` uses)
writes a header that is already one short ASCII line as it is, instead of running it
through ``email.header.Header`` (0.04 ms each, 15 a message); the multipart boundaries are
chosen here (``=_`` and 32 random hex digits: ``=_`` never occurs in quoted-printable or
base64, so the generator's per-message regex search for a clash is not needed); and the
subject's RFC 2047 encoded words (``Q``, readable in the .eml) are made here in one pass
(``Header``'s quoted-printable splitting measures every prefix of the subject: 0.5 ms);
and the bodies are encoded by ``binascii.b2a_qp`` (C) instead of ``email.quoprimime``.

Header values are checked here once more (the caller checks them first): a value holding
a line break or any other control character is refused (ValueError), so no "\r\nBcc:"
can add a header.
"""

from __future__ import annotations

import binascii
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email import quoprimime
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import Compat32
from email.utils import format_datetime, formataddr, make_msgid
from functools import lru_cache

LINE_MAX = 78  # RFC 5322's recommended line length: a header longer is folded
_WRAP = len("=?utf-8?q??=")


class _Policy(Compat32):
    """compat32 with a fast path: a header value we have already made one short ASCII
    line (or folded: ASCII lines of at most 78 characters, each after the first starting
    with a space) is written as it is; anything else goes through compat32's folding."""

    def _fold(self, name: str, value: object, sanitize: bool) -> str:  # noqa: FBT001
        if type(value) is str and value.isascii() and "\r" not in value:
            line = f"{name}: {value}"
            lines = line.split("\n")
            if all(len(x) <= LINE_MAX for x in lines) and all(x[:1] == " " for x in lines[1:]):
                return self.linesep.join(lines) + self.linesep
        return super()._fold(name, value, sanitize)  # type: ignore[misc]


POLICY = _Policy()


def _boundary() -> str:
    return f"=_{uuid.uuid4().hex}"


@lru_cache(maxsize=4096)
def _q_char(ch: str) -> str:
    """One character in an encoded word (``é`` -> ``=C3=A9``, a space -> ``_``)."""
    return quoprimime.header_encode(ch.encode("utf-8"), "utf-8")[10:-2]


def encoded_subject(text: str, name: str = "Subject") -> str:
    """``text`` as a header value: as it is when ASCII (folded at spaces if long, when no
    word is longer than a line), else
    RFC 2047 ``Q`` encoded words (a character's UTF-8 bytes are never split), each short
    enough to share the first line with ``name: `` (75 characters at most), folded one
    word a line when the whole is longer than a line."""
    if text.isascii():
        folded = _fold_spaces(name, text)
        if all(len(line) <= LINE_MAX - len(name) - 2 for line in folded.split("\n")):
            return folded  # else a word too long for a line: encoded words split it
    room = min(75, LINE_MAX - len(name) - 2) - _WRAP
    words: list[str] = []
    current: list[str] = []
    size = 0
    for ch in text:
        q = _q_char(ch)
        if size + len(q) > room and current:
            words.append(f"=?utf-8?q?{''.join(current)}?=")
            current, size = [], 0
        current.append(q)
        size += len(q)
    if current:
        words.append(f"=?utf-8?q?{''.join(current)}?=")
    return _fold_spaces(name, " ".join(words))


def _fold_spaces(name: str, value: str) -> str:
    """``value`` folded at its spaces so that ``name: value``'s lines are at most 78
    characters where a space allows (an encoded word is never longer than 75)."""
    if len(name) + 2 + len(value) <= LINE_MAX or " " not in value:
        return value
    lines: list[str] = []
    line = ""
    room = LINE_MAX - len(name) - 2
    for word in value.split(" "):
        if line and len(line) + 1 + len(word) > room:
            lines.append(line)
            line, room = word, LINE_MAX - 1
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n ".join(lines)


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    mime: str = "application/pdf"


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _header_safe(name: str, value: str) -> str:
    if _CONTROL.search(value):
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
    alternative = MIMEMultipart("alternative", boundary=_boundary(), policy=POLICY)
    alternative.attach(_text_part(text, "plain"))
    alternative.attach(_text_part(html, "html"))
    msg = MIMEMultipart("mixed", boundary=_boundary(), policy=POLICY)
    msg["From"] = _address(name, address)
    msg["To"] = _address("", to)
    if reply_to and reply_to != address:
        msg["Reply-To"] = _address("", reply_to)
    msg["Subject"] = encoded_subject(_header_safe("subject", subject))
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = _header_safe("message-id", message_id or make_msgid(domain=domain))
    msg.attach(alternative)
    for item in attachments:
        maintype, _, subtype = item.mime.partition("/")
        part = MIMEApplication(item.data, _subtype=subtype or "octet-stream", policy=POLICY)
        if maintype != "application":
            part.replace_header("Content-Type", item.mime)
        part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", item.filename))
        msg.attach(part)
    return msg


def _text_part(body: str, subtype: str) -> MIMENonMultipart:
    """A UTF-8 text part, quoted-printable: what ``MIMEText(body, subtype, utf-8 QP)``
    makes, encoded by ``binascii.b2a_qp`` (C) instead of ``email.quoprimime`` (Python,
    a tenth of a millisecond a letter)."""
    part = MIMENonMultipart("text", subtype, policy=POLICY, charset="utf-8")
    part["Content-Transfer-Encoding"] = "quoted-printable"
    encoded = binascii.b2a_qp(body.encode("utf-8"), istext=True).decode("ascii")
    part.set_payload(encoded)
    return part
