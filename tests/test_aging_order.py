"""Today's aging read in the report's order (dunning/db/aging_order.py, m019) gives the
same bytes as the slow reference of tests/test_aging_reference.py after what its table
does not know by itself: renames (a trigger), reassignments (the assignments' ids), a
lead's move of a whole book, writes to the ledger; and it is read without a sort."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from test_aging_reference import TODAY, build
from test_aging_snapshot import check

import dunning
from dunning.clock import FixedClock
from dunning.db import aging_order, aging_snapshot
from dunning.db.connection import write_tx
from dunning.queue.assign import Book, reassign, reassign_from
from dunning.queue.collectors import get_collector_by_id


@pytest.fixture(autouse=True)
def _far_shifts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aging_snapshot, "MAX_SHIFT_DAYS", 60)


def _lead(conn: sqlite3.Connection) -> int:
    with write_tx(conn):
        return int(
            conn.execute(
                "INSERT INTO collectors (username, display_name, role, created_at) "
                "VALUES ('lena', 'Lena', 'lead', '2026-11-23T15:00:00Z')"
            ).lastrowid
            or 0
        )


def _as_filled(conn: sqlite3.Connection) -> None:
    """The table as advanced equals the table made afresh from the snapshot."""
    cols = "k, external_ref, currency, customer_id, b0, b1, b2, b3, b4, b5, cr, dp, name, " \
        "collector_id"  # fmt: skip
    kept = [tuple(r) for r in conn.execute(f"SELECT {cols} FROM aging_order")]
    with write_tx(conn):
        aging_order.fill(conn)
    assert kept == [tuple(r) for r in conn.execute(f"SELECT {cols} FROM aging_order")]


def test_the_report_reads_the_table_in_its_order_without_a_sort(
    conn: sqlite3.Connection,
) -> None:
    build(conn, 31)
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"
    assert aging_order.state(conn) is not None
    n = conn.execute("SELECT COUNT(*) FROM aging_order").fetchone()[0]
    assert n == conn.execute("SELECT COUNT(*) FROM aging_snapshot").fetchone()[0] > 0
    plan = aging_snapshot.customer_sql(conn, TODAY)
    assert plan is not None
    detail = [r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + plan[0], plan[1])]
    assert "SCAN o" in detail  # the table, in its key's order
    # one sort only, of the dirty customers' rows (the right half of the merge)
    assert detail.count("USE TEMP B-TREE FOR ORDER BY") == 1
    assert detail.index("USE TEMP B-TREE FOR ORDER BY") > detail.index("RIGHT")


@pytest.mark.parametrize("seed", [32, 33])
def test_renames_and_reassignments_after_the_snapshot_are_seen(
    conn: sqlite3.Connection, db_path: Path, clock: FixedClock, tmp_path: Path, seed: int
) -> None:
    build(conn, seed)
    lead = get_collector_by_id(conn, _lead(conn))
    assert lead is not None
    aging_snapshot.advance(conn, TODAY - timedelta(days=3), min_invoices=0)
    ids = [r[0] for r in conn.execute("SELECT customer_id FROM aging_order ORDER BY k LIMIT 9")]
    with write_tx(conn):  # renames, one of them to a name that sorts and cleans otherwise
        conn.execute("UPDATE customers SET name = 'Zed\x1b[0m, Inc.' WHERE id = ?", (ids[0],))
        conn.execute("UPDATE customers SET name = name || ' renamed' WHERE id = ?", (ids[1],))
        conn.execute("UPDATE customers SET external_ref = 'A-first' WHERE id = ?", (ids[2],))
    dirty = {r[0] for r in conn.execute("SELECT customer_id FROM aging_dirty")}
    assert dirty == set(ids[:3])  # the trigger
    to = get_collector_by_id(conn, 1)
    assert to is not None
    assert reassign(conn, clock, lead, ids[3:7], to, "cover") >= 1  # by the assignments
    check(conn, db_path, clock, tmp_path, files=True)
    # a lead's move of a whole book (set-based, in chunks)
    book = Book(source_id=2, source="col1")
    assert reassign_from(conn, clock, lead, book, to, "leave", pause=0) > 0
    check(conn, db_path, clock, tmp_path, files=True)
    # the night's advance takes them in: the table holds them as they are now
    assert aging_snapshot.advance(conn, TODAY) == "advanced"
    assert conn.execute("SELECT COUNT(*) FROM aging_dirty").fetchone()[0] == 0
    _as_filled(conn)
    got = dict(conn.execute("SELECT customer_id, name FROM aging_order"))
    assert got[ids[0]] == "Zed\x1b[0m, Inc."
    assert (
        conn.execute(
            "SELECT COUNT(*) FROM aging_order o JOIN queue q ON q.customer_id = o.customer_id "
            "WHERE q.collector_id IS NOT o.collector_id"
        ).fetchone()[0]
        == 0
    )
    check(conn, db_path, clock, tmp_path, files=True)


def test_a_shift_moves_the_buckets_in_place(
    conn: sqlite3.Connection, db_path: Path, clock: FixedClock, tmp_path: Path
) -> None:
    build(conn, 35)
    aging_snapshot.advance(conn, TODAY - timedelta(days=20), min_invoices=0)
    with write_tx(conn):
        conn.execute("UPDATE customers SET name = 'Renamed' WHERE id = 3")
    assert aging_snapshot.advance(conn, TODAY) == "advanced"
    _as_filled(conn)
    check(conn, db_path, clock, tmp_path, files=True)


def test_a_database_with_a_snapshot_gets_the_table_from_its_migration(
    conn: sqlite3.Connection,
) -> None:
    build(conn, 34)
    aging_snapshot.advance(conn, TODAY, min_invoices=0)
    with write_tx(conn):  # as m019 finds a database of m018 with a snapshot
        aging_order.clear(conn)
    assert aging_snapshot.customer_sql(conn, TODAY) == aging_snapshot.ordered_sql(
        aging_snapshot.State(TODAY, *aging_snapshot._maxima(conn)), TODAY
    )  # without the table: the snapshot, sorted
    with write_tx(conn):
        aging_order.fill(conn)
    want = conn.execute(
        "SELECT s.k, c.external_ref, s.currency, c.name FROM aging_snapshot s "
        "JOIN customers c ON c.id = s.customer_id ORDER BY 1, 2, 3"
    ).fetchall()
    got = conn.execute("SELECT k, external_ref, currency, name FROM aging_order").fetchall()
    assert [tuple(r) for r in got] == [tuple(r) for r in want]


def test_every_change_of_owner_is_an_assignment_row() -> None:
    """The table knows a reassignment by the ``assignments`` row every change of
    ``queue.collector_id`` appends: a module that sets it must insert that row."""
    sets = re.compile(r"UPDATE\s+queue\s+SET\s+collector_id\b", re.I)
    package = Path(dunning.__file__).parent
    writers = [p for p in package.rglob("*.py") if sets.search(p.read_text(encoding="utf-8"))]
    assert writers  # assign.py, the import's assign_collectors
    for path in writers:
        assert "INSERT INTO assignments" in path.read_text(encoding="utf-8"), path
