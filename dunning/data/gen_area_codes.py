"""Generate ``nanp_area_codes.json`` (area code -> ISO 3166-2 subdivisions) from
phonenumbers' geocoder data: ``python -m dunning.data.gen_area_codes``.

Run once per phonenumbers upgrade; ``tests/test_places.py`` fails when the stored table no
longer matches. The geocoder takes 0.5 s to import, so the running program reads the table
instead and never imports it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

OUT = Path(__file__).with_name("nanp_area_codes.json")

# How phonenumbers' English geocoder names places (spelling mistakes included).
NAMES: dict[str, str] = {
    "Alabama": "US-AL",
    "Alaska": "US-AK",
    "Arizona": "US-AZ",
    "Arkansas": "US-AR",
    "California": "US-CA",
    "Colorado": "US-CO",
    "Connecticut": "US-CT",
    "Delaware": "US-DE",
    "Washington D.C.": "US-DC",
    "Florida": "US-FL",
    "Georgia": "US-GA",
    "Hawaii": "US-HI",
    "Idaho": "US-ID",
    "Illinois": "US-IL",
    "Indiana": "US-IN",
    "Iowa": "US-IA",
    "Kansas": "US-KS",
    "Kentucky": "US-KY",
    "Louisiana": "US-LA",
    "Maine": "US-ME",
    "Maryland": "US-MD",
    "Massachusetts": "US-MA",
    "Michigan": "US-MI",
    "Minnesota": "US-MN",
    "Mississippi": "US-MS",
    "Missouri": "US-MO",
    "Montana": "US-MT",
    "Nebraska": "US-NE",
    "Nevada": "US-NV",
    "New Hampshire": "US-NH",
    "New Jersey": "US-NJ",
    "New Mexico": "US-NM",
    "New York": "US-NY",
    "North Carolina": "US-NC",
    "North Dakota": "US-ND",
    "Ohio": "US-OH",
    "Oklahoma": "US-OK",
    "Oregon": "US-OR",
    "Pennsylvania": "US-PA",
    "Rhode Island": "US-RI",
    "South Carolina": "US-SC",
    "South Dakota": "US-SD",
    "Tennessee": "US-TN",
    "Texas": "US-TX",
    "Utah": "US-UT",
    "Vermont": "US-VT",
    "Virginia": "US-VA",
    "Washington State": "US-WA",
    "Washington": "US-WA",
    "West Virginia": "US-WV",
    "Wisconsin": "US-WI",
    "Wyoming": "US-WY",
    "Alberta": "CA-AB",
    "British Columbia": "CA-BC",
    "British Colombia": "CA-BC",
    "Manitoba": "CA-MB",
    "New Brunswick": "CA-NB",
    "Newfoundland and Labrador": "CA-NL",
    "Newfoundland": "CA-NL",
    "Nova Scotia": "CA-NS",
    "Northwest Territories": "CA-NT",
    "Nunavut": "CA-NU",
    "Ontario": "CA-ON",
    "Prince Edward Island": "CA-PE",
    "Quebec": "CA-QC",
    "Saskatchewan": "CA-SK",
    "Yukon": "CA-YT",
}
# NANP members that are subdivisions of the US (ISO 3166-2:US)
TERRITORIES = {"PR": "US-PR", "GU": "US-GU", "VI": "US-VI", "AS": "US-AS", "MP": "US-MP"}
ABBREVIATION = re.compile(r", ([A-Z]{2})$")


def _subdivision(country: str, name: str) -> set[str]:
    m = ABBREVIATION.search(name)
    if m:
        return {f"{country}-{m.group(1)}"}
    return {NAMES[part] for part in name.split("/") if part in NAMES}


def generate() -> dict[str, list[str]]:
    import phonenumbers
    from phonenumbers.geodata import GEOCODE_DATA

    out: dict[str, set[str]] = {}
    for prefix, names in GEOCODE_DATA.items():
        if not prefix.startswith("1") or len(prefix) < 4 or "en" not in names:
            continue
        code = prefix[1:4]
        region = phonenumbers.region_code_for_number(phonenumbers.parse(f"+1{code}2345678"))
        if region in TERRITORIES:
            out.setdefault(code, set()).add(TERRITORIES[region])
        elif region in ("US", "CA"):
            found = _subdivision(region, names["en"])
            if found:
                out.setdefault(code, set()).update(found)
    for code in range(200, 1000):  # territories the geocoder does not name
        region = phonenumbers.region_code_for_number(phonenumbers.parse(f"+1{code}2345678"))
        if region in TERRITORIES and str(code) not in out:
            out[str(code)] = {TERRITORIES[region]}
    return {code: sorted(subs) for code, subs in sorted(out.items())}


def main() -> None:
    OUT.write_text(json.dumps(generate(), indent=0, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
