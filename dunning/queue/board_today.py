"""The board's figures of the day, per collector, kept up to date by what was written since
the last read (queue/board.py's live tier).

The first read of a day goes through the indexes of today's rows: activities by
(collector, at) for attempts, contacts, right-party contacts and the promises taken; the
system's promise decisions by (NULL, at) for the promises broken; payments loaded today
by id (the first id of the day found by bisection on ``created_at``: the importer appends,
so ids follow the load). After that, each read takes only the activities and payments
with an id above the last one read (a primary-key range: the rows of the last second),
so a refresh costs what was committed since, not the day so far. A void (the voids
table grew) or a new day reads the day again.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

PROMISE_OUTCOMES = ("promise_to_pay", "payment_plan")


@dataclass
class Day:
    attempts: int = 0
    contacts: int = 0
    rpc: int = 0
    promises: int = 0
    promised: dict[str, int] = field(default_factory=dict)
    broken: int = 0
    collected: dict[str, int] = field(default_factory=dict)


def _max_id(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0])


def first_id_since(conn: sqlite3.Connection, table: str, column: str, since: str) -> int:
    """The smallest id of ``table`` whose ``column`` >= since, by bisection over the
    primary key (rows appended as they are loaded: ids follow ``column``)."""
    lo = conn.execute(f"SELECT MIN(id) FROM {table}").fetchone()[0]
    if lo is None:
        return 1
    lo, hi = int(lo), _max_id(conn, table) + 1
    while lo < hi:
        mid = (lo + hi) // 2
        row = conn.execute(
            f"SELECT id, {column} FROM {table} WHERE id >= ? ORDER BY id LIMIT 1", (mid,)
        ).fetchone()
        if row is None or row[1] >= since:
            hi = mid
        else:
            lo = int(row[0]) + 1
    return lo


class Today:
    """Per collector id, the day's figures; :meth:`read` inside the caller's read
    transaction."""

    def __init__(self) -> None:
        self.days: dict[int, Day] = {}
        self._start = ""
        self._acts = 0  # activities read up to this id
        self._voids = 0
        self._pays = 0

    def read(self, conn: sqlite3.Connection, start: str, end: str) -> dict[int, Day]:
        acts, voids, pays = (_max_id(conn, t) for t in ("activities", "voids", "payments"))
        if start != self._start or voids != self._voids:
            self.days = {}
            self._start, self._voids = start, voids
            self._whole_day(conn, start, end, acts)
            first = first_id_since(conn, "payments", "created_at", start)
            self._payments(conn, first - 1, pays, start, end)
        else:
            self._since(conn, self._acts, acts, start, end)
            self._payments(conn, self._pays, pays, start, end)
        self._acts, self._pays = acts, pays
        return self.days

    def _day(self, cid: int) -> Day:
        return self.days.setdefault(cid, Day())

    def _whole_day(self, conn: sqlite3.Connection, start: str, end: str, upto: int) -> None:
        ids = [int(r[0]) for r in conn.execute("SELECT id FROM collectors")]
        if not ids:
            return
        marks = ",".join("?" * len(ids))
        # summed by SQLite (a day is tens of thousands of rows: no Python per row): the
        # flags of today's activities, then the promises of the promise outcomes
        for r in conn.execute(
            f"""SELECT a.collector_id, SUM(a.attempt), SUM(a.contact), SUM(a.rpc)
                FROM activities a INDEXED BY activities_collector
                WHERE a.collector_id IN ({marks}) AND a.at >= ? AND a.at < ? AND a.id <= ?
                  AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.activity_id = a.id)
                GROUP BY a.collector_id""",
            (*ids, start, end, upto),
        ):
            self._add(int(r[0]), r[1], r[2], r[3], "", None, None)
        for r in conn.execute(
            f"""SELECT a.collector_id, p.currency, COUNT(DISTINCT a.id), SUM(p.amount_minor)
                FROM activities a INDEXED BY activities_collector
                JOIN promises p ON p.customer_id = a.customer_id AND p.activity_id = a.id
                WHERE a.collector_id IN ({marks}) AND a.at >= ? AND a.at < ? AND a.id <= ?
                  AND a.outcome IN ('promise_to_pay', 'payment_plan')
                  AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.activity_id = a.id)
                GROUP BY a.collector_id, p.currency""",
            (*ids, start, end, upto),
        ):
            day = self._day(int(r[0]))
            day.promises += int(r[2])
            day.promised[r[1]] = day.promised.get(r[1], 0) + int(r[3] or 0)
        for r in conn.execute(
            """SELECT q.collector_id, COUNT(*) FROM activities a INDEXED BY activities_collector
               JOIN queue q ON q.customer_id = a.customer_id
               WHERE a.collector_id IS NULL AND a.at >= ? AND a.at < ? AND a.id <= ?
                 AND a.outcome = 'system' AND json_extract(a.details, '$.status') = 'broken'
                 AND json_extract(a.details, '$.from') = 'pending'
               GROUP BY q.collector_id""",
            (start, end, upto),
        ):
            if r[0] is not None:
                self._day(int(r[0])).broken += int(r[1])

    def _add(self, cid: int, attempt: int, contact: int, rpc: int, outcome: str,
             currency: str | None, amount: int | None) -> None:  # fmt: skip
        day = self._day(cid)
        day.attempts += int(attempt or 0)
        day.contacts += int(contact or 0)
        day.rpc += int(rpc or 0)
        if outcome in PROMISE_OUTCOMES and currency is not None:
            day.promises += 1 if attempt else 0  # one promise (or plan) per activity
            day.promised[currency] = day.promised.get(currency, 0) + int(amount or 0)

    def _since(self, conn: sqlite3.Connection, after: int, upto: int, start: str,
               end: str) -> None:  # fmt: skip
        """The activities written since the last read: a range of the primary key."""
        if upto <= after:
            return
        for r in conn.execute(
            """SELECT a.id, a.collector_id, a.customer_id, a.at, a.outcome, a.attempt,
                      a.contact, a.rpc, a.details, q.collector_id AS owner
               FROM activities a LEFT JOIN queue q ON q.customer_id = a.customer_id
               WHERE a.id > ? AND a.id <= ?""",
            (after, upto),
        ):
            if not start <= r["at"] < end:
                continue
            if r["collector_id"] is None:
                if r["outcome"] == "system" and r["owner"] is not None and _broke(r["details"]):
                    self._day(int(r["owner"])).broken += 1
                continue
            self._one(conn, int(r["collector_id"]), r["id"], r["customer_id"], r["attempt"],
                      r["contact"], r["rpc"], r["outcome"])  # fmt: skip

    def _one(self, conn: sqlite3.Connection, cid: int, act: int, customer: int, attempt: int,
             contact: int, rpc: int, outcome: str) -> None:  # fmt: skip
        """Add one activity: its flags, and the promises a promise outcome made."""
        promised: list[tuple[str | None, int | None]] = [(None, None)]
        if outcome in PROMISE_OUTCOMES:
            promised = conn.execute(
                """SELECT currency, SUM(amount_minor) FROM promises
                   WHERE customer_id = ? AND activity_id = ? GROUP BY currency""",
                (customer, act),
            ).fetchall() or [(None, None)]
        for n, (cur, amount) in enumerate(promised):
            first = n == 0  # a second currency: no second attempt
            self._add(cid, attempt if first else 0, contact if first else 0,
                      rpc if first else 0, outcome, cur, amount)  # fmt: skip

    def _payments(self, conn: sqlite3.Connection, after: int, upto: int, start: str,
                  end: str) -> None:  # fmt: skip
        """Payments loaded today with an id in (after, upto], by their account's owner."""
        if upto <= after:
            return
        for r in conn.execute(
            """SELECT q.collector_id, p.currency, SUM(p.amount_minor) FROM payments p
               JOIN queue q ON q.customer_id = p.customer_id
               WHERE p.id > ? AND p.id <= ? AND p.created_at >= ? AND p.created_at < ?
                 AND p.amount_minor > 0
               GROUP BY q.collector_id, p.currency""",
            (after, upto, start, end),
        ):
            if r[0] is not None:
                day = self._day(int(r[0]))
                day.collected[r[1]] = day.collected.get(r[1], 0) + int(r[2])


def _broke(details: str | None) -> bool:
    try:
        d = json.loads(details or "{}")
    except ValueError:
        return False
    return d.get("status") == "broken" and d.get("from") == "pending"
