"""m033_moves: an account moved says who gave it (issue 9, the board after a bulk move).

``assignments.from_collector_id``: the owner the account had just before this row (NULL:
nobody, or a row written before m033). Every writer of ``assignments`` fills it from the
queue row it changes, in the same statement. The team board reads the rows written since
its last read (a range of ids) for their givers and takers and recounts only those
collectors (queue/board.py), instead of every collector after any move.

``disputes_open``: the open disputes by customer, for the board's count of open and
overdue disputes per collector. ``customers_currency``: the currencies the ledger holds,
found in a few seeks (a list sorted by balance is grouped by currency when it holds
several).

Adding a nullable column is a change of the schema's text alone (no row is rewritten):
instant at a million assignments.
"""

from __future__ import annotations

DDL: tuple[str, ...] = (
    "ALTER TABLE assignments ADD COLUMN from_collector_id INTEGER REFERENCES collectors(id)",
    # the board's open disputes per collector (queue/board_disputes.py): a few percent of
    # the accounts, probed by customer
    "CREATE INDEX IF NOT EXISTS disputes_open ON disputes(customer_id, created_at) "
    "WHERE status = 'open'",
    # the currencies a ledger holds, read by seeks (queue/account_list.py: a balance sort
    # across currencies groups the accounts by currency)
    "CREATE INDEX IF NOT EXISTS customers_currency ON customers(currency)",
)
