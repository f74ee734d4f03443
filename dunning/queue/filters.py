"""The lead's filter language (issue 9, item 2): one line of terms, ANDed, parsed into SQL
with bound parameters only (a value is never pasted into the SQL text).

    lang=es bucket>=61 collector=dave balance>=1000 contact>30 dispute=no

Terms (``key`` ``op`` ``value``; values may be quoted, ``q="de la"``; ``=`` and ``!=``
take a comma list, ``lang=es,fr``):

- ``lang`` (``language``), ``country``, ``subdivision`` (``QC`` or ``CA-QC``),
  ``portfolio`` (b2b, consumer), ``status`` (the customer's: active, credit_hold, legal,
  agency, cease, write_off, closed), ``currency``: the customer's columns;
- ``state`` (the queue's: ready, waiting, hold, disputed, no_phone, review, closed),
  ``collector`` (a username, or ``none`` for accounts assigned to nobody);
- ``bucket``: the aging bucket of the account's oldest open undisputed invoice (current,
  1-30, 31-60, 61-90, 91-120, 120+), by name or by its first day: ``bucket>=61`` is 61-90
  and older, ``bucket=current`` not yet due (or nothing owed);
- ``balance``: the open undisputed balance, in **each account's own currency** (``balance
  >=1000`` is 1,000.00 USD for a USD account, 1,000 JPY for a JPY one; add ``currency=USD``
  to compare one currency); compared in minor units (babel's digits per currency);
- ``contact``: days since the last conversation; ``contact>30`` is older than 30 days or
  never, ``contact<7`` within the last 7 days, ``contact=never``;
- ``broken=yes|no`` (a broken promise), ``dispute=yes|no`` (an open dispute);
- ``q=text``: names (folded as search folds them: ``gagne`` finds Gagné) and references,
  through the search index (a name changed since the index was last synced is matched
  by its old text until then).

A bad term raises :class:`FilterError`: one translated line naming the term, its position
and what is wrong; nothing is read or changed. Who sees what: :func:`scope` (a lead their
team's accounts and those assigned to nobody; a lead without a team and an admin every
account; a collector is refused, queue/rights.py ``accounts``).
"""

from __future__ import annotations

import re
import shlex
import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import get_currency_precision, list_currencies

from dunning.clock import to_iso
from dunning.db.search_index import fold, stale_names
from dunning.i18n import _
from dunning.queue.collectors import Collector
from dunning.queue.rights import require

# The aging buckets (DOMAIN.md): name, first day past due, last day (None: no end).
BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("current", -(10**6), 0),
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-120", 91, 120),
    ("120+", 121, None),
)
QUEUE_STATES = ("ready", "waiting", "hold", "disputed", "no_phone", "review", "closed")
STATUSES = ("active", "credit_hold", "legal", "agency", "cease", "write_off", "closed")
PORTFOLIOS = ("b2b", "consumer")
KEYS = (
    "lang", "country", "subdivision", "portfolio", "status", "currency", "state",
    "collector", "bucket", "balance", "contact", "broken", "dispute", "q",
)  # fmt: skip
ALIASES = {"language": "lang"}
YES = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False,
       "false": False, "0": False}  # fmt: skip
_TERM = re.compile(r"^([A-Za-z_]+)\s*(>=|<=|!=|=|>|<)(.*)$", re.S)
_CODE2 = re.compile(r"^[A-Za-z]{2}$")
_CODE3 = re.compile(r"^[A-Za-z]{3}$")
_SUBDIV = re.compile(r"^(?:[A-Za-z]{2}-)?([A-Za-z0-9]{1,3})$")
_AMOUNT = re.compile(r"^-?\d[\d ,_]*(?:\.\d+)?$")
_DAYS = re.compile(r"^(\d{1,5})\s*d?$")
MAX_TEXT = 500  # characters of a filter line read (longer: refused)
# how a collector= term starts in the SQL (account_list may turn its index off with "+")
COLLECTOR_IN = "q.collector_id IN (/*collectors*/"


class FilterError(ValueError):
    """A term that cannot be read: one translated line naming it and its position."""


@dataclass(frozen=True)
class Term:
    pos: int  # 1-based position in the line
    text: str  # as typed
    key: str
    op: str
    value: str


@dataclass(frozen=True)
class Filter:
    """A parsed filter line: ``where`` is SQL over ``q`` (queue) and ``c`` (customers)
    with ``?`` placeholders for ``params``; "1" when the line is empty."""

    text: str
    terms: tuple[Term, ...] = ()
    where: str = "1"
    params: tuple[object, ...] = ()
    languages: tuple[str, ...] = field(default=())  # lang= values (for p6's routing)
    collector_ids: tuple[int, ...] = ()  # collector= ids (=, not !=)
    collector_none: bool = False  # collector=none (=)
    states: tuple[str, ...] = ()  # state= values (=, one term)
    currencies: tuple[str, ...] = ()  # currency= values (=): a balance sort's groups

    @property
    def empty(self) -> bool:
        return not self.terms


def _bad(term: Term, why: str) -> FilterError:
    return FilterError(
        _("filter term {pos} {term!r}: {why}").format(pos=term.pos, term=term.text, why=why)
    )


@lru_cache(maxsize=1)
def odd_digits() -> tuple[tuple[str, int], ...]:
    """The ISO currencies whose minor unit is not 1/100 (JPY 0, KWD 3...), from babel."""
    out = []
    for code in sorted(list_currencies()):
        try:
            digits = int(get_currency_precision(code))
        except (KeyError, ValueError):
            continue
        if digits != 2:
            out.append((code, digits))
    return tuple(out)


def _minor(amount: Decimal, digits: int, op: str) -> int | None:
    """``amount`` (major units) in minor units for a comparison ``op``: an amount finer
    than the currency's unit rounds the way that keeps the comparison exact (``>= 0.5``
    JPY is ``>= 1``); None for ``=`` on an amount the currency cannot hold."""
    scaled = amount.scaleb(digits)
    if scaled == scaled.to_integral_value():
        return int(scaled)
    if op in (">=", ">"):
        return int(scaled.to_integral_value(ROUND_CEILING if op == ">=" else ROUND_FLOOR))
    if op in ("<=", "<"):
        return int(scaled.to_integral_value(ROUND_FLOOR if op == "<=" else ROUND_CEILING))
    return None


def _values(term: Term) -> list[str]:
    vals = [v.strip() for v in term.value.split(",")]
    if not all(vals):
        raise _bad(term, _("an empty value"))
    return vals


def _eq_ops(term: Term) -> None:
    if term.op not in ("=", "!="):
        raise _bad(term, _("{key} takes = or != only").format(key=term.key))


def _in(column: str, term: Term, values: list[object]) -> tuple[str, list[object]]:
    marks = ",".join("?" * len(values))
    neg = "NOT " if term.op == "!=" else ""
    return f"{column} {neg}IN ({marks})", list(values)


def _choice(term: Term, column: str, allowed: tuple[str, ...]) -> tuple[str, list[object]]:
    _eq_ops(term)
    vals = [v.lower() for v in _values(term)]
    for v in vals:
        if v not in allowed:
            raise _bad(term, _("{value!r} is not one of {allowed}").format(
                value=v, allowed=", ".join(allowed)))  # fmt: skip
    return _in(column, term, list(vals))


def _bucket_index(term: Term, value: str) -> int:
    v = value.strip().lower()
    for i, (name, first, _last) in enumerate(BUCKETS):
        if v == name or (v.isdigit() and int(v) == max(first, 0)):
            return i
    names = ", ".join(b[0] for b in BUCKETS)
    raise _bad(term, _("{value!r} is not an aging bucket ({names}; or its first day: 0, 1, "
                       "31, 61, 91, 121)").format(value=value, names=names))  # fmt: skip


def _bucket(term: Term, today: date) -> tuple[str, list[object]]:
    if term.op in ("=", "!="):
        idx = [_bucket_index(term, v) for v in _values(term)]
        parts, params = [], []
        for i in idx:
            sql, p = _bucket_range(i, i, today)
            parts.append(f"({sql})")
            params += p
        sql = " OR ".join(parts)
        return (f"NOT ({sql})" if term.op == "!=" else f"({sql})"), params
    i = _bucket_index(term, term.value)
    lo, hi = {">=": (i, 5), ">": (i + 1, 5), "<=": (0, i), "<": (0, i - 1)}[term.op]
    if lo > hi:
        return "0", []
    return _bucket_range(lo, hi, today)


def _bucket_range(lo: int, hi: int, today: date) -> tuple[str, list[object]]:
    """Accounts whose oldest open undisputed due date is in buckets lo..hi (no such
    invoice: current)."""
    parts, params = [], []
    # +: never through queue_by_due (db/list_schema.py), which the planner, with no
    # statistics, would take for a range matching most accounts (a count read 8x longer)
    if lo > 0:  # at least BUCKETS[lo]'s first day past due
        parts.append("+q.oldest_due <= ?")
        params.append((today - timedelta(days=BUCKETS[lo][1])).isoformat())
    last = BUCKETS[hi][2]
    if last is not None:  # at most its last day
        parts.append("(+q.oldest_due IS NULL OR +q.oldest_due >= ?)")
        params.append((today - timedelta(days=last)).isoformat())
    return (" AND ".join(parts) or "1"), params


def _balance(term: Term) -> tuple[str, list[object]]:
    text = term.value.strip()
    if not _AMOUNT.match(text):
        raise _bad(term, _("{value!r} is not an amount (e.g. 1000 or 500.00)").format(value=text))
    try:
        amount = Decimal(re.sub(r"[ ,_]", "", text))
    except InvalidOperation:
        raise _bad(term, _("{value!r} is not an amount (e.g. 1000 or 500.00)")
                   .format(value=text)) from None  # fmt: skip
    op = {"=": "=", "!=": "!=", ">=": ">=", "<=": "<=", ">": ">", "<": "<"}[term.op]
    whens, params = [], []
    for code, digits in odd_digits():
        m = _minor(amount, digits, op)
        whens.append("WHEN ? THEN ?")
        params += [code, m if m is not None else None]
    default = _minor(amount, 2, op)
    params.append(default)
    case = f"CASE c.currency {' '.join(whens)} ELSE ? END"
    # NULL (an amount the currency cannot hold, with =) matches nothing; != everything;
    # +: never through queue_by_balance (as _bucket_range's +q.oldest_due)
    if op == "!=":
        return f"+q.open_minor IS NOT ({case})", params
    return f"+q.open_minor {op} ({case})", params


def _contact(term: Term, now: datetime) -> tuple[str, list[object]]:
    v = term.value.strip().lower()
    # +: never through queue_by_contact (as _bucket_range's +q.oldest_due)
    if v == "never":
        _eq_ops(term)
        return ("+q.last_contact_at IS NULL" if term.op == "=" else
                "+q.last_contact_at IS NOT NULL"), []  # fmt: skip
    m = _DAYS.match(v)
    if not m:
        raise _bad(term, _("{value!r} is not a number of days (contact>30, contact=never)")
                   .format(value=term.value))  # fmt: skip
    days = int(m.group(1))
    cut = to_iso(now - timedelta(days=days))
    if term.op in (">", ">="):  # older than N days, or never
        op = "<" if term.op == ">" else "<="
        return f"(+q.last_contact_at IS NULL OR +q.last_contact_at {op} ?)", [cut]
    if term.op in ("<", "<="):  # within the last N days
        op = ">" if term.op == "<" else ">="
        return f"+q.last_contact_at {op} ?", [cut]
    raise _bad(term, _("contact takes >, >=, < or <= a number of days, or =never"))


def _yes(term: Term) -> bool:
    _eq_ops(term)
    v = term.value.strip().lower()
    if v not in YES:
        raise _bad(term, _("{value!r} is not yes or no").format(value=term.value))
    return YES[v] if term.op == "=" else not YES[v]


def _collector(term: Term, conn: sqlite3.Connection) -> tuple[str, list[object]]:
    _eq_ops(term)
    ids: list[object] = []
    none = False
    for v in _values(term):
        if v.lower() == "none":
            none = True
            continue
        row = conn.execute("SELECT id FROM collectors WHERE username = ?", (v,)).fetchone()
        if row is None:
            raise _bad(term, _("no collector {name!r} (see `dunning collectors list`)")
                       .format(name=v))  # fmt: skip
        ids.append(int(row[0]))
    parts = []
    if ids:
        parts.append(COLLECTOR_IN + ",".join("?" * len(ids)) + ")")
    if none:
        parts.append("q.collector_id IS NULL")
    sql = " OR ".join(parts)
    if term.op == "!=":  # an account assigned to nobody is not "dave's"
        return (f"NOT ({sql})" if none else f"(q.collector_id IS NULL OR NOT ({sql}))"), ids
    return f"({sql})", ids


def _text(term: Term, conn: sqlite3.Connection) -> tuple[str, list[object]]:
    if term.op != "=":
        raise _bad(term, _("q takes = only (q=text)"))
    text = term.value.strip()
    folded = fold(text)
    if not folded:
        raise _bad(term, _("an empty value"))
    ref = text.upper()
    parts = ["(c.external_ref >= ? AND c.external_ref < ?)"]
    params: list[object] = [ref, ref + "\uffff"]
    if len(folded) >= 3:  # substrings through the trigram index (prefixes among them)
        parts.append("c.id IN (SELECT rowid FROM search_names_fts WHERE search_names_fts "
                     "MATCH ?)")  # fmt: skip
        params.append('"' + folded.replace('"', '""') + '"')
    else:
        parts.append("c.id IN (SELECT customer_id FROM search_names WHERE folded >= ? AND "
                     "folded < ?)")  # fmt: skip
        params += [folded, folded + "\uffff"]
    # names the index does not know yet (new or renamed since its last sync), as search
    # matches them (none after an import or a build)
    inner = len(folded) >= 3
    stale = [
        cid
        for cid, name in stale_names(conn)
        if (folded in name if inner else name.startswith(folded))
    ][:900]
    if stale:
        parts.append("c.id IN (" + ",".join("?" * len(stale)) + ")")
        params += stale
    return "(" + " OR ".join(parts) + ")", params


def split_terms(text: str) -> list[Term]:
    """The line's terms, each with its position; FilterError for a line that cannot be
    split (an unclosed quote) or a term without an operator."""
    if len(text) > MAX_TEXT:
        raise FilterError(_("the filter is longer than {n} characters").format(n=MAX_TEXT))
    try:
        words = shlex.split(text)
    except ValueError:
        raise FilterError(_("the filter has an unclosed quote: {text!r}").format(
            text=text[:100])) from None  # fmt: skip
    terms = []
    for pos, word in enumerate(words, 1):
        m = _TERM.match(word)
        if not m:
            raise FilterError(
                _("filter term {pos} {term!r}: not key=value (e.g. lang=es, bucket>=61)")
                .format(pos=pos, term=word)
            )  # fmt: skip
        key = m.group(1).lower()
        key = ALIASES.get(key, key)
        term = Term(pos, word, key, m.group(2), m.group(3))
        if key not in KEYS:
            raise _bad(term, _("unknown key {key!r} (keys: {keys})").format(
                key=m.group(1), keys=", ".join(KEYS)))  # fmt: skip
        if not term.value.strip():
            raise _bad(term, _("an empty value"))
        terms.append(term)
    return terms


def parse(conn: sqlite3.Connection, text: str, *, today: date, now: datetime) -> Filter:
    """Parse ``text`` into a :class:`Filter`; FilterError (nothing read but collectors'
    names) when a term cannot be read. ``today`` is the team's date (the buckets),
    ``now`` the instant (last contact)."""
    terms = split_terms(text)
    parts: list[str] = []
    params: list[object] = []
    languages: list[str] = []
    collector_ids: list[int] = []
    collector_none = False
    states: list[str] = []
    currencies: list[str] = []
    for term in terms:
        k = term.key
        if k in ("lang", "country", "currency"):
            _eq_ops(term)
            pattern = _CODE3 if k == "currency" else _CODE2
            vals = _values(term)
            for v in vals:
                if not pattern.match(v):
                    what = {"lang": _("a language code (en, fr, es)"),
                            "country": _("a country code (US, CA, FR)"),
                            "currency": _("a currency code (USD, EUR)")}[k]  # fmt: skip
                    raise _bad(term, _("{value!r} is not {what}").format(value=v, what=what))
            column = {"lang": "c.language", "country": "c.country", "currency": "c.currency"}[k]
            norm = [v.lower() if k == "lang" else v.upper() for v in vals]
            if k == "lang" and term.op == "=":
                languages += norm
            if k == "currency" and term.op == "=":
                currencies = sorted(set(norm) & set(currencies)) if currencies else sorted(norm)
            sql, p = _in(column, term, list(norm))
        elif k == "subdivision":
            _eq_ops(term)
            vals = []
            for v in _values(term):
                m = _SUBDIV.match(v)
                if not m:
                    raise _bad(term, _("{value!r} is not a subdivision code (QC, CA-QC)")
                               .format(value=v))  # fmt: skip
                vals.append(m.group(1).upper())
            sql, p = _in("c.subdivision", term, list(vals))
            if term.op == "!=":
                sql = f"(c.subdivision IS NULL OR {sql})"
        elif k == "portfolio":
            sql, p = _choice(term, "c.portfolio", PORTFOLIOS)
        elif k == "status":
            sql, p = _choice(term, "c.status", STATUSES)
        elif k == "state":
            sql, p = _choice(term, "q.state", QUEUE_STATES)
            if term.op == "=" and not states:
                states = [str(v) for v in p]
        elif k == "collector":
            sql, p = _collector(term, conn)
            if term.op == "=":
                collector_ids += [int(i) for i in p]  # type: ignore[call-overload]
                collector_none = collector_none or "IS NULL" in sql
        elif k == "bucket":
            sql, p = _bucket(term, today)
        elif k == "balance":
            sql, p = _balance(term)
        elif k == "contact":
            sql, p = _contact(term, now)
        elif k == "broken":
            sql, p = ("q.broken_promise = 1" if _yes(term) else "q.broken_promise = 0"), []
        elif k == "dispute":
            exists = ("EXISTS (SELECT 1 FROM disputes d WHERE d.customer_id = q.customer_id "
                      "AND d.status = 'open')")  # fmt: skip
            sql, p = (exists if _yes(term) else f"NOT {exists}"), []
        else:  # q
            sql, p = _text(term, conn)
        parts.append(sql)
        params += p
    where = " AND ".join(f"({s})" for s in parts) or "1"
    return Filter(text.strip(), tuple(terms), where, tuple(params),
                  tuple(dict.fromkeys(languages)), tuple(collector_ids),
                  collector_none, tuple(states), tuple(currencies))  # fmt: skip


def scope(who: Collector) -> tuple[str, list[object]]:
    """What ``who`` may list and move (SQL over ``q``): refused (RightsError, one
    translated line) for a collector; a lead with a team sees the accounts of their
    team's collectors and those assigned to nobody; a lead without a team (one team on
    the host) and an admin see every account."""
    require(who.role, "accounts", who=who.username)
    if who.role == "admin" or not who.team:
        return "1", []
    return ("(q.collector_id IS NULL OR q.collector_id IN "
            "(SELECT id FROM collectors WHERE team = ?))"), [who.team]  # fmt: skip


def in_scope(who: Collector, target: Collector) -> bool:
    """May ``who`` give accounts to ``target`` (their own team, or any for an admin or a
    lead without a team)?"""
    return who.role == "admin" or not who.team or target.team == who.team


def unspoken(
    conn: sqlite3.Connection,
    where: str,
    params: list[object] | tuple[object, ...],
    languages: tuple[str, ...],
) -> dict[str, int]:
    """How many of the accounts matching ``where`` (SQL over q, c) have a customer
    language not in ``languages``, by language: the check before giving accounts to a
    collector (``assign --where``; p6's rebalance and routing may reuse it). Read with
    the filter's own plan: one pass over the matches."""
    langs = [lang.lower() for lang in languages] or [""]
    marks = ",".join("?" * len(langs))
    rows = conn.execute(
        f"""SELECT c.language, COUNT(*) FROM queue q JOIN customers c ON c.id = q.customer_id
            WHERE ({where}) AND lower(c.language) NOT IN ({marks})
            GROUP BY c.language ORDER BY COUNT(*) DESC""",
        [*params, *langs],
    ).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}
