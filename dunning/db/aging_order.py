"""Today's aging by customer stored in the report's order (issue 8: a million customers
in <= 5 s): ``aging_order`` (migration m019) holds every row of the aging snapshot
(dunning/db/aging_snapshot.py) with what a line of the report shows, keyed by the
report's order: ``k`` (minus the total, which never moves with the date), the customer's
reference, the currency; then the buckets, credits, disputed, the customer's name and
collector. The report's clean rows come out sorted by one sequential read of the table:
no sort of a million rows (5.7 s of CPU at 1M) and no read of ``customers`` and ``queue``
a row.

Exact: a customer whose row the table may not hold as it is now is *dirty* and its rows
are computed from the ledger and merged in order (SQLite's merge of a UNION ALL whose
halves are each in order: the table's by its key, the few dirty rows sorted apart).
Dirty, beyond the snapshot's own dirty customers (new invoices and payments by id, the
customers ``touch`` records):

- renamed customers (name or reference): a trigger on ``customers`` (renames are rare)
  records them in ``aging_dirty``, as ``touch`` does;
- reassigned customers: every change of ``queue.collector_id`` appends its row to the
  append-only ``assignments`` (the import's, `dunning assign`'s, a lead's move), so the
  customers of assignments with ids above the largest the table was made with are dirty,
  a range read on its primary key: no trigger on ``queue``, whose rows claims update
  constantly, and nothing added to a lead's move of 100,000 accounts.

The table is made with the snapshot (its first build: one sorted insert) and kept with
it by :func:`aging_snapshot.advance`, which makes again only the rows of the customers
it takes in (its dirty customers) and of the reassigned ones, and moves the buckets of
those whose invoices crossed a boundary in place. Within a few days
of the snapshot's date a report shifts the buckets of its rows as the snapshot's own
statement does (a left join to the shift, by customer).

``aging_order_state`` (one row: the largest assignment id the table was made with) says
the table is there; without it a report reads the snapshot and sorts
(aging_snapshot.ordered_sql).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from datetime import date
from typing import Any

from dunning.db import aging_snapshot as snap
from dunning.db import aging_widths
from dunning.textsafe import is_safe

_TEXT_MAX = 32  # exports.TABLE_TEXT_MAX (exports imports the reports; a test compares)

DDL = [
    """CREATE TABLE aging_order (
        k            INTEGER NOT NULL,  -- minus the total: the report's order
        external_ref TEXT NOT NULL,
        currency     TEXT NOT NULL,
        customer_id  INTEGER NOT NULL,
        b0 INTEGER NOT NULL, b1 INTEGER NOT NULL, b2 INTEGER NOT NULL,
        b3 INTEGER NOT NULL, b4 INTEGER NOT NULL, b5 INTEGER NOT NULL,
        cr INTEGER NOT NULL, dp INTEGER NOT NULL,
        name         TEXT NOT NULL,
        collector_id INTEGER,
        PRIMARY KEY (k, external_ref, currency)
    ) WITHOUT ROWID""",
    "CREATE INDEX aging_order_customer ON aging_order(customer_id)",
    """CREATE TABLE aging_order_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        assignments_max INTEGER NOT NULL  -- largest assignment id the rows include
    )""",
    # a rename makes its customer dirty (rare; a trigger costs nothing elsewhere)
    """CREATE TRIGGER aging_order_rename AFTER UPDATE OF name, external_ref ON customers
       WHEN OLD.name IS NOT NEW.name OR OLD.external_ref IS NOT NEW.external_ref
       BEGIN
         INSERT OR IGNORE INTO aging_dirty (customer_id)
           SELECT NEW.id WHERE EXISTS (SELECT 1 FROM aging_snapshot_state);
       END""",
]

# m026_aging_plain: whether a row's text cells are *plain*: the aligned table shows its reference
# and name as they are (exports.table_text changes neither: nothing to make visible, at
# most TABLE_TEXT_MAX characters; 2: ASCII too; 3: the name only cut), so SQLite can
# write its whole line (aging_lines.table_cols); 0: Python writes it
PLAIN_DDL = "ALTER TABLE aging_order ADD COLUMN plain INTEGER NOT NULL DEFAULT 0"
PLAIN_FN = "dunning_aging_plain"  # the SQL function of plain(), registered where rows are made


def plain(ref: str | None, name: str | None) -> int:
    """1 when the table shows ``ref`` and ``name`` as they are, 2 when they are ASCII
    too (SQLite pads them by bytes, a little cheaper than by characters), 3 when the name
    is only cut (longer than TABLE_TEXT_MAX, nothing to make visible), else 0 (checked
    once, when the row is written: the snapshot's build and advance, m026_aging_plain)."""
    if type(ref) is not str or type(name) is not str:
        return 0
    both = ref + name
    if len(ref) > _TEXT_MAX:
        return 0
    # every character printable (C speed, a superset of what textsafe.visible changes,
    # as aging_out._cleaned): shown as it is; else the exact test
    if not both.isprintable() and not (is_safe(ref) and is_safe(name)):
        return 0
    if len(name) > _TEXT_MAX:  # cut: SQLite's substr() counts characters as len()
        return 3
    return 2 if both.isascii() else 1


def _register(conn: sqlite3.Connection) -> str:
    """The SQL of the flag of the cells ``ref`` and ``name`` (placeholders), its function
    registered on ``conn``. The cells as text (as blobs decoded here: +0.1 s per 100k
    rows; text that is not UTF-8 fails the snapshot's build in aging_widths.fill anyway)."""
    conn.create_function(PLAIN_FN, 2, plain, deterministic=True)
    return f"{PLAIN_FN}({{ref}}, {{name}})"


# m035_aging_csv: whether the CSV writes a row's reference and name as they are (no quote
# csv.writer would add, no formula start csvsafe would neutralize) and they are printable
# (no NUL, no line break: aging_csv's SQLite line), so SQLite can write its whole CSV
# line (dunning/db/aging_csv.py); 0: Python writes it
CSV_DDL = "ALTER TABLE aging_order ADD COLUMN csv_plain INTEGER NOT NULL DEFAULT 0"
CSV_FN = "dunning_aging_csv_plain"


def csv_plain(ref: str | None, name: str | None) -> int:
    """1 when the CSV shows ``ref`` and ``name`` as they are and both are printable (the
    fast CSV line of aging_out._csv_batch writes them as they are: aging_out._special
    finds nothing), else 0 (checked once, when the row is written, as ``plain``)."""
    if type(ref) is not str or type(name) is not str:
        return 0
    both = ref + name  # printable: no line break either (C-speed searches, ~0.5 us a row)
    if "," in both or '"' in both or not both.isprintable():
        return 0
    return 0 if ref[:1] in _STARTS or name[:1] in _STARTS else 1


_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")  # csvsafe.TRIGGERS (a test compares)
_STARTS = frozenset(_TRIGGERS)


def has_csv_plain(conn: sqlite3.Connection) -> bool:
    """Whether aging_order has the ``csv_plain`` column (m035_aging_csv)."""
    return any(r[1] == "csv_plain" for r in conn.execute("PRAGMA table_info(aging_order)"))


def add_csv_plain(conn: sqlite3.Connection) -> None:
    """m035_aging_csv: the column, and every row's flag from its cells."""
    conn.execute(CSV_DDL)
    conn.create_function(CSV_FN, 2, csv_plain, deterministic=True)
    conn.execute(f"UPDATE aging_order SET csv_plain = {CSV_FN}(external_ref, name)")


def has_plain(conn: sqlite3.Connection) -> bool:
    """Whether aging_order has the ``plain`` column (m026_aging_plain)."""
    return any(r[1] == "plain" for r in conn.execute("PRAGMA table_info(aging_order)"))


def fill_plain(conn: sqlite3.Connection) -> None:
    """Every row's flag from its cells (m026_aging_plain, on a table filled before it)."""
    flag = _register(conn).format(ref="external_ref", name="name")
    conn.execute(f"UPDATE aging_order SET plain = {flag}")


def _fill_sql(conn: sqlite3.Connection, where: str) -> str:
    """_FILL with the plain flags when the table has them (the functions registered)."""
    if not has_plain(conn):
        return _FILL.format(where=where, pcol="", pval="")
    flag = _register(conn).format(ref="c.external_ref", name="c.name")
    pcol, pval = ", plain", f", {flag}"
    if has_csv_plain(conn):
        conn.create_function(CSV_FN, 2, csv_plain, deterministic=True)
        pcol, pval = f"{pcol}, csv_plain", f"{pval}, {CSV_FN}(c.external_ref, c.name)"
    return _FILL.format(where=where, pcol=pcol, pval=pval)


# the customers of the snapshot's rows, with what a line shows, in the report's order
_FILL = """
INSERT INTO aging_order (k, external_ref, currency, customer_id, b0, b1, b2, b3, b4, b5,
                         cr, dp, name, collector_id{pcol})
SELECT s.k, c.external_ref, s.currency, s.customer_id, s.b0, s.b1, s.b2, s.b3, s.b4, s.b5,
       s.cr, s.dp, c.name, q.collector_id{pval}
FROM aging_snapshot s JOIN customers c ON c.id = s.customer_id
LEFT JOIN queue q ON q.customer_id = s.customer_id
{where}
ORDER BY s.k, c.external_ref, s.currency
"""
MOVED_SQL = "SELECT customer_id FROM assignments WHERE id > :asg_max"
_ROWS = """SELECT k, external_ref, currency, b0, b1, b2, b3, b4, b5, cr, dp, name, collector_id
FROM aging_order WHERE customer_id IN {ids}"""


def _assignments_max(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM assignments").fetchone()[0])


def _exists(conn: sqlite3.Connection) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'aging_order_state'"
        ).fetchone()
        is not None
    )


def fill(conn: sqlite3.Connection) -> None:
    """The whole table from the snapshot as it is (inside the caller's write
    transaction): the snapshot's build, and m019 on a database that has one."""
    if not _exists(conn):
        return
    conn.execute("DELETE FROM aging_order_state")
    conn.execute("DELETE FROM aging_order")
    conn.execute(_fill_sql(conn, ""))
    conn.execute(
        "INSERT INTO aging_order_state (id, assignments_max) VALUES (1, ?)",
        (_assignments_max(conn),),
    )
    aging_widths.fill(conn)


def clear(conn: sqlite3.Connection) -> None:
    """No table (inside the caller's write transaction): the snapshot is being rebuilt."""
    if _exists(conn):
        conn.execute("DELETE FROM aging_order_state")
        conn.execute("DELETE FROM aging_order")
        aging_widths.clear(conn)


def advance(conn: sqlite3.Connection, taken: str, shifted: str | None) -> None:
    """Inside aging_snapshot.advance's write transaction, once the snapshot is advanced:
    the rows of the customers it took in (``taken``, a subquery of customer ids) and of
    the reassigned ones made again from the snapshot; the buckets of the others whose
    invoices crossed a boundary (``shifted``: the table of what moved, d0..d5 by customer
    and currency, or None) moved in place (their key, minus the total, does not move)."""
    if not _exists(conn):
        return
    row = conn.execute("SELECT assignments_max FROM aging_order_state").fetchone()
    if row is None:  # made with the snapshot's next build
        return
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS aging_redo (customer_id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM temp.aging_redo")
    conn.execute(f"INSERT OR IGNORE INTO temp.aging_redo {taken}")
    conn.execute(f"INSERT OR IGNORE INTO temp.aging_redo {MOVED_SQL}", {"asg_max": row[0]})
    redo = "(SELECT customer_id FROM temp.aging_redo)"
    # the kept widths (m021): the rows rewritten out, then back in; the buckets alone of
    # the rows only shifted (nothing else of a row moves with the date)
    widths = aging_widths.kept(conn)
    if widths:
        aging_widths.add(conn, aging_widths.rows_hist(conn.execute(_ROWS.format(ids=redo)), -1))
        if shifted is not None:  # before the update: old amounts and what moves
            aging_widths.add(conn, aging_widths.shift_hist(conn, shifted, redo))
    if shifted is not None:
        sets = ", ".join(f"b{j} = b{j} + sh.d{j}" for j in range(6))
        conn.execute(
            f"UPDATE aging_order SET {sets} FROM {shifted} sh "
            "WHERE aging_order.customer_id = sh.customer_id "
            "AND aging_order.currency = sh.currency"
        )
    conn.execute(f"DELETE FROM aging_order WHERE customer_id IN {redo}")
    conn.execute(_fill_sql(conn, f"WHERE s.customer_id IN {redo}"))
    if widths:
        aging_widths.add(conn, aging_widths.rows_hist(conn.execute(_ROWS.format(ids=redo)), 1))
    conn.execute("DROP TABLE temp.aging_redo")
    conn.execute("UPDATE aging_order_state SET assignments_max = ?", (_assignments_max(conn),))


def state(conn: sqlite3.Connection) -> int | None:
    """The largest assignment id the table includes, None without the table."""
    try:
        row = conn.execute("SELECT assignments_max FROM aging_order_state").fetchone()
    except sqlite3.OperationalError:  # a database before m019 (read-only, not migrated)
        return None
    return None if row is None else int(row[0])


def tuple_cols(e: dict[str, str]) -> str:
    """The select list of the report's tuples (``k, ref, currency, b0..b5, cr, dp, name,
    collector id``) from the expressions ``e`` of an arm (keys k, ref, cur, b0..b5, cr,
    dp, name, cid)."""
    money = ", ".join(e[f"b{j}"] for j in range(6))
    return (f"{e['k']} AS k, {e['ref']} AS external_ref, {e['cur']} AS currency, {money}, "
            f"{e['cr']}, {e['dp']}, {e['name']}, {e['cid']}")  # fmt: skip


# the dirty customers' rows (aging_snapshot.DIRTY_ROWS) from their FROM on: each arm's
# select list is the caller's (``cols``)
_DIRTY_FROM = snap.DIRTY_ROWS[snap.DIRTY_ROWS.index("FROM ({fresh})") :]
_DIRTY_CELLS = {"k": "-(f.b0 + f.b1 + f.b2 + f.b3 + f.b4 + f.b5 + f.cr + f.dp)",
                "ref": "c.external_ref", "cur": "f.currency", "cr": "f.cr", "dp": "f.dp",
                "name": "c.name", "cid": "q.collector_id",
                **{f"b{j}": f"f.b{j}" for j in range(6)}}  # fmt: skip


def dirty_from() -> str:
    """The FROM ... WHERE of the dirty customers' rows (the
    second arm of customer_sql's), up to its ORDER BY."""
    fresh = snap.FRESH_SQL.format(ids="IN (SELECT customer_id FROM snap_dirty)")
    return _DIRTY_FROM.replace("{fresh}", fresh)


def customer_sql(
    conn: sqlite3.Connection,
    st: snap.State,
    as_of: date,
    cols: Callable[[dict[str, str]], str] = tuple_cols,
) -> tuple[str, dict[str, Any]] | None:
    """Today's by-customer statement read from the table in its order, or None without
    it. Read the states in the transaction that runs the statement. Each half's WHERE
    carries a ``/*HALF:k:ref:currency*/`` mark where aging_split adds its pivot's
    condition (a range of the table's key on this side)."""
    asg_max = state(conn)
    if asg_max is None or os.environ.get("DUNNING_AGING_ORDER") == "0":  # 0: measure without
        return None
    s, d = snap.bounds(st.as_of, "s"), snap.bounds(as_of, "b")
    params: dict[str, Any] = {**s, **d, "inv_max": st.invoices_max, "pay_max": st.payments_max,
                              "asg_max": asg_max}  # fmt: skip
    ranges = snap._ranges(s, d)
    ctes = f"snap_dirty AS MATERIALIZED ({snap.DIRTY_SQL} UNION {MOVED_SQL})"
    if ranges:
        shift, extra = snap._shift_sql(ranges)
        params |= extra
        ctes += f", snap_shift AS MATERIALIZED ({shift})"
        moved = [f"o.b{j} + COALESCE(sh.d{j}, 0)" for j in range(6)]
        join = (
            "LEFT JOIN snap_shift sh ON sh.customer_id = o.customer_id AND sh.currency = o.currency"
        )
    else:
        moved, join = [f"o.b{j}" for j in range(6)], ""
    clean = {"k": "o.k", "ref": "o.external_ref", "cur": "o.currency", "cr": "o.cr",
             "dp": "o.dp", "name": "o.name", "cid": "o.collector_id", "plain": "o.plain",
             "csv": "o.csv_plain",
             **{f"b{j}": m for j, m in enumerate(moved)}}  # fmt: skip
    sql = f"""WITH {ctes}
SELECT {cols(clean)}
FROM aging_order o {join}
WHERE o.customer_id NOT IN (SELECT customer_id FROM snap_dirty)
  /*HALF:o.k:o.external_ref:o.currency*/
UNION ALL
SELECT {cols(_DIRTY_CELLS)}
{dirty_from()}ORDER BY k, external_ref, currency
"""
    return sql, params
