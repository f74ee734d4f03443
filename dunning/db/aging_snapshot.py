"""The aging snapshot: each customer's aging row (per currency) as of one date, kept
exact, so the aging of any date reads it instead of every open invoice (issue 8).

``aging_snapshot`` (migration m018) holds, per (customer, currency) with something open,
the six buckets, credits (open credit notes and unapplied cash), disputed, and ``n``, the
number of open items (open invoices with an amount, unapplied payments), as of the date in
``aging_snapshot_state`` (one row; no row: no snapshot, the reports scan the ledger).

Moving it from its date S to another date D changes only the invoices whose due date
crosses a bucket boundary (0, 30, 60, 90, 120 days) between the two: for each boundary a
due-date range |D - S| days wide, read through the index of open invoices by due date
(``invoices_open``). A total never moves with the date, only its split between buckets.
On the 1M demo ledger a day of shift is ~71,000 invoices (see MAX_SHIFT_DAYS): the
snapshot serves the day the nightly refresh made it and the few days around it; farther
dates (a past date a month back) keep the scan of reports_parallel / reports_past.

Exact after writes: a customer whose ledger changed after the snapshot is *dirty* and is
computed from the ledger (the aging's own SQL, for those customers only, through the
covering index ``invoices_aging``) instead of read from the snapshot. Dirty are:

- the customers of an invoice or a payment inserted after it (ids above the largest ids
  the state records: a range read on the primary key, no hook needed);
- the customers in ``aging_dirty``: a write that changes an existing invoice (the
  import's updates and closes, a dispute, a void) records them with :func:`touch`, in its
  own transaction, one set-based insert (no trigger per invoice: the import's speed).

:func:`advance` brings the snapshot to a date: rebuilt in full the first time (in ranges
of customers, short transactions), then only the shift and the dirty customers. The
nightly refresh calls it (and creates it on a large ledger), the import after its commit
(only when one exists). A report reads the state in the same read transaction as its
statement (:func:`plan`), so the date and the ids it shifts from are those of the rows.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from dunning.db import past_sums
from dunning.db.connection import write_tx
from dunning.db.reports_parallel import BUCKET_SUMS

# A snapshot is made only for a ledger of at least this many invoices (by the largest id):
# below it the scan takes well under a second and keeping a snapshot is not worth it.
MIN_INVOICES = 200_000
# Farther than this from the snapshot's date the report scans the ledger instead. A day
# of shift is not a few thousand invoices: on the 1M demo ledger it is ~71,000 (five
# boundaries x ~14,000 invoices due a day), read through the due-date index with one
# table read each: ~0.3 s a day on a quiet machine. Measured (load 9-12), a 30-day shift
# read 853,000 invoices and cost more than the scan it replaces, even through a covering
# index (7.4 s CPU for the shift alone against 6.2 s for the whole scan): the snapshot
# serves the day it was made (the nightly refresh's) and the few days around it.
MAX_SHIFT_DAYS = 3
BUILD_CHUNK = 100_000  # customers a transaction when the snapshot is built in full

DDL = [
    """CREATE TABLE aging_snapshot (
        customer_id INTEGER NOT NULL,
        currency    TEXT NOT NULL,
        b0 INTEGER NOT NULL, b1 INTEGER NOT NULL, b2 INTEGER NOT NULL,
        b3 INTEGER NOT NULL, b4 INTEGER NOT NULL, b5 INTEGER NOT NULL,
        cr INTEGER NOT NULL, dp INTEGER NOT NULL, n INTEGER NOT NULL,
        k INTEGER NOT NULL,  -- minus the total: the report's order, whatever the date
        PRIMARY KEY (customer_id, currency)
    ) WITHOUT ROWID""",
    """CREATE TABLE aging_snapshot_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        as_of TEXT NOT NULL,            -- the date the rows are aged on (ISO)
        invoices_max INTEGER NOT NULL,  -- largest invoice id the rows include
        payments_max INTEGER NOT NULL,  -- largest payment id the rows include
        ready INTEGER NOT NULL          -- 0 while it is being built
    )""",
    "CREATE TABLE aging_dirty (customer_id INTEGER PRIMARY KEY)",
]

_COLS = "b0, b1, b2, b3, b4, b5, cr, dp, n"
# The aging's groups: the one text of reports_parallel (bounds :b1..:b5 of the date aged
# on); each row's count of open items is added where it is used.
_BUCKETS = BUCKET_SUMS
FRESH_SQL = (
    """
    SELECT a.customer_id, a.currency, a.b0, a.b1, a.b2, a.b3, a.b4, a.b5,
           a.cr + COALESCE(u.cash, 0) AS cr, a.dp, a.n + COALESCE(u.n, 0) AS n
    FROM (SELECT customer_id, currency, """ + _BUCKETS + """, COUNT(*) AS n
          FROM invoices INDEXED BY invoices_aging
          WHERE status = 'open' AND open_minor != 0 AND customer_id {ids}
          GROUP BY customer_id, currency) a
    LEFT JOIN (SELECT customer_id, currency, -SUM(amount_minor) AS cash, COUNT(*) AS n
               FROM payments INDEXED BY payments_unapplied
               WHERE invoice_id IS NULL AND customer_id {ids}
               GROUP BY customer_id, currency) u
      ON u.customer_id = a.customer_id AND u.currency = a.currency
    UNION ALL
    SELECT customer_id, currency, 0, 0, 0, 0, 0, 0, -SUM(amount_minor), 0, COUNT(*)
    FROM payments p INDEXED BY payments_unapplied
    WHERE invoice_id IS NULL AND customer_id {ids}
      AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.customer_id = p.customer_id
                      AND i.currency = p.currency AND i.status = 'open' AND i.open_minor != 0)
    GROUP BY customer_id, currency"""
)  # fmt: skip
# Customers whose rows the snapshot may not hold as they are now.
DIRTY_SQL = """
    SELECT customer_id FROM aging_dirty
    UNION SELECT customer_id FROM invoices WHERE id > :inv_max
    UNION SELECT customer_id FROM payments WHERE id > :pay_max"""


@dataclass(frozen=True, slots=True)
class State:
    as_of: date
    invoices_max: int
    payments_max: int


def bounds(as_of: date, prefix: str = "b") -> dict[str, str]:
    """Due-date thresholds of ``as_of`` (reports._bounds), named prefix1..prefix5."""
    out = {}
    for n, days in enumerate((0, 30, 60, 90, 120), start=1):
        try:
            out[f"{prefix}{n}"] = (as_of - timedelta(days=days)).isoformat()
        except OverflowError:
            out[f"{prefix}{n}"] = ""
    return out


def state(conn: sqlite3.Connection) -> State | None:
    try:
        row = conn.execute(
            "SELECT as_of, invoices_max, payments_max FROM aging_snapshot_state "
            "WHERE id = 1 AND ready"
        ).fetchone()
    except sqlite3.OperationalError:  # a database before m018 (read-only, not migrated)
        return None
    if row is None:
        return None
    return State(date.fromisoformat(row[0]), int(row[1]), int(row[2]))


def _ranges(s: dict[str, str], d: dict[str, str]) -> list[tuple[str, str]]:
    """The due-date ranges [lo, hi) where an invoice's bucket on S and on D may differ:
    between each boundary's two dates, overlapping ranges merged."""
    spans = sorted(
        (min(s[f"s{n}"], d[f"b{n}"]), max(s[f"s{n}"], d[f"b{n}"]))
        for n in range(1, 6)
        if s[f"s{n}"] != d[f"b{n}"]
    )
    out: list[tuple[str, str]] = []
    for lo, hi in spans:
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(hi, out[-1][1]))
        else:
            out.append((lo, hi))
    return out


_CASE = (
    "CASE WHEN due_date >= :{p}1 THEN 0 WHEN due_date >= :{p}2 THEN 1 "
    "WHEN due_date >= :{p}3 THEN 2 WHEN due_date >= :{p}4 THEN 3 "
    "WHEN due_date >= :{p}5 THEN 4 ELSE 5 END"
)


def _shift_sql(ranges: list[tuple[str, str]]) -> tuple[str, dict[str, str]]:
    """Per (customer, currency), what moves between buckets from S to D (d0..d5), read
    from the open invoices whose due date lies in ``ranges``."""
    parts, params = [], {}
    for n, (lo, hi) in enumerate(ranges):
        params[f"lo{n}"], params[f"hi{n}"] = lo, hi
        parts.append(
            "SELECT customer_id, currency, open_minor AS v, "
            + _CASE.format(p="s") + " AS bs, " + _CASE.format(p="b") + " AS bd "
            "FROM invoices INDEXED BY invoices_open WHERE status = 'open' "
            f"AND due_date >= :lo{n} AND due_date < :hi{n} "
            "AND open_minor > 0 AND NOT disputed"
        )  # fmt: skip
    sums = ", ".join(
        f"SUM(CASE WHEN bd = {j} THEN v WHEN bs = {j} THEN -v ELSE 0 END) AS d{j}" for j in range(6)
    )
    sql = (
        f"SELECT customer_id, currency, {sums} FROM ("
        + " UNION ALL ".join(parts)
        + ") WHERE bs != bd GROUP BY customer_id, currency"
    )
    return sql, params


def rows_cte(st: State, as_of: date) -> tuple[str, dict[str, Any]]:
    """CTEs ending in ``snap(customer_id, currency, b0..b5, cr, dp, n)``: every aging row
    of the ledger as it is now, aged on ``as_of``, from the snapshot ``st``."""
    s, d = bounds(st.as_of, "s"), bounds(as_of, "b")
    params: dict[str, Any] = {**s, **d, "inv_max": st.invoices_max, "pay_max": st.payments_max}
    ranges = _ranges(s, d)
    fresh = FRESH_SQL.format(ids="IN (SELECT customer_id FROM snap_dirty)")
    if ranges:
        shift, extra = _shift_sql(ranges)
        params |= extra
        moved = ", ".join(f"s.b{j} + COALESCE(sh.d{j}, 0) AS b{j}" for j in range(6))
        kept = (
            f"SELECT s.customer_id, s.currency, {moved}, s.cr, s.dp, s.n FROM aging_snapshot s "
            "LEFT JOIN snap_shift sh ON sh.customer_id = s.customer_id "
            "AND sh.currency = s.currency"
        )
        shift_cte = f", snap_shift AS MATERIALIZED ({shift})"
    else:
        kept = f"SELECT s.customer_id, s.currency, {_COLS} FROM aging_snapshot s"
        shift_cte = ""
    sql = (
        f"snap_dirty AS MATERIALIZED ({DIRTY_SQL}){shift_cte}, snap AS ("
        f"{kept} WHERE s.customer_id NOT IN (SELECT customer_id FROM snap_dirty) "
        f"UNION ALL {fresh})"
    )
    return sql, params


# by collector, as reports_parallel.COLLECTOR_SQL: (collector id, currency, b0..b5,
# credits, disputed, customers); unapplied cash is in the credits already
COLLECTOR_TAIL = """
SELECT q.collector_id, m.currency, SUM(m.b0), SUM(m.b1), SUM(m.b2), SUM(m.b3), SUM(m.b4),
       SUM(m.b5), SUM(m.cr), SUM(m.dp), COUNT(*)
FROM snap m LEFT JOIN queue q ON q.customer_id = m.customer_id
GROUP BY q.collector_id, m.currency
"""


def usable(st: State | None, as_of: date) -> bool:
    return st is not None and abs((as_of - st.as_of).days) <= MAX_SHIFT_DAYS


def customer_sql(conn: sqlite3.Connection, as_of: date) -> tuple[str, dict[str, Any]] | None:
    """The by-customer statement of today's aging on ``as_of`` from the snapshot, or None
    without a usable one. Read the state in the transaction that runs the statement.

    The snapshot's rows are read in customer order (the joins to customers and queue
    then read those tables in order too) and sorted by SQLite; the dirty customers' rows
    are sorted apart and SQLite merges the two halves of the UNION ALL. Measured at 1M
    customers: reading the rows through an index on the total instead (no sort but one
    random read of customers, queue and the snapshot a row) took 61 s against 24 s.
    Each half's WHERE carries a ``/*HALF:k:ref:currency*/`` mark where aging_split adds
    its pivot's condition. With the table of rows in the report's order
    (dunning/db/aging_order.py, m019) no sort: its statement."""
    from dunning.db import aging_order

    st = state(conn)
    if not usable(st, as_of):
        return None
    assert st is not None
    return aging_order.customer_sql(conn, st, as_of) or ordered_sql(st, as_of)


def collector_sql(conn: sqlite3.Connection, as_of: date) -> tuple[str, dict[str, Any]] | None:
    """The by-collector statement (COLLECTOR_TAIL) from the snapshot, or None."""
    st = state(conn)
    if not usable(st, as_of):
        return None
    assert st is not None
    cte, params = rows_cte(st, as_of)
    return "WITH " + cte + COLLECTOR_TAIL, params


# The dirty customers' rows of the report by customer, computed from the ledger (``{fresh}``:
# FRESH_SQL for them), as a line shows them; shared with aging_order's ordered statement.
DIRTY_ROWS = """SELECT -(f.b0 + f.b1 + f.b2 + f.b3 + f.b4 + f.b5 + f.cr + f.dp), c.external_ref,
       f.currency, f.b0, f.b1, f.b2, f.b3, f.b4, f.b5, f.cr, f.dp, c.name, q.collector_id
FROM ({fresh}) f JOIN customers c ON c.id = f.customer_id
LEFT JOIN queue q ON q.customer_id = f.customer_id
WHERE 1 /*HALF:-(f.b0 + f.b1 + f.b2 + f.b3 + f.b4 + f.b5 + f.cr + f.dp):c.external_ref:f.currency*/
"""


def ordered_sql(st: State, as_of: date) -> tuple[str, dict[str, Any]]:
    s, d = bounds(st.as_of, "s"), bounds(as_of, "b")
    params: dict[str, Any] = {**s, **d, "inv_max": st.invoices_max, "pay_max": st.payments_max}
    ranges = _ranges(s, d)
    ctes = f"snap_dirty AS MATERIALIZED ({DIRTY_SQL})"
    if ranges:
        shift, extra = _shift_sql(ranges)
        params |= extra
        ctes += f", snap_shift AS MATERIALIZED ({shift})"
        moved = ", ".join(f"s.b{j} + COALESCE(sh.d{j}, 0)" for j in range(6))
        join = (
            "LEFT JOIN snap_shift sh ON sh.customer_id = s.customer_id AND sh.currency = s.currency"
        )
    else:
        moved, join = ", ".join(f"s.b{j}" for j in range(6)), ""
    fresh = FRESH_SQL.format(ids="IN (SELECT customer_id FROM snap_dirty)")
    sql = f"""WITH {ctes}
SELECT s.k AS k, c.external_ref AS external_ref, s.currency AS currency, {moved}, s.cr, s.dp,
       c.name, q.collector_id
FROM aging_snapshot s JOIN customers c ON c.id = s.customer_id
LEFT JOIN queue q ON q.customer_id = s.customer_id {join}
WHERE s.customer_id NOT IN (SELECT customer_id FROM snap_dirty)
  /*HALF:s.k:c.external_ref:s.currency*/
UNION ALL
{DIRTY_ROWS.replace("{fresh}", fresh)}ORDER BY k, external_ref, currency
"""
    return sql, params


@contextmanager
def read_tx(conn: sqlite3.Connection) -> Iterator[None]:
    """One read transaction (when the caller is not in one): the state read and the
    statement that uses it see the same snapshot of the database."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


def touch(conn: sqlite3.Connection, customer_ids: Iterable[int]) -> None:
    """Record customers whose existing invoices changed (in the caller's transaction):
    the reports compute them from the ledger until :func:`advance` takes them in. Nothing
    is written when there is no snapshot."""
    ids = json.dumps(sorted(set(customer_ids)))
    if ids == "[]":
        return
    try:
        conn.execute(
            "INSERT OR IGNORE INTO aging_dirty SELECT value FROM json_each(?) "
            "WHERE EXISTS (SELECT 1 FROM aging_snapshot_state)",
            (ids,),
        )
    except sqlite3.OperationalError as exc:  # a database before m018
        if "no such table" not in str(exc):
            raise


def advance(
    conn: sqlite3.Connection, today: date, *, create: bool = True, min_invoices: int | None = None
) -> str:
    """Bring the snapshot to ``today``: shift it, take the dirty customers in. Without
    one, build it when ``create`` and the ledger has ``min_invoices`` (default
    MIN_INVOICES) or more; a snapshot too far from ``today`` is built again. Not inside
    a transaction (it makes its own). Returns what it did: "none", "built", "advanced"."""
    from dunning.db import aging_order

    st = state(conn)
    if st is None or not usable(st, today):
        largest = conn.execute("SELECT MAX(id) FROM invoices").fetchone()[0] or 0
        floor = MIN_INVOICES if min_invoices is None else min_invoices
        if not create or (st is None and largest < floor):
            return "none"
        _build(conn, today)
        return "built"
    with write_tx(conn):
        st = state(conn)  # under the write lock
        if st is None:
            return "none"
        inv_max, pay_max = _maxima(conn)
        params: dict[str, Any] = {"inv_max": st.invoices_max, "pay_max": st.payments_max}
        conn.execute(_TAKEN_DDL)
        conn.execute("DELETE FROM temp.aging_taken")
        conn.execute(f"INSERT INTO temp.aging_taken {DIRTY_SQL}", params)
        conn.execute(f"DELETE FROM aging_snapshot WHERE customer_id IN {_TAKEN}")
        s, d = bounds(st.as_of, "s"), bounds(today, "b")
        ranges = _ranges(s, d)
        shifted = None
        if ranges:
            shift, extra = _shift_sql(ranges)
            conn.execute("DROP TABLE IF EXISTS temp.aging_shift")
            conn.execute(f"CREATE TEMP TABLE aging_shift AS {shift}", s | d | extra)
            sets = ", ".join(f"b{j} = b{j} + sh.d{j}" for j in range(6))
            conn.execute(
                f"UPDATE aging_snapshot SET {sets} FROM temp.aging_shift sh "
                "WHERE aging_snapshot.customer_id = sh.customer_id "
                "AND aging_snapshot.currency = sh.currency"
            )
            shifted = "temp.aging_shift"
        fresh = FRESH_SQL.format(ids=f"IN {_TAKEN}")
        conn.execute(_INSERT.format(fresh=fresh), d)
        # the rows in the report's order (m019): the customers taken, moved or shifted
        aging_order.advance(conn, f"SELECT customer_id FROM {_TAKEN}", shifted)
        past_sums.advance(conn, _TAKEN)  # and those whose collector changed (m030)
        if shifted is not None:
            conn.execute("DROP TABLE temp.aging_shift")
        conn.execute(f"DELETE FROM aging_dirty WHERE customer_id IN {_TAKEN}")
        conn.execute("DROP TABLE temp.aging_taken")
        conn.execute(
            "UPDATE aging_snapshot_state SET as_of = ?, invoices_max = ?, payments_max = ?",
            (today.isoformat(), inv_max, pay_max),
        )
    if past_sums.wanted(conn):  # built before m030, or its fill interrupted
        past_sums.fill(conn)
    return "advanced"


_INSERT = (
    f"INSERT INTO aging_snapshot (customer_id, currency, {_COLS}, k) "
    "SELECT *, -(b0 + b1 + b2 + b3 + b4 + b5 + cr + dp) FROM ({fresh})"
)
_TAKEN_DDL = "CREATE TEMP TABLE IF NOT EXISTS aging_taken (customer_id INTEGER PRIMARY KEY)"
_TAKEN = "(SELECT customer_id FROM temp.aging_taken)"


def _maxima(conn: sqlite3.Connection) -> tuple[int, int]:
    inv = conn.execute("SELECT MAX(id) FROM invoices").fetchone()[0] or 0
    pay = conn.execute("SELECT MAX(id) FROM payments").fetchone()[0] or 0
    return int(inv), int(pay)


def _build(conn: sqlite3.Connection, today: date) -> None:
    """The whole snapshot aged on ``today``, a range of customers a transaction. The
    state row goes first (no snapshot: reports scan the ledger meanwhile) and comes back
    last, with the largest ids read in the first transaction: an invoice or payment
    written during the build is newer, so its customer is dirty; a touch during the
    build is kept in aging_dirty."""
    from dunning.db import aging_order

    d = bounds(today, "b")
    with write_tx(conn):
        # the past date's sums do not depend on the date: complete, they take their dirty
        # customers in and stay (m030); else they are filled after the snapshot
        st, keep = state(conn), past_sums.ready(conn)
        if st is not None and keep:
            conn.execute(_TAKEN_DDL)
            conn.execute("DELETE FROM temp.aging_taken")
            conn.execute(
                f"INSERT INTO temp.aging_taken {DIRTY_SQL}",
                {"inv_max": st.invoices_max, "pay_max": st.payments_max},
            )
            past_sums.advance(conn, _TAKEN)
            conn.execute("DROP TABLE temp.aging_taken")
            keep = past_sums.ready(conn)  # not when a sum went beyond 64 bits
        else:
            past_sums.clear(conn)
        conn.execute("DELETE FROM aging_snapshot_state")
        conn.execute("DELETE FROM aging_snapshot")
        conn.execute("DELETE FROM aging_dirty")
        aging_order.clear(conn)
        inv_max, pay_max = _maxima(conn)
        conn.execute(
            "INSERT INTO aging_snapshot_state (id, as_of, invoices_max, payments_max, ready, "
            "past_ready) VALUES (1, ?, ?, ?, 0, ?)",
            (today.isoformat(), inv_max, pay_max, int(st is not None and keep)),
        )
    lo, hi = conn.execute(
        "SELECT (SELECT MIN(id) FROM customers), (SELECT MAX(id) FROM customers)"
    ).fetchone()
    fresh = FRESH_SQL.format(ids="BETWEEN :lo AND :hi")
    start = lo or 0
    while lo is not None and start <= hi:
        with write_tx(conn):
            conn.execute(
                _INSERT.format(fresh=fresh),
                d | {"lo": start, "hi": start + BUILD_CHUNK - 1},
            )
        start += BUILD_CHUNK
    with write_tx(conn):  # the rows in the report's order (m019): one sorted insert
        aging_order.fill(conn)
    with write_tx(conn):
        conn.execute("UPDATE aging_snapshot_state SET ready = 1")
    if past_sums.wanted(conn):
        past_sums.fill(conn)  # the past date's sums by collector (m030)
