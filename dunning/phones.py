"""Phone numbers via phonenumbers: parse to E.164, type, dial format, time zones.

A leaf module importable from every layer. ``phonenumbers.geocoder`` and ``carrier``
are slow to import (0.55 s / 0.1 s) and are never imported here; phonenumbers itself
(~30 ms) is imported when a number must be parsed: a number read with its stored place
(``dunning.places.known``) is dialled from its stored formats without it.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from dunning.i18n import _
from dunning.places import reach, stored_formats

if TYPE_CHECKING:
    import phonenumbers

# where a collector dials from -> (country calling code, in NANP, international prefix),
# as phonenumbers' metadata says (tests/test_phone_places.py checks every entry); a region
# not here is dialled through phonenumbers.
_CALLERS: dict[str, tuple[int, bool, str]] = {
    "US": (1, True, "011"),
    "CA": (1, True, "011"),
    "PR": (1, True, "011"),
    "MX": (52, False, "00"),
    "FR": (33, False, "00"),
    "GB": (44, False, "00"),
    "ES": (34, False, "00"),
    "DE": (49, False, "00"),
    "BE": (32, False, "00"),
    "CH": (41, False, "00"),
    "IT": (39, False, "00"),
}


def _types() -> dict[int, str]:
    from phonenumbers import PhoneNumberType

    return {
        PhoneNumberType.MOBILE: "mobile",
        PhoneNumberType.FIXED_LINE: "fixed_line",
        PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line",
        PhoneNumberType.TOLL_FREE: "toll_free",
        PhoneNumberType.VOIP: "voip",
    }


def parse_phone(text: str, default_region: str) -> str:
    """Text as written -> E.164. Raises ValueError naming the value when it cannot be valid."""
    import phonenumbers

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
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=4096)
def _parsed(e164: str) -> phonenumbers.PhoneNumber:
    import phonenumbers

    return phonenumbers.parse(e164, None)


def phone_type(e164: str) -> str:
    import phonenumbers

    return _types().get(phonenumbers.number_type(_parsed(e164)), "unknown")


def _stored_dial(e164: str, from_region: str) -> str | None:
    """``dial_format`` from the number's stored formats (phonenumbers' own rules for
    ``format_out_of_country_calling_number``), None when they are not known here."""
    formats = stored_formats(e164)
    caller = _CALLERS.get(from_region.upper())
    if formats is None or caller is None:
        return None
    intl, national = formats
    head = intl.split(" ", 1)[0]
    if not head.startswith("+") or not head[1:].isdigit():
        return None
    code = int(head[1:])
    caller_code, nanp, prefix = caller
    if code == 1 and nanp:
        return f"1 {national}"
    if code == caller_code:
        return national
    return f"{prefix} {intl[1:]}"


def dial_format(e164: str, from_region: str) -> str:
    """How a person in ``from_region`` dials it: '1 (514) 555-0123' within NANP,
    '011 33 1 42 68 53 00' from the US, '01 42 68 53 00' within France."""
    stored = _stored_dial(e164, from_region)
    if stored is not None:
        return stored
    import phonenumbers

    try:
        return phonenumbers.format_out_of_country_calling_number(_parsed(e164), from_region)
    except phonenumbers.NumberParseException:
        return e164


def international(e164: str) -> str:
    formats = stored_formats(e164)
    if formats is not None:
        return formats[0]
    import phonenumbers

    try:
        return phonenumbers.format_number(
            _parsed(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
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
