"""Plausible postal addresses for the demo's customers (m039), in the customer's region:
Canadian, US, French, Spanish, Mexican and English streets, cities and postal codes.

Deterministic without the build's random stream: each address is a function of the
customer's id (a multiplicative hash picks the street, number, city and code), so adding
addresses left every other demo row as it was (tests/test_demo_same.py), and a copy of
the template (demo/replicate.py) copies them as it copies the names. A few arithmetic
steps and one f-string per customer: the 1M build does not notice them.

The streets and cities are real names; the numbers, suites and postal codes are drawn,
so an address is plausible, not a real one.
"""

from __future__ import annotations

from typing import Any

# street names by style; {n} is the number
_STREETS: dict[str, tuple[str, ...]] = {
    "us": (
        "{n} Main Street", "{n} Oak Avenue", "{n} Maple Drive", "{n} Washington Boulevard",
        "{n} Park Avenue", "{n} Elm Street", "{n} Lake Shore Drive", "{n} Broadway",
        "{n} Cedar Lane", "{n} Market Street", "{n} Sunset Boulevard", "{n} Pine Street",
    ),
    "ca_en": (
        "{n} King Street West", "{n} Queen Street East", "{n} Yonge Street",
        "{n} Bay Street", "{n} Bank Street", "{n} Granville Street", "{n} Robson Street",
        "{n} Main Street", "{n} Dundas Street", "{n} Rideau Street",
    ),
    "ca_fr": (
        "{n}, rue Saint-Denis", "{n}, rue Sainte-Catherine Ouest", "{n}, boulevard René-Lévesque",
        "{n}, avenue du Mont-Royal", "{n}, rue Notre-Dame Est", "{n}, chemin de la Côte-des-Neiges",
        "{n}, rue de l'Église", "{n}, boulevard Saint-Laurent", "{n}, rue Saint-Jean",
    ),
    "mx": (
        "Av. Insurgentes Sur {n}", "Av. Juárez {n}", "Calle Hidalgo {n}",
        "Av. Paseo de la Reforma {n}", "Calle Morelos {n}", "Av. Revolución {n}",
        "Calle Benito Juárez {n}", "Av. Constitución {n}", "Calle Guerrero {n}",
    ),
    "fr": (
        "{n} rue de la République", "{n} avenue Jean-Jaurès", "{n} boulevard Victor-Hugo",
        "{n} rue du Général-Leclerc", "{n} place de l'Église", "{n} rue Pasteur",
        "{n} avenue des Champs-Élysées", "{n} rue de la Paix", "{n} quai Saint-Michel",
    ),
    "es": (
        "Calle Mayor, {n}", "Calle de Alcalá, {n}", "Avenida de la Constitución, {n}",
        "Calle Núñez de Balboa, {n}", "Paseo de la Castellana, {n}", "Calle Real, {n}",
        "Plaza de España, {n}", "Calle de Colón, {n}", "Avenida del Puerto, {n}",
    ),
    "es_ct": (
        "Carrer de Balmes, {n}", "Passeig de Gràcia, {n}", "Carrer Major, {n}",
        "Rambla de Catalunya, {n}", "Carrer de València, {n}", "Avinguda Diagonal, {n}",
    ),
    "gb": (
        "{n} High Street", "{n} Station Road", "{n} Church Lane", "{n} Victoria Road",
        "{n} Park Road", "{n} King's Road", "{n} Mill Lane",
    ),
}  # fmt: skip
# second lines, by style: '' (most customers have none), a suite, a colonia
_SECOND: dict[str, tuple[str, ...]] = {
    "us": ("", "", "", "Suite {s}", "Suite {s}", "Unit {u}"),
    "ca_en": ("", "", "", "Suite {s}", "Unit {u}"),
    "ca_fr": ("", "", "", "Bureau {s}", "Local {u}"),
    "fr": ("", "", "", "", "Bâtiment {b}", "Résidence Les Tilleuls"),
    "es": ("", "", "{f}.º {b}", "{f}.º {b}", "Local {u}"),
    "es_ct": ("", "", "{f}r {b}", "Local {u}"),
    "gb": ("", "", "", "Flat {u}", "Unit {u}"),
}  # fmt: skip
# region key -> style, then (city, first postal code, how many codes) for numeric codes,
# or (city, outward codes) for Canada (FSA) and Great Britain; MX: (city, code, colonias)
_CITIES: dict[str, tuple[str, tuple[tuple[str, Any, Any], ...]]] = {
    "US-NY": ("us", (("New York", 10001, 40), ("Buffalo", 14201, 20), ("Rochester", 14604, 20),
                     ("Albany", 12203, 10), ("Yonkers", 10701, 10))),
    "US-CA": ("us", (("Los Angeles", 90001, 70), ("San Francisco", 94102, 30),
                     ("San Diego", 92101, 30), ("Sacramento", 95811, 20), ("San José", 95110, 30))),
    "US-TX": ("us", (("Houston", 77002, 90), ("Dallas", 75201, 50), ("Austin", 78701, 40),
                     ("San Antonio", 78201, 50), ("El Paso", 79901, 30))),
    "US-IL": ("us", (("Chicago", 60601, 60), ("Springfield", 62701, 10), ("Naperville", 60540, 25),
                     ("Peoria", 61602, 14))),
    "US-FL": ("us", (("Miami", 33125, 60), ("Orlando", 32801, 30), ("Tampa", 33602, 30),
                     ("Jacksonville", 32202, 50))),
    "US-WA": ("us", (("Seattle", 98101, 98), ("Spokane", 99201, 20), ("Tacoma", 98402, 20),
                     ("Bellevue", 98004, 4))),
    "CA-ON": ("ca_en", (("Toronto", ("M5V", "M5H", "M4W", "M6K", "M5A"), None),
                        ("Ottawa", ("K1P", "K1N", "K2P"), None), ("Hamilton", ("L8P", "L8N"), None),
                        ("London", ("N6A", "N6B"), None))),
    "CA-QC": ("ca_fr", (("Montréal", ("H2X", "H3B", "H2J", "H3A", "H1V"), None),
                        ("Québec", ("G1R", "G1K", "G1S"), None), ("Laval", ("H7N", "H7T"), None),
                        ("Sherbrooke", ("J1H", "J1J"), None),
                        ("Trois-Rivières", ("G9A", "G8T"), None))),
    "CA-BC": ("ca_en", (("Vancouver", ("V6B", "V6E", "V5K", "V6Z"), None),
                        ("Victoria", ("V8W", "V8V"), None), ("Kelowna", ("V1Y",), None),
                        ("Surrey", ("V3T", "V3S"), None))),
    "MX-CMX": ("mx", (("Ciudad de México", "06600", ("Col. Juárez",)),
                      ("Ciudad de México", "06700", ("Col. Roma Norte",)),
                      ("Ciudad de México", "06140", ("Col. Condesa",)),
                      ("Ciudad de México", "03100", ("Col. del Valle",)),
                      ("Ciudad de México", "11560", ("Col. Polanco",)),
                      ("Ciudad de México", "04000", ("Col. Coyoacán",)))),
    "MX-JAL": ("mx", (("Guadalajara", "44100", ("Col. Centro", "Col. Americana")),
                      ("Zapopan", "45010", ("Col. Chapalita", "Col. Ciudad Granja")),
                      ("Tlaquepaque", "45500", ("Col. Centro",)))),
    "MX-NLE": ("mx", (("Monterrey", "64000", ("Col. Centro", "Col. Obispado")),
                      ("San Pedro Garza García", "66220", ("Col. del Valle",)),
                      ("Guadalupe", "67100", ("Col. Linda Vista",)))),
    "FR-IDF": ("fr", (("Paris", 75001, 20), ("Boulogne-Billancourt", 92100, 1),
                      ("Saint-Denis", 93200, 1), ("Versailles", 78000, 1), ("Créteil", 94000, 1))),
    "FR-ARA": ("fr", (("Lyon", 69001, 9), ("Grenoble", 38000, 1), ("Saint-Étienne", 42000, 1),
                      ("Clermont-Ferrand", 63000, 1), ("Annecy", 74000, 1))),
    "FR-NAQ": ("fr", (("Bordeaux", 33000, 1), ("Limoges", 87000, 1), ("Poitiers", 86000, 1),
                      ("La Rochelle", 17000, 1), ("Pau", 64000, 1))),
    "ES-MD": ("es", (("Madrid", 28001, 50), ("Alcalá de Henares", 28801, 6), ("Móstoles", 28931, 7),
                     ("Getafe", 28901, 9))),
    "ES-CT": ("es_ct", (("Barcelona", 8001, 40), ("Girona", 17001, 7), ("Tarragona", 43001, 8),
                        ("Lleida", 25001, 8))),
    "ES-VC": ("es", (("València", 46001, 25), ("Alicante", 3001, 16), ("Elche", 3201, 6),
                     ("Castellón de la Plana", 12001, 6))),
    "GB-ENG": ("gb", (("London", ("SW1A", "EC1A", "W1D", "N1", "SE1", "E2"), None),
                      ("Manchester", ("M1", "M4"), None), ("Birmingham", ("B1", "B5"), None),
                      ("Leeds", ("LS1", "LS2"), None))),
}  # fmt: skip
_LETTERS = "ABCEGHJKLMNPRSTVWXYZ"  # Canada Post's letters (no D F I O Q U)
_GB_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


_SMALL_NUMBERS = frozenset({"fr", "es", "es_ct", "gb"})  # 1..180; North America: 10..4999
_M64 = (1 << 64) - 1


def _mix(cid: int) -> int:
    """64 well spread bits from the customer's id (splitmix64's finalizer)."""
    z = (cid * 0x9E3779B97F4A7C15) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def address(region_key: str, cid: int) -> tuple[str, str | None, str, str]:
    """(line 1, line 2 or None, city, postal code) of demo customer ``cid`` in the region
    ``region_key`` ('US-NY', 'CA-QC', ...; an unknown one: a New York address)."""
    style, cities = _CITIES.get(region_key) or _CITIES["US-NY"]
    h, i = divmod(_mix(cid), len(cities))
    city, code, span = cities[i]
    streets = _STREETS[style]
    h, i = divmod(h, len(streets))
    street = streets[i]
    if style == "mx":
        h, number = divmod(h, 2400)
        return street.format(n=1 + number), span[h % len(span)], city, code
    seconds = _SECOND[style]
    h, i = divmod(h, len(seconds))
    small = style in _SMALL_NUMBERS
    h, number = divmod(h, 180 if small else 4990)
    line2 = seconds[i]
    if line2:
        h, k = divmod(h, 960)
        line2 = line2.format(s=100 + (k % 40) * 10, u=1 + k % 30, b="ABCD"[k % 4], f=1 + k % 8)
    h, i = divmod(h, len(code) if style in ("ca_en", "ca_fr", "gb") else span)
    if style in ("ca_en", "ca_fr"):
        postal = f"{code[i]} {h % 10}{_LETTERS[h // 10 % 20]}{h // 200 % 10}"
    elif style == "gb":
        postal = f"{code[i]} {h % 10}{_GB_LETTERS[h // 10 % 20]}{_GB_LETTERS[h // 200 % 20]}"
    else:
        postal = f"{code + i:05d}"
    number += 1 if small else 10
    return street.format(n=number), line2 or None, city, postal
