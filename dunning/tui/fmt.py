"""Labels and formats for the screen: money and dates in the collector's locale (babel),
numbers as the collector dials them, instants in local time; :func:`safe`, what every
widget that shows data draws (dunning/tui/widgets/shown.py)."""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime
from functools import lru_cache

from babel.dates import format_date, format_datetime, format_time
from rich.text import Text

from dunning.clock import from_iso
from dunning.i18n import N_, _
from dunning.money import format_money
from dunning.phones import dial_format, zone
from dunning.textsafe import UNSAFE_LINES, visible


def safe(content: object) -> object:
    """What a widget shows, made harmless: a string becomes literal Text (never read as
    markup: a name like ``[@click=app.quit]x[/]`` shows as typed), and in text (a string or
    Rich Text, its styles kept) every control, bidi and invisible format character from the
    data is made visible by dunning/textsafe.py (ESC as ``␛``, ``\x9b``, ``<U+202E>``);
    newlines and tabs stay. Any other renderable (a Group, a Table built from labels) is
    returned as it is."""
    if isinstance(content, str):
        return Text(visible(content, lines=True))
    if not isinstance(content, Text):
        return content
    plain = content.plain
    if UNSAFE_LINES.search(plain) is None:  # the usual case: the same object, no copy
        return content
    out = Text(
        style=content.style,
        justify=content.justify,
        overflow=content.overflow,
        no_wrap=content.no_wrap,
        end=content.end,
    )
    pos = 0
    for m in UNSAFE_LINES.finditer(plain):
        if m.start() > pos:
            out.append_text(content[pos : m.start()])
        piece = content[m.start() : m.end()]
        shown = visible(m.group(), lines=True)
        repl = Text(shown, style=piece.style)
        for span in piece.spans:  # the character's styles, on what stands for it
            repl.stylize(span.style, 0, len(shown))
        out.append_text(repl)
        pos = m.end()
    if pos < len(plain):
        out.append_text(content[pos:])
    return out


OUTCOME_LABELS: dict[str, str] = {
    "promise_to_pay": N_("Promise to pay"),
    "payment_plan": N_("Payment plan"),
    "paid": N_("Says paid"),
    "dispute": N_("Dispute"),
    "callback": N_("Callback"),
    "refused": N_("Refused"),
    "left_message": N_("Left message"),
    "no_answer": N_("No answer"),
    "busy": N_("Busy"),
    "wrong_number": N_("Wrong number"),
    "escalated": N_("Escalated"),
    "note": N_("Note"),
    "skip": N_("Skipped"),
    "system": N_("System"),
    "assign": N_("Assigned"),
    "payment": N_("Payment received"),
    "email_sent": N_("E-mail sent"),
    "letter_sent": N_("Letter sent"),
}
NEXT_ACTION_LABELS: dict[str, str] = {
    "call": N_("call"),
    "callback": N_("callback"),
    "promise_check": N_("check promise"),
    "instalment_check": N_("check instalment"),
    "verify_payment": N_("verify payment"),
    "lead_review": N_("lead review"),
    "legal": N_("legal"),
    "agency": N_("agency"),
    "await_due": N_("call when due"),
}
REASON_LABELS: dict[str, str] = {
    "pricing": N_("pricing"),
    "not_received": N_("not received"),
    "damaged": N_("damaged"),
    "quality": N_("quality"),
    "billing_error": N_("billing error"),
    "duplicate": N_("duplicate"),
    "other": N_("other"),
}
DEPARTMENT_LABELS: dict[str, str] = {
    "sales": N_("sales"),
    "customer_service": N_("customer service"),
    "billing": N_("billing"),
    "legal": N_("legal"),
}
ESCALATION_LABELS: dict[str, str] = {
    "legal": N_("legal"),
    "agency": N_("collection agency"),
    "credit_hold": N_("credit hold"),
    "lead_review": N_("lead review"),
    "settlement": N_("settlement (amount, pay by)"),
    "writeoff": N_("write-off"),
    "hold_release": N_("release the credit hold"),
}
CUSTOMER_STATUS_LABELS: dict[str, str] = {
    "active": N_("active"),
    "credit_hold": N_("CREDIT HOLD"),
    "legal": N_("LEGAL"),
    "agency": N_("AGENCY"),
    "cease": N_("CEASE CONTACT"),
    "write_off": N_("WRITTEN OFF"),
    "closed": N_("CLOSED"),
}
PHONE_TYPE_LABELS: dict[str, str] = {
    "mobile": N_("mobile"),
    "fixed_line": N_("landline"),
    "toll_free": N_("toll-free"),
    "voip": N_("VoIP"),
    "unknown": N_("phone"),
}
PROMISE_STATUS_LABELS: dict[str, str] = {
    "pending": N_("pending"),
    "kept": N_("kept"),
    "partial": N_("partly kept"),
    "broken": N_("broken"),
    "cancelled": N_("cancelled"),
}
DISPUTE_STATUS_LABELS: dict[str, str] = {
    "open": N_("open"),
    "resolved_valid": N_("resolved: credit due"),
    "resolved_invalid": N_("resolved: not valid"),
    "voided": N_("voided"),
}
BUCKET_LABELS: dict[str, str] = {
    "current": N_("current"),
    "1-30": "1-30",
    "31-60": "31-60",
    "61-90": "61-90",
    "91-120": "91-120",
    "120+": "120+",
}


def label(table: dict[str, str], code: str) -> str:
    """The translated label of a stable code; the code itself when unknown."""
    return _(table[code]) if code in table else code


STATE_LABELS: dict[str, str] = {
    "ready": N_("ready"),
    "waiting": N_("waiting"),
    "hold": N_("on hold"),
    "disputed": N_("disputed"),
    "no_phone": N_("no usable number"),
    "review": N_("lead review"),
    "closed": N_("closed"),
}


# Babel takes 0.1-0.3 ms a figure or date, and one account shows dozens (its history twice:
# inline and wide), between an outcome key and the next account drawn; the same figures and
# dates come back account after account, so each is formatted once per process.
@lru_cache(maxsize=8192)
def money(minor: int, currency: str, locale: str) -> str:
    return format_money(minor, currency, locale)


@lru_cache(maxsize=4096)
def day(iso_date: str, locale: str) -> str:
    return format_date(date.fromisoformat(iso_date[:10]), "medium", locale=locale)


def local_dt(iso: str, locale: str) -> str:
    """A stored UTC instant in the machine's local time, short."""
    if not iso:
        return ""
    # the local zone is part of the key: the process's TZ may change (the collector's clock)
    return _local_dt(iso, locale, os.environ.get("TZ"), time.tzname)


@lru_cache(maxsize=8192)
def _local_dt(iso: str, locale: str, _tz: str | None, _names: tuple[str, str]) -> str:
    return format_datetime(from_iso(iso).astimezone(), "short", locale=locale)


def local_time(at: datetime, locale: str) -> str:
    """An instant as the machine's local time of day, short: '10:42'."""
    return format_time(at.astimezone(), "short", locale=locale)


def weekday_time(iso: str, locale: str) -> str:
    """A stored UTC instant in the machine's local time as weekday and time: 'Thu 07:00',
    'jeu. 07:00', 'jue 07:00'."""
    if not iso:
        return ""
    dt = from_iso(iso).astimezone()
    return f"{format_date(dt, 'EEE', locale=locale)} {format_time(dt, 'short', locale=locale)}"


def dial(e164: str, region: str) -> str:
    return dial_format(e164, region)


def local_times(zones: tuple[str, ...], now: datetime, locale: str) -> str:
    """'10:05 Toronto' or '7:05–10:05 (2 zones)' across several zones."""
    if not zones:
        return _("time zone unknown")
    # wall-clock times: aware datetimes of one instant compare equal whatever their zone
    times = sorted(
        {now.astimezone(zone(z)).replace(second=0, microsecond=0, tzinfo=None) for z in zones}
    )
    first = format_time(times[0], "short", locale=locale)
    if len(times) == 1:
        return f"{first} {city(zones[0], locale)}"
    last = format_time(times[-1], "short", locale=locale)
    return _("{first}–{last} ({n} zones)").format(first=first, last=last, n=len(times))


def reason_label(code: str, params: dict[str, object], currency_locale: str) -> str:
    if code == "days_past_due":
        return _("{days} days past due").format(days=params.get("days"))
    if code == "balance":
        minor = int(params.get("minor", 0))  # type: ignore[call-overload]
        return _("owes {amount}").format(
            amount=money(minor, str(params.get("currency", "USD")), currency_locale)
        )
    if code == "broken_promise":
        return _("broken promise")
    if code == "callback_due":
        return _("callback due")
    if code == "promise_check":
        return _("promise to check")
    if code == "since_contact":
        days = params.get("days")
        return (
            _("never reached") if days is None else _("{days} days since contact").format(days=days)
        )
    if code == "risk":
        return _("risk {score}").format(score=params.get("score"))
    return code


def now_utc() -> datetime:
    return datetime.now(UTC)


def city(name: str, locale: str) -> str:
    """'America/Los_Angeles' -> 'Los Angeles' ('Los Ángeles' in Spanish)."""
    from babel.dates import get_timezone_location

    try:
        return get_timezone_location(zone(name), locale=locale, return_city=True)
    except Exception:  # noqa: BLE001 - an unknown zone still has a readable name
        return name.rsplit("/", 1)[-1].replace("_", " ")


def clock_time(dt: datetime, locale: str, *, weekday: bool = False) -> str:
    """'17:00', or 'Thu 10:00' with the weekday: 24-hour, short."""
    from babel.dates import format_skeleton

    return format_skeleton("EEEHm" if weekday else "Hm", dt, locale=locale)
