"""Schema migrations: a database stopped before each migration, holding data, migrates to
the same schema as a fresh one with its data intact; migrating is idempotent and safe
when several processes start at once.

Generic over ``dunning.db.schema.migrations``: a new migration is tested here without
editing this file. When a migration adds tables, add a seed for them to SEEDS (keyed by
the migration after which the seed's tables and columns exist) so that later migrations
are tested against data in those tables too.
"""

from __future__ import annotations

import multiprocessing as mp
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlite_utils

from dunning.clock import FixedClock
from dunning.db.connection import connect, write_tx
from dunning.db.schema import migrate, migrations, schema_version
from dunning.queue.accounts import refresh_accounts
from dunning.queue.claim import claim_next
from dunning.queue.config import Settings
from dunning.queue.outcomes import OutcomeInput, log_outcome

NAMES = [m.name for m in migrations.pending(sqlite_utils.Database(memory=True))]
NOW = "2026-11-20T10:00:00Z"


def seed_m001(conn: sqlite3.Connection) -> None:
    """A row in every table of the first schema, using only its columns."""
    with write_tx(conn):
        x = conn.execute
        x(
            "INSERT INTO collectors (id, username, display_name, role, languages, locale, "
            "created_at) VALUES (1, 'alice', 'Alice A', 'collector', 'en,fr', 'fr_CA', ?), "
            "(2, 'lena', 'Lena L', 'lead', 'en,fr,es', 'en_US', ?)",
            (NOW, NOW),
        )
        x(
            "INSERT INTO customers (id, external_ref, name, country, subdivision, language, "
            "currency, portfolio, status, risk_score, credit_limit_minor, created_at, "
            "updated_at) VALUES (1, 'C000001', 'Épicerie Côté', 'CA', 'QC', 'fr', 'CAD', "
            "'consumer', 'active', 40, 500000, ?, ?), (2, 'C000002', 'Acme', 'US', 'NY', 'en', "
            "'USD', 'b2b', 'active', 0, NULL, ?, ?)",
            (NOW, NOW, NOW, NOW),
        )
        x(
            "INSERT INTO contacts (id, customer_id, name, title, language, email, is_primary, "
            "created_at) VALUES (1, 1, 'Marie Côté', 'Owner', 'fr', 'm@example.ca', 1, ?), "
            "(2, 2, 'Bob AP', NULL, NULL, NULL, 1, ?)",
            (NOW, NOW),
        )
        x(
            "INSERT INTO phones (id, customer_id, contact_id, e164, type, do_not_call, bad, "
            "created_at) VALUES (1, 1, 1, '+15145550123', 'fixed_line', 0, 0, ?), "
            "(2, 1, 1, '+15145550124', 'mobile', 1, 0, ?), "
            "(3, 2, 2, '+12125550100', 'fixed_line', 0, 0, ?)",
            (NOW, NOW, NOW),
        )
        x(
            "INSERT INTO invoices (id, customer_id, number, issue_date, due_date, amount_minor, "
            "open_minor, currency, status, disputed, created_at, updated_at) VALUES "
            "(1, 1, 'F-1001', '2026-08-01', '2026-08-31', 123450, 123450, 'CAD', 'open', 0, ?, ?),"
            "(2, 1, 'F-1002', '2026-09-01', '2026-10-01', 50000, 20000, 'CAD', 'open', 1, ?, ?),"
            "(3, 1, 'AV-1', '2026-09-15', '2026-09-15', -10000, -10000, 'CAD', 'open', 0, ?, ?),"
            "(4, 2, 'INV-9', '2026-05-01', '2026-06-01', 900000, 900000, 'USD', 'open', 0, ?, ?)",
            (NOW,) * 8,
        )
        x(
            "INSERT INTO payments (id, customer_id, invoice_id, external_ref, amount_minor, "
            "currency, paid_on, reference, created_at) VALUES "
            "(1, 1, 2, 'PAY-1', 30000, 'CAD', '2026-10-05', 'chq 88', ?), "
            "(2, 1, NULL, 'PAY-2', 5000, 'CAD', '2026-11-02', NULL, ?)",
            (NOW, NOW),
        )
        x(
            "INSERT INTO activities (id, customer_id, collector_id, at, outcome, attempt, "
            "contact, rpc, worked, phone_id, note, next_action, next_action_at, details) VALUES "
            "(1, 1, 1, '2026-11-10T14:00:00Z', 'promise_to_pay', 1, 1, 1, 1, 1, "
            "'paiera vendredi', 'promise_check', '2026-11-16T00:00:00Z', "
            "'{\"amount_minor\": 50000}'), "
            "(2, 1, 1, '2026-11-11T14:00:00Z', 'dispute', 1, 1, 1, 1, 1, '', 'call', "
            "'2026-11-12T14:00:00Z', NULL), "
            "(3, 1, NULL, '2026-11-17T00:00:00Z', 'system', 0, 0, 0, 0, NULL, 'promise broken',"
            " NULL, NULL, NULL)"
        )
        x(
            "INSERT INTO promises (id, customer_id, activity_id, amount_minor, currency, "
            "promised_on, due_date, grace_days, status, paid_minor, decided_at, created_at, "
            "created_by) VALUES (1, 1, 1, 50000, 'CAD', '2026-11-10', '2026-11-14', 2, "
            "'broken', 0, '2026-11-17T00:00:00Z', ?, 1)",
            (NOW,),
        )
        x(
            "INSERT INTO disputes (id, customer_id, activity_id, reason, department, "
            "amount_minor, currency, status, created_at, created_by) VALUES "
            "(1, 1, 2, 'damaged', 'customer_service', 20000, 'CAD', 'open', ?, 1)",
            (NOW,),
        )
        x("INSERT INTO dispute_invoices (dispute_id, invoice_id) VALUES (1, 2)")
        x(
            "INSERT INTO payment_reports (id, customer_id, activity_id, amount_minor, currency, "
            "paid_on, reference, created_at, created_by) VALUES "
            "(1, 1, 1, 10000, 'CAD', '2026-11-09', 'virement', ?, 1)",
            (NOW,),
        )
        x(
            "INSERT INTO assignments (id, customer_id, collector_id, assigned_at, assigned_by, "
            "reason) VALUES (1, 1, 1, ?, NULL, 'import'), (2, 2, 1, ?, 2, 'cover')",
            (NOW, NOW),
        )
        x(
            "INSERT INTO queue (customer_id, collector_id, state, priority, reasons, "
            "next_action, next_action_at, open_minor, disputed_minor, unapplied_minor, "
            "oldest_due, broken_promise, updated_at) VALUES "
            "(1, 1, 'ready', 9000, '[]', 'call', '2026-11-17T00:00:00Z', 123450, 20000, -15000,"
            " '2026-08-31', 1, ?), "
            "(2, 1, 'ready', 8000, '[]', 'call', ?, 900000, 0, 0, '2026-06-01', 0, ?)",
            (NOW, NOW, NOW),
        )
        x(
            "INSERT INTO drafts (collector_id, customer_id, text, updated_at) "
            "VALUES (1, 1, 'rappeler après 14 h', ?)",
            (NOW,),
        )


def seed_m038(conn: sqlite3.Connection) -> None:
    """An opt-out (m037) and a dunning level reached (m038)."""
    with write_tx(conn):
        conn.execute(
            "UPDATE contacts SET email_opt_out_at = ?, email_opt_out_by = 'alice' WHERE id = 1",
            (NOW,),
        )
        conn.execute(
            "INSERT INTO dunning_levels (invoice_id, level, customer_id, at, letter_id, channel) "
            "VALUES (1, 1, 1, ?, NULL, 'call')",
            (NOW,),
        )


def seed_m039(conn: sqlite3.Connection) -> None:
    """A postal address (m039)."""
    with write_tx(conn):
        conn.execute(
            "UPDATE customers SET address_line1 = '1234, rue Saint-Denis', address_line2 = NULL, "
            "city = 'Montréal', postal_code = 'H2X 3K2' WHERE id = 1"
        )


# migration after which the seed applies -> seed
SEEDS: list[tuple[str, Callable[[sqlite3.Connection], None]]] = [
    ("m001_initial", seed_m001),
    ("m038_dunning_levels", seed_m038),
    ("m039_customer_address", seed_m039),
]


def schema_of(conn: sqlite3.Connection) -> list[tuple[str, str, str, str]]:
    rows = conn.execute(
        "SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_master "
        "WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name"
    ).fetchall()
    return [(t, n, tb, re.sub(r"\s+", " ", sql).strip()) for t, n, tb, sql in rows]


def _has_rowid(conn: sqlite3.Connection, table: str) -> bool:
    """False for a WITHOUT ROWID table (m018's aging_snapshot)."""
    try:
        conn.execute(f"SELECT rowid FROM {table} LIMIT 0")
    except sqlite3.OperationalError:
        return False
    return True


def dump(conn: sqlite3.Connection) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every user table's columns and rows (the migrations log aside, and full-text
    indexes: their content is another table's, their shadow tables FTS5's own)."""
    out = {}
    virtual = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL%'"
        )
    ]
    for (table,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND name != '_sqlite_migrations'"
    ).fetchall():
        if any(table == v or table.startswith(f"{v}_") for v in virtual):
            continue
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
        order = "rowid" if _has_rowid(conn, table) else ", ".join(cols)
        rows = conn.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY {order}").fetchall()
        out[table] = (cols, [tuple(r) for r in rows])
    return out


def fresh_schema(path: Path) -> list[tuple[str, str, str, str]]:
    conn = connect(path)
    migrate(conn)
    try:
        return schema_of(conn)
    finally:
        conn.close()


def test_migrations_are_numbered_in_order():
    assert NAMES, "at least one migration"
    numbers = [int(re.match(r"m(\d{3})_", n).group(1)) for n in NAMES]  # type: ignore[union-attr]
    # every migration numbered once, in order, none missing
    assert numbers == list(range(1, len(numbers) + 1))


@pytest.mark.parametrize("stop_before", NAMES)
def test_a_database_stopped_before_each_migration_migrates_with_its_data(
    tmp_path: Path, stop_before: str
):
    conn = connect(tmp_path / "old.db")
    with write_tx(conn):
        migrations.apply(sqlite_utils.Database(conn), stop_before=stop_before)
    applied = schema_version(conn)
    assert applied == NAMES[: NAMES.index(stop_before)]
    for after, seed in SEEDS:
        if after in applied:
            seed(conn)
    before = dump(conn)

    assert migrate(conn) == NAMES[len(applied) :]
    assert schema_version(conn) == NAMES

    after = dump(conn)
    for table, (cols, rows) in before.items():
        assert table in after, f"{table} was dropped"
        new_cols, _ = after[table]
        kept = [c for c in cols if c in new_cols]
        assert kept == cols, f"{table}: columns lost {set(cols) - set(new_cols)}"
        order = "rowid" if _has_rowid(conn, table) else ", ".join(cols)
        got = conn.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY {order}").fetchall()
        assert [tuple(r) for r in got] == rows, f"{table}: data changed"
    assert schema_of(conn) == fresh_schema(tmp_path / "fresh.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []

    if before:  # the migrated database is worked as usual
        clock = FixedClock()
        settings = Settings()
        with write_tx(conn):
            refresh_accounts(conn, clock, settings)
        claim = claim_next(conn, clock, settings, 1)
        assert claim is not None
        log_outcome(
            conn,
            clock,
            settings,
            collector_id=1,
            customer_id=claim.customer_id,
            inp=OutcomeInput("no_answer", note="after the migration"),
        )
    conn.close()


def test_migrate_is_idempotent(tmp_path: Path):
    conn = connect(tmp_path / "db.db")
    assert migrate(conn) == NAMES
    schema = schema_of(conn)
    assert migrate(conn) == []
    assert schema_of(conn) == schema
    rows = conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id").fetchall()
    assert [r[0] for r in rows] == NAMES
    conn.close()


def _migrate_in_a_process(path: str, start: object, out: object) -> None:
    try:
        start.wait(60)  # type: ignore[attr-defined]
        conn = connect(path)
        out.put(("ok", migrate(conn)))  # type: ignore[attr-defined]
        conn.close()
    except Exception as exc:
        out.put(("error", f"{type(exc).__name__}: {exc}"))  # type: ignore[attr-defined]


@pytest.mark.slow
def test_processes_starting_at_once_migrate_once(tmp_path: Path):
    """The first morning: every collector's process opens a new database at once."""
    path = tmp_path / "new.db"
    n = 4
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(n + 1)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_migrate_in_a_process, args=(str(path), start, out)) for _ in range(n)
    ]
    for p in procs:
        p.start()
    start.wait(60)
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert [r for r in results if r[0] != "ok"] == []
    applied = [name for _, names in results for name in names]
    assert sorted(applied) == sorted(NAMES), "each migration applied exactly once"
    conn = connect(path)
    assert schema_version(conn) == NAMES
    assert schema_of(conn) == fresh_schema(tmp_path / "fresh.db")
    conn.close()
