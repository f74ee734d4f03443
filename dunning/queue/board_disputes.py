"""The board's open disputes per collector, and how many are overdue (issue 9).

A dispute is overdue past ``[disputes] service_days`` business days of the customer's
calendar (queue/disputes.py: ``service_end``). The board counts with the calendar of the
customer's place (country and subdivision: its holidays and its main zone), one cut-off
per place and day: a dispute opened (on that zone's clock) before the cut-off date is
overdue. The disputes screen (``D``) reads, for a customer whose address has no known
zone, the zone of their first number; both agree for every other customer.

Counted like the board's other counts (queue/board.py): per collector, again only for the
collectors whose accounts changed since the last read (a dispute opened or ended writes
an activity; a move names its giver and taker), and for every collector when the day
changes. One collector's count is a range of their accounts probed against the open
disputes' partial index (``disputes_open``, m033); the first read is one pass over that
index.
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

_ALL = """SELECT q.collector_id, c.country, c.subdivision, d.created_at
          FROM disputes d INDEXED BY disputes_open
          JOIN queue q ON q.customer_id = d.customer_id
          JOIN customers c ON c.id = d.customer_id
          WHERE d.status = 'open'"""
_ONE = """SELECT q.collector_id, c.country, c.subdivision, d.created_at
          FROM queue q INDEXED BY queue_worklist
          JOIN disputes d INDEXED BY disputes_open ON d.customer_id = q.customer_id
          JOIN customers c ON c.id = q.customer_id
          WHERE q.collector_id = ? AND d.status = 'open'"""


class DisputeCounts:
    """Open and overdue disputes per collector, remembered between reads."""

    def __init__(self, service_days: int) -> None:
        self.service_days = service_days
        self.counts: dict[int, tuple[int, int]] = {}  # collector -> (open, overdue)
        self._slot = -1  # the quarter hour the cut-offs were computed in
        self._cutoffs: dict[Place, str] = {}  # place -> overdue before this UTC instant

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

    def _new_day(self, now: datetime) -> bool:
        """Each quarter hour (zones are offset by quarter hours at least): whether a
        place's day changed since the last read, which moves its cut-off."""
        slot = int(now.timestamp() // 900)
        if slot == self._slot:
            return False
        self._slot = slot
        old, self._cutoffs = self._cutoffs, {p: self._compute(p, now) for p in self._cutoffs}
        return old != self._cutoffs

    def _add(self, rows: Iterable[tuple[object, ...]], now: datetime, into: set[int]) -> None:
        for cid, country, sub, opened in rows:
            if cid is None or int(cid) not in into:  # type: ignore[call-overload]
                continue
            k = int(cid)  # type: ignore[call-overload]
            n, late = self.counts.get(k, (0, 0))
            overdue = str(opened) < self._cutoff((str(country or ""), sub), now)  # type: ignore[arg-type]
            self.counts[k] = (n + 1, late + int(overdue))

    def read(self, conn: sqlite3.Connection, ids: list[int], todo: set[int], now: datetime) -> None:
        """Count again the collectors of ``todo`` (and those never counted; all of them
        when a place's day changed); inside the board's read transaction."""
        if self._new_day(now):
            todo = set(ids)
        todo = {c for c in ids if c in todo or c not in self.counts}
        if not todo:
            return
        for cid in todo:
            self.counts[cid] = (0, 0)
        if len(todo) > max(8, len(ids) // 2):
            self._add(conn.execute(_ALL), now, todo)
            return
        for cid in sorted(todo):
            self._add(conn.execute(_ONE, (cid,)), now, todo)
