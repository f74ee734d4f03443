"""What a file's bytes are before it is read as CSV text: the encoding, or why it is not
text at all.

- A zip header (``PK``) is a workbook or an archive renamed ``.csv``; an OLE header is an
  old ``.xls``; other files with NUL or control bytes are binary. Each is refused by name.
- A UTF-16/UTF-32 BOM, or UTF-16 without a BOM (every other byte NUL, as SAP GUI and
  Excel's "Unicode Text" write), is read as that encoding.
- Otherwise UTF-8 when every byte decodes; a file that is UTF-8 except a few bytes mixes
  encodings and is refused with the line of the first bad byte (decoding the whole file
  as cp1252 would garble every other accented letter silently); else cp1252, else Latin-1.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from pathlib import Path

SNIFF_BYTES = 1 << 16

_BAD = re.compile("[\udc80-\udcff]")  # bytes that are not UTF-8, under surrogateescape
_WIDE = re.compile("[^\x00-\x7f\udc80-\udcff]")  # a valid multi-byte UTF-8 character
_NEWLINE = re.compile(r"\r\n|\r|\n")
_TEXT_CONTROLS = frozenset(b"\t\n\r\f\x1a")  # \x1a: the DOS end-of-file mark


class NotText(Exception):
    """The file is not CSV text (or not in one encoding); the message says what it is."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line

    def where(self, path: Path) -> str:
        return f"{path}:{self.line}: {self.reason}" if self.line else f"{path}: {self.reason}"


def _zip_kind(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            small = "mimetype" in names and z.getinfo("mimetype").file_size <= 256
            mime = z.read("mimetype").decode("ascii", "replace") if small else ""
    except (zipfile.BadZipFile, OSError, KeyError):
        return "a zip archive, not CSV text"
    if "xl/workbook.xml" in names or any(n.startswith("xl/") for n in names):
        return "this is an XLSX workbook (rename it .xlsx)"
    if "spreadsheet" in mime:
        return "this is an OpenDocument spreadsheet (.ods): save it as .xlsx or CSV"
    if any(n.startswith("word/") for n in names):
        return "this is a Word document, not CSV text"
    return "a zip archive, not CSV text"


def sniff(path: Path, encoding: str | None) -> str | None:
    """The encoding the bytes require (UTF-16/32), None to go on with the usual detection;
    NotText when the file is a workbook, an archive or binary."""
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if head.startswith(b"PK\x03\x04"):
        raise NotText(_zip_kind(path))
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise NotText("this is an old Excel .xls workbook: save it as .xlsx or CSV")
    wide = encoding is not None and codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))
    if wide:
        return None  # the caller said so
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "utf-32"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" in head:
        pairs = len(head) // 2
        even, odd = head[0 : pairs * 2 : 2].count(0), head[1 : pairs * 2 : 2].count(0)
        for name, zeros, other in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
            if pairs and zeros > pairs * 0.3 and other < pairs * 0.05:
                try:
                    head[: pairs * 2].decode(name)
                except UnicodeDecodeError:
                    break
                return name
        raise NotText("a binary file, not CSV text")
    controls = sum(1 for b in head if b < 0x20 and b not in _TEXT_CONTROLS)
    if controls > max(8, len(head) // 100):
        raise NotText("a binary file, not CSV text")
    return None


def _decodes(path: Path, name: str, chunk: int) -> bool:
    decoder = codecs.getincrementaldecoder(name)()
    try:
        with path.open("rb") as fh:
            while block := fh.read(chunk):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _mixed(path: Path, chunk: int) -> NotText | None:
    """When the file is UTF-8 apart from some bytes: the line of the first bad byte and
    one where UTF-8 text shows the rest is UTF-8; None when nothing in it is UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    line = 1
    bad: tuple[int, int] | None = None  # (line, byte)
    good: tuple[int, str] | None = None  # (line, character)
    with path.open("rb") as fh:
        done = False
        while not done and not (bad and good):
            block = fh.read(chunk)
            done = not block
            text = decoder.decode(block, final=done)
            if bad is None and (m := _BAD.search(text)):
                bad = (line + len(_NEWLINE.findall(text, 0, m.start())), ord(m.group()) - 0xDC00)
            if good is None and (m := _WIDE.search(text)):
                good = (line + len(_NEWLINE.findall(text, 0, m.start())), m.group())
            line += len(_NEWLINE.findall(text))
    if bad is None or good is None:
        return None
    evidence = (
        "it starts with a UTF-8 byte-order mark"
        if good[1] == "\ufeff"
        else f"line {good[0]} has {good[1]!r}"
    )
    return NotText(
        f"byte 0x{bad[1]:02X} is not UTF-8, but the rest of the file is UTF-8 ({evidence}): "
        f"the file mixes encodings. Fix line {bad[0]} (save the file as UTF-8), or say "
        "--encoding cp1252 if the whole file is cp1252",
        bad[0],
    )


def detect_encoding(path: Path, chunk: int = 1 << 20) -> str:
    """'utf-8-sig' when every byte decodes as UTF-8, else 'cp1252', else 'latin-1';
    NotText when the file is UTF-8 except a few bytes (mixed encodings)."""
    if _decodes(path, "utf-8", chunk):
        return "utf-8-sig"
    problem = _mixed(path, chunk)
    if problem:
        raise problem
    return "cp1252" if _decodes(path, "cp1252", chunk) else "latin-1"
