"""What the account screen says when a holiday forbids the call: the holiday's name in the
collector's language and when the customer may be called again ("Canada Day: callable
Thu 07:00").

The next opening is found by stepping a quarter of an hour at a time through the legal
window of every zone the customer may be in, skipping banned holidays (at most two weeks
ahead; a few hundred dict reads). The window part belongs with the calling windows
(contact_rules); this helper only serves the holiday message.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from dunning.clock import to_iso
from dunning.phones import zone
from dunning.queue.contact_rules import holiday_today, in_window, legal_window
from dunning.queue.holidays import holiday_ban

STEP = timedelta(minutes=15)
HORIZON = timedelta(days=14)


def next_callable(
    now_utc: datetime, zones: tuple[str, ...], country: str, subdivision: str | None
) -> datetime | None:
    """The first quarter hour from ``now_utc`` inside the legal window in every zone and on
    no banned holiday; None when there is none within two weeks (or no zone is known)."""
    if not zones:
        return None
    window = legal_window(country, subdivision)
    t = now_utc.replace(second=0, microsecond=0)
    t += timedelta(minutes=-(t.minute % 15))
    if t < now_utc:
        t += STEP
    end = now_utc + HORIZON
    while t <= end:
        if in_window(t, zones, window) and holiday_today(t, zones, country, subdivision) is None:
            return t
        t += STEP
    return None


def holiday_block(
    now_utc: datetime,
    zones: tuple[str, ...],
    country: str,
    subdivision: str | None,
    language: str,
) -> tuple[str, str]:
    """(the holiday's name in ``language``, UTC ISO of the next time the customer may be
    called or '') for an account a holiday blocks now."""
    name = ""
    for z in zones:
        found = holiday_ban(
            country, subdivision, now_utc.astimezone(zone(z)).date(), language=language
        )
        if found is not None:
            name = found
            break
    again = next_callable(now_utc, zones, country, subdivision)
    return name, to_iso(again) if again else ""
