"""Calling windows and contact caps (DOMAIN.md "Contact rules").

Applied to the portfolios named in ``Settings.contact_rules_portfolios`` (consumer by
default). For other portfolios nothing is blocked; the local time is shown and calls
outside business hours are flagged. Public holidays are not known here (the
``holidays`` package is not a dependency yet): Ontario and Quebec holiday bans are left
to the collector, and README says so.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from dunning.clock import to_iso
from dunning.phones import zone
from dunning.queue.config import Settings


@dataclass(frozen=True)
class Window:
    """Allowed local hours [start, end) per weekday (0=Monday); None = no calls that day."""

    days: tuple[tuple[int, int] | None, ...]
    rule: str  # which law, shown to the collector


_US = Window(((8, 21),) * 7, "FDCPA/Reg F: 08:00-21:00 local")
_ON = Window(((7, 21),) * 6 + ((13, 17),), "Ontario Reg. 74: 07:00-21:00, Sunday 13:00-17:00")
_QC = Window(((8, 20),) * 6 + (None,), "Quebec R-2.2 s.34: 08:00-20:00, Monday-Saturday")
_DEFAULT = Window(((8, 21),) * 7, "08:00-21:00 local")


def legal_window(country: str, subdivision: str | None) -> Window:
    if country == "US":
        return _US
    if country == "CA" and subdivision == "QC":
        return _QC
    if country == "CA" and subdivision == "ON":
        return _ON
    return _DEFAULT


@dataclass(frozen=True)
class Callable:
    ok: bool
    code: str  # ok, outside_window, after_hours, cap_7_in_7, recent_conversation, ontario_cap
    detail: str


def in_window(now_utc: datetime, zones: tuple[str, ...], window: Window) -> bool:
    """True only when the hour is allowed in every possible zone of the number."""
    if not zones:
        return False
    for name in zones:
        local = now_utc.astimezone(zone(name))
        hours = window.days[local.weekday()]
        if hours is None or not (hours[0] <= local.hour < hours[1]):
            return False
    return True


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
) -> Callable:
    if portfolio not in settings.contact_rules_portfolios:
        start, end = settings.business_hours
        b2b = Window(((start, end),) * 5 + (None, None), "business hours")
        if zones and not in_window(now_utc, zones, b2b):
            return Callable(True, "after_hours", "outside business hours (not blocked)")
        return Callable(True, "ok", "")
    window = legal_window(country, subdivision)
    if not in_window(now_utc, zones, window):
        return Callable(False, "outside_window", window.rule)
    week_ago = to_iso(now_utc - timedelta(days=7))
    row = conn.execute(
        """SELECT COALESCE(SUM(attempt), 0),
                  COALESCE(SUM(CASE WHEN contact = 1 OR outcome = 'left_message'
                               THEN 1 ELSE 0 END), 0)
           FROM activities a WHERE customer_id = ? AND at >= ?
           AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.activity_id = a.id)""",
        (customer_id, week_ago),
    ).fetchone()
    attempts, ontario_contacts = row[0], row[1]
    if country == "US" and _consented_callback(conn, customer_id, now_utc):
        return Callable(True, "ok", "Reg F 1006.14(b)(3): a callback the consumer asked for")
    if country == "US":
        if attempts >= 7:
            return Callable(False, "cap_7_in_7", "Reg F: 7 call attempts in 7 days")
        # a conversation with the consumer (rpc; not a third party who answered): the
        # conversation day is day 1, no call through day 7 (calendar days, local)
        local_today = now_utc.astimezone(zone(zones[0])).date()
        first_allowed = local_today - timedelta(days=6)
        recent = conn.execute(
            """SELECT MAX(at) FROM activities a
               WHERE customer_id = ? AND rpc = 1 AND at >= ?
               AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.activity_id = a.id)""",
            (customer_id, to_iso(now_utc - timedelta(days=8))),
        ).fetchone()[0]
        if recent:
            talked = datetime.fromisoformat(recent.replace("Z", "+00:00"))
            if talked.astimezone(zone(zones[0])).date() >= first_allowed:
                return Callable(
                    False, "recent_conversation", "Reg F: conversation in the last 7 days"
                )
    if country == "CA" and subdivision == "ON" and ontario_contacts >= 3:
        return Callable(False, "ontario_cap", "Ontario: 3 contacts in 7 days")
    return Callable(True, "ok", window.rule)


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
