"""Today's aging by customer as CSV with each plain row's whole line made by SQLite (issue
8, aging eighth round; migration m035_aging_csv): Python writes only the few other rows.

A row of ``aging_order`` whose reference and name the CSV writes as they are
(``aging_order.csv_plain``, checked once when the row is written: no quote, no formula
start, printable), in a currency whose code is written as it is and whose amounts are all
below 10**15 (the kept widths say: aging_widths, m021), with a collector whose name is
written as it is, is one ``printf``: the amounts from the integers (``%d.%02d`` of the
whole and minor parts: exact, the bytes of aging_out's float format, exact below 2**52;
an amount between -1 and 0 major units would lose its sign: such a row is written by
Python). Any other row (not plain, a dirty customer's row computed from the ledger,
another currency) comes back as NUL + the JSON of its cells + NUL and is written by
aging_out._csv_batch, the path of every row before: the same bytes. The lines come back
as UTF-8 bytes and go to the file's byte stream as they are.

Used by the two processes of aging_split.write_csv, each over its half; each process
reads the kept widths and builds its statement in its own snapshot (the same one).
DUNNING_AGING_SQL_CSV=0: every row by Python (to compare).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from datetime import date
from operator import itemgetter
from typing import IO, Any

from dunning.db import aging_lines, aging_order, aging_out, aging_widths, reports
from dunning.money import minor_digits


def _amount(v: str, d: int) -> tuple[str, str, str]:
    """An amount (integer minor units, the expression ``v``) as the CSV writes it with
    ``d`` decimals: its printf directive, its arguments and the condition they are right
    under (the whole part by ``%d`` loses the sign of an amount between -1 and 0)."""
    if d == 0:
        return "%d", v, ""
    u = 10**d
    v = f"({v})"
    return f"%d.%0{d}d", f"{v} / {u}, abs({v}) % {u}", f"{v} NOT BETWEEN {1 - u} AND -1"


def _as_is(text: str) -> bool:
    """Whether the fast CSV line writes ``text`` as it is and it holds no NUL or line
    break (aging_out._special finds nothing; printable)."""
    return text.isprintable() and not aging_out._special((text,))


def csv_cols(
    state: dict[str, Any], names: dict[int, str]
) -> tuple[Callable[[dict[str, str]], str], dict[str, Any]] | None:
    """aging_order.customer_sql's select list of the CSV: ``k, external_ref, currency,
    line`` (the line made by SQLite for a plain row, else NUL + the JSON of ``k, ref,
    currency, name, collector id, b0..b5, credits, disputed`` + NUL), and its parameters;
    None when no currency can be written by SQLite."""
    by_digits: dict[int, list[str]] = {}
    for c, fast in sorted(state.get("fast", {}).items()):
        if fast and isinstance(c, str) and _as_is(c):
            by_digits.setdefault(minor_digits(c) if c else 0, []).append(c)
    if not by_digits:
        return None
    params: dict[str, Any] = {"cw_none": reports.UNASSIGNED}
    whens, good, bad = [], [], []
    for cid, user in sorted(names.items()):
        params[f"cw{int(cid)}"] = user or reports.UNASSIGNED
        whens.append(f"WHEN {int(cid)} THEN :cw{int(cid)}")
        (good if _as_is(user or reports.UNASSIGNED) else bad).append(str(int(cid)))

    def who(cid: str) -> str:
        return f"CASE {cid} {' '.join(whens)} ELSE :cw_none END" if whens else ":cw_none"

    def cols(e: dict[str, str]) -> str:
        k, dp = e["k"], e["dp"]
        keys = f"{k} AS k, {e['ref']} AS external_ref, {e['cur']} AS currency"
        raw = ", ".join([k, e["ref"], e["cur"], e["name"], e["cid"],
                         *(e[f"b{j}"] for j in range(6)), e["cr"], dp])  # fmt: skip
        other = f"char(0) || json_array({raw}) || char(0)"
        if "csv" not in e:  # a dirty customer's row: Python writes it
            return f"{keys}, {other} AS line"
        money = [*(e[f"b{j}"] for j in range(6)), e["cr"], f"-({k}) - {dp}", dp, f"-({k})"]
        # the collectors whose name is not written as it is: Python (none: no condition);
        # no collector or an unknown id is UNASSIGNED
        if not _as_is(reports.UNASSIGNED):
            who_ok = f" AND {e['cid']} IN ({', '.join(good) or 'NULL'})"
        else:
            who_ok = f" AND COALESCE({e['cid']}, -1) NOT IN ({', '.join(bad)})" if bad else ""
        arms = []
        for d, curs in sorted(by_digits.items()):
            ps = []
            for c in curs:
                ps.append(f":cc{len(params)}")
                params[ps[-1][1:]] = c
            cells = [_amount(v, d) for v in money]
            fmt = ",".join(["%s"] * 4 + [f for f, _, _ in cells])
            args = f"{e['ref']}, {e['name']}, {who(e['cid'])}, {e['cur']}, " + ", ".join(
                a for _, a, _ in cells
            )
            guard = "".join(f" AND {g}" for _, _, g in cells if g)
            arms.append(
                f"WHEN {e['csv']} AND {e['cur']} IN ({', '.join(ps)}){who_ok}{guard} "
                f"THEN printf('{fmt}\r\n', {args})"
            )
        return f"{keys}, CASE {' '.join(arms)} ELSE {other} END AS line"

    return cols, params


def statement(
    conn: sqlite3.Connection, as_of: date, state: dict[str, Any], names: dict[int, str]
) -> tuple[str, dict[str, Any]] | None:
    """Today's statement of the CSV's lines (``csv_cols``) over aging_order, the whole
    report (aging_split.half_sql makes a half of it), or None: no csv_plain flags (before
    m035_aging_csv), DUNNING_AGING_SQL_CSV=0, not over aging_order or a shifted date.
    Read in the transaction that runs it; only the line comes back (as
    aging_lines.table_statement)."""
    if os.environ.get("DUNNING_AGING_SQL_CSV") == "0" or not aging_order.has_csv_plain(conn):
        return None
    made = csv_cols(state, names)
    if made is None:
        return None
    cols, extra = made
    plan = aging_lines.statement(conn, as_of, cols)
    if plan is None or "snap_shift" in plan[0]:
        return None
    sql = plan[0]
    at = sql.index("\nSELECT ")  # after the statement's WITH
    return f"{sql[:at]}\nSELECT CAST(line AS BLOB) FROM ({sql[at:]})", plan[1] | extra


def write_half(
    conn: sqlite3.Connection,
    as_of: date,
    at: dict[str, Any],
    upper: bool | None,
    fh: IO[str],
    state: dict[str, Any] | None = None,
) -> int | None:
    """The CSV lines of one half of today's report (the rows after the pivot ``at`` when
    ``upper``, else up to it; None: every row) written to ``fh``, in the caller's read
    transaction; returns the number of rows, or None, having written nothing, when the
    lines cannot be made by SQLite (no kept widths: ``state`` None is read here; see
    ``statement``)."""
    from dunning.db.aging_split import _rows, half_sql

    names = aging_out._names(conn)
    if state is None:
        if not aging_order.has_csv_plain(conn):
            return None
        sql, params = aging_out.customer_sql(conn, as_of)
        state = aging_widths.report_state(conn, sql, params, names)
        if state is None:
            return None
    plan = statement(conn, as_of, state, names)
    if plan is None:
        return None
    out = aging_lines.binary(fh)
    formats: dict[str, tuple[int, str, str]] = {}
    nul = b"\x00"
    count = 0
    with reports.paused_gc():
        sql = plan[0] if upper is None else half_sql(plan[0], upper)
        for batch in _rows(conn, sql, plan[1] | at):
            count += len(batch)
            data = b"".join(map(itemgetter(0), batch))
            if nul in data:
                parts = data.split(nul)
                rows = []
                for cells in parts[1::2]:
                    k, ref, c, name, cid, *m = json.loads(cells)
                    rows.append((k, ref, c, *m, name, cid))
                # one row a call: a quoted cell may hold a line break (few rows here)
                parts[1::2] = [aging_out._csv_batch([r], names, formats).encode() for r in rows]
                data = b"".join(parts)
            if out is not None:
                out.write(data)
            else:
                fh.write(data.decode())
    return count


def write_all(
    conn: sqlite3.Connection, as_of: date, fh: IO[str]
) -> tuple[dict[str, list[int]], int] | None:
    """Today's CSV lines (no header, no TOTAL rows) in one process, in a read transaction
    of their own (reports_past.reader); returns the TOTAL rows' sums kept beside the
    table and the number of rows, or None, having written nothing, when the lines cannot
    be made by SQLite (the caller writes them: aging_out.write_aging)."""
    from dunning.db import aging_snapshot
    from dunning.db import reports_past as past

    with past.reader(conn) as rc, aging_snapshot.read_tx(rc):
        if not aging_order.has_csv_plain(rc):
            return None
        sql, params = aging_out.customer_sql(rc, as_of)
        state = aging_widths.report_state(rc, sql, params, aging_out._names(rc))
        if state is None or write_half(rc, as_of, {}, None, fh, state) is None:
            return None
        return state["sums"], int(state["count"])
