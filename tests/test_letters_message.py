"""The e-mail a letter is sent as (dunning/letters/message.py): what is written parses back
to exactly what was rendered, whatever the subject and bodies hold, with the faster
policy, boundaries and encoded subject it is built with."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunning.letters.message import Attachment, build_message, encoded_subject

AT = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
SUBJECTS = [
    "Friendly reminder: $1,234.50 past due on account C0001234",
    "Rappel amical : 1 234,50 $ en souffrance sur le compte C0001234 — merci de régler bientôt",
    "Recordatorio: 1.234,50 € vencidos en la cuenta C0001234 (Peña, Muñoz y Compañía S.A.)",
    "お支払いのお願い: 株式会社テスト 様 ¥123,456 " * 4,
    "Statement of account " + "C0001234 " * 20,
    "x" * 200,  # no space to fold at: compat32's own folding
    "🙂 émoji",
]


def _build(subject: str, text: str = "Body\n", html: str = "<p>Body</p>\n", **kw: object):
    return build_message(
        subject=subject,
        text=text,
        html=html,
        sender=("Northwind Supply Cé", "ar@northwind.example"),
        to="ap@acme.example",
        date=AT,
        reply_to="ar2@northwind.example",
        **kw,  # type: ignore[arg-type]
    )


def _parse(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


def _header_lines(data: bytes) -> list[str]:
    return data.split(b"\n\n", 1)[0].decode("ascii").split("\n")


@pytest.mark.parametrize("subject", SUBJECTS)
def test_the_subject_reads_back_whole_and_its_lines_are_short(subject: str) -> None:
    data = _build(subject).as_bytes()
    back = _parse(data)
    assert back["Subject"] == subject
    assert back["From"] == "Northwind Supply Cé <ar@northwind.example>"
    assert back["To"] == "ap@acme.example" and back["Reply-To"] == "ar2@northwind.example"
    if " " in subject:  # a folded line never passes 78 characters where a space allows
        assert all(len(line) <= 78 for line in _header_lines(data))


def test_a_french_subject_stays_readable_in_the_file() -> None:
    value = encoded_subject("Relevé de compte C00001")
    assert value == "=?utf-8?q?Relev=C3=A9_de_compte_C00001?="
    assert encoded_subject("Statement of account C00001") == "Statement of account C00001"


def test_bodies_attachments_and_boundaries() -> None:
    text = "Bonjour Mme Gagné,\n\nn° 12 = 34 \t\n" + "ligne longue " * 30 + "\n不 🙂\n"
    html = "<p>Bonjour Mme Gagn&eacute;, " + "é" * 300 + "</p>\n"
    pdf = bytes(range(256)) * 20
    msg = _build(SUBJECTS[1], text, html, attachments=(Attachment("relevé.pdf", pdf),))
    data = msg.as_bytes()
    back = _parse(data)
    assert back.get_body(("plain",)).get_content() == text  # type: ignore[union-attr]
    assert back.get_body(("html",)).get_content() == html  # type: ignore[union-attr]
    (att,) = list(back.iter_attachments())
    assert att.get_filename() == "relevé.pdf" and att.get_content() == pdf
    # each boundary appears only as a delimiter line
    for boundary in msg.boundaries:
        assert boundary and boundary.startswith("=_")
        body_lines = data.decode("ascii").split("\n")
        assert {line for line in body_lines if boundary in line} <= {
            f"--{boundary}",
            f"--{boundary}--",
            f'Content-Type: multipart/mixed; boundary="{boundary}"',
            f' boundary="{boundary}"',
        }
    # quoted-printable lines are at most 76 characters
    assert max(len(line) for line in data.split(b"\n")) <= 78


def test_a_header_value_with_a_line_break_is_refused() -> None:
    with pytest.raises(ValueError, match="control character"):
        _build("Hello\r\nBcc: everyone@example.com")
    with pytest.raises(ValueError, match="control character"):
        build_message(
            subject="x",
            text="",
            html="",
            sender=("Evil\nBcc: x@y", "ar@northwind.example"),
            to="ap@acme.example",
            date=AT,
        )


_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x0b\x0c"),
    max_size=400,
).map(lambda s: "".join(ch for ch in s if ch in "\n\t" or ch.isprintable()))
_SUBJECT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=200).map(
    lambda s: " ".join("".join(ch for ch in s if ch.isprintable()).split())
)


@given(subject=_SUBJECT, text=_TEXT)
def test_any_subject_and_body_read_back_as_written(subject: str, text: str) -> None:
    back = _parse(_build(subject, text, f"<p>{text}</p>").as_bytes())
    assert (back["Subject"] or "") == subject
    assert back.get_body(("plain",)).get_content() == text  # type: ignore[union-attr]


def test_an_address_that_is_not_ascii_is_written_in_utf8_and_reads_back() -> None:
    msg = build_message(
        subject="Relevé",
        text="Bonjour\n",
        html="<p>Bonjour</p>\n",
        sender=("Comptes clients", "ar@northwind.example"),
        to="josé@acme.example",
        date=AT,
    )
    back = _parse(msg.as_bytes())
    assert back["To"] == "josé@acme.example" and msg["to"] == "josé@acme.example"
    assert back.get_body(("plain",)).get_content() == "Bonjour\n"  # type: ignore[union-attr]
    assert b"\r\n" in msg.as_bytes("\r\n") and b"\n" not in msg.as_bytes("\r\n").replace(
        b"\r\n", b""
    )
