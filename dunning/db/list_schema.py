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

# m031_list_indexes (round 8, issues 8 and 9): one list index by collector instead of three.
# A lead's move sets collector_id: every index holding it is rewritten, at random places
# (m029's three made a 100,000-account move ~2x longer). Balance (the default sort and the
# board's drill-down) keeps its ranges by collector (``queue_list_balance``, m029's): a
# collector's accounts are where their currency puts them in one index over every account
# (dave's, at 1M, past 100,000 others). A list naming no collector reads balance over
# every account (``queue_by_balance``: one range, not one per collector: 55 collectors'
# ranges merged took 250-350 ms a page). The oldest due date and the last contact are read
# over every account (no collector_id: a move rewrites neither); no such index holds
# state, so a night's refresh that moves an account from waiting to ready (setting state
# alone, queue/refresh_rows.py) rewrites no list index. A list of a few collectors'
# accounts, or of a rare state's (``state=review``), reads instead their ranges of the
# worklist index, which carries the three keys after its own columns: a collector's
# accounts in a state are one range of it, read without the table and sorted by SQLite
# (queue/list_merge.py). The worklist is rewritten by what changes those keys anyway (an
# outcome sets the state and standing with the balance and the contact).
WORKLIST = (
    "CREATE INDEX queue_worklist ON queue(collector_id, state, pclass, pkey DESC, customer_id, "
    "open_minor, oldest_due, last_contact_at)"
)
M031: tuple[str, ...] = (
    "DROP INDEX IF EXISTS queue_list_due",
    "DROP INDEX IF EXISTS queue_list_contact",
    "DROP INDEX IF EXISTS queue_worklist",
    WORKLIST,
    "CREATE INDEX IF NOT EXISTS queue_by_balance ON queue(open_minor, customer_id)",
    "CREATE INDEX IF NOT EXISTS queue_by_due ON queue(oldest_due, customer_id)",
    "CREATE INDEX IF NOT EXISTS queue_by_contact ON queue(last_contact_at, customer_id)",
)
# the indexes a list sorted by each queue column reads: over every account, and by
# collector (one range each: a list naming collectors or a team), if it has one
INDEXES: dict[str, tuple[str, str | None]] = {
    "open_minor": ("queue_by_balance", "queue_list_balance"),
    "oldest_due": ("queue_by_due", None),
    "last_contact_at": ("queue_by_contact", None),
}
