"""The nightly refresh reads only the customers whose row can have changed since the last
one (queue/refresh_scope.py), and leaves the queue exactly as a whole pass would.

Each test: a small demo ledger refreshed (a whole pass: the first), a change made, then
two copies refreshed on a later day, one scoped, one with ``full=True``; the queue and
the promises must be the same, column for column (``updated_at`` too: a row neither pass
writes keeps it).
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from test_ledger_support import invoices_csv, load, write_csv

from dunning.clock import FixedClock
from dunning.db.connection import open_db, write_tx
from dunning.demo.build import build_demo
from dunning.queue.config import Settings, Weights
from dunning.queue.outcome_rules import OutcomeInput
from dunning.queue.outcomes import log_outcome
from dunning.queue.refresh import RefreshStats, refresh_all

Change = Callable[[sqlite3.Connection, FixedClock], None]


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo ledger after its first refresh. The build records the scope (every queue
    row was written as that day's refresh would), so even the first night is scoped: on
    the build's own day nothing can have changed and no one is read."""
    db = tmp_path_factory.mktemp("scope") / "base.db"
    build_demo(db, customers=400, seed=7, clock=FixedClock())
    conn = open_db(db)
    try:
        stats = refresh_all(conn, FixedClock(), Settings(), workers=0)
    finally:
        conn.close()
    assert stats.read == 0 and stats.changed == 0
    return db


def _clock(day: int) -> FixedClock:
    clock = FixedClock()
    clock.advance(days=day)
    return clock


def _night(db: Path, day: int, *, full: bool, settings: Settings | None = None) -> RefreshStats:
    conn = open_db(db)
    try:
        return refresh_all(conn, _clock(day), settings or Settings(), workers=0, full=full)
    finally:
        conn.close()


def _state(db: Path) -> tuple[list[tuple], list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        queue = [tuple(r) for r in conn.execute("SELECT * FROM queue ORDER BY customer_id")]
        promises = [tuple(r) for r in conn.execute("SELECT * FROM promises ORDER BY id")]
        return queue, promises
    finally:
        conn.close()


def _one(conn: sqlite3.Connection, sql: str) -> tuple:
    row = conn.execute(sql).fetchone()
    assert row is not None, sql
    return tuple(row)


# --- the changes: by the app's own writers, and by plain SQL (a writer that does not
# recompute the row: only the scope's record brings its customer to the refresh) ------


def _nothing(conn: sqlite3.Connection, clock: FixedClock) -> None:
    pass


def _reassign(conn: sqlite3.Connection, clock: FixedClock) -> None:
    other = _one(conn, "SELECT id FROM collectors ORDER BY id DESC LIMIT 1")[0]
    with write_tx(conn):
        conn.execute(
            "UPDATE queue SET collector_id = ? WHERE customer_id IN "
            "(SELECT customer_id FROM queue WHERE state = 'ready' LIMIT 20)",
            (other,),
        )


def _outcome(conn: sqlite3.Connection, clock: FixedClock) -> None:
    for outcome in ("no_answer", "left_message"):
        cid, collector = _one(
            conn,
            "SELECT customer_id, collector_id FROM queue WHERE state = 'ready' "
            "AND collector_id IS NOT NULL AND claimed_by IS NULL ORDER BY customer_id LIMIT 1",
        )
        log_outcome(
            conn, clock, Settings(), collector_id=collector, customer_id=cid,
            inp=OutcomeInput(outcome=outcome),
        )  # fmt: skip


def _import_invoices(conn: sqlite3.Connection, clock: FixedClock) -> None:
    ref, name = _one(
        conn,
        "SELECT external_ref, name FROM customers WHERE currency = 'USD' ORDER BY id LIMIT 1",
    )
    rows = [
        [ref, name, "SCOPE-1", "2026-09-01", "2026-10-01", "1,200.00", "1,200.00"],
        [ref, name, "SCOPE-2", "2026-11-01", "2026-11-25", "300.00", "300.00"],
        ["NEW-SCOPE", "Newco", "SCOPE-3", "2026-09-01", "2026-10-01", "99.00", "99.00"],
    ]
    path = invoices_csv(conn_path(conn).parent / "scope-inv.csv", rows)
    r = load(conn, path, "invoices", clock, create_customers=True)
    assert r.created == 3


def _import_payments(conn: sqlite3.Connection, clock: FixedClock) -> None:
    rows = [["invoice", "amount", "paid_on"]]
    for number, open_minor in conn.execute(
        "SELECT i.number, i.open_minor FROM invoices i JOIN customers c ON c.id = i.customer_id "
        "WHERE i.status = 'open' AND i.open_minor > 1000 AND c.currency = 'USD' "
        "ORDER BY i.id LIMIT 6"
    ):
        rows.append([number, f"{open_minor // 200}.00", "2026-11-23"])
    path = write_csv(conn_path(conn).parent / "scope-pay.csv", rows)
    r = load(conn, path, "payments", clock)
    assert r.created == len(rows) - 1


def _erp_update(conn: sqlite3.Connection, clock: FixedClock) -> None:
    with write_tx(conn):
        conn.execute(
            "UPDATE invoices SET open_minor = open_minor / 2 WHERE id IN "
            "(SELECT id FROM invoices WHERE status = 'open' AND open_minor > 0 LIMIT 15)"
        )
        conn.execute(
            "UPDATE invoices SET due_date = '2026-12-20' WHERE id IN "
            "(SELECT id FROM invoices WHERE status = 'open' AND open_minor > 0 "
            "ORDER BY id DESC LIMIT 15)"
        )
        conn.execute(
            "UPDATE invoices SET status = 'closed', open_minor = 0 WHERE id IN "
            "(SELECT id FROM invoices WHERE status = 'open' ORDER BY id DESC LIMIT 10 OFFSET 40)"
        )


def _dispute(conn: sqlite3.Connection, clock: FixedClock) -> None:
    with write_tx(conn):
        conn.execute(
            "UPDATE invoices SET disputed = 1 WHERE id IN (SELECT id FROM invoices "
            "WHERE status = 'open' AND open_minor > 0 AND disputed = 0 LIMIT 12)"
        )


def _phones(conn: sqlite3.Connection, clock: FixedClock) -> None:
    with write_tx(conn):
        conn.execute(
            "UPDATE phones SET bad = 1 WHERE customer_id IN "
            "(SELECT customer_id FROM queue WHERE state = 'ready' LIMIT 10)"
        )
        conn.execute(
            "UPDATE phones SET do_not_call = 1 WHERE customer_id IN "
            "(SELECT customer_id FROM queue WHERE state = 'waiting' LIMIT 10)"
        )
        conn.execute(
            "INSERT INTO phones (customer_id, e164, created_at) SELECT customer_id, "
            "'+15145550199', '2026-11-24T10:00:00Z' FROM queue WHERE state = 'no_phone' LIMIT 5"
        )


def _hold(conn: sqlite3.Connection, clock: FixedClock) -> None:
    with write_tx(conn):
        conn.execute(
            "UPDATE customers SET status = 'legal' WHERE id IN "
            "(SELECT customer_id FROM queue WHERE state = 'ready' LIMIT 8)"
        )
        conn.execute(
            "UPDATE customers SET status = 'active' WHERE id IN "
            "(SELECT customer_id FROM queue WHERE state = 'hold' LIMIT 8)"
        )
        conn.execute("UPDATE customers SET risk_score = 95 WHERE id % 37 = 1")


def _wake(conn: sqlite3.Connection, clock: FixedClock) -> None:
    """A claim wakes the waiting rows whose time came (no recompute: claim.wake_due)."""
    from datetime import timedelta

    from dunning.clock import to_iso
    from dunning.queue.claim import wake_due

    with write_tx(conn):
        assert wake_due(conn, to_iso(clock.now() + timedelta(hours=8))) > 0


def conn_path(conn: sqlite3.Connection) -> Path:
    for row in conn.execute("PRAGMA database_list"):
        if row[1] == "main":
            return Path(row[2])
    raise AssertionError("no file")


CHANGES = {
    "nothing": _nothing,
    "reassignment": _reassign,
    "outcome": _outcome,
    "import-invoices": _import_invoices,
    "import-payments": _import_payments,
    "erp-update": _erp_update,
    "dispute": _dispute,
    "phones": _phones,
    "hold": _hold,
    "wake": _wake,
}


@pytest.mark.parametrize("day", [1, 3], ids=["next-night", "missed-night"])
@pytest.mark.parametrize("name", list(CHANGES))
def test_a_scoped_night_leaves_the_queue_a_whole_pass_would(
    refreshed: Path, tmp_path: Path, name: str, day: int
) -> None:
    scoped, whole = tmp_path / "scoped.db", tmp_path / "whole.db"
    shutil.copy(refreshed, scoped)
    for db in (scoped, whole):
        if db is whole:
            shutil.copy(refreshed, whole)
        conn = open_db(db)
        try:
            CHANGES[name](conn, _clock(day - 1 if day > 1 else 0))
        finally:
            conn.close()
    got = _night(scoped, day, full=False)
    want = _night(whole, day, full=True)
    assert got.read is not None and got.read < got.of  # it was scoped
    assert want.read is None
    assert _state(scoped) == _state(whole)
    assert got.decided == want.decided
    # and the night after, scoped again on both, still the same
    _night(scoped, day + 1, full=False)
    _night(whole, day + 1, full=False)
    assert _state(scoped) == _state(whole)


def test_a_settings_change_reads_everyone(refreshed: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    shutil.copy(refreshed, db)
    other = Settings(weights=Weights(balance=12.0))
    assert _night(db, 1, full=False, settings=other).read is None
    assert _night(db, 2, full=False, settings=other).read is not None


def test_a_missing_record_reads_everyone(refreshed: Path, tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    shutil.copy(refreshed, db)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("DELETE FROM refresh_state")
    conn.close()
    assert _night(db, 1, full=False).read is None


def test_a_write_during_the_refresh_stays_for_the_next(refreshed: Path, tmp_path: Path) -> None:
    """The log is taken up to its largest rowid at the start: a write after that is kept."""
    db = tmp_path / "w.db"
    shutil.copy(refreshed, db)
    conn = open_db(db)
    try:
        done = []

        def during(stats: RefreshStats) -> None:
            if not done:
                done.append(1)
                other = sqlite3.connect(db)
                with other:
                    other.execute("UPDATE customers SET status = 'legal' WHERE id = 399")
                other.close()

        refresh_all(conn, _clock(1), Settings(), workers=0, after_chunk=during)
        assert conn.execute("SELECT COUNT(*) FROM refresh_dirty").fetchone()[0] >= 1
        stats = refresh_all(conn, _clock(1), Settings(), workers=0)
        assert stats.read is not None
        state = conn.execute("SELECT state FROM queue WHERE customer_id = 399").fetchone()[0]
        assert state == "hold"
    finally:
        conn.close()
