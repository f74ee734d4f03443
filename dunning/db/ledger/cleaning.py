"""Text cells of an ERP file without control, bidi or invisible format characters.

A customer name with a stray ESC (or an attacker's OSC 52 payload) still imports: its
cells are cleaned as they are read (dunning/textsafe.py ``clean``: C0/C1 controls, DEL,
bidi embeddings/overrides/isolates/marks, zero-width and other format characters are
removed; a run of tab/CR/LF inside a cell becomes one space) and the import says once per
file how many characters went, with the file:line and column of the first. docs/IMPORT.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from dunning.db.ledger.parse import Cell
from dunning.textsafe import clean, needs_clean


@dataclass
class Cleaned:
    """What was removed from a file's cells."""

    chars: int = 0
    cells: int = 0
    first_line: int = 0
    first_column: int = 0

    def note(self, where: str, header: list[str]) -> str:
        """One line for the import's notes: how many, and where the first was."""
        col = self.first_column
        column = header[col] if col < len(header) else f"#{col + 1}"
        return (
            f"{where}: removed {self.chars} control character(s) from {self.cells} cell(s), "
            f"first in column {column!r}; the rows were imported without them"
        )


def clean_rows(
    rows: Iterator[tuple[int, list[Cell]]], tally: Cleaned
) -> Iterator[tuple[int, list[Cell]]]:
    """``rows`` with every text cell cleaned, counting into ``tally`` as they are read."""
    for line, row in rows:
        # one search over the whole row first: almost every row has nothing to clean, and
        # one regex pass over the joined text costs a tenth of one per cell ("," is never
        # removed, so it cannot make a clean row look dirty)
        try:
            joined = ",".join(row)  # type: ignore[arg-type]
        except TypeError:  # an XLSX row: numbers and dates beside text
            joined = None
        # isprintable() (C, no regex) is False for every character clean() removes
        # (controls, format characters, surrogates, line separators): when it is True,
        # nothing is; when False (a no-break space, say), the regex decides
        if joined is not None and (joined.isprintable() or not needs_clean(joined)):
            yield line, row
            continue
        cells = row
        for i, value in enumerate(row):
            if type(value) is not str:
                continue
            cleaned, n = clean(value)
            if cleaned is value:
                continue
            if cells is row:
                cells = list(row)  # the reader's row is left as it was
            cells[i] = cleaned
            if n:
                if not tally.chars:
                    tally.first_line, tally.first_column = line, i
                tally.chars += n
                tally.cells += 1
        yield line, cells
