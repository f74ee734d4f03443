"""Public holidays where the customer is, from the ``holidays`` package.

Two uses (DOMAIN.md "Contact rules", "Call outcomes"):

- business days (``is_business_day``) skip the public holidays of the customer's country
  and subdivision, for any country the package knows;
- where the law forbids contact on holidays (``HOLIDAY_BANS``: Ontario, Quebec), no call
  is allowed on them (``holiday_ban``); a consumer of such a country whose subdivision is
  unknown gets the strictest rule, every holiday of any banning subdivision.

The package costs ~0.1 s to import and ~1-4 ms per country, subdivision and year to
build, so it is imported on first use and each year is kept: a look-up is a dict read.
The banned days, which every claim of a Canadian consumer asks about, are read from a table
generated from the package (``dunning/data/holiday_bans.json``, 2024-2040), so claiming
never imports it; business days still do (warmed off the event loop by the screen).
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from dunning.i18n import N_

# (country, subdivision) -> the rule, shown to the collector. "Holiday" in these laws is
# wider than the package's public holidays (Ontario's Legislation Act s. 88 and Quebec's
# Interpretation Act s. 61 include Easter Monday, Remembrance Day, Civic Holiday), so the
# package's "optional" category counts too.
HOLIDAY_BANS: dict[tuple[str, str], str] = {
    ("CA", "ON"): N_("Ontario Reg. 74 s. 22: no contact on a holiday"),
    ("CA", "QC"): N_("Quebec R-2.2 s. 34: no calls on a holiday"),
}
BAN_CATEGORIES = ("public", "optional")
PUBLIC = ("public",)

_years: dict[tuple[str, str | None, int, tuple[str, ...], str | None], dict[date, str]] = {}


def _module() -> Any:
    import holidays  # noqa: PLC0415 - ~0.1 s; never at start-up

    return holidays


@cache
def _language(country: str, wanted: str) -> str | None:
    """The package's language closest to a locale ('fr_CA' -> 'fr'), else English, else
    None (the country's own language)."""
    try:
        supported = tuple(_module().country_holidays(country).supported_languages)
    except NotImplementedError:
        return None
    base = wanted.split("_")[0].lower()
    for choice in (
        f"{base}_{country}",
        wanted,
        base,
        *(s for s in supported if s.split("_")[0] == base),
        f"en_{country}",
        "en_US",
        *(s for s in supported if s.startswith("en")),
    ):
        if choice in supported:
            return choice
    return None


def _year(
    country: str,
    subdivision: str | None,
    year: int,
    categories: tuple[str, ...] = PUBLIC,
    language: str | None = None,
) -> dict[date, str]:
    key = (country, subdivision, year, categories, language)
    got = _years.get(key)
    if got is None:
        got = _build(country.upper(), subdivision and subdivision.upper(), *key[2:])
        _years[key] = got
    return got


def _build(
    country: str,
    subdivision: str | None,
    year: int,
    categories: tuple[str, ...],
    language: str | None,
) -> dict[date, str]:
    hol = _module()
    try:
        found = hol.country_holidays(
            country, subdiv=subdivision, years=year, categories=categories, language=language
        )
    except NotImplementedError:  # a country the package does not know, or its subdivision
        if subdivision is None:
            return {}
        return dict(_year(country, None, year, categories, language))
    return dict(found)


def warm(country: str, subdivision: str | None, year: int) -> None:
    """Import the package and build the customer's year ahead of need (off the event
    loop, once the first account is on screen)."""
    _year(country, subdivision, year)


def holiday_name(
    country: str,
    subdivision: str | None,
    day: date,
    *,
    language: str = "en",
    categories: tuple[str, ...] = PUBLIC,
) -> str | None:
    """The holiday's name on ``day`` where the customer is, in ``language`` (a locale such as
    'fr_CA') when the package has it, else English; None on a working day."""
    lang = _language(country.upper(), language) if language else None
    return _year(country, subdivision, day.year, categories, lang).get(day)


def is_business_day(country: str, subdivision: str | None, day: date) -> bool:
    """Monday to Friday and not a public holiday of the customer's place."""
    return day.weekday() < 5 and day not in _year(country, subdivision, day.year)


def banned_subdivisions(country: str, subdivision: str | None) -> tuple[str, ...]:
    """The subdivisions whose holidays forbid a call: the customer's own when it bans them;
    when it is unknown, every banning subdivision of the country (the strictest rule)."""
    if subdivision:
        return (subdivision,) if (country, subdivision) in HOLIDAY_BANS else ()
    return tuple(s for c, s in HOLIDAY_BANS if c == country)


_BAN_COUNTRIES = frozenset(c for c, _ in HOLIDAY_BANS)
_ban_years: dict[tuple[str, str | None, int], dict[date, tuple[str, str]]] = {}


def may_ban(country: str, subdivision: str | None) -> bool:
    """Whether any holiday can forbid calling a customer of this place (a set look-up)."""
    if subdivision:
        return (country, subdivision) in HOLIDAY_BANS
    return country in _BAN_COUNTRIES


def package_ban_days(country: str, subdivision: str, year: int) -> dict[date, str]:
    """date -> English name of the days a banning subdivision forbids calls on, as the
    package says (what ``dunning/data/holiday_bans.json`` stores)."""
    return _year(country, subdivision, year, BAN_CATEGORIES, _language(country.upper(), "en"))


@cache
def _stored_bans() -> dict[str, dict[str, str]]:
    """The stored table (``dunning.data.gen_holiday_bans``): 'CA-ON' -> ISO date -> name."""
    data = resources.files("dunning.data").joinpath("holiday_bans.json").read_text("utf-8")
    return json.loads(data)  # type: ignore[no-any-return]


def _ban_days(country: str, subdivision: str, year: int) -> dict[date, str]:
    """The banned days of one subdivision and year: from the stored table when it covers
    the year (a claim never imports the package), else from the package."""
    stored = _stored_bans().get(f"{country}-{subdivision}")
    prefix = f"{year}-"
    if stored is not None and any(k.startswith(prefix) for k in stored):
        return {date.fromisoformat(k): v for k, v in stored.items() if k.startswith(prefix)}
    return package_ban_days(country, subdivision, year)


def _ban_year(country: str, subdivision: str | None, year: int) -> dict[date, tuple[str, str]]:
    """date -> (English name, rule) of every banned day of the year: one dict read a call."""
    key = (country, subdivision, year)
    got = _ban_years.get(key)
    if got is None:
        got = {}
        for sub in banned_subdivisions(country, subdivision):
            rule = HOLIDAY_BANS[(country, sub)]
            for day, name in _ban_days(country, sub, year).items():
                got.setdefault(day, (name, rule))
        _ban_years[key] = got
    return got


def holiday_ban(
    country: str, subdivision: str | None, local_date: date, *, language: str = "en"
) -> str | None:
    """The name of the holiday that forbids calling the customer on ``local_date`` (the
    customer's date), None when calls are not banned that day."""
    found = holiday_ban_rule(country, subdivision, local_date, language=language)
    return found[0] if found else None


def holiday_ban_rule(
    country: str, subdivision: str | None, local_date: date, *, language: str = "en"
) -> tuple[str, str] | None:
    """(holiday name, the law that bans calls on it) for ``local_date``, else None."""
    if not may_ban(country, subdivision):
        return None
    found = _ban_year(country, subdivision, local_date.year).get(local_date)
    if found is None or language == "en":
        return found
    for sub in banned_subdivisions(country, subdivision):
        name = holiday_name(country, sub, local_date, language=language, categories=BAN_CATEGORIES)
        if name is not None:
            return name, HOLIDAY_BANS[(country, sub)]
    return found
