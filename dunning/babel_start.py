"""babel's data for the screen's first figures, trimmed (issue 8: start -> first account).

The pane's first money figure and first date load babel's data: ``global.dat`` (470 KB)
and the locale merged from ``root``, ``en`` and ``en_US`` (~400 KB of pickles): ~15-20 ms
of a start's CPU, most of it data the screen never reads (units, language and script
names...). ``dunning/data/babel_start/`` keeps, per locale of the team, only the keys the
screen reads, made from the installed babel by ``dunning/data/gen_babel_start.py`` with
babel's version (tests/test_babel_start.py checks them equal to babel's own).

``install(locale)`` puts them where babel caches what it loaded (``babel.localedata._cache``
and ``babel.core._global_data``) as dicts that complete themselves: any key not kept, and
any use of the whole dict (iteration, ``in``, a copy for a child locale), loads babel's
full data first, so every result is babel's own. Nothing is installed for another babel
version, a locale without a file, or data babel has already loaded.
"""

from __future__ import annotations

import pickle
from importlib import resources
from typing import Any

DATA = "dunning.data.babel_start"
# what the screen reads (money, dates, times, zones' cities); the rest stays babel's
LOCALE_KEYS = (
    "currency_formats", "currency_names", "currency_names_plural", "currency_symbols",
    "date_formats", "datetime_formats", "datetime_skeletons", "day_periods", "days",
    "decimal_formats", "default_numbering_system", "eras", "meta_zones", "months",
    "number_symbols", "plural_form", "quarters", "territories", "time_formats",
    "time_zones", "week_data", "zone_formats",
)  # fmt: skip
GLOBAL_KEYS = (
    "currency_fractions", "meta_zones", "parent_exceptions", "zone_aliases",
    "zone_territories",
)  # fmt: skip
LOCALES = ("en_US", "en_CA", "fr_CA", "es_MX")

completed: list[str] = []  # which trimmed dicts had to load the whole data (tests, traces)


class _Completing(dict):  # type: ignore[type-arg]
    """A dict of some of babel's keys that loads the rest on the first key it lacks or
    the first use of the whole."""

    full = False
    name = ""

    def _complete(self) -> None:
        if not self.full:
            self.full = True
            completed.append(self.name)
            self.update({k: v for k, v in self._load().items() if k not in self})

    def _load(self) -> dict[str, Any]:
        raise NotImplementedError

    def __missing__(self, key: str) -> Any:
        if self.full:
            raise KeyError(key)
        self._complete()
        return self[key]

    def get(self, key: str, default: Any = None) -> Any:
        if key not in self.keys_kept():
            self._complete()
        return dict.get(self, key, default)

    def keys_kept(self) -> Any:
        return dict.keys(self)

    def __contains__(self, key: object) -> bool:
        if not dict.__contains__(self, key):
            self._complete()
        return dict.__contains__(self, key)

    def __iter__(self) -> Any:
        self._complete()
        return dict.__iter__(self)

    def __bool__(self) -> bool:
        return True  # never empty (babel's ``if not data``: no need for the whole)

    def __len__(self) -> int:
        self._complete()
        return dict.__len__(self)

    def keys(self) -> Any:
        self._complete()
        return dict.keys(self)

    def items(self) -> Any:
        self._complete()
        return dict.items(self)

    def values(self) -> Any:
        self._complete()
        return dict.values(self)

    def copy(self) -> dict[str, Any]:
        self._complete()
        return dict(dict.items(self))

    def __reduce__(self) -> Any:
        self._complete()
        return (dict, (dict(dict.items(self)),))


class _Locale(_Completing):
    def _load(self) -> dict[str, Any]:
        from babel import localedata

        with localedata._cache_lock:
            localedata._cache.pop(self.name, None)
            try:
                return localedata.load(self.name)
            finally:
                localedata._cache[self.name] = self


class _Global(_Completing):
    name = "global"

    def _load(self) -> dict[str, Any]:
        path = resources.files("babel").joinpath("global.dat")
        return pickle.loads(path.read_bytes())  # noqa: S301 - babel's own file


def _read(name: str) -> dict[str, Any] | None:
    import babel

    path = resources.files(DATA).joinpath(f"{name}.pickle")
    if not path.is_file():
        return None
    stored = pickle.loads(path.read_bytes())  # noqa: S301 - our own file, made from babel's
    if stored.get("babel") != babel.__version__:
        return None
    return stored["data"]  # type: ignore[no-any-return]


def install(locale: str) -> bool:
    """Babel's trimmed data for this locale (and the global data) where babel looks first;
    False when nothing was installed for the locale."""
    import babel.core
    from babel import localedata

    if babel.core._global_data is None:
        data = _read("global")
        if data is not None:
            babel.core._global_data = _Global(data)
    name = str(locale).replace("-", "_")
    if name not in LOCALES or name in localedata._cache:
        return False
    data = _read(name)
    if data is None:
        return False
    trimmed = _Locale(data)
    trimmed.name = name
    with localedata._cache_lock:
        localedata._cache.setdefault(name, trimmed)
    return True
