"""A lead's account list (issue 9, item 2): the accounts a filter matches, a page at a
time, with keyset queries (never all of them: 100,000 rows in a DataTable take ~20 s and
+90 MB).

A page is read in two steps: the ids of the page, ``ORDER BY key, id`` after (or before)
the last row seen, ``WHERE (key, id) > (?, ?)`` ``LIMIT page + 1`` (the extra row says
whether there is more); then what the screen shows for those ids alone. Sort keys:
balance, oldest due date, last contact (never first), name, collector, reference; either
direction. The count is capped (``COUNT_CAP``: "10,000+"): it stops reading there.

Balances are amounts in each account's own currency: 1,000 JPY is not more than 9.00
USD, so a balance sort compares one currency: when the filter names one (``currency=USD``)
or the ledger holds only one. Otherwise the list falls back to the oldest due date and
says why in its header (``ListQuery.currencies``: the ledger's); ``assign --where
--limit`` refuses instead (strict), a move must not pick "the largest" by another key.
The ledger's currencies are read in a few seeks of ``customers_currency`` (m033).
(Sorting by currency, then balance, was tried: a currency the filter matches nothing of
costs a read of every range to find it empty: 29.5 s for ``lang=es bucket>=61`` at 1M.)

The sorts by a queue column read the indexes of db/list_schema.py (m031: the key and id,
over every account; a rare state's in partial indexes), the others the customers'. What
the lists cost at 1M is in bench/bench_lists.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from dunning.clock import Clock, to_iso
from dunning.queue import list_merge
from dunning.queue.collectors import Collector
from dunning.queue.config import Settings
from dunning.queue.filters import Filter, parse, scope

PAGE = 100
COUNT_CAP = 10_000
# a filter naming collectors whose accounts are at most this many reads them through the
# worklist index and sorts them; more, and the page is read in the sort's index order
SMALL = 5_000


@dataclass(frozen=True)
class Sort:
    key: str  # SQL over q and c; the column of an index
    ident: str  # the row id that breaks ties, in the same index
    asc: bool  # the default direction
    nulls: str = ""  # "first" / "last" (in ascending order) for a column that may be NULL


SORTS: dict[str, Sort] = {
    "balance": Sort("q.open_minor", "q.customer_id", False),
    "due": Sort("q.oldest_due", "q.customer_id", True, "last"),  # nothing owed: last
    "contact": Sort("q.last_contact_at", "q.customer_id", True, "first"),  # never: first
    "name": Sort("c.name COLLATE NOCASE", "c.id", True),
    "ref": Sort("c.external_ref", "c.id", True),
    "collector": Sort("", "q.customer_id", True),  # by username, then id (segments)
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
    filter: Filter | None = None
    team: tuple[int, ...] | None = None  # the collectors a lead with a team may see
    # a balance sort asked of a list of several currencies: it is sorted by oldest due
    # instead, and these are the ledger's currencies (for the header); empty otherwise
    currencies: tuple[str, ...] = ()


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


def query(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    who: Collector,
    text: str,
    *,
    sort: str = "balance",
    desc: bool | None = None,
    strict: bool = False,
) -> ListQuery:
    """The list ``who`` asked for: RightsError for a collector, FilterError for a term
    that cannot be read, ValueError for an unknown sort key (each one translated line).
    A balance sort of several currencies: by oldest due instead (``strict``: ValueError)."""
    if sort not in SORTS:  # noqa: SIM102
        from dunning.i18n import _

        raise ValueError(_("{value!r} is not a sort key ({keys})").format(
            value=sort, keys=", ".join(SORTS)))  # fmt: skip
    seen, seen_params = scope(who)
    now = clock.now()
    flt = parse(conn, text, today=now.astimezone(settings.team_zone).date(), now=now)
    where = flt.where if seen == "1" else f"({seen}) AND ({flt.where})"
    team = None
    if seen != "1":
        team = tuple(int(r[0]) for r in conn.execute(
            "SELECT id FROM collectors WHERE team = ?", (who.team,)))  # fmt: skip
    several: tuple[str, ...] = ()
    if sort == "balance" and len(flt.currencies) != 1:
        several = ledger_currencies(conn)
        if len(several) < 2:
            several = ()
        elif strict:
            from dunning.i18n import _

            raise ValueError(_(
                "balance: amounts in different currencies are not compared; add currency=... "
                "to the filter ({currencies}), or sort by another key"
            ).format(currencies=", ".join(several)))  # fmt: skip
        else:
            sort, desc = "due", None
    return ListQuery(
        where, (*seen_params, *flt.params) if seen != "1" else flt.params, sort,
        (not SORTS[sort].asc) if desc is None else desc, flt, team, several,
    )  # fmt: skip


def ledger_currencies(conn: sqlite3.Connection) -> tuple[str, ...]:
    """The customers' currencies, in order: one seek of ``customers_currency`` each."""
    rows = conn.execute(
        """WITH RECURSIVE cur(c) AS (
               SELECT MIN(currency) FROM customers
               UNION ALL
               SELECT (SELECT MIN(currency) FROM customers WHERE currency > cur.c)
               FROM cur WHERE cur.c IS NOT NULL)
           SELECT c FROM cur WHERE c IS NOT NULL"""
    ).fetchall()
    return tuple(str(r[0]) for r in rows)


def segments(conn: sqlite3.Connection, lq: ListQuery) -> list[int | None] | None:
    """The collectors whose worklist ranges a list sorted by a queue column may read
    (None: accounts assigned to nobody; list_merge.py): those the filter names
    (collector=), within the lead's team; the team (and nobody) when it names none; every
    one when it names states alone; None when it names neither."""
    flt = lq.filter
    if flt is not None and (flt.collector_ids or flt.collector_none):
        out: list[int | None] = [*flt.collector_ids, *([None] if flt.collector_none else [])]
    elif lq.team is not None:
        out = [None, *lq.team]
    elif flt is not None and flt.states:
        out = [None, *(int(r[0]) for r in conn.execute("SELECT id FROM collectors"))]
    else:
        return None
    if lq.team is not None:  # a lead's team: the others' accounts are never read
        out = [s for s in out if s is None or s in lq.team]
    return out


def _read(
    conn: sqlite3.Connection,
    where: str,
    params: list[object],
    sort: Sort,
    *,
    null: bool,
    cursor: Cursor | None,
    down: bool,
    size: int,
    segment: int | None | bool = False,
) -> list[tuple[int, object]]:
    """One group of a page: the rows whose key is NULL (ordered by id) or not NULL
    (ordered by key, id), after ``cursor`` in the direction read; of one collector
    (``segment``: an id, None for nobody) or of all (False)."""
    order, cmp = ("DESC", "<") if down else ("ASC", ">")
    sql = f"SELECT {sort.ident}, {sort.key} FROM {FROM} WHERE ({where})"
    args = list(params)
    if segment is None:
        sql += " AND q.collector_id IS NULL"
    elif segment is not False:
        sql += " AND q.collector_id = ?"
        args.append(segment)
    if sort.nulls:
        sql += f" AND {sort.key} IS {'' if null else 'NOT '}NULL"
    if cursor is not None and null:
        sql += f" AND {sort.ident} {cmp} ?"
        args.append(cursor[1])
    elif cursor is not None:
        sql += f" AND ({sort.key}, {sort.ident}) {cmp} (?, ?)"
        args += [cursor[0], cursor[1]]
    if null:
        sql += f" ORDER BY {sort.ident} {order} LIMIT ?"
    else:
        sql += f" ORDER BY {sort.key} {order}, {sort.ident} {order} LIMIT ?"
    args.append(size)
    return [(int(r[0]), r[1]) for r in conn.execute(sql, args)]


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
    sort = SORTS[lq.sort]
    backwards = before is not None or last
    down = lq.desc != backwards  # the SQL's direction
    cursor = before if before is not None else after
    if lq.sort == "collector":
        rows = _by_collector(conn, lq.where, list(lq.params), cursor, down, size + 1)
    else:
        # the groups in the order read: NULL keys first or last in ascending order
        groups = [False]
        if sort.nulls:
            groups = [True, False] if (sort.nulls == "first") != down else [False, True]
        if cursor is not None and sort.nulls:
            groups = groups[groups.index(cursor[0] is None) :]
        if sort.ident == "q.customer_id":  # the key's index (list_merge.py)
            column = sort.key.removeprefix("q.")
            states = lq.filter.states if lq.filter is not None else ()
            rows = list_merge.page(conn, lq.where, list(lq.params), column,
                                   segments(conn, lq), groups, cursor, down, size + 1,
                                   states)  # fmt: skip
        else:  # the customers' index (name, reference), the filter on each row
            rows = []
            for k, null in enumerate(groups):
                rows += _read(conn, lq.where, list(lq.params), sort, null=null,
                              cursor=cursor if k == 0 else None, down=down,
                              size=size + 1 - len(rows))  # fmt: skip
                if len(rows) > size:
                    break
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    return rows, more


def _by_collector(
    conn: sqlite3.Connection,
    where: str,
    params: list[object],
    cursor: Cursor | None,
    down: bool,
    size: int,
) -> list[tuple[int, object]]:
    """Sorted by collector (username; nobody first), then id: one segment per collector,
    each read in id order (the collector index when they hold few accounts)."""
    names = [""] + [r[0] for r in conn.execute("SELECT username FROM collectors ORDER BY 1")]
    ids = dict(conn.execute("SELECT username, id FROM collectors").fetchall())
    if down:
        names.reverse()
    if cursor is not None:
        names = names[names.index(str(cursor[0])) :] if cursor[0] in names else []
    order, cmp = ("DESC", "<") if down else ("ASC", ">")
    rows: list[tuple[int, object]] = []
    for k, name in enumerate(names):
        if name:
            n = conn.execute("SELECT COUNT(*) FROM (SELECT 1 FROM queue WHERE collector_id = ? "
                             "LIMIT ?)", (ids[name], SMALL + 1)).fetchone()[0]  # fmt: skip
            if not n:
                continue
            seg = ("+" if n > SMALL else "") + "q.collector_id = ?"
            args: list[object] = [ids[name]]
        else:
            seg, args = "q.collector_id IS NULL", []
        sql = f"SELECT q.customer_id FROM {FROM} WHERE {seg} AND ({where})"
        args += params
        if cursor is not None and k == 0:
            sql += f" AND q.customer_id {cmp} ?"
            args.append(cursor[1])
        sql += f" ORDER BY q.customer_id {order} LIMIT ?"
        args.append(size - len(rows))
        rows += [(int(r[0]), name) for r in conn.execute(sql, args)]
        if len(rows) >= size:
            break
    return rows


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
