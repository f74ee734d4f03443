"""The indexes of a lead's account lists (m029_lists, issue 9 item 2: queue/account_list.py).

A list sorted by balance, oldest due date or last contact reads its pages in the order of
one of these indexes, from the last row seen (``WHERE (key, id) > (?, ?)``), one range per
collector merged, instead of sorting every matching account for every page (at 1M:
seconds). A list sorted by name or
reference reads ``customers_name`` or the reference's unique index.

Their cost: an outcome's queue row sets ``open_minor``, ``oldest_due`` and, after a
conversation, ``last_contact_at``, so each outcome writes one more entry in two or three
indexes (bench/bench_work.py before and after: docs/LEAD_r7_p5.md); the 1M build writes
them once (a few seconds).
"""

from __future__ import annotations

# per collector: a collector's list (the board's drill-down) reads only their range; a
# list of several collectors (or all) reads each one's range in order and merges them
DDL: tuple[str, ...] = (
    "CREATE INDEX IF NOT EXISTS queue_list_balance ON queue(collector_id, open_minor, customer_id)",
    "CREATE INDEX IF NOT EXISTS queue_list_due ON queue(collector_id, oldest_due, customer_id)",
    "CREATE INDEX IF NOT EXISTS queue_list_contact ON queue(collector_id, last_contact_at, "
    "customer_id)",
)

# m032_review_disputes (issue 9, items 5 and 6: queue/review_list.py, disputes_list.py):
# the review queue in its order (oldest first) with each row's collector (a lead's team is
# checked in the index), partial: only the rows in review (~1% of the accounts) are in it,
# so a refresh or a move of any other row maintains nothing (no column of p3's m031 list
# indexes: none is ordered by next_action_at); the open disputes in the list's order, all
# departments or one, partial too (a dispute is written twice in its life)
REVIEW_DISPUTES_DDL: tuple[str, ...] = (
    "CREATE INDEX IF NOT EXISTS queue_review_since ON queue(next_action_at, customer_id, "
    "collector_id) WHERE state = 'review'",
    "CREATE INDEX IF NOT EXISTS disputes_open_age ON disputes(created_at, id) "
    "WHERE status = 'open'",
    "CREATE INDEX IF NOT EXISTS disputes_open_department ON disputes(department, created_at, id) "
    "WHERE status = 'open'",
)
