"""The built-in letters as layouts with blocks (round 11): each language's shared pieces
(``<lang>/_letter.txt``, ``_letter.html``; the reminders' ``_reminder.txt``, ``.html``) in
every branch the golden files do not take (a contact line with only an e-mail or nothing,
no payment instructions or address, a collector's note, a custom opt-out, more rows than
shown); an override of a layout; a broken layout named by its file and line; no macro
module built per render; a dict key named like a dict method."""

from __future__ import annotations

import cProfile
import pstats
import sqlite3
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from dunning.clock import FixedClock, today
from dunning.demo.build import build_demo
from dunning.letters.check import sample_accounts
from dunning.letters.context import build_context
from dunning.letters.kinds import KINDS, LANGUAGES
from dunning.letters.render import BUILTIN, TemplateProblem, Templates, locale_for
from dunning.letters.settings import LetterSettings

FULL = LetterSettings(
    company_name="Northwind Supply Co.",
    address="100 King Street West\nToronto ON  M5X 1A9",
    phone="+1 416 555 0100",
    email="ar@northwind.example",
    payment_instructions="Bank transfer: account 0012-3456789",
)
# per language: the contact line's three branches, the how-to-pay heading, the remit-to
# label, the "more rows" line for 7 more, the signature's first word
WORDS = {
    "en": (
        "Questions? Call us at +1 416 555 0100 or write to ar@northwind.example.",
        "Questions? Write to ar@mail.example.",
        "Questions? Reply to this message.",
        "How to pay",
        "Remit to:",
        "... and 7 more",
        "Sincerely,",
    ),
    "fr": (
        "Des questions ? Appelez-nous au +1 416 555 0100 ou écrivez à ar@northwind.example.",
        "Des questions ? Écrivez à ar@mail.example.",
        "Des questions ? Répondez à ce message.",
        "Comment payer",
        "Paiement à l’ordre de :",
        "... et 7 de plus",
        "Cordialement,",
    ),
    "es": (
        "¿Preguntas? Llámenos al +1 416 555 0100 o escriba a ar@northwind.example.",
        "¿Preguntas? Escriba a ar@mail.example.",
        "¿Preguntas? Responda a este mensaje.",
        "Cómo pagar",
        "Pagar a:",
        "... y 7 más",
        "Atentamente,",
    ),
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, date]:
    path = tmp_path_factory.mktemp("layouts") / "demo.db"
    clock = FixedClock()
    build_demo(path, customers=300, clock=clock)
    return path, today(clock)


@pytest.fixture
def conn(demo):
    conn = sqlite3.connect(demo[0])
    yield conn
    conn.close()


def _context(conn, demo, kind: str, settings: LetterSettings, *, consumer: bool) -> dict:
    refs = sample_accounts(conn, kind, demo[1])
    portfolio = dict(conn.execute("SELECT external_ref, portfolio FROM customers"))
    ref = next(r for r in refs if (portfolio[r] == "consumer") == consumer)
    _, ctx = build_context(conn, ref, as_of=demo[1], settings=settings, kind=kind)
    return ctx


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_shared_pieces_take_every_branch_in_every_language(demo, conn, lang):
    both, email_only, neither, heading, remit, more, signature = WORDS[lang]
    t = Templates()
    locale = locale_for(lang, "CA")
    ctx = _context(conn, demo, "reminder_1", FULL, consumer=True)
    out = t.render("reminder_1", locale, ctx)
    assert both in out.text and heading in out.text and signature in out.text
    assert "100 King Street West" in out.text and remit in out.text
    assert more not in out.text and "Bank transfer" in out.html

    bare = _context(
        conn, demo, "reminder_1", LetterSettings(company_name="Bare Co."), consumer=True
    )
    out = t.render("reminder_1", locale, {**bare, "overdue_more": 7})
    assert neither in out.text and neither in out.html
    assert heading in out.text  # the account number to quote is always there
    assert "Bank transfer" not in out.text and "King Street" not in out.text
    assert remit not in out.text and more in out.text and more in out.html

    mail = LetterSettings(company_name="Mail Co.", email="ar@mail.example")
    note = "Called on 3 December: <b>she</b> will pay Friday.\nSecond line"
    out = t.render(
        "reminder_1",
        locale,
        {**_context(conn, demo, "reminder_1", mail, consumer=False), "note": note},
    )
    assert email_only in out.text
    assert '<a href="mailto:ar@mail.example">ar@mail.example</a>' in out.html
    assert f"\n\n{note}\n\n{signature}" in out.text
    assert (
        '<p style="white-space:pre-line">Called on 3 December: &lt;b&gt;she&lt;/b&gt;' in out.html
    )
    assert "ar@mail.example." in out.text and "<hr>" not in out.html  # a business: no opt-out

    opt = replace(FULL, opt_out="write to Opt-Out Desk, PO Box 12")
    out = t.render("statement", locale, _context(conn, demo, "statement", opt, consumer=True))
    assert "write to Opt-Out Desk, PO Box 12" in out.text and "<hr>" in out.html

    # the dispute acknowledgement leaves out how to pay, and only that
    out = t.render(
        "dispute_acknowledgement",
        locale,
        _context(conn, demo, "dispute_acknowledgement", FULL, consumer=True),
    )
    assert heading not in out.text and heading not in out.html
    assert both in out.text and signature in out.text and "Bank transfer" not in out.text


def test_no_macro_module_is_built_when_a_letter_is_rendered(demo, conn):
    t = Templates()
    ctx = _context(conn, demo, "reminder_1", FULL, consumer=True)
    t.render("reminder_1", "en_US", ctx)  # compiled and cached
    profile = cProfile.Profile()
    profile.enable()
    for kind in ("reminder_1", "statement"):
        t.render(kind, "fr_CA", _context(conn, demo, kind, FULL, consumer=True))
    profile.disable()
    called = {name for (_, _, name) in pstats.Stats(profile).stats}  # type: ignore[attr-defined]
    assert "make_module" not in called and "_invoke" not in called  # import, Macro.__call__
    assert "root" in called  # the profile did see the templates run
    for path in BUILTIN.glob("*/*"):
        if path.suffix in (".txt", ".html", ".subject"):
            text = path.read_text(encoding="utf-8")
            assert "{% import" not in text and "{% macro" not in text, path


def _override(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_an_overridden_layout_changes_the_shared_piece_of_every_kind(demo, conn, tmp_path):
    built_in = (BUILTIN / "fr" / "_letter.html").read_text(encoding="utf-8")
    assert "Cordialement" in built_in
    _override(tmp_path, "fr/_letter.html", built_in.replace("Cordialement", "Bien à vous"))
    t = Templates(tmp_path)
    for kind in KINDS:
        ctx = _context(conn, demo, kind, FULL, consumer=False)
        out = t.render(kind, "fr_FR", ctx)
        assert "Bien à vous" in out.html and "Cordialement" not in out.html, kind
        assert "Cordialement" in out.text  # the text layout is still the built-in one
        assert "Sincerely" in t.render(kind, "en_US", ctx).html
    names = [name for name, _ in t.sources("fr", "reminder_3", "html")]
    assert names == ["fr/reminder_3.html", "fr/_reminder.html", "fr/_letter.html"]
    assert t.sources("fr", "reminder_3", "html")[2][1] == tmp_path / "fr" / "_letter.html"


@pytest.mark.parametrize(
    ("name", "old", "new", "says"),
    [
        ("fr/_letter.html", "{{ collector.name }}<br>", "{{ collector.nmae }}<br>", "nmae"),
        ("es/_reminder.txt", "{% for t in totals if", "{% for t in totalz if", "totalz"),
        ("en/_letter.txt", "{% if note %}", "{% iff note %}", "syntax error"),
        ("fr/_letter.txt", "{{ customer.ref }}", "{{ customer.ref.__class__ }}", "not allowed"),
    ],
)
def test_a_broken_layout_is_named_by_its_file_and_line(demo, conn, tmp_path, name, old, new, says):
    built_in = (BUILTIN / name).read_text(encoding="utf-8")
    line = built_in[: built_in.index(old)].count("\n") + 1
    path = _override(tmp_path, name, built_in.replace(old, new, 1))
    ctx = _context(conn, demo, "reminder_2", FULL, consumer=True)
    with pytest.raises(TemplateProblem) as caught:
        Templates(tmp_path).render("reminder_2", locale_for(name[:2], "CA"), ctx)
    assert (caught.value.file, caught.value.line) == (str(path), line)
    assert says in str(caught.value)
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_a_dict_key_named_like_a_dict_method_is_the_value(demo, conn, tmp_path):
    ctx = _context(conn, demo, "reminder_1", FULL, consumer=True)
    ctx["customer"] = {**ctx["customer"], "items": "three items", "keys": "two keys"}
    _override(tmp_path, "en/reminder_1.subject", "{{ customer.items }}, {{ customer.keys }}\n")
    assert Templates(tmp_path).render("reminder_1", "en_US", ctx).subject == "three items, two keys"
    # a missing key is still an undefined name, naming it; an object's internals are refused
    for text, says in (
        ("{{ customer.nmae }}\n", "undefined name: 'dict object' has no attribute 'nmae'"),
        ("{{ customer.__class__ }}\n", "not allowed in a template"),
        ("{{ customer.name.__class__.__mro__ }}\n", "not allowed in a template"),
        ("{{ overdue.__len__ }}\n", "not allowed in a template"),
    ):
        _override(tmp_path, "en/reminder_1.subject", text)
        with pytest.raises(TemplateProblem, match=says):
            Templates(tmp_path).render("reminder_1", "en_US", ctx)
    # a dict's own methods still work where it has no such key
    _override(tmp_path, "en/reminder_1.subject", "{{ company.items()|list|length > 0 }}\n")
    assert Templates(tmp_path).render("reminder_1", "en_US", ctx).subject == "True"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_dispute_acknowledgement_with_an_overdue_balance_keeps_its_paragraphs(demo, conn, lang):
    """The line about the undisputed overdue balance is a paragraph of its own: a blank
    line before the contact line (it ran into it before round 11)."""
    both = WORDS[lang][0]
    ctx = _context(conn, demo, "dispute_acknowledgement", FULL, consumer=True)
    ctx = {
        **ctx,
        "totals": [{"currency": "CAD", "overdue": 12345, "balance": 12345, "disputed": 0}],
    }
    text = Templates().render("dispute_acknowledgement", locale_for(lang, "CA"), ctx).text
    before, _, _ = text.partition(both)
    assert before.endswith(".\n\n"), before[-120:]
    assert "123,45" in before or "123.45" in before
