"""Today's aging by customer with each line made by SQLite (issue 8, aging fifth round):
the statement over ``aging_order`` (dunning/db/aging_order.py) returns every line in the
shape its consumer writes, so Python passes rows through without touching a cell.

- rows (``aging_out.chunks``): ``k, ref, name, collector, currency, b0..b5, credits,
  net, disputed, total``: the columns of ``exports.aging_table`` after the sort key ``k``
  (kept first: a compound statement's ORDER BY names its result columns; ordering by the
  total instead would make SQLite sort a million rows rather than read the table in
  order). The collector's name by a small CASE (few collectors) or a lookup by id.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from dunning.db import reports

CASE_MAX = 32  # collectors named in a CASE; more: a lookup by id a row


def who_sql(conn: sqlite3.Connection) -> tuple[Callable[[str], str], dict[str, Any]]:
    """The SQL of the collector cell for an id expression (``names.get(cid) or
    UNASSIGNED``, as aging_out), and its parameters."""
    names = conn.execute("SELECT id, username FROM collectors").fetchall()
    params: dict[str, Any] = {"w_none": reports.UNASSIGNED}
    if len(names) > CASE_MAX:
        return (lambda cid: "COALESCE(NULLIF((SELECT username FROM collectors "
                f"WHERE id = {cid}), ''), :w_none)"), params  # fmt: skip
    whens = []
    for cid, user in names:
        params[f"w{cid}"] = user or reports.UNASSIGNED
        whens.append(f"WHEN {int(cid)} THEN :w{cid}")
    if not whens:
        return (lambda cid: ":w_none"), params
    return (lambda cid: f"CASE {cid} {' '.join(whens)} ELSE :w_none END"), params


def row_cols(who: Callable[[str], str]) -> Callable[[dict[str, str]], str]:
    """aging_order.customer_sql's select list of a line as ``chunks`` yields it, after
    its sort key."""

    def cols(e: dict[str, str]) -> str:
        money = ", ".join(e[f"b{j}"] for j in range(6))
        k, dp = e["k"], e["dp"]
        return (f"{k} AS k, {e['ref']} AS external_ref, {e['name']}, {who(e['cid'])}, "
                f"{e['cur']} AS currency, {money}, {e['cr']}, -({k}) - {dp}, {dp}, "
                f"-({k})")  # fmt: skip

    return cols


def statement(
    conn: sqlite3.Connection, as_of: Any, cols: Callable[[dict[str, str]], str]
) -> tuple[str, dict[str, Any]] | None:
    """Today's statement over aging_order with the select list ``cols``, or None when
    the report does not read aging_order (no usable snapshot, DUNNING_AGING_ORDER=0).
    Read in the transaction that runs it."""
    from dunning.db import aging_order
    from dunning.db import aging_snapshot as snap

    st = snap.state(conn)
    if not snap.usable(st, as_of):
        return None
    assert st is not None
    return aging_order.customer_sql(conn, st, as_of, cols)


_SUMS = ", ".join(
    f"{{sign}}sum({{t}}.{c})" for c in ("b0", "b1", "b2", "b3", "b4", "b5", "cr", "dp")
)


def kept_sums(
    conn: sqlite3.Connection, sql: str, params: dict[str, Any]
) -> dict[str, list[int]] | None:
    """The TOTAL rows' sums (per currency: b0..b5, credits, disputed, rows) of today's
    statement ``sql`` over aging_order (any select list) from the sums kept beside the
    table (aging_widths' ``s`` rows, m021): minus its dirty customers' rows as the table
    holds them, plus their rows from the ledger, plus what a shift of the date moves
    between buckets for the others; SQLite sums the few rows that differ. None when not
    kept (the caller sums the rows): no aging_order statement, DUNNING_AGING_WIDTHS=0,
    the widths given up, a sum beyond 64 bits. In the statement's read transaction."""
    from dunning.db import aging_order, aging_widths

    if not aging_widths.enabled() or aging_widths.MARK not in sql or not sql.startswith("WITH "):
        return None
    try:
        kept = conn.execute(
            "SELECT kind, currency, col, n FROM aging_widths WHERE kind IN ('s', 'v')"
        ).fetchall()
    except sqlite3.OperationalError:  # before m021
        return None
    if not any(kind == "v" for kind, *_ in kept):
        return None
    sums: dict[str, list[int]] = {}
    for kind, c, col, n in kept:
        if kind == "s":
            sums.setdefault(c, [0] * 9)[col] += n
    head = sql[: sql.index("\nSELECT ")]  # the statement's WITH: snap_dirty (snap_shift)
    dirty = "(SELECT customer_id FROM snap_dirty)"
    parts = [
        f"SELECT o.currency, {_SUMS.format(sign='-', t='o')}, -count(*) FROM aging_order o "
        f"WHERE o.customer_id IN {dirty} GROUP BY o.currency",
        f"SELECT f.currency, {_SUMS.format(sign='', t='f')}, count(*) "
        + aging_order.dirty_from()
        + "GROUP BY f.currency",
    ]
    if "snap_shift" in head:
        moved = ", ".join(f"sum(sh.d{j})" for j in range(6))
        parts.append(
            f"SELECT o.currency, {moved}, 0, 0, 0 FROM aging_order o JOIN snap_shift sh "
            "ON sh.customer_id = o.customer_id AND sh.currency = o.currency "
            f"WHERE o.customer_id NOT IN {dirty} GROUP BY o.currency"
        )
    try:
        for c, *values in conn.execute(head + "\n" + " UNION ALL ".join(parts), params):
            t = sums.setdefault(c, [0] * 9)
            for i, v in enumerate(values):
                t[i] += v
    except sqlite3.OperationalError:  # integer overflow: the rows are summed instead
        return None
    if any(type(v) is not int for t in sums.values() for v in t):
        return None
    return {c: t for c, t in sums.items() if t[8] > 0}
