"""Invoices: staged rows checked against each other and the ledger, then merged.

Set-based SQL over a TEMP staging table, so that a million-row file is validated and
merged at SQLite's speed. The ledger is matched by invoice number: a new number is
created, a known one is updated when anything changed, the rest are unchanged; with
``--snapshot`` open invoices missing from the file are closed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

STAGE = """
CREATE TEMP TABLE stage_invoices (
    line INTEGER PRIMARY KEY, customer_ref TEXT, customer_name TEXT, number TEXT, issue_date TEXT,
    due_date TEXT, amount_minor INTEGER, open_minor INTEGER, currency TEXT, status TEXT,
    disputed INTEGER, settled_on TEXT, customer_id INTEGER
)"""
INSERT = "INSERT INTO stage_invoices VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"

Refuse = Callable[[int, str, str, str], None]  # line, field, value, reason

# An invoice dunning wrote off (queue/writeoffs.py) stays closed whatever a file says
# until the write-off is voided: the ERP showing it open is not a change (its closing day
# stays the write-off's, for the metrics); paid, or changed otherwise, it is one.
KEEP_WRITTEN_OFF = """DELETE FROM temp.resolved WHERE status = 'open'
    AND inv_id IN (SELECT invoice_id FROM writeoffs WHERE voided_at IS NULL)"""


def split_instalments(conn: sqlite3.Connection) -> None:
    """Instalment terms (Odoo): one move, one receivable line per due date. Each line is
    an invoice of its own, ``MOVE@DUE``, so the aging counts each from its own due date.
    A move with one line keeps its name unless it was split before (an earlier file had
    its other instalments), and a line the ledger holds under the plain name keeps it."""
    conn.execute(
        """UPDATE stage_invoices SET number = number || '@' || due_date
           WHERE number IN (SELECT number FROM stage_invoices GROUP BY number
                            HAVING COUNT(DISTINCT due_date) > 1)
             AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.number = stage_invoices.number
                             AND i.due_date = stage_invoices.due_date)"""
    )
    conn.execute(
        """UPDATE stage_invoices SET number = number || '@' || due_date
           WHERE instr(number, '@') = 0 AND EXISTS (SELECT 1 FROM invoices i
                 WHERE i.number = stage_invoices.number || '@' || stage_invoices.due_date)"""
    )


def mark_seen(conn: sqlite3.Connection, refused: list[str], *, split: bool) -> None:
    """--snapshot: the invoices the file holds (staged, and refused rows' numbers: a
    refused row still stands for its invoice, which must not be closed)."""
    conn.execute("INSERT OR IGNORE INTO stage_seen SELECT number FROM stage_invoices")
    conn.executemany("INSERT OR IGNORE INTO stage_seen VALUES (?)", [(n,) for n in refused])
    if split:  # a refused line of a move stands for all its instalments
        for n in refused:
            conn.execute(
                """INSERT OR IGNORE INTO stage_seen SELECT number FROM invoices
                   WHERE number > ? AND number < ?""",
                (f"{n}@", f"{n}@\uffff"),
            )


def refusable(conn: sqlite3.Connection, refuse: Refuse, *, create_customers: bool) -> None:
    """Cross-row checks; refused rows leave the staging table."""
    conn.execute("CREATE INDEX temp.stage_invoices_number ON stage_invoices(number)")
    bad: list[tuple[int, str, str, str]] = []
    for line, number, first in conn.execute(
        """SELECT s.line, s.number, f.first FROM stage_invoices s
           JOIN (SELECT number, MIN(line) AS first FROM stage_invoices
                 GROUP BY number HAVING COUNT(*) > 1) f ON f.number = s.number
           WHERE s.line > f.first"""
    ):
        bad.append((line, "number", number, f"invoice {number} is also on line {first}"))
    for line, number, owner in conn.execute(
        """SELECT s.line, s.number, c.external_ref FROM stage_invoices s
           JOIN invoices i ON i.number = s.number
           JOIN customers c ON c.id = i.customer_id
           WHERE c.external_ref != s.customer_ref"""
    ):
        bad.append((line, "number", number, f"invoice {number} belongs to customer {owner}"))
    if create_customers:
        # a new customer's rows in more than one currency: found by one grouped pass (a
        # first load: none), and only those customers' rows joined with their first row
        # (each new customer's first line is kept for bulk.py, valid while no row is dropped)
        conn.execute("DROP TABLE IF EXISTS temp.stage_firsts")
        conn.execute(
            """CREATE TEMP TABLE stage_firsts AS
               SELECT MIN(line) AS line, customer_ref, MIN(currency) != MAX(currency) AS mixed
               FROM stage_invoices WHERE customer_id IS NULL GROUP BY customer_ref"""
        )
        for line, ref, cur, first_cur, first in conn.execute(
            """SELECT s.line, s.customer_ref, s.currency, f.currency, f.line
               FROM stage_invoices s JOIN (
                   SELECT customer_ref, currency, MIN(line) AS line FROM stage_invoices
                   WHERE customer_id IS NULL
                     AND customer_ref IN (SELECT customer_ref FROM temp.stage_firsts
                                          WHERE mixed)
                   GROUP BY customer_ref) f
               ON f.customer_ref = s.customer_ref
               WHERE s.customer_id IS NULL AND s.currency != f.currency
               ORDER BY s.line"""
        ):
            bad.append((line, "currency", cur, f"customer {ref} is in {first_cur} (line {first})"))
    else:
        for line, ref in conn.execute(
            "SELECT line, customer_ref FROM stage_invoices WHERE customer_id IS NULL"
        ):
            bad.append(
                (line, "customer_ref", ref,
                 "no such customer; import customers first, or use --create-customers")
            )  # fmt: skip
    for line, fld, value, reason in bad:
        refuse(line, fld, value, reason)
    if bad:
        conn.execute("DROP TABLE IF EXISTS temp.stage_firsts")  # rows go: no longer the firsts
    drop(conn, [b[0] for b in bad])


def drop(conn: sqlite3.Connection, lines: list[int]) -> None:
    conn.executemany("DELETE FROM stage_invoices WHERE line = ?", [(n,) for n in lines])


def resolve(conn: sqlite3.Connection, *, erp_closes: bool = True) -> None:
    """``temp.resolved``: each staged invoice beside the ledger's, the unchanged left out.
    Reads the ledger and writes only TEMP tables: the importer runs it before taking the
    write lock, and again under it if anyone committed meanwhile (``PRAGMA
    data_version``); the customers must be known (no staged customer_id is NULL).

    ``disputed=no`` on a disputed invoice: with ``erp_closes`` (the default, setting
    ``[disputes] erp_closes``) the ERP says the dispute is over, the invoice is back in
    collection and :func:`close_disputes` closes the open dispute; only a dispute a lead
    resolved valid keeps it out (a credit note is expected). Without, an open dispute
    keeps it out too (the ERP knows nothing of disputes)."""
    conn.execute("DROP TABLE IF EXISTS temp.resolved")
    keeps = "('resolved_valid')" if erp_closes else "('open', 'resolved_valid')"
    conn.execute(
        f"""CREATE TEMP TABLE resolved AS
           SELECT line, customer_id, number, issue_date, due_date, amount_minor, currency,
                  settled_on, inv_id, new_open AS open_minor,
                  CASE WHEN status IS NOT NULL THEN status
                       WHEN new_open = 0 THEN 'paid' ELSE 'open' END AS status,
                  new_disputed AS disputed, old_customer, old_issue, old_due, old_amount,
                  old_open, old_currency, old_status, old_disputed
           FROM (
             SELECT s.*, i.id AS inv_id, i.customer_id AS old_customer,
                    i.issue_date AS old_issue, i.due_date AS old_due,
                    i.amount_minor AS old_amount, i.open_minor AS old_open,
                    i.currency AS old_currency, i.status AS old_status,
                    i.disputed AS old_disputed,
                    CASE WHEN s.settled_on IS NOT NULL OR s.status IN ('paid', 'closed')
                              THEN 0
                         WHEN s.open_minor IS NOT NULL THEN s.open_minor
                         WHEN i.id IS NULL THEN s.amount_minor
                         ELSE s.amount_minor - COALESCE((SELECT SUM(p.amount_minor)
                              FROM payments p WHERE p.invoice_id = i.id), 0)
                    END AS new_open,
                    CASE WHEN i.id IS NULL THEN COALESCE(s.disputed, 0)
                         WHEN s.disputed IS NULL THEN i.disputed
                         WHEN s.disputed = 1 THEN 1
                         ELSE EXISTS (SELECT 1 FROM dispute_invoices di
                                      JOIN disputes d ON d.id = di.dispute_id
                                      WHERE di.invoice_id = i.id AND d.status IN {keeps})
                    END AS new_disputed
             FROM stage_invoices s LEFT JOIN invoices i ON i.number = s.number
           )"""
    )
    conn.execute(
        """DELETE FROM temp.resolved WHERE inv_id IS NOT NULL
           AND old_issue = issue_date AND old_due = due_date AND old_amount = amount_minor
           AND old_open = open_minor AND old_currency = currency AND old_status = status
           AND old_disputed = disputed"""
    )


def close_disputes(conn: sqlite3.Connection, now: str) -> int:
    """The open disputes the file ended (``disputed=no`` on their invoices, now none of
    their open invoices disputed): resolved by the ERP (``resolved_by`` NULL), valid when
    none of their invoices is still owed (credited or closed), else invalid; each with its
    ``dispute_decisions`` row and a system entry in the account's history. Set-based over
    the changed rows of ``temp.resolved``; returns how many were closed."""
    closed = conn.execute(
        """UPDATE disputes SET resolved_at = ?,
               status = CASE WHEN EXISTS (SELECT 1 FROM dispute_invoices d2
                                          JOIN invoices i ON i.id = d2.invoice_id
                                          WHERE d2.dispute_id = disputes.id
                                            AND i.status = 'open' AND i.open_minor > 0)
                             THEN 'resolved_invalid' ELSE 'resolved_valid' END
           WHERE status = 'open'
             AND id IN (SELECT di.dispute_id FROM temp.resolved r
                        JOIN dispute_invoices di ON di.invoice_id = r.inv_id
                        WHERE r.old_disputed = 1 AND r.disputed = 0)
             AND NOT EXISTS (SELECT 1 FROM dispute_invoices d3
                             JOIN invoices i ON i.id = d3.invoice_id
                             WHERE d3.dispute_id = disputes.id
                               AND i.disputed = 1 AND i.status = 'open')
           RETURNING id, customer_id, status""",
        (now,),
    ).fetchall()
    conn.executemany(
        """INSERT INTO dispute_decisions (dispute_id, customer_id, decided_at, decided_by,
               outcome, reason) VALUES (?, ?, ?, NULL, 'erp', 'disputed=no in the import')""",
        [(r[0], r[1], now) for r in closed],
    )
    conn.executemany(
        """INSERT INTO activities (customer_id, collector_id, at, outcome, note, details)
           VALUES (?, NULL, ?, 'system', ?, json_object('dispute_id', ?, 'resolved', ?,
                   'by', 'erp'))""",
        [(r[1], now, f"dispute {r[0]} closed by the ERP ({r[2]})", r[0], r[2]) for r in closed],
    )
    return len(closed)


def merge(
    conn: sqlite3.Connection,
    now: str,
    *,
    country: str,
    snapshot: bool,
    resolved: bool = False,
    disputes: bool = False,
    erp_closes: bool = True,
) -> tuple[dict[str, int], set[int]]:
    """Write the staged invoices (inside the caller's write transaction). ``resolved``:
    ``temp.resolved`` is already made (:func:`resolve`) and still true.

    Returns the counts (created, updated, unchanged, closed, customers_created,
    payments, disputes_closed) and the ids of customers whose ledger changed.
    ``disputes``: the file has a ``disputed`` column (else no dispute can end here).
    """
    created_customers = conn.execute(
        """INSERT INTO customers (external_ref, name, country, currency, created_at,
                                  updated_at)
           SELECT s.customer_ref, COALESCE(s.customer_name, s.customer_ref), ?, s.currency,
                  ?, ?
           FROM stage_invoices s JOIN (
               SELECT MIN(line) AS line FROM stage_invoices WHERE customer_id IS NULL
               GROUP BY customer_ref) f ON f.line = s.line
           ORDER BY s.line""",
        (country, now, now),
    ).rowcount
    if created_customers:
        conn.execute(
            """UPDATE stage_invoices SET customer_id =
                   (SELECT id FROM customers WHERE external_ref = stage_invoices.customer_ref)
               WHERE customer_id IS NULL"""
        )
    if not resolved:
        resolve(conn, erp_closes=erp_closes)
    conn.execute(KEEP_WRITTEN_OFF)
    staged = conn.execute("SELECT COUNT(*) FROM stage_invoices").fetchone()[0]
    # an open amount the ERP took to zero without a payment row (none settles it in this
    # file): money that reached the invoice, for the promises (queue/promises.py)
    conn.execute(
        """INSERT INTO invoice_closures (customer_id, invoice_id, amount_minor, currency,
               closed_on, how, created_at)
           SELECT old_customer, inv_id, old_open, old_currency, substr(?, 1, 10), 'zeroed', ?
           FROM temp.resolved WHERE inv_id IS NOT NULL AND old_status = 'open'
             AND old_open > 0 AND open_minor = 0 AND settled_on IS NULL""",
        (now, now),
    )
    updated = conn.execute(
        """UPDATE invoices SET issue_date = r.issue_date, due_date = r.due_date,
               amount_minor = r.amount_minor, open_minor = r.open_minor,
               currency = r.currency, status = r.status, disputed = r.disputed,
               updated_at = ?
           FROM temp.resolved r WHERE invoices.id = r.inv_id""",
        (now,),
    ).rowcount
    created = conn.execute(
        """INSERT INTO invoices (customer_id, number, issue_date, due_date, amount_minor,
               open_minor, currency, status, disputed, created_at, updated_at)
           SELECT customer_id, number, issue_date, due_date, amount_minor, open_minor,
                  currency, status, disputed, ?, ?
           FROM temp.resolved WHERE inv_id IS NULL ORDER BY line""",
        (now, now),
    ).rowcount
    affected = {r[0] for r in conn.execute("SELECT DISTINCT customer_id FROM temp.resolved")}
    disputes_closed = close_disputes(conn, now) if disputes and erp_closes else 0
    # settled by the as-of date: the settlement is a payment applied to the invoice
    paid = conn.execute(
        """INSERT INTO payments (customer_id, invoice_id, external_ref, source_ref,
               amount_minor, currency, paid_on, reference, applied_by, created_at)
           SELECT customer_id, id, 'settled:' || number, 'settled:' || number,
                  amount_minor - applied, currency, settled_on, number, 'settled', ?
           FROM (SELECT i.customer_id, i.id, s.number, s.amount_minor, s.currency,
                        s.settled_on,
                        COALESCE((SELECT SUM(p.amount_minor) FROM payments p
                                  WHERE p.invoice_id = i.id), 0) AS applied
                 FROM stage_invoices s JOIN invoices i ON i.number = s.number
                 WHERE s.settled_on IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM payments p
                                   WHERE p.source_ref = 'settled:' || s.number))
           WHERE amount_minor > applied
           ORDER BY settled_on
           RETURNING customer_id""",
        (now,),
    ).fetchall()
    affected.update(r[0] for r in paid)
    closed = 0
    if snapshot:
        conn.execute(
            """INSERT INTO invoice_closures (customer_id, invoice_id, amount_minor, currency,
                   closed_on, how, created_at)
               SELECT customer_id, id, open_minor, currency, substr(?, 1, 10), 'snapshot', ?
               FROM invoices WHERE status = 'open' AND open_minor > 0
                 AND NOT EXISTS (SELECT 1 FROM temp.stage_seen s
                                 WHERE s.number = invoices.number)""",
            (now, now),
        )
        rows = conn.execute(
            """UPDATE invoices SET status = 'closed', open_minor = 0, updated_at = ?
               WHERE status = 'open'
                 AND NOT EXISTS (SELECT 1 FROM temp.stage_seen s
                                 WHERE s.number = invoices.number)
               RETURNING customer_id""",
            (now,),
        ).fetchall()
        closed = len(rows)
        affected.update(r[0] for r in rows)
    conn.execute("DROP TABLE temp.resolved")
    counts = {
        "created": created,
        "updated": updated,
        "unchanged": staged - created - updated,
        "closed": closed,
        "customers_created": created_customers,
        "payments": len(paid),
        "disputes_closed": disputes_closed,
    }
    return counts, affected
