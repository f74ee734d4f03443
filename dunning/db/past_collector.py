"""The aging of a past date by collector, as two aggregates that add up (issue 8).

The by-collector report is a handful of rows: sums per (collector, currency) and the
number of (customer, currency) rows with something open on the date. reports_past's
``DELTA_COLLECTOR_SQL`` built every customer's row first (a million rows materialized,
sorted, then grouped again by collector). Here:

**The base** (:data:`BASE_SQL`) ages every invoice open today and issued by the date
(m020 put ``issue_date`` last in the covering index ``invoices_aging``, so those issued
after the date are left out in the index, no table read) on the date's bucket bounds,
with today's amounts, and adds the unapplied cash received by the date; per (collector,
currency) with its count of (customer, currency) rows. It reads no other set, so it
splits by customer range: chunks of ``CHUNK_CUSTOMERS`` ids, one statement each (a
roll-up of ~100,000 rows sorts faster than one of ~900,000), which a second process takes
from the lowest ids up while this one computes the correction, then takes them from the
highest ids down (``reports_parallel.claim``): the two end within a chunk of each other
whatever the load on either core.

**The correction** (:data:`CORRECTION_SQL`) is what differs for ``ch``, the invoices
issued by the date whose part may differ between the date and today: changed after the
date (by an import, or a status that disagrees with its open amount: the expression
index ``invoices_changed_on`` of m015, with ``issue_date`` beside it since m020, so a
filtered range of that index) or paid after it (``payments_paid_on``). On the 1M demo
ledger 30 days back: 160,000 of 5.05M (round 3's set held the 560,000 issued after the
date too). For each, its part today (when the base counted it) is taken off and what it
had open on the date is added (reports_past's rules: amount less what was paid by the
date when an import changed the invoice after it, else open now plus what was paid
after it); and the cash received by the date for an invoice issued after it (unapplied
then: those invoices are a range of ``invoices_changed_on``, each probed in
``payments_invoice``). Its count of rows is a difference per (customer, currency) it
touches: whether the row exists on the date less whether the base counted it (a few
index probes for each such row, not for every row).

Sums and counts add up to the report's (tests/test_aging_reference.py,
tests/test_aging_past_collector.py and tests/test_aging_past_issued.py hold them to a
slow reference). The two processes read one snapshot (reports_parallel.split_scan's
``PRAGMA data_version`` check); when that cannot be done (a commit in between, the
worker failed, a small ledger, the caller inside a transaction) both parts run here, in
one read transaction (one statement when the customers make one chunk). Memory: a few
rows come back; the temporary B-trees (``ch``, the groups) spill to files, no memory map.
"""

from __future__ import annotations

import marshal
import os
import sqlite3
import subprocess
import sys
from contextlib import suppress
from typing import Any

from dunning.db import reports_parallel as parallel
from dunning.db.connection import main_path
from dunning.db.reports_parallel import BUCKET_SUMS, Result, Tuples
from dunning.db.schema import CHANGED_ON

# Above this many invoices (by the largest id) the base is split with a second process.
PARALLEL_MIN_INVOICES = 400_000
# The base is computed in chunks of customer ids (round 6, docs/ROUND6_p5.md): each
# chunk's roll-up by collector sorts ~100,000 rows instead of ~900,000 (CPU of the base
# of 870,000 customers at 1M: 4.2-4.8 s against 4.9-5.4 s in one statement, interleaved),
# and two processes share them out as they go instead of at a fixed share.
CHUNK_CUSTOMERS = 100_000
MIN_CHUNKS = 10
# The whole range of customer ids, for a base computed in one piece.
ALL_IDS = {"lo": -(2**63), "hi": 2**63 - 1}

# The range of customer ids, each end read from its end of the B-tree (MIN and MAX in one
# SELECT are a scan of the table: 0.18 s of CPU at 1M, before the worker starts).
CUSTOMER_RANGE_SQL = "SELECT (SELECT MIN(id) FROM customers), (SELECT MAX(id) FROM customers)"

# An invoice the base ages: open today, issued by the date (index-only in invoices_aging).
_IN_BASE = "status = 'open' AND open_minor != 0 AND issue_date <= :as_of"
_I_IN_BASE = "i.status = 'open' AND i.open_minor != 0 AND i.issue_date <= :as_of"
# The base over the customers :lo..:hi. Tagged rows: 0 the invoices' groups (collector
# id, currency, b0..b5, credits, disputed, rows), 1 the unapplied cash (collector id,
# currency, cash, rows with no invoice of the base), as reports_parallel's COLLECTOR_SQL
# and COLLECTOR_CASH_SQL.
_BASE = (
    """a AS (
    SELECT customer_id, currency,""" + BUCKET_SUMS + """
    FROM invoices INDEXED BY invoices_aging
    WHERE customer_id BETWEEN :lo AND :hi AND """ + _IN_BASE + """
    GROUP BY customer_id, currency  -- the covering index, in order
), u AS (
    SELECT customer_id, currency, -SUM(amount_minor) AS cash
    FROM payments INDEXED BY payments_unapplied
    WHERE customer_id BETWEEN :lo AND :hi AND invoice_id IS NULL AND paid_on <= :as_of
    GROUP BY customer_id, currency
)"""
)  # fmt: skip
_BASE_ROWS = (
    """
SELECT 0, q.collector_id, a.currency, SUM(a.b0), SUM(a.b1), SUM(a.b2), SUM(a.b3), SUM(a.b4),
       SUM(a.b5), SUM(a.cr), SUM(a.dp), COUNT(*)
FROM a LEFT JOIN queue q ON q.customer_id = a.customer_id
GROUP BY q.collector_id, a.currency
UNION ALL
SELECT 1, q.collector_id, u.currency, SUM(u.cash), SUM(NOT EXISTS (
           SELECT 1 FROM invoices i INDEXED BY invoices_aging
           WHERE i.customer_id = u.customer_id AND i.currency = u.currency
             AND """ + _I_IN_BASE + """)),
       0, 0, 0, 0, 0, 0, 0
FROM u LEFT JOIN queue q ON q.customer_id = u.customer_id
GROUP BY q.collector_id, u.currency"""
)  # fmt: skip
# ``ch``: each invoice issued by the date whose part may differ between the date and
# today, once: changed after the date, or paid after it (a few of those issued after the
# date too: left out by their issue date below).
_CH = (
    """ch AS MATERIALIZED (
    SELECT id FROM invoices INDEXED BY invoices_changed_on
    WHERE """ + CHANGED_ON + """ > :as_of AND issue_date <= :as_of
    UNION
    SELECT invoice_id FROM payments INDEXED BY payments_paid_on
    WHERE paid_on > :as_of AND invoice_id IS NOT NULL
)"""
)  # fmt: skip
# The correction's rows (customer, currency, due date, disputed, amount, k): k = 1 what
# an invoice of ``ch`` had open on the date (issued by then; then = amount - paid by then
# when an import changed it after the date, else open now + paid after) and the cash
# received by the date for an invoice issued after it (a credit: unapplied then); k = -1
# the part of an invoice of ``ch`` in the base (open now, with today's amount).
_CORRECTION = (
    """t AS MATERIALIZED (  -- each payment sum computed once a row
        SELECT i.customer_id, i.currency, i.due_date, i.disputed,
               CASE WHEN substr(i.updated_at, 1, 10) > :as_of
                    THEN i.amount_minor - COALESCE(
                        (SELECT SUM(p.amount_minor) FROM payments p
                         WHERE p.invoice_id = i.id AND p.paid_on <= :as_of), 0)
                    ELSE i.open_minor + COALESCE(
                        (SELECT SUM(p.amount_minor) FROM payments p
                         WHERE p.invoice_id = i.id AND p.paid_on > :as_of), 0)
               END AS then_minor,
               CASE WHEN """ + _I_IN_BASE + """ THEN i.open_minor ELSE 0 END AS now_minor
        FROM ch CROSS JOIN invoices i ON i.id = ch.id WHERE i.issue_date <= :as_of
), n AS (  -- issued after the date
    SELECT id FROM invoices INDEXED BY invoices_changed_on
    WHERE """ + CHANGED_ON + """ > :as_of AND issue_date > :as_of
), c AS (
    SELECT customer_id, currency, due_date, disputed, then_minor AS open_minor, 1 AS k
    FROM t WHERE then_minor != 0
    UNION ALL
    SELECT customer_id, currency, due_date, disputed, now_minor, -1 FROM t WHERE now_minor != 0
    UNION ALL  -- received by the date for an invoice issued after it: unapplied then
    SELECT p.customer_id, p.currency, NULL, 0, -p.amount_minor, 1  -- a credit, any sign
    FROM n CROSS JOIN payments p INDEXED BY payments_invoice ON p.invoice_id = n.id
    WHERE p.paid_on <= :as_of
), g AS (
    SELECT customer_id, currency, MAX(k) = 1 AS then_row, """ + BUCKET_SUMS.replace(
        "SUM(open_minor)", "SUM(open_minor * k)").replace(
        "FILTER (WHERE open_minor < 0)", "FILTER (WHERE open_minor < 0 OR due_date IS NULL)"
    ) + """
    FROM c GROUP BY customer_id, currency
)"""
)  # fmt: skip
# Per row of ``g``: whether it exists on the date (something of the correction, or an
# invoice of the base not in ``ch``, or unapplied cash by the date) less whether the
# base counted it (an invoice of the base, or that cash): 0 when there is such cash.
_CASH = """EXISTS (SELECT 1 FROM payments p INDEXED BY payments_unapplied
               WHERE p.customer_id = g.customer_id AND p.currency = g.currency
                 AND p.invoice_id IS NULL AND p.paid_on <= :as_of)"""
_BASE_INVOICE = """EXISTS (SELECT 1 FROM invoices i INDEXED BY invoices_aging
            WHERE i.customer_id = g.customer_id AND i.currency = g.currency
              AND """ + _I_IN_BASE + """{more})"""  # fmt: skip
_CORRECTION_ROWS = (
    """
SELECT 2, q.collector_id, g.currency, SUM(b0), SUM(b1), SUM(b2), SUM(b3), SUM(b4), SUM(b5),
       SUM(cr), SUM(dp), SUM(CASE
           WHEN """ + _CASH + """ THEN 0
           WHEN then_row THEN 1 - """ + _BASE_INVOICE.format(more="") + """
           ELSE """ + _BASE_INVOICE.format(more=" AND i.id NOT IN ch") + """
                - """ + _BASE_INVOICE.format(more="") + """ END)
FROM g LEFT JOIN queue q ON q.customer_id = g.customer_id
GROUP BY q.collector_id, g.currency"""
)  # fmt: skip
# One statement each (one snapshot, ``ch`` built once): the base of the customers
# :lo..:hi; the correction; both.
BASE_SQL = "WITH " + _BASE + _BASE_ROWS
CORRECTION_SQL = "WITH " + _CH + ", " + _CORRECTION + _CORRECTION_ROWS
BOTH_SQL = (
    "WITH "
    + _BASE
    + ", "
    + _CH
    + ", "
    + _CORRECTION
    + _BASE_ROWS
    + "\nUNION ALL"
    + (_CORRECTION_ROWS)
)


def correction(conn: sqlite3.Connection, params: dict[str, Any]) -> Tuples:
    """What the changed invoices add on ``params["as_of"]``, per (collector id,
    currency): b0..b5, credits, disputed, and the rows the base does not count."""
    cur = conn.cursor()
    cur.row_factory = None
    return [r[1:] for r in cur.execute(CORRECTION_SQL, params)]


def base(conn: sqlite3.Connection, params: dict[str, Any]) -> Result:
    """The base (BASE_SQL) of the customers ``lo``..``hi`` (all of them when ``params``
    has no range): the invoices' rows and the unapplied-cash rows."""
    cur = conn.cursor()
    cur.row_factory = None
    return split(cur.execute(BASE_SQL, ALL_IDS | params).fetchall())


def split(tagged: Tuples) -> Result:
    """Tagged rows (BASE_SQL's, BOTH_SQL's) as reports_parallel's by-collector result:
    aggregate rows (the base's and the correction's), unapplied-cash rows."""
    agg = [tuple(r[1:]) for r in tagged if r[0] != 1]
    cash = [tuple(r[1:5]) for r in tagged if r[0] == 1]
    return agg, cash


def groups(conn: sqlite3.Connection, params: dict[str, Any]) -> Result:
    """The by-collector aggregate of the date (collector id, currency, b0..b5, credits,
    disputed, customers), no unapplied-cash rows apart: the base and the correction
    summed, in one snapshot. ``conn``: a read connection (its own transaction is opened
    here when it is not in one)."""
    path = main_path(conn)
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
            parts = [_one_process(conn, params)]
        finally:
            if own_tx and conn.in_transaction:
                conn.execute("COMMIT")
    return merged(parts), []


def chunks_of(lo: int | None, hi: int | None) -> dict[str, int] | None:
    """The customer ids ``lo``..``hi`` in chunks of the base (``step`` ids each, at least
    MIN_CHUNKS of them so that two processes can share them out), or None when there is
    no customer."""
    if lo is None or hi is None:
        return None
    step = max(1, min(CHUNK_CUSTOMERS, -(-(hi - lo + 1) // MIN_CHUNKS)))
    return {"lo": lo, "hi": hi, "step": step, "count": (hi - lo) // step + 1}


def _one_process(conn: sqlite3.Connection, params: dict[str, Any]) -> Result:
    """The base and the correction on ``conn``, inside its read transaction: one
    statement (BOTH_SQL) when the customers make one chunk, else the correction and the
    base chunk by chunk (each chunk's roll-up sorts fewer rows: -10-20% CPU at 1M)."""
    cur = conn.cursor()
    cur.row_factory = None
    chunks = chunks_of(*conn.execute(CUSTOMER_RANGE_SQL).fetchone())
    if chunks is None or chunks["count"] == 1:
        return split(cur.execute(BOTH_SQL, params | ALL_IDS).fetchall())
    rows = cur.execute(CORRECTION_SQL, params).fetchall()
    for n in range(chunks["count"]):
        bounds = parallel.chunk_range(chunks, n)
        rows += cur.execute(BASE_SQL, params | bounds).fetchall()
    return split(rows)


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
    """A read-only connection as the worker's: bounded memory (reports_parallel)."""
    return parallel.bound_memory(parallel.read_connection(path))


def _two_processes(path: str, params: dict[str, Any]) -> list[Result] | None:
    """The base in chunks of customers shared by two processes: a second one takes them
    from the lowest ids up, this one computes the correction, then takes them from the
    highest ids down (reports_parallel.claim), until none is left; one snapshot. None
    when that could not be done (a write committed between the two read transactions,
    the worker failed, no customer, or no lockable claims file)."""
    probe = parallel.read_connection(path)
    claims = None
    proc = None
    own = None
    try:
        v1 = probe.execute("PRAGMA data_version").fetchone()[0]
        chunks = chunks_of(*probe.execute(CUSTOMER_RANGE_SQL).fetchone())
        claims = parallel.claims_file(chunks["count"]) if chunks is not None else None
        if chunks is None or claims is None:
            return None
        shared = chunks | {"claims": claims}
        job = {"path": path, "sql": BASE_SQL, "params": params | ALL_IDS, "chunks": shared}
        proc = subprocess.Popen(
            [sys.executable, "-m", parallel.__name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        own = _reader(path)
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(marshal.dumps(job))
        proc.stdin.close()
        parallel.begin_snapshot(own)
        started = proc.stdout.read(1) == b"S"
        if not started or probe.execute("PRAGMA data_version").fetchone()[0] != v1:
            return None
        cur = own.cursor()
        cur.row_factory = None
        mine = cur.execute(CORRECTION_SQL, params).fetchall()
        mine += parallel.claimed_rows(own, BASE_SQL, params | ALL_IDS, shared, False)
        data = proc.stdout.read()
        if proc.wait() != 0:
            return None
        return [split(marshal.loads(data)), split(mine)]
    finally:
        if own is not None:
            own.close()
        probe.close()
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        if claims is not None:
            with suppress(OSError):
                os.unlink(claims)
