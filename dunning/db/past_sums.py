"""Open sums per collector, currency, issue date and due date: the base of a past date's
aging by collector read as a range of a small table instead of every open invoice
(issue 8; m030).

The aging of a past date D by collector (db/past_collector.py) is a *base* plus a
*correction*. The base ages every invoice open today and issued by D on D's bucket
bounds, with today's amounts and today's collector, adds the unapplied cash received by
D, and counts the (customer, currency) rows with either. The correction (its own
statement, unchanged) is what changed after D. The base depends on D only through the
issue date (or the cash's date) and the due date of each open item, so its sums are
sums of a table keyed by those two dates:

- ``past_items``: per customer, currency, issue date (a payment's date for unapplied
  cash) and due date ('' for cash), the open amounts split as the aging splits them
  (``pos``: positive and undisputed, the six buckets; ``cr``: credits and cash; ``dp``:
  disputed) and the customer's collector (-1: none) when they were written;
- ``past_sums``: the same summed per collector instead of per customer (~2,300 pairs of
  dates at 1M: a few thousand rows per collector and currency);
- ``past_rows``: per collector and currency, how many (customer, currency) rows have
  their first item (the least issue date) on each date: a row is in the base on D when
  its first item is on or before D.

The sums are the items summed, always (both written in one transaction, :func:`take`).
The items are exact for every customer except the *dirty* ones: the aging snapshot's
(aging_snapshot.DIRTY_SQL: touched by a writer, or an invoice or payment newer than its
state) and those whose collector changed since (``past_moved``, written by a trigger on
``queue``). The report takes the dirty customers' items off and adds their base from
the ledger (:data:`GROUPS_SQL`), in one read transaction with the state it reads.

The nightly refresh (aging_snapshot.advance) takes the dirty customers in (:func:`take`:
their items off the sums, fresh items written, added back) and builds the whole
structure with the snapshot (:func:`fill`, a range of customers a transaction);
``aging_snapshot_state.past_ready`` says it is complete. Without it the report computes
the base from the invoices as before.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from dunning.db import past_collector
from dunning.db.past_collector import _BASE, _BASE_ROWS, CORRECTION_SQL, Result

NONE = -1  # the collector of an account with none (the keys are NOT NULL)
FILL_CHUNK = 100_000  # customers a transaction when the structure is filled

DDL = [
    """CREATE TABLE past_items (
        customer_id INTEGER NOT NULL,
        currency    TEXT NOT NULL,
        issue_date  TEXT NOT NULL,   -- unapplied cash: the date it was paid
        due_date    TEXT NOT NULL,   -- unapplied cash: ''
        collector   INTEGER NOT NULL,
        pos INTEGER NOT NULL, cr INTEGER NOT NULL, dp INTEGER NOT NULL,
        PRIMARY KEY (customer_id, currency, issue_date, due_date)
    ) WITHOUT ROWID""",
    """CREATE TABLE past_sums (
        collector   INTEGER NOT NULL,
        currency    TEXT NOT NULL,
        issue_date  TEXT NOT NULL,
        due_date    TEXT NOT NULL,
        pos INTEGER NOT NULL, cr INTEGER NOT NULL, dp INTEGER NOT NULL,
        PRIMARY KEY (collector, currency, issue_date, due_date)
    ) WITHOUT ROWID""",
    """CREATE TABLE past_rows (
        collector   INTEGER NOT NULL,
        currency    TEXT NOT NULL,
        first_date  TEXT NOT NULL,
        n           INTEGER NOT NULL,
        PRIMARY KEY (collector, currency, first_date)
    ) WITHOUT ROWID""",
    "CREATE TABLE past_moved (customer_id INTEGER PRIMARY KEY)",
    "ALTER TABLE aging_snapshot_state ADD COLUMN past_ready INTEGER NOT NULL DEFAULT 0",
    # an account whose collector changes is dirty until the refresh takes it in (only
    # while there is a snapshot: without one nothing reads or clears the table)
    """CREATE TRIGGER queue_past_moved AFTER UPDATE OF collector_id ON queue
    WHEN OLD.collector_id IS NOT NEW.collector_id
     AND EXISTS (SELECT 1 FROM aging_snapshot_state)
    BEGIN
        INSERT OR IGNORE INTO past_moved (customer_id) VALUES (NEW.customer_id);
    END""",
    """CREATE TRIGGER queue_past_added AFTER INSERT ON queue
    WHEN NEW.collector_id IS NOT NULL AND EXISTS (SELECT 1 FROM aging_snapshot_state)
    BEGIN
        INSERT OR IGNORE INTO past_moved (customer_id) VALUES (NEW.customer_id);
    END""",
]

# The open items of the customers ``{ids}`` as they are now, with their collector.
_FRESH_ITEMS = """
INSERT INTO past_items (customer_id, currency, issue_date, due_date, collector, pos, cr, dp)
SELECT f.customer_id, f.currency, f.issue_date, f.due_date,
       COALESCE((SELECT q.collector_id FROM queue q WHERE q.customer_id = f.customer_id),
                -1),
       SUM(f.pos), SUM(f.cr), SUM(f.dp)
FROM (
    SELECT customer_id, currency, issue_date, due_date,
           CASE WHEN open_minor > 0 AND NOT disputed THEN open_minor ELSE 0 END AS pos,
           CASE WHEN open_minor < 0 THEN open_minor ELSE 0 END AS cr,
           CASE WHEN open_minor > 0 AND disputed THEN open_minor ELSE 0 END AS dp
    FROM invoices INDEXED BY invoices_aging
    WHERE status = 'open' AND open_minor != 0 AND customer_id {ids}
    UNION ALL
    SELECT customer_id, currency, paid_on, '', 0, -amount_minor, 0
    FROM payments INDEXED BY payments_unapplied
    WHERE invoice_id IS NULL AND customer_id {ids}
) f
GROUP BY f.customer_id, f.currency, f.issue_date, f.due_date"""
# The items of the customers ``{ids}`` added to (:s = 1) or taken off (-1) the sums.
_TO_SUMS = """
INSERT INTO past_sums (collector, currency, issue_date, due_date, pos, cr, dp)
SELECT collector, currency, issue_date, due_date, :s * SUM(pos), :s * SUM(cr), :s * SUM(dp)
FROM past_items WHERE customer_id {ids}
GROUP BY collector, currency, issue_date, due_date
ON CONFLICT DO UPDATE SET pos = pos + excluded.pos, cr = cr + excluded.cr,
                          dp = dp + excluded.dp"""
_TO_ROWS = """
INSERT INTO past_rows (collector, currency, first_date, n)
SELECT collector, currency, first_date, :s * COUNT(*)
FROM (SELECT MIN(collector) AS collector, currency, MIN(issue_date) AS first_date
      FROM past_items WHERE customer_id {ids} GROUP BY customer_id, currency)
GROUP BY collector, currency, first_date
ON CONFLICT DO UPDATE SET n = n + excluded.n"""


def clear(conn: sqlite3.Connection) -> None:
    """Empty the structure (in the caller's transaction; aging_snapshot._build)."""
    for table in ("past_items", "past_sums", "past_rows", "past_moved"):
        conn.execute(f"DELETE FROM {table}")


GIVEN_UP = -1  # past_ready when a sum went beyond 64 bits: the report scans the ledger


def take(conn: sqlite3.Connection, ids: str, params: dict[str, Any] | None = None) -> bool:
    """Make the items of the customers ``ids`` (an SQL condition on ``customer_id``:
    ``IN (SELECT ...)``, ``BETWEEN :lo AND :hi``) what the ledger holds now, and the
    sums with them: their old items off the sums, fresh items, added back. In the
    caller's write transaction. False when a sum would go beyond 64 bits (SQLite refuses
    it: "integer overflow"): then nothing is changed but the structure, emptied and given
    up (:data:`GIVEN_UP`) until the snapshot is built again; the report computes the
    base from the invoices, as without it."""
    p = params or {}
    conn.execute("SAVEPOINT past_take")
    try:
        conn.execute(_TO_SUMS.format(ids=ids), p | {"s": -1})
        conn.execute(_TO_ROWS.format(ids=ids), p | {"s": -1})
        conn.execute(f"DELETE FROM past_items WHERE customer_id {ids}", p)
        conn.execute(_FRESH_ITEMS.format(ids=ids), p)
        conn.execute(_TO_SUMS.format(ids=ids), p | {"s": 1})
        conn.execute(_TO_ROWS.format(ids=ids), p | {"s": 1})
    except sqlite3.OperationalError as e:
        if "overflow" not in str(e):
            raise
        conn.execute("ROLLBACK TO past_take")
        conn.execute("RELEASE past_take")
        clear(conn)
        conn.execute("UPDATE aging_snapshot_state SET past_ready = ?", (GIVEN_UP,))
        return False
    conn.execute("RELEASE past_take")
    conn.execute("DELETE FROM past_sums WHERE pos = 0 AND cr = 0 AND dp = 0")
    conn.execute("DELETE FROM past_rows WHERE n = 0")
    return True


def advance(conn: sqlite3.Connection, taken: str) -> None:
    """Inside aging_snapshot.advance's write transaction: the customers it takes in
    (``taken``, an SQL set) and those whose collector changed, taken in here too."""
    conn.execute(
        "INSERT OR IGNORE INTO temp.aging_taken SELECT customer_id FROM past_moved"
    )  # fmt: skip
    if take(conn, f"IN {taken}"):
        conn.execute(f"DELETE FROM past_moved WHERE customer_id IN {taken}")


def fill(conn: sqlite3.Connection) -> None:
    """Every customer taken in, a range of ids a transaction, then the structure marked
    complete. Not inside a transaction. Writes in between are safe: a customer changed
    after the snapshot's state is dirty, so the report computes it from the ledger."""
    from dunning.db.connection import write_tx

    lo, hi = conn.execute(past_collector.CUSTOMER_RANGE_SQL).fetchone()
    start = lo or 0
    while lo is not None and start <= hi:
        with write_tx(conn):
            if not take(conn, "BETWEEN :lo AND :hi", {"lo": start, "hi": start + FILL_CHUNK - 1}):
                return  # given up
        start += FILL_CHUNK
    with write_tx(conn):
        conn.execute("UPDATE aging_snapshot_state SET past_ready = 1 WHERE past_ready = 0")


def ready(conn: sqlite3.Connection) -> bool:
    """Whether the structure is complete (read in the report's transaction)."""
    try:
        row = conn.execute(
            "SELECT past_ready FROM aging_snapshot_state WHERE id = 1 AND ready"
        ).fetchone()
    except sqlite3.OperationalError:  # a database before m030 (read-only, not migrated)
        return False
    return bool(row and row[0] == 1)


def wanted(conn: sqlite3.Connection) -> bool:
    """Whether the structure is to be filled: neither complete nor given up."""
    try:
        row = conn.execute("SELECT past_ready FROM aging_snapshot_state WHERE id = 1").fetchone()
    except sqlite3.OperationalError:  # a database before m030 (read-only, not migrated)
        return False
    return bool(row and row[0] == 0)


_DIRTY = """x AS MATERIALIZED (
    SELECT customer_id FROM aging_dirty
    UNION SELECT customer_id FROM invoices WHERE id > :inv_max
    UNION SELECT customer_id FROM payments WHERE id > :pay_max
    UNION SELECT customer_id FROM past_moved
)"""
_STORED = """s AS (
    SELECT collector, currency, due_date, pos, cr, dp FROM past_sums
    WHERE issue_date <= :as_of
    UNION ALL  -- the dirty customers' items, as the sums hold them: taken off
    SELECT collector, currency, due_date, -pos, -cr, -dp FROM past_items
    WHERE customer_id IN x AND issue_date <= :as_of
), r AS (
    SELECT collector, currency, n FROM past_rows WHERE first_date <= :as_of
    UNION ALL
    SELECT collector, currency, -1 FROM (
        SELECT MIN(collector) AS collector, currency, MIN(issue_date) AS first_date
        FROM past_items WHERE customer_id IN x GROUP BY customer_id, currency)
    WHERE first_date <= :as_of
)"""
_STORED_ROWS = """
SELECT 0, collector, currency,
       COALESCE(SUM(pos) FILTER (WHERE due_date >= :b1), 0),
       COALESCE(SUM(pos) FILTER (WHERE due_date < :b1 AND due_date >= :b2), 0),
       COALESCE(SUM(pos) FILTER (WHERE due_date < :b2 AND due_date >= :b3), 0),
       COALESCE(SUM(pos) FILTER (WHERE due_date < :b3 AND due_date >= :b4), 0),
       COALESCE(SUM(pos) FILTER (WHERE due_date < :b4 AND due_date >= :b5), 0),
       COALESCE(SUM(pos) FILTER (WHERE due_date < :b5), 0),
       SUM(cr), SUM(dp), 0
FROM s GROUP BY collector, currency
UNION ALL
SELECT 0, collector, currency, 0, 0, 0, 0, 0, 0, 0, 0, SUM(n) FROM r GROUP BY collector, currency
"""
# The stored base with the dirty customers' items taken off, and their base from the
# ledger (past_collector's, for them only); rows tagged as past_collector.BASE_SQL's.
GROUPS_SQL = (
    "WITH "
    + _DIRTY
    + ", "
    + _STORED
    + ", "
    + _BASE.replace("customer_id BETWEEN :lo AND :hi", "customer_id IN x")
    + _STORED_ROWS
    + "UNION ALL"
    + _BASE_ROWS
)


def groups(conn: sqlite3.Connection, params: dict[str, Any]) -> list[Result] | None:
    """The parts of the by-collector aggregate of ``params["as_of"]`` (as
    past_collector.groups merges them): the stored base, the dirty customers' base, the
    correction; or None when the structure is not complete. Run inside one read
    transaction (aging_snapshot.read_tx): the state, the dirty set and the sums are of
    one snapshot of the database."""
    if not ready(conn):
        return None
    st = conn.execute(
        "SELECT invoices_max, payments_max FROM aging_snapshot_state WHERE id = 1"
    ).fetchone()
    cur = conn.cursor()
    cur.row_factory = None
    p = params | {"inv_max": st[0], "pay_max": st[1]}
    rows = [
        (r[0], None if r[1] == NONE else r[1], *r[2:])
        for r in cur.execute(GROUPS_SQL, p).fetchall()
    ]
    rows += cur.execute(CORRECTION_SQL, params).fetchall()
    return [past_collector.split(rows)]
