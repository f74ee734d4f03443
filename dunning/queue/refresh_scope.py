"""Which customers a nightly refresh must read: those whose queue row can have changed
since the last refresh (queue/refresh.py). Everyone else's row is what a whole pass would
leave it, so it is not read.

A row can change without any write when the date moves: its standing's class changes
(``restand_on`` has come, index ``queue_restand``), or its next action comes due (a
waiting row, index ``queue_waiting``; an ``await_due`` in another state, index
``queue_await``). Promises that can be decided are the refresh's ``_CANDIDATES``. The
rest is the ledger and contact data a row is made from (``RowMaker``): its own record,
kept apart from the aging snapshot's ``aging_dirty`` (the snapshot's advance empties that
one, and may run between refreshes):

- rows inserted since the last refresh: ids above the largest ids of invoices, payments,
  phones and customers it recorded (``refresh_state``; a range read on the primary key,
  no hook on the import's inserts);
- rows updated or deleted since: triggers on the columns RowMaker reads append the
  customer to ``refresh_dirty`` (a log, one row per write: no lookup in the trigger;
  the refresh takes the log up to its largest rowid at the start and deletes that part
  when it has finished, so a write during the refresh stays for the next one).

A refresh with no record (the first), a record of other settings (``fingerprint``), or
``--full`` reads every customer (``None`` below): the safety net that puts right a row
spoiled by a writer that bypassed RowMaker.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
from dataclasses import dataclass

from dunning.queue.config import Settings

_WATCHED = {
    # table: (the columns RowMaker reads, the customer column)
    "invoices": "status, open_minor, disputed, due_date, customer_id",
    "payments": "invoice_id, amount_minor, customer_id",
    "phones": "bad, do_not_call, customer_id",
    "customers": "status, currency, risk_score",
}
_MARKS = ("invoices", "payments", "phones", "customers")


def _triggers() -> list[str]:
    out = []
    for table, cols in _WATCHED.items():
        cid = "id" if table == "customers" else "customer_id"
        # only when a value read changes (an update that rewrites it as it was, as the
        # ERP's re-import may, records nothing)
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in cols.split(", "))
        out.append(
            f"""CREATE TRIGGER refresh_dirty_{table}_u AFTER UPDATE OF {cols} ON {table}
            WHEN {changed}
            BEGIN INSERT INTO refresh_dirty (customer_id) VALUES (OLD.{cid});
            INSERT INTO refresh_dirty (customer_id) SELECT NEW.{cid}
            WHERE NEW.{cid} IS NOT OLD.{cid}; END"""
        )
        # a delete of the largest id lets SQLite give that id again: the mark is lowered
        out.append(
            f"""CREATE TRIGGER refresh_dirty_{table}_d AFTER DELETE ON {table}
            BEGIN INSERT INTO refresh_dirty (customer_id) VALUES (OLD.{cid});
            UPDATE refresh_state SET {table}_max = OLD.id - 1 WHERE {table}_max >= OLD.id;
            END"""
        )
    return out


DDL = [
    "CREATE INDEX queue_restand ON queue(restand_on)",
    "CREATE INDEX queue_await ON queue(next_action_at) WHERE next_action = 'await_due'",
    "CREATE TABLE refresh_dirty (customer_id INTEGER NOT NULL)",
    """CREATE TABLE refresh_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        invoices_max INTEGER NOT NULL, payments_max INTEGER NOT NULL,
        phones_max INTEGER NOT NULL, customers_max INTEGER NOT NULL,
        fingerprint TEXT NOT NULL)""",
    *_triggers(),
]


def fingerprint(settings: Settings) -> str:
    """The settings a row is computed with (any change: a whole pass)."""
    text = json.dumps(dataclasses.asdict(settings), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Scope:
    marks: tuple[int, int, int, int]  # largest ids now (invoices, payments, phones, customers)
    log_max: int  # the largest rowid of refresh_dirty now
    before: tuple[int, int, int, int] | None  # the marks recorded by the last refresh
    ids: list[int] | None  # the customers to read, in order; None: every customer
    candidates: list[int] | None = None  # customers whose promises may be decided tonight


def begin(
    conn: sqlite3.Connection,
    settings: Settings,
    today_iso: str,
    now_iso: str,
    candidates_sql: str,
    *,
    full: bool = False,
) -> Scope:
    """The customers to read tonight (or None: all), and the record to leave at the end.
    Read in one read transaction, so the marks and the log are those of the same state."""
    conn.execute("BEGIN")
    try:
        marks = tuple(
            int(conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {t}").fetchone()[0]) for t in _MARKS
        )
        log_max = int(
            conn.execute("SELECT COALESCE(MAX(rowid), 0) FROM refresh_dirty").fetchone()[0]
        )
        state = conn.execute(
            "SELECT invoices_max, payments_max, phones_max, customers_max, fingerprint "
            "FROM refresh_state"
        ).fetchone()
        before = tuple(int(v) for v in state[:4]) if state is not None else None
        # a customer without a queue row (none should be: every writer makes one; queue
        # rows reference customers): counted, as a NOT EXISTS over every customer costs
        # seconds at 1M
        missing = conn.execute(
            "SELECT (SELECT COUNT(*) FROM customers) != (SELECT COUNT(*) FROM queue)"
        ).fetchone()[0]
        if full or missing or state is None or state[4] != fingerprint(settings):
            return Scope(marks, log_max, before, None)  # type: ignore[arg-type]
        inv, pay, pho, cus = before  # type: ignore[misc]
        ids: set[int] = set()
        for sql, params in (
            ("SELECT customer_id FROM refresh_dirty WHERE rowid <= ?", (log_max,)),
            ("SELECT customer_id FROM invoices WHERE id > ?", (inv,)),
            ("SELECT customer_id FROM payments WHERE id > ?", (pay,)),
            ("SELECT customer_id FROM phones WHERE id > ?", (pho,)),
            ("SELECT id FROM customers WHERE id > ?", (cus,)),
            ("SELECT customer_id FROM queue WHERE restand_on <= ?", (today_iso,)),
            (
                "SELECT customer_id FROM queue INDEXED BY queue_waiting "
                "WHERE state = 'waiting' AND next_action_at <= ?",
                (now_iso,),
            ),
            (
                "SELECT customer_id FROM queue INDEXED BY queue_await "
                "WHERE next_action = 'await_due' AND next_action_at <= ?",
                (now_iso,),
            ),
        ):
            ids.update(r[0] for r in conn.execute(sql, params))
        candidates = [r[0] for r in conn.execute(candidates_sql, (0, 1 << 62, now_iso))]
        ids.update(candidates)
        return Scope(marks, log_max, before, sorted(ids), candidates)  # type: ignore[arg-type]
    finally:
        conn.execute("COMMIT")


def finish(conn: sqlite3.Connection, scope: Scope, settings: Settings) -> None:
    """Record what this refresh has seen; inside the caller's write transaction. A mark
    a delete lowered during the refresh stays lowered."""
    conn.execute("DELETE FROM refresh_dirty WHERE rowid <= ?", (scope.log_max,))
    row = conn.execute(
        "SELECT invoices_max, payments_max, phones_max, customers_max FROM refresh_state"
    ).fetchone()
    marks = list(scope.marks)
    if row is not None and scope.before is not None:
        for i, (now, was) in enumerate(zip(row, scope.before, strict=True)):
            if int(now) < was:  # lowered by a delete since the start
                marks[i] = min(marks[i], int(now))
    conn.execute("DELETE FROM refresh_state")
    conn.execute(
        "INSERT INTO refresh_state (id, invoices_max, payments_max, phones_max, "
        "customers_max, fingerprint) VALUES (1, ?, ?, ?, ?, ?)",
        (*marks, fingerprint(settings)),
    )


def record(conn: sqlite3.Connection, settings: Settings) -> None:
    """Record the ledger as it is now as seen by a refresh: for a queue that was just
    made whole by other means (the demo build writes every row as a refresh on its day
    would), so that the next night is scoped. Not inside a transaction."""
    from dunning.db.connection import write_tx

    with write_tx(conn):
        marks = tuple(
            int(conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {t}").fetchone()[0]) for t in _MARKS
        )
        log_max = int(
            conn.execute("SELECT COALESCE(MAX(rowid), 0) FROM refresh_dirty").fetchone()[0]
        )
        finish(conn, Scope(marks, log_max, None, None), settings)  # type: ignore[arg-type]
