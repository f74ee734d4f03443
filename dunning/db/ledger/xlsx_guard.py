"""The limits of an import's input, and the checks that keep a hostile XLSX cheap.

An ``.xlsx`` is a zip of XML parts. openpyxl streams a worksheet in read-only mode, but it
loads the shared-string table (every text cell's text) and the other parts whole, and it
trusts the sheet's ``dimension`` element: a 1.5 KB file declaring ``A1:XFD1048576`` had it
pad a million rows to 16,384 cells each. So, before openpyxl reads anything, every XML
part's declared uncompressed size is checked (Python's zipfile never inflates an entry
past its declared size: a lying entry fails its CRC instead), and so is its compression
ratio; then the sheet's rows are read as they are in the file, the dimension ignored, each
row at most ``MAX_COLUMNS`` wide and the sheet at most ``MAX_SHEET_ROWS`` long.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from dunning.bounds import clip

MAX_FIELD = 1 << 20  # characters in one cell (1 MiB)
MAX_ROW = 4 << 20  # characters in one CSV row (4 MiB)
MAX_COLUMNS = 1024  # columns of a row (trailing empty cells do not count)
MAX_SHEET_ROWS = 1_048_576  # Excel's own limit
MAX_SHEET_XML = 1 << 30  # a worksheet part, streamed (1 GiB)
MAX_SHARED_STRINGS = 128 << 20  # xl/sharedStrings.xml, held in memory (128 MiB)
MAX_SHARED_COUNT = 2_000_000  # strings in it: openpyxl keeps ~160 bytes for each
MAX_PART = 32 << 20  # any other XML part (styles, workbook, relations), read whole
MAX_RATIO = 100  # uncompressed / compressed, for a part over RATIO_FROM
RATIO_FROM = 4 << 20
MAX_ENTRIES = 10_000
MAX_SHEETS = 1_000  # sheets a workbook declares: openpyxl builds each one (~0.25 ms)


_SI = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")  # a shared string opens, any prefix
_SHEET = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheet[\s/>]")  # a sheet declared (not <sheets>)


class SourceError(Exception):
    """The file cannot be read as a table; the message names the file and why."""


class EmptySource(SourceError):
    """No row of the file (or sheet) holds anything."""


def _mib(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MiB" if n >= 1 << 20 else f"{n:,} bytes"


def check_xlsx(path: Path) -> None:
    """Refuse a workbook whose XML parts would expand past the limits (a zip bomb) before
    any of it is inflated; SourceError names the part, its size and the limit."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SourceError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    if len(infos) > MAX_ENTRIES:
        raise SourceError(
            f"{path}: the workbook holds {len(infos):,} parts, more than {MAX_ENTRIES:,}: not read"
        )
    strings: list[zipfile.ZipInfo] = []
    books: list[zipfile.ZipInfo] = []
    for info in infos:
        name = info.filename
        low = name.lower()
        if low.endswith("workbook.xml"):
            books.append(info)
        if not low.endswith((".xml", ".rels", ".vml")):
            continue  # images and other binaries: never read by the import
        if low.startswith("xl/worksheets/"):
            cap, what = MAX_SHEET_XML, "a sheet"
        elif "sharedstrings" in low:
            cap, what = MAX_SHARED_STRINGS, "the shared strings"
            strings.append(info)
        else:
            cap, what = MAX_PART, "this part"
        if info.file_size > cap:
            raise SourceError(
                f"{path}: {clip(name, 80)} expands to {_mib(info.file_size)}; an import "
                f"reads at most {_mib(cap)} of {what} (a zip bomb?): nothing was read"
            )
        if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise SourceError(
                f"{path}: {clip(name, 80)} expands {ratio:,} times ({_mib(info.file_size)} "
                f"from {_mib(info.compress_size)}); an import refuses more than "
                f"{MAX_RATIO} times (a zip bomb?): nothing was read"
            )
    for info in books:  # 100,000 sheets declared in 1 MB took 24 s and 190 MB to open
        count = _count_strings(path, info, _SHEET, MAX_SHEETS)
        if count > MAX_SHEETS:
            raise SourceError(
                f"{path}: the workbook declares more than {MAX_SHEETS:,} sheets; an import "
                "reads at most that many (save the sheet as CSV): nothing was read"
            )
    for info in strings:
        count = _count_strings(path, info)
        if count > MAX_SHARED_COUNT:
            raise SourceError(
                f"{path}: {clip(info.filename, 80)} holds more than {MAX_SHARED_COUNT:,} "
                "distinct texts; an import reads at most that many (save the sheet as CSV): "
                "nothing was read"
            )


def _count_strings(
    path: Path, info: zipfile.ZipInfo, tag: re.Pattern[bytes] = _SI, limit: int = MAX_SHARED_COUNT
) -> int:
    """How many shared strings (or other ``tag``) the part holds, counted on the stream
    (the size check has bounded it): openpyxl keeps every one of them in memory. Stops
    past the limit."""
    count, tail = 0, b""
    try:
        with zipfile.ZipFile(path) as z, z.open(info) as fh:
            while block := fh.read(1 << 20):
                data = tail + block
                cut = data.rfind(b"<")  # a tag never spans it: counted in the next block
                cut = len(data) if cut < 0 else cut
                count += len(tag.findall(data, 0, cut))
                tail = data[cut:]
                if count > limit:
                    return count
            count += len(tag.findall(tail))
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
        raise SourceError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    return count


def too_wide(where: str, row: Sequence[Any], names: Sequence[str]) -> str:
    """The refusal of a row over MAX_COLUMNS, or of its first cell over MAX_FIELD."""
    if len(row) > MAX_COLUMNS:
        return (
            f"{where}: {len(row):,} columns; an import reads at most {MAX_COLUMNS:,}: "
            "nothing was written"
        )
    for i, cell in enumerate(row):
        if type(cell) is str and len(cell) > MAX_FIELD:
            name = names[i] if i < len(names) and names[i] else ""
            column = f"column {i + 1} ({clip(name, 40)!r})" if name else f"column {i + 1}"
            return (
                f"{where}: {column} holds {len(cell):,} characters; at most {MAX_FIELD:,} "
                f"(1 MiB) a field, starting {clip(cell, 40)!r}: nothing was written"
            )
    return f"{where}: the row is too large: nothing was written"  # pragma: no cover


def xlsx_rows(
    ws: Any, where: Callable[[int], str], names: Sequence[str], state: dict[str, int]
) -> Iterator[tuple[int, list[Any]]]:
    """(row number, values) of a read-only openpyxl worksheet, read as the file holds
    them: the declared dimension is dropped first, so a row missing from the file is
    skipped (cheaply: openpyxl yields it as an empty tuple) and a row is as wide as its
    last cell. Over-wide rows, over-long cells and rows past MAX_SHEET_ROWS are refused
    (SourceError); blank cells past MAX_COLUMNS are dropped."""
    ws.reset_dimensions()
    try:
        for n, values in enumerate(ws.iter_rows(values_only=True), start=1):
            state["row"] = n
            if n > MAX_SHEET_ROWS:
                raise SourceError(
                    f"{where(n)}: the sheet goes on past row {MAX_SHEET_ROWS:,}: not read"
                )
            if not values:  # a row missing from the file (or empty): nothing to read
                continue
            if len(values) > MAX_COLUMNS:
                tail = values[MAX_COLUMNS:]
                if tail.count(None) != len(tail):
                    raise SourceError(too_wide(where(n), values, names))
                values = values[:MAX_COLUMNS]  # styled empty cells far to the right
            row = list(values)
            size = 0
            for cell in row:
                if type(cell) is str:
                    if len(cell) > MAX_FIELD:
                        raise SourceError(too_wide(where(n), row, names))
                    size += len(cell)
            if size > MAX_ROW:
                raise SourceError(
                    f"{where(n)}: the row holds {size:,} characters of text; at most "
                    f"{MAX_ROW:,} (4 MiB) a row: nothing was written"
                )
            yield n, row
    except SourceError:
        raise
    except MemoryError:
        raise SourceError(
            f"{where(state.get('row', 0))}: out of memory reading the sheet: not read"
        ) from None
    except Exception as exc:  # noqa: BLE001 - openpyxl and zipfile raise many kinds
        raise SourceError(
            f"{where(state.get('row', 0))}: the sheet cannot be read "
            f"({type(exc).__name__}: {clip(exc, 120)})"
        ) from None
