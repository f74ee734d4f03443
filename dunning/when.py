"""Dates and times as a person types them: ISO, 'today', 'tomorrow', 'yesterday', '+3d',
'-1d', '+2h', 'mon', 'lundi', 'mié', in English, French or Spanish.

A leaf module for every layer. Errors are ValueError with a message naming the value.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dunning.i18n import _

# Weekday words in English, French and Spanish, lower case, accents optional. "mar" is
# Tuesday in French (mardi) and Spanish (martes) alike.
_WEEKDAY_NAMES = (
    ("mon", "monday", "lun", "lundi", "lunes"),
    ("tue", "tues", "tuesday", "mar", "mardi", "martes"),
    ("wed", "wednesday", "mer", "mercredi", "mie", "mié", "miercoles", "miércoles"),
    ("thu", "thur", "thurs", "thursday", "jeu", "jeudi", "jue", "jueves"),
    ("fri", "friday", "ven", "vendredi", "vie", "viernes"),
    ("sat", "saturday", "sam", "samedi", "sab", "sáb", "sabado", "sábado"),
    ("sun", "sunday", "dim", "dimanche", "dom", "domingo"),
)
_DAYS = {word: n for n, words in enumerate(_WEEKDAY_NAMES) for word in words}
_TODAY = ("today", "aujourd'hui", "aujourd’hui", "auj", "hoy")
_TOMORROW = ("tomorrow", "demain", "mañana", "manana")
_YESTERDAY = ("yesterday", "hier", "ayer")


def parse_day(text: str, today: date, *, past: bool = False) -> date:
    """A day as typed. A weekday is the next one (never today), or with ``past`` the last
    one (never today): "paid on mon" is the Monday that went by."""
    t = " ".join(text.strip().lower().rstrip(".").split())
    if not t:
        raise ValueError(_("a date is required"))
    if t in _TODAY:
        return today
    if t in _TOMORROW:
        return today + timedelta(days=1)
    if t in _YESTERDAY:
        return today - timedelta(days=1)
    m = re.fullmatch(r"([+-])\s*(\d{1,3})\s*([djw]?)", t)
    if m:
        n = int(m.group(2)) * (7 if m.group(3) == "w" else 1)
        return today + timedelta(days=n if m.group(1) == "+" else -n)
    if t in _DAYS:
        if past:
            return today - timedelta(days=(today.weekday() - _DAYS[t]) % 7 or 7)
        return today + timedelta(days=(_DAYS[t] - today.weekday()) % 7 or 7)
    try:
        return date.fromisoformat(t)
    except ValueError:
        pass
    raise ValueError(
        _("{value!r} is not a date (try 2026-12-01, tomorrow, +3d, fri)").format(value=text)
    )


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
            raise ValueError(
                _("{value!r} is not a time of day (00:00 to 23:59)").format(value=text)
            )
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
        raise ValueError(_("{day} is out of range").format(day=wall.date().isoformat())) from exc
