"""The aging snapshot (dunning/db/aging_snapshot.py) gives the same bytes as the slow
reference of tests/test_aging_reference.py: shifted forward and back, after writes that
insert (no hook) and writes that change existing invoices (touched), by customer and by
collector, as rows, CSV and table, today's and a past date's."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest
from test_aging_reference import (
    TODAY,
    build,
    product_rows,
    reference_csv,
    reference_rows,
    reference_table,
    run,
)

from dunning.clock import FixedClock
from dunning.db import aging_snapshot, aging_split
from dunning.db.connection import write_tx


@pytest.fixture(autouse=True)
def _far_shifts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shifts of weeks, both ways, each bucket boundary crossed (the product serves only
    a few days around the snapshot's date; the arithmetic is the same)."""
    monkeypatch.setattr(aging_snapshot, "MAX_SHIFT_DAYS", 60)


DATES = [TODAY, TODAY + timedelta(days=9), TODAY - timedelta(days=30), TODAY - timedelta(days=4)]


def check(conn: sqlite3.Connection, db: Path, clock: FixedClock, tmp: Path, files: bool) -> None:
    assert aging_snapshot.state(conn) is not None
    for as_of in DATES:
        for by in ("customer", "collector"):
            want = reference_rows(conn, as_of, by)
            assert product_rows(conn, as_of, by) == want, (as_of, by)
            if not files:
                continue
            argv = ["--by", by] + (["--as-of", as_of.isoformat()] if as_of != TODAY else [])
            out = tmp / f"a-{as_of}-{by}.csv"
            run(db, clock, *argv, "--format", "csv", "-o", str(out))
            assert out.read_bytes() == reference_csv(want, by), (as_of, by)
            out = tmp / f"a-{as_of}-{by}.txt"
            run(db, clock, *argv, "--format", "table", "-o", str(out))
            got = out.read_text(encoding="utf-8")
            assert got == reference_table(want, by, f"Aging as of {as_of}"), (as_of, by)


def test_a_report_reads_the_snapshot_and_not_the_open_invoices(
    conn: sqlite3.Connection,
) -> None:
    build(conn, 11)
    assert aging_snapshot.customer_sql(conn, TODAY) is None  # none yet: the scan
    assert aging_snapshot.advance(conn, TODAY) == "none"  # a small ledger: not made
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"
    plan = aging_snapshot.customer_sql(conn, TODAY + timedelta(days=2))
    assert plan is not None
    detail = " ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + plan[0], plan[1]))
    assert "SCAN s" in detail  # the snapshot (aliased s)
    assert "invoices_open" in detail  # the shift: a due-date range, not every invoice
    # too far from the snapshot's date: the scan, and the same figures
    far = TODAY + timedelta(days=aging_snapshot.MAX_SHIFT_DAYS + 1)
    assert aging_snapshot.customer_sql(conn, far) is None
    assert aging_snapshot.advance(conn, far, create=False) == "none"  # the import's call
    assert aging_snapshot.advance(conn, far) == "built"  # too far to shift: made again
    inv, pay = (conn.execute(f"SELECT MAX(id) FROM {t}").fetchone()[0]
                for t in ("invoices", "payments"))  # fmt: skip
    assert aging_snapshot.state(conn) == aging_snapshot.State(far, inv, pay)


@pytest.mark.parametrize("seed", [21, 22])
def test_shifted_forward_and_back_every_output_equals_the_reference(
    conn: sqlite3.Connection, db_path: Path, clock: FixedClock, tmp_path: Path, seed: int
) -> None:
    build(conn, seed)
    assert aging_snapshot.advance(conn, TODAY - timedelta(days=13), min_invoices=0) == "built"
    check(conn, db_path, clock, tmp_path, files=True)
    assert aging_snapshot.advance(conn, TODAY + timedelta(days=17)) == "advanced"
    check(conn, db_path, clock, tmp_path, files=False)
    assert aging_snapshot.advance(conn, TODAY) == "advanced"  # back
    check(conn, db_path, clock, tmp_path, files=True)


def test_writes_after_the_snapshot_are_seen(
    conn: sqlite3.Connection, db_path: Path, clock: FixedClock, tmp_path: Path
) -> None:
    build(conn, 23)
    aging_snapshot.advance(conn, TODAY - timedelta(days=2), min_invoices=0)
    now = "2026-11-23T16:00:00Z"
    with write_tx(conn):
        # inserts need no hook: their ids are above the snapshot's
        conn.execute(
            "INSERT INTO invoices (customer_id, number, issue_date, due_date, amount_minor, "
            "open_minor, currency, status, disputed, created_at, updated_at) VALUES "
            "(3, 'NEW1', '2026-11-01', '2026-11-20', 5000, 5000, 'USD', 'open', 0, ?, ?), "
            "(4, 'NEW2', '2026-11-20', '2026-12-20', -700, -700, 'CAD', 'open', 0, ?, ?)",
            (now, now, now, now),
        )
        conn.execute(
            "INSERT INTO payments (customer_id, invoice_id, amount_minor, currency, paid_on, "
            "created_at) VALUES (5, NULL, 1234, 'JPY', '2026-11-22', ?)",
            (now,),
        )
        # changes to existing invoices are touched by the writer
        rows = conn.execute(
            "SELECT id, customer_id FROM invoices WHERE status = 'open' AND open_minor > 0 "
            "ORDER BY id LIMIT 12"
        ).fetchall()
        for n, (iid, _) in enumerate(rows):
            if n % 3 == 0:  # paid off
                conn.execute("UPDATE invoices SET open_minor = 0, status = 'paid' WHERE id = ?",
                             (iid,))  # fmt: skip
            elif n % 3 == 1:  # disputed
                conn.execute("UPDATE invoices SET disputed = 1 - disputed WHERE id = ?", (iid,))
            else:  # due date moved by the ERP
                conn.execute("UPDATE invoices SET due_date = '2026-07-01' WHERE id = ?", (iid,))
        aging_snapshot.touch(conn, [cid for _, cid in rows])
    check(conn, db_path, clock, tmp_path, files=True)
    assert conn.execute("SELECT COUNT(*) FROM aging_dirty").fetchone()[0] > 0
    assert aging_snapshot.advance(conn, TODAY, create=False) == "advanced"
    assert conn.execute("SELECT COUNT(*) FROM aging_dirty").fetchone()[0] == 0
    check(conn, db_path, clock, tmp_path, files=True)


def test_the_two_process_split_reads_the_snapshot(
    conn: sqlite3.Connection,
    db_path: Path,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(aging_split, "MIN_CUSTOMERS", 1)
    build(conn, 24, customers=150)
    aging_snapshot.advance(conn, TODAY - timedelta(days=6), min_invoices=0)
    with write_tx(conn):
        conn.execute("UPDATE invoices SET disputed = 1 WHERE customer_id = 7")
        aging_snapshot.touch(conn, [7])
    for fmt, ref in (("csv", reference_csv), ("table", reference_table)):
        want = reference_rows(conn, TODAY, "customer")
        out = tmp_path / ("split.csv" if fmt == "csv" else "split.txt")
        run(db_path, clock, "--format", fmt, "-o", str(out))
        args = (want, "customer") if fmt == "csv" else (want, "customer", f"Aging as of {TODAY}")
        expected = ref(*args)  # type: ignore[operator]
        got = out.read_bytes() if fmt == "csv" else out.read_text(encoding="utf-8")
        assert got == expected


def test_without_a_snapshot_nothing_is_touched_and_the_scan_answers(
    conn: sqlite3.Connection,
) -> None:
    build(conn, 25)
    with write_tx(conn):
        aging_snapshot.touch(conn, [1, 2, 3])
    assert conn.execute("SELECT COUNT(*) FROM aging_dirty").fetchone()[0] == 0
    assert aging_snapshot.advance(conn, TODAY, create=False) == "none"
    assert product_rows(conn, date(2026, 11, 1), "customer") == reference_rows(
        conn, date(2026, 11, 1), "customer"
    )
