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

It scans every invoice issued by the date (not just the open ones): slower than the
aging of today, which never comes here.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from dunning.db.reports_parallel import BUCKET_SUMS, Tuples

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
