"""The history is append-only below dunning (m012, dunning/db/append_only.py): raw SQL —
dunning's connection, another program's, the ``sqlite3`` shell — cannot change or delete
a history row; the system transitions dunning performs still work."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from test_migrations import NOW, seed_m001

from dunning.db.append_only import guards, lifted, missing_guards
from dunning.db.connection import write_tx


@pytest.fixture
def hist(conn: sqlite3.Connection) -> sqlite3.Connection:
    """A row in every history table, and promises in each state."""
    seed_m001(conn)  # promise 1 broken, dispute 1 open, activities 1-3, assignments 1-2
    with write_tx(conn):
        x = conn.execute
        x(
            "INSERT INTO promises (id, customer_id, activity_id, amount_minor, currency, "
            "promised_on, due_date, grace_days, status, paid_minor, created_at, created_by, "
            "decide_at) VALUES "
            "(2, 1, 1, 30000, 'CAD', '2026-11-10', '2026-11-20', 2, 'pending', 0, ?, 1, "
            "'2026-11-23T05:00:00Z'), "
            "(3, 1, 1, 30000, 'CAD', '2026-11-10', '2026-11-20', 2, 'pending', 0, ?, 1, "
            "'2026-11-23T05:00:00Z')",
            (NOW, NOW),
        )
        x(
            "INSERT INTO voids (id, activity_id, customer_id, voided_at, voided_by, reason) "
            "VALUES (1, 2, 1, ?, 2, 'wrong account')",
            (NOW,),
        )
        x(
            "INSERT INTO import_runs (id, kind, file, profile, started_at, finished_at) "
            "VALUES (1, 'invoices', 'ar.csv', 'generic', ?, ?)",
            (NOW, NOW),
        )
        x(
            "INSERT INTO invoice_closures (id, customer_id, invoice_id, amount_minor, currency, "
            "closed_on, how, created_at) VALUES (1, 1, 1, 1000, 'CAD', '2026-11-20', "
            "'snapshot', ?)",
            (NOW,),
        )
        x(
            "INSERT INTO audit_log (id, at, os_user, os_uid, collector_id, action, target) "
            "VALUES (1, ?, 'lena', 1001, 2, 'assign', 'C000002')",
            (NOW,),
        )
        x(
            "INSERT INTO meta (key, value, set_at, set_by) "
            "VALUES ('service_account', 'dunning', ?, 'root')",
            (NOW,),
        )
    return conn


def refused(conn: sqlite3.Connection, sql: str, *params: object) -> str:
    with pytest.raises(sqlite3.IntegrityError, match="append-only") as exc, write_tx(conn):
        conn.execute(sql, params)
    return str(exc.value)


FORBIDDEN_UPDATES = [
    "UPDATE activities SET note = 'nothing happened' WHERE id = 1",
    "UPDATE activities SET outcome = 'no_answer' WHERE id = 2",
    "UPDATE activities SET collector_id = 2 WHERE id = 1",
    "UPDATE assignments SET assigned_by = 2 WHERE id = 1",
    "UPDATE assignments SET collector_id = 2 WHERE id = 2",
    "UPDATE dispute_invoices SET invoice_id = 1",
    "UPDATE payment_reports SET amount_minor = 99 WHERE id = 1",
    "UPDATE import_runs SET file = 'other.csv'",
    "UPDATE invoice_closures SET amount_minor = 0",
    "UPDATE audit_log SET os_user = 'alice'",
    "UPDATE audit_log SET result = 'refused'",
    # promises: only the system's moves
    "UPDATE promises SET amount_minor = 1 WHERE id = 2",
    "UPDATE promises SET due_date = '2027-01-01' WHERE id = 2",
    "UPDATE promises SET created_by = 2 WHERE id = 2",
    "UPDATE promises SET decide_at = '2027-01-01T00:00:00Z' WHERE id = 2",
    "UPDATE promises SET status = 'kept' WHERE id = 2",  # decided without a decided_at
    "UPDATE promises SET status = 'pending', decided_at = NULL WHERE id = 1",  # un-broken
    "UPDATE promises SET decided_at = '2026-01-01T00:00:00Z' WHERE id = 1",  # set once
    "UPDATE promises SET status = 'kept', paid_minor = 50000, decided_at = '2027-01-01' "
    "WHERE id = 1",  # re-decided must keep decided_at
    # disputes: open -> resolved or voided, once
    "UPDATE disputes SET amount_minor = 1 WHERE id = 1",
    "UPDATE disputes SET reason = 'other' WHERE id = 1",
    "UPDATE disputes SET status = 'resolved_valid' WHERE id = 1",  # without resolved_at
    # voids: details once
    "UPDATE voids SET reason = 'no reason' WHERE id = 1",
    "UPDATE voids SET voided_by = 1 WHERE id = 1",
    # meta: the key never changes
    "UPDATE meta SET key = 'other' WHERE key = 'service_account'",
]


@pytest.mark.parametrize("sql", FORBIDDEN_UPDATES)
def test_a_history_row_cannot_be_changed(hist: sqlite3.Connection, sql: str):
    before = {t: hist.execute(f"SELECT * FROM {t}").fetchall() for t in _tables()}
    msg = refused(hist, sql)
    assert msg.startswith("append-only: ")
    after = {t: hist.execute(f"SELECT * FROM {t}").fetchall() for t in _tables()}
    assert [list(map(tuple, v)) for v in after.values()] == [
        list(map(tuple, v)) for v in before.values()
    ]


def _tables() -> list[str]:
    return [
        "activities", "assignments", "promises", "disputes", "dispute_invoices",
        "payment_reports", "voids", "import_runs", "invoice_closures", "audit_log", "meta",
    ]  # fmt: skip


@pytest.mark.parametrize("table", _tables())
def test_no_history_row_can_be_deleted(hist: sqlite3.Connection, table: str):
    n = hist.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    assert n > 0
    assert f"{table} rows are never deleted" in refused(hist, f"DELETE FROM {table}")
    assert hist.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == n


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT OR REPLACE INTO activities (id, customer_id, at, outcome, note) "
        "VALUES (1, 1, '2026-11-10T14:00:00Z', 'no_answer', 'rewritten')",
        "REPLACE INTO assignments (id, customer_id, collector_id, assigned_at) "
        "VALUES (1, 1, 2, '2026-11-20T10:00:00Z')",
        "INSERT OR REPLACE INTO voids (activity_id, customer_id, voided_at, voided_by, reason)"
        " VALUES (2, 1, '2026-11-20T10:00:00Z', 1, 'other')",
        "INSERT OR REPLACE INTO dispute_invoices (dispute_id, invoice_id) VALUES (1, 2)",
        "INSERT OR REPLACE INTO audit_log (id, at, os_user, os_uid, action) "
        "VALUES (1, '2026-11-20T10:00:00Z', 'x', 0, 'nothing')",
    ],
)
def test_a_history_row_cannot_be_replaced(hist: sqlite3.Connection, sql: str):
    assert "never replaced" in refused(hist, sql)


def test_the_system_transitions_still_work(hist: sqlite3.Connection):
    x = hist.execute
    with write_tx(hist):
        # decided, then decided again when money arrives
        x("UPDATE promises SET status = 'broken', paid_minor = 0, decided_at = ? WHERE id = 2",
          ("2026-11-23T06:00:00Z",))  # fmt: skip
        x("UPDATE promises SET status = 'partial', paid_minor = 100 WHERE id = 2")
        x("UPDATE promises SET status = 'kept', paid_minor = 30000 WHERE id = 2")
        # superseded by a new promise, then restored when that one is voided
        x("UPDATE promises SET status = 'cancelled', superseded_by = 2, decided_at = ? "
          "WHERE id = 3", (NOW,))  # fmt: skip
        x("UPDATE promises SET status = 'pending', superseded_by = NULL, decided_at = NULL "
          "WHERE id = 3")  # fmt: skip
        # voided: a decided promise cancelled, decided_at kept
        x("UPDATE promises SET status = 'cancelled', decided_at = COALESCE(decided_at, ?) "
          "WHERE id = 1", (NOW,))  # fmt: skip
        x("UPDATE disputes SET status = 'voided', resolved_at = ?, resolved_by = 2 WHERE id = 1",
          (NOW,))  # fmt: skip
        x('UPDATE voids SET details = \'{"promises": [[1, "broken"]]}\' WHERE id = 1')
        x("INSERT INTO meta (key, value, set_at, set_by) VALUES ('service_account', 'svc', ?, "
          "'root') ON CONFLICT(key) DO UPDATE SET value = excluded.value", (NOW,))  # fmt: skip
        x("INSERT INTO activities (customer_id, at, outcome) VALUES (1, ?, 'system')", (NOW,))
    got = [tuple(r) for r in x("SELECT id, status, paid_minor FROM promises ORDER BY id")]
    assert got == [(1, "cancelled", 0), (2, "kept", 30000), (3, "pending", 0)]
    assert x("SELECT status FROM disputes").fetchone()[0] == "voided"
    assert x("SELECT value FROM meta").fetchone()[0] == "svc"
    # once written, a void's details and a restored promise's history stand
    refused(hist, "UPDATE voids SET details = '{}' WHERE id = 1")
    refused(hist, "UPDATE disputes SET status = 'open', resolved_at = NULL, resolved_by = NULL")
    refused(hist, "UPDATE promises SET status = 'pending' WHERE id = 1")  # voided stays


def test_the_sqlite3_shell_cannot_rewrite_a_note(hist: sqlite3.Connection, db_path: Path):
    """The way a shell user would try it: `sqlite3 dunning.db "UPDATE activities ..."`."""
    sql = "UPDATE activities SET note = 'never called' WHERE id = 1;"
    if shutil.which("sqlite3"):
        done = subprocess.run(
            ["sqlite3", str(db_path), sql], capture_output=True, text=True, timeout=30
        )
        assert done.returncode != 0
        assert "append-only: activities rows are never changed" in done.stderr
    other = sqlite3.connect(db_path)  # any other program: a plain connection, autocommit
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            other.execute(sql)
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            other.execute("DELETE FROM activities WHERE id = 1")
    finally:
        other.close()
    assert hist.execute("SELECT note FROM activities WHERE id = 1").fetchone()[0] == (
        "paiera vendredi"
    )


def test_a_dropped_guard_is_named_and_can_be_lifted_on_purpose(hist: sqlite3.Connection):
    assert missing_guards(hist) == []
    assert len(guards()) >= 30
    with write_tx(hist), lifted(hist, "activities_no_delete"):
        assert missing_guards(hist) == ["activities_no_delete"]
        hist.execute("DELETE FROM activities WHERE id = 3")
    assert missing_guards(hist) == []
    refused(hist, "DELETE FROM activities WHERE id = 2")
    with write_tx(hist):
        hist.execute("DROP TRIGGER audit_log_no_update")
    assert missing_guards(hist) == ["audit_log_no_update"]


def test_the_demo_database_is_guarded(tmp_path: Path):
    """The demo load lifts the INSERT guards for speed and puts them back."""
    from dunning.db.connection import connect
    from dunning.demo.build import build_demo

    build_demo(tmp_path / "demo.db", customers=30)
    conn = connect(tmp_path / "demo.db")
    try:
        assert missing_guards(conn) == []
        refused(
            conn, "UPDATE activities SET note = 'x' WHERE id = (SELECT min(id) FROM activities)"
        )
    finally:
        conn.close()
