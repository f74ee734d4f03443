"""Days as a person types them, in English, French and Spanish; a weekday is the next one,
or the last one where the date is in the past ("paid on mon")."""

from __future__ import annotations

from datetime import date

import pytest

from dunning.i18n import set_language
from dunning.when import parse_day

MONDAY = date(2026, 11, 23)
WEEK = ["2026-11-30", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27", "2026-11-28"]
WEEK += ["2026-11-29"]  # the next Monday .. Sunday, seen from Monday 23


@pytest.fixture(autouse=True)
def _english_after() -> object:
    yield
    set_language("en")


@pytest.mark.parametrize(
    ("words", "weekday"),
    [
        (("mon", "monday", "lun", "lundi", "lunes", "Lun."), 0),
        (("tue", "tuesday", "mar", "mardi", "martes"), 1),
        (("wed", "wednesday", "mer", "mercredi", "mié", "mie", "miércoles", "miercoles"), 2),
        (("thu", "thursday", "jeu", "jeudi", "jue", "jueves"), 3),
        (("fri", "friday", "ven", "vendredi", "vie", "viernes"), 4),
        (("sat", "saturday", "sam", "samedi", "sáb", "sab", "sábado", "sabado"), 5),
        (("sun", "sunday", "dim", "dimanche", "dom", "domingo"), 6),
    ],
)
def test_weekday_words_next_and_last(words: tuple[str, ...], weekday: int) -> None:
    for word in words:
        ahead = parse_day(word, MONDAY)
        assert ahead.isoformat() == WEEK[weekday], word
        back = parse_day(word, MONDAY, past=True)
        assert back.weekday() == weekday and 1 <= (MONDAY - back).days <= 7, word


def test_paid_on_mon_is_the_monday_that_went_by() -> None:
    assert parse_day("mon", MONDAY, past=True) == date(2026, 11, 16)
    assert parse_day("fri", MONDAY, past=True) == date(2026, 11, 20)
    assert parse_day("fri", MONDAY) == date(2026, 11, 27)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", "2026-11-23"),
        ("aujourd'hui", "2026-11-23"),
        ("hoy", "2026-11-23"),
        ("yesterday", "2026-11-22"),
        ("hier", "2026-11-22"),
        ("ayer", "2026-11-22"),
        ("tomorrow", "2026-11-24"),
        ("demain", "2026-11-24"),
        ("mañana", "2026-11-24"),
        ("-1d", "2026-11-22"),
        ("-1", "2026-11-22"),
        ("- 3d", "2026-11-20"),
        ("-2w", "2026-11-09"),
        ("+3d", "2026-11-26"),
        ("+7j", "2026-11-30"),
        ("2026-12-01", "2026-12-01"),
    ],
)
def test_relative_days(text: str, expected: str) -> None:
    assert parse_day(text, MONDAY).isoformat() == expected


@pytest.mark.parametrize(
    ("lang", "text", "message"),
    [
        ("en", "someday", "'someday' is not a date (try 2026-12-01, tomorrow, +3d, fri)"),
        ("fr", "un jour", "'un jour' n’est pas une date (essayez 2026-12-01, demain, +3d, ven)"),
        ("es", "algún día", "'algún día' no es una fecha (pruebe 2026-12-01, mañana, +3d, vie)"),
        ("es", "", "la fecha es obligatoria"),
        ("fr", "monx", "'monx' n’est pas une date (essayez 2026-12-01, demain, +3d, ven)"),
    ],
)
def test_errors_name_the_value_in_the_collectors_language(
    lang: str, text: str, message: str
) -> None:
    set_language(lang)
    with pytest.raises(ValueError) as err:
        parse_day(text, MONDAY)
    assert str(err.value) == message
