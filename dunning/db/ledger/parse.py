"""Cell values as ERP exports write them -> typed values, or a ValueError saying why.

Amounts: ``1234.5``, ``1,234.50``, ``1 234,50`` (fr), ``1.234,50`` (es/de), ``$1,234.50``,
``-12.50``, ``(12.50)``, ``12.50-`` (SAP), ``12.50 CR`` (a credit), ``EUR 12,50`` (the code
or symbol must be the row's currency). The decimal mark is the
rightmost separator when both ``.`` and ``,`` appear; a lone separator followed by
exactly three digits is ambiguous and the locale (babel's symbols) decides.
Dates: ISO ``2024-01-31`` (a time part is dropped), ``M/D/YYYY``, ``D/M/YYYY``,
``D.M.YYYY``, two-digit years, and month names in en, fr, es and de
(``31 Jan 2024``, ``Jan 31, 2024``, ``31-janv.-2024``, ``31 de enero de 2024``).
Cells typed by a spreadsheet (``datetime``, ``float``) are taken as they are.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel.dates import get_month_names
from babel.numbers import get_decimal_symbol, get_group_symbol

from dunning.db.ledger.signs import check_sign
from dunning.money import MAX_MINOR, minor_digits

Cell = str | int | float | Decimal | date | datetime | bool | None

DATE_ORDERS = ("auto", "ymd", "mdy", "dmy")
ORDER_LABEL = {"ymd": "YYYY-MM-DD", "mdy": "M/D/YYYY", "dmy": "D/M/YYYY"}

_PLAIN = re.compile(r"-?\d+(?:\.\d+)?\Z")
_SPACES = " \u00a0\u202f\u2009\u2007'\u2019"
_NUMERIC_DATE = re.compile(r"(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})\Z")
_ISO_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?\Z"
)
_WORDS = re.compile(r"[^\W\d_]+\.?|\d+", re.UNICODE)


def is_blank(value: Cell) -> bool:
    if value is None or value == "":
        return True
    return type(value) is str and not value.strip()


def text(value: Cell) -> str:
    """A cell as trimmed text; spreadsheet numbers lose a spurious ``.0``."""
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    return str(value).strip()


# --- amounts -----------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _symbols(locale: str) -> tuple[str, str]:
    return get_decimal_symbol(locale), get_group_symbol(locale)


def _scale(value: Decimal, currency: str) -> int:
    digits = minor_digits(currency)
    scaled = value.scaleb(digits)
    integral = scaled.to_integral_value()
    if scaled != integral:
        raise ValueError(f"more than {digits} decimals for {currency}")
    return int(integral)


@lru_cache(maxsize=64)
def _digits(currency: str) -> int:
    return minor_digits(currency)  # babel's look-up, once per currency, not once per cell


def _plain_minor(raw: str, currency: str) -> int:
    """'-1234.5' -> -123450 for a 2-digit currency, by string arithmetic (exact, fast)."""
    digits = _digits(currency)
    whole, _, frac = raw.partition(".")
    if len(frac) > digits:
        if frac[digits:].strip("0"):
            raise ValueError(f"more than {digits} decimals for {currency}")
        frac = frac[:digits]
    return int(whole + frac.ljust(digits, "0")) if digits else int(whole)


PLAIN_AMOUNT = _PLAIN  # the invoice parser's inlined first branch of parse_amount (rows.py)
plain_minor = _plain_minor


def parse_amount(value: Cell, currency: str, locale: str = "en_US") -> int:
    """An amount cell -> integer minor units of ``currency``; one of ``MAX_MINOR`` or more
    (a typo, or a number SQLite cannot store) is refused."""
    if type(value) is str and len(value) <= 64 and _PLAIN.match(raw := value.strip()):
        minor = _plain_minor(raw, currency)  # the usual cell: '1234.50'
    else:
        minor = _amount(value, currency, locale)
    if abs(minor) >= MAX_MINOR:
        raise ValueError(f"too large: amounts are below {MAX_MINOR:,} minor units")
    return minor


def _amount(value: Cell, currency: str, locale: str) -> int:
    if type(value) is str and len(value) > 64:
        raise ValueError("not an amount (too long)")
    if type(value) is str:
        raw = value.strip()
        if _PLAIN.match(raw):
            return _plain_minor(raw, currency)
        return _scale(parse_decimal_text(raw, locale, currency), currency)
    if isinstance(value, bool):
        raise ValueError("not an amount")
    if isinstance(value, int):
        return _scale(Decimal(value), currency)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("not an amount")
        if abs(value) >= MAX_MINOR:  # past any minor-unit bound, whatever the decimals
            raise ValueError(f"too large: amounts are below {MAX_MINOR:,} minor units")
        # spreadsheets store binary floats: round away float noise below the minor unit
        dec = Decimal(repr(value))
        digits = minor_digits(currency)
        rounded = dec.quantize(Decimal(1).scaleb(-digits))
        if abs(dec - rounded) > Decimal("1e-9"):
            raise ValueError(f"more than {digits} decimals for {currency}")
        return _scale(rounded, currency)
    if isinstance(value, Decimal):
        return _scale(value, currency)
    raw = "" if value is None else str(value).strip()
    if _PLAIN.match(raw):
        return _plain_minor(raw, currency)
    return _scale(parse_decimal_text(raw, locale, currency), currency)


_SIGN_NAMES = {"()": "parentheses", "-": "a minus", "\u2212": "a minus", "+": "a plus",
               "CR": "CR", "DR": "DR"}  # fmt: skip
_DIGITS = frozenset("0123456789")


def _affix(part: str, marks: list[str]) -> str:
    """Text beside the number without its sign characters (recorded in ``marks``)."""
    part = part.strip()
    while part and part[0] in "-+\u2212":
        marks.append(part[0])
        part = part[1:].strip()
    while part and part[-1] in "-+\u2212":
        marks.append(part[-1])
        part = part[:-1].strip()
    return part


def parse_decimal_text(raw: str, locale: str = "en_US", currency: str | None = None) -> Decimal:
    """Text as a person or an ERP wrote it -> Decimal; ValueError when it is not a number.

    A currency code or symbol beside the number must be ``currency``'s (``EUR 300`` on a
    USD row is refused). One sign at most: ``-12.50``, ``12.50-``, ``(12.50)``, or the
    ledger suffixes ``12.50 CR`` (a credit: negative) and ``12.50 DR`` (a debit).
    """
    s = raw.strip()
    if not s:
        raise ValueError("an amount is required")
    marks: list[str] = []
    if s.startswith("(") and s.endswith(")"):
        marks.append("()")
        s = s[1:-1].strip()
    where = [i for i, ch in enumerate(s) if ch in _DIGITS]
    if not where:
        raise ValueError("not an amount")
    first, last = where[0], where[-1]
    if first and s[first - 1] in ".,":
        first -= 1  # .5
    pre, post = _affix(s[:first], marks), _affix(s[last + 1 :], marks)
    words = post.split()
    if words and words[-1].upper() in ("CR", "DR"):
        marks.append(words.pop().upper())
        post = " ".join(words)
    if len(marks) > 1:
        names = " and ".join(dict.fromkeys(_SIGN_NAMES[m] for m in marks))
        raise ValueError(f"more than one sign ({names})")
    for token in (pre, post):
        if token:
            if pre and post:
                raise ValueError("not an amount")
            check_sign(token, currency, locale)
    negative = bool(marks) and marks[0] in ("()", "-", "\u2212", "CR")
    s = s[first : last + 1]
    for ch in _SPACES:
        s = s.replace(ch, " ")
    if not re.fullmatch(r"[\d., ]+", s):
        raise ValueError("not an amount")
    decimal_mark = _decimal_mark(s, locale)
    if decimal_mark:
        whole, _, frac = s.rpartition(decimal_mark)
    else:
        whole, frac = s, ""
    if not frac.isdigit() and frac:
        raise ValueError("not an amount")
    groups = re.split(r"[., ]", whole) if whole else [""]
    if len(groups) > 1 and (
        not groups[0].isdigit()
        or len(groups[0]) > 3
        or any(len(g) != 3 or not g.isdigit() for g in groups[1:])
    ):
        raise ValueError("digits are not grouped by thousands")
    if len({c for c in whole if c in ". ,"}) > 1 and decimal_mark:
        raise ValueError("mixed thousands separators")
    digits = "".join(groups) or "0"
    if not digits.isdigit():
        raise ValueError("not an amount")
    try:
        result = Decimal(f"{digits}.{frac}" if frac else digits)
    except InvalidOperation as exc:  # pragma: no cover - guarded by the checks above
        raise ValueError("not an amount") from exc
    return -result if negative else result


def _decimal_mark(s: str, locale: str) -> str:
    dots, commas = s.count("."), s.count(",")
    if dots and commas:
        return "." if s.rfind(".") > s.rfind(",") else ","
    mark = "." if dots else "," if commas else ""
    if not mark:
        return ""
    if (dots or commas) > 1:
        return ""  # repeated: thousands separators only
    tail = s.rsplit(mark, 1)[1]
    if len(tail) != 3 or " " in s:
        return mark if " " not in tail else ""
    decimal_symbol, _ = _symbols(locale)
    return mark if mark == decimal_symbol else ""


# --- dates -------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _month_names() -> dict[str, int]:
    names: dict[str, int] = {}
    for loc in ("en", "fr", "es", "de", "it", "pt", "nl"):
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for num, name in get_month_names(width, context, loc).items():
                    key = unicodedata.normalize("NFKD", name.lower()).encode("ascii", "ignore")
                    names.setdefault(key.decode().rstrip("."), num)
    names.update({"sept": 9, "sep": 9})
    return names


def _year(text: str) -> int:
    y = int(text)
    if len(text) == 2:
        return 2000 + y if y < 70 else 1900 + y
    if len(text) != 4:
        raise ValueError("the year must have 2 or 4 digits")
    return y


def _make(y: int, m: int, d: int) -> str:
    try:
        return date(y, m, d).isoformat()
    except ValueError as exc:
        raise ValueError(f"no such date ({exc})") from None


def parse_date(value: Cell, order: str = "ymd") -> str:
    """A date cell -> ISO text. ``order`` (ymd, mdy, dmy) reads numeric dates like 3/4/2024."""
    if type(value) is str and len(value) == 10 and value[4] == "-":
        try:
            date.fromisoformat(value)  # 3.11 reads only YYYY-MM-DD at this length
            return value
        except ValueError:
            pass
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, bool | float | int | Decimal):
        raise ValueError("not a date")
    s = str(value).strip()
    if not s:
        raise ValueError("a date is required")
    if len(s) == 10 and s[4] == "-" and s[7] == "-":
        try:
            return date.fromisoformat(s).isoformat()
        except ValueError:
            if s[:4].isdigit() and s[5:7].isdigit() and s[8:].isdigit():
                raise ValueError("no such date") from None
    m = _ISO_TIME.match(s)
    if m:
        return parse_date(m.group(1), order)
    m = _NUMERIC_DATE.match(s)
    if m:
        a, b, c = m.groups()
        if len(a) == 4:
            return _make(int(a), int(b), int(c))
        if order == "mdy":
            return _make(_year(c), int(a), int(b))
        if order == "dmy":
            return _make(_year(c), int(b), int(a))
        raise ValueError("ambiguous numeric date: say --dates mdy or --dates dmy")
    return _parse_words(s)


def _parse_words(s: str) -> str:
    tokens = [t.lower().rstrip(".") for t in _WORDS.findall(s)]
    tokens = [t for t in tokens if t not in ("de", "del", "the", "of")]
    names = _month_names()
    nums = [t for t in tokens if t.isdigit()]
    words = [t for t in tokens if not t.isdigit()]
    if len(words) != 1 or len(nums) != 2:
        raise ValueError("not a date")
    key = unicodedata.normalize("NFKD", words[0]).encode("ascii", "ignore").decode()
    month = names.get(key)
    if month is None:
        raise ValueError(f"unknown month {words[0]!r}")
    day_text, year_text = (nums[0], nums[1]) if len(nums[1]) == 4 else (nums[1], nums[0])
    if len(year_text) != 4:
        day_text, year_text = nums[0], nums[1]
    return _make(_year(year_text), month, int(day_text))


def guess_date_order(values: Iterable[Cell]) -> str | None:
    """From a sample of date cells: 'mdy' or 'dmy' when a day above 12 says so, else None.

    Raises ValueError when the sample holds both (a file mixing the two orders).
    """
    return guess_date_order_lines((0, v) for v in values)


def guess_date_order_lines(values: Iterable[tuple[int, Cell]]) -> str | None:
    """``guess_date_order`` over (line, cell) pairs: a file mixing both orders is refused
    naming the first line of each."""
    first: dict[str, tuple[int, str]] = {}
    for line, v in values:
        if not isinstance(v, str):
            continue
        m = _NUMERIC_DATE.match(v.strip())
        if not m or len(m.group(1)) == 4:
            continue
        a, b = int(m.group(1)), int(m.group(2))
        if a > 12 >= b:
            first.setdefault("dmy", (line, v.strip()))
        elif b > 12 >= a:
            first.setdefault("mdy", (line, v.strip()))
        if len(first) > 1:
            break
    if len(first) > 1:
        (dl, dv), (ml, mv) = first["dmy"], first["mdy"]
        raise ValueError(
            f"the dates mix D/M/YYYY ({f'line {dl}: ' if dl else ''}{dv}) and M/D/YYYY "
            f"({f'line {ml}: ' if ml else ''}{mv}); say --dates mdy or --dates dmy"
        )
    return next(iter(first), None)


def default_order(locale: str) -> str:
    """Month first in the US (and a few others), day first elsewhere."""
    territory = locale.replace("-", "_").split("_")[-1].upper() if "_" in locale else ""
    return "mdy" if territory in ("US", "PH", "FM", "MH", "PW", "") else "dmy"


# --- other cells -------------------------------------------------------------------------

_TRUE = {"1", "y", "yes", "true", "t", "x", "oui", "o", "si", "sí", "ja", "vrai", "verdadero"}
_FALSE = {"0", "n", "no", "false", "f", "non", "nein", "faux", "falso", ""}


def parse_bool(value: Cell) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    s = text(value).lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ValueError("not yes/no")


def parse_int(value: Cell, low: int, high: int) -> int:
    s = text(value)
    try:
        d = Decimal(s) if len(s) <= 40 else Decimal("NaN")
    except (InvalidOperation, ValueError):
        raise ValueError("not a whole number") from None
    if not d.is_finite():
        raise ValueError("not a whole number")
    if d.adjusted() > 18:  # int() of 1e999999999 would build a billion digits
        raise ValueError(f"must be between {low} and {high}")
    n = int(d)
    if not low <= n <= high:
        raise ValueError(f"must be between {low} and {high}")
    return n
