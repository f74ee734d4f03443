"""The bulk of a big invoice import, written in short write transactions.

A first load (1,000,000 invoices for 100,000 new customers) held the write lock for its
whole merge, ~25 s, while every collector's outcome waited. Most of that is inserting
the invoices of customers the file creates. Those customers have no queue row until the
import refreshes it, so no collector can draw them, and nothing else in the ledger
depends on them: their invoices can go in by chunks of ``CHUNK_ROWS`` rows, each its own
short ``BEGIN IMMEDIATE`` transaction, and collectors' writes get the lock in between.
Everything that changes what is already there (updates, closures, settlements, the
snapshot, promises, the invoices of known customers) stays in the import's one final
transaction (importer.py).

Only after every row was read, parsed and checked (nothing refused, or
``--skip-invalid``) does this start: what is left to fail is the machine (a crash, a full
disk) or the lock not had within the lock wait. The importer holds Ctrl-C from the first
chunk on, so an interrupted import still completes and says so. If the process dies
between two chunks, the ledger holds the new customers and part of their invoices, with
no queue rows: importing the same file again completes it (the import is idempotent) and
gives them their queue rows. A dry run never comes here.

The customers to create are found before the lock is taken (a pass over the staging
table), and the staged rows learn their customer ids after it is released: both are
writes to TEMP tables only, which take no lock on the ledger.

A first load (the ledger holds no invoice yet) inserts its invoices without the invoices'
secondary indexes and builds them after the last chunk (``defer_indexes`` /
``build_deferred``): inserting 1,000,000 rows into five B-trees, four of them in random
order, cost twice what inserting them into the table and its number index and then
sorting once per index costs. Each index is built in its own short transaction. The
indexes waiting to be built are written in ``meta`` (key ``import_deferred_indexes``) in
the transaction that drops them, so that a crash between the two leaves a note, and the
next import builds them first (``build_deferred`` runs before every import's writes).
Each build holds the lock for a time that grows with the table (~2-3 s at 1,000,000 rows
on a quiet machine), so only a first load of at most ``DEFER_MAX`` rows is loaded this
way. Only an empty ``invoices`` table is: a collector reading invoices meanwhile
reads only the new customers' rows, which no queue row points to yet.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from dunning.db.connection import sort_cache, write_tx

CHUNK_ROWS = 10_000  # customers, or invoices, per write transaction
MIN_ROWS = 20_000  # below this, the one final transaction is short enough on its own
DEFER_FROM = 100_000  # a first load of this many invoices builds its indexes after the rows
# ...and of at most this many: building one index holds the write lock ~2-3 s per million
# rows on a quiet 2-core machine (1.8-2.2 s of CPU each at 1,000,000), so a bigger first
# load inserts with its indexes, in short chunks, to keep every lock under 5 s
DEFER_MAX = 1_500_000
DEFERRED_KEY = "import_deferred_indexes"  # meta: [[name, sql], ...] still to build


@dataclass
class Bulk:
    customers_created: int = 0
    invoices_created: int = 0
    customer_ids: set[int] = field(default_factory=set)  # the customers created
    transactions: int = 0


def _os_user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return str(os.getuid())


def _set_pending(conn: sqlite3.Connection, pending: list[list[str]], now: str) -> None:
    conn.execute(
        "INSERT INTO meta (key, value, set_at, set_by) VALUES (?,?,?,?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value, set_at = excluded.set_at, "
        "set_by = excluded.set_by",
        (DEFERRED_KEY, json.dumps(pending), now, _os_user()),
    )


def _pending(conn: sqlite3.Connection) -> list[list[str]]:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (DEFERRED_KEY,)).fetchone()
    except sqlite3.OperationalError:  # a file without the meta table: nothing was deferred
        return []
    return [list(p) for p in json.loads(row[0])] if row else []


def defer_indexes(conn: sqlite3.Connection, now: str) -> bool:
    """Drop the invoices' secondary indexes if the table is empty (a first load), noting
    them in ``meta`` in the same transaction; False when the table holds rows."""
    with write_tx(conn):
        if conn.execute("SELECT 1 FROM invoices LIMIT 1").fetchone():
            return False
        # CREATE INDEX ones only, not unique: a unique index checks the rows as they go in
        plain = {
            r[1] for r in conn.execute("PRAGMA index_list('invoices')") if r[3] == "c" and not r[2]
        }
        found = [
            (name, sql)
            for name, sql in conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = 'invoices' AND sql IS NOT NULL ORDER BY name"
            )
            if name in plain
        ]
        if not found:
            return False
        pending = _pending(conn)
        names = {p[0] for p in pending}
        pending += [[name, sql] for name, sql in found if name not in names]
        _set_pending(conn, pending, now)
        for name, _ in found:
            conn.execute(f'DROP INDEX "{name}"')
    return True


def build_deferred(conn: sqlite3.Connection, now: str) -> int:
    """Build the indexes a first load deferred (this one, or one a crash stopped), each
    in its own transaction; returns how many were built."""
    if not _pending(conn):
        return 0
    built = 0
    while True:
        with write_tx(conn):
            pending = _pending(conn)  # read again under the lock: another import may build
            if not pending:
                return built
            name, sql = pending[0]
            if not conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)
            ).fetchone():
                with sort_cache(conn):
                    conn.execute(sql)
                built += 1
            _set_pending(conn, pending[1:], now)


def new_customer_rows(conn: sqlite3.Connection) -> int:
    """Staged rows of customers the ledger does not know yet (no lock taken)."""
    return int(
        conn.execute("SELECT COUNT(*) FROM stage_invoices WHERE customer_id IS NULL").fetchone()[0]
    )


def apply_new_customers(
    conn: sqlite3.Connection,
    now: str,
    *,
    country: str,
    new_rows: int = 0,
    between: Callable[[], None] | None = None,
    out: Bulk | None = None,
) -> Bulk:
    """Create the file's new customers, then insert their invoices by chunks (see the
    module docstring). Rows left in the staging table (a settlement to record, a number
    another import wrote meanwhile) are merged by the final transaction as before.
    ``new_rows``: the staged rows of customers to create (``new_customer_rows``); from
    ``DEFER_FROM`` on, a first load builds the invoices' indexes after its rows.
    ``between`` runs after each committed transaction (tests). ``out`` (filled as it goes)
    says what was written when it fails."""
    out = out if out is not None else Bulk()
    conn.execute("DROP TABLE IF EXISTS temp.stage_new_customers")
    conn.execute(
        "CREATE TEMP TABLE stage_new_customers (line INTEGER PRIMARY KEY, customer_ref TEXT, "
        "name TEXT, currency TEXT)"
    )
    # each new customer's first line: kept by the cross-row checks when they dropped no
    # row (invoices.refusable: the same grouping of the same rows), else grouped here
    firsts = (
        "temp.stage_firsts"
        if conn.execute(
            "SELECT 1 FROM temp.sqlite_master WHERE type = 'table' AND name = 'stage_firsts'"
        ).fetchone()
        else """(SELECT MIN(line) AS line FROM stage_invoices WHERE customer_id IS NULL
                 GROUP BY customer_ref)"""
    )
    conn.execute(
        f"""INSERT INTO stage_new_customers
           SELECT s.line, s.customer_ref, COALESCE(s.customer_name, s.customer_ref) AS name,
                  s.currency
           FROM {firsts} f CROSS JOIN stage_invoices s ON s.line = f.line"""
    )
    conn.execute("DROP TABLE IF EXISTS temp.stage_created")
    # the staged rows are matched to their new customer by reference as they are inserted
    # (no UPDATE of every staged row first: a million TEMP rows rewritten)
    conn.execute("CREATE TEMP TABLE stage_created (id INTEGER PRIMARY KEY)")
    last_line = -1
    while True:  # the customers too by chunks: 100,000 in one transaction took seconds
        with write_tx(conn):
            ids = conn.execute(
                """INSERT INTO customers (external_ref, name, country, currency, created_at,
                                          updated_at)
                   SELECT customer_ref, name, ?, currency, ?, ? FROM (
                       SELECT * FROM temp.stage_new_customers WHERE line > ?
                       ORDER BY line LIMIT ?) n
                   WHERE NOT EXISTS (SELECT 1 FROM customers c
                                     WHERE c.external_ref = n.customer_ref)
                   ORDER BY line
                   RETURNING id""",
                (country, now, now, last_line, CHUNK_ROWS),
            ).fetchall()
        out.transactions += 1
        conn.executemany("INSERT INTO temp.stage_created VALUES (?)", ids)
        out.customers_created += len(ids)
        out.customer_ids.update(r[0] for r in ids)
        if between:
            between()
        nxt = conn.execute(
            "SELECT line FROM temp.stage_new_customers WHERE line > ? ORDER BY line "
            "LIMIT 1 OFFSET ?",
            (last_line, CHUNK_ROWS - 1),
        ).fetchone()
        if nxt is None:
            break
        last_line = nxt[0]
    conn.execute("DROP TABLE temp.stage_new_customers")
    conn.execute("DROP TABLE IF EXISTS temp.stage_firsts")
    if not out.customers_created:
        _learn_ids(conn)
        return out
    deferred = DEFER_FROM <= new_rows <= DEFER_MAX and defer_indexes(conn, now)
    if deferred:
        out.transactions += 1
    top = conn.execute("SELECT COALESCE(MAX(line), 0) FROM stage_invoices").fetchone()[0]
    start = 0
    while start <= top:
        # a chunk is a range of lines holding at most CHUNK_ROWS staged rows
        end = conn.execute(
            "SELECT line FROM stage_invoices WHERE line >= ? ORDER BY line LIMIT 1 OFFSET ?",
            (start, CHUNK_ROWS),
        ).fetchone()
        stop = end[0] if end else top + 1
        with write_tx(conn):
            out.invoices_created += conn.execute(
                # OR IGNORE, not a NOT EXISTS probe of the number index before each
                # insert (which then searched it again: 1,000,000 rows 5.4-5.8 -> 3.4-3.8
                # s in SQLite alone): a number another import wrote meanwhile is skipped
                # all the same and left to the final merge (below); invoices have no
                # INSERT trigger the IGNORE could reach, and a row breaking another
                # constraint is left there too, where the merge's plain INSERT refuses it
                """INSERT OR IGNORE INTO invoices (customer_id, number, issue_date, due_date,
                       amount_minor, open_minor, currency, status, disputed, created_at,
                       updated_at)
                   SELECT customer_id, number, issue_date, due_date, amount_minor, new_open,
                          currency,
                          COALESCE(status, CASE WHEN new_open = 0 THEN 'paid'
                                                ELSE 'open' END),
                          COALESCE(disputed, 0), ?, ?
                   FROM (SELECT s.line, c.id AS customer_id, s.number, s.issue_date,
                                s.due_date, s.amount_minor, s.currency, s.status, s.disputed,
                                CASE WHEN s.status IN ('paid', 'closed') THEN 0
                                     ELSE COALESCE(s.open_minor, s.amount_minor)
                                END AS new_open
                         FROM stage_invoices s CROSS JOIN customers c
                         WHERE s.line >= ? AND s.line < ? AND s.settled_on IS NULL
                           AND s.customer_id IS NULL AND c.external_ref = s.customer_ref
                           -- "+": a check of the one customer found, not a loop over the
                           -- whole list probing the index (quadratic)
                           AND +c.id IN (SELECT id FROM temp.stage_created))
                   ORDER BY line""",
                (now, now, start, stop),
            ).rowcount
        out.transactions += 1
        if between:
            between()
        start = stop
    if deferred:
        out.transactions += build_deferred(conn, now)
    # what went in leaves the staging table (TEMP: no lock); the rest is merged as before
    if out.invoices_created == conn.execute("SELECT COUNT(*) FROM stage_invoices").fetchone()[0]:
        conn.execute("DELETE FROM stage_invoices")  # all of them: no WHERE, truncated
    else:
        mine = (
            "customer_id IS NULL AND settled_on IS NULL AND EXISTS (SELECT 1 FROM customers c "
            "WHERE c.external_ref = stage_invoices.customer_ref "
            "AND +c.id IN (SELECT id FROM temp.stage_created))"
        )
        candidates = conn.execute(f"SELECT COUNT(*) FROM stage_invoices WHERE {mine}").fetchone()[0]
        if candidates == out.invoices_created:  # every one went in (the rule)
            conn.execute(f"DELETE FROM stage_invoices WHERE {mine}")
        else:  # a number another import wrote meanwhile: that row is the final merge's
            _learn_ids(conn)
            conn.execute(
                """DELETE FROM stage_invoices
                   WHERE customer_id IN (SELECT id FROM temp.stage_created)
                     AND settled_on IS NULL AND EXISTS (SELECT 1 FROM invoices i
                       WHERE i.number = stage_invoices.number
                         AND i.customer_id = stage_invoices.customer_id)"""
            )
    _learn_ids(conn)  # the rows left (a settlement, a known number): the final merge's
    conn.execute("DROP TABLE temp.stage_created")
    return out


def _learn_ids(conn: sqlite3.Connection) -> None:
    """The staged rows of customers unknown when staged learn their ids (TEMP writes only:
    the ledger is read, not locked)."""
    conn.execute(
        """UPDATE stage_invoices SET customer_id =
               (SELECT id FROM customers WHERE external_ref = stage_invoices.customer_ref)
           WHERE customer_id IS NULL"""
    )
