"""Letters (issue 10, item 1): every kind rendered in en/fr/es against a demo portfolio and
compared with golden files; locale differences; hostile names; the sandbox.

Golden files: tests/letters_golden/<kind>.<lang>.txt (subject, then the text body) and
.html. After an intended change to a template, rewrite them with
``DUNNING_UPDATE_GOLDEN=1 pytest tests/test_letters.py`` and read the diff.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from dunning.clock import FixedClock, today
from dunning.demo.build import build_demo
from dunning.letters.check import sample_accounts
from dunning.letters.context import NothingToWrite, build_context
from dunning.letters.kinds import KINDS, LANGUAGES
from dunning.letters.render import TemplateProblem, Templates, locale_for
from dunning.letters.settings import LetterSettings

GOLDEN = Path(__file__).parent / "letters_golden"
UPDATE = os.environ.get("DUNNING_UPDATE_GOLDEN") == "1"
COMPANY = LetterSettings(
    company_name="Northwind Supply Co.",
    address="100 King Street West\nToronto ON  M5X 1A9\nCanada",
    phone="+1 416 555 0100",
    email="ar@northwind.example",
    payment_instructions="Bank transfer: Northwind Supply Co., account 0012-3456789",
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, date]:
    path = tmp_path_factory.mktemp("letters") / "demo.db"
    clock = FixedClock()
    build_demo(path, customers=300, clock=clock)
    return path, today(clock)


@pytest.fixture
def demo_conn(demo):
    conn = sqlite3.connect(demo[0])
    yield conn
    conn.close()


def _golden(name: str, got: str) -> None:
    path = GOLDEN / name
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"{path} missing: run with DUNNING_UPDATE_GOLDEN=1 to write it")
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_in_every_language_matches_its_golden_file(demo, demo_conn, kind, lang):
    refs = sample_accounts(demo_conn, kind, demo[1])
    langs = dict(demo_conn.execute("SELECT external_ref, language FROM customers"))
    ref = next((r for r in refs if langs[r] == lang), refs[0])  # a customer of that language
    locale, ctx = build_context(demo_conn, ref, as_of=demo[1], settings=COMPANY, kind=kind)
    locale = locale_for(lang, locale.split("_")[1])
    out = Templates().render(kind, locale, ctx)
    _golden(f"{kind}.{lang}.txt", f"{out.subject}\n\n{out.text}")
    _golden(f"{kind}.{lang}.html", out.html)
    assert "\n" not in out.subject and out.subject
    assert out.html.startswith("<!DOCTYPE html>") and f'lang="{lang}"' in out.html


def _context(demo_conn, demo, currency: str, kind: str = "reminder_1") -> dict:
    """A reminder's context with one overdue invoice of 1,234,567.89 in ``currency``."""
    ref = sample_accounts(demo_conn, kind, demo[1])[0]
    _, ctx = build_context(demo_conn, ref, as_of=demo[1], settings=COMPANY, kind=kind)
    item = {
        **ctx["overdue"][0],
        "open": 123456789,
        "currency": currency,
        "due_date": date(2026, 10, 5),
    }
    ctx["overdue"] = [item]
    ctx["totals"] = [{"currency": currency, "overdue": 123456789, "balance": 0, "disputed": 0}]
    return ctx


def test_fr_ca_and_fr_fr_differ_in_money_and_dates(demo, demo_conn):
    t = Templates()
    ctx = _context(demo_conn, demo, "CAD")
    ca = t.render("reminder_1", "fr_CA", ctx).text
    fr = t.render("reminder_1", "fr_FR", ctx).text
    assert "1\u00a0234\u00a0567,89\u00a0$" in ca  # Quebec: no-break spaces, "$"
    assert "1\u202f234\u202f567,89\u00a0$CA" in fr  # France: narrow no-break, "$CA"
    assert "2026-10-05" in ca and "05/10/2026" in fr
    assert "rappelons amicalement" in ca and "rappelons amicalement" in fr


def test_es_mx_and_es_es_differ_in_money_and_dates(demo, demo_conn):
    t = Templates()
    ctx = _context(demo_conn, demo, "EUR")
    mx = t.render("reminder_1", "es_MX", ctx).text
    es = t.render("reminder_1", "es_ES", ctx).text
    assert "EUR\u00a01,234,567.89" in mx or "EUR1,234,567.89" in mx
    assert "1.234.567,89\u00a0€" in es
    assert "05/10/26" in mx and "5/10/26" in es
    assert "Le recordamos" in mx and "Le recordamos" in es


def test_a_customer_is_written_in_its_language_and_country(demo_conn, demo):
    rows = dict(
        demo_conn.execute(
            "SELECT language || '_' || country, external_ref FROM customers GROUP BY 1"
        ).fetchall()
    )
    for expected in ("fr_CA", "fr_FR", "es_MX", "es_ES", "en_GB"):
        locale, _ = build_context(demo_conn, rows[expected], as_of=demo[1], settings=COMPANY)
        assert locale == expected
    assert locale_for("de", "DE") == "en_DE"  # no German texts: English, German formats
    assert locale_for("fr", "ZZ") == "fr_FR"


def test_consumer_letters_carry_the_opt_out_line_and_business_ones_do_not(demo, demo_conn):
    refs = dict(
        demo_conn.execute(
            "SELECT portfolio, external_ref FROM customers c WHERE language = 'en' AND EXISTS "
            "(SELECT 1 FROM invoices i WHERE i.customer_id = c.id AND i.status = 'open') "
            "GROUP BY portfolio"
        ).fetchall()
    )
    t = Templates()
    for kind in ("reminder_1", "reminder_4", "statement"):
        for portfolio, ref in refs.items():
            locale, ctx = build_context(demo_conn, ref, as_of=demo[1], settings=COMPANY)
            out = t.render(kind, locale, ctx)
            line = "To stop receiving e-mails from us about this account, reply"
            assert (line in out.text) == (portfolio == "consumer")
            assert (line in out.html) == (portfolio == "consumer")
            assert "ar@northwind.example" in out.text


def test_reminders_leave_disputed_invoices_out(demo, demo_conn):
    ref, number = demo_conn.execute(
        "SELECT c.external_ref, i.number FROM invoices i JOIN customers c ON c.id = i.customer_id "
        "WHERE i.disputed = 1 AND i.status = 'open' LIMIT 1"
    ).fetchone()
    locale, ctx = build_context(demo_conn, ref, as_of=demo[1], settings=COMPANY)
    t = Templates()
    for level in (1, 2, 3, 4):
        assert number not in t.render(f"reminder_{level}", locale, ctx).text
    statement = t.render("statement", locale, ctx).text
    assert number in statement  # the statement lists it, marked in dispute


def test_final_demand_and_pre_legal_notice_give_a_date(demo, demo_conn):
    ref = sample_accounts(demo_conn, "reminder_3", demo[1])[0]
    settings = LetterSettings(final_demand_days=14, pre_legal_days=21)
    _, ctx = build_context(
        demo_conn, ref, as_of=date(2026, 11, 23), settings=settings, kind="reminder_3"
    )
    assert "December 7, 2026" in Templates().render("reminder_3", "en_US", ctx).subject
    _, ctx = build_context(
        demo_conn, ref, as_of=date(2026, 11, 23), settings=settings, kind="reminder_4"
    )
    assert "December 14, 2026" in Templates().render("reminder_4", "en_US", ctx).text


def test_a_kind_refuses_an_account_without_what_it_confirms(demo, demo_conn):
    ref = demo_conn.execute(
        "SELECT external_ref FROM customers c WHERE NOT EXISTS "
        "(SELECT 1 FROM disputes d WHERE d.customer_id = c.id) LIMIT 1"
    ).fetchone()[0]
    with pytest.raises(NothingToWrite):
        build_context(
            demo_conn, ref, as_of=demo[1], settings=COMPANY, kind="dispute_acknowledgement"
        )


def test_hostile_names_reach_neither_the_text_nor_the_html(demo, demo_conn, tmp_path):
    ref = sample_accounts(demo_conn, "reminder_1", demo[1])[0]
    hostile = "Evil\x1b]52;c;cGF5\x07 <script>alert(1)</script>\u202e\r\nBcc: x@evil"
    demo_conn.execute("UPDATE customers SET name = ? WHERE external_ref = ?", (hostile, ref))
    demo_conn.execute(
        "UPDATE contacts SET name = ? WHERE customer_id = "
        "(SELECT id FROM customers WHERE external_ref = ?)",
        ("Bob\x9b31m & <b>Co</b>", ref),
    )
    demo_conn.execute(
        "UPDATE invoices SET number = 'INV\x1b[2J<img src=x>' WHERE id = (SELECT i.id FROM "
        "invoices i JOIN customers c ON c.id = i.customer_id WHERE c.external_ref = ? AND "
        "i.status = 'open' AND i.disputed = 0 ORDER BY i.due_date LIMIT 1)",
        (ref,),
    )
    locale, ctx = build_context(demo_conn, ref, as_of=demo[1], settings=COMPANY)
    out = Templates().render("statement", locale, ctx)
    for part in (out.subject, out.text, out.html):
        for bad in ("\x1b", "\x07", "\x9b", "\u202e", "\r"):
            assert bad not in part
    assert "Evil]52;c;cGF5 <script>alert(1)</script> Bcc: x@evil" in out.text
    assert "<script>" not in out.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in out.html
    assert "<img" not in out.html and "INV[2J&lt;img src=x&gt;" in out.html
    assert "&lt;b&gt;Co&lt;/b&gt;" in out.html and "<b>Co" not in out.html
    # a name never adds a line (no fake "Bcc:" line in a body)
    assert not any(line.startswith("Bcc:") for line in out.text.splitlines())


def _override(tmp_path: Path, name: str, text: str | bytes) -> Path:
    folder = tmp_path / "templates"
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return folder


def test_an_override_replaces_a_built_in_template(demo, demo_conn, tmp_path):
    folder = _override(tmp_path, "fr/reminder_1.subject", "Petit rappel, {{ customer.name }}\n")
    _override(tmp_path, "fr/reminder_1.html", "<p>\x1b]0;x\x07{{ customer.name }}\u202e</p>\n")
    ref = sample_accounts(demo_conn, "reminder_1", demo[1])[0]
    _, ctx = build_context(demo_conn, ref, as_of=demo[1], settings=COMPANY)
    t = Templates(folder)
    out = t.render("reminder_1", "fr_CA", ctx)
    assert out.subject == f"Petit rappel, {ctx['customer']['name']}"
    assert "Rappel amical" not in out.subject
    assert "Nous vous rappelons amicalement" in out.text  # the body is still built-in
    assert out.html == f"<p>]0;x{ctx['customer']['name']}</p>\n"  # the override's ESC, BEL
    # and RLO never leave dunning
    assert t.render("reminder_1", "en_US", ctx).subject.startswith("Friendly reminder")


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("Hello\n\n{{ customer.nmae }}\n", 3, "nmae"),
        ("Hello\n{% if customer.name %}\nno end\n", 3, "syntax error"),
        ("{{ ''.__class__.__mro__ }}\n", 1, "__class__"),
        ("{{ lipsum.__globals__ }}\n", 1, "unsafe"),
        ("A\n{{ 12|money('USD', 'x') }}\n", 2, "money"),
    ],
)
def test_a_broken_override_is_refused_with_its_file_and_line(
    demo, demo_conn, tmp_path, text, line, says
):
    folder = _override(tmp_path, "en/reminder_2.txt", text)
    ref = sample_accounts(demo_conn, "reminder_2", demo[1])[0]
    _, ctx = build_context(demo_conn, ref, as_of=demo[1], settings=COMPANY)
    with pytest.raises(TemplateProblem) as caught:
        Templates(folder).render("reminder_2", "en_US", ctx)
    problem = caught.value
    assert problem.file == str(folder / "en" / "reminder_2.txt")
    assert problem.line == line
    assert says in str(problem)
    assert str(problem).startswith(f"{folder / 'en' / 'reminder_2.txt'}:{line}: ")


def test_an_override_that_is_not_utf8_or_too_large_is_refused(demo, demo_conn, tmp_path):
    folder = _override(tmp_path, "es/statement.html", b"caf\xe9 {{ customer.name }}")
    ref = sample_accounts(demo_conn, "statement", demo[1])[0]
    _, ctx = build_context(demo_conn, ref, as_of=demo[1], settings=COMPANY)
    with pytest.raises(TemplateProblem, match=r"es/statement\.html: not UTF-8"):
        Templates(folder).render("statement", "es_ES", ctx)
    _override(tmp_path, "es/statement.html", "x" * (256 * 1024 + 1))
    with pytest.raises(TemplateProblem, match="too large"):
        Templates(folder).render("statement", "es_ES", ctx)
