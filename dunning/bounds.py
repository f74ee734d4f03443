"""Limits that keep every input's cost bounded (see docs/IMPORT.md "Limits").

- SQLite stores a signed 64-bit integer: a bigger Python int raises OverflowError when it
  is bound to a statement, so every integer that comes from a person or a file is checked
  with :func:`fits_int64` first and refused with a message.
- A refused value is quoted at most :data:`QUOTE_CHARS` characters long (:func:`clip`):
  a 15 MB row must not be echoed whole on a terminal.
"""

from __future__ import annotations

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
QUOTE_CHARS = 200


def fits_int64(n: int) -> bool:
    """True when SQLite can store ``n`` (a signed 64-bit integer)."""
    return INT64_MIN <= n <= INT64_MAX


def int64_or_none(text: str) -> int | None:
    """``text`` as an int when it is all digits and fits SQLite's INTEGER, else None."""
    t = text.strip()
    if not t.isdigit() or len(t) > 19:
        return None
    n = int(t)
    return n if fits_int64(n) else None


def clip(value: object, limit: int = QUOTE_CHARS) -> str:
    """``value`` as text of at most about ``limit`` characters: a longer one keeps its
    start and says how long it was ("abc… (15,728,640 characters)")."""
    s = value if isinstance(value, str) else str(value)
    if len(s) <= limit:
        return s
    return f"{s[:limit]}… ({len(s):,} characters)"


def quote(value: object, limit: int = QUOTE_CHARS) -> str:
    """``repr`` of a value for a message, cut like :func:`clip` when it is long."""
    s = value if isinstance(value, str) else str(value)
    if len(s) <= limit:
        return repr(s)
    return f"{s[:limit]!r}… ({len(s):,} characters)"
