"""The compose view's reads (issue 10, item 6): what `m` opens on an account (the kind its
dunning level calls for, the kinds it can have, the recipient, the locale) and the preview
of a letter, rendered from the database in the customer's language.

The screen (dunning/tui/screens/compose.py) calls these through :class:`ComposeDesk`, a
connection of its own used from thread workers; nothing here writes the database.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dunning.clock import Clock, to_iso
from dunning.db.connection import write_tx
from dunning.i18n import N_, _
from dunning.letters.context import NEEDS, NoSuchAccount, build_context
from dunning.letters.kinds import KINDS
from dunning.queue import sending
from dunning.queue.config import Settings
from dunning.queue.desk import Desk
from dunning.queue.levels import due_in_range, kind_for_account, record_levels
from dunning.queue.sending import SendRefused, SendResult, render_message, send_letter
from dunning.queue.writing_rules import check_write
from dunning.textsafe import clean, is_safe

NOTE_MAX = 500  # characters of the collector's added line
# the locales a collector may pick beside the customer's own (the built-in languages, in
# the countries the product serves)
LOCALES = ("en_US", "en_CA", "fr_CA", "fr_FR", "es_MX", "es_ES")
# why a kind cannot be written for an account (NothingToWrite's code -> message)
MISSING = {
    "promise": N_("this account has no promise to pay to confirm"),
    "plan": N_("this account has no payment plan"),
    "dispute": N_("this account has no dispute to acknowledge"),
    "overdue": N_("nothing undisputed is overdue: no reminder to send"),
}


@dataclass(frozen=True)
class ComposeStart:
    """What the compose view opens with."""

    customer_id: int
    ref: str
    name: str
    email: str  # the primary contact's address ("" when none)
    locale: str  # the customer's: their contact's language and their country
    kind: str  # the one chosen for the account's dunning level (else the statement)
    level_kind: str | None  # what the level calls for (None: no reminder is due)
    kinds: tuple[str, ...]  # the kinds this account can have, in KINDS' order
    locales: tuple[str, ...]  # the customer's first, then LOCALES


@dataclass(frozen=True)
class Preview:
    kind: str
    locale: str
    subject: str
    text: str
    html: str
    problem: str = ""  # why nothing can be rendered ("" when it was)


def compose_start(
    conn: sqlite3.Connection, now_utc: datetime, settings: Settings, customer_id: int
) -> ComposeStart:
    row = conn.execute("SELECT external_ref FROM customers WHERE id = ?", (customer_id,)).fetchone()
    if row is None:
        raise NoSuchAccount(str(customer_id))
    ref = str(row[0])
    as_of = now_utc.astimezone(settings.team_zone).date()  # as the sender renders
    locale, ctx = build_context(conn, ref, as_of=as_of, settings=settings.letters)
    kinds = tuple(k for k in KINDS if _missing(k, ctx) is None)
    level = kind_for_account(conn, now_utc, settings, customer_id)
    kind = level if level in kinds else "statement"
    contact = ctx["contact"] or {}
    return ComposeStart(
        customer_id=customer_id,
        ref=ref,
        name=ctx["customer"]["name"],
        email=contact.get("email", ""),
        locale=locale,
        kind=kind,
        level_kind=level,
        kinds=kinds,
        locales=(locale, *(x for x in LOCALES if x != locale)),
    )


def _missing(kind: str, ctx: dict[str, object]) -> str | None:
    """What ``kind`` needs that the account lacks (a NothingToWrite code), or None."""
    needed = NEEDS.get(kind)
    if needed is not None and ctx.get(needed) is None:
        return needed
    if kind.startswith("reminder_") and not ctx.get("overdue"):
        return "overdue"
    return None


def compose_preview(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    ref: str,
    kind: str,
    locale: str,
    note: str = "",
) -> Preview:
    """``kind`` rendered for the account ``ref`` in ``locale``, with the collector's added
    line, as the sender renders it (queue/sending.render_message); a kind the account
    cannot have or a broken template is said in ``problem``."""
    try:
        built = render_message(
            conn, clock, settings, ref, kind, channel="letter", note=check_note(note),
            attach_statement=False, locale=locale,
        )  # fmt: skip
    except SendRefused as exc:
        reason = _(MISSING[exc.reason]) if exc.reason in MISSING else exc.reason
        return Preview(kind, locale, "", "", "", reason)
    except ValueError as exc:
        return Preview(kind, locale, "", "", "", str(exc))
    return Preview(kind, built.locale, built.subject, built.text, built.html)


def compose_refusal(
    conn: sqlite3.Connection,
    now_utc: datetime,
    settings: Settings,
    customer_id: int,
    kind: str,
    recipient: str,
) -> str:
    """Why the writing rules refuse this e-mail now (queue/writing_rules.py), "" if not.
    ``recipient``: the address in the field, when it is one."""
    verdict = check_write(
        conn, now_utc, settings, customer_id, channel="email", kind=kind,
        recipient=recipient or None,
    )  # fmt: skip
    return "" if verdict.ok else verdict.reason


def level_due(
    conn: sqlite3.Connection, now_utc: datetime, settings: Settings, ref: str, kind: str
) -> tuple[int | None, int | None, tuple[int, ...]]:
    """``(customer id, level, invoice ids)`` when ``kind`` is the letter a dunning level
    of the account ``ref`` is due for now, else ``(customer id or None, None, ())``."""
    row = conn.execute("SELECT id FROM customers WHERE external_ref = ?", (ref,)).fetchone()
    if row is None:
        return None, None, ()
    cid = int(row[0])
    letters, _paused = due_in_range(conn, now_utc, settings, cid, cid)
    for due in letters:
        if due.level.kind == kind:
            return cid, due.level.number, due.invoice_ids
    return cid, None, ()


def check_note(text: str) -> str:
    """The collector's added line: one line, no control characters, NOTE_MAX at most."""
    line = " ".join(clean(text)[0].split())
    if len(line) > NOTE_MAX:
        raise ValueError(
            _("the added line is {n} characters long; {max} at most").format(
                n=len(line), max=NOTE_MAX
            )
        )
    return line


def check_recipient(text: str) -> str:
    """One plain e-mail address, or ValueError saying what is wrong with it (a header
    injection, ``a@b.c\\r\\nBcc: x``, is refused, never cleaned into a value)."""
    if not text.strip():
        raise ValueError(_("an e-mail address is needed"))
    if not is_safe(text):  # an ESC or a line break pasted in: refused, never cleaned
        shown = " ".join(clean(text)[0].split())[:80]
        raise ValueError(_("not an e-mail address: {value!r}").format(value=shown))
    try:
        return sending.check_recipient(text)
    except SendRefused as exc:
        raise ValueError(exc.reason) from None


def outbox(settings: Settings) -> Path:
    """Where Ctrl+E writes .eml files: ``[letters] outbox``, else ~/dunning-outbox."""
    folder = settings.letters.outbox or "~/dunning-outbox"
    return Path(folder).expanduser()


class ComposeDesk(Desk):
    """The compose view's connection: every call serialized (thread workers use it)."""

    def start(self, customer_id: int) -> ComposeStart:
        now = self.clock.now()
        return self._run(lambda conn: compose_start(conn, now, self.settings, customer_id))

    def preview(self, ref: str, kind: str, locale: str, note: str = "") -> Preview:
        return self._run(
            lambda conn: compose_preview(conn, self.clock, self.settings, ref, kind, locale, note)
        )

    def refusal(self, customer_id: int, kind: str, recipient: str = "") -> str:
        now = self.clock.now()
        return self._run(
            lambda conn: compose_refusal(conn, now, self.settings, customer_id, kind, recipient)
        )

    def deliver(
        self, ref: str, kind: str, locale: str, *, to: str, note: str, eml: bool
    ) -> SendResult:
        """Send the letter (the [smtp] relay) or, ``eml``, write it into the outbox; both
        are recorded (the activity, the archive: queue/sending.py). The letter the
        account's level is due for, sent by hand, is that level's letter: its invoices
        reach the level (queue/levels.py), and tonight's run does not send it again."""
        folder = outbox(self.settings) if eml else None

        def go(conn: sqlite3.Connection) -> SendResult:
            cid, level, invoices = level_due(conn, self.clock.now(), self.settings, ref, kind)
            done = send_letter(
                conn, self.clock, self.collector, self.settings, ref, kind, channel="email",
                out_dir=folder, note=note, to=to, locale=locale, level=level, invoices=invoices,
            )  # fmt: skip
            if done.sent and level is not None and cid is not None:
                with write_tx(conn):
                    at = to_iso(self.clock.now())
                    record_levels(conn, at, cid, level, "email", invoices, done.letter_id)
            return done

        return self._run(go)
