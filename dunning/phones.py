"""Phone numbers via phonenumbers: parse to E.164, type, dial format, time zones.

A leaf module importable from every layer. ``phonenumbers.geocoder`` and ``carrier``
are slow to import (0.55 s / 0.1 s) and are never imported here.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from dunning.i18n import _
from dunning.places import reach

_TYPES = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.VOIP: "voip",
}


def parse_phone(text: str, default_region: str) -> str:
    """Text as written -> E.164. Raises ValueError naming the value when it cannot be valid."""
    try:
        number = phonenumbers.parse(text, default_region.upper())
    except phonenumbers.NumberParseException as exc:
        raise ValueError(
            _("{value!r} is not a phone number ({error})").format(value=text, error=exc)
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(
            _("{value!r} is not a valid number for {country}").format(
                value=text, country=default_region.upper()
            )
        )
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


@lru_cache(maxsize=4096)
def _parsed(e164: str) -> phonenumbers.PhoneNumber:
    return phonenumbers.parse(e164, None)


def phone_type(e164: str) -> str:
    return _TYPES.get(phonenumbers.number_type(_parsed(e164)), "unknown")


def dial_format(e164: str, from_region: str) -> str:
    """How a person in ``from_region`` dials it: '(514) 555-0123' within NANP,
    '011 33 1 42 68 53 00' from the US, '01 42 68 53 00' within France."""
    try:
        return phonenumbers.format_out_of_country_calling_number(_parsed(e164), from_region)
    except phonenumbers.NumberParseException:
        return e164


def international(e164: str) -> str:
    try:
        return phonenumbers.format_number(_parsed(e164), PhoneNumberFormat.INTERNATIONAL)
    except phonenumbers.NumberParseException:
        return e164


def time_zones(e164: str, country: str = "", subdivision: str | None = None) -> tuple[str, ...]:
    """Every zone a consumer with this address and this number may be in (see
    ``dunning.places``: the address's subdivision and the number, widened, never narrowed)."""
    return reach(country, subdivision, (e164,)).zones


def numbers_zones(
    numbers: Iterable[str], country: str = "", subdivision: str | None = None
) -> tuple[str, ...]:
    """Every zone a consumer with this address and these numbers may be in."""
    return reach(country, subdivision, tuple(numbers)).zones


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)
