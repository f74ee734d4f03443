"""The aging of a past date by collector, as two independent aggregates (issue 8).

The by-collector report is a handful of rows: sums per (collector, currency) and the
number of (customer, currency) rows with something open on the date. reports_past's
``DELTA_COLLECTOR_SQL`` built every customer's row first (a million rows materialized,
then sorted again by collector); here the figures are split along the one line where
they are linear:

- **the base** (the ledger as loaded, aged on the date): the aging of today's own
  by-collector statements (reports_parallel.COLLECTOR_SQL and COLLECTOR_CASH_SQL) with
  the date's bucket bounds, read from the covering index of open invoices. It counts
  every (customer, currency) with an open item now;
- **the correction** (:data:`CORRECTION_SQL`): what changed after the date, per (customer,
  currency) touched, summed per collector. Each changed invoice takes off its part today
  and adds its part on the date (reports_past's docstring: the same rules, one
  payment sum per invoice instead of two); cash received by the date for an invoice
  issued after it is added, unapplied cash received after the date taken off. A touched
  row's count moves by ``[open items then > 0] - [open items now > 0]``; the count of
  open items now is read (through the same indexes) only for a row whose count drops.

The sums of the two are the report's (tests/test_aging_reference.py holds every output
to a slow reference). On a large ledger the base is computed by a second process
(``python -m dunning.db.reports_parallel``) while this one computes the correction, in
one snapshot (reports_parallel.split_scan's ``PRAGMA data_version`` check); when that
cannot be done the two run here one after the other, in one read transaction.
"""

from __future__ import annotations

import marshal
import sqlite3
import subprocess
import sys
from typing import Any
from urllib.parse import quote

from dunning.db import reports_parallel as parallel
from dunning.db.reports_parallel import Result, Tuples
from dunning.db.schema import CHANGED_ON

# Above this many invoices (by the largest id) the base is computed by a second process.
PARALLEL_MIN_INVOICES = 400_000

# A contribution row: (customer_id, currency, due_date, disputed, o, v, s, k): o the
# amount that classifies it (an invoice's open amount then or now), v what it adds (o, or
# -o for the part taken off), s what it adds to the count of open items, k 1 for cash
# (always a credit). The buckets as reports_parallel.BUCKET_SUMS classifies them.
_SUMS = """
    COALESCE(SUM(v) FILTER (WHERE k = 0 AND o > 0 AND due_date >= :b1 AND NOT disputed), 0) AS b0,
    COALESCE(SUM(v) FILTER (WHERE k = 0 AND o > 0 AND due_date < :b1 AND due_date >= :b2
                            AND NOT disputed), 0) AS b1,
    COALESCE(SUM(v) FILTER (WHERE k = 0 AND o > 0 AND due_date < :b2 AND due_date >= :b3
                            AND NOT disputed), 0) AS b2,
    COALESCE(SUM(v) FILTER (WHERE k = 0 AND o > 0 AND due_date < :b3 AND due_date >= :b4
                            AND NOT disputed), 0) AS b3,
    COALESCE(SUM(v) FILTER (WHERE k = 0 AND o > 0 AND due_date < :b4 AND due_date >= :b5
                            AND NOT disputed), 0) AS b4,
    COALESCE(SUM(v) FILTER (WHERE k = 0 AND o > 0 AND due_date < :b5 AND NOT disputed), 0) AS b5,
    COALESCE(SUM(v) FILTER (WHERE k = 1 OR o < 0), 0) AS cr,
    COALESCE(SUM(v) FILTER (WHERE k = 0 AND o > 0 AND disputed), 0) AS dp"""
_CHANGED_I = CHANGED_ON.replace("issue_date", "i.issue_date").replace(
    "updated_at", "i.updated_at").replace("status", "i.status").replace(
    "open_minor", "i.open_minor")  # fmt: skip
# open items now in one (customer, currency): the base's count of it
_N_NOW = """(
    (SELECT COUNT(*) FROM invoices INDEXED BY invoices_aging
     WHERE customer_id = g.customer_id AND currency = g.currency AND status = 'open'
       AND open_minor != 0)
  + (SELECT COUNT(*) FROM payments INDEXED BY payments_unapplied
     WHERE customer_id = g.customer_id AND currency = g.currency AND invoice_id IS NULL))"""
_ANY_NOW = """(
    EXISTS (SELECT 1 FROM invoices INDEXED BY invoices_aging
            WHERE customer_id = g.customer_id AND currency = g.currency AND status = 'open'
              AND open_minor != 0)
    OR EXISTS (SELECT 1 FROM payments INDEXED BY payments_unapplied
               WHERE customer_id = g.customer_id AND currency = g.currency
                 AND invoice_id IS NULL))"""
# (collector id, currency, b0..b5, credits, disputed, change in the count of rows)
CORRECTION_SQL = (
    """
WITH paid AS (  -- paid after the date (applied payments)
    SELECT DISTINCT invoice_id AS id FROM payments INDEXED BY payments_paid_on
    WHERE paid_on > :as_of AND invoice_id IS NOT NULL
), ch AS (  -- each invoice whose part may differ between the date and today, once
    SELECT id FROM invoices INDEXED BY invoices_changed_on WHERE """ + CHANGED_ON + """ > :as_of
    UNION ALL
    SELECT i.id FROM paid JOIN invoices i ON i.id = paid.id
    WHERE NOT (""" + _CHANGED_I + """ > :as_of)
), d AS MATERIALIZED (
    SELECT i.id, i.customer_id, i.currency, i.due_date, i.disputed,
           i.issue_date > :as_of AS later,
           CASE WHEN i.issue_date > :as_of THEN 0
                WHEN substr(i.updated_at, 1, 10) > :as_of  -- then = amount - paid by then
                THEN i.amount_minor - COALESCE(
                    (SELECT SUM(p.amount_minor) FROM payments p
                     WHERE p.invoice_id = i.id AND p.paid_on <= :as_of), 0)
                ELSE i.open_minor + COALESCE(  -- then = open now + paid after
                    (SELECT SUM(p.amount_minor) FROM payments p
                     WHERE p.invoice_id = i.id AND p.paid_on > :as_of), 0)
           END AS then_open,
           CASE WHEN i.status = 'open' THEN i.open_minor ELSE 0 END AS now_open
    FROM ch JOIN invoices i ON i.id = ch.id
), c AS (  -- the contribution rows
    SELECT customer_id, currency, due_date, disputed, then_open AS o, then_open AS v,
           1 AS s, 0 AS k FROM d WHERE then_open != 0
    UNION ALL
    SELECT customer_id, currency, due_date, disputed, now_open, -now_open, -1, 0
    FROM d WHERE now_open != 0
    UNION ALL  -- received by the date for an invoice issued after it: unapplied then
    SELECT p.customer_id, p.currency, '', 0, 0, -p.amount_minor, 1, 1
    FROM d JOIN payments p ON p.invoice_id = d.id WHERE d.later AND p.paid_on <= :as_of
    UNION ALL  -- unapplied cash received after the date: not there yet
    SELECT customer_id, currency, '', 0, 0, amount_minor, -1, 1
    FROM payments INDEXED BY payments_paid_on WHERE paid_on > :as_of AND invoice_id IS NULL
), g AS (
    SELECT customer_id, currency, """ + _SUMS + """, SUM(s) AS n
    FROM c GROUP BY customer_id, currency
)
SELECT q.collector_id, g.currency, SUM(b0), SUM(b1), SUM(b2), SUM(b3), SUM(b4),
       SUM(b5), SUM(cr), SUM(dp),
       SUM(CASE WHEN g.n = 0 THEN 0
                WHEN g.n > 0 THEN 1 - """ + _ANY_NOW + """
                ELSE (""" + _N_NOW + """ + g.n > 0) - 1 END)
FROM g LEFT JOIN queue q ON q.customer_id = g.customer_id
GROUP BY q.collector_id, g.currency
"""
)  # fmt: skip


def correction(conn: sqlite3.Connection, params: dict[str, Any]) -> Tuples:
    """What changed after ``params["as_of"]``, per (collector id, currency): b0..b5,
    credits, disputed, and the change in the number of customer rows."""
    cur = conn.cursor()
    cur.row_factory = None
    return cur.execute(CORRECTION_SQL, params).fetchall()


def _bounds(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if k in ("b1", "b2", "b3", "b4", "b5")}


def base(conn: sqlite3.Connection, params: dict[str, Any]) -> Result:
    """The ledger as loaded, aged on the date, by collector (the aging of today's scan)."""
    return parallel.scan(conn, "collector", "", _bounds(params), True, parallel.UNAPPLIED_HINT)


def groups(conn: sqlite3.Connection, params: dict[str, Any]) -> Result:
    """The by-collector aggregate of the date (collector id, currency, b0..b5, credits,
    disputed, customers), no unapplied-cash rows apart: the base and the correction
    summed, in one snapshot. ``conn``: a read connection (its own transaction is opened
    here when it is not in one)."""
    path = next((r[2] for r in conn.execute("PRAGMA database_list") if r[1] == "main"), "")
    parts = None
    if path and not conn.in_transaction:
        largest = conn.execute("SELECT MAX(id) FROM invoices").fetchone()[0] or 0
        if largest >= PARALLEL_MIN_INVOICES:
            parts = _two_processes(path, params)
    if parts is None:
        own_tx = not conn.in_transaction
        if own_tx:
            conn.execute("BEGIN")
        try:
            parts = [base(conn, params), (correction(conn, params), [])]
        finally:
            if own_tx and conn.in_transaction:
                conn.execute("COMMIT")
    return merged(parts), []


def merged(parts: list[Result]) -> Tuples:
    """The parts' rows summed per (collector id, currency), the base's unapplied-cash
    rows (cash and customers with no open invoice) included. A key whose count of
    customer rows comes to 0 has nothing on the date (its sums are 0 too): dropped."""
    acc: dict[tuple[Any, str], list[int]] = {}
    for agg, cash in parts:
        for cid, cur, *values in agg:
            t = acc.setdefault((cid, cur), [0] * 9)
            for n, v in enumerate(values):
                t[n] += v
        for cid, cur, amount, alone in cash:  # type: ignore[misc]
            t = acc.setdefault((cid, cur), [0] * 9)
            t[6] += amount
            t[8] += alone
    return [(cid, cur, *t) for (cid, cur), t in acc.items() if t[8] != 0]


def _reader(path: str) -> sqlite3.Connection:
    """As reports_past.reader's connection: no memory map (touched pages would count in
    the process's memory), temporary B-trees in files, a bounded cache."""
    conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA mmap_size=0")
    conn.execute("PRAGMA temp_store=FILE")
    conn.execute("PRAGMA cache_size=-16384")
    return conn


def _two_processes(path: str, params: dict[str, Any]) -> list[Result] | None:
    """The base by a second process, the correction here, one snapshot; None when that
    could not be done (a write committed between the two read transactions, or the
    worker failed)."""
    job = {"path": path, "by": "collector", "params": _bounds(params), "mid": None,
           "hint": parallel.UNAPPLIED_HINT}  # fmt: skip
    probe = parallel.read_connection(path)
    v1 = probe.execute("PRAGMA data_version").fetchone()[0]
    proc = subprocess.Popen(
        [sys.executable, "-m", parallel.__name__],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    own = _reader(path)
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(marshal.dumps(job))
        proc.stdin.close()
        parallel.begin_snapshot(own)
        started = proc.stdout.read(1) == b"S"
        if not started or probe.execute("PRAGMA data_version").fetchone()[0] != v1:
            return None
        mine = correction(own, params)
        data = proc.stdout.read()
        if proc.wait() != 0:
            return None
        return [marshal.loads(data), (mine, [])]
    finally:
        own.close()
        probe.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
