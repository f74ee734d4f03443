"""Currency codes and symbols written beside an amount (``EUR 12,50``, ``$1,234.50``,
``1 234,50 €``, ``US$ 5``): checked against the row's currency, from babel's CLDR data,
so that ``€300`` on a USD row is refused instead of being stored as 300 dollars."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from babel import Locale
from babel.core import get_global
from babel.localedata import exists
from babel.numbers import get_currency_symbol, is_currency


def _sc(token: str) -> str:
    """The currency-symbol characters of a token: 'US$' -> '$'."""
    return "".join(ch for ch in token if unicodedata.category(ch) == "Sc")


@lru_cache(maxsize=256)
def _signs(currency: str, locale: str) -> frozenset[str]:
    """How the currency is written: its symbol in the import locale, in English and in
    its home country's languages (the ISO 4217 code starts with the country's code:
    CAD -> CA -> en_CA, fr_CA), plus the bare symbol characters ('CA$' -> '$')."""
    locales = [locale, "en"]
    home = currency[:2]
    spoken = get_global("territory_languages").get(home, {})
    official = [lang for lang, v in spoken.items() if v.get("official_status")]
    locales += [f"{lang}_{home}" for lang in official[:3] if exists(f"{lang}_{home}")]
    signs = {currency}
    for loc in locales:
        try:
            signs.add(" ".join(get_currency_symbol(currency, loc).split()))
        except Exception:  # noqa: BLE001 - an odd locale in the data: skip it
            continue
    signs |= {_sc(s) for s in signs if _sc(s)}
    return frozenset(signs)


@lru_cache(maxsize=8)
def _owners(locale: str) -> dict[str, str]:
    """symbol -> currency, in the import locale then English (first claim wins)."""
    owners: dict[str, str] = {}
    for loc in ("en", locale):
        try:
            symbols = Locale.parse(loc).currency_symbols
        except Exception:  # noqa: BLE001 - validated elsewhere; never fail here
            continue
        for code, sym in sorted(symbols.items()):
            owners.setdefault(sym, code)
    return owners


def check_sign(token: str, currency: str | None, locale: str) -> None:
    """ValueError when ``token`` (a code or symbol written beside an amount) is not a way
    of writing ``currency``; with no currency, when it is not a currency at all."""
    token = " ".join(token.split())  # no-break spaces as babel writes them: '$ US'
    if len(token) == 3 and token.isalpha() and token.isupper():
        if not is_currency(token):
            raise ValueError(f"{token!r} is not a currency code")
        if currency and token != currency:
            raise ValueError(f"the amount says {token}, the row's currency is {currency}")
        return
    sc = _sc(token)
    if currency is None:
        if sc:
            return
        raise ValueError("not an amount")
    signs = _signs(currency, locale)
    if token in signs:
        return
    letters = token[: len(token) - len(sc)] if sc and token.endswith(sc) else ""
    if sc in signs and letters.isalpha() and currency.startswith(letters.upper()):
        return  # US$ for USD, C$ for CAD, A$ for AUD
    other = _owners(locale).get(token)
    if other and other != currency:
        raise ValueError(f"{token!r} is {other}, the row's currency is {currency}")
    if sc or token.isupper():
        raise ValueError(f"{token!r} is not how {currency} is written")
    raise ValueError("not an amount")
