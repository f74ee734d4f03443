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
from email.errors import HeaderParseError
from email.headerregistry import Address

from dunning.i18n import N_, _
from dunning.letters.context import NEEDS, NoSuchAccount, NothingToWrite, build_context
from dunning.letters.kinds import KINDS
from dunning.letters.render import TemplateProblem, known_locale, render
from dunning.queue.compose_level import kind_for_account
from dunning.queue.config import Settings
from dunning.queue.desk import Desk
from dunning.textsafe import clean, is_safe

NOTE_MAX = 500  # characters of the collector's added line
ADDRESS_MAX = 254  # RFC 5321's longest forward path, less its brackets
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
    locale, ctx = build_context(conn, ref, as_of=now_utc.date(), settings=settings.letters)
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
    now_utc: datetime,
    settings: Settings,
    ref: str,
    kind: str,
    locale: str,
    note: str = "",
) -> Preview:
    """``kind`` rendered for the account ``ref`` in ``locale``, with the collector's added
    line; a kind the account cannot have or a broken template is said in ``problem``."""
    if kind not in KINDS:
        return Preview(kind, locale, "", "", "", _("unknown kind {kind!r}").format(kind=kind[:40]))
    if not known_locale(locale):
        return Preview(
            kind, locale, "", "", "", _("unknown locale {locale!r}").format(locale=locale[:40])
        )
    try:
        _default, ctx = build_context(
            conn, ref, as_of=now_utc.date(), settings=settings.letters, kind=kind
        )
        ctx["note"] = check_note(note)
        out = render(kind, locale, ctx, override=settings.letters.templates)
    except NothingToWrite as exc:
        return Preview(kind, locale, "", "", "", _(MISSING.get(str(exc), str(exc))))
    except (TemplateProblem, ValueError) as exc:
        return Preview(kind, locale, "", "", "", str(exc))
    return Preview(kind, locale, out.subject, out.text, out.html)


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
    """An e-mail address (``name@example.com``), or ValueError saying what is wrong with it
    (a header injection, ``a@b.c\\r\\nBcc: x``, is refused, never cleaned into a value)."""
    addr = text.strip()
    if not addr:
        raise ValueError(_("an e-mail address is needed"))
    if len(addr) > ADDRESS_MAX or not is_safe(addr) or any(c.isspace() for c in addr):
        raise ValueError(_("not an e-mail address: {value}").format(value=_shown(addr)))
    try:
        parsed = Address(addr_spec=addr)
    except (ValueError, IndexError, HeaderParseError):
        raise ValueError(_("not an e-mail address: {value}").format(value=_shown(addr))) from None
    domain = parsed.domain
    if not parsed.username or "." not in domain or domain.startswith(".") or domain.endswith("."):
        raise ValueError(_("not an e-mail address: {value}").format(value=_shown(addr)))
    return parsed.addr_spec


def _shown(value: str) -> str:
    return repr(clean(value)[0][:60])


class ComposeDesk(Desk):
    """The compose view's connection: every call serialized (thread workers use it)."""

    def start(self, customer_id: int) -> ComposeStart:
        now = self.clock.now()
        return self._run(lambda conn: compose_start(conn, now, self.settings, customer_id))

    def preview(self, ref: str, kind: str, locale: str, note: str = "") -> Preview:
        now = self.clock.now()
        return self._run(
            lambda conn: compose_preview(conn, now, self.settings, ref, kind, locale, note)
        )
