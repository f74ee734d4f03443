"""The stored sums of a past date's base by collector (dunning/db/past_sums.py, m030)
give exactly what the base computed from the invoices gives (db/past_collector.py), and
the slow reference: on random ledgers and the demo, on many dates, after the writers
(imports of invoices and payments, reassignments, a dispute, new customers) and after
the nightly refresh takes them in."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Ledger
from test_aging_reference import TODAY, build, product_rows, reference_rows
from test_ledger_support import invoices_csv, load, write_csv

from dunning.clock import FixedClock
from dunning.db import aging_snapshot, past_collector, past_sums, reports
from dunning.db import reports_past as past
from dunning.db.connection import connect, open_db, write_tx
from dunning.demo import build_demo
from dunning.queue.assign import reassign
from dunning.queue.collectors import get_collector_by_id
from dunning.queue.config import Settings
from dunning.queue.outcomes import OutcomeInput, log_outcome

DAYS = (0, 1, 4, 10, 30, 45, 90, 140, 400)


def _params(day: date) -> dict[str, Any]:
    bounds = {f"b{n}": d for n, d in enumerate(reports._bounds(day), start=1)}
    return bounds | {"as_of": day.isoformat()}


def _sorted(rows: Any) -> list[tuple[Any, ...]]:
    return sorted((tuple(r) for r in rows), key=repr)


def stored(conn: sqlite3.Connection, day: date) -> list[tuple[Any, ...]]:
    with aging_snapshot.read_tx(conn):
        parts = past_sums.groups(conn, _params(day))
    assert parts is not None  # the structure is complete
    return _sorted(past_collector.merged(parts))


def computed(conn: sqlite3.Connection, day: date) -> list[tuple[Any, ...]]:
    return _sorted(past_collector.groups(conn, _params(day))[0])


def same_on_every_date(conn: sqlite3.Connection, reference: bool = True) -> None:
    for days in DAYS:
        day = TODAY - timedelta(days=days)
        assert stored(conn, day) == computed(conn, day), day
        if reference:  # through the report (past_sums when the snapshot is far)
            assert product_rows(conn, day, "collector") == reference_rows(conn, day, "collector")


def tables(conn: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        t: [tuple(r) for r in conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3, 4")]
        for t in ("past_items", "past_sums", "past_rows")
    }


def rebuilt_equal(conn: sqlite3.Connection) -> None:
    """The tables kept by the refresh equal the tables filled from scratch."""
    kept = tables(conn)
    assert kept["past_items"] and kept["past_sums"] and kept["past_rows"]
    with write_tx(conn):
        past_sums.clear(conn)
    past_sums.fill(conn)
    assert tables(conn) == kept


@pytest.fixture(autouse=True)
def _every_date(monkeypatch: pytest.MonkeyPatch) -> None:
    # every date through the base and correction (use_delta only chooses the faster way)
    monkeypatch.setattr(past, "use_delta", lambda conn, as_of: True)


@pytest.mark.parametrize("seed", [41, 42, 43])
def test_stored_sums_equal_the_computed_base_after_every_writer(
    conn: sqlite3.Connection,
    clock: FixedClock,
    settings: Settings,
    ledger: Ledger,
    tmp_path: Path,
    seed: int,
) -> None:
    build(conn, seed)
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"
    assert past_sums.ready(conn)
    same_on_every_date(conn)
    rebuilt_equal(conn)

    # a lead moves half of col0's accounts to col1, and one of col1's to nobody's
    col0, col1 = (conn.execute("SELECT id FROM collectors WHERE username = ?", (u,)).fetchone()[0]
                  for u in ("col0", "col1"))  # fmt: skip
    lena = ledger.collector("lena", role="lead")
    lead, to = get_collector_by_id(conn, lena), get_collector_by_id(conn, col1)
    assert lead is not None and to is not None
    moved = [r[0] for r in conn.execute(
        "SELECT customer_id FROM queue WHERE collector_id = ? ORDER BY 1", (col0,))]  # fmt: skip
    assert reassign(conn, clock, lead, moved[::2], to, "cover") > 0
    assert conn.execute("SELECT COUNT(*) FROM past_moved").fetchone()[0] > 0

    # an import: open amounts and due dates changed, a new invoice, a new customer
    rows = conn.execute(
        "SELECT c.external_ref, c.name, i.number, i.issue_date, i.due_date, i.currency "
        "FROM invoices i JOIN customers c ON c.id = i.customer_id "
        "WHERE i.status = 'open' AND i.open_minor > 100 AND i.amount_minor = i.open_minor "
        "ORDER BY i.id LIMIT 6"
    ).fetchall()
    assert rows
    csv_rows: list[list[object]] = []
    for n, (ref, name, number, issue, due, _cur) in enumerate(rows):
        new_due = issue if n % 2 else due  # an earlier due date: another bucket
        csv_rows.append([ref, name, number, issue, new_due, "100", "0" if n == 0 else "40"])
    csv_rows.append([rows[0][0], rows[0][1], "NEW-1", "2026-10-02", "2026-10-20", "77", "77"])
    csv_rows.append(["NEWC", "Newco", "NEW-2", "2026-09-01", "2026-09-30", "55", "55"])
    r = load(conn, invoices_csv(tmp_path / "i.csv", csv_rows), "invoices", clock,
             create_customers=True)  # fmt: skip
    assert r.updated + r.created > 0, r.seen  # type: ignore[attr-defined]
    # a payments import: cash against an invoice and unapplied cash, dated in the past
    quiet = conn.execute(  # an account no writer has touched yet: dirty by its new cash
        "SELECT external_ref FROM customers WHERE id NOT IN (SELECT customer_id FROM "
        "aging_dirty) AND id NOT IN (SELECT customer_id FROM past_moved) ORDER BY id DESC"
    ).fetchone()[0]
    pay = [["customer_ref", "invoice", "amount", "paid_on", "payment_ref"],
           [rows[1][0], rows[1][2], "10", "2026-10-05", "PX1"],
           [quiet, "", "25", "2026-09-15", "PX2"]]  # fmt: skip
    r = load(conn, write_csv(tmp_path / "p.csv", pay), "payments", clock)
    assert r.created == 2, r.seen  # type: ignore[attr-defined]
    with write_tx(conn):  # inserts need no hook: dirty by their ids
        conn.execute(
            "INSERT INTO payments (customer_id, invoice_id, amount_minor, currency, paid_on, "
            "created_at) SELECT id, NULL, 999, currency, '2026-10-10', '2026-11-23T16:00:00Z' "
            "FROM customers WHERE id NOT IN (SELECT customer_id FROM aging_dirty) "
            "AND id NOT IN (SELECT customer_id FROM past_moved) ORDER BY id LIMIT 1"
        )
    # a collector's dispute on a new account's invoice
    alice = ledger.collector("alice")
    cid = ledger.customer("Cora", collector=alice,
                          invoices=[(100_000, "2026-09-01"), (50_000, "2026-10-01")])  # fmt: skip
    first = conn.execute("SELECT MIN(id) FROM invoices WHERE customer_id = ?", (cid,)).fetchone()
    log_outcome(conn, clock, settings, collector_id=alice, customer_id=cid,
                inp=OutcomeInput("dispute", invoice_ids=[first[0]], reason="billing_error",
                                 department="billing"))  # fmt: skip
    assert conn.execute("SELECT COUNT(*) FROM aging_dirty").fetchone()[0] > 0
    same_on_every_date(conn)

    # the nightly refresh takes them in: nothing dirty, the tables as a fresh fill's
    assert aging_snapshot.advance(conn, TODAY, create=False) == "advanced"
    assert conn.execute("SELECT COUNT(*) FROM past_moved").fetchone()[0] == 0
    same_on_every_date(conn)
    rebuilt_equal(conn)
    assert aging_snapshot.advance(conn, TODAY + timedelta(days=1)) == "advanced"
    same_on_every_date(conn, reference=False)


def test_the_demo_ledger(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    build_demo(path, customers=300, seed=5)
    conn = open_db(path)
    try:
        today = date.fromisoformat(
            conn.execute("SELECT MAX(substr(updated_at, 1, 10)) FROM invoices").fetchone()[0]
        )
        assert aging_snapshot.advance(conn, today, min_invoices=0) == "built"
        ro = connect(path, readonly=True)
        try:
            for days in (0, 3, 7, 30, 60, 120, 365):
                day = today - timedelta(days=days)
                assert stored(ro, day) == computed(ro, day), day
        finally:
            ro.close()
    finally:
        conn.close()


def test_a_collector_change_is_recorded_only_with_a_snapshot(
    conn: sqlite3.Connection, clock: FixedClock, ledger: Ledger
) -> None:
    """No snapshot: nothing reads past_moved, so nothing is written to it."""
    bob, ann = ledger.collector("bob"), ledger.collector("ann")
    cid = ledger.customer("Dora", collector=bob, invoices=[(5_000, "2026-10-01")])
    with write_tx(conn):
        conn.execute("UPDATE queue SET collector_id = ? WHERE customer_id = ?", (ann, cid))
    assert conn.execute("SELECT COUNT(*) FROM past_moved").fetchone()[0] == 0
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"
    with write_tx(conn):
        conn.execute("UPDATE queue SET updated_at = 'x' WHERE customer_id = ?", (cid,))
    assert conn.execute("SELECT COUNT(*) FROM past_moved").fetchone()[0] == 0  # same owner
    with write_tx(conn):
        conn.execute("UPDATE queue SET collector_id = NULL WHERE customer_id = ?", (cid,))
    assert [r[0] for r in conn.execute("SELECT customer_id FROM past_moved")] == [cid]
    day = TODAY - timedelta(days=20)
    assert stored(conn, day) == computed(conn, day)
    assert dict(((r[0], r[1]), r[-1]) for r in stored(conn, day)) == {(None, "USD"): 1}


def test_the_queue_rebuilt_by_the_refresh_keeps_the_triggers(
    conn: sqlite3.Connection, clock: FixedClock, settings: Settings, ledger: Ledger
) -> None:
    """The refresh that builds the next queue beside the live one and swaps it in
    (queue/rebuild.py) drops the old table with its triggers: they are made again, so a
    collector change after it is still seen by the report."""
    from dunning.queue.refresh import refresh_all

    build(conn, 44)
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"
    stats = refresh_all(conn, clock, settings, workers=0, rebuild=True)
    assert stats.rebuilt
    sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'queue'"
    names = {r[0] for r in conn.execute(sql)}
    assert {"queue_past_moved", "queue_past_added"} <= names
    col1 = conn.execute("SELECT id FROM collectors WHERE username = 'col1'").fetchone()[0]
    with write_tx(conn):
        conn.execute(
            "UPDATE queue SET collector_id = ? WHERE customer_id IN (SELECT customer_id FROM "
            "queue WHERE collector_id IS NOT ? ORDER BY customer_id LIMIT 10)",
            (col1, col1),
        )
    assert conn.execute("SELECT COUNT(*) FROM past_moved").fetchone()[0] == 10
    same_on_every_date(conn)


def test_a_snapshot_built_again_keeps_the_sums_and_takes_their_dirty_customers_in(
    conn: sqlite3.Connection, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A snapshot too far from the day is built again (no refresh for days); the sums do
    not depend on the date: they take the accounts changed or moved since in, and are
    not filled again."""
    build(conn, 45)
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"
    col2 = conn.execute("SELECT id FROM collectors WHERE username = 'col2'").fetchone()[0]
    with write_tx(conn):
        conn.execute(
            "UPDATE queue SET collector_id = ? WHERE customer_id IN (SELECT customer_id FROM "
            "queue WHERE collector_id IS NOT ? ORDER BY customer_id DESC LIMIT 7)",
            (col2, col2),
        )
        conn.execute(
            "INSERT INTO payments (customer_id, invoice_id, amount_minor, currency, paid_on, "
            "created_at) VALUES (2, NULL, 4321, 'USD', '2026-10-01', '2026-11-23T16:00:00Z')"
        )

    def refused(conn: sqlite3.Connection) -> None:
        raise AssertionError("filled again")

    monkeypatch.setattr(past_sums, "fill", refused)
    far = TODAY + timedelta(days=aging_snapshot.MAX_SHIFT_DAYS + 5)
    assert aging_snapshot.advance(conn, far) == "built"
    assert past_sums.ready(conn)
    assert conn.execute("SELECT COUNT(*) FROM past_moved").fetchone()[0] == 0
    same_on_every_date(conn)
    monkeypatch.undo()
    rebuilt_equal(conn)


def test_a_sum_beyond_64_bits_gives_the_sums_up_until_the_next_build(
    conn: sqlite3.Connection, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two invoices of 2**62 minor units of one collector, issued and due on one day:
    SQLite cannot sum them ("integer overflow"). The refresh still advances; the sums
    are emptied and given up (not filled again at every refresh), and the report of a
    past date computes its base from the invoices, as without them."""
    build(conn, 46)
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"
    assert past_sums.ready(conn)
    col = conn.execute("SELECT collector_id FROM queue WHERE collector_id IS NOT NULL "
                       "GROUP BY 1 HAVING COUNT(*) > 1 LIMIT 1").fetchone()[0]  # fmt: skip
    one, two = [r[0] for r in conn.execute(
        "SELECT customer_id FROM queue WHERE collector_id = ? LIMIT 2", (col,))]  # fmt: skip
    with write_tx(conn):
        for n, cid in enumerate((one, two)):
            conn.execute(
                "INSERT INTO invoices (customer_id, number, issue_date, due_date, amount_minor,"
                " open_minor, currency, status, disputed, created_at, updated_at) VALUES "
                "(?, ?, '2026-09-01', '2026-10-01', ?, ?, 'USD', 'open', 0, 'x', 'x')",
                (cid, f"HUGE-{n}", 2**62, 2**62),
            )
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "advanced"
    assert not past_sums.ready(conn) and not past_sums.wanted(conn)
    assert tables(conn) == {"past_items": [], "past_sums": [], "past_rows": []}
    day = TODAY - timedelta(days=20)
    with aging_snapshot.read_tx(conn):
        assert past_sums.groups(conn, _params(day)) is None  # the report scans the ledger
    assert product_rows(conn, day, "collector") == reference_rows(conn, day, "collector")

    def refused(conn: sqlite3.Connection) -> None:
        raise AssertionError("filled again")

    monkeypatch.setattr(past_sums, "fill", refused)
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "advanced"
    monkeypatch.undo()
    # the huge invoices settled: the next build fills the sums again
    with write_tx(conn):
        conn.execute("UPDATE invoices SET open_minor = 0, status = 'paid' "
                     "WHERE number LIKE 'HUGE-%'")  # fmt: skip
    far = TODAY + timedelta(days=aging_snapshot.MAX_SHIFT_DAYS + 5)
    assert aging_snapshot.advance(conn, far) == "built"
    assert past_sums.ready(conn)
    rebuilt_equal(conn)
