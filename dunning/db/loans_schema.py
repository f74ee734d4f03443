"""The tables of a rebalance's loans (m027_loans, issue 9 item 3: queue/rebalance.py).

- ``loans``: an account lent by a rebalance ``--until DATE`` (a sick day): whose it is
  (``owner_id``, to whom it goes back), who holds it meanwhile (``holder_id``), when and
  by whom it was lent, why, the team's last day of the loan (``until``) and the instant it
  is due back (``due_at``, UTC: the next day's start in the team's zone). Append-only.
- ``loan_returns``: one row per loan ended: when, by whom (NULL: the nightly job), and
  how (``returned``: the account went back to its owner; ``moved``: it had changed hands
  since, so it was left alone; ``inactive``: its owner was deactivated, left with the
  holder). Append-only; a loan without a row here is open.

The move itself is an ``assignments`` row, as every move (who, when, why), written in
the same transaction as the loan or its return.
"""

from __future__ import annotations

from dunning.db.history_guards import guards_of

HISTORY_TABLES = ("loans", "loan_returns")


def guards() -> dict[str, str]:
    """The append-only triggers of the two tables, by name."""
    return guards_of(HISTORY_TABLES)


DDL: list[str] = [
    """CREATE TABLE loans (
        id            INTEGER PRIMARY KEY,
        customer_id   INTEGER NOT NULL REFERENCES customers(id),
        owner_id      INTEGER NOT NULL REFERENCES collectors(id),  -- goes back to them
        holder_id     INTEGER NOT NULL REFERENCES collectors(id),  -- holds it meanwhile
        lent_at       TEXT NOT NULL,
        lent_by       INTEGER REFERENCES collectors(id),
        until         TEXT NOT NULL,   -- the team's last day of the loan (ISO date)
        due_at        TEXT NOT NULL,   -- UTC instant it is due back
        reason        TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX loans_due ON loans(due_at)",
    "CREATE INDEX loans_customer ON loans(customer_id)",
    """CREATE TABLE loan_returns (
        id            INTEGER PRIMARY KEY,
        loan_id       INTEGER NOT NULL UNIQUE REFERENCES loans(id),
        returned_at   TEXT NOT NULL,
        returned_by   INTEGER REFERENCES collectors(id),   -- NULL: the nightly job
        result        TEXT NOT NULL CHECK (result IN ('returned', 'moved', 'inactive'))
    )""",
    *guards().values(),
]
