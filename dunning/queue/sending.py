"""Sending a letter (issue 10, item 3): ``send_letter`` checks, renders, delivers and
records; ``render_message`` builds what would be sent (the compose view's preview).

The order, each step refusing with a code and a translated reason (a
:class:`SendResult` with ``sent=False``), nothing written:

1. the input: a known kind and channel, the collector's added line (one line, control
   characters removed, 500 characters at most), the recipient (one plain address: a
   line break, a second address or a display name is refused);
2. the rights (queue/access.py): a collector sends on their own accounts, a lead or
   admin on any (the history then says for whom), nobody on an account someone else
   holds right now; ``actor=None`` is the system (the nightly letter run);
3. the writing rules (queue/writing_rules.py: cease, legal, agency, opted out, the
   calling window, Ontario's 3-in-7, nothing undisputed overdue);
4. the rendering in the customer's language and locale (dunning/letters), the message
   (letters/message.py) with the statement PDF attached for a statement;
5. the delivery: through ``transport`` or the ``[smtp]`` relay, or with ``out_dir``
   written as ``<out_dir>/<ref>-<kind>-<UTC time>.eml`` (private 0600, never over an
   existing file); a letter on paper (``channel="letter"``) is written there as text
   (and its PDF) for printing;
6. after the delivery, in ONE write transaction: the activity (``email_sent`` /
   ``letter_sent``, no attempt, no contact, no right-party contact; its note the
   collector's added line) and the archive row (``letters_sent``, db/letters_schema.py).

``dry_run=True`` writes the .eml (or the letter) into ``out_dir`` (required) and records
nothing: ``sent`` is False, ``code`` ``dry_run``, ``path`` the file.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from dunning.clock import Clock, to_iso
from dunning.db.connection import write_tx
from dunning.i18n import _
from dunning.letters.context import NoSuchAccount, NothingToWrite, build_context
from dunning.letters.kinds import KINDS
from dunning.letters.message import Attachment, Mail, build_message
from dunning.letters.render import TemplateProblem, known_locale, language_of_locale, render
from dunning.letters.smtp_settings import sender_address, valid_address
from dunning.queue import audit
from dunning.queue.access import AccountRefused, audit_refusal, check_change, load_access
from dunning.queue.collectors import Collector
from dunning.queue.config import Settings
from dunning.queue.outbox import file_stem, write_new
from dunning.queue.smtp import SendFailed, SmtpTransport, Transport
from dunning.queue.writing_rules import check_write
from dunning.textsafe import clean

CHANNELS = ("email", "letter")
OUTCOME_OF = {"email": "email_sent", "letter": "letter_sent"}
NOTE_MAX = 500  # characters of the collector's added line


@dataclass(frozen=True)
class SendResult:
    """What happened: ``sent`` (delivered and recorded), else ``code`` and ``reason`` (one
    translated line); ``path``: the .eml or letter file written (None through the relay);
    ``message_id``; ``activity_id`` and ``letter_id`` (the archive row) when recorded."""

    sent: bool
    code: str = ""
    reason: str = ""
    path: Path | None = None
    message_id: str = ""
    activity_id: int | None = None
    letter_id: int | None = None
    recipient: str = ""
    subject: str = ""


class SendRefused(Exception):
    """Refused before anything was delivered: ``code`` and a translated ``reason``."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Built:
    """A letter rendered and built, not sent: what the compose view previews."""

    customer_id: int
    ref: str
    kind: str
    channel: str
    language: str
    locale: str
    recipient: str  # '' for a letter on paper without an address
    subject: str
    text: str
    html: str
    message: Mail | None  # None for a letter on paper
    message_id: str
    sender: str  # the envelope sender ('' without [smtp] from nor [letters] email)
    attachments: tuple[Attachment, ...] = field(default=())
    postal: tuple[str, ...] = ()  # a letter on paper: the name and address it is sent to


def clean_note(note: str) -> str:
    """The collector's added line: one line, no control character, bounded."""
    return " ".join(clean(note or "")[0].split())[:NOTE_MAX]


def check_recipient(to: str) -> str:
    """``to`` as one plain address, else SendRefused (a line break or a second address:
    a header injection is refused, not cleaned)."""
    value = to.strip()
    if not valid_address(value):
        shown = " ".join(clean(value)[0].split())[:80]
        raise SendRefused(
            "bad_recipient", _("not an e-mail address: {value!r}").format(value=shown)
        )
    return value


def _customer(conn: sqlite3.Connection, ref: str) -> tuple[int, str]:
    row = conn.execute(
        "SELECT id, external_ref FROM customers WHERE external_ref = ?", (ref,)
    ).fetchone()
    if row is None:
        raise SendRefused(
            "no_account", _("no customer with reference {ref}").format(ref=clean(ref)[0][:80])
        )
    return int(row[0]), str(row[1])


def _sender(settings: Settings) -> tuple[str, str]:
    """(display name, address) the message comes from: [smtp] from, else [letters]
    email with the company's name."""
    if settings.smtp is not None and settings.smtp.sender:
        name, addr = sender_address(settings.smtp.sender)
        if addr:
            return name, addr
    letters = settings.letters
    if letters.email and valid_address(letters.email.strip()):
        return letters.company_name.strip(), letters.email.strip()
    return "", ""


def _statement(
    conn: sqlite3.Connection, ref: str, as_of: date, settings: Settings, locale: str
) -> Attachment:
    """The statement PDF (dunning.letters.pdf, issue 10 item 2)."""
    from dunning.letters.pdf import statement_pdf  # noqa: PLC0415 - fpdf2 only when attached

    try:
        made = statement_pdf(conn, ref, as_of=as_of, settings=settings.letters, locale=locale)
    except (LookupError, ValueError, OSError) as exc:
        raise SendRefused(
            "statement_failed",
            _("the statement PDF cannot be made: {error}").format(error=clean(str(exc))[0][:200]),
        ) from None
    return Attachment(made.filename, made.data)


def _check_input(kind: str, channel: str) -> None:
    if kind not in KINDS:
        shown = clean(kind)[0][:40]
        raise SendRefused("bad_kind", _("unknown kind of letter: {kind}").format(kind=shown))
    if channel not in CHANNELS:
        shown = clean(channel)[0][:40]
        raise SendRefused("bad_channel", _("unknown channel: {channel}").format(channel=shown))


def render_message(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    ref: str,
    kind: str,
    *,
    channel: str = "email",
    note: str = "",
    to: str | None = None,
    attach_statement: bool | None = None,
    locale: str | None = None,
) -> Built:
    """The letter ``kind`` for the account ``ref``, rendered in the customer's language
    and locale (``locale`` to choose another) and built as the message that would be
    sent, without sending or recording anything. SendRefused (code, reason) when it
    cannot be written: an unknown kind or channel, no such account, what the kind needs
    missing, a broken template, an e-mail without an address."""
    _check_input(kind, channel)
    if locale is not None and not known_locale(locale):
        raise SendRefused("bad_locale", _("unknown locale {locale!r}").format(locale=locale[:40]))
    customer_id, ext = _customer(conn, ref)
    now = clock.now()
    as_of = now.astimezone(settings.team_zone).date()
    line = clean_note(note)
    try:
        found_locale, context = build_context(
            conn, ext, as_of=as_of, settings=settings.letters, kind=kind
        )
    except NoSuchAccount:
        raise SendRefused(
            "no_account", _("no customer with reference {ref}").format(ref=ext)
        ) from None
    except NothingToWrite as exc:
        raise SendRefused("nothing_to_write", str(exc)) from None
    use_locale = locale or found_locale
    context["note"] = line
    try:
        out = render(kind, use_locale, context, override=settings.letters.templates_dir)
    except TemplateProblem as exc:
        raise SendRefused("template", str(exc)) from None
    contact = context.get("contact") or {}
    recipient = check_recipient(to) if to else str(contact.get("email") or "").strip()
    if channel == "email" and not recipient:
        raise SendRefused("no_address", _("{ref} has no e-mail address").format(ref=ext))
    if channel == "email" and to is None:
        recipient = check_recipient(recipient)
    attach = kind == "statement" if attach_statement is None else attach_statement
    attachments: tuple[Attachment, ...] = ()
    if attach:
        attachments = (_statement(conn, ext, as_of, settings, use_locale),)
    name, sender = _sender(settings)
    message = None
    message_id = ""
    if channel == "email":
        if not sender:
            raise SendRefused(
                "no_sender",
                _("no sender address: set [smtp] from or [letters] email in the configuration"),
            )
        reply_to = settings.letters.email.strip()
        message = build_message(
            subject=out.subject,
            text=out.text,
            html=out.html,
            sender=(name, sender),
            to=recipient,
            date=now,
            reply_to=reply_to if valid_address(reply_to) else "",
            attachments=attachments,
        )
        message_id = str(message["Message-ID"])
    return Built(
        customer_id,
        ext,
        kind,
        channel,
        language_of_locale(use_locale),
        use_locale,
        recipient,
        out.subject,
        out.text,
        out.html,
        message,
        message_id,
        sender,
        attachments,
        (context["customer"]["name"], *context["customer"]["address"].splitlines()),
    )


def _check_rights(
    conn: sqlite3.Connection, clock: Clock, actor: Collector | None, customer_id: int
) -> dict[str, object]:
    """Refused (SendRefused, audited) unless ``actor`` may write to the account; what the
    activity records of a lead's send on someone else's account."""
    if actor is None:  # the system: the nightly letter run
        return {}
    access = load_access(conn, to_iso(clock.now()), actor, customer_id)
    if access is None:
        raise SendRefused("no_account", _("no customer with id {id}").format(id=customer_id))
    try:
        # a lead (or admin) sends on any account without a reason: the activity says for whom
        check_change(access, "letter" if access.lead else "")
    except AccountRefused as exc:
        audit_refusal(conn, clock, actor, action="send", target=access.ref, error=exc)
        raise SendRefused("refused", str(exc)) from None
    return {"for": access.owner or ""} if access.needs_reason else {}


def _check_rules(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    customer_id: int,
    channel: str,
    kind: str,
    recipient: str | None,
) -> None:
    """The writing rules (queue/writing_rules.py, issue 10 item 4)."""
    verdict = check_write(
        conn, clock.now(), settings, customer_id, channel=channel, kind=kind, recipient=recipient
    )
    if not verdict.ok:
        raise SendRefused(verdict.code, verdict.reason)


def _deliver(
    built: Built,
    settings: Settings,
    *,
    out_dir: Path | None,
    transport: Transport | None,
    at: datetime,
) -> Path | None:
    """Deliver or write; the file written (None through a relay). SendRefused else."""
    stem = file_stem(built.ref, built.kind, at)
    if built.channel == "letter":
        if out_dir is None:
            raise SendRefused(
                "no_folder", _("a letter on paper needs a folder to be written to (--out)")
            )
        # printed: the name and postal address (a window envelope's), then the subject
        page = "\n\n".join(("\n".join(built.postal), built.subject, built.text))
        path = _write(out_dir, stem, ".txt", page.encode("utf-8"))
        for item in built.attachments:
            _write(out_dir, stem, Path(item.filename).suffix or ".pdf", item.data)
        return path
    assert built.message is not None
    if out_dir is not None:
        return _write(out_dir, stem, ".eml", built.message.as_bytes())
    if transport is None:
        if settings.smtp is None:
            raise SendRefused(
                "no_smtp",
                _("no [smtp] relay in the configuration: set one, or write .eml files (--out)"),
            )
        with SmtpTransport(settings.smtp) as relay:
            _send(relay, built)
    else:
        _send(transport, built)
    return None


def _send(transport: Transport, built: Built) -> None:
    assert built.message is not None
    try:
        transport.send(built.message, built.sender, [built.recipient])
    except SendFailed as exc:
        raise SendRefused("smtp_failed", str(exc)) from None


def _write(folder: Path, stem: str, suffix: str, data: bytes) -> Path:
    try:
        return write_new(folder, stem, suffix, data)
    except OSError as exc:
        where = exc.filename or folder
        raise SendRefused(
            "write_failed",
            _("cannot write {path}: {error}").format(path=where, error=exc.strerror or exc),
        ) from None


def send_letter(
    conn: sqlite3.Connection,
    clock: Clock,
    actor: Collector | None,
    settings: Settings,
    ref: str,
    kind: str,
    *,
    channel: str = "email",
    out_dir: Path | None = None,
    note: str = "",
    to: str | None = None,
    attach_statement: bool | None = None,
    transport: Transport | None = None,
    locale: str | None = None,
    level: int | None = None,
    invoices: Sequence[int] = (),
    dry_run: bool = False,
) -> SendResult:
    """Send the letter ``kind`` to the account ``ref`` as ``actor`` (None: the system).

    ``out_dir``: write the .eml there instead of using the relay (recorded as sent);
    ``dry_run``: write it there and record nothing. ``level`` and ``invoices``: the
    dunning level and the invoice ids the letter dunned (the letter run), kept in the
    archive. Never raises for a refusal: ``SendResult(sent=False, code, reason)``."""
    if dry_run and out_dir is None:
        out_dir = Path.cwd()
    try:
        _check_input(kind, channel)
        to = check_recipient(to) if to is not None else None
        customer_id, ext = _customer(conn, ref)
        behalf = _check_rights(conn, clock, actor, customer_id)
        _check_rules(conn, clock, settings, customer_id, channel, kind, to)
        built = render_message(
            conn, clock, settings, ext, kind, channel=channel, note=note, to=to,
            attach_statement=attach_statement, locale=locale,
        )  # fmt: skip
        now = clock.now()
        path = _deliver(built, settings, out_dir=out_dir, transport=transport, at=now)
    except SendRefused as exc:
        return SendResult(False, exc.code, exc.reason)
    if dry_run:
        return SendResult(
            False,
            "dry_run",
            _("written to {path} (dry run: nothing recorded)").format(path=path),
            path,
            built.message_id,
            recipient=built.recipient,
            subject=built.subject,
        )
    try:
        activity_id, letter_id = _record(
            conn, clock, actor, built, path, clean_note(note), behalf, level, invoices
        )
    except sqlite3.Error as exc:
        return SendResult(
            False,
            "not_recorded",
            _("delivered, but not recorded in the database: {error}").format(error=exc),
            path,
            built.message_id,
            recipient=built.recipient,
            subject=built.subject,
        )
    return SendResult(
        True, "sent", "", path, built.message_id, activity_id, letter_id,
        built.recipient, built.subject,
    )  # fmt: skip


def _record(
    conn: sqlite3.Connection,
    clock: Clock,
    actor: Collector | None,
    built: Built,
    path: Path | None,
    note: str,
    behalf: dict[str, object],
    level: int | None,
    invoices: Sequence[int],
) -> tuple[int, int]:
    """The activity and the archive row, in one write transaction."""
    now_iso = to_iso(clock.now())
    who = actor.id if actor is not None else None
    outcome = OUTCOME_OF[built.channel]
    details: dict[str, object] = {"kind": built.kind, "subject": built.subject}
    if built.recipient:
        details["to"] = built.recipient
    if level is not None:
        details["level"] = level
    details.update(behalf)
    with write_tx(conn):
        # the archive row's id, known before the activity that names it (the write lock is
        # held: no other writer can take it)
        letter_id = int(
            conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM letters_sent").fetchone()[0]
        )
        details["letter_id"] = letter_id
        cur = conn.execute(
            """INSERT INTO activities (customer_id, collector_id, at, outcome, attempt,
                   contact, rpc, worked, note, details) VALUES (?,?,?,?,0,0,0,0,?,?)""",
            (built.customer_id, who, now_iso, outcome, note, json.dumps(details)),
        )
        activity_id = int(cur.lastrowid or 0)
        conn.execute(
            """INSERT INTO letters_sent (id, customer_id, activity_id, collector_id, at, kind,
                   channel, language, locale, recipient, subject, body_text, body_html,
                   message_id, note, path, level, invoices)
               VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
            (
                letter_id, built.customer_id, activity_id, who, now_iso, built.kind, built.channel,
                built.language, built.locale, built.recipient, built.subject, built.text,
                built.html, built.message_id, note, str(path) if path else "", level,
                json.dumps([int(i) for i in invoices]),
            ),
        )  # fmt: skip
        if behalf and actor is not None:
            audit.record(
                conn,
                clock,
                action="send",
                collector_id=actor.id,
                target=built.ref,
                detail={"kind": built.kind, "activity_id": activity_id, **behalf},
            )
    return activity_id, letter_id
