"""Text from the data made harmless for a terminal: the one function every printer uses.

Every byte of a customer name, a note or an ERP reference is hostile until shown: an ESC
starts a control sequence that can write the collector's clipboard (OSC 52), retitle the
window (OSC 0) or move the cursor (CSI H); a C1 control (U+009B is a one-character CSI)
does the same on some terminals; bidi overrides and isolates reorder what is read
(Trojan Source); zero-width format characters hide text. :func:`visible` turns each of
them into something a person can see, and nothing a terminal acts on:

- C0 controls (U+0000-U+001F) and DEL as their Unicode control pictures: ESC as ``␛``,
  BEL as ``␇``, CR as ``␍``, DEL as ``␡``;
- C1 controls (U+0080-U+009F) as ``\\x9b``;
- bidi embeddings, overrides, isolates and marks (U+202A-U+202E, U+2066-U+2069, U+200E,
  U+200F, U+061C), line and paragraph separators (U+2028, U+2029) and the other invisible
  format characters (zero-width space, word joiner, BOM, soft hyphen, tag characters...)
  as ``<U+202E>``;
- lone surrogates (undecodable bytes) as ``<U+DC9B>``: they would fail to encode.

Newline and tab: a one-line field (name, reference, a table cell) shows them as ``␊`` and
``␉``; with ``lines=True`` (a multi-line note shown as lines, a whole printed line of the
CLI) they stay, and CR LF counts as one newline. Zero-width joiner and non-joiner (U+200C,
U+200D) stay: Persian and Indic names and emoji need them, and they reorder nothing.

This module is a leaf (standard library only): db/, queue/, the CLI and the screen use it.
:func:`clean` is the input side: it removes what :func:`visible` would show, for notes and
imported fields, and says how many characters it removed.
"""

from __future__ import annotations

import json
import re
import sys
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import accumulate
from typing import IO, Any

# Invisible format characters (Unicode category Cf, and Zl/Zp), without ZWNJ/ZWJ.
_FORMAT = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f"
)
_SURROGATES = "\ud800-\udfff"
# one-line: every C0 control; lines: every C0 control but tab and newline (CR LF first)
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_FORMAT}{_SURROGATES}]")
UNSAFE_LINES = _UNSAFE_LINES = re.compile(
    f"\r\n|[\x00-\x08\x0b-\x1f\x7f-\x9f{_FORMAT}{_SURROGATES}]"
)
# what json.dumps(ensure_ascii=False) leaves raw and a terminal acts on
_UNSAFE_JSON = re.compile(f"[\x7f-\x9f{_FORMAT}{_SURROGATES}]")
# what input cleaning removes; tab/newline/CR are handled by the caller's choice
_REMOVE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_FORMAT}{_SURROGATES}]")
_REMOVE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_FORMAT}{_SURROGATES}]")
_WHITESPACE_CONTROL = re.compile("[\t\n\r\x0b\x0c]+")


# ``str.isprintable()`` is False for every character the patterns above match (controls,
# format characters, line and paragraph separators, surrogates; tests/test_textsafe.py
# checks every code point), so a printable text needs no regex pass: the check is done in
# C and stops at the first character that is not printable (a regex steps through the
# whole text at ~5 ns a character, slower with the astral ranges).


def _picture(match: re.Match[str]) -> str:
    ch = match.group()
    if ch == "\r\n":
        return "\n"
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # ␀ .. ␟ (ESC is ␛)
    if code == 0x7F:
        return "\u2421"  # ␡
    if code <= 0x9F:
        return f"\\x{code:02x}"
    return f"<U+{code:04X}>"


def visible(text: str, *, lines: bool = False) -> str:
    """``text`` with every control, bidi and invisible format character made visible.

    ``lines``: keep newline and tab (a note shown as lines, a whole CLI line)."""
    if text.isprintable():  # the usual case: nothing to do, no copy (see the note above _picture)
        return text
    pattern = _UNSAFE_LINES if lines else _UNSAFE
    if pattern.search(text) is None:
        return text
    return pattern.sub(_picture, text)


def unsafe_cells(cells: list[str]) -> list[int]:
    """The indexes of the cells :func:`visible` would change, in order: one regex pass
    over the cells joined (a report's column of a million names)."""
    joined = "|".join(cells)  # "|" is safe: every match is inside a cell
    out: list[int] = []
    if _UNSAFE.search(joined) is None:
        return out
    starts = [0, *accumulate(len(c) + 1 for c in cells)]
    for m in _UNSAFE.finditer(joined):
        at = bisect_right(starts, m.start()) - 1
        if not out or out[-1] != at:
            out.append(at)
    return out


def is_safe(text: str, *, lines: bool = False) -> bool:
    """True when :func:`visible` would leave ``text`` unchanged."""
    return text.isprintable() or (_UNSAFE_LINES if lines else _UNSAFE).search(text) is None


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code > 0xFFFF:  # a surrogate pair, as JSON spells a character outside the BMP
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def json_text(data: object, **kwargs: Any) -> str:
    """``json.dumps(data, ensure_ascii=False, ...)``, terminal-safe and exact: the C1,
    DEL, bidi and format characters it would leave raw are written as ``\\uXXXX`` escapes
    (C0 controls are already escaped by json.dumps), so the parsed data is unchanged."""
    text = json.dumps(data, ensure_ascii=False, **kwargs)
    if _UNSAFE_JSON.search(text) is None:
        return text
    # these characters can only occur inside JSON strings, where \\uXXXX means the same
    return _UNSAFE_JSON.sub(_json_escape, text)


def needs_clean(text: str) -> bool:
    """Whether :func:`clean` (one-line form) would change ``text``."""
    return not text.isprintable() and _REMOVE_LINE.search(text) is not None


def clean(text: str, *, lines: bool = False) -> tuple[str, int]:
    """Input side: ``(text without control/bidi/format characters, how many removed)``.

    ``lines`` (a note): tab and newline stay, CR LF and a lone CR become a newline.
    Otherwise (a one-line field: a name, a reference) a run of tab/newline/CR/VT/FF
    becomes one space (an address on two lines stays readable) and is not counted; every
    other character removed is counted."""
    if text.isprintable():  # the usual case, in C (see the note above _picture)
        return text, 0
    if lines:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        pattern = _REMOVE
    else:
        if _WHITESPACE_CONTROL.search(text) is not None:
            text = _WHITESPACE_CONTROL.sub(" ", text)
        pattern = _REMOVE_LINE
    if pattern.search(text) is None:
        return text, 0
    cleaned, n = pattern.subn("", text)
    return cleaned, n


class SafeStream:
    """A text stream (standard output or error of the CLI) that writes what it is given
    through :func:`visible` (newlines and tabs kept): every line the CLI prints, whoever
    prints it, reaches the terminal without a control sequence from the data. JSON made by
    :func:`json_text` passes unchanged. ``unguarded`` is the stream underneath, for the
    CLI's own escape sequences (a progress bar) and for file formats written to a pipe."""

    def __init__(self, inner: IO[str]) -> None:
        self.unguarded = inner

    def write(self, text: str) -> int:
        self.unguarded.write(visible(text, lines=True))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, encoding, buffer...
        return getattr(self.unguarded, name)


def unguarded(stream: IO[str]) -> IO[str]:
    """The stream under a :class:`SafeStream`; the stream itself otherwise."""
    return stream.unguarded if isinstance(stream, SafeStream) else stream


@contextmanager
def guarded_output() -> Iterator[None]:
    """Standard output and error through :class:`SafeStream` for the block (the CLI's
    ``main``); put back after it unless something else replaced them meanwhile."""
    out, err = SafeStream(sys.stdout), SafeStream(sys.stderr)
    sys.stdout, sys.stderr = out, err  # type: ignore[assignment]
    try:
        yield
    finally:
        if sys.stdout is out:
            sys.stdout = out.unguarded
        if sys.stderr is err:
            sys.stderr = err.unguarded
