"""Dates and times as a person types them: ISO, 'today', 'tomorrow', '+3d', '+2h', 'mon'.

A leaf module for every layer. Errors are ValueError with a message naming the value.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_DAYS = {
    "mon": 0,
    "tue": 1,
    "wed": 2,
    "thu": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
    "lun": 0,
    "mar": 1,
    "mer": 2,
    "jeu": 3,
    "ven": 4,
    "sam": 5,
    "dim": 6,
}


def parse_day(text: str, today: date) -> date:
    t = text.strip().lower()
    if not t:
        raise ValueError("a date is required")
    if t in ("today", "aujourd'hui", "hoy"):
        return today
    if t in ("tomorrow", "demain", "mañana", "manana"):
        return today + timedelta(days=1)
    m = re.fullmatch(r"\+(\d{1,3})\s*([dw]?)", t)
    if m:
        n = int(m.group(1)) * (7 if m.group(2) == "w" else 1)
        return today + timedelta(days=n)
    if t[:3] in _DAYS and t.isalpha():
        ahead = (_DAYS[t[:3]] - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)
    try:
        return date.fromisoformat(t)
    except ValueError:
        pass
    raise ValueError(f"{text!r} is not a date (try 2026-12-01, tomorrow, +3d, fri)")


def parse_when(text: str, now_local: datetime) -> datetime:
    """A local date and time: '2026-12-01 14:30', 'tomorrow 9:00', '14:30', '+2h'.

    Returns an aware datetime in ``now_local``'s zone.
    """
    t = text.strip().lower()
    m = re.fullmatch(r"\+(\d{1,3})\s*h", t)
    if m:
        return now_local + timedelta(hours=int(m.group(1)))
    m = re.fullmatch(r"\+(\d{1,4})\s*m(in)?", t)
    if m:
        return now_local + timedelta(minutes=int(m.group(1)))
    parts = t.rsplit(" ", 1)
    tm = re.fullmatch(r"(\d{1,2})(?::|h)(\d{2})?", parts[-1])
    if tm:
        hour, minute = int(tm.group(1)), int(tm.group(2) or 0)
        if hour > 23 or minute > 59:
            raise ValueError(f"{text!r} is not a time of day (00:00 to 23:59)")
        clock = time(hour, minute)
        day_part = parts[0] if len(parts) == 2 else ""
    else:
        clock = time(9, 0)
        day_part = t
    d = parse_day(day_part, now_local.date()) if day_part else now_local.date()
    if not day_part and _local(datetime.combine(d, clock), now_local) <= now_local:
        d += timedelta(days=1)
    return _local(datetime.combine(d, clock), now_local)


def _local(wall: datetime, like: datetime) -> datetime:
    """A wall-clock time where ``like`` is. ``datetime.astimezone()`` gives a fixed UTC
    offset, which is wrong for a day past a daylight-saving change: such a time is placed
    in the machine's local zone instead."""
    tz = like.tzinfo
    if isinstance(tz, ZoneInfo) or tz is UTC:
        return wall.replace(tzinfo=tz)
    try:
        return wall.astimezone()
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"{wall:%Y-%m-%d} is out of range") from exc
