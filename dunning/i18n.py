"""Translated labels (en, fr, es). Codes stay stable; only labels are translated.

Catalogs are gettext .po files under dunning/locale/<lang>/LC_MESSAGES/dunning.po, read
with babel at start-up (no compile step). ``_`` looks a message up in the active
language; a missing translation falls back to English.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
SUPPORTED = ("en", "fr", "es")

_active: dict[str, str] = {}


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
    global _active
    _active = _catalog(language_of(locale))


def _(message: str) -> str:
    return _active.get(message, message)


def N_(message: str) -> str:
    """Marks a message for extraction without translating it now."""
    return message
