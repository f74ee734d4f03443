"""A customer's postal address: its bounds (the import refuses a longer value) and its
lines in the order the post of the customer's country reads them.

A leaf module (dunning.regions only), used by the import (db/ledger/rows.py), the letters
(letters/context.py, the statement PDF) and the writing rules (queue/writing_rules.py).

The lines, for the countries the ledger serves (other countries: the street lines, then
"city region postal code"):

- US: ``street`` / ``City, ST 12345`` (USPS);
- CA: ``street`` / ``City QC  H2X 1Y4`` (Canada Post: two spaces before the code);
- MX: ``street`` / ``06600 Ciudad, Estado`` (Correos de México: the código postal first;
  the state's name, left out when it is the city's);
- FR, ES (and the other continental European countries of ``CODE_FIRST``): ``street`` /
  ``75008 Paris`` (La Poste, Correos: the code before the city);
- GB: ``street`` / ``London`` / ``SW1A 1AA`` (Royal Mail: the postcode a line of its own).

The country's name is not among them: the caller adds it in the reader's language.
"""

from __future__ import annotations

from dunning.regions import NAMES

# column -> the most characters it holds (a longer value is refused by the import)
MAX_CHARS: dict[str, int] = {
    "address_line1": 100,
    "address_line2": 100,
    "city": 64,
    "postal_code": 16,
}
COLUMNS = tuple(MAX_CHARS)
CODE_FIRST = frozenset({"FR", "ES", "MX", "DE", "IT", "BE", "CH", "NL", "AT", "PT"})


def has_postal_address(line1: str | None, city: str | None) -> bool:
    """Whether a letter on paper can be sent: a street line and a city."""
    return bool((line1 or "").strip()) and bool((city or "").strip())


def _region(country: str, region: str) -> str:
    if country == "MX":  # 'JAL' -> 'Jalisco': Mexican addresses name the state
        names = NAMES["MX"].get(region.upper())
        return names[0] if names else region
    return region


def address_lines(
    country: str,
    line1: str | None,
    line2: str | None,
    city: str | None,
    region: str | None,
    postal_code: str | None,
) -> list[str]:
    """The address's lines without the country, blanks left out; [] when there is no
    street line nor city (nothing to write to)."""
    country = (country or "").upper()
    street = [s.strip() for s in (line1, line2) if s and s.strip()]
    town, code = (city or "").strip(), (postal_code or "").strip()
    place = _region(country, (region or "").strip())
    if not street and not town:
        return []
    if country == "US":
        last = " ".join(p for p in (", ".join(p for p in (town, place) if p), code) if p)
    elif country == "CA":
        last = "  ".join(p for p in (" ".join(p for p in (town, place) if p), code) if p)
    elif country == "MX":
        if place and place.casefold() == town.casefold():
            place = ""
        last = ", ".join(p for p in (" ".join(p for p in (code, town) if p), place) if p)
    elif country == "GB":  # Royal Mail: the post town, then the postcode, each a line
        return [*street, *(p for p in (town, code) if p)]
    elif country in CODE_FIRST:
        last = " ".join(p for p in (code, town) if p)
    else:
        last = " ".join(p for p in (town, place, code) if p)
    return [*street, last] if last else street
