"""Catalogs: complete, well-formed, placeholders intact, and wired into `_()`.

How to add a string or refresh the catalogs: docs/I18N.md.
"""

from __future__ import annotations

import ast
import io
import string
import tomllib
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from dunning import i18n
from dunning.i18n import _, extract_python, language_of, set_language

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "dunning"
LOCALE = PACKAGE / "locale"
POT = LOCALE / "dunning.pot"
LANGS = ("fr", "es")


def _read(path: Path, locale: str | None = None):  # noqa: ANN202
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def _pot_ids() -> list[str]:
    return [str(m.id) for m in _read(POT) if m.id]


def _po(lang: str):  # noqa: ANN202
    return _read(LOCALE / lang / "LC_MESSAGES" / "dunning.po", locale=lang)


def _fields(text: str) -> Counter[tuple[str, str | None, str]]:
    """Every `{name!conv:spec}` in a str.format string, with repeats."""
    return Counter(
        (name, conv, spec or "")
        for _lit, name, spec, conv in string.Formatter().parse(text)
        if name is not None
    )


@pytest.fixture(autouse=True)
def _english_after() -> object:
    yield
    set_language("en")


def test_pot_is_current_with_the_source() -> None:
    """Every literal passed to _() or N_() under dunning/ is in the template, including
    those inside f-strings (babel's tokenizer misses them on Python 3.11)."""
    marked: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("_", "N_")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
                and node.args[0].value
            ):
                marked.add(node.args[0].value)
    missing = sorted(marked - set(_pot_ids()))
    assert not missing, f"run the pybabel extract/update commands in docs/I18N.md: {missing}"


@pytest.mark.parametrize("lang", LANGS)
def test_po_parses_and_matches_the_template(lang: str) -> None:
    cat = _po(lang)
    assert str(cat.locale) == lang
    ids = [str(m.id) for m in cat if m.id]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(_pot_ids()), "run pybabel update (docs/I18N.md)"
    assert not list(cat.obsolete), "drop obsolete entries: pybabel update --ignore-obsolete"


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_translated_not_fuzzy(lang: str) -> None:
    cat = _po(lang)
    untranslated = [str(m.id) for m in cat if m.id and not str(m.string).strip()]
    fuzzy = [str(m.id) for m in cat if m.id and m.fuzzy]
    assert not untranslated, f"{lang}: untranslated {untranslated}"
    assert not fuzzy, f"{lang}: fuzzy {fuzzy}"


@pytest.mark.parametrize("lang", LANGS)
def test_placeholders_and_edges_match(lang: str) -> None:
    for m in _po(lang):
        if not m.id:
            continue
        msgid, msgstr = str(m.id), str(m.string)
        assert _fields(msgstr) == _fields(msgid), f"{lang}: {msgid!r} -> {msgstr!r}"
        # "Call " and "Why next: " are followed by text on screen: keep the space.
        assert msgstr.startswith(" ") == msgid.startswith(" "), f"{lang}: {msgid!r}"
        assert msgstr.endswith(" ") == msgid.endswith(" "), f"{lang}: {msgid!r}"
        assert ("\n" in msgstr) == ("\n" in msgid), f"{lang}: {msgid!r}"


def test_footer_labels_stay_short() -> None:
    from dunning.tui.screens.work import WorkScreen

    shown = [b.description for b in WorkScreen.BINDINGS if getattr(b, "show", True)]
    assert shown
    for lang in LANGS:
        set_language(lang)
        for label in shown:
            assert len(_(label)) <= 14, f"{lang}: footer label {label!r} -> {_(label)!r}"


def test_set_language_french_canada() -> None:
    set_language("fr_CA")
    assert _("No answer") == "Pas de réponse"
    assert _("Promise to pay") == "Promesse de paiement"
    assert _("{days} days past due").format(days=3) == "3 jours de retard"


def test_set_language_spanish_with_dash() -> None:
    set_language("es-MX")
    assert _("No answer") == "Sin respuesta"
    assert _("Skip") == "Omitir"


@pytest.mark.parametrize("locale", ["de_DE", "pt_BR", "", "en_CA", "xx"])
def test_unknown_locale_falls_back_to_english(locale: str) -> None:
    set_language("fr_CA")
    set_language(locale)
    assert language_of(locale) == "en"
    assert _("No answer") == "No answer"


def test_unknown_message_falls_back_to_english() -> None:
    set_language("fr")
    assert _("not in any catalog") == "not in any catalog"


def test_extractor_finds_calls_inside_f_strings() -> None:
    src = (
        "# TRANSLATORS: shown after the name\n"
        "x = f\"{_('assigned to')} {who}\"\n"
        "y = N_('Plain')\n"
        "z = _(name)\n"
    )
    got = list(
        extract_python(io.BytesIO(src.encode()), {"_": None, "N_": None}, ["TRANSLATORS:"], {})
    )
    assert [(n, fn, msg) for n, fn, msg, _c in got] == [
        (2, "_", "assigned to"),
        (3, "N_", "Plain"),
    ]
    assert got[0][3] == ["TRANSLATORS: shown after the name"]


def test_po_files_ship_as_package_data() -> None:
    """pyproject's package-data globs (relative to the dunning package) cover the .po files."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = data["tool"]["setuptools"]["package-data"]["dunning"]
    covered = {p.resolve() for pattern in patterns for p in PACKAGE.glob(pattern)}
    for lang in LANGS:
        po = (LOCALE / lang / "LC_MESSAGES" / "dunning.po").resolve()
        assert po in covered
    assert i18n.LOCALE_DIR == LOCALE
