"""Aging and collection metrics, computed in SQL over the ledger.

Aging buckets (DOMAIN.md), by days past due = as-of date - due date:
``current`` (<= 0), ``1-30``, ``31-60``, ``61-90``, ``91-120``, ``120+``. The figures are
those of dunning/owed.py, the one definition the account screen, the CLI and the promise
dialog also use: each bucket holds open, positive, undisputed invoices; ``credits`` holds
open credit notes (whatever their due date) and unapplied cash; ``disputed`` the open
amount of disputed invoices. ``net`` = buckets + credits (what is owed, disputes aside);
``total`` = net + disputed, so the totals equal the open ledger to the cent. Amounts never
mix currencies: every row and every total is per currency.

The aging of today (or a later date) reads the open amounts as loaded; the aging of a
past date rebuilds the ledger as it stood then (dunning/db/reports_past.py). Collection
metrics (DSO, CEI, rates) are in dunning/db/metrics.py.
"""

from __future__ import annotations

import gc
import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

from dunning.aging import BUCKETS  # one definition for every layer (re-exported)
from dunning.db import aging_snapshot
from dunning.db import reports_parallel as parallel
from dunning.db import reports_past as past
from dunning.db.connection import main_path
from dunning.owed import Owed

UNASSIGNED = "(unassigned)"


@dataclass(slots=True)
class AgingRow:
    key: str  # customer ref, collector username, or 'TOTAL'
    name: str
    collector: str
    currency: str
    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    credits: int = 0
    disputed: int = 0
    customers: int = 0

    # net and total as dunning/owed.py defines them (inline: a million rows are written)
    @property
    def net(self) -> int:
        return sum(self.buckets) + self.credits

    @property
    def total(self) -> int:
        return sum(self.buckets) + self.credits + self.disputed

    def owed(self) -> Owed:
        return Owed(self.currency, tuple(self.buckets), self.credits, self.disputed)

    def add(self, other: AgingRow) -> None:
        self.buckets = [a + b for a, b in zip(self.buckets, other.buckets, strict=True)]
        self.credits += other.credits
        self.disputed += other.disputed
        self.customers += other.customers


@dataclass
class AgingReport:
    as_of: date
    by: str
    rows: list[AgingRow]
    totals: list[AgingRow]  # one per currency
    rebuilt: bool = False  # the ledger as it stood on as_of (a past date), not as loaded


@contextmanager
def paused_gc() -> Iterator[None]:
    """Building hundreds of thousands of rows (no cycles among them) trips the cyclic
    garbage collector again and again; measured, pausing it halves the aging's Python
    time on 5,000,000 invoices."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _bounds(as_of: date) -> list[str]:
    """Due-date thresholds: due >= b[0] is current, >= b[1] is 1-30, ... A threshold
    before 0001-01-01 is '' (every date is on or after it: nothing is that overdue)."""
    out = []
    for days in (0, 30, 60, 90, 120):
        try:
            out.append((as_of - timedelta(days=days)).isoformat())
        except OverflowError:
            out.append("")
    return out


def customer_aging(conn: sqlite3.Connection, customer_id: int, as_of: date) -> AgingRow:
    """One account's aging row in its currency (the report's scan, for one customer)."""
    row = conn.execute(
        "SELECT external_ref, name, currency FROM customers WHERE id = ?", (customer_id,)
    ).fetchone()
    if row is None:
        return AgingRow("", "", "", "")
    report = aging(conn, as_of, customer_ids=[customer_id])
    mine = [r for r in report.rows if r.currency == row[2]]
    return mine[0] if mine else AgingRow(row[0], row[1], "", row[2])


def customer_owed(conn: sqlite3.Connection, customer_id: int, as_of: date) -> Owed:
    """What one account owes on ``as_of``, in its currency (dunning/owed.py): the same
    SQL as the aging report, so the screen, the CLI and the report agree."""
    return customer_aging(conn, customer_id, as_of).owed()


# Above this many invoices (by the largest invoice id) a whole-ledger aging is scanned by
# two processes, each over half the customers (dunning/db/reports_parallel.py).
PARALLEL_MIN_INVOICES = 400_000
# The caller's share of the customer ids, in percent: the worker's half also costs starting
# it and marshalling its rows; the caller builds its rows while the worker finishes.
SHARE = 55


def aging(
    conn: sqlite3.Connection,
    as_of: date,
    *,
    by: str = "customer",
    customer_ids: list[int] | None = None,
    parallel_min: int | None = None,
    today: date | None = None,
) -> AgingReport:
    """The aging report. ``parallel_min``: invoices from which the scan is split over two
    processes (default ``PARALLEL_MIN_INVOICES``); the rows are the same either way.

    ``today``: the current date. An ``as_of`` before it rebuilds the ledger as it stood
    on ``as_of`` (:func:`aging_past`); on or after it (or without ``today``) the open
    amounts are the ledger as loaded and ``as_of`` is the date days are counted from."""
    if today is not None and as_of < today:
        return aging_past(conn, as_of, by=by, customer_ids=customer_ids)
    with paused_gc():
        return _aging(conn, as_of, by, customer_ids, parallel_min)


def aging_past(
    conn: sqlite3.Connection,
    as_of: date,
    *,
    by: str = "customer",
    customer_ids: list[int] | None = None,
) -> AgingReport:
    """The aging of the ledger as it stood on ``as_of``: invoices issued by then, less
    the payments dated by then (see dunning/db/reports_past.py for what it rebuilds)."""
    if by not in ("customer", "collector"):
        raise ValueError("--by is customer or collector")
    where, params = _where(customer_ids)
    bounds = {f"b{n}": d for n, d in enumerate(_bounds(as_of), start=1)}
    names = {cid: user for cid, user in conn.execute("SELECT id, username FROM collectors")}
    with paused_gc():
        params |= bounds | {"as_of": as_of.isoformat()}
        if by == "collector" and customer_ids is None:
            groups = past.collector_groups(conn, params)
            if groups is not None:
                rows, totals = _by_collector([(groups, [])], names)
                return AgingReport(as_of, by, rows, totals, rebuilt=True)
        if customer_ids is None:
            cur = conn.cursor()
            cur.row_factory = None
            with aging_snapshot.read_tx(conn):
                sql, extra = past.customer_sql(conn, as_of.isoformat())
                tuples = cur.execute(sql, params | extra).fetchall()
        else:
            tuples = past.scan(conn, where, params)
        if by == "collector":
            parts: list[parallel.Result] = [(past.as_collector_groups(tuples), [])]
            rows, totals = _by_collector(parts, names)
            return AgingReport(as_of, by, rows, totals, rebuilt=True)
        rows = _customer_rows(tuples, names)
        return AgingReport(as_of, by, rows, _totals(parallel.currency_sums(tuples)), True)


def _where(customer_ids: list[int] | None) -> tuple[str, dict[str, str]]:
    if customer_ids is None:
        return "", {}
    ids = json.dumps(list(customer_ids))
    return "AND customer_id IN (SELECT value FROM json_each(:ids))", {"ids": ids}


def _aging(
    conn: sqlite3.Connection,
    as_of: date,
    by: str,
    customer_ids: list[int] | None,
    parallel_min: int | None,
) -> AgingReport:
    if by not in ("customer", "collector"):
        raise ValueError("--by is customer or collector")
    where, params = _where(customer_ids)
    bounds = {f"b{n}": d for n, d in enumerate(_bounds(as_of), start=1)} | params
    names = {cid: user for cid, user in conn.execute("SELECT id, username FROM collectors")}
    built: list[list[AgingRow]] = []  # the caller's half, built while the worker finishes

    def ready(part: parallel.Result) -> None:
        built.append(_customer_rows(part[0], names))

    parts = None
    if customer_ids is None:
        parts = _from_snapshot(conn, as_of, by)
    if parts is None and customer_ids is None:
        threshold = PARALLEL_MIN_INVOICES if parallel_min is None else parallel_min
        parts = _split(conn, by, bounds, threshold, ready if by == "customer" else None)
    if parts is None:
        parts = [parallel.scan(conn, by, where, bounds, customer_ids is None)]
    if by == "collector":
        return AgingReport(as_of, by, *_by_collector(parts, names))  # type: ignore[arg-type]
    if len(parts) == 1:
        rows = _customer_rows(parts[0][0], names)
    else:  # two runs, each in order: merged by their sort keys (-total, ref, currency)
        keys = [*parts[0][0], *parts[1][0]]
        both = [*built[0], *_customer_rows(parts[1][0], names)]
        rows = [both[i] for i in sorted(range(len(keys)), key=keys.__getitem__)]
    sums: dict[str, list[int]] = {}
    for _, part_sums in parts:
        for cur, s in part_sums.items():  # type: ignore[union-attr]
            t = sums.setdefault(cur, [0] * 9)
            for n, v in enumerate(s):
                t[n] += v
    return AgingReport(as_of, by, rows, _totals(sums))


def _from_snapshot(conn: sqlite3.Connection, as_of: date, by: str) -> list[parallel.Result] | None:
    """The whole ledger's tuples from the aging snapshot (dunning/db/aging_snapshot.py),
    or None without a usable one."""
    cur = conn.cursor()
    cur.row_factory = None
    with aging_snapshot.read_tx(conn):
        if by == "collector":
            plan = aging_snapshot.collector_sql(conn, as_of)
        else:
            plan = aging_snapshot.customer_sql(conn, as_of)
        if plan is None:
            return None
        rows = cur.execute(*plan).fetchall()
        if by == "collector":
            return [(rows, [])]
    return [(rows, parallel.currency_sums(rows))]


def _customer_rows(tuples: parallel.Tuples, names: dict[int, str]) -> list[AgingRow]:
    return [
        AgingRow(ref, name, names.get(cid) or UNASSIGNED, cur, [b0, b1, b2, b3, b4, b5], cr,
                 dp, 1)
        for _, ref, cur, b0, b1, b2, b3, b4, b5, cr, dp, name, cid in tuples
    ]  # fmt: skip


def _split(
    conn: sqlite3.Connection,
    by: str,
    params: dict[str, str],
    parallel_min: int,
    ready: Callable[[parallel.Result], None] | None,
) -> list[parallel.Result] | None:
    """The scan over two processes when the ledger is large enough, the database is a file
    and the caller is not inside a transaction (whose snapshot a second process cannot
    share); else None."""
    if conn.in_transaction:
        return None
    largest = conn.execute("SELECT MAX(id) FROM invoices").fetchone()[0] or 0
    if largest < parallel_min:
        return None
    path = main_path(conn)
    lo, hi = conn.execute(
        "SELECT (SELECT MIN(id) FROM customers), (SELECT MAX(id) FROM customers)"
    ).fetchone()
    if not path or lo is None or lo == hi:
        return None
    return parallel.split_scan(path, by, params, lo + (hi - lo) * SHARE // 100, ready)


def _by_collector(
    parts: list[parallel.Result], names: dict[int, str]
) -> tuple[list[AgingRow], list[AgingRow]]:
    by_user: dict[tuple[str | None, str], list[int]] = {}
    for agg, _ in parts:
        for cid, cur, *values in agg:
            t = by_user.setdefault((names.get(cid), cur), [0] * 9)
            for n, v in enumerate(values):
                t[n] += v
    at_c: dict[tuple[str, str], AgingRow] = {}
    for (user, cur), (b0, b1, b2, b3, b4, b5, credits, disputed, n) in by_user.items():
        who = user or UNASSIGNED
        at_c[(who, cur)] = AgingRow(who, "", who, cur, [b0, b1, b2, b3, b4, b5], credits,
                                    disputed, n)  # fmt: skip
    for _, cash_rows in parts:
        for cid, cur, cash, alone in cash_rows:  # type: ignore[misc]
            who = names.get(cid) or UNASSIGNED
            row = at_c.get((who, cur))
            if row is None:
                row = at_c[(who, cur)] = AgingRow(who, "", who, cur, customers=0)
            row.credits += cash
            row.customers += alone
    rows = sorted(at_c.values(), key=lambda r: (r.key == UNASSIGNED, r.key, r.currency))
    sums: dict[str, list[int]] = {}
    for row in rows:
        t = sums.setdefault(row.currency, [0] * 9)
        for n, v in enumerate([*row.buckets, row.credits, row.disputed, row.customers]):
            t[n] += v
    return rows, _totals(sums)


def _totals(sums: dict[str, list[int]]) -> list[AgingRow]:
    return [
        AgingRow("TOTAL", "", "", cur, t[:6], t[6], t[7], t[8]) for cur, t in sorted(sums.items())
    ]


def ledger_total(conn: sqlite3.Connection) -> dict[str, int]:
    """What the ledger says is owed per currency: open invoices less unapplied cash."""
    out: dict[str, int] = defaultdict(int)
    for cur, total in conn.execute(
        """SELECT currency, SUM(s) FROM (
               SELECT currency, SUM(open_minor) AS s FROM invoices WHERE status = 'open'
               GROUP BY customer_id, currency) GROUP BY currency"""  # in index order
    ):
        out[cur] += total
    for cur, total in conn.execute(
        "SELECT currency, SUM(amount_minor) FROM payments WHERE invoice_id IS NULL GROUP BY 1"
    ):
        out[cur] -= total
    return dict(out)
