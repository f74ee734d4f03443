"""Money: integer minor units per currency, locale formatting and parsing (babel)."""

from decimal import Decimal

import pytest

from dunning.money import format_money, minor_digits, parse_amount, to_major, to_minor


@pytest.mark.parametrize(
    ("currency", "digits"),
    [("USD", 2), ("EUR", 2), ("CAD", 2), ("MXN", 2), ("GBP", 2), ("JPY", 0), ("KWD", 3)],
)
def test_minor_digits_per_currency(currency, digits):
    assert minor_digits(currency) == digits
    assert minor_digits(currency.lower()) == digits


def test_to_minor_and_back_is_exact():
    assert to_minor("12.5", "USD") == 1250
    assert to_minor(Decimal("0.01"), "EUR") == 1
    assert to_minor("1234", "JPY") == 1234
    assert to_minor("1.234", "KWD") == 1234
    assert to_major(1250, "USD") == Decimal("12.50")
    assert to_major(1250, "JPY") == Decimal("1250")
    # 0.1 + 0.2 style errors cannot happen: no float anywhere
    assert to_minor(to_major(10**15 + 1, "USD"), "USD") == 10**15 + 1


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("12.345", "USD"), ("0.001", "EUR"), ("12.5", "JPY"), ("1.2345", "KWD")],
)
def test_sub_minor_precision_is_refused(amount, currency):
    with pytest.raises(ValueError, match="decimals"):
        to_minor(amount, currency)
    with pytest.raises(ValueError, match="decimals"):
        parse_amount(amount, currency, "en_US")


@pytest.mark.parametrize(
    ("minor", "currency", "locale", "expected"),
    [
        (123450, "USD", "en_US", "$1,234.50"),
        (123450, "EUR", "fr_FR", "1\u202f234,50\u00a0€"),  # fr_FR groups with U+202F
        (123450, "CAD", "fr_CA", "1\u00a0234,50\u00a0$"),  # fr_CA groups with U+00A0
        (123450, "EUR", "es_ES", "1.234,50\u00a0€"),
        (123450, "CAD", "en_CA", "$1,234.50"),
        (123450, "GBP", "en_GB", "£1,234.50"),
        (1234, "JPY", "en_US", "¥1,234"),  # no decimals
        (-5000, "USD", "en_US", "-$50.00"),
        (1234567, "KWD", "en_US", "KWD1,234.567"),
    ],
)
def test_format_money(minor, currency, locale, expected):
    assert format_money(minor, currency, locale) == expected


@pytest.mark.parametrize(
    ("text", "currency", "locale", "minor"),
    [
        ("1234.50", "USD", "en_US", 123450),
        ("1,234.50", "USD", "en_US", 123450),
        ("$1,234.56", "USD", "en_US", 123456),
        ("1,234", "USD", "en_US", 123400),
        ("(12.50)", "USD", "en_US", -1250),
        ("1 234,50", "EUR", "fr_FR", 123450),  # typed space
        ("1\u202f234,50\u00a0€", "EUR", "fr_FR", 123450),  # pasted from the screen
        ("1 234 567,89", "EUR", "fr_FR", 123456789),
        ("1,5", "EUR", "fr_FR", 150),
        ("1 234,50", "CAD", "fr_CA", 123450),
        ("1\u00a0234,50 $", "CAD", "fr_CA", 123450),
        ("1.234,50", "EUR", "es_ES", 123450),
        ("1.234.567,89", "EUR", "es_ES", 123456789),
        ("1234,5", "EUR", "es_ES", 123450),
        ("1234.5", "EUR", "es_ES", 123450),  # a plain decimal point works everywhere
        ("1,234.50", "MXN", "es_MX", 123450),
        ("1234", "JPY", "en_US", 1234),
        ("1 234", "JPY", "fr_FR", 1234),
        ("12.345", "KWD", "en_US", 12345),
    ],
)
def test_parse_amount(text, currency, locale, minor):
    assert parse_amount(text, currency, locale) == minor


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("12,3.4", "en_US"),  # misplaced grouping: refused, not read as 123.40
        ("12,345", "fr_FR"),  # 12.345 (three decimals of EUR) or 12,345? refused
        ("1e3", "en_US"),  # Decimal() reads these; a person does not type them
        ("1_000", "en_US"),
        ("inf", "en_US"),
        ("٣", "en_US"),
        ("1,5", "es_MX"),  # es_MX writes decimals with a point
        ("abc", "en_US"),
        ("12..5", "en_US"),
        ("", "en_US"),
        ("  ", "fr_FR"),
    ],
)
def test_parse_amount_refuses_what_it_cannot_read(text, locale):
    with pytest.raises(ValueError) as err:
        parse_amount(text, "EUR" if locale.startswith("fr") else "USD", locale)
    assert repr(text) in str(err.value) or "required" in str(err.value)


@pytest.mark.parametrize(
    ("text", "locale", "minor"),
    [
        ("12,34", "en_US", 1234),  # two digits after the comma: no thousands group
        ("1 234,50", "en_CA", 123450),  # a bilingual collector writes it the French way
        ("1,234.56", "fr_FR", 123456),  # ... or the English way
    ],
)
def test_written_the_other_way_but_unambiguous(text, locale, minor):
    assert parse_amount(text, "EUR" if locale.startswith("fr") else "USD", locale) == minor
