"""What the account screen says when a holiday forbids the call: the holiday's name in the
collector's language and when the customer may be called again ("Canada Day: callable
Thu 07:00"). The next opening is the calling windows' own (``windows.opens_at``), which
skips the days a jurisdiction closes (``contact_rules.closed_days``)."""

from __future__ import annotations

from datetime import datetime

from dunning.clock import to_iso
from dunning.phones import zone
from dunning.places import Jurisdiction
from dunning.queue.contact_rules import jurisdictions_of, rule_for
from dunning.queue.holidays import holiday_ban
from dunning.queue.windows import opens_at


def next_callable(
    now_utc: datetime,
    zones: tuple[str, ...],
    country: str,
    subdivision: str | None,
    jurisdictions: tuple[Jurisdiction, ...] | None = None,
) -> datetime | None:
    """The first instant from ``now_utc`` inside the legal window in every zone and on no
    banned holiday; None when no zone is known or nothing opens within the look-ahead."""
    if not zones:
        return None
    rule = rule_for(jurisdictions or jurisdictions_of(country, subdivision))
    return opens_at(now_utc, zones, rule)


def holiday_block(
    now_utc: datetime,
    zones: tuple[str, ...],
    country: str,
    subdivision: str | None,
    language: str,
    jurisdictions: tuple[Jurisdiction, ...] | None = None,
) -> tuple[str, str]:
    """(the holiday's name in ``language``, UTC ISO of the next time the customer may be
    called or '') for an account a holiday blocks now."""
    name = ""
    juris = jurisdictions or jurisdictions_of(country, subdivision)
    for c, s in juris:
        for z in zones:
            found = holiday_ban(c, s, now_utc.astimezone(zone(z)).date(), language=language)
            if found is not None:
                name = found
                break
        if name:
            break
    again = next_callable(now_utc, zones, country, subdivision, juris)
    return name, to_iso(again) if again else ""
