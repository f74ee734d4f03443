"""CSV cells a spreadsheet will not run as formulas (issue 7, OWASP "CSV injection").

Every CSV file dunning writes (``export activities``, ``export audit``, ``report aging``
and ``report metrics`` with ``--format csv``, an import's rejects file) goes through
:func:`writer` (or :func:`cell`): a text cell that starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return gets a single quote ``'`` in front, so Excel, LibreOffice and
Google Sheets show it as text instead of evaluating it (``=HYPERLINK(...)``,
``=cmd|' /C calc'!A0``, ``@SUM(...)``).

A cell that is a plain number stays as it is, so amounts add up and a rejects file
imports again: an optional sign, then digits with only ``.``, ``,`` and spaces between
them, ending with a digit (``-12.50``, ``-1234``, ``-1,234.50``, ``-1 234,50``,
``+15145550123``): no formula can be made of those. Anything else that starts with one of
the characters above is text and is neutralized (``-1+cmd``, ``-=1``, ``-1e5``, ``-12.50 ``,
``-$5``). Import strips a leading tab
or space (``"\\t=1+1"`` is stored as ``=1+1``), and the cell is neutralized anyway on its
way out: the rule looks at what is written, not at how it came in.

JSON and JSON lines stay exact (no program evaluates them); XLSX cells are written as
typed strings, never formulas (dunning/db/xlsx.py), so they need no quote.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import IO, Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# a plain number: sign, then digits with the separators of any locale between them
# ("-1,234.50", "-1 234,50", "+1 514 555 0123"), ending with a digit
_NUMBER = re.compile(r"[+-]?\d(?:[\d.,\u00a0\u202f ]*\d)?")
_AFTER_COMMA = re.compile(r",[=+\-@\t\r]")


def cell(value: Any) -> Any:
    """``value`` as a CSV cell a spreadsheet will not evaluate (see the module's doc)."""
    if type(value) is str and value.startswith(TRIGGERS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def any_formula(joined: str) -> bool:
    """Whether a cell may need the quote in ``joined``, unquoted cells each followed by
    "," (the exports' fast path): one C-level scan that stops only at commas (about
    1% of writing a large aging as CSV; ``(?:^|,)[...]`` took ten times longer)."""
    return joined.startswith(TRIGGERS) or _AFTER_COMMA.search(joined) is not None


class SafeWriter:
    """``csv.writer`` whose every cell goes through :func:`cell`."""

    def __init__(self, fh: IO[str], **fmtparams: Any) -> None:
        self._out = csv.writer(fh, **fmtparams)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._out.writerow([cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self._out.writerow([cell(v) for v in row])


def writer(fh: IO[str], **fmtparams: Any) -> SafeWriter:
    return SafeWriter(fh, **fmtparams)
