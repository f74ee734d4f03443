"""States, provinces and territories of the US, Canada and Mexico: every way a file may
write one, to its ISO 3166-2 code ('Québec', 'quebec', 'CA-QC', 'PQ', 'Que.' -> 'QC').

A leaf module (no dunning imports), usable from db/ (import) and queue/. The data is a
table: ``NAMES[country][code]`` lists the names and abbreviations besides the code itself;
they are compared folded (no accents, case, spaces or punctuation), so 'N.Y.', 'n y' and
'NY' are one key. tests/test_regions.py checks the table is complete and unambiguous.
"""

from __future__ import annotations

import unicodedata
from functools import cache

COUNTRIES = ("US", "CA", "MX")  # where an unknown subdivision is refused

# code -> names (English, French, Spanish) and common / postal abbreviations (MX: also
# the two-letter state codes of the CURP)
NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "US": {
        "AL": ("Alabama", "Ala."),
        "AK": ("Alaska", "Alas."),
        "AZ": ("Arizona", "Ariz."),
        "AR": ("Arkansas", "Ark."),
        "CA": ("California", "Californie", "Calif.", "Cal."),
        "CO": ("Colorado", "Colo."),
        "CT": ("Connecticut", "Conn."),
        "DE": ("Delaware", "Del."),
        "DC": (
            "District of Columbia", "Washington DC", "Washington, D.C.", "D.C.",
            "District de Columbia", "Distrito de Columbia", "Washington D. C.",
        ),
        "FL": ("Florida", "Floride", "Fla."),
        "GA": ("Georgia", "Géorgie"),
        "HI": ("Hawaii", "Hawaï", "Hawái"),
        "ID": ("Idaho",),
        "IL": ("Illinois", "Ill."),
        "IN": ("Indiana", "Ind."),
        "IA": ("Iowa",),
        "KS": ("Kansas", "Kan.", "Kans."),
        "KY": ("Kentucky", "Ky."),
        "LA": ("Louisiana", "Louisiane", "Luisiana"),
        "ME": ("Maine",),
        "MD": ("Maryland",),
        "MA": ("Massachusetts", "Mass."),
        "MI": ("Michigan", "Míchigan", "Mich."),
        "MN": ("Minnesota", "Minn."),
        "MS": ("Mississippi", "Misisipi", "Miss."),
        "MO": ("Missouri", "Misuri"),
        "MT": ("Montana", "Mont."),
        "NE": ("Nebraska", "Neb.", "Nebr."),
        "NV": ("Nevada", "Nev."),
        "NH": ("New Hampshire", "Nuevo Hampshire", "N.H."),
        "NJ": ("New Jersey", "Nueva Jersey", "N.J."),
        "NM": ("New Mexico", "Nouveau-Mexique", "Nuevo México", "N.M.", "N. Mex."),
        "NY": ("New York", "New York State", "État de New York", "Nueva York", "N.Y."),
        "NC": ("North Carolina", "Caroline du Nord", "Carolina del Norte", "N.C."),
        "ND": ("North Dakota", "Dakota du Nord", "Dakota del Norte", "N.D.", "N. Dak."),
        "OH": ("Ohio",),
        "OK": ("Oklahoma", "Okla."),
        "OR": ("Oregon", "Oregón", "Ore.", "Oreg."),
        "PA": ("Pennsylvania", "Pennsylvanie", "Pensilvania", "Penn.", "Penna."),
        "RI": ("Rhode Island", "R.I."),
        "SC": ("South Carolina", "Caroline du Sud", "Carolina del Sur", "S.C."),
        "SD": ("South Dakota", "Dakota du Sud", "Dakota del Sur", "S.D.", "S. Dak."),
        "TN": ("Tennessee", "Tenn."),
        "TX": ("Texas", "Tex.", "Tejas"),
        "UT": ("Utah",),
        "VT": ("Vermont",),
        "VA": ("Virginia", "Virginie"),
        "WA": ("Washington", "Washington State", "Wash."),
        "WV": ("West Virginia", "Virginie-Occidentale", "Virginia Occidental", "W. Va."),
        "WI": ("Wisconsin", "Wis.", "Wisc."),
        "WY": ("Wyoming", "Wyo."),
        "AS": ("American Samoa", "Samoa américaines", "Samoa Americana"),
        "GU": ("Guam",),
        "MP": (
            "Northern Mariana Islands", "Îles Mariannes du Nord", "Islas Marianas del Norte",
            "CNMI",
        ),
        "PR": ("Puerto Rico", "Porto Rico"),
        "UM": (
            "United States Minor Outlying Islands", "U.S. Minor Outlying Islands",
            "Îles mineures éloignées des États-Unis",
            "Islas Ultramarinas Menores de los Estados Unidos",
        ),
        "VI": (
            "U.S. Virgin Islands", "Virgin Islands", "Virgin Islands, U.S.",
            "Îles Vierges des États-Unis", "Islas Vírgenes de los Estados Unidos", "USVI",
        ),
    },
    "CA": {
        "AB": ("Alberta", "Alta.", "Alb."),
        "BC": ("British Columbia", "Colombie-Britannique", "Columbia Británica", "C.-B."),
        "MB": ("Manitoba", "Man."),
        "NB": ("New Brunswick", "Nouveau-Brunswick", "Nuevo Brunswick"),
        "NL": (
            "Newfoundland and Labrador", "Newfoundland & Labrador", "Newfoundland",
            "Terre-Neuve-et-Labrador", "Terre-Neuve", "Terranova y Labrador", "Terranova",
            "Nfld.", "NF", "LB", "T.-N.-L.",
        ),
        "NS": ("Nova Scotia", "Nouvelle-Écosse", "Nueva Escocia", "N.-É."),
        "NT": (
            "Northwest Territories", "Territoires du Nord-Ouest", "Territorios del Noroeste",
            "N.W.T.", "T.N.-O.",
        ),
        "NU": ("Nunavut", "Nvt."),
        "ON": ("Ontario", "Ont."),
        "PE": (
            "Prince Edward Island", "Île-du-Prince-Édouard", "Isla del Príncipe Eduardo",
            "P.E.I.", "Î.-P.-É.",
        ),
        "QC": ("Quebec", "Québec", "Province of Quebec", "Province de Québec", "PQ", "Que."),
        "SK": ("Saskatchewan", "Sask."),
        "YT": ("Yukon", "Yukon Territory", "Territoire du Yukon", "Y.T.", "Yuk.", "Yk."),
    },
    "MX": {
        "AGU": ("Aguascalientes", "Ags.", "AS"),
        "BCN": ("Baja California", "Baja California Norte", "B.C.", "BC"),
        "BCS": ("Baja California Sur", "B.C.S.", "BS"),
        "CAM": ("Campeche", "Camp.", "CC"),
        "CHP": ("Chiapas", "Chis.", "CS"),
        "CHH": ("Chihuahua", "Chih.", "CH"),
        "CMX": (
            "Ciudad de México", "Mexico City", "CDMX", "DF", "D.F.", "DIF", "Distrito Federal",
            "Ville de Mexico",
        ),
        "COA": ("Coahuila", "Coahuila de Zaragoza", "Coah.", "CL"),
        "COL": ("Colima", "Col.", "CM"),
        "DUR": ("Durango", "Dgo.", "DG"),
        "GUA": ("Guanajuato", "Gto.", "GT"),
        "GRO": ("Guerrero", "Gro.", "GR"),
        "HID": ("Hidalgo", "Hgo.", "HG"),
        "JAL": ("Jalisco", "Jal.", "JC"),
        "MEX": (
            "Estado de México", "México", "State of Mexico", "Edomex", "Edo. Méx.", "Méx.", "MC",
        ),
        "MIC": ("Michoacán", "Michoacán de Ocampo", "Mich.", "MN"),
        "MOR": ("Morelos", "Mor.", "MS"),
        "NAY": ("Nayarit", "Nay.", "NT"),
        "NLE": ("Nuevo León", "N.L.", "NL"),
        "OAX": ("Oaxaca", "Oax.", "OC"),
        "PUE": ("Puebla", "Pue.", "PL"),
        "QUE": ("Querétaro", "Querétaro de Arteaga", "Qro.", "QT"),
        "ROO": ("Quintana Roo", "Q. Roo", "QR"),
        "SLP": ("San Luis Potosí", "S.L.P.", "SP"),
        "SIN": ("Sinaloa", "Sin.", "SL"),
        "SON": ("Sonora", "Son.", "SR"),
        "TAB": ("Tabasco", "Tab.", "TC"),
        "TAM": ("Tamaulipas", "Tamps.", "TS"),
        "TLA": ("Tlaxcala", "Tlax.", "TL"),
        "VER": ("Veracruz", "Veracruz de Ignacio de la Llave", "Ver.", "VZ"),
        "YUC": ("Yucatán", "Yuc.", "YN"),
        "ZAC": ("Zacatecas", "Zac.", "ZS"),
    },
}  # fmt: skip

MAX_OTHER = 64  # a subdivision of another country is stored as given, up to this length


def fold(value: str) -> str:
    """'Île-du-Prince-Édouard' -> 'ileduprinceedouard': no accents, case or punctuation."""
    plain = unicodedata.normalize("NFKD", value)
    return "".join(ch for ch in plain if ch.isalnum() and not unicodedata.combining(ch)).lower()


@cache
def _index(country: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for code, names in NAMES.get(country, {}).items():
        for name in (code, *names):
            out[fold(name)] = code
    return out


def subdivision_code(country: str, value: str) -> str | None:
    """The ISO 3166-2 suffix of ``value`` in ``country`` (US, CA, MX), None when unknown.

    The code may carry the country ('CA-QC', 'US NY', 'MX-CMX')."""
    index = _index(country.upper())
    raw = value.strip()
    key = fold(raw)
    if key in index:
        return index[key]
    head = raw[:3].upper()
    if len(raw) > 3 and head[:2] == country.upper() and not head[2].isalnum():
        return index.get(fold(raw[3:]))
    return None


def normalize_subdivision(country: str, value: str) -> str:
    """What to store for a subdivision typed as ``value``. Raises ValueError (naming the
    value) for one that is not a state, province or territory of the US, CA or MX."""
    raw = " ".join(value.split())
    if country.upper() in COUNTRIES:
        code = subdivision_code(country, raw)
        if code is None:
            raise ValueError(f"{raw!r} is not a state, province or territory of {country}")
        return code
    if len(raw) > MAX_OTHER:
        raise ValueError(f"a subdivision is at most {MAX_OTHER} characters")
    prefix = f"{country.upper()}-"
    if raw.upper().startswith(prefix) and len(raw) <= len(prefix) + 3:
        raw = raw[len(prefix) :]
    return raw.upper() if len(raw) <= 3 and raw.isalnum() else raw
