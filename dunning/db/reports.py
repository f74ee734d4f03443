"""Aging and collection metrics, computed in SQL over the ledger.

Aging buckets (DOMAIN.md), by days past due = as-of date - due date:
``current`` (<= 0), ``1-30``, ``31-60``, ``61-90``, ``91-120``, ``120+``. Each bucket holds
open, positive invoices (disputed ones included, and shown apart as "of which disputed");
``credits`` holds open credit notes and unapplied cash. ``total`` = buckets + credits, so
the totals equal the open ledger to the cent. Amounts never mix currencies: every row
and every total is per currency.
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
from dunning.db import reports_parallel as parallel

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

    @property
    def total(self) -> int:
        return sum(self.buckets) + self.credits

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
    """Due-date thresholds: due >= b[0] is current, >= b[1] is 1-30, ..."""
    return [(as_of - timedelta(days=d)).isoformat() for d in (0, 30, 60, 90, 120)]


def customer_aging(conn: sqlite3.Connection, customer_id: int, as_of: date) -> AgingRow:
    """One account's aging, for the account screen."""
    report = aging(conn, as_of, customer_ids=[customer_id])
    if report.rows:
        return report.rows[0]
    row = conn.execute(
        "SELECT external_ref, name, currency FROM customers WHERE id = ?", (customer_id,)
    ).fetchone()
    return AgingRow(row[0], row[1], "", row[2]) if row else AgingRow("", "", "", "")


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
) -> AgingReport:
    """The aging report. ``parallel_min``: invoices from which the scan is split over two
    processes (default ``PARALLEL_MIN_INVOICES``); the rows are the same either way."""
    with paused_gc():
        return _aging(conn, as_of, by, customer_ids, parallel_min)


def _aging(
    conn: sqlite3.Connection,
    as_of: date,
    by: str,
    customer_ids: list[int] | None,
    parallel_min: int | None,
) -> AgingReport:
    if by not in ("customer", "collector"):
        raise ValueError("--by is customer or collector")
    where, params = "", {}
    if customer_ids is not None:
        where = "AND customer_id IN (SELECT value FROM json_each(:ids))"
        params = {"ids": json.dumps(list(customer_ids))}
    bounds = {f"b{n}": d for n, d in enumerate(_bounds(as_of), start=1)} | params
    names = {cid: user for cid, user in conn.execute("SELECT id, username FROM collectors")}
    built: list[list[AgingRow]] = []  # the caller's half, built while the worker finishes

    def ready(part: parallel.Result) -> None:
        built.append(_customer_rows(part[0], names))

    parts = None
    if customer_ids is None:
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
    path = next((r[2] for r in conn.execute("PRAGMA database_list") if r[1] == "main"), "")
    lo, hi = conn.execute("SELECT MIN(id), MAX(id) FROM customers").fetchone()
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


# --- metrics -----------------------------------------------------------------------------

METRICS_LEDGER_SQL = """
WITH pay AS (
    SELECT invoice_id,
           SUM(CASE WHEN paid_on <= :end THEN amount_minor ELSE 0 END) AS p_end,
           SUM(CASE WHEN paid_on <= :before THEN amount_minor ELSE 0 END) AS p_before,
           SUM(amount_minor) AS p_all
    FROM payments WHERE invoice_id IS NOT NULL GROUP BY invoice_id
), inv AS (
    SELECT i.customer_id, i.currency, i.issue_date, i.due_date, i.amount_minor AS amt,
           COALESCE(p.p_end, 0) AS p_end, COALESCE(p.p_before, 0) AS p_before,
           -- what left the invoice without a payment (ERP adjustment, --snapshot close),
           -- dated by the import that recorded it
           i.amount_minor - i.open_minor - COALESCE(p.p_all, 0) AS adj,
           substr(i.updated_at, 1, 10) AS adj_on
    FROM invoices i LEFT JOIN pay p ON p.invoice_id = i.id
    WHERE i.issue_date <= :end
)
SELECT q.collector_id, inv.currency,
       SUM(CASE WHEN issue_date >= :start THEN amt ELSE 0 END),
       SUM(amt - p_end - CASE WHEN adj_on <= :end THEN adj ELSE 0 END),
       SUM(CASE WHEN due_date >= :end
                THEN amt - p_end - CASE WHEN adj_on <= :end THEN adj ELSE 0 END
                ELSE 0 END),
       SUM(CASE WHEN issue_date <= :before
                THEN amt - p_before - CASE WHEN adj_on <= :before THEN adj ELSE 0 END
                ELSE 0 END)
FROM inv LEFT JOIN queue q ON q.customer_id = inv.customer_id
GROUP BY q.collector_id, inv.currency
"""
METRICS_CASH_SQL = """
SELECT q.collector_id, p.currency,
       SUM(CASE WHEN p.invoice_id IS NULL AND p.paid_on <= :end THEN p.amount_minor END),
       SUM(CASE WHEN p.invoice_id IS NULL AND p.paid_on <= :before THEN p.amount_minor END),
       SUM(CASE WHEN p.paid_on BETWEEN :start AND :end THEN p.amount_minor END)
FROM payments p LEFT JOIN queue q ON q.customer_id = p.customer_id
GROUP BY q.collector_id, p.currency
"""
METRICS_PROMISES_SQL = """
SELECT created_by, currency,
       SUM(status = 'kept'), SUM(status IN ('kept', 'partial', 'broken')),
       SUM(CASE WHEN promised_on BETWEEN :start AND :end THEN amount_minor ELSE 0 END)
FROM promises WHERE due_date BETWEEN :start AND :end OR promised_on BETWEEN :start AND :end
GROUP BY created_by, currency
"""
METRICS_CALLS_SQL = """
SELECT collector_id, substr(at, 1, 10) AS day, SUM(attempt), SUM(contact), SUM(rpc),
       (julianday(MAX(at)) - julianday(MIN(at))) * 24
FROM activities WHERE at >= :start_at AND at < :end_at AND collector_id IS NOT NULL
GROUP BY collector_id, day
"""


@dataclass
class Metrics:
    collector: str
    currency: str
    days: int
    credit_sales: int = 0
    receivables_begin: int = 0
    receivables_end: int = 0
    current_end: int = 0
    collected: int = 0
    promised: int = 0
    promises_due: int = 0
    promises_kept: int = 0
    attempts: int = 0
    contacts: int = 0
    rpc: int = 0
    hours: float = 0.0

    def add(self, o: Metrics) -> None:
        for name in ("credit_sales", "receivables_begin", "receivables_end", "current_end",
                     "collected", "promised", "promises_due", "promises_kept"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(o, name))

    def _ratio(self, num: float, den: float, scale: float = 1.0) -> float | None:
        return round(num / den * scale, 2) if den else None

    @property
    def dso(self) -> float | None:
        return self._ratio(self.receivables_end * self.days, self.credit_sales)

    @property
    def bpdso(self) -> float | None:
        return self._ratio(self.current_end * self.days, self.credit_sales)

    @property
    def add_days(self) -> float | None:
        """Average days delinquent = DSO - BPDSO."""
        if self.dso is None or self.bpdso is None:
            return None
        return round(self.dso - self.bpdso, 2)

    @property
    def cei(self) -> float | None:
        base = self.receivables_begin + self.credit_sales
        return self._ratio(base - self.receivables_end, base - self.current_end, 100)

    @property
    def kept_rate(self) -> float | None:
        return self._ratio(self.promises_kept, self.promises_due, 100)

    @property
    def rpc_rate(self) -> float | None:
        return self._ratio(self.rpc, self.attempts, 100)

    @property
    def contacts_per_hour(self) -> float | None:
        return self._ratio(self.contacts, self.hours) if self.hours >= 0.25 else None


def metrics(conn: sqlite3.Connection, start: date, end: date) -> list[Metrics]:
    """Per collector and currency, then TEAM rows per currency. Ledger metrics (DSO,
    BPDSO, ADD, CEI) follow DOMAIN.md; receivables at a date are rebuilt from the
    invoices issued by then less the payments dated by then."""
    if end < start:
        raise ValueError("--to is before --from")
    names = {r[0]: r[1] for r in conn.execute("SELECT id, username FROM collectors")}
    days = (end - start).days + 1
    p = {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "before": (start - timedelta(days=1)).isoformat(),
        "start_at": f"{start.isoformat()}T00:00:00Z",
        "end_at": f"{(end + timedelta(days=1)).isoformat()}T00:00:00Z",
    }
    out: dict[tuple[str, str], Metrics] = {}

    def get(cid: int | None, currency: str) -> Metrics:
        who = names.get(cid, UNASSIGNED) if cid is not None else UNASSIGNED
        m = out.get((who, currency))
        if m is None:
            m = out[(who, currency)] = Metrics(who, currency, days)
        return m

    for cid, cur, sales, end_r, current, begin_r in conn.execute(METRICS_LEDGER_SQL, p):
        m = get(cid, cur)
        m.credit_sales += sales or 0
        m.receivables_end += end_r or 0
        m.current_end += current or 0
        m.receivables_begin += begin_r or 0
    for cid, cur, unapplied_end, unapplied_before, collected in conn.execute(METRICS_CASH_SQL, p):
        m = get(cid, cur)
        m.receivables_end -= unapplied_end or 0
        m.receivables_begin -= unapplied_before or 0
        m.collected += collected or 0
    for cid, cur, kept, due, promised in conn.execute(METRICS_PROMISES_SQL, p):
        m = get(cid, cur)
        m.promises_kept += kept or 0
        m.promises_due += due or 0
        m.promised += promised or 0
    calls: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0.0])
    for cid, _day, attempts, contacts, rpc, hours in conn.execute(METRICS_CALLS_SQL, p):
        c = calls[names.get(cid, UNASSIGNED)]
        c[0] += attempts or 0
        c[1] += contacts or 0
        c[2] += rpc or 0
        c[3] += hours or 0.0
    for who in calls:
        if not any(m.collector == who for m in out.values()):
            out[(who, "")] = Metrics(who, "", days)
    rows = sorted(out.values(), key=lambda m: (m.collector == UNASSIGNED, m.collector, m.currency))
    team: dict[str, Metrics] = {}
    first_row: set[str] = set()
    for m in rows:
        if m.collector not in first_row:  # calls are per collector, on its first row only
            first_row.add(m.collector)
            c = calls.get(m.collector, [0, 0, 0, 0.0])
            m.attempts, m.contacts, m.rpc, m.hours = int(c[0]), int(c[1]), int(c[2]), c[3]
        t = team.setdefault(m.currency, Metrics("TEAM", m.currency, days))
        t.add(m)
        t.attempts += m.attempts
        t.contacts += m.contacts
        t.rpc += m.rpc
        t.hours += m.hours
    return rows + [team[c] for c in sorted(team)]
