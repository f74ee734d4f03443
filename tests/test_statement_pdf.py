"""The statement of account as a PDF (issue 10, item 2): the text read back with pypdf
holds the context's numbers formatted in the customer's locale, its accents and currency
signs; a 200-invoice account spans pages with the header on each; hostile names never
break the layout; ``dunning statement`` as a user runs it."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from dunning.cli import main
from dunning.clock import FixedClock, today
from dunning.demo.build import build_demo
from dunning.letters.context import NoSuchAccount, build_context
from dunning.letters.pdf import statement_pdf, words
from dunning.letters.settings import LetterSettings
from dunning.money import format_money

COMPANY = LetterSettings(
    company_name="Boulangerie Gagné & Fils",
    address="1000 rue Sherbrooke Ouest\nMontréal QC  H3A 3G4\nCanada",
    phone="+1 514 555 0100",
    email="comptes@gagne.example",
    payment_instructions="Virement : Banque Nationale, compte 0012-3456789\n"
    "Référence : votre numéro de compte",
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, date]:
    path = tmp_path_factory.mktemp("statement") / "demo.db"
    clock = FixedClock()
    build_demo(path, customers=300, clock=clock)
    return path, today(clock)


@pytest.fixture
def demo_conn(demo):
    conn = sqlite3.connect(demo[0])
    yield conn
    conn.close()


def pages_text(data: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(BytesIO(data)).pages]


def account(conn: sqlite3.Connection, where: str) -> str:
    row = conn.execute(
        "SELECT c.external_ref FROM customers c LEFT JOIN contacts k ON k.customer_id = c.id "
        f"AND k.is_primary = 1 WHERE {where} AND EXISTS (SELECT 1 FROM invoices i "
        "WHERE i.customer_id = c.id AND i.status = 'open' AND i.open_minor != 0) "
        "ORDER BY c.id LIMIT 1"
    ).fetchone()
    assert row is not None, where
    return row[0]


@pytest.mark.parametrize(
    ("where", "locale", "page"),
    [
        ("c.country = 'CA' AND COALESCE(k.language, c.language) = 'fr'", "fr_CA", "Page 1 sur 1"),
        ("c.country = 'FR'", "fr_FR", "Page 1 sur 1"),
        ("c.country = 'MX'", "es_MX", "Página 1 de 1"),
        ("c.country = 'ES'", "es_ES", "Página 1 de 1"),
        ("c.country = 'GB'", "en_GB", "Page 1 of 1"),
        ("c.country = 'US'", "en_US", "Page 1 of 1"),
    ],
)
def test_the_pdf_shows_the_contexts_numbers_in_the_customers_locale(
    demo, demo_conn, where, locale, page
):
    ref = account(demo_conn, where)
    found, ctx = build_context(demo_conn, ref, as_of=demo[1], settings=COMPANY, kind="statement")
    st = statement_pdf(demo_conn, ref, as_of=demo[1], settings=COMPANY)
    assert found == st.locale == locale
    assert st.filename == f"statement-{ref}-{demo[1].isoformat()}.pdf"
    assert st.data.startswith(b"%PDF-")
    texts = pages_text(st.data)
    assert len(texts) == st.pages == 1
    text = texts[0]
    assert page in text
    assert ctx["customer"]["name"] in text and "Montréal QC  H3A 3G4" in text
    for item in ctx["items"]:
        line = next(x for x in text.splitlines() if x.startswith(item["number"] + " "))
        assert line.endswith(format_money(item["open"], item["currency"], locale)), line
    for a in ctx["aging"]:
        # the buckets add up to the total, and the total is the total due
        assert sum(b["amount"] for b in a["buckets"]) == a["total"]
        balance = next(t["balance"] for t in ctx["totals"] if t["currency"] == a["currency"])
        assert a["total"] == balance
        for b in a["buckets"]:
            assert format_money(b["amount"], a["currency"], locale) in text
        assert format_money(a["total"], a["currency"], locale) in text
    lang = locale[:2]
    for key in ("title", "open_items", "aging", "how_to_pay", "total_due"):
        assert words(lang)[key] in text, key


def test_fr_ca_and_fr_fr_differ_in_money_and_dates(demo, demo_conn):
    ref = account(demo_conn, "c.currency = 'CAD'")
    _, ctx = build_context(demo_conn, ref, as_of=demo[1], settings=COMPANY, kind="statement")
    item = ctx["items"][0]
    ca = pages_text(statement_pdf(demo_conn, ref, as_of=demo[1], settings=COMPANY,
                                  locale="fr_CA").data)[0]  # fmt: skip
    fr = pages_text(statement_pdf(demo_conn, ref, as_of=demo[1], settings=COMPANY,
                                  locale="fr_FR").data)[0]  # fmt: skip
    money_ca = format_money(item["open"], "CAD", "fr_CA")
    money_fr = format_money(item["open"], "CAD", "fr_FR")
    assert money_ca != money_fr and money_ca.endswith("$") and money_fr.endswith("$CA")
    assert money_ca in ca and money_fr in fr and money_fr not in ca
    due = item["due_date"]
    assert due.isoformat() in ca and due.strftime("%d/%m/%Y") in fr
    assert due.strftime("%d/%m/%Y") not in ca
    assert "Relevé de compte" in ca and "Relevé de compte" in fr
    # --lang writes in Spanish for the account's country
    es = statement_pdf(demo_conn, ref, as_of=demo[1], settings=COMPANY, lang="es")
    assert es.locale.startswith("es_") and "Estado de cuenta" in pages_text(es.data)[0]


def test_accents_and_currency_signs_of_a_built_ledger(ledger, conn):
    gagne = ledger.customer("Quincaillerie Gagné", country="CA", subdivision="QC",
                            currency="CAD", invoices=[(123_456, "2026-09-01")])  # fmt: skip
    nandu = ledger.customer("Ñandú Importaciones S.L.", country="ES", subdivision="MD",
                            currency="EUR", invoices=[(98_765, "2026-10-01")])  # fmt: skip
    thames = ledger.customer("Thames & Sons Ltd", country="GB", subdivision=None,
                             currency="GBP", invoices=[(55_000, "2026-10-15")])  # fmt: skip
    polish = ledger.customer("Łukasz Żółć Sp. z o.o.", country="US", currency="USD",
                             invoices=[(42_00, "2026-11-01")])  # fmt: skip
    conn.execute("UPDATE customers SET language = 'fr' WHERE id = ?", (gagne,))
    conn.execute("UPDATE customers SET language = 'es' WHERE id = ?", (nandu,))
    conn.commit()
    as_of = date(2026, 12, 2)
    refs = dict(conn.execute("SELECT id, external_ref FROM customers"))
    cases = [
        (gagne, "fr_CA", "Quincaillerie Gagné", "1 234,56 $", "Montréal"),
        (nandu, "es_ES", "Ñandú Importaciones S.L.", "987,65 €", "Montréal"),
        (thames, "en_GB", "Thames & Sons Ltd", "£550.00", "Montréal"),
        (polish, "en_US", "Łukasz Żółć Sp. z o.o.", "$42.00", "Montréal"),
    ]
    for cid, locale, name, money, city in cases:
        st = statement_pdf(conn, refs[cid], as_of=as_of, settings=COMPANY)
        text = pages_text(st.data)[0]
        assert st.locale == locale
        assert name in text and city in text
        assert money.replace(" ", "\u00a0") in text, (money, text)
    with pytest.raises(NoSuchAccount):
        statement_pdf(conn, "NOPE", as_of=as_of, settings=COMPANY)


def big_account(conn: sqlite3.Connection, n: int = 200) -> str:
    """The first demo customer with ``n`` open invoices (its own replaced)."""
    cid, ref, currency = conn.execute(
        "SELECT id, external_ref, currency FROM customers ORDER BY id LIMIT 1"
    ).fetchone()
    conn.execute("DELETE FROM dispute_invoices WHERE invoice_id IN "
                 "(SELECT id FROM invoices WHERE customer_id = ?)", (cid,))  # fmt: skip
    conn.execute("UPDATE invoices SET status = 'paid', open_minor = 0 WHERE customer_id = ?",
                 (cid,))  # fmt: skip
    conn.execute("DELETE FROM payments WHERE customer_id = ? AND invoice_id IS NULL", (cid,))
    for k in range(n):
        day = date.fromordinal(date(2025, 1, 1).toordinal() + 2 * k).isoformat()
        conn.execute(
            "INSERT INTO invoices (customer_id, number, issue_date, due_date, amount_minor, "
            "open_minor, currency, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (cid, f"BIG-{k:04d}", day, day, 1_000 + 137 * k, 1_000 + 137 * k, currency,
             "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
        )  # fmt: skip
    conn.commit()
    return ref


@pytest.mark.parametrize("n", [200, 230])  # a letter lists 200 items, a statement all
def test_a_200_invoice_account_spans_pages_with_the_header_on_each(demo, tmp_path, n):
    path = tmp_path / "big.db"
    shutil.copy(demo[0], path)
    conn = sqlite3.connect(path)
    ref = big_account(conn, n)
    st = statement_pdf(conn, ref, as_of=demo[1], settings=COMPANY, lang="en")
    texts = pages_text(st.data)
    assert len(texts) == st.pages and 4 <= st.pages <= 8
    joined = "\n".join(texts)
    for k in range(n):
        assert len(re.findall(rf"^BIG-{k:04d} ", joined, re.M)) == 1, k
    for page, text in enumerate(texts, 1):
        assert f"Page {page} of {st.pages}" in text
        # the table's header on every page that lists invoices
        if re.search(r"^BIG-\d{4} ", text, re.M):
            assert "Number Document Issue date Due date Days past" in text, page
    _, ctx = build_context(conn, ref, as_of=demo[1], settings=COMPANY, kind="statement")
    total = ctx["totals"][0]
    assert total["balance"] == sum(1_000 + 137 * k for k in range(n))
    assert format_money(total["balance"], total["currency"], st.locale) in joined
    conn.close()


def test_hostile_names_never_break_the_layout(demo, tmp_path):
    path = tmp_path / "hostile.db"
    shutil.copy(demo[0], path)
    conn = sqlite3.connect(path)
    ref = account(conn, "c.country = 'US'")
    settings = LetterSettings(company_name="X" * 2_000, address="line\n" * 50 + "Z" * 2_000)
    plain = statement_pdf(conn, ref, as_of=demo[1], settings=settings)
    hostile = "Evil\x1b]52;c;cGF5\x07\u202e\u200f Corp\r\nBcc: x@evil 東京 " + "W" * 10_000
    conn.execute("UPDATE customers SET name = ? WHERE external_ref = ?", (hostile, ref))
    conn.execute(
        "UPDATE invoices SET number = ? WHERE id = (SELECT MIN(i.id) FROM invoices i "
        "JOIN customers c ON c.id = i.customer_id WHERE c.external_ref = ? "
        "AND i.status = 'open' AND i.open_minor != 0)",
        ("N\x00" + "9" * 5_000 + "\u2066", ref),
    )
    conn.commit()
    st = statement_pdf(conn, ref, as_of=demo[1], settings=settings)
    assert st.pages == plain.pages  # nothing pushed the table onto another page
    text = pages_text(st.data)[0]
    assert "Evil]52;c;cGF5 Corp Bcc: x@evil \ufffd\ufffd WWW" in text  # one line, made harmless
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202e\u200f\u2066]", text)
    name_line = next(x for x in text.splitlines() if x.startswith("Evil"))
    assert name_line.endswith("…") and len(name_line) < 200
    assert re.search(r"^N9{5,60}… ", text, re.M)
    conn.close()


# ---- the command ------------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch, tmp_path, capsys):
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    config = tmp_path / "config.toml"
    config.write_text(
        '[letters]\ncompany_name = "Northwind Supply Co."\n'
        'address = "100 King Street West\\nToronto ON  M5X 1A9"\n'
        'payment_instructions = "Bank transfer: account 0012-3456789"\n',
        encoding="utf-8",
    )

    def go(*argv: str) -> tuple[int, str, str]:
        code = main(["--config", str(config), *argv], clock=FixedClock())
        out, err = capsys.readouterr()
        return code, out, err

    return go, work


def test_the_command_writes_a_private_pdf_and_refuses_to_overwrite(demo, cli):
    run, work = cli
    conn = sqlite3.connect(demo[0])
    ref = account(conn, "c.country = 'FR'")
    conn.close()
    code, out, err = run("--db", str(demo[0]), "statement", ref)
    assert code == 0, err
    made = work / f"statement-{ref}-{demo[1].isoformat()}.pdf"
    assert made.is_file() and stat.S_IMODE(made.stat().st_mode) == 0o600
    assert str(made.name) in out and "fr_FR" in out
    text = pages_text(made.read_bytes())[0]
    assert "Relevé de compte" in text and "Northwind Supply Co." in text
    assert "Bank transfer: account 0012-3456789" in text
    assert not list(work.glob("*.partial"))
    # an existing file is refused, untouched
    before = made.read_bytes()
    code, out, err = run("--db", str(demo[0]), "statement", ref, "--lang", "en")
    assert code == 1 and "exists" in err and "--force" in err and "Traceback" not in err
    assert made.read_bytes() == before
    code, out, err = run("--db", str(demo[0]), "statement", ref, "--lang", "en", "--force")
    assert code == 0, err
    assert "Statement of account" in pages_text(made.read_bytes())[0]
    # -o, --locale, --as-of
    dest = work / "sub.pdf"
    code, out, err = run("--db", str(demo[0]), "statement", ref, "-o", str(dest),
                         "--locale", "fr_CA", "--as-of", "2026-12-01")  # fmt: skip
    assert code == 0, err
    assert "2 décembre" not in (text := pages_text(dest.read_bytes())[0])
    assert "1 décembre 2026" in text and "(fr_CA)" in out


def test_the_command_refusals_are_one_line(demo, cli):
    run, work = cli
    code, out, err = run("--db", str(demo[0]), "statement", "NOPE")
    assert code == 1 and "no account 'NOPE'" in err and "Traceback" not in err
    assert not list(work.iterdir())
    code, out, err = run("--db", str(demo[0]), "statement", "C0000002", "--locale", "xx_QQ")
    assert code == 2 and "unknown locale 'xx_QQ'" in err
    code, out, err = run("--db", str(demo[0]), "statement", "C0000002", "--as-of", "someday")
    assert code == 2 and "--as-of" in err
    # someone the database does not know may not read an account
    code, out, err = run("--db", str(demo[0]), "--as", "ghost", "statement", "C0000002")
    assert code != 0 and "Traceback" not in err and not list(work.iterdir())
    # the database itself is never replaced
    code, out, err = run("--db", str(demo[0]), "statement", "C0000002", "-o", str(demo[0]),
                         "--force")  # fmt: skip
    assert code == 1 and "SQLite database" in err
    assert demo[0].read_bytes()[:16] == b"SQLite format 3\x00"


def test_the_command_in_a_real_process_speaks_the_collectors_language(demo, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUNNING_")}
    env.update(HOME=str(tmp_path), XDG_DATA_HOME=str(tmp_path / "data"),
               PYTHONPATH=str(Path(__file__).parents[1]))  # fmt: skip
    for who, message in (("bruno", "aucun compte 'NOPE'"), ("carmen", "no existe la cuenta")):
        proc = subprocess.run(
            [sys.executable, "-m", "dunning", "--db", str(demo[0]), "--as", who,
             "statement", "NOPE"],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 1, proc.stderr
        assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not list(tmp_path.glob("*.pdf"))


def test_the_fonts_and_words_ship_as_package_data():
    """pyproject's package-data globs cover the bundled fonts, their license and the
    statement's words; the layout reads the fonts from the package, never /usr/share."""
    import tomllib

    from dunning.letters import pdf_layout

    root = Path(__file__).parents[1]
    package = root / "dunning"
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = data["tool"]["setuptools"]["package-data"]["dunning"]
    covered = {p.resolve() for pattern in patterns for p in package.glob(pattern)}
    fonts = package / "letters" / "fonts"
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "LICENSE"):
        assert (fonts / name).resolve() in covered, name
    for lang in ("en", "fr", "es"):
        toml = package / "letters" / "templates" / lang / "statement_pdf.toml"
        assert toml.resolve() in covered
        assert set(words(lang)) == set(words("en"))  # every word in every language
    assert pdf_layout.FONTS.resolve() == fonts.resolve()
