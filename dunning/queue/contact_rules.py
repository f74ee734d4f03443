"""Calling windows and contact caps (DOMAIN.md "Contact rules").

Applied to the portfolios named in ``Settings.contact_rules_portfolios`` (consumer by
default). For other portfolios nothing is blocked; the local time is shown and calls
outside business hours are flagged.

Where the consumer may be (zones, and whose rules apply) comes from ``dunning.places``;
when several jurisdictions are plausible (no province, numbers from two provinces), an
hour is allowed only when every one of their rules allows it. Days on which a
jurisdiction forbids contact (holidays) come from ``closed_days``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from dunning.clock import to_iso
from dunning.i18n import N_, _, current_language
from dunning.phones import zone
from dunning.places import Jurisdiction, subdivision_code
from dunning.queue.config import Settings
from dunning.queue.holidays import holiday_ban as holiday_ban  # re-exported
from dunning.queue.holidays import holiday_ban_rule, may_ban
from dunning.queue.windows import (
    Closed,
    Rule,
    Window,
    allowed_at,
    closed_reason,
    opens_at,
    rule_text,
)

# the rule texts are shown through rule_text(), in the collector's language
_US = Window(((8, 21),) * 7, N_("FDCPA/Reg F: 08:00-21:00 local"))
_ON = Window(((7, 21),) * 6 + ((13, 17),), N_("Ontario Reg. 74: 07:00-21:00, Sunday 13:00-17:00"))
_QC = Window(((8, 20),) * 6 + (None,), N_("Quebec R-2.2 s.34: 08:00-20:00, Monday-Saturday"))
_DEFAULT = Window(((8, 21),) * 7, N_("08:00-21:00 local"))

_COUNTRY = {"US": _US}
# What Ontario counts as a contact in its 3-in-7 (Reg. 74 s. 22): a conversation, a
# voicemail left, an e-mail sent (issue 10). SQL over ``activities``.
ONTARIO_CONTACT = "(contact = 1 OR outcome IN ('left_message', 'email_sent'))"
ONTARIO_CAP = 3
_SUBDIVISION = {("CA", "ON"): _ON, ("CA", "QC"): _QC}


def legal_window(country: str, subdivision: str | None) -> Window:
    """The jurisdiction's window; with no subdivision, the strictest of the country's."""
    own = _SUBDIVISION.get((country, subdivision)) if subdivision else None
    if own is not None:
        return own
    base = _COUNTRY.get(country, _DEFAULT)
    if subdivision is None:
        for (c, _s), w in _SUBDIVISION.items():
            if c == country:
                base = base & w
    return base


def closed_days(country: str, subdivision: str | None) -> Closed | None:
    """The days this jurisdiction forbids contact on, as a function of the local date that
    names the reason (a holiday); None when there are none. With no subdivision: every
    subdivision's days (``dunning.queue.holidays.HOLIDAY_BANS``: Ontario, Quebec)."""
    if not may_ban(country, subdivision):
        return None

    def closed(d: date) -> str | None:
        found = holiday_ban_rule(country, subdivision, d, language=current_language())
        return f"{found[0]} ({_(found[1])})" if found else None

    return closed


def _any_closed(fns: tuple[Closed, ...]) -> Closed:
    def closed(d: date) -> str | None:
        for fn in fns:
            why = fn(d)
            if why:
                return why
        return None

    return closed


@lru_cache(maxsize=1024)
def rule_for(jurisdictions: tuple[Jurisdiction, ...]) -> Rule:
    """The strictest rule of every plausible jurisdiction (one object per set: cacheable)."""
    window: Window | None = None
    shut: list[Closed] = []
    for country, subdivision in jurisdictions or (("", None),):
        w = legal_window(country, subdivision)
        window = w if window is None else window & w
        fn = closed_days(country, subdivision)
        if fn is not None:
            shut.append(fn)
    assert window is not None
    closed = None if not shut else shut[0] if len(shut) == 1 else _any_closed(tuple(shut))
    return Rule(window, closed)


def jurisdictions_of(country: str, subdivision: str | None) -> tuple[Jurisdiction, ...]:
    """The address's jurisdiction ('QC' and 'CA-QC' alike)."""
    return ((country, subdivision_code(country, subdivision)),)


@dataclass(frozen=True)
class Callable:
    ok: bool
    code: str  # ok, outside_window, holiday, after_hours, cap_7_in_7, recent_conversation,
    # ontario_cap
    detail: str
    opens_at: datetime | None = None  # when not callable: the next instant it may be (UTC)


@lru_cache(maxsize=64)
def _rule_of(window: Window) -> Rule:
    return Rule(window)


def in_window(now_utc: datetime, zones: tuple[str, ...], rule: Rule | Window) -> bool:
    """True only when the hour is allowed in every possible zone of the consumer."""
    if isinstance(rule, Window):
        rule = _rule_of(rule)
    return allowed_at(now_utc, zones, rule)


def check_callable(
    conn: sqlite3.Connection,
    now_utc: datetime,
    settings: Settings,
    *,
    customer_id: int,
    portfolio: str,
    country: str,
    subdivision: str | None,
    zones: tuple[str, ...],
    jurisdictions: tuple[Jurisdiction, ...] | None = None,
    explain: bool = True,
) -> Callable:
    """May this account be called now? ``zones`` and ``jurisdictions``: where the consumer
    may be (``dunning.places.reach``); jurisdictions default to the address's. ``explain``:
    also say when it opens (claims skip it: they only need the verdict)."""

    if portfolio not in settings.contact_rules_portfolios:
        start, end = settings.business_hours
        b2b = Window(((start, end),) * 5 + (None, None), "business hours")
        if zones and not in_window(now_utc, zones, b2b):
            return Callable(True, "after_hours", _("outside business hours (not blocked)"))
        return Callable(True, "ok", "")
    juris = jurisdictions or jurisdictions_of(country, subdivision)
    rule = rule_for(juris)
    window = rule.window
    if not allowed_at(now_utc, zones, rule):
        opens = opens_at(now_utc, zones, rule) if explain else None
        holiday = closed_reason(now_utc, zones, rule)
        if holiday:
            return Callable(False, "holiday", holiday, opens)
        return Callable(False, "outside_window", rule_text(window.rule), opens)
    week_ago = to_iso(now_utc - timedelta(days=7))
    row = conn.execute(
        f"""SELECT COALESCE(SUM(attempt), 0),
                  COALESCE(SUM(CASE WHEN {ONTARIO_CONTACT} THEN 1 ELSE 0 END), 0)
           FROM activities a WHERE customer_id = ? AND at >= ?
           AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.activity_id = a.id)""",
        (customer_id, week_ago),
    ).fetchone()
    attempts, ontario_contacts = row[0], row[1]
    us = any(c == "US" for c, _s in juris)
    if us and _consented_callback(conn, customer_id, now_utc):
        return Callable(True, "ok", _("Reg F 1006.14(b)(3): a callback the consumer asked for"))
    if us:
        if attempts >= 7:
            seventh = conn.execute(
                """SELECT at FROM activities WHERE customer_id = ? AND attempt > 0 AND at >= ?
                   ORDER BY at DESC LIMIT 1 OFFSET 6""",
                (customer_id, week_ago),
            ).fetchone()
            after = _after(seventh[0], timedelta(days=7)) if seventh else None
            return Callable(
                False,
                "cap_7_in_7",
                _("Reg F: 7 call attempts in 7 days"),
                opens_at(after, zones, rule) if after and explain else None,
            )
        # a conversation with the consumer (rpc; not a third party who answered): the
        # conversation day is day 1, no call through day 7 (calendar days, local)
        home = zone(zones[0])
        local_today = now_utc.astimezone(home).date()
        first_allowed = local_today - timedelta(days=6)
        recent = conn.execute(
            """SELECT MAX(at) FROM activities a
               WHERE customer_id = ? AND rpc = 1 AND at >= ?
               AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.activity_id = a.id)""",
            (customer_id, to_iso(now_utc - timedelta(days=8))),
        ).fetchone()[0]
        if recent:
            talked = datetime.fromisoformat(recent.replace("Z", "+00:00"))
            talked_day = talked.astimezone(home).date()
            if talked_day >= first_allowed:
                day8 = datetime.combine(talked_day + timedelta(days=7), time(0), home)
                return Callable(
                    False,
                    "recent_conversation",
                    _("Reg F: conversation in the last 7 days"),
                    opens_at(day8, zones, rule) if explain else None,
                )
    if ("CA", "ON") in juris and ontario_contacts >= ONTARIO_CAP:
        return Callable(
            False,
            "ontario_cap",
            _("Ontario: 3 contacts in 7 days"),
            ontario_opens(conn, customer_id, now_utc, zones, rule) if explain else None,
        )
    return Callable(True, "ok", rule_text(window.rule))


def ontario_contacts(conn: sqlite3.Connection, customer_id: int, now_utc: datetime) -> int:
    """The contacts Ontario counts in its 3-in-7 (a conversation, a voicemail, an e-mail
    sent) over the past 7 days, voided ones left out: one read of activities_customer."""
    return conn.execute(
        f"""SELECT COUNT(*) FROM activities a WHERE customer_id = ? AND at >= ?
            AND {ONTARIO_CONTACT}
            AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.activity_id = a.id)""",
        (customer_id, to_iso(now_utc - timedelta(days=7))),
    ).fetchone()[0]


def ontario_opens(
    conn: sqlite3.Connection,
    customer_id: int,
    now_utc: datetime,
    zones: tuple[str, ...],
    rule: Rule,
) -> datetime | None:
    """When the third-latest contact of the week leaves the 7 days (then inside the window)."""
    third = conn.execute(
        f"""SELECT at FROM activities a WHERE customer_id = ? AND at >= ?
              AND {ONTARIO_CONTACT}
              AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.activity_id = a.id)
            ORDER BY at DESC LIMIT 1 OFFSET {ONTARIO_CAP - 1}""",
        (customer_id, to_iso(now_utc - timedelta(days=7))),
    ).fetchone()
    after = _after(third[0], timedelta(days=7)) if third else None
    return opens_at(after, zones, rule) if after else None


def _after(iso: str, delta: timedelta) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")) + delta


def _consented_callback(conn: sqlite3.Connection, customer_id: int, now_utc: datetime) -> bool:
    """The call now due is one the consumer asked for, in a conversation (rpc) within the
    past 7 days: Reg F's prior-consent exception; neither the 7-in-7 cap nor the 7 days
    after a conversation apply to it (12 CFR 1006.14(b)(3)(i))."""
    now_iso = to_iso(now_utc)
    row = conn.execute(
        """SELECT 1 FROM queue q WHERE q.customer_id = ? AND q.next_action = 'callback'
             AND q.next_action_at <= ?
             AND EXISTS (SELECT 1 FROM activities a WHERE a.customer_id = q.customer_id
                         AND a.outcome = 'callback' AND a.rpc = 1 AND a.at >= ?
                         AND a.next_action_at = q.next_action_at)""",
        (customer_id, now_iso, to_iso(now_utc - timedelta(days=7))),
    ).fetchone()
    return row is not None


def holiday_today(
    now_utc: datetime, zones: tuple[str, ...], country: str, subdivision: str | None
) -> str | None:
    """'Canada Day (Ontario Reg. 74 ...)' when a holiday where the customer may be (their
    local date in each zone) forbids calling now; None otherwise."""
    return closed_reason(now_utc, zones, rule_for(jurisdictions_of(country, subdivision)))
