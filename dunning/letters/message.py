"""The e-mail a letter is sent as, written directly in its wire form.

``multipart/mixed`` holding a ``multipart/alternative`` (the plain text, then the HTML)
and the attachments (the statement PDF). UTF-8 throughout: the subject and display names
are RFC 2047 encoded, the bodies quoted-printable (a French or Spanish letter stays
readable in the .eml), attachments base64. Headers: From, To, Reply-To (when ``[letters]
email`` is set), Subject, Date, Message-ID (``make_msgid`` with the sender's domain),
MIME-Version.

Why not ``email.mime`` and its generator: a letter's message is always this one shape,
and the standard library's classes build a tree of objects, then walk it, re-parse each
part's headers and fold every header through ``email.header`` to write it: 0.4-0.5 ms a
letter even with a faster policy (round 10), a quarter of the nightly run's time. Here
the parts are formatted as they are known (0.03 ms): the encodings are still the
standard library's (``binascii.b2a_qp`` and ``base64`` for the bodies, ``formataddr``,
``encode_rfc2231``, ``format_datetime``, ``make_msgid`` for the headers), and
tests/test_letters_message.py parses every message back with the standard library's
parser (``email.policy.default``) and finds exactly what was rendered, whatever the
subject, bodies and names hold (a hypothesis test among them).

The boundaries are ``=_`` and 32 random hex digits: ``=_`` never occurs in
quoted-printable or base64, so no body can hold a delimiter line.

Header values are checked here once more (the caller checks them first): a value holding
a line break or any other control character is refused (ValueError), so no "\r\nBcc:"
can add a header.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email import quoprimime
from email.utils import encode_rfc2231, format_datetime, formataddr, make_msgid
from functools import lru_cache

LINE_MAX = 78  # RFC 5322's recommended line length: a header longer is folded
_WRAP = len("=?utf-8?q??=")


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
_MIME_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]{1,64}/[A-Za-z0-9!#$&^_.+-]{1,64}")


def _header_safe(name: str, value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError(f"{name}: a control character or line break in a header value")
    return value


def _address(name: str, address: str) -> str:
    _header_safe("address", address)
    _header_safe("display name", name)
    return formataddr((name, address), charset="utf-8") if name else address


@dataclass(frozen=True)
class Mail:
    """A built message: its top-level headers (in order) and the body after them.

    ``mail["Message-ID"]`` reads a header; ``as_bytes()`` is the message as an .eml file
    holds it (``linesep="\r\n"``: as SMTP sends it)."""

    headers: tuple[tuple[str, str], ...]
    body: str
    boundaries: tuple[str, str] = field(default=("", ""))  # mixed, alternative

    def __getitem__(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def as_bytes(self, linesep: str = "\n") -> bytes:
        """ASCII, unless an address is not (RFC 6532: UTF-8 headers, sent with SMTPUTF8)."""
        head = "".join(f"{key}: {value}\n" for key, value in self.headers)
        data = f"{head}\n{self.body}"
        if linesep != "\n":
            data = data.replace("\n", linesep)
        return data.encode("utf-8")


def _header(name: str, value: str) -> tuple[str, str]:
    """``(name, value)`` with the value folded at its spaces when the line is long (the
    value is ASCII: addresses are RFC 2047 encoded by formataddr)."""
    return name, _fold_spaces(name, value) if len(name) + 2 + len(value) > LINE_MAX else value


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
) -> Mail:
    """The message, ready for ``as_bytes()`` (an .eml file, SMTP).

    ``sender``: (display name, address); ``to``: one plain address; ``date``: aware."""
    name, address = sender
    domain = address.rpartition("@")[2] or "localhost"
    mixed, alternative = _boundary(), _boundary()
    headers = [
        ("Content-Type", f'multipart/mixed; boundary="{mixed}"'),
        ("MIME-Version", "1.0"),
        _header("From", _address(name, address)),
        _header("To", _address("", to)),
    ]
    if reply_to and reply_to != address:
        headers.append(_header("Reply-To", _address("", reply_to)))
    headers += [
        ("Subject", encoded_subject(_header_safe("subject", subject))),
        ("Date", format_datetime(date)),
        _header("Message-ID", _header_safe("message-id", message_id or make_msgid(domain=domain))),
    ]
    parts = [
        f"--{mixed}\n"
        f'Content-Type: multipart/alternative;\n boundary="{alternative}"\n\n'
        f"--{alternative}\n{_text_part(text, 'plain')}\n"
        f"--{alternative}\n{_text_part(html, 'html')}\n"
        f"--{alternative}--\n"
    ]
    parts += [f"--{mixed}\n{_attachment(item)}\n" for item in attachments]
    body = "".join(parts) + f"--{mixed}--\n"
    return Mail(tuple(headers), body, (mixed, alternative))


def _text_part(body: str, subtype: str) -> str:
    """A UTF-8 text part, quoted-printable (``binascii.b2a_qp``: lines of at most 76)."""
    encoded = binascii.b2a_qp(body.encode("utf-8"), istext=True).decode("ascii")
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\n'
        f"Content-Transfer-Encoding: quoted-printable\n\n{encoded}"
    )


def _attachment(item: Attachment) -> str:
    """An attachment part, base64 (lines of 76); the file name RFC 2231 encoded."""
    mime = item.mime if _MIME_TYPE.fullmatch(item.mime) else "application/octet-stream"
    filename = _header_safe("file name", item.filename)
    encoded = base64.encodebytes(item.data).decode("ascii")
    return (
        f"Content-Type: {mime}\n"
        f"Content-Transfer-Encoding: base64\n"
        f"Content-Disposition: attachment; filename*={encode_rfc2231(filename, 'utf-8')}\n\n"
        f"{encoded}"
    )
