"""Reading CSV and XLSX files as streams of rows, with their line numbers.

CSV: the encoding is UTF-8 (with or without BOM) unless the bytes say otherwise, then
cp1252, then Latin-1 (``--encoding`` overrides); the separator is ``,`` ``;`` or tab,
whichever splits the header region consistently (``--delimiter`` overrides).
XLSX: openpyxl in read-only mode, so a large sheet streams; cells keep their types.
Rows are read lazily: memory does not grow with the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from dunning.db.ledger.parse import Cell, is_blank

HEADER_SCAN_ROWS = 60
CSV_DELIMITERS = (",", ";", "\t", "|")

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


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


def detect_encoding(path: Path, chunk: int = 1 << 20) -> str:
    """'utf-8-sig' when every byte decodes as UTF-8, else 'cp1252', else 'latin-1'."""
    for name in ("utf-8", "cp1252"):
        decoder = codecs.getincrementaldecoder(name)()
        try:
            with path.open("rb") as fh:
                while block := fh.read(chunk):
                    decoder.decode(block)
                decoder.decode(b"", final=True)
            return "utf-8-sig" if name == "utf-8" else name
        except UnicodeDecodeError:
            continue
    return "latin-1"


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


def _open_csv(
    path: Path,
    is_header: Callable[[list[str]], bool],
    encoding: str | None,
    delimiter: str | None,
) -> Table:
    enc = encoding or detect_encoding(path)
    try:
        codecs.lookup(enc)
    except LookupError:
        raise SourceError(f"{path}: unknown encoding {enc!r}") from None
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
    rest = io.StringIO("".join(head))

    def lines() -> Iterator[str]:
        yield from rest
        yield from stream

    reader = csv.reader(lines(), delimiter=delim)

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
            raise SourceError(f"{path}:{start}: {exc}") from None

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
    header_line, header, replay = _find_header(rows, is_header, path)
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
