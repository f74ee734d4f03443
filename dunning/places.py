"""Where a consumer may be: the time zones they may answer in and the jurisdictions whose
contact rules may apply (DOMAIN.md, "Contact rules").

A leaf module importable from every layer. The zones each US state, Canadian province and
Mexican state spans are data (``dunning/data/subdivision_zones.json``), and so is which
subdivision each North American area code serves (``nanp_area_codes.json``, generated from
phonenumbers' geocoder, which is too slow to import at start-up).

The rule: the possible zones are the union of every zone of the address's subdivision and
every zone of each number that may be dialled. A number that says nothing about place
(toll-free, non-geographic, or whose zones are its whole country) adds nothing when the
address is known, and every zone of the country when it is not. With no subdivision, the
numbers' area codes stand in for it (their zones and their rules); when even they say
nothing, the consumer may be anywhere in the country, under the strictest of its rules.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from dunning.regions import COUNTRIES
from dunning.regions import subdivision_code as iso_subdivision

# A jurisdiction: (country, subdivision code without the country) or (country, None).
Jurisdiction = tuple[str, str | None]


@cache
def _tables() -> tuple[dict[str, str], dict[str, dict[str, tuple[str, ...]]]]:
    data = json.loads(
        resources.files("dunning.data").joinpath("subdivision_zones.json").read_text("utf-8")
    )
    primary = {c: v["primary"] for c, v in data.items() if not c.startswith("_")}
    subs = {
        c: {s: tuple(z) for s, z in v["subdivisions"].items()}
        for c, v in data.items()
        if not c.startswith("_")
    }
    return primary, subs


@cache
def _area_codes() -> dict[str, tuple[Jurisdiction, ...]]:
    data = json.loads(
        resources.files("dunning.data").joinpath("nanp_area_codes.json").read_text("utf-8")
    )
    return {
        code: tuple((s.split("-", 1)[0], s.split("-", 1)[1]) for s in subs)
        for code, subs in data.items()
    }


def subdivision_table() -> dict[str, dict[str, tuple[str, ...]]]:
    """country -> subdivision -> every zone it spans (US, CA, MX)."""
    return _tables()[1]


def area_code_subdivisions(area_code: str) -> tuple[Jurisdiction, ...]:
    """'514' -> (('CA', 'QC'),); '867' -> the three territories; () when unknown."""
    return _area_codes().get(area_code, ())


@lru_cache(maxsize=1024)
def subdivision_code(country: str, subdivision: str | None) -> str | None:
    """'QC', 'CA-QC', 'qc', 'Québec', 'PQ' -> 'QC': the ISO 3166-2 suffix (imports store it;
    ``dunning.regions`` reads the names), else the value with its country prefix dropped."""
    if not subdivision:
        return None
    if country in COUNTRIES:
        found = iso_subdivision(country, subdivision)
        if found:
            return found
    s = subdivision.strip().upper()
    if s.startswith(f"{country}-"):
        s = s[len(country) + 1 :]
    return s or None


@lru_cache(maxsize=512)
def subdivision_zones(country: str, subdivision: str | None) -> tuple[str, ...]:
    """Every zone the subdivision spans; () when the table does not know it."""
    code = subdivision_code(country, subdivision)
    if code is None:
        return ()
    return subdivision_table().get(country, {}).get(code, ())


@lru_cache(maxsize=64)
def country_zones(country: str) -> tuple[str, ...]:
    """Every zone of the country (its most populous first); phonenumbers' list for countries
    outside the table; () when unknown."""
    primary, subs = _tables()
    if country in subs:
        zones = [primary[country]]
        for code, per in subs[country].items():
            if country == "US" and code in _US_TERRITORIES | {"UM"}:
                continue  # an address there is written GU, PR...: not 'anywhere in the US'
            zones.extend(per)
        return tuple(dict.fromkeys(zones))
    import phonenumbers  # ~30 ms at start: only for a country outside the table

    try:
        code = phonenumbers.country_code_for_region(country)
    except Exception:  # noqa: BLE001 - an unknown country has no zones
        return ()
    if not code:
        return ()
    from phonenumbers.tzdata import TIMEZONE_DATA  # 30 ms, only when first needed

    return tuple(TIMEZONE_DATA.get(str(code), ()))


@dataclass(frozen=True)
class NumberPlace:
    """What one number says about where it rings."""

    zones: tuple[str, ...]  # () when it says nothing
    country: str  # the number's region, territories as US ('' when unknown)
    subdivisions: tuple[str, ...]  # from the area code (NANP), () when unknown


_US_TERRITORIES = {"PR", "GU", "VI", "AS", "MP"}


# Numbers whose place was read with them (``phone_places``, m028_places: ``known``): a claim and
# the account's screen never import phonenumbers (~30 ms of a start, ROUND6_p3.md) for them.
_KNOWN: dict[str, NumberPlace] = {}
_FORMATS: dict[str, tuple[str, str]] = {}  # e164 -> (INTERNATIONAL, NATIONAL) as stored
_KNOWN_MAX = 65536  # a session sees a few thousand numbers; bounded all the same


def known(e164: str, text: str | None) -> None:
    """Remember a number's place as stored (``place_text``); None (not stored yet, or an
    older database) leaves it to ``number_place`` to parse."""
    if not text or e164 in _KNOWN:
        return
    parts = text.split("\t")
    if len(parts) != 5:
        return
    if len(_KNOWN) >= _KNOWN_MAX:
        _KNOWN.clear()
        _FORMATS.clear()
    zones, country, subs, intl, national = parts
    _KNOWN[e164] = NumberPlace(
        tuple(zones.split(",")) if zones else (), country, tuple(subs.split(",")) if subs else ()
    )
    if intl:
        _FORMATS[e164] = (intl, national)


def stored_formats(e164: str) -> tuple[str, str] | None:
    """(INTERNATIONAL, NATIONAL) of a number whose place was read with it, else None."""
    return _FORMATS.get(e164)


def place_text(e164: str) -> str:
    """What ``phone_places.place`` keeps for a number: its zones, country, subdivisions and
    its INTERNATIONAL and NATIONAL formats, tab-separated (``known`` reads it back)."""
    import phonenumbers

    place = _parsed_place(e164)
    try:
        number = phonenumbers.parse(e164, None)
        intl = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        intl = national = ""
    fields = (",".join(place.zones), place.country, ",".join(place.subdivisions), intl, national)
    return "\t".join(f.replace("\t", " ") for f in fields)


def number_place(e164: str) -> NumberPlace:
    """What one number says about where it rings: as stored when it was read with its
    place, else parsed (phonenumbers)."""
    return _KNOWN.get(e164) or _parsed_place(e164)


@lru_cache(maxsize=8192)
def _parsed_place(e164: str) -> NumberPlace:
    import phonenumbers
    from phonenumbers import PhoneNumberType
    from phonenumbers import timezone as pn_tz  # 30 ms import, only when first needed
    from phonenumbers.tzdata import TIMEZONE_DATA

    geographic = (
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )

    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return NumberPlace((), "", ())
    region = phonenumbers.region_code_for_number(number) or ""
    if region in _US_TERRITORIES:
        region = "US"
    if phonenumbers.number_type(number) not in geographic:
        return NumberPlace((), region, ())  # toll-free, premium, personal, VoIP...
    zones = tuple(z for z in pn_tz.time_zones_for_number(number) if z != "Etc/Unknown")
    whole = TIMEZONE_DATA.get(str(number.country_code), ())
    if len(whole) > 1 and set(zones) >= set(whole):
        zones = ()  # only the country code matched: anywhere in the country
    subs: tuple[str, ...] = ()
    if number.country_code == 1:
        national = str(number.national_number)
        found = area_code_subdivisions(national[:3])
        subs = tuple(s for c, s in found if c == region) if found else ()
        for c, s in found:
            zones += subdivision_zones(c, s)
    return NumberPlace(tuple(dict.fromkeys(zones)), region, subs)


@dataclass(frozen=True)
class Reach:
    """Where a consumer may be: the zones to call in, and whose rules may apply."""

    zones: tuple[str, ...]  # the address's main zone first (the customer's calendar)
    jurisdictions: tuple[Jurisdiction, ...]


@lru_cache(maxsize=65536)
def reach(country: str, subdivision: str | None, numbers: tuple[str, ...]) -> Reach:
    """The zones and jurisdictions of a consumer with this address and these dialable
    numbers (E.164), memoized: a claim asks for hundreds of accounts."""
    code = subdivision_code(country, subdivision)
    home = subdivision_zones(country, code)
    zones: list[str] = list(home)
    places = [number_place(n) for n in numbers]
    if home:
        for p in places:
            zones.extend(p.zones)
        return Reach(tuple(dict.fromkeys(zones)), ((country, code),))
    juris: list[Jurisdiction] = []
    anywhere = False
    for p in places:
        if not p.zones:
            anywhere = True  # a number that says nothing: anywhere in the country
            continue
        zones.extend(p.zones)
        if p.country and p.subdivisions:
            juris.extend((p.country, s) for s in p.subdivisions)
        elif p.country:
            juris.append((p.country, None))
        if p.country != country:
            juris.append((country, None))  # the address's country may apply as well
    if anywhere or not places:
        zones.extend(country_zones(country))
        juris.append((country, None))
    if not juris:
        juris.append((country, code))
    return Reach(tuple(dict.fromkeys(zones)), tuple(dict.fromkeys(juris)))
