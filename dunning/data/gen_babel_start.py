"""Write dunning/data/babel_start/*.pickle from the installed babel (dunning/babel_start.py).

Run once per babel upgrade: ``python -m dunning.data.gen_babel_start``;
``tests/test_babel_start.py`` fails when the stored data is not babel's."""

from __future__ import annotations

import pickle
from pathlib import Path

import babel
import babel.core
from babel import localedata

from dunning.babel_start import GLOBAL_KEYS, LOCALE_KEYS, LOCALES


def made() -> dict[str, dict[str, object]]:
    babel.core.get_global("currency_fractions")
    whole = babel.core._global_data
    assert whole is not None
    out = {"global": {k: whole[k] for k in GLOBAL_KEYS}}
    for name in LOCALES:
        data = localedata.load(name)
        out[name] = {k: data[k] for k in LOCALE_KEYS if k in data}
    return out


def main() -> None:
    here = Path(__file__).with_name("babel_start")
    here.mkdir(exist_ok=True)
    for name, data in made().items():
        blob = {"babel": babel.__version__, "data": data}
        (here / f"{name}.pickle").write_bytes(pickle.dumps(blob, protocol=5))


if __name__ == "__main__":
    main()
