"""Money: integer minor units plus an ISO 4217 currency, never a float.

Formatting and parsing go through babel, which knows each currency's digits and each
locale's separators. Importable from every layer (a leaf module).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import (
    NumberFormatError,
    format_currency,
    get_currency_precision,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
    parse_decimal,
)

from dunning.i18n import _

# 10 trillion in a 2-decimal currency: any amount above is a typo (and far below SQLite's
# 2**63 limit, so a stored amount never overflows); imports and outcomes refuse it
MAX_MINOR = 10**15


@lru_cache(maxsize=64)
def minor_digits(currency: str) -> int:
    """2 for USD/EUR/CAD, 0 for JPY, 3 for KWD..."""
    return int(get_currency_precision(currency.upper()))


def to_minor(amount: Decimal | str | int, currency: str) -> int:
    """Decimal major units -> exact integer minor units; refuses sub-minor precision."""
    value = Decimal(amount) if not isinstance(amount, Decimal) else amount
    digits = minor_digits(currency)
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise ValueError(
            _("{amount} has more than {digits} decimals for {currency}").format(
                amount=amount, digits=digits, currency=currency
            )
        )
    return int(scaled)


def to_major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-minor_digits(currency))


def format_money(minor: int, currency: str, locale: str = "en_US") -> str:
    """'$1,234.50', '1 234,50 €' (fr_FR groups with U+202F), 'MX$1,234.50'...

    babel's ``format_currency``, or the same result from its pattern read once per
    currency and locale (:func:`_formatter`: 1.4 µs instead of 17, a letter shows a few
    amounts no other letter has)."""
    fast = _formatter(currency.upper(), locale) if type(minor) is int else None
    if fast is not None:
        return fast(minor)
    return format_currency(to_major(minor, currency), currency.upper(), locale=locale)


# amounts a formatter must write exactly as babel does before it is used
_PROBES = (0, 1, 7, 99, 100, 1005, 123456, 1234567, 98765432, 123456789012, MAX_MINOR)


@lru_cache(maxsize=256)
def _formatter(currency: str, locale: str) -> Callable[[int], str] | None:
    """``minor -> text`` for the locale's standard currency pattern, as babel's
    ``NumberPattern.apply`` writes it (prefix, integer part grouped by the pattern's
    primary and secondary sizes, the locale's decimal symbol and the currency's digits,
    suffix, the currency sign put in); None (babel for every amount) for a pattern this
    does not follow (scientific, significant digits, a scale, quoted text, a currency's
    plural name) or for any probe amount, positive or negative, written differently."""
    try:
        loc = Locale.parse(locale)
        pattern = loc.currency_formats["standard"]
        digits = minor_digits(currency)
        symbol = get_currency_symbol(currency, loc)
        decimal_symbol = get_decimal_symbol(loc)
        group = get_group_symbol(loc)
    except (UnknownLocaleError, ValueError, LookupError, TypeError, AttributeError):
        return None
    affixes = (*pattern.prefix, *pattern.suffix)
    if (
        pattern.exp_prec
        or pattern.scale
        or "@" in pattern.pattern
        or pattern.int_prec[0] != 1
        or any("¤¤¤" in a or "'" in a for a in affixes)
    ):
        return None
    prefix, suffix = (
        tuple(a.replace("¤¤", currency).replace("¤", symbol) for a in part)
        for part in (pattern.prefix, pattern.suffix)
    )
    first, then = pattern.grouping
    unit = 10**digits

    def fast(minor: int) -> str:
        negative = minor < 0
        whole, frac = divmod(-minor if negative else minor, unit)
        text = str(whole)
        if len(text) > first:
            parts = [text[-first:]]
            text = text[:-first]
            while len(text) > then:
                parts.append(text[-then:])
                text = text[:-then]
            parts.append(text)
            text = group.join(reversed(parts))
        if digits:
            text = f"{text}{decimal_symbol}{frac:0{digits}d}"
        return f"{prefix[negative]}{text}{suffix[negative]}"

    for probe in _PROBES:
        for value in (probe, -probe):
            if fast(value) != format_currency(to_major(value, currency), currency, locale=loc):
                return None
    return fast


def parse_amount(text: str, currency: str, locale: str = "en_US") -> int:
    """What a person types ("1 234,50", "1,234.50", "1234.5", "$12") -> minor units.

    Raises ValueError with a message that names the value.
    """
    raw = text.strip()
    for symbol in ("$", "€", "£", "¥", "MX", "CA", "US", currency.upper()):
        raw = raw.replace(symbol, "")
    raw = raw.replace("\u202f", " ").replace("\u00a0", " ").strip()
    if not raw:
        raise ValueError(_("an amount is required"))
    negative = raw.startswith("(") and raw.endswith(")")
    if negative:
        raw = raw[1:-1].strip()
    # ASCII digits and separators only: Decimal() would take "1e3", "1_000", "inf", "٣"
    if not _WRITTEN.fullmatch(raw):
        raise ValueError(_("{value!r} is not an amount").format(value=text))
    try:
        value = _parse_with_locale(raw, locale)
    except (NumberFormatError, InvalidOperation, ValueError):
        value = _unambiguous(raw)
        if value is None:
            raise ValueError(_("{value!r} is not an amount").format(value=text)) from None
    if negative:
        value = -value
    try:
        return to_minor(value, currency)
    except ValueError as exc:
        raise ValueError(_("{value!r}: {error}").format(value=text, error=exc)) from exc


_WRITTEN = re.compile(r"-?[0-9][0-9 .,]*|-?[.,][0-9]+")
# Written the other way from the collector's locale, but only one way to read it: a
# French "1 234,50" for an en_CA collector, an English "1,234.50" for fr_CA.
_COMMA_DECIMAL = re.compile(r"-?\d{1,3}(?:[ .]\d{3})*,\d{2}")
_DOT_DECIMAL = re.compile(r"-?\d{1,3}(?:[ ,]\d{3})*\.\d{2}")


def _unambiguous(raw: str) -> Decimal | None:
    if _COMMA_DECIMAL.fullmatch(raw):
        return Decimal(raw.replace(" ", "").replace(".", "").replace(",", "."))
    if _DOT_DECIMAL.fullmatch(raw):
        return Decimal(raw.replace(" ", "").replace(",", ""))
    return None


def _parse_with_locale(raw: str, locale: str) -> Decimal:
    compact = raw.replace(" ", "")
    # A plain "1234.56" is what most people type whatever their locale.
    try:
        if compact.count(".") <= 1 and "," not in compact:
            return Decimal(compact)
    except InvalidOperation:
        pass
    # Strict: a misplaced separator ("12,3.4" in en_US) is refused, not guessed at.
    group = get_group_symbol(locale)
    if group.isspace():  # fr_FR U+202F, fr_CA U+00A0: a typed space means the same
        raw = raw.replace(" ", group)
    return parse_decimal(raw, locale=locale, strict=True)
