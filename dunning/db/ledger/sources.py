"""Reading CSV and XLSX files as streams of rows, with their line numbers.

CSV: the encoding is UTF-8 (with or without BOM), UTF-16 (BOM or NUL bytes), else cp1252,
else Latin-1 (``--encoding`` overrides; see ``sniff``: workbooks, archives and binary
files renamed ``.csv`` are refused by name, and so is a UTF-8 file with a few stray
bytes); the separator is ``,`` ``;`` or tab, whichever splits the header region
consistently (``--delimiter`` overrides). Quoting is strict: a quote that is never
closed is refused with its line instead of swallowing the rest of the file; line
endings may be LF, CRLF or CR alone.
XLSX: openpyxl in read-only mode, so a large sheet streams; cells keep their types.
Rows are read lazily: memory does not grow with the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from dunning.db.ledger.parse import Cell, is_blank
from dunning.db.ledger.sniff import NotText, detect_encoding, sniff

HEADER_SCAN_ROWS = 60
CSV_DELIMITERS = (",", ";", "\t", "|")
FIELD_LIMIT = 16 << 20  # no ledger cell is this long: past it, a quote was never closed

csv.field_size_limit(FIELD_LIMIT)


class SourceError(Exception):
    """The file cannot be read as a table; the message names the file and why."""


class _CountingReader(io.RawIOBase):
    """Counts the bytes read, for a progress bar that knows how far along the file is."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


@dataclass
class Table:
    path: Path
    header: list[str]
    header_line: int
    rows: Iterator[tuple[int, list[Cell]]]  # (line number, cells), header excluded
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""
    total: int = 0  # bytes (CSV) or rows (XLSX), for progress
    position: Callable[[], int] = field(default=lambda: 0)
    close: Callable[[], None] = field(default=lambda: None)

    def where(self, line: int) -> str:
        return f"{self.path}:{self.sheet + '!' if self.sheet else ''}{line}"


def _sniff_delimiter(lines: list[str]) -> str:
    best, best_score = ",", (0, 0)
    for delim in CSV_DELIMITERS:
        rows = [r for r in csv.reader(lines, delimiter=delim) if any(c.strip() for c in r)]
        if not rows:
            continue
        widths = [len(r) for r in rows]
        widest = max(widths)
        if widest < 2:
            continue
        score = (sum(1 for w in widths if w == widest), widest)
        if score > best_score:
            best, best_score = delim, score
    return best


def open_table(
    path: Path,
    *,
    is_header: Callable[[list[str]], bool],
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> Table:
    """Open ``path`` and find its header: the first row (within the first rows, after any
    report title lines) that ``is_header`` accepts, else the first non-blank row."""
    if not path.exists():
        raise SourceError(f"{path}: no such file")
    if path.is_dir():
        raise SourceError(f"{path}: is a directory, not a file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _open_xlsx(path, is_header, sheet)
    if suffix == ".xls":
        raise SourceError(f"{path}: old .xls workbooks are not read; save it as .xlsx or CSV")
    return _open_csv(path, is_header, encoding, delimiter)


def _find_header(
    rows: Iterator[tuple[int, list[Cell]]], is_header: Callable[[list[str]], bool], path: Path
) -> tuple[int, list[str], list[tuple[int, list[Cell]]]]:
    """Returns (header line, header, rows read after the header that must be replayed)."""
    seen: list[tuple[int, list[Cell]]] = list(itertools.islice(rows, HEADER_SCAN_ROWS))
    for i, (line, cells) in enumerate(seen):
        names = [str(c).strip() if c is not None else "" for c in cells]
        if is_header(names):
            return line, names, seen[i + 1 :]
    for i, (line, cells) in enumerate(seen):
        if not all(is_blank(c) for c in cells):
            names = [str(c).strip() if c is not None else "" for c in cells]
            return line, names, seen[i + 1 :]
    raise SourceError(f"{path}: the file is empty")


def _csv_error(path: Path, start: int, end: int, exc: csv.Error) -> SourceError:
    msg = str(exc)
    quote = '(inside a quoted value, write a quote as ""); nothing was written'
    if "end of data" in msg or "field limit" in msg:
        return SourceError(
            f'{path}:{start}: unterminated quoted field: the " opened on this line is '
            f"never closed {quote}"
        )
    if "expected after" in msg and end > start:
        return SourceError(
            f'{path}:{start}: unterminated quoted field: the " opened on this line runs '
            f"on to line {end} {quote}"
        )
    if "expected after" in msg:
        return SourceError(f"{path}:{start}: text after the closing quote of a field {quote}")
    return SourceError(f"{path}:{start}: {msg}")


def _open_csv(
    path: Path,
    is_header: Callable[[list[str]], bool],
    encoding: str | None,
    delimiter: str | None,
) -> Table:
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise SourceError(f"{path}: unknown encoding {encoding!r}") from None
    try:
        needed = sniff(path, encoding)
        if encoding and needed:
            raise NotText(f"this is {needed.upper()} text, not {encoding}: leave out --encoding")
        enc = encoding or needed or detect_encoding(path)
    except NotText as exc:
        raise SourceError(exc.where(path)) from None
    if enc.replace("-", "").replace("_", "").lower() == "utf8":
        enc = "utf-8-sig"  # a BOM is never part of the first column's name
    raw = path.open("rb")
    counter = _CountingReader(raw)
    stream = io.TextIOWrapper(io.BufferedReader(counter, 1 << 16), encoding=enc, newline="")
    try:
        head = list(itertools.islice(stream, HEADER_SCAN_ROWS))
    except UnicodeDecodeError as exc:
        stream.close()
        raise SourceError(f"{path}: not {enc} text ({exc.reason}); try --encoding cp1252") from None
    delim = delimiter or _sniff_delimiter(head)
    if delim in ("\\t", "tab", "TAB"):
        delim = "\t"
    if len(delim) != 1:
        stream.close()
        raise SourceError(f"{path}: the delimiter must be one character, not {delim!r}")

    def lines() -> Iterator[str]:
        yield from head  # lines as the stream split them: CR alone ends a line too
        yield from stream

    reader = csv.reader(lines(), delimiter=delim, strict=True)

    def numbered() -> Iterator[tuple[int, list[Cell]]]:
        start = 1
        try:
            for row in reader:
                yield start, row  # type: ignore[misc]
                start = reader.line_num + 1
        except UnicodeDecodeError as exc:
            raise SourceError(
                f"{path}:{start}: not {enc} text ({exc.reason}); try --encoding cp1252"
            ) from None
        except csv.Error as exc:
            raise _csv_error(path, start, reader.line_num, exc) from None

    rows = numbered()
    header_line, header, replay = _find_header(rows, is_header, path)
    return Table(
        path=path,
        header=header,
        header_line=header_line,
        rows=itertools.chain(replay, rows),
        encoding=enc,
        delimiter=delim,
        total=path.stat().st_size,
        position=lambda: counter.count,
        close=stream.close,
    )


def _open_xlsx(path: Path, is_header: Callable[[list[str]], bool], sheet: str | None) -> Table:
    try:
        from openpyxl import load_workbook
    except ImportError:  # pragma: no cover - a runtime dependency
        raise SourceError("reading .xlsx needs openpyxl: pip install openpyxl") from None
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise SourceError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    if sheet:
        if sheet not in wb.sheetnames:
            wb.close()
            raise SourceError(f"{path}: no sheet {sheet!r}; sheets: {', '.join(wb.sheetnames)}")
        ws = wb[sheet]
    else:
        ws = wb.worksheets[0]
    state = {"row": 0}

    def numbered() -> Iterator[tuple[int, list[Cell]]]:
        for n, values in enumerate(ws.iter_rows(values_only=True), start=1):
            state["row"] = n
            yield n, list(values)

    rows = numbered()
    try:
        header_line, header, replay = _find_header(rows, is_header, path)
    except SourceError:
        others = [o.title for o in wb.worksheets if o.title != ws.title and _has_data(o)]
        wb.close()
        hint = (
            f"; data is on {', '.join(repr(o) for o in others)}: say --sheet {others[0]!r}"
            if others
            else "; no sheet of this workbook has data"
        )
        raise SourceError(f"{path}: sheet {ws.title!r} is empty{hint}") from None
    return Table(
        path=path,
        header=header,
        header_line=header_line,
        rows=itertools.chain(replay, rows),
        sheet=ws.title,
        total=int(ws.max_row or 0),
        position=lambda: state["row"],
        close=wb.close,
    )


def _has_data(ws: Any) -> bool:
    rows = ws.iter_rows(max_row=HEADER_SCAN_ROWS, values_only=True)
    return any(not is_blank(c) for row in rows for c in row)
