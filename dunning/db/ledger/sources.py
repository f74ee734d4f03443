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

Limits (docs/IMPORT.md "Limits"): a field holds at most ``MAX_FIELD`` characters, a row
``MAX_ROW`` and ``MAX_COLUMNS`` columns; an XLSX's zip entries are checked against their
declared sizes (``xlsx_guard``) before openpyxl reads them, and a sheet's declared
``dimension`` is never trusted. Past a limit the file is refused naming file:line.
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

from dunning.bounds import clip
from dunning.db.ledger.parse import Cell, is_blank
from dunning.db.ledger.sniff import NotText, detect_encoding, sniff
from dunning.db.ledger.xlsx_guard import (
    MAX_COLUMNS,
    MAX_FIELD,
    MAX_ROW,
    MAX_SHEET_ROWS,
    EmptySource,
    SourceError,
    check_xlsx,
    too_wide,
    xlsx_rows,
)

HEADER_SCAN_ROWS = 60
HEADER_SCAN_CHARS = 8 << 20  # the rows kept while looking for the header
FIELD_CHECK = MAX_FIELD - (1 << 18)  # bytes since a row's mark: below, no field is too long
SNIFF_CHARS = 64 << 10  # the top of the file the separator is sniffed on
CSV_DELIMITERS = (",", ";", "\t", "|")
# csv's own limit is the row's: a longer field is a quote never closed (or a row over
# MAX_ROW); a field between MAX_FIELD and MAX_ROW is refused naming its column
FIELD_LIMIT = MAX_ROW

csv.field_size_limit(FIELD_LIMIT)

__all__ = ["MAX_COLUMNS", "MAX_FIELD", "MAX_ROW", "SourceError", "Table", "open_table"]


class _RowTooLong(Exception):
    """More than MAX_ROW bytes were read since the current row began."""


class _CountingReader(io.RawIOBase):
    """Counts the bytes read, for a progress bar that knows how far along the file is, and
    bounds a row: past MAX_ROW bytes since ``mark`` (set as each row begins) it raises
    _RowTooLong, so a file that is one 1 GB line is never held whole. Checked once a
    block (64 KiB), not once a line: reading stays at C speed."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0
        self.mark = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        if self.count - self.mark > MAX_ROW + (1 << 17):  # + what the buffers read ahead
            raise _RowTooLong
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
    sample, size = [], 0
    for line in lines:  # a bounded sample: a huge field near the top costs nothing here
        sample.append(line[: SNIFF_CHARS - size])
        size += len(sample[-1])
        if size >= SNIFF_CHARS:
            break
    for delim in CSV_DELIMITERS:
        try:
            rows = [r for r in csv.reader(sample, delimiter=delim) if any(c.strip() for c in r)]
        except csv.Error:  # a cut field or a stray quote: this separator does not decide
            continue
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
    if not path.is_file():  # a FIFO would hang the read (and the file is read 2-3 times)
        raise SourceError(f"{path}: not a regular file (a pipe or a device): save it to a file")
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
    seen: list[tuple[int, list[Cell]]] = []
    size = 0
    for item in rows:  # at most 60 rows, and at most HEADER_SCAN_CHARS of them in memory
        names = [str(c).strip() if c is not None else "" for c in item[1]]
        if is_header(names):  # the first row the layout accepts: read no further
            return item[0], names, []
        seen.append(item)
        size += sum(len(c) for c in item[1] if type(c) is str)
        if len(seen) >= HEADER_SCAN_ROWS or size >= HEADER_SCAN_CHARS:
            break
    for i, (line, cells) in enumerate(seen):
        if not all(is_blank(c) for c in cells):
            names = [str(c).strip() if c is not None else "" for c in cells]
            return line, names, seen[i + 1 :]
    raise EmptySource(f"{path}: the file is empty")


def _csv_error(path: Path, start: int, end: int, exc: csv.Error) -> SourceError:
    msg = str(exc)
    quote = '(inside a quoted value, write a quote as ""); nothing was written'
    if "end of data" in msg:
        return SourceError(
            f'{path}:{start}: unterminated quoted field: the " opened on this line is '
            f"never closed {quote}"
        )
    if "field limit" in msg:
        return SourceError(
            f"{path}:{start}: a field is longer than {MAX_ROW:,} characters: an unterminated "
            f'quoted field (the " opened on this line is never closed?) {quote}'
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

    def too_long(line: int) -> SourceError:
        return SourceError(
            f"{path}:{line}: a row is longer than {MAX_ROW >> 20} MiB ({MAX_ROW:,} bytes of "
            f"the file; at most {MAX_FIELD:,} characters a field): is a quote never closed? "
            "nothing was written"
        )

    head: list[str] = []
    try:
        for line in stream:  # the top of the file, for the separator: bounded
            head.append(line)
            counter.mark = counter.count
            if len(head) >= HEADER_SCAN_ROWS or sum(map(len, head)) >= SNIFF_CHARS:
                break
    except UnicodeDecodeError as exc:
        stream.close()
        raise SourceError(f"{path}: not {enc} text ({exc.reason}); try --encoding cp1252") from None
    except _RowTooLong:
        stream.close()
        raise too_long(len(head) + 1) from None
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
    in_head = len(head)  # rows starting on these lines were read before any mark was set
    names: list[str] = []  # the header, once found: to name a refused column

    def numbered() -> Iterator[tuple[int, list[Cell]]]:
        start = 1
        try:
            for row in reader:
                if len(row) > MAX_COLUMNS:
                    tail = row[MAX_COLUMNS:]
                    if tail.count("") != len(tail):
                        raise SourceError(too_wide(f"{path}:{start}", row, names))
                    row = row[:MAX_COLUMNS]  # trailing empty cells: ignored, as always
                if (
                    # a row read from fewer bytes than a field's limit cannot hold a field
                    # over it (a character is at least a byte): only then are fields
                    # measured, which would cost a third of the reading time on every row
                    (start <= in_head or counter.count - counter.mark > FIELD_CHECK)
                    and row
                    and max(map(len, row)) > MAX_FIELD
                ):
                    raise SourceError(too_wide(f"{path}:{start}", row, names))
                yield start, row  # type: ignore[misc]
                start = reader.line_num + 1
                counter.mark = counter.count
        except _RowTooLong:
            raise too_long(start) from None
        except UnicodeDecodeError as exc:
            raise SourceError(
                f"{path}:{start}: not {enc} text ({exc.reason}); try --encoding cp1252"
            ) from None
        except csv.Error as exc:
            raise _csv_error(path, start, reader.line_num, exc) from None

    rows = numbered()
    counter.mark = counter.count
    try:
        header_line, header, replay = _find_header(rows, is_header, path)
    except SourceError:
        stream.close()
        raise
    names.extend(header)
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
    check_xlsx(path)  # a zip bomb is refused before anything is inflated
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except MemoryError:
        raise SourceError(f"{path}: out of memory opening the workbook: not read") from None
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise SourceError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    if sheet:
        if sheet not in wb.sheetnames:
            wb.close()
            raise SourceError(
                f"{path}: no sheet {clip(sheet, 80)!r}; sheets: "
                f"{clip(', '.join(wb.sheetnames), 200)}"
            )
        ws = wb[sheet]
    else:
        ws = wb.worksheets[0]
    declared = min(int(ws.max_row or 0), MAX_SHEET_ROWS)  # for the progress bar only
    state = {"row": 0}
    names: list[str] = []

    def where(n: int) -> str:
        return f"{path}:{ws.title}!{n}"

    rows = xlsx_rows(ws, where, names, state)
    try:
        header_line, header, replay = _find_header(rows, is_header, path)
    except EmptySource:
        others = [o.title for o in wb.worksheets if o.title != ws.title and _has_data(o)]
        wb.close()
        hint = (
            f"; data is on {', '.join(repr(o) for o in others)}: say --sheet {others[0]!r}"
            if others
            else "; no sheet of this workbook has data"
        )
        raise SourceError(f"{path}: sheet {ws.title!r} is empty{hint}") from None
    except SourceError:
        wb.close()
        raise
    names.extend(header)
    return Table(
        path=path,
        header=header,
        header_line=header_line,
        rows=itertools.chain(replay, rows),
        sheet=ws.title,
        total=declared,
        position=lambda: state["row"],
        close=wb.close,
    )


def _has_data(ws: Any) -> bool:
    try:
        rows = itertools.islice(xlsx_rows(ws, str, [], {}), HEADER_SCAN_ROWS)
        return any(not is_blank(c) for _n, row in rows for c in row)
    except SourceError:
        return True  # it holds something: too much of it
