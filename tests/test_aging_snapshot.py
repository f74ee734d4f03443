"""The aging snapshot (dunning/db/aging_snapshot.py) gives the same bytes as the slow
reference of tests/test_aging_reference.py: shifted forward and back, after writes that
insert (no hook) and writes that change existing invoices (touched), by customer and by
collector, as rows, CSV and table, today's and a past date's."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import Ledger
from test_aging_reference import (
    TODAY,
    build,
    product_rows,
    reference_csv,
    reference_rows,
    reference_table,
    run,
)
from test_ledger_support import invoices_csv, load

from dunning.cli import main
from dunning.clock import FixedClock
from dunning.db import aging_snapshot, aging_split
from dunning.db.connection import write_tx
from dunning.queue.collectors import get_collector_by_id
from dunning.queue.config import Settings
from dunning.queue.outcomes import OutcomeInput, log_outcome
from dunning.queue.void import void_activity


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


def test_an_import_a_dispute_and_its_void_keep_the_snapshot_exact(
    conn: sqlite3.Connection,
    clock: FixedClock,
    settings: Settings,
    ledger: Ledger,
    tmp_path: Path,
) -> None:
    rows = [
        ["C1", "Acme", "INV-1", "2026-09-01", "2026-10-01", "1,200.00", "1,200.00"],
        ["C1", "Acme", "INV-2", "2026-10-15", "2026-11-14", "300.50", "100.50"],
        ["C1", "Acme", "CN-1", "2026-10-20", "", "-50.00", "-50.00"],
        ["C2", "Bolt", "INV-3", "2026-11-01", "2026-12-01", "99.99", "99.99"],
    ]
    load(conn, invoices_csv(tmp_path / "a.csv", rows), "invoices", clock, create_customers=True)
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"

    def same() -> None:
        for as_of in (TODAY, TODAY - timedelta(days=2)):
            for by in ("customer", "collector"):
                assert product_rows(conn, as_of, by) == reference_rows(conn, as_of, by)

    newer = [  # INV-1 part paid, its due date moved; INV-3 paid; CN-1 closed (snapshot)
        ["C1", "Acme", "INV-1", "2026-09-01", "2026-09-15", "1,200.00", "200.00"],
        ["C1", "Acme", "INV-2", "2026-10-15", "2026-11-14", "300.50", "100.50"],
        ["C2", "Bolt", "INV-3", "2026-11-01", "2026-12-01", "99.99", "0"],
    ]
    r = load(conn, invoices_csv(tmp_path / "b.csv", newer), "invoices", clock, snapshot=True)
    assert (r.updated, r.closed) == (2, 1)
    assert conn.execute("SELECT COUNT(*) FROM aging_dirty").fetchone()[0] >= 2  # touched
    same()
    aging_snapshot.advance(conn, TODAY)
    same()
    alice = ledger.collector("alice")
    cid = ledger.customer("Cora", collector=alice,
                          invoices=[(100_000, "2026-09-01"), (50_000, "2026-10-01")])  # fmt: skip
    same()  # new invoices: dirty by their ids
    aging_snapshot.advance(conn, TODAY)
    first = conn.execute("SELECT MIN(id) FROM invoices WHERE customer_id = ?", (cid,)).fetchone()
    aid = log_outcome(conn, clock, settings, collector_id=alice, customer_id=cid,
                      inp=OutcomeInput("dispute", invoice_ids=[first[0]], reason="billing_error",
                                       department="billing")).activity_id  # fmt: skip
    assert [r[0] for r in conn.execute("SELECT customer_id FROM aging_dirty")] == [cid]
    same()
    aging_snapshot.advance(conn, TODAY)
    lead = get_collector_by_id(conn, ledger.collector("lena", role="lead"))
    assert lead is not None
    clock.advance(minutes=5)
    void_activity(conn, clock, settings, by=lead, activity_id=aid, reason="wrong account")
    assert [r[0] for r in conn.execute("SELECT customer_id FROM aging_dirty")] == [cid]
    same()


def test_the_nightly_refresh_makes_and_advances_the_snapshot(
    conn: sqlite3.Connection,
    db_path: Path,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(aging_snapshot, "MIN_INVOICES", 0)  # a small ledger has none
    build(conn, 26)
    assert main(["--db", str(db_path), "queue", "refresh"], clock=clock) == 0
    st = aging_snapshot.state(conn)
    assert st is not None and st.as_of == TODAY
    clock.advance(days=1)
    assert main(["--db", str(db_path), "queue", "refresh"], clock=clock) == 0
    st = aging_snapshot.state(conn)
    assert st is not None and st.as_of == TODAY + timedelta(days=1)
    for by in ("customer", "collector"):
        assert product_rows(conn, TODAY, by) == reference_rows(conn, TODAY, by)
