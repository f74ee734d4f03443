"""The customer's postal address on the statement PDF and in the letters' context (m039):
imported from the ERP's customers file, formatted in the order of the customer's country
(street, then "city region  code" in Canada, "code city" in France and Spain, "code city,
state" in Mexico), the country named in the statement's language; no address: the place
line as before."""

from __future__ import annotations

import re
import sqlite3
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader
from test_ledger_support import load, write_csv

from dunning.address import address_lines
from dunning.clock import FixedClock
from dunning.demo.build import build_demo
from dunning.letters.context import build_context
from dunning.letters.pdf import statement_pdf
from dunning.letters.settings import LetterSettings

COMPANY = LetterSettings(
    company_name="Northwind Supply Co.",
    address="100 King Street West\nToronto ON  M5X 1A9\nCanada",
    payment_instructions="Bank transfer: account 0012-3456789",
)
AS_OF = date(2026, 12, 2)
CUSTOMERS = [
    ["customer_ref", "name", "country", "subdivision", "currency", "language",
     "address_line1", "address_line2", "city", "postal_code"],
    ["C1", "Épicerie Côté", "CA", "QC", "CAD", "fr", "1234, rue Saint-Denis", "Bureau 200",
     "Montréal", "H2X 3K2"],
    ["C2", "Boulangerie Lefèvre", "FR", "", "EUR", "fr", "12, rue de l'Église", "",
     "Saint-Étienne", "42000"],
    ["C3", "Ferretería Núñez", "MX", "JAL", "MXN", "es", "Av. Juárez 123", "Col. Centro",
     "Guadalajara", "44100"],
    ["C4", "Acme Hardware", "US", "NY", "USD", "en", "", "", "", ""],
]  # fmt: skip
INVOICES = [
    ["customer_ref", "number", "issue_date", "due_date", "amount", "currency"],
    ["C1", "F-1", "2026-09-01", "2026-10-01", "1234.56", "CAD"],
    ["C2", "F-2", "2026-09-01", "2026-10-01", "987.65", "EUR"],
    ["C3", "F-3", "2026-09-01", "2026-10-01", "5000.00", "MXN"],
    ["C4", "F-4", "2026-09-01", "2026-10-01", "42.00", "USD"],
]


@pytest.fixture
def imported(conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock) -> sqlite3.Connection:
    r = load(conn, write_csv(tmp_path / "customers.csv", CUSTOMERS), "customers", clock)
    assert (r.created, r.refused) == (4, 0)
    r = load(conn, write_csv(tmp_path / "invoices.csv", INVOICES), "invoices", clock)
    assert (r.created, r.refused) == (4, 0)
    return conn


def first_page(conn: sqlite3.Connection, ref: str, **kw: str) -> list[str]:
    st = statement_pdf(conn, ref, as_of=AS_OF, settings=COMPANY, **kw)
    text = PdfReader(BytesIO(st.data)).pages[0].extract_text()
    return [re.sub(r"\s+", " ", line).strip() for line in text.splitlines()]


@pytest.mark.parametrize(
    ("ref", "block"),
    [
        ("C1", ["Épicerie Côté", "1234, rue Saint-Denis", "Bureau 200", "Montréal QC H2X 3K2",
                "Canada"]),
        ("C2", ["Boulangerie Lefèvre", "12, rue de l'Église", "42000 Saint-Étienne", "France"]),
        ("C3", ["Ferretería Núñez", "Av. Juárez 123", "Col. Centro",
                "44100 Guadalajara, Jalisco", "México"]),
    ],
)  # fmt: skip
def test_the_statement_shows_the_address_block_in_the_countrys_order(
    imported: sqlite3.Connection, ref: str, block: list[str]
) -> None:
    lines = first_page(imported, ref)
    start = lines.index(block[0])
    assert lines[start : start + len(block)] == block, lines
    assert "Northwind Supply Co." in lines  # the remit-to block as before


def test_the_country_is_named_in_the_statements_language(imported: sqlite3.Connection) -> None:
    lines = first_page(imported, "C3", lang="en")
    start = lines.index("Ferretería Núñez")
    assert lines[start + 3 : start + 5] == ["44100 Guadalajara, Jalisco", "Mexico"], lines


def test_without_an_address_the_place_line_as_before(imported: sqlite3.Connection) -> None:
    lines = first_page(imported, "C4")
    start = lines.index("Acme Hardware")
    assert lines[start + 1] == "NY, United States", lines


def test_the_context_gives_templates_the_address_lines(imported: sqlite3.Connection) -> None:
    _, ctx = build_context(imported, "C1", as_of=AS_OF, settings=COMPANY)
    assert ctx["customer"]["address"] == (
        "1234, rue Saint-Denis\nBureau 200\nMontréal QC  H2X 3K2\nCanada"
    )
    _, ctx = build_context(imported, "C4", as_of=AS_OF, settings=COMPANY)
    assert ctx["customer"]["address"] == ""


@pytest.mark.parametrize(
    ("country", "region", "city", "code", "tail"),
    [
        ("US", "NY", "Albany", "12207", ["Albany, NY 12207"]),
        ("CA", "ON", "Toronto", "M5V 2T6", ["Toronto ON  M5V 2T6"]),
        ("ES", "MD", "Madrid", "28013", ["28013 Madrid"]),
        ("FR", "IDF", "Paris", "75008", ["75008 Paris"]),
        # the state is the city: said once
        ("MX", "CMX", "Ciudad de México", "06600", ["06600 Ciudad de México"]),
        ("MX", "JAL", "Zapopan", "45010", ["45010 Zapopan, Jalisco"]),
        ("GB", "ENG", "London", "SW1A 1AA", ["London", "SW1A 1AA"]),  # the postcode a line
        ("DE", "BY", "München", "80331", ["80331 München"]),
        ("JP", "13", "Tokyo", "100-0001", ["Tokyo 13 100-0001"]),
    ],
)
def test_the_city_lines_per_country(
    country: str, region: str, city: str, code: str, tail: list[str]
) -> None:
    assert address_lines(country, "1 Main", None, city, region, code) == ["1 Main", *tail]
    assert address_lines(country, "", "", "", region, code) == []


POSTAL = {
    "US": r"\d{5}",
    "CA": r"[A-Z]\d[A-Z] \d[A-Z]\d",
    "MX": r"\d{5}",
    "FR": r"\d{5}",
    "ES": r"\d{5}",
    "GB": r"[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}",
}


def test_the_demo_gives_every_customer_an_address_of_its_country(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    build_demo(path, customers=400, clock=FixedClock())
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(
            "SELECT id, country, subdivision, address_line1, address_line2, city, postal_code "
            "FROM customers ORDER BY id"
        ).fetchall()
    finally:
        conn.close()
    assert len(rows) == 400 and {r[1] for r in rows} == set(POSTAL)
    for cid, country, subdivision, line1, line2, city, postal in rows:
        assert line1 and city and re.fullmatch(POSTAL[country], postal), (cid, country, postal)
        lines = address_lines(country, line1, line2, city, subdivision, postal)
        assert 2 <= len(lines) <= 4, lines
    quebec = [r for r in rows if r[2] == "QC"]
    assert quebec and all(", " in r[3] and r[5] for r in quebec)  # '1234, rue Saint-Denis'
    cities = {r[5] for r in rows}
    assert {"Montréal", "Ciudad de México"} <= cities or {"Québec", "Guadalajara"} <= cities
    # deterministic: the same build again makes the same addresses
    again = tmp_path / "again.db"
    build_demo(again, customers=400, clock=FixedClock())
    conn = sqlite3.connect(again)
    try:
        same = conn.execute(
            "SELECT id, country, subdivision, address_line1, address_line2, city, postal_code "
            "FROM customers ORDER BY id"
        ).fetchall()
    finally:
        conn.close()
    assert same == rows


def test_a_hostile_address_in_the_ledger_never_breaks_the_layout(
    imported: sqlite3.Connection,
) -> None:
    plain = statement_pdf(imported, "C1", as_of=AS_OF, settings=COMPANY)
    imported.execute(
        "UPDATE customers SET address_line1 = ?, city = ? WHERE external_ref = 'C1'",
        ("1 rue\x1b]52;c;cGF5\x07 Evil\r\nBcc: x@evil " + "W" * 10_000, "Mont\u202eréal"),
    )
    imported.commit()
    st = statement_pdf(imported, "C1", as_of=AS_OF, settings=COMPANY)
    assert st.pages == plain.pages
    lines = first_page(imported, "C1")
    start = lines.index("Épicerie Côté")
    assert lines[start + 1].startswith("1 rue]52;c;cGF5 Evil Bcc: x@evil WWW")
    assert lines[start + 1].endswith("…") and len(lines[start + 1]) < 200
    assert lines[start + 3] == "Montréal QC H2X 3K2"
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202e]", "\n".join(lines))
