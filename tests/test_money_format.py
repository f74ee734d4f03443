"""format_money's fast path (dunning/money.py ``_formatter``): the locale's currency pattern
read once, written exactly as babel's ``format_currency`` writes every amount."""

from __future__ import annotations

from babel.numbers import format_currency
from hypothesis import given
from hypothesis import strategies as st

from dunning.money import MAX_MINOR, _formatter, format_money, to_major

LOCALES = ["en_US", "en_CA", "fr_CA", "fr_FR", "es_ES", "es_MX", "en_GB", "en_IN", "de_DE",
           "de_CH", "nl_NL", "ar_EG", "he_IL", "ja_JP", "pt_BR", "hi_IN"]  # fmt: skip
CURRENCIES = ["USD", "CAD", "EUR", "MXN", "GBP", "JPY", "KWD", "INR", "CHF"]


@given(
    minor=st.integers(-MAX_MINOR, MAX_MINOR),
    locale=st.sampled_from(LOCALES),
    currency=st.sampled_from(CURRENCIES),
)
def test_every_amount_is_written_as_babel_writes_it(minor: int, locale: str, currency: str) -> None:
    assert format_money(minor, currency, locale) == format_currency(
        to_major(minor, currency), currency, locale=locale
    )


def test_the_common_locales_take_the_fast_path_and_an_odd_pattern_does_not() -> None:
    for locale in ("en_US", "en_CA", "fr_CA", "fr_FR", "es_ES", "es_MX", "en_IN", "ja_JP"):
        for currency in ("USD", "CAD", "EUR", "MXN", "JPY", "KWD"):
            assert _formatter(currency, locale) is not None, (locale, currency)
    assert format_money(123456789, "CAD", "fr_CA") == "1\xa0234\xa0567,89\xa0$"
    assert format_money(-123456789, "INR", "en_IN") == "-₹12,34,567.89"
    assert format_money(1234, "JPY", "ja_JP") == "￥1,234"
    assert format_money(-1, "KWD", "en_US") == "-KWD0.001"
    assert _formatter("CAD", "xx_YY") is None  # babel's own refusal stays babel's
