"""The aging of a past date reads the span of ids it needs from the ends of the B-trees
(issue 8, round 5): ``SELECT MIN(id), MAX(id)`` in one statement is a scan of the whole
table (0.9 s of CPU over 5M invoices, 0.18 s over 1M customers, before the report's two
processes start); each in a subquery of its own is two seeks. The choice between the
delta and the full rebuild stays the same."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from typing import Any

import pytest
from test_aging_reference import TODAY, build, product_rows, reference_rows

from dunning.clock import FixedClock
from dunning.db import past_collector
from dunning.db import reports_past as past
from dunning.db.connection import write_tx
from dunning.db.schema import CHANGED_ON
from dunning.queue.assign import reassign
from dunning.queue.collectors import get_collector_by_id


@pytest.mark.parametrize("sql", [past.SPAN_SQL, past_collector.CUSTOMER_RANGE_SQL])
def test_the_span_of_ids_is_read_without_a_scan(conn: sqlite3.Connection, sql: str) -> None:
    plan = [r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql)]
    assert [p for p in plan if p.startswith("SCAN") and p != "SCAN CONSTANT ROW"] == []
    assert sum(p.startswith("SEARCH") for p in plan) == 2


def test_the_ranges_are_the_tables_ids(conn: sqlite3.Connection) -> None:
    build(conn, 21)
    customers = [r[0] for r in conn.execute("SELECT id FROM customers")]
    lo, hi = min(customers), max(customers)
    assert tuple(conn.execute(past_collector.CUSTOMER_RANGE_SQL).fetchone()) == (lo, hi)
    ids = [r[0] for r in conn.execute("SELECT id FROM invoices")]
    assert conn.execute(past.SPAN_SQL).fetchone()[0] == max(ids) - min(ids) + 1


def test_use_delta_decides_as_a_count_of_every_invoice_would(conn: sqlite3.Connection) -> None:
    """Dates from before the ledger to today: the delta when at most half of the invoices
    (by id span) changed after the date, as counted invoice by invoice here."""
    build(conn, 22)
    ids = [r[0] for r in conn.execute("SELECT id FROM invoices")]
    half = (max(ids) - min(ids) + 1) // 2
    seen = set()
    for days in (0, 1, 30, 90, 180, 365, 730, 3650):
        as_of = (TODAY - timedelta(days=days)).isoformat()
        changed = conn.execute(
            f"SELECT COUNT(*) FROM invoices NOT INDEXED WHERE {CHANGED_ON} > ?", (as_of,)
        ).fetchone()[0]
        assert past.use_delta(conn, as_of) == (changed <= half), as_of
        seen.add(changed <= half)
    assert seen == {True, False}  # both ways were decided


@pytest.mark.parametrize("two", [False, True])
def test_a_customer_reassigned_after_the_date_counts_for_its_collector_now(
    conn: sqlite3.Connection, clock: FixedClock, monkeypatch: pytest.MonkeyPatch, two: bool
) -> None:
    """The account's collector is as it is now (reports_past's docstring): customers moved
    by a lead after the date are under their new collector on the date, in one process or
    with the base computed by a second one, as the reference has them."""
    if two:
        monkeypatch.setattr(past_collector, "PARALLEL_MIN_INVOICES", 0)
    build(conn, 23)
    with write_tx(conn):
        conn.execute(
            "INSERT INTO collectors (username, display_name, role, created_at) "
            "VALUES ('lena', 'Lena', 'lead', '2026-11-23T15:00:00Z')"
        )
    as_of = TODAY - timedelta(days=30)
    before = _customers(product_rows(conn, as_of, "collector"))
    col0, col1 = (conn.execute("SELECT id FROM collectors WHERE username = ?", (u,)).fetchone()[0]
                  for u in ("col0", "col1"))  # fmt: skip
    moved = [r[0] for r in conn.execute("SELECT customer_id FROM queue WHERE collector_id = ?",
                                         (col0,))]  # fmt: skip
    lead = get_collector_by_id(conn, conn.execute(
        "SELECT id FROM collectors WHERE username = 'lena'").fetchone()[0])  # fmt: skip
    to = get_collector_by_id(conn, col1)
    assert lead is not None and to is not None and moved
    assert reassign(conn, clock, lead, moved[: len(moved) // 2], to, "cover") > 0
    for day in (as_of, TODAY - timedelta(days=1), date(2026, 6, 30)):
        assert product_rows(conn, day, "collector") == reference_rows(conn, day, "collector")
    after = _customers(product_rows(conn, as_of, "collector"))
    assert after["col0"] < before["col0"] and after["col1"] > before["col1"]
    assert sum(after.values()) == sum(before.values())


def _customers(rows: list[list[Any]]) -> dict[str, int]:
    """Customer rows per collector, over its currencies (the totals left out)."""
    out: dict[str, int] = {}
    for r in rows:
        if r[0] != "TOTAL":
            out[r[0]] = out.get(r[0], 0) + r[1]
    return out


def test_no_report_reads_both_ends_of_a_table_in_one_select() -> None:
    """The same scan hid in today's aging (reports._split, aging_split's pivot and its
    check, the snapshot's build): 0.26 s each over 1M customers. Only a statement that
    counts the rows too (a scan anyway) may read both ends in one SELECT."""
    import re
    from pathlib import Path

    import dunning

    pattern = re.compile(r"SELECT\s+MIN\((\w+)\),\s*MAX\(\1\)(?!,\s*COUNT)", re.IGNORECASE)
    root = Path(dunning.__file__).parent
    found = [
        f"{p.relative_to(root)}:{n}"
        for p in root.rglob("*.py")
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert found == []
