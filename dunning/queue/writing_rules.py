"""The rules that apply to writing too (issue 10 item 4; DOMAIN.md "Contact rules",
"Written collections"): may this account be sent this kind of letter on this channel now?

:func:`check_write` answers with a :class:`WriteCheck` (``ok``, a ``code``, a reason in the
collector's language, and when refused for the hour, the next instant it may be sent).
It refuses, in this order:

- ``status_cease``, ``status_legal``, ``status_agency``: the account's status (no message
  after a cease request; legal and agencies speak for us); ``status_write_off`` and
  ``status_closed`` for a reminder;
- ``no_address``: an e-mail with no recipient and no contact address;
  ``unknown_recipient``: an e-mail to an address that is no contact's;
  ``no_email``: the contact (the recipient's, or the primary) opted out of e-mail
  (Regulation F 1006.6(e); ``dunning contacts opt-out``);
  ``no_postal_address``: a letter on paper to an account whose ledger has no postal
  address (a street line and a city: m039, the customers import);
- ``nothing_overdue``: a reminder (reminder_1..4) when nothing undisputed is past due
  (disputed invoices are never dunned);
- for the portfolios the contact rules bind (``Settings.contact_rules_portfolios``,
  consumer by default), e-mails only (a paper letter is not bound by the hour):
  ``outside_window`` / ``holiday`` (Reg F treats an e-mail's time like a call's, the
  same windows and holidays as calls: ``contact_rules.rule_for``), ``ontario_cap`` (an
  e-mail counts as a contact in Ontario's 3-in-7).

No Textual, no writes: the sender (queue/sending.py), the compose view and the letter run
(queue/levels.py) call it before they write anything.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from dunning.address import has_postal_address
from dunning.i18n import N_, _
from dunning.letters.kinds import KINDS
from dunning.queue.calendar import account_reach
from dunning.queue.config import Settings
from dunning.queue.contact_rules import ONTARIO_CAP, ontario_contacts, ontario_opens, rule_for
from dunning.queue.windows import allowed_at, closed_reason, opens_at, rule_text

CHANNELS = ("email", "letter")
REMINDERS = ("reminder_1", "reminder_2", "reminder_3", "reminder_4")

# status -> why nothing is written (every kind, every channel)
NO_WRITE_STATUSES: dict[str, str] = {
    "cease": N_("cease contact: no message after the customer's cease request"),
    "legal": N_("with legal: letters go through the lawyers"),
    "agency": N_("placed with an agency: the agency writes to the customer"),
}
# status -> why no reminder is written (a statement may still be)
NO_REMINDER_STATUSES: dict[str, str] = {
    "write_off": N_("written off: no more reminders"),
    "closed": N_("closed: no more reminders"),
}
# code -> a short label (counts of the letter run, the compose view)
CODES: dict[str, str] = {
    "ok": N_("may be sent"),
    "status_cease": N_("cease request"),
    "status_legal": N_("with legal"),
    "status_agency": N_("with an agency"),
    "status_write_off": N_("written off"),
    "status_closed": N_("closed"),
    "no_address": N_("no e-mail address"),
    "unknown_recipient": N_("address of no contact"),
    "no_email": N_("opted out of e-mail"),
    "no_postal_address": N_("no postal address"),
    "nothing_overdue": N_("nothing undisputed overdue"),
    "outside_window": N_("outside the consumer's hours"),
    "holiday": N_("holiday"),
    "ontario_cap": N_("Ontario: 3 contacts in 7 days"),
}


@dataclass(frozen=True)
class WriteCheck:
    ok: bool
    code: str  # "ok" or one of CODES
    reason: str  # translated, one line; "" when ok
    opens_at: datetime | None = None  # refused for the hour: the next instant it may (UTC)


OK = WriteCheck(True, "ok", "")


def _no(code: str, reason: str, when: datetime | None = None) -> WriteCheck:
    return WriteCheck(False, code, reason, when)


def default_recipient(conn: sqlite3.Connection, customer_id: int) -> str | None:
    """The address a letter goes to when none is given: the contact a letter is written to
    (the primary, else the first: letters/context.py), if it has one."""
    row = conn.execute(
        "SELECT email FROM contacts WHERE customer_id = ? ORDER BY is_primary DESC, id LIMIT 1",
        (customer_id,),
    ).fetchone()
    email = (row[0] or "").strip() if row else ""
    return email or None


def overdue_exists(conn: sqlite3.Connection, customer_id: int, today_iso: str) -> bool:
    """Is some undisputed invoice open and past due (due before ``today_iso``)?"""
    return (
        conn.execute(
            "SELECT 1 FROM invoices WHERE customer_id = ? AND due_date < ? AND status = 'open' "
            "AND open_minor > 0 AND disputed = 0 LIMIT 1",
            (customer_id, today_iso),
        ).fetchone()
        is not None
    )


def _address_check(
    conn: sqlite3.Connection, customer_id: int, recipient: str | None
) -> WriteCheck | None:
    address = (recipient or "").strip() or default_recipient(conn, customer_id)
    if not address:
        return _no("no_address", _("no e-mail address for this account"))
    rows = conn.execute(
        "SELECT email_opt_out_at FROM contacts WHERE customer_id = ? "
        "AND lower(trim(email)) = lower(?)",
        (customer_id, address),
    ).fetchall()
    if not rows:
        return _no(
            "unknown_recipient",
            _("{address} is no contact's address on this account").format(address=address),
        )
    if any(r[0] for r in rows):
        return _no(
            "no_email",
            _("{address} opted out of e-mail (Regulation F 1006.6(e))").format(address=address),
        )
    return None


def check_write(
    conn: sqlite3.Connection,
    now_utc: datetime,
    settings: Settings,
    customer_id: int,
    *,
    channel: str,
    kind: str,
    recipient: str | None = None,
) -> WriteCheck:
    """May ``kind`` be written to the account on ``channel`` ("email" or "letter") now?
    ``recipient``: the address an e-mail goes to (default: the primary contact's)."""
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}, not {channel!r}")
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    c = conn.execute(
        "SELECT portfolio, country, subdivision, status, address_line1, city FROM customers "
        "WHERE id = ?",
        (customer_id,),
    ).fetchone()
    if c is None:
        raise LookupError(f"no customer {customer_id}")
    portfolio, country, subdivision, status = c[0], c[1], c[2], c[3]
    reminder = kind in REMINDERS
    why = NO_WRITE_STATUSES.get(status) or (NO_REMINDER_STATUSES.get(status) if reminder else None)
    if why:
        return _no(f"status_{status}", _(why))
    if channel == "email":
        refused = _address_check(conn, customer_id, recipient)
        if refused is not None:
            return refused
    if channel == "letter" and not has_postal_address(c[4], c[5]):
        return _no(
            "no_postal_address",
            _("no postal address for this account: import it with the customers file"),
        )
    if reminder and not overdue_exists(conn, customer_id, now_utc.date().isoformat()):
        return _no("nothing_overdue", _("nothing undisputed is overdue: no reminder is sent"))
    if channel != "email" or portfolio not in settings.contact_rules_portfolios:
        return OK
    where = account_reach(conn, customer_id, country or "", subdivision)
    rule = rule_for(where.jurisdictions)
    if not allowed_at(now_utc, where.zones, rule):
        opens = opens_at(now_utc, where.zones, rule)
        holiday = closed_reason(now_utc, where.zones, rule)
        if holiday:
            return _no("holiday", holiday, opens)
        return _no("outside_window", rule_text(rule.window.rule), opens)
    ontario = ("CA", "ON") in where.jurisdictions
    if ontario and ontario_contacts(conn, customer_id, now_utc) >= ONTARIO_CAP:
        return _no(
            "ontario_cap",
            _("Ontario: 3 contacts in 7 days"),
            ontario_opens(conn, customer_id, now_utc, where.zones, rule),
        )
    return OK
