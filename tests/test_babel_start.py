"""babel's trimmed data for the screen's first figures (dunning/babel_start.py): the same
data as babel's, the same text in en/fr/es, the whole data loaded for anything else."""

from __future__ import annotations

import pickle
import subprocess
import sys
from importlib import resources

import babel
import pytest

from dunning import babel_start
from dunning.data.gen_babel_start import made

FIGURES = """
import sys
from datetime import date, datetime, UTC
from babel import Locale
from babel.dates import format_date, format_datetime
from dunning import babel_start
if sys.argv[1] == "trimmed":
    assert babel_start.install(sys.argv[2])
from dunning.money import format_money, parse_amount
from dunning.tui import fmt
loc = sys.argv[2]
now = datetime(2026, 12, 2, 15, 7, tzinfo=UTC)
out = [format_money(m, c, loc) for m in (123456, -5, 0, 10**12) for c in ("USD", "CAD", "MXN",
       "EUR", "JPY", "KWD")]
out += [fmt.local_times(z, now, loc) for z in (("America/Toronto",),
        ("America/Toronto", "America/Vancouver"), ("Europe/Paris",), ("America/Mexico_City",))]
out += [fmt.clock_time(now, loc), fmt.clock_time(now, loc, weekday=True),
        fmt.weekday_time("2026-12-02T15:00:00Z", loc), fmt.city("America/Los_Angeles", loc)]
out += [format_date(date(2026, 1, 2), f, locale=loc) for f in ("short", "medium", "long")]
out += [format_datetime(now, "short", locale=loc), str(parse_amount("1 234,50", "EUR", loc))]
out += [Locale.parse(loc).languages["fr"], Locale.parse(loc).territories["CA"]]
print(repr(out))
print(babel_start.completed if sys.argv[1] == "trimmed" else "")
"""


def _figures(mode: str, locale: str) -> tuple[str, str]:
    run = subprocess.run(
        [sys.executable, "-c", FIGURES, mode, locale], capture_output=True, text=True, check=True
    )
    lines = run.stdout.splitlines()
    return lines[0], lines[1] if len(lines) > 1 else ""


def test_the_stored_data_is_the_installed_babels() -> None:
    for name, data in made().items():
        path = resources.files(babel_start.DATA).joinpath(f"{name}.pickle")
        stored = pickle.loads(path.read_bytes())
        assert stored["babel"] == babel.__version__, "run python -m dunning.data.gen_babel_start"
        # babel's patterns and rules have no ==: the same pickle is the same data
        assert pickle.dumps(stored["data"], protocol=5) == pickle.dumps(data, protocol=5), name


@pytest.mark.parametrize("locale", ["en_US", "fr_CA", "es_MX"])
def test_the_same_figures_as_babels_whole_data(locale: str) -> None:
    whole, _ = _figures("whole", locale)
    trimmed, completed = _figures("trimmed", locale)
    assert trimmed == whole
    # the language name is not kept: the locale's whole data came for it, once
    assert completed == f"['{locale}']"


def test_another_babel_or_locale_installs_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    from babel import localedata

    assert not babel_start.install("de_DE")  # no file for it: babel's own loading
    monkeypatch.setattr(babel, "__version__", "0.0")
    localedata._cache.pop("fr_CA", None)
    assert not babel_start.install("fr_CA")
    assert "fr_CA" not in localedata._cache
