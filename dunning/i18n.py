"""Translated labels (en, fr, es). Codes stay stable; only labels are translated.

Catalogs are gettext .po files under dunning/locale/<lang>/LC_MESSAGES/dunning.po, read
with babel at start-up (no compile step). ``_`` looks a message up in the active
language; a missing translation falls back to English.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import IO

LOCALE_DIR = Path(__file__).parent / "locale"
SUPPORTED = ("en", "fr", "es")

_active: dict[str, str] = {}
_language = "en"
_locale = "en_US"  # for dates in messages: the locale set with the language


@lru_cache(maxsize=8)
def _catalog(lang: str) -> dict[str, str]:
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "dunning.po"
    if lang == "en" or not path.exists():
        return {}
    from babel.messages.pofile import read_po

    with path.open("rb") as fh:
        cat = read_po(fh, locale=lang)
    return {str(m.id): str(m.string) for m in cat if m.id and m.string and not m.fuzzy}


def language_of(locale: str) -> str:
    lang = locale.replace("-", "_").split("_")[0].lower()
    return lang if lang in SUPPORTED else "en"


def set_language(locale: str) -> None:
    global _active, _language, _locale
    _language = language_of(locale)
    _active = _catalog(_language)
    norm = locale.replace("-", "_")
    lang = _language
    _locale = norm if norm.split("_")[0].lower() == lang else ("en_US" if lang == "en" else lang)


def current_language() -> str:
    """The language messages are shown in now ('en', 'fr', 'es')."""
    return _language


def day_text(day: date) -> str:
    """A date inside a message, as the active locale writes it ("Dec 1, 2026",
    "1 déc. 2026", "1 dic 2026")."""
    from babel.core import UnknownLocaleError
    from babel.dates import format_date

    try:
        return format_date(day, "medium", locale=_locale or "en_US")
    except (UnknownLocaleError, ValueError):
        return format_date(day, "medium", locale="en_US")


def _(message: str) -> str:
    return _active.get(message, message)


def N_(message: str) -> str:
    """Marks a message for extraction without translating it now."""
    return message


def extract_python(
    fileobj: IO[bytes],
    keywords: Mapping[str, object],
    comment_tags: Collection[str],
    options: Mapping[str, object],
) -> Iterator[tuple[int, str, str, list[str]]]:
    """A babel extraction method that also finds ``_()`` inside f-strings.

    Babel's own Python extractor tokenizes; on Python 3.11 an f-string is one token, so
    ``f"{_('assigned to')} ..."`` would be missed. This walks the AST instead, which sees
    every call on every supported Python. Wired in by dunning/locale/babel.cfg.
    """
    import ast

    source = fileobj.read().decode(str(options.get("encoding", "utf-8")))
    lines = source.splitlines()
    found: list[tuple[int, str, str, list[str]]] = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if node.func.id not in keywords or not node.args:
            continue
        arg = node.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value:
            found.append(
                (node.lineno, node.func.id, arg.value, _comments(lines, node.lineno, comment_tags))
            )
    yield from sorted(found, key=lambda m: m[0])


def _comments(lines: list[str], lineno: int, tags: Collection[str]) -> list[str]:
    """A ``# TRANSLATORS: ...`` comment on the line just above the call."""
    if not tags or lineno < 2:
        return []
    above = lines[lineno - 2].strip()
    if above.startswith("#"):
        text = above.lstrip("#").strip()
        if any(text.startswith(tag) for tag in tags):
            return [text]
    return []
