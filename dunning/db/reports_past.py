"""The aging of a past date: the ledger rebuilt as it stood on that date.

The aging of today reads the open amounts as loaded (``reports_parallel``: the covering
index of open invoices, the hot path). An as-of date before today cannot: invoices
issued since then are in the ledger, and payments dated since then have already reduced
the open amounts. This query rebuilds each amount the way ``report metrics`` rebuilds
receivables at a date (dunning/db/metrics.py), so the two agree to the cent:

- only invoices (and credit notes) issued on or before the date;
- open on the date = open now + the payments applied to it that are dated after the
  date + what left the invoice without a payment (an ERP adjustment, a ``--snapshot``
  close) when the import that recorded it came after the date (``updated_at``);
- unapplied cash on the date = payments dated on or before it that are not applied, or
  are applied to an invoice issued after it (money received before the invoice existed).

What the rebuild cannot know (docs/IMPORT.md): the date of a balance the ERP changed
without a payment row is only the date of the last import that changed the invoice;
amounts, due dates, dispute flags and the account's collector are as they are now.

Two ways to the same figures (tests/test_aging_reference.py holds both to a reference):

- ``PAST_SQL`` rebuilds every invoice issued by the date: its cost grows with the ledger
  before the date (chosen when the date is early in the ledger);
- ``DELTA_SQL`` starts from the aging of the ledger as loaded (the covering index of open
  invoices, as the aging of today reads it, with each row's count of open items) and
  corrects only what changed after the date: the invoices issued, changed by an import
  or paid after it, or whose status disagrees with their open amount (found through the
  expression index ``invoices_changed_on`` and ``payments_paid_on``, migration m015)
  each take off their part today and add their part on the date; unapplied cash
  received after the date is taken off, and cash received by it for an invoice issued
  after it is added. A row exists when its count of open items on the date is not zero,
  as in ``PAST_SQL``. Its cost is the aging of today plus what changed since the date.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from urllib.parse import quote

from dunning.db import aging_snapshot, past_collector, past_sums
from dunning.db.connection import main_path
from dunning.db.reports_parallel import BUCKET_SUMS, NO_OPEN_INVOICE, Tuples
from dunning.db.schema import CHANGED_ON

# The span of invoice ids. Two subqueries: SQLite reads MIN() or MAX() alone from the end
# of the B-tree, but both in one SELECT by a scan of the table (0.9 s of CPU at 1M, before
# the report's two processes start).
SPAN_SQL = "SELECT (SELECT MAX(id) FROM invoices) - (SELECT MIN(id) FROM invoices) + 1"
_NEG = "-b0, -b1, -b2, -b3, -b4, -b5, -cr, -dp"
_SUMS = (
    "SUM(b0) AS b0, SUM(b1) AS b1, SUM(b2) AS b2, SUM(b3) AS b3, SUM(b4) AS b4, "
    "SUM(b5) AS b5, SUM(cr) AS cr, SUM(dp) AS dp, SUM(n) AS n"
)
_ADD = ", ".join(
    f"base.{c} + COALESCE(dl.{c}, 0) AS {c}"
    for c in ("b0", "b1", "b2", "b3", "b4", "b5", "cr", "dp", "n")
)
DELTA_SQL = (
    """
WITH ch AS (  -- the invoices whose part may differ between the date and today
    SELECT id FROM invoices WHERE """ + CHANGED_ON + """ > :as_of
    UNION
    SELECT invoice_id FROM payments WHERE paid_on > :as_of AND invoice_id IS NOT NULL
), applied AS (
    SELECT p.invoice_id, SUM(p.amount_minor) AS p_all,
           SUM(p.amount_minor) FILTER (WHERE p.paid_on > :as_of) AS p_after
    FROM ch CROSS JOIN payments p ON p.invoice_id = ch.id  -- from the few changed
    GROUP BY p.invoice_id
), d AS (
    SELECT i.id, i.customer_id, i.currency, i.due_date, i.disputed, i.issue_date,
           i.open_minor + COALESCE(a.p_after, 0)
           + CASE WHEN substr(i.updated_at, 1, 10) > :as_of
                  THEN i.amount_minor - i.open_minor - COALESCE(a.p_all, 0) ELSE 0 END
               AS then_open,
           CASE WHEN i.status = 'open' THEN i.open_minor ELSE 0 END AS now_open
    FROM ch JOIN invoices i ON i.id = ch.id LEFT JOIN applied a ON a.invoice_id = i.id
), delta AS (
    SELECT customer_id, currency, """ + BUCKET_SUMS + """, COUNT(*) AS n
    FROM (SELECT customer_id, currency, due_date, disputed, then_open AS open_minor FROM d
          WHERE issue_date <= :as_of AND then_open != 0)
    GROUP BY customer_id, currency
    UNION ALL
    SELECT customer_id, currency, """ + _NEG + """, -n FROM (
        SELECT customer_id, currency, """ + BUCKET_SUMS + """, COUNT(*) AS n
        FROM (SELECT customer_id, currency, due_date, disputed, now_open AS open_minor
              FROM d WHERE now_open != 0)
        GROUP BY customer_id, currency)
    UNION ALL  -- received by the date for an invoice issued after it: unapplied then
    SELECT p.customer_id, p.currency, 0, 0, 0, 0, 0, 0, -SUM(p.amount_minor), 0, COUNT(*)
    FROM d JOIN payments p ON p.invoice_id = d.id
    WHERE d.issue_date > :as_of AND p.paid_on <= :as_of
    GROUP BY p.customer_id, p.currency
    UNION ALL  -- unapplied cash received after the date: not there yet
    SELECT customer_id, currency, 0, 0, 0, 0, 0, 0, SUM(amount_minor), 0, -COUNT(*)
    FROM payments INDEXED BY payments_paid_on WHERE paid_on > :as_of AND invoice_id IS NULL
    GROUP BY customer_id, currency
), dl AS (
    SELECT customer_id, currency, """ + _SUMS + """ FROM delta GROUP BY customer_id, currency
), u AS (
    SELECT customer_id, currency, -SUM(amount_minor) AS cash, COUNT(*) AS n
    FROM payments INDEXED BY payments_unapplied WHERE invoice_id IS NULL
    GROUP BY customer_id, currency
), a AS (
    SELECT customer_id, currency, """ + BUCKET_SUMS + """, COUNT(*) AS n
    FROM invoices WHERE status = 'open' AND open_minor != 0
    GROUP BY customer_id, currency  -- the covering index invoices_aging, in order
), base AS (
    SELECT a.customer_id, a.currency, a.b0, a.b1, a.b2, a.b3, a.b4, a.b5,
           a.cr + COALESCE(u.cash, 0) AS cr, a.dp, a.n + COALESCE(u.n, 0) AS n
    FROM a LEFT JOIN u ON u.customer_id = a.customer_id AND u.currency = a.currency
    UNION ALL
    SELECT u.customer_id, u.currency, 0, 0, 0, 0, 0, 0, u.cash, 0, u.n FROM u
    WHERE """ + NO_OPEN_INVOICE.format(t="u") + """
), m AS (
    SELECT base.customer_id, base.currency, """ + _ADD + """
    FROM base LEFT JOIN dl
         ON dl.customer_id = base.customer_id AND dl.currency = base.currency
    UNION ALL  -- open on the date, nothing open today
    SELECT * FROM dl WHERE """ + NO_OPEN_INVOICE.format(t="dl") + """
      AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.customer_id = dl.customer_id
                      AND p.currency = dl.currency AND p.invoice_id IS NULL)
)
"""
)  # fmt: skip
DELTA_CUSTOMER_SQL = (
    DELTA_SQL
    + """
SELECT -(m.b0 + m.b1 + m.b2 + m.b3 + m.b4 + m.b5 + m.cr + m.dp) AS k, c.external_ref, m.currency,
       m.b0, m.b1, m.b2, m.b3, m.b4, m.b5, m.cr, m.dp, c.name, q.collector_id
FROM m JOIN customers c ON c.id = m.customer_id
LEFT JOIN queue q ON q.customer_id = m.customer_id
WHERE m.n > 0
ORDER BY k, c.external_ref, m.currency
"""
)
# by collector: (collector id, currency, b0..b5, credits, disputed, customers)
DELTA_COLLECTOR_SQL = (
    DELTA_SQL
    + """
SELECT q.collector_id, m.currency, SUM(m.b0), SUM(m.b1), SUM(m.b2), SUM(m.b3), SUM(m.b4),
       SUM(m.b5), SUM(m.cr), SUM(m.dp), COUNT(*)
FROM m JOIN customers c ON c.id = m.customer_id
LEFT JOIN queue q ON q.customer_id = m.customer_id
WHERE m.n > 0
GROUP BY q.collector_id, m.currency
"""
)

# (-total, ref, currency, b0..b5, credits, disputed, name, collector id), ordered as the
# aging of today orders them (largest total first, then ref, then currency).
PAST_SQL = (
    """
WITH applied AS (
    SELECT invoice_id, SUM(amount_minor) AS p_all,
           SUM(amount_minor) FILTER (WHERE paid_on > :as_of) AS p_after
    FROM payments WHERE invoice_id IS NOT NULL {where}
    GROUP BY invoice_id
), items AS (  -- every invoice issued by the date, with what was open on it then
    SELECT i.customer_id, i.currency, i.due_date, i.disputed,
           i.open_minor + COALESCE(a.p_after, 0)
           + CASE WHEN substr(i.updated_at, 1, 10) > :as_of
                  THEN i.amount_minor - i.open_minor - COALESCE(a.p_all, 0) ELSE 0 END
               AS open_minor
    FROM invoices i LEFT JOIN applied a ON a.invoice_id = i.id
    WHERE i.issue_date <= :as_of {where}
), g AS (
    SELECT customer_id, currency,"""
    + BUCKET_SUMS
    + """, 0 AS cash
    FROM items WHERE open_minor != 0 GROUP BY customer_id, currency
), u AS (  -- cash received by the date and not applied to an invoice of that date
    SELECT customer_id, currency, 0, 0, 0, 0, 0, 0, 0, 0, -SUM(amount_minor) AS cash
    FROM payments p
    WHERE paid_on <= :as_of
      AND (invoice_id IS NULL
           OR (SELECT i.issue_date FROM invoices i WHERE i.id = p.invoice_id) > :as_of)
      {where}
    GROUP BY customer_id, currency
), m AS (
    SELECT customer_id, currency, SUM(b0) AS b0, SUM(b1) AS b1, SUM(b2) AS b2,
           SUM(b3) AS b3, SUM(b4) AS b4, SUM(b5) AS b5, SUM(cr) + SUM(cash) AS cr,
           SUM(dp) AS dp
    FROM (SELECT * FROM g UNION ALL SELECT * FROM u)
    GROUP BY customer_id, currency
)
SELECT -(m.b0 + m.b1 + m.b2 + m.b3 + m.b4 + m.b5 + m.cr + m.dp) AS k, c.external_ref, m.currency,
       m.b0, m.b1, m.b2, m.b3, m.b4, m.b5, m.cr, m.dp, c.name, q.collector_id
FROM m JOIN customers c ON c.id = m.customer_id
LEFT JOIN queue q ON q.customer_id = m.customer_id
ORDER BY k, c.external_ref, m.currency
"""
)


@contextmanager
def reader(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A read connection of its own for one large statement, when the database is a file
    and the caller is not inside a transaction (else the caller's): no memory map
    (touched pages would count in the process's memory), temporary B-trees and sorts in
    files rather than memory, an 8 MB cache (each temporary B-tree and sort
    may hold as much): the report's memory stays bounded."""
    path = main_path(conn)
    if not path or conn.in_transaction:
        yield conn
        return
    own = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, isolation_level=None)
    try:
        own.execute("PRAGMA busy_timeout=5000")
        own.execute("PRAGMA mmap_size=0")
        own.execute("PRAGMA temp_store=FILE")
        own.execute("PRAGMA cache_size=-8192")
        yield own
    finally:
        own.close()


def use_delta(conn: sqlite3.Connection, as_of: str) -> bool:
    """Whether the date is late enough in the ledger for ``DELTA_SQL``: at most half of
    the invoices changed after it (counted on the index, stopping at half)."""
    if not conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'invoices_changed_on'"
    ).fetchone():
        return False  # a database not yet migrated (m015), read as it is
    total = conn.execute(SPAN_SQL).fetchone()[0] or 0
    half = total // 2
    changed = conn.execute(  # counted on the index, up to half the ledger
        f"SELECT COUNT(*) FROM (SELECT 1 FROM invoices WHERE {CHANGED_ON} > ? LIMIT ?)",
        (as_of, half + 1),
    ).fetchone()[0]
    return bool(changed <= half)


def _on_snapshot(sql: str, conn: sqlite3.Connection, as_of: str) -> tuple[str, dict[str, Any]]:
    """``sql`` (DELTA_SQL's) with its base (the ledger as loaded, aged on the date) read
    from the aging snapshot (dunning/db/aging_snapshot.py) when there is a usable one:
    the snapshot shifted to the date instead of every open invoice. Read the state in
    the transaction that runs the statement."""
    day = date.fromisoformat(as_of)
    st = aging_snapshot.state(conn)
    if not aging_snapshot.usable(st, day):
        return sql, {}
    assert st is not None
    cte, params = aging_snapshot.rows_cte(st, day)
    head, rest = sql.split("), u AS (", 1)
    _, tail = rest.split("), m AS (", 1)
    return head + "), " + cte + ", base AS (SELECT * FROM snap), m AS (" + tail, params


def customer_sql(conn: sqlite3.Connection, as_of: str) -> tuple[str, dict[str, Any]]:
    """The by-customer statement for the whole ledger on ``as_of`` (PAST_SQL's rows) and
    the parameters it needs beyond the bounds and ``as_of``."""
    if use_delta(conn, as_of):
        return _on_snapshot(DELTA_CUSTOMER_SQL, conn, as_of)
    return PAST_SQL.format(where=""), {}


def collector_groups(conn: sqlite3.Connection, params: dict[str, Any]) -> Tuples | None:
    """The by-collector aggregate of the whole ledger on ``params["as_of"]`` when the
    date is late enough for ``DELTA_SQL``; else None. Within a few days of the aging
    snapshot, DELTA_COLLECTOR_SQL on the snapshot; farther, the base read from the stored
    sums (past_sums.py) when they are complete, else computed from the invoices
    (past_collector.py), and the correction (no per-customer rows)."""
    with reader(conn) as rc:
        if not use_delta(rc, params["as_of"]):
            return None
        with aging_snapshot.read_tx(rc):
            sql, extra = _on_snapshot(DELTA_COLLECTOR_SQL, rc, params["as_of"])
            if extra:
                cur = rc.cursor()
                cur.row_factory = None
                return cur.execute(sql, params | extra).fetchall()
            parts = past_sums.groups(rc, params)  # the stored sums (m030), when complete
            if parts is not None:
                return past_collector.merged(parts)
        return past_collector.groups(rc, params)[0]


def scan(conn: sqlite3.Connection, where: str, params: dict[str, Any]) -> Tuples:
    """The by-customer tuples of the aging on ``params["as_of"]`` (an ISO date), for the
    customers ``where`` selects (``AND customer_id ...``, or empty for all); one
    statement, so one snapshot."""
    cur = conn.cursor()
    cur.row_factory = None
    return cur.execute(PAST_SQL.format(where=where), params).fetchall()


def as_collector_groups(tuples: Tuples) -> Tuples:
    """The by-customer tuples in the shape of the by-collector scan's aggregate rows
    (collector id, currency, b0..b5, credits, disputed, customers): each customer row
    counts one customer, as in the aging of today."""
    return [(t[12], t[2], *t[3:11], 1) for t in tuples]
