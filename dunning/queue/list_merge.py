"""A page of a list sorted by a queue column (balance, oldest due, last contact), read as a
merge of ordered ranges (db/list_schema.py, m031): the sort key's index over every
account, one range (``(key, id)``); by balance, for a list naming collectors (or a lead's
team), one range per collector (``(collector, key, id)``); or, whatever the sort, when
the accounts the filter names by collector (collector=, a lead's team) and state
(state=) are few (``_few``: at most ~50,000 at 1M), one range of the worklist index per
collector, ``(collector, state, ...)`` carrying the three keys: read without the table,
sorted by SQLite (a LIMIT keeps only the window).

Each range is read in windows, the filter checked on the window's rows by primary key,
and the windows grow (x2) while a range yields nothing. A row is on the page once every
other range has been read past it (or to its end): the merge is exact.
"""

from __future__ import annotations

import math
import re
import sqlite3
from dataclasses import dataclass, field

from dunning.db.list_schema import INDEXES

# the window's rows are checked by their ids (NOT INDEXED: the filter's own terms,
# collector= among them, must not pick another index than the primary key there)
_CUSTOMERS = re.compile(r"\bc\.")  # a filter that reads the customer's row (c.name, ...)


def _from(where: str, queue: str) -> str:
    """The rows a filter is checked on: the queue's alone when it reads no customer
    column (collector=, state=, bucket>=: one row read per account, not two)."""
    if _CUSTOMERS.search(where):
        return f"{queue} JOIN customers c NOT INDEXED ON c.id = q.customer_id"
    return queue


class _Key:
    """A sort key as SQLite orders it (NULL first, numbers before text)."""

    __slots__ = ("v",)

    def __init__(self, v: object) -> None:
        self.v = v

    def _rank(self) -> tuple[int, object]:
        v = self.v
        if v is None:
            return (0, 0)
        return (1, v) if isinstance(v, int | float) else (2, v)

    def __lt__(self, other: _Key) -> bool:
        return self._rank() < other._rank()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Key) and self._rank() == other._rank()

    def __hash__(self) -> int:
        return hash(self._rank())


class _Rev:
    """The reverse order of what it wraps (a descending read)."""

    __slots__ = ("v",)

    def __init__(self, v: object) -> None:
        self.v = v

    def __lt__(self, other: _Rev) -> bool:
        return other.v < self.v  # type: ignore[operator]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Rev) and self.v == other.v

    def __hash__(self) -> int:
        return hash(self.v)


@dataclass
class _Range:
    index: str  # the index read (INDEXED BY)
    cond: str  # the range's own terms: "collector_id IS ? AND state IN (...)", or "1"
    args: list[object]
    groups: list[bool]  # NULL keys (True) / not NULL (False), in the order read
    cursor: tuple[object, int] | None  # in the current group: read after it
    window: int
    gi: int = 0  # the current group
    done: bool = False
    frontier: tuple = field(default_factory=tuple)  # position read up to


def page(
    conn: sqlite3.Connection,
    where: str,
    params: list[object],
    column: str,
    segments: list[int | None] | None,
    groups: list[bool],
    cursor: tuple[object, int] | None,
    down: bool,
    want: int,
    states: tuple[str, ...] = (),
) -> list[tuple[int, object]]:
    """The first ``want`` (customer id, key) after ``cursor`` in the order read (``down``:
    descending), of accounts matching ``where`` (SQL over q, c). ``segments``: the
    collectors the filter names or the lead's team holds (None: nobody), None when it is
    every collector; ``states``: the filter's ``state=`` values."""
    d = _Rev if down else (lambda v: v)

    def pos(gi: int, key: object, cid: int) -> tuple:
        return (gi, d(_Key(key)), d(cid))

    found: list[tuple[tuple, int, object]] = []
    index, by_collector = INDEXES[column]
    # a collector's own balance range is exact already; in a state, it may be sparse
    if segments is not None and (states or not by_collector) and _few(conn, segments, states, want):
        marks = ",".join("?" * len(states))
        cond = "collector_id IS ?" + (f" AND state IN ({marks})" if states else "")
        ranges = [_Range("queue_worklist", cond, [s, *states], groups, cursor, want)
                  for s in segments]  # fmt: skip
    elif by_collector and segments is not None:
        ranges = [_Range(by_collector, "collector_id IS ?", [s], groups, cursor, want)
                  for s in segments]  # fmt: skip
    else:
        ranges = [_Range(index, "1", [], groups, cursor, want)]
    for r in ranges:
        r.frontier = (0,)
    while True:
        found.sort(key=lambda f: f[0])
        target = found[want - 1][0] if len(found) >= want else None
        open_ = [r for r in ranges if not r.done and (target is None or r.frontier < target)]
        if not open_:
            break
        r = min(open_, key=lambda x: x.frontier)
        _read_window(conn, where, params, column, r, down, found, pos)
    return [(cid, key) for _p, cid, key in found[:want]]


def _few(
    conn: sqlite3.Connection, segments: list[int | None], states: tuple[str, ...], want: int
) -> bool:
    """Whether the accounts of ``segments`` in ``states`` (any, when empty) are few enough
    to be read in their worklist ranges (each window a scan of them, ~0.2 us an entry)
    rather than found in the index over every account (~want x total / n rows checked in
    the table, 50-100x dearer each): n x n <= 25 x want x total (50,000 at 1M)."""
    total = int(conn.execute("SELECT MAX(customer_id) FROM queue").fetchone()[0] or 0)
    cap = max(1_000, math.isqrt(25 * want * total))
    marks = ",".join("?" * len(states))
    in_states = f" AND state IN ({marks})" if states else ""
    n = 0
    for seg in segments:
        n += int(conn.execute(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM queue INDEXED BY queue_worklist "
            f"WHERE collector_id IS ?{in_states} LIMIT ?)",
            [seg, *states, cap + 1 - n],
        ).fetchone()[0])  # fmt: skip
        if n > cap:
            return False
    return True


def _read_window(
    conn: sqlite3.Connection, where: str, params: list[object], column: str, r: _Range,
    down: bool, found: list, pos,  # noqa: ANN001
) -> None:  # fmt: skip
    order, cmp = ("DESC", "<") if down else ("ASC", ">")
    null = r.groups[r.gi]
    inner = f"SELECT customer_id, {column} AS k FROM queue INDEXED BY {r.index} WHERE {r.cond}"
    args: list[object] = list(r.args)
    if len(r.groups) > 1 or null:
        inner += f" AND {column} IS {'' if null else 'NOT '}NULL"
    if r.cursor is not None and null:
        inner += f" AND customer_id {cmp} ?"
        args.append(r.cursor[1])
    elif r.cursor is not None:
        inner += f" AND ({column}, customer_id) {cmp} (?, ?)"
        args += [r.cursor[0], r.cursor[1]]
    if null:
        inner += f" ORDER BY customer_id {order} LIMIT ?"
    else:
        inner += f" ORDER BY {column} {order}, customer_id {order} LIMIT ?"
    args.append(r.window)
    window = conn.execute(inner, args).fetchall()
    if window:
        ids = [int(w[0]) for w in window]
        marks = ",".join("?" * len(ids))
        if where == "1":  # no filter: every row of the range is on the list
            hits = set(ids)
        else:
            hits = {
                int(h[0])
                for h in conn.execute(
                    f"SELECT q.customer_id FROM {_from(where, 'queue q NOT INDEXED')} "
                    f"WHERE q.customer_id IN ({marks}) "
                    f"AND ({where})",
                    [*ids, *params],
                )
            }
        for cid, key in window:
            if int(cid) in hits:
                found.append((pos(r.gi, key, int(cid)), int(cid), key))
        last = window[-1]
        r.cursor = (last[1], int(last[0]))
        r.frontier = pos(r.gi, last[1], int(last[0]))
    if len(window) < r.window:  # this group is read to its end
        r.gi += 1
        r.cursor = None
        if r.gi >= len(r.groups):
            r.done = True
        else:
            r.frontier = (r.gi,)
    else:
        r.window = min(r.window * 2, 20_000)
