"""The aging of a past date reads the span of ids it needs from the ends of the B-trees
(issue 8, round 5): ``SELECT MIN(id), MAX(id)`` in one statement is a scan of the whole
table (0.9 s of CPU over 5M invoices, 0.18 s over 1M customers, before the report's two
processes start); each in a subquery of its own is two seeks. The choice between the
delta and the full rebuild stays the same."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from test_aging_reference import TODAY, build

from dunning.db import past_collector
from dunning.db import reports_past as past
from dunning.db.schema import CHANGED_ON


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
