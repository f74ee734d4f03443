"""The board's open disputes per collector, and how many are overdue (issue 9).

A dispute is overdue past ``[disputes] service_days`` business days of the customer's
calendar (queue/disputes.py: ``service_end``). The board counts with the calendar of the
customer's place (country and subdivision: its holidays and its main zone), one cut-off
per place and day: a dispute opened (on that zone's clock) before the cut-off date is
overdue. The disputes screen (``D``) reads, for a customer whose address has no known
zone, the zone of their first number; both agree for every other customer.

Kept per dispute between reads, and read again only for the customers something was
written for since the last read: a dispute is opened, ended or closed by an import with an
activity of its customer, voided with a void, moved with an assignment; so a refresh reads
the ids written since (ranges of the primary keys) and those customers' open disputes
(the partial index ``disputes_open``, m033), never every dispute. The whole read is one
pass over that index (at 1M customers: ~50,000 open disputes, ~0.3-0.5 s CPU): the
screen's book does it, when the board opens and every 5 minutes, and hands it to the live
reader (queue/board.py: ``adopt``). Each quarter hour the cut-offs are computed again,
and the overdue flags with them when a day changed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo

from dunning.clock import to_iso
from dunning.places import reach, subdivision_code
from dunning.queue.calendar import CustomerCalendar, customer_tz, day_start
from dunning.queue.disputes import service_end

Place = tuple[str, str | None]  # (country, subdivision) as stored

_OPEN = """SELECT d.id, d.customer_id, q.collector_id, c.country, c.subdivision, d.created_at
           FROM disputes d INDEXED BY disputes_open
           JOIN queue q ON q.customer_id = d.customer_id
           JOIN customers c ON c.id = d.customer_id
           WHERE d.status = 'open'"""
# what a customer's disputes can change with: (table, its customer column)
SOURCES = (("activities", "customer_id"), ("assignments", "customer_id"),
           ("voids", "customer_id"), ("disputes", "customer_id"))  # fmt: skip
FULL_AFTER = 200_000  # more rows written since the last read: read every open dispute


class DisputeCounts:
    """Open and overdue disputes per collector, remembered between reads."""

    def __init__(self, service_days: int) -> None:
        self.service_days = service_days
        self.counts: dict[int | None, list[int]] = {}  # collector -> [open, overdue]
        # dispute id -> [collector, customer, place, opened (UTC ISO), overdue]
        self._open: dict[int, list] = {}
        self._by_customer: dict[int, set[int]] = {}
        self._marks: tuple[int, ...] | None = None  # the last id read of each source
        self._slot = -1  # the quarter hour the cut-offs were computed in
        self._cutoffs: dict[Place, str] = {}  # place -> overdue before this UTC instant

    def get(self, cid: int) -> tuple[int, int]:
        got = self.counts.get(cid)
        return (got[0], got[1]) if got else (0, 0)

    def _cutoff(self, place: Place, now: datetime) -> str:
        got = self._cutoffs.get(place)
        if got is None:
            got = self._cutoffs[place] = self._compute(place, now)
        return got

    def _compute(self, place: Place, now: datetime) -> str:
        country, sub = place
        tz: tzinfo = customer_tz(reach(country or "", sub, ()).zones)
        cal = CustomerCalendar(tz, country or "", subdivision_code(country, sub))
        today = now.astimezone(tz).date()
        first = today  # the first day opened on which a dispute is not overdue today
        while service_end(first - timedelta(days=1), self.service_days, cal) >= today:
            first -= timedelta(days=1)
        return to_iso(day_start(first, tz))

    def _new_cutoffs(self, now: datetime) -> None:
        """Each quarter hour (zones are offset by quarter hours at least): the cut-offs
        again; when a place's day changed, every dispute's overdue flag again."""
        slot = int(now.timestamp() // 900)
        if slot == self._slot:
            return
        self._slot = slot
        old, self._cutoffs = self._cutoffs, {p: self._compute(p, now) for p in self._cutoffs}
        if old == self._cutoffs:
            return
        for entry in self._open.values():
            late = entry[3] < self._cutoff(entry[2], now)
            if late != entry[4]:
                self.counts[entry[0]][1] += 1 if late else -1
                entry[4] = late

    def _drop(self, customer: int) -> None:
        for did in self._by_customer.pop(customer, ()):
            owner, _cust, _place, _at, late = self._open.pop(did)
            n = self.counts[owner]
            n[0] -= 1
            n[1] -= int(late)

    def _add(self, rows: Iterable[tuple[object, ...]], now: datetime) -> None:
        for did, customer, owner, country, sub, opened in rows:
            place = (str(country or ""), sub)
            late = str(opened) < self._cutoff(place, now)  # type: ignore[arg-type]
            self._open[int(did)] = [owner, int(customer), place, str(opened), late]  # type: ignore[call-overload]
            self._by_customer.setdefault(int(customer), set()).add(int(did))  # type: ignore[call-overload]
            n = self.counts.setdefault(owner, [0, 0])  # type: ignore[arg-type]
            n[0] += 1
            n[1] += int(late)

    def read(self, conn: sqlite3.Connection, now: datetime) -> None:
        """Bring the counts up to what is committed; inside the board's read transaction."""
        self._new_cutoffs(now)
        marks = tuple(
            int(conn.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {t}").fetchone()[0])
            for t, _c in SOURCES
        )
        last, self._marks = self._marks, marks
        if last is not None and marks == last:
            return
        if last is None or sum(m - k for m, k in zip(marks, last, strict=True)) > FULL_AFTER:
            self.counts, self._open, self._by_customer = {}, {}, {}
            self._add(conn.execute(_OPEN), now)
            return
        customers: set[int] = set()
        for (table, column), hi, lo in zip(SOURCES, marks, last, strict=True):
            if hi != lo:
                customers.update(int(r[0]) for r in conn.execute(
                    f"SELECT DISTINCT {column} FROM {table} WHERE rowid > ? AND rowid <= ?",
                    (lo, hi)))  # fmt: skip
        for customer in customers:
            self._drop(customer)
        todo = sorted(customers)
        for i in range(0, len(todo), 500):
            part = todo[i : i + 500]
            marks_sql = ",".join("?" * len(part))
            self._add(conn.execute(f"{_OPEN} AND d.customer_id IN ({marks_sql})", part), now)
