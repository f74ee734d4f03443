"""A page of a list sorted by a queue column (balance, oldest due, last contact), read as a
merge of one ordered range per collector (the m029_lists indexes ``(collector, key, id)``).

Each collector's range is read in windows (the index alone: covering), the filter checked
on the window's rows, and the windows grow (x2) while a range yields nothing: a collector
with no account matching costs what the rows above the page's last key cost, as one
global index would, and never a sort of all their accounts. A row is on the page once
every other range has been read past it (or to its end): the merge is exact.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

# the window's rows by their ids (NOT INDEXED: the filter's own terms, collector= among
# them, must not pick another index than the primary key here)
FROM = "queue q NOT INDEXED JOIN customers c NOT INDEXED ON c.id = q.customer_id"


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
    segment: int | None  # the collector (None: nobody)
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
    segments: list[int | None],
    groups: list[bool],
    cursor: tuple[object, int] | None,
    down: bool,
    want: int,
    states: tuple[str, ...] = (),
) -> list[tuple[int, object]]:
    """The first ``want`` (customer id, key) after ``cursor`` in the order read (``down``:
    descending), of accounts matching ``where`` (SQL over q, c), in ``segments``.
    ``states``: the filter's ``state=`` values: a collector with few accounts in them
    (at most SMALL) has those read through the worklist index and sorted here, instead
    of their whole range read (``state=review``: 1% of the accounts)."""
    d = _Rev if down else (lambda v: v)

    def pos(gi: int, key: object, cid: int) -> tuple:
        return (gi, d(_Key(key)), d(cid))

    ranges = [_Range(s, groups, cursor, want) for s in segments]
    found: list[tuple[tuple, int, object]] = []
    start = pos(0, cursor[0], cursor[1]) if cursor is not None else None
    for r in ranges:
        r.frontier = (0,)
        if states and _few(conn, r.segment, states):
            r.done = True
            marks = ",".join("?" * len(states))
            for cid, key in conn.execute(
                f"""SELECT q.customer_id, q.{column} FROM queue q INDEXED BY queue_worklist
                    JOIN customers c ON c.id = q.customer_id
                    WHERE q.collector_id IS ? AND q.state IN ({marks}) AND ({where})""",
                [r.segment, *states, *params],
            ):
                null = key is None
                if null not in groups:
                    continue
                p = pos(groups.index(null), key, int(cid))
                if start is None or start < p:
                    found.append((p, int(cid), key))
    while True:
        found.sort(key=lambda f: f[0])
        target = found[want - 1][0] if len(found) >= want else None
        open_ = [r for r in ranges if not r.done and (target is None or r.frontier < target)]
        if not open_:
            break
        r = min(open_, key=lambda x: x.frontier)
        _read_window(conn, where, params, column, r, down, found, pos)
    return [(cid, key) for _p, cid, key in found[:want]]


SMALL = 5_000


def _few(conn: sqlite3.Connection, segment: int | None, states: tuple[str, ...]) -> bool:
    marks = ",".join("?" * len(states))
    n = conn.execute(
        f"SELECT COUNT(*) FROM (SELECT 1 FROM queue INDEXED BY queue_worklist "
        f"WHERE collector_id IS ? AND state IN ({marks}) LIMIT ?)",
        [segment, *states, SMALL + 1],
    ).fetchone()[0]
    return int(n) <= SMALL


def _read_window(
    conn: sqlite3.Connection, where: str, params: list[object], column: str, r: _Range,
    down: bool, found: list, pos,  # noqa: ANN001
) -> None:  # fmt: skip
    order, cmp = ("DESC", "<") if down else ("ASC", ">")
    null = r.groups[r.gi]
    inner = f"SELECT customer_id, {column} AS k FROM queue WHERE collector_id IS ?"
    args: list[object] = [r.segment]
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
                    f"SELECT q.customer_id FROM {FROM} WHERE q.customer_id IN ({marks}) "
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
