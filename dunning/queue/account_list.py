"""A lead's account list (issue 9, item 2): the accounts a filter matches, a page at a
time, with keyset queries (never all of them: 100,000 rows in a DataTable take ~20 s and
+90 MB).

A page is read in two steps: the ids of the page, ``ORDER BY key, id`` after (or before)
the last row seen, ``WHERE (key, id) > (?, ?)`` ``LIMIT page + 1`` (the extra row says
whether there is more); then what the screen shows for those ids alone. Sort keys:
balance (in the base currency: each account's open balance times ``fx_to_base``, so a
JPY account is not ranked by its yen count; filters compare each account in its own
currency), oldest due date, last contact (never first), name, collector, reference;
either direction. The count is capped (``COUNT_CAP``: "10,000+"): it stops reading there.

No index of its own: every column it reads is on ``queue`` and ``customers`` rows
written by the collector's claim and outcome; an index on them would be one more write
per outcome on issue 8's hot path. What the lists cost at 1M is in bench/bench_lists.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from dunning.clock import Clock, to_iso
from dunning.money import minor_digits
from dunning.queue.collectors import Collector
from dunning.queue.config import Settings
from dunning.queue.filters import Filter, parse, scope

PAGE = 100
COUNT_CAP = 10_000
# key -> (SQL expression over q and c, ascending by default?)
SORTS: dict[str, tuple[str, bool]] = {
    "balance": ("", False),  # built from the settings' rates (see _key)
    "due": ("COALESCE(q.oldest_due, '9999-12-31')", True),
    "contact": ("COALESCE(q.last_contact_at, '')", True),
    "name": ("c.name COLLATE NOCASE", True),
    "collector": (
        "COALESCE((SELECT username FROM collectors k WHERE k.id = q.collector_id), '')",
        True,
    ),  # fmt: skip
    "ref": ("c.external_ref", True),
}
FROM = "queue q JOIN customers c ON c.id = q.customer_id"


@dataclass(frozen=True)
class ListQuery:
    """What a list shows: the filter (already combined with who may see what), the sort
    key and its direction."""

    where: str
    params: tuple[object, ...]
    sort: str = "balance"
    desc: bool = True
    rates: tuple[tuple[str, float], ...] = ()  # (currency, base per minor unit)
    filter: Filter | None = None

    def key(self) -> tuple[str, list[object]]:
        if self.sort != "balance":
            return SORTS[self.sort][0], []
        whens, params = [], []
        for code, rate in self.rates:
            whens.append("WHEN ? THEN ?")
            params += [code, rate]
        case = f"CASE c.currency {' '.join(whens)} ELSE 1.0 END" if whens else "1.0"
        return f"(q.open_minor * {case})", params


@dataclass(frozen=True)
class AccountRow:
    customer_id: int
    ref: str
    name: str
    collector: str | None
    state: str
    status: str
    language: str
    country: str
    subdivision: str | None
    currency: str
    open_minor: int
    oldest_due: str | None
    last_contact_at: str | None
    broken: bool
    dispute: bool
    held_by: str | None  # a live claim: who is on it now
    key: object  # the sort key's value (the page's cursor)


Cursor = tuple[object, int]  # (sort key, customer id)


@dataclass(frozen=True)
class Page:
    rows: list[AccountRow]
    more_after: bool  # rows after the last one
    more_before: bool  # rows before the first one

    @property
    def first(self) -> Cursor | None:
        return (self.rows[0].key, self.rows[0].customer_id) if self.rows else None

    @property
    def last(self) -> Cursor | None:
        return (self.rows[-1].key, self.rows[-1].customer_id) if self.rows else None


def rates(settings: Settings) -> tuple[tuple[str, float], ...]:
    """Base-currency value of one minor unit of each configured currency."""
    return tuple(
        (code, float(rate) / 10 ** minor_digits(code))
        for code, rate in sorted(settings.fx_to_base.items())
    )


def query(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    who: Collector,
    text: str,
    *,
    sort: str = "balance",
    desc: bool | None = None,
) -> ListQuery:
    """The list ``who`` asked for: RightsError for a collector, FilterError for a term
    that cannot be read, ValueError for an unknown sort key (each one translated line)."""
    if sort not in SORTS:
        from dunning.i18n import _

        raise ValueError(_("{value!r} is not a sort key ({keys})").format(
            value=sort, keys=", ".join(SORTS)))  # fmt: skip
    seen, seen_params = scope(who)
    now = clock.now()
    flt = parse(conn, text, today=now.astimezone(settings.team_zone).date(), now=now)
    where = flt.where if seen == "1" else f"({seen}) AND ({flt.where})"
    return ListQuery(
        where, (*seen_params, *flt.params) if seen != "1" else flt.params, sort,
        (not SORTS[sort][1]) if desc is None else desc, rates(settings), flt,
    )  # fmt: skip


def page_ids(
    conn: sqlite3.Connection,
    lq: ListQuery,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    last: bool = False,
    size: int = PAGE,
) -> tuple[list[tuple[int, object]], bool]:
    """(customer id, key) of one page in display order, and whether the list goes on in
    the direction read (after: below the page; before / last: above it)."""
    key, kparams = lq.key()
    backwards = before is not None or last
    down = lq.desc != backwards  # the SQL's direction
    order = "DESC" if down else "ASC"
    sql = f"SELECT q.customer_id, {key} AS k FROM {FROM} WHERE ({lq.where})"
    params: list[object] = [*kparams, *lq.params]
    cursor = before if before is not None else after
    if cursor is not None:
        sql += f" AND ({key}, q.customer_id) {'<' if down else '>'} (?, ?)"
        params += [*kparams, cursor[0], cursor[1]]
    sql += f" ORDER BY k {order}, q.customer_id {order} LIMIT ?"
    params.append(size + 1)
    rows = [(int(r[0]), r[1]) for r in conn.execute(sql, params)]
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    return rows, more


def details(
    conn: sqlite3.Connection, now_iso: str, ids: Sequence[tuple[int, object]]
) -> list[AccountRow]:
    """What the list shows for ``ids`` (a page: at most a few hundred), in their order."""
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = conn.execute(
        f"""SELECT c.id, c.external_ref, c.name, k.username AS owner, q.state, c.status,
                   c.language, c.country, c.subdivision, c.currency, q.open_minor,
                   q.oldest_due, q.last_contact_at, q.broken_promise,
                   EXISTS (SELECT 1 FROM disputes d WHERE d.customer_id = c.id
                           AND d.status = 'open') AS dispute,
                   CASE WHEN q.claim_expires_at > ? THEN h.username END AS holder
            FROM customers c JOIN queue q ON q.customer_id = c.id
            LEFT JOIN collectors k ON k.id = q.collector_id
            LEFT JOIN collectors h ON h.id = q.claimed_by
            WHERE c.id IN ({marks})""",
        [now_iso, *(i for i, _k in ids)],
    ).fetchall()
    by_id = {int(r[0]): r for r in rows}
    out = []
    for cid, key in ids:
        r = by_id.get(cid)
        if r is None:
            continue
        out.append(AccountRow(
            cid, str(r[1]), str(r[2]), r[3], str(r[4]), str(r[5]), str(r[6]), str(r[7]),
            r[8], str(r[9]), int(r[10]), r[11], r[12], bool(r[13]), bool(r[14]), r[15], key,
        ))  # fmt: skip
    return out


def page(
    conn: sqlite3.Connection,
    clock: Clock,
    lq: ListQuery,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    last: bool = False,
    size: int = PAGE,
) -> Page:
    """One page: the first (no cursor), the one after ``after``, the one before
    ``before``, or the last (``last``)."""
    ids, more = page_ids(conn, lq, after=after, before=before, last=last, size=size)
    rows = details(conn, to_iso(clock.now()), ids)
    if before is not None:
        return Page(rows, more_after=True, more_before=more)
    if last:
        return Page(rows, more_after=False, more_before=more)
    return Page(rows, more_after=more, more_before=after is not None)


def count(conn: sqlite3.Connection, lq: ListQuery, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many accounts match, reading at most ``cap`` + 1: (n, n is the cap: "cap+")."""
    n = conn.execute(
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {FROM} WHERE ({lq.where}) LIMIT ?)",
        [*lq.params, cap + 1],
    ).fetchone()[0]
    return (cap, True) if n > cap else (int(n), False)
