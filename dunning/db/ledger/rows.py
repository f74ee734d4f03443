"""One file row -> one typed record for the staging tables, or a RowError naming the
field, the value and the reason. One parser per import kind, built once per file."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from dunning.address import MAX_CHARS
from dunning.db.ledger.options import countries, currency_ok
from dunning.db.ledger.parse import (
    PLAIN_AMOUNT,
    Cell,
    is_blank,
    parse_amount,
    parse_bool,
    parse_date,
    parse_int,
    plain_minor,
    text,
)
from dunning.money import MAX_MINOR, minor_digits
from dunning.phones import parse_phone, phone_type
from dunning.regions import normalize_subdivision

CUSTOMER_STATUSES = ("active", "credit_hold", "legal", "agency", "cease", "write_off", "closed")
INVOICE_STATUSES = {
    "open": "open", "unpaid": "open", "overdue": "open", "awaiting payment": "open",
    "paid": "paid", "settled": "paid", "closed": "closed", "void": "closed",
    "voided": "closed", "cancelled": "closed", "canceled": "closed", "written off": "closed",
}  # fmt: skip
PRELOAD_CUSTOMERS = 50_000  # a ledger this small is read whole before the rows (Context)
SKIP = object()  # a row that is deliberately not loaded (issued after --as-of)


class RowError(Exception):
    def __init__(self, field: str, value: Cell, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.value = text(value)
        self.reason = reason


@dataclass
class Context:
    conn: sqlite3.Connection
    order: str  # ymd, mdy, dmy
    locale: str
    currency: str  # default for new customers
    country: str  # default for new customers
    as_of: date | None = None
    collectors: dict[str, int] = field(default_factory=dict)
    may_assign: bool = True  # a collector column is refused when False (rights)
    warnings: list[tuple[int, RowError]] = field(default_factory=list)
    _customers: dict[str, tuple[int, str, str] | None] = field(default_factory=dict)
    _complete: bool = False  # every customer of the ledger is in _customers

    def preload(self, limit: int = PRELOAD_CUSTOMERS) -> None:
        """A ledger of at most ``limit`` customers is read in one query (a first load: none),
        instead of one look-up per customer the file names; a bigger one is looked up."""
        if self.conn.execute("SELECT COUNT(*) > ? FROM customers", (limit,)).fetchone()[0]:
            return
        self._customers = {
            r[0]: (r[1], r[2], r[3])
            for r in self.conn.execute("SELECT external_ref, id, currency, country FROM customers")
        }
        self._complete = True

    def customer(self, ref: str) -> tuple[int, str, str] | None:
        """(id, currency, country) of a known customer, else None."""
        try:
            return self._customers[ref]
        except KeyError:
            if self._complete:
                return None
            row = self.conn.execute(
                "SELECT id, currency, country FROM customers WHERE external_ref = ?", (ref,)
            ).fetchone()
            found = (row[0], row[1], row[2]) if row else None
            self._customers[ref] = found
            return found


Parser = Callable[[int, list[Cell]], tuple[object, ...] | object | None]


def _getter(mapping: dict[str, int]) -> Callable[[list[Cell], str], Cell]:
    def get(cells: list[Cell], fld: str) -> Cell:
        i = mapping.get(fld)
        if i is None or i >= len(cells):
            return None
        return cells[i]

    return get


def _opt_text(cells: list[Cell], get: Callable[[list[Cell], str], Cell], fld: str) -> str | None:
    v = text(get(cells, fld))
    return v or None


def _currency(get_value: Cell, fallback: str) -> str:
    code = text(get_value).upper() or fallback
    if not currency_ok(code):
        raise RowError("currency", get_value, f"{code!r} is not an ISO 4217 currency code")
    return code


def _phone(value: Cell, country: str, fld: str) -> tuple[str, str] | None:
    raw = text(value)
    if not raw:
        return None
    try:
        e164 = parse_phone(raw, country)
    except ValueError as exc:
        raise RowError(fld, value, f"not stored: {exc}") from None
    return e164, phone_type(e164)


def _subdivision(value: Cell, country: str) -> str | None:
    """ISO 3166-2 code for the US, CA and MX ('Québec', 'CA-QC', 'PQ' -> 'QC'; an unknown
    one is refused); another country's as given, trimmed."""
    raw = text(value)
    if not raw:
        return None
    try:
        return normalize_subdivision(country, raw)
    except ValueError as exc:
        raise RowError("subdivision", value, str(exc)) from None


def _address(cells: list[Cell], get: Callable[[list[Cell], str], Cell], fld: str) -> str:
    """A postal address column the file has: '' (blank: clears), else at most its bound."""
    value = text(get(cells, fld))
    if len(value) > MAX_CHARS[fld]:
        raise RowError(fld, value, f"longer than {MAX_CHARS[fld]} characters")
    return value


def customer_parser(mapping: dict[str, int], ctx: Context) -> Parser:
    get = _getter(mapping)
    address = [f for f in MAX_CHARS if f in mapping]  # absent columns: None, nothing changes

    def parse(line: int, cells: list[Cell]) -> tuple[object, ...]:
        ref = text(get(cells, "customer_ref"))
        if not ref:
            raise RowError("customer_ref", "", "the customer number is required")
        name = text(get(cells, "name"))
        if not name:
            raise RowError("name", "", "the customer name is required")
        known = ctx.customer(ref)
        country = text(get(cells, "country")).upper() or None
        if country and country not in countries():
            raise RowError("country", country, "not an ISO 3166 alpha-2 country code")
        raw_cur = get(cells, "currency")
        currency = _currency(raw_cur, known[1] if known else ctx.currency)
        portfolio = text(get(cells, "portfolio")).lower() or None
        if portfolio and portfolio not in ("b2b", "consumer"):
            raise RowError("portfolio", portfolio, "must be b2b or consumer")
        status = text(get(cells, "status")).lower().replace(" ", "_") or None
        if status and status not in CUSTOMER_STATUSES:
            raise RowError("status", status, f"must be one of {', '.join(CUSTOMER_STATUSES)}")
        language = text(get(cells, "language")).lower() or None
        if language and not (len(language) == 2 and language.isalpha()):
            raise RowError("language", language, "not an ISO 639-1 code such as en, fr, es")
        risk = None
        if not is_blank(get(cells, "risk_score")):
            try:
                risk = parse_int(get(cells, "risk_score"), 0, 100)
            except ValueError as exc:
                raise RowError("risk_score", get(cells, "risk_score"), str(exc)) from None
        limit = None
        if not is_blank(get(cells, "credit_limit")):
            try:
                limit = parse_amount(get(cells, "credit_limit"), currency, ctx.locale)
            except ValueError as exc:
                raise RowError("credit_limit", get(cells, "credit_limit"), str(exc)) from None
        collector = text(get(cells, "collector")) or None
        if collector and not ctx.may_assign:
            raise RowError("collector", collector, "assigning accounts needs the admin role")
        if collector and collector not in ctx.collectors:
            raise RowError("collector", collector, "no collector with this username")
        subdivision = _subdivision(
            get(cells, "subdivision"), country or (known[2] if known else ctx.country)
        )
        return (
            line, ref, name, country, subdivision, language, currency, portfolio, status,
            risk, limit, collector, _opt_text(cells, get, "email"),
            _opt_text(cells, get, "contact_name"),
            _phones(ctx, line, cells, get, country or (known[2] if known else ctx.country)),
            *(_address(cells, get, f) if f in address else None for f in MAX_CHARS),
        )  # fmt: skip

    return parse


def _phones(
    ctx: Context,
    line: int,
    cells: list[Cell],
    get: Callable[[list[Cell], str], Cell],
    country: str,
) -> str:
    """The row's numbers in E.164 as JSON [[e164, type], ...]; a number that cannot be
    valid is reported as a warning and not stored, and the rest of the row loads."""
    good: list[list[str]] = []
    for fld in ("phone", "mobile"):
        try:
            got = _phone(get(cells, fld), country, fld)
        except RowError as exc:
            ctx.warnings.append((line, exc))
            continue
        if got and list(got) not in good:
            good.append(list(got))
    return json.dumps(good)


def contact_parser(mapping: dict[str, int], ctx: Context) -> Parser:
    get = _getter(mapping)

    def parse(line: int, cells: list[Cell]) -> tuple[object, ...]:
        ref = text(get(cells, "customer_ref"))
        if not ref:
            raise RowError("customer_ref", "", "the customer number is required")
        known = ctx.customer(ref)
        if known is None:
            raise RowError("customer_ref", ref, "no such customer; import customers first")
        name = text(get(cells, "name"))
        if not name:
            raise RowError("name", "", "the contact name is required")
        flags = []
        for fld in ("do_not_call", "is_primary"):
            raw = get(cells, fld)
            try:
                flags.append(None if is_blank(raw) else int(parse_bool(raw)))
            except ValueError as exc:
                raise RowError(fld, raw, str(exc)) from None
        language = text(get(cells, "language")).lower() or None
        if language and not (len(language) == 2 and language.isalpha()):
            raise RowError("language", language, "not an ISO 639-1 code such as en, fr, es")
        return (
            line, known[0], name, _opt_text(cells, get, "title"), language,
            _opt_text(cells, get, "email"), _phones(ctx, line, cells, get, known[2]),
            flags[0], flags[1],
        )  # fmt: skip

    return parse


def invoice_parser(mapping: dict[str, int], ctx: Context) -> Parser:
    """The hot path of a large import: plain code, one pass over the cells."""
    width = max(mapping.values()) + 1
    pad = width  # index of an always-blank cell, for the fields the file lacks
    i_ref = mapping.get("customer_ref", pad)
    i_name = mapping.get("customer_name", pad)
    i_num = mapping["number"]
    i_issue = mapping["issue_date"]
    i_due = mapping.get("due_date", pad)
    i_amount = mapping["amount"]
    i_open = mapping.get("open_amount", pad)
    i_cur = mapping.get("currency", pad)
    i_status = mapping.get("status", pad)
    i_disp = mapping.get("disputed", pad)
    i_settled = mapping.get("settled_on", pad)
    i_type = mapping.get("type", pad)  # QuickBooks: credit lines without a number
    keyed: dict[str, int] = {}
    codes: dict[str, str] = {}  # currency cell -> its ISO code
    order, locale, default_cur = ctx.order, ctx.locale, ctx.currency
    as_of = ctx.as_of.isoformat() if ctx.as_of else None
    # a ledger read whole (Context.preload): a dict look-up, no KeyError per new customer
    customer = ctx._customers.get if ctx._complete else ctx.customer
    blank = is_blank
    if not currency_ok(default_cur):
        raise ValueError(f"--currency {default_cur!r} is not an ISO 4217 currency code")
    # issue 8: the per-row cost of a million rows. A file repeats its dates (a few hundred
    # distinct ones in a million rows): each cell text is parsed once, the good ones kept
    # (a bad one goes through parse_date every time, so its refusal is the same). Amounts
    # in the usual plain form are read without the two calls of parse_amount.
    dates: dict[str, str] = {}
    plain = PLAIN_AMOUNT.match

    def day(v: Cell) -> str:
        if type(v) is str:
            iso = dates.get(v)
            if iso is None:
                iso = parse_date(v, order)
                if len(dates) < 100_000:
                    dates[v] = iso
            return iso
        return parse_date(v, order)

    def money(v: Cell, currency: str) -> int:
        # parse_amount's first branch, inlined (same regex, same arithmetic, same bound)
        if type(v) is str and len(v) <= 64 and plain(raw := v.strip()):
            minor = plain_minor(raw, currency)
            if -MAX_MINOR < minor < MAX_MINOR:
                return minor
        return parse_amount(v, currency, locale)

    def parse(line: int, cells: list[Cell]) -> tuple[object, ...] | object:
        cells = cells[:width]
        if len(cells) < width:  # short rows: missing cells are blank
            cells.extend([None] * (width - len(cells)))
        cells.append(None)
        v = cells[i_ref]
        ref = v.strip() if type(v) is str else text(v)
        if not ref:
            raise RowError("customer_ref", "", "the customer is required")
        v = cells[i_num]
        number = v.strip() if type(v) is str else text(v)
        if not number and i_type == pad:
            raise RowError("number", "", "the invoice number is required")
        known = customer(ref)
        raw_cur = cells[i_cur]
        if raw_cur is None or raw_cur == "":
            currency = known[1] if known else default_cur
        else:
            currency = codes.get(raw_cur)  # type: ignore[arg-type]
            if currency is None:
                currency = _currency(raw_cur, default_cur)
                if type(raw_cur) is str and len(codes) < 1000:
                    codes[raw_cur] = currency  # a valid code, checked once
            if known and currency != known[1]:
                raise RowError("currency", raw_cur, f"the customer's account is in {known[1]}")
        v = cells[i_issue]
        try:
            issue = day(v)
        except ValueError as exc:
            raise RowError("issue_date", v, str(exc)) from None
        v = cells[i_amount]
        try:
            amount = money(v, currency)
        except ValueError as exc:
            raise RowError("amount", v, str(exc)) from None
        if not number:
            number = _credit_key(text(cells[i_type]), issue, ref, amount, currency, keyed)
        v = cells[i_due]
        if blank(v):
            if amount > 0:
                raise RowError("due_date", "", "the due date is required for an invoice")
            due = issue
        else:
            try:
                due = day(v)
            except ValueError as exc:
                raise RowError("due_date", v, str(exc)) from None
            if due < issue:
                raise RowError("due_date", v, f"due before it was issued ({issue})")
        open_minor = None
        v = cells[i_open]
        if v is not None and not blank(v):
            try:
                open_minor = money(v, currency)
            except ValueError as exc:
                raise RowError("open_amount", v, str(exc)) from None
            if amount and open_minor and (open_minor > 0) != (amount > 0):
                raise RowError("open_amount", v, "open amount and amount differ in sign")
            if amount and abs(open_minor) > abs(amount):
                raise RowError("open_amount", v, f"exceeds the amount ({text(cells[i_amount])})")
        status = None
        v = cells[i_status]
        if v is not None and not blank(v):
            status = INVOICE_STATUSES.get(text(v).lower())
            if status is None:
                raise RowError("status", v, "must be open, paid or closed")
        disputed = None
        v = cells[i_disp]
        if v is not None and not blank(v):
            try:
                disputed = int(parse_bool(v))
            except ValueError as exc:
                raise RowError("disputed", v, str(exc)) from None
        settled = None
        v = cells[i_settled]
        if v is not None and not blank(v):
            try:
                settled = parse_date(v, order)
            except ValueError as exc:
                raise RowError("settled_on", v, str(exc)) from None
            if settled < issue:
                raise RowError("settled_on", v, f"settled before it was issued ({issue})")
        if as_of is not None:
            if issue > as_of:
                return SKIP
            if settled is not None and settled > as_of:
                settled = None  # still open on the as-of date
        if settled is not None:
            open_minor, status = 0, "paid"
        return (
            line, ref, text(cells[i_name]) or None, number, issue, due, amount,
            open_minor, currency, status, disputed, settled, known[0] if known else None,
        )  # fmt: skip

    return parse


def _credit_key(
    kind: str, issue: str, ref: str, amount: int, currency: str, keyed: dict[str, int]
) -> str:
    """The key of a credit line the ERP gives no number (a QuickBooks unapplied payment):
    type, date, customer and amount, 'Payment 2026-10-25 Cool Cars -300.00'; the second
    identical line of a file gets ' #2', so a re-import finds each again."""
    if not kind or amount >= 0:
        raise RowError(
            "number", "", "the invoice number is required (only a credit line may have none)"
        )
    digits = minor_digits(currency)
    shown = f"{'-' if amount < 0 else ''}{abs(amount) // 10**digits}"
    if digits:
        shown += f".{abs(amount) % 10**digits:0{digits}d}"
    key = f"{kind} {issue} {ref} {shown}"
    keyed[key] = n = keyed.get(key, 0) + 1
    return key if n == 1 else f"{key} #{n}"


def payment_parser(mapping: dict[str, int], ctx: Context) -> Parser:
    get = _getter(mapping)
    invoices: dict[str, tuple[int, int, str] | None] = {}
    owners: dict[int, str] = {}

    def invoice(number: str) -> tuple[int, int, str] | None:
        if number not in invoices:
            row = ctx.conn.execute(
                "SELECT id, customer_id, currency FROM invoices WHERE number = ?", (number,)
            ).fetchone()
            if row is None:  # instalments (odoo): 'MOVE@due date', the earliest open first
                row = ctx.conn.execute(
                    """SELECT id, customer_id, currency FROM invoices
                       WHERE number > ? AND number < ? ORDER BY status != 'open', due_date
                       LIMIT 1""",
                    (f"{number}@", f"{number}@\uffff"),
                ).fetchone()
            invoices[number] = (row[0], row[1], row[2]) if row else None
        return invoices[number]

    def owner(cid: int) -> str:
        if cid not in owners:
            row = ctx.conn.execute(
                "SELECT external_ref FROM customers WHERE id = ?", (cid,)
            ).fetchone()
            owners[cid] = row[0] if row else str(cid)
        return owners[cid]

    def parse(line: int, cells: list[Cell]) -> tuple[object, ...]:
        ref = text(get(cells, "customer_ref"))
        number = text(get(cells, "invoice")) or None
        known = ctx.customer(ref) if ref else None
        if ref and known is None:
            raise RowError("customer_ref", ref, "no such customer")
        inv = invoice(number) if number else None
        if known is None:
            if inv is None:
                if number:
                    raise RowError("invoice", number, "no such invoice, and no customer given")
                raise RowError("customer_ref", "", "a customer or an invoice is required")
            cid, cur_default = inv[1], inv[2]
        else:
            cid, cur_default = known[0], known[1]
            if inv is not None and inv[1] != cid:
                ctx.warnings.append((line, RowError(
                    "invoice", number or "",
                    f"invoice {number} belongs to customer {owner(inv[1])}: applied to "
                    f"{ref}'s oldest open invoices instead",
                )))  # fmt: skip
                inv = None  # the reference names another customer's invoice: oldest first
        currency = _currency(get(cells, "currency"), cur_default)
        if currency != cur_default:
            raise RowError("currency", currency, f"the account is in {cur_default}")
        v = get(cells, "amount")
        try:
            amount = parse_amount(v, currency, ctx.locale)
        except ValueError as exc:
            raise RowError("amount", v, str(exc)) from None
        if amount <= 0:
            raise RowError("amount", v, "a payment must be positive (load credits as invoices)")
        v = get(cells, "paid_on")
        try:
            paid_on = parse_date(v, ctx.order)
        except ValueError as exc:
            raise RowError("paid_on", v, str(exc)) from None
        return (
            line, cid, inv[0] if inv else None, number, amount, paid_on,
            text(get(cells, "payment_ref")) or None, currency,
            text(get(cells, "reference")) or "",
        )  # fmt: skip

    return parse
