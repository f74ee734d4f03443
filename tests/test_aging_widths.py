"""Today's aligned aging table in one pass: its widths kept beside aging_order
(dunning/db/aging_widths.py, m021) give the same bytes as the slow reference whatever
value is the widest (wide or combining characters, a control, a NUL, a negative amount,
two currencies with different digits), in a clean row or a dirty one, when the only row
that had the widest value changes, after renames and after the snapshot's advance, in one
process or two; the measuring pass is taken exactly when the widths are not kept."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from test_aging_reference import (
    TODAY,
    build,
    reference_csv,
    reference_rows,
    reference_table,
    run,
)

from dunning.clock import FixedClock
from dunning.db import aging_order, aging_out, aging_snapshot, aging_split, aging_widths, reports
from dunning.db import exports as ex
from dunning.db.connection import write_tx
from dunning.db.schema import MIGRATIONS_TABLE, migrate

NOW = "2026-11-23T16:00:00Z"
COLS, _ = ex.aging_table(reports.AgingReport(TODAY, "customer", [], []))


@pytest.fixture(autouse=True)
def _far_shifts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aging_snapshot, "MAX_SHIFT_DAYS", 60)


def _invoice(conn: sqlite3.Connection, customer: int, amount: int, currency: str) -> int:
    n = conn.execute("SELECT COUNT(*) FROM invoices").fetchone()[0] + 1
    due = (TODAY - timedelta(days=40)).isoformat()
    return int(
        conn.execute(
            "INSERT INTO invoices (customer_id, number, issue_date, due_date, amount_minor, "
            "open_minor, currency, status, disputed, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?,'open',0,?,?)",
            (customer, f"W{n}", due, due, amount, amount, currency, NOW, NOW),
        ).lastrowid
        or 0
    )


def _ids(conn: sqlite3.Connection) -> list[int]:
    return [r[0] for r in conn.execute("SELECT id FROM customers ORDER BY id")]


# the widest value of its column, set before the snapshot (a clean row of aging_order)
CLEAN: dict[str, Any] = {
    "cjk": ("name", "山田商事株式会社東京"),  # 10 characters, 30 bytes
    "combining": ("name", "Rene\u0301e Gagne\u0301 Lte\u0301e"),  # 19 code points
    "bidi": ("name", "ab\u202ecd"),  # shown as ab<U+202E>cd: 12 characters
    "control": ("ref", "R\x1b[31m-1"),  # ESC shown as a picture: same length
    "nul": ("name", "ab\x00cdefghijklmnopqrstuvw"),  # SQLite's length() stops at NUL
    "long": ("name", "N" * 40),  # cut to 32 characters
    "negative": ("amount", (-98_765_432_109_876, "USD")),
    "digits": ("amount", (123_456_789_012_345, "JPY")),  # 0 digits against USD's 2
    "huge": ("amount", (2**53 + 1, "USD")),  # beyond a float's exact integers
}


def _short_names(conn: sqlite3.Connection) -> None:
    """Every name and reference short, so the case's value is the widest."""
    conn.execute("UPDATE customers SET name = 'N' || id, external_ref = 'R' || id")


def _set(conn: sqlite3.Connection, customer: int, what: str, value: Any) -> None:
    if what == "amount":
        _invoice(conn, customer, *value)
    else:
        col = "name" if what == "name" else "external_ref"
        conn.execute(f"UPDATE customers SET {col} = ? WHERE id = ?", (value, customer))


def _check(conn: sqlite3.Connection, db: Path, clock: FixedClock, tmp: Path) -> None:
    out = tmp / "a.txt"
    run(db, clock, "--format", "table", "-o", str(out))
    want = reference_table(reference_rows(conn, TODAY, "customer"), "customer",
                           f"Aging as of {TODAY}")  # fmt: skip
    assert out.read_text(encoding="utf-8") == want


def _no_spill(monkeypatch: pytest.MonkeyPatch) -> None:
    def spill(*args: Any) -> Any:
        raise AssertionError("the rows were measured")

    monkeypatch.setattr(aging_out, "measure", spill)


def _measured(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the measuring passes (the fallback)."""
    calls: list[int] = []
    real = aging_out.measure

    def measure(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(aging_out, "measure", measure)
    return calls


def _kept_equals_a_fill(conn: sqlite3.Connection) -> None:
    """The widths as kept by advances equal the widths made afresh from aging_order."""
    kept = aging_widths.stored(conn)
    assert kept is not None
    with write_tx(conn):
        aging_widths.fill(conn)
    assert +kept == +aging_widths.stored(conn)  # type: ignore[operator]


def _layouts(conn: sqlite3.Connection, tmp: Path) -> tuple[Any, Any]:
    """The layout from the kept widths and from the measuring pass, same transaction."""
    names = aging_out._names(conn)
    with aging_snapshot.read_tx(conn):
        sql, params = aging_out.customer_sql(conn, TODAY)
        kept = aging_widths.report_state(conn, sql, params, names)
        assert kept is not None
        with (tmp / "spill").open("w+b") as spill:
            want = aging_out.measure(aging_widths.rows(conn, sql, params), names, spill)
    assert kept["sums"] == want["sums"] and kept["count"] == want["count"]
    one, two = aging_out.layout(COLS, kept), aging_out.layout(COLS, want)
    # the kept widths may write exactly what the floats would (an amount of 16 digits
    # below 2**52): the same bytes, by integer arithmetic
    for f in (one["formats"], two["formats"]):
        for c, (fmt, u, d, _) in f.items():
            f[c] = (fmt, u, d)
    return one, two


@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("case", sorted(CLEAN))
def test_the_widest_value_of_a_clean_row(
    conn: sqlite3.Connection,
    db_path: Path,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    case: str,
    split: bool,
) -> None:
    build(conn, 41, customers=40)
    ids = _ids(conn)
    with write_tx(conn):
        _short_names(conn)
        _set(conn, ids[len(ids) // 2], *CLEAN[case])
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"
    assert aging_order.state(conn) is not None and aging_widths.kept(conn)
    if split:
        monkeypatch.setattr(aging_split, "MIN_CUSTOMERS", 0)
    _no_spill(monkeypatch)
    _check(conn, db_path, clock, tmp_path)


@pytest.mark.parametrize("split", [False, True])
def test_the_widest_values_in_a_dirty_customer(
    conn: sqlite3.Connection,
    db_path: Path,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    split: bool,
) -> None:
    build(conn, 42, customers=40)
    with write_tx(conn):
        _short_names(conn)
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"
    ids = _ids(conn)
    with write_tx(conn):  # after the snapshot: computed from the ledger, not the table
        _invoice(conn, ids[3], 77_777_777_777_777, "KWD")
        _invoice(conn, ids[4], -66_666_666_666_666, "EUR")
        conn.execute("UPDATE customers SET name = '東京 Rene\u0301e' WHERE id = ?", (ids[5],))
        conn.execute("UPDATE customers SET external_ref = 'REF-0123456789' WHERE id = ?",
                     (ids[6],))  # fmt: skip
    if split:
        monkeypatch.setattr(aging_split, "MIN_CUSTOMERS", 0)
    _no_spill(monkeypatch)
    _check(conn, db_path, clock, tmp_path)


@pytest.mark.parametrize("split", [False, True])
def test_the_only_row_with_the_widest_values_shrinks_in_a_dirty_customer(
    conn: sqlite3.Connection,
    db_path: Path,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    split: bool,
) -> None:
    build(conn, 46, customers=40)
    ids = _ids(conn)
    wide = ids[7]
    with write_tx(conn):
        _short_names(conn)
        conn.execute("UPDATE customers SET name = ?, external_ref = ? WHERE id = ?",
                     ("W" * 40, "REF-WIDEST-0000001", wide))  # fmt: skip
        big = _invoice(conn, wide, 9_999_999_999_999, "USD")
        _invoice(conn, wide, -8_888_888_888_888, "JPY")
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"
    one = "SELECT COUNT(DISTINCT customer_id) FROM aging_order WHERE length(name) = 40"
    assert conn.execute(one).fetchone()[0] == 1
    with write_tx(conn):  # its old row in aging_order held every widest value, alone
        conn.execute("UPDATE customers SET name = 'w', external_ref = 'r' WHERE id = ?", (wide,))
        conn.execute("UPDATE invoices SET open_minor = 5, status = 'open' WHERE id = ?", (big,))
        aging_snapshot.touch(conn, [wide])
    kept, measured = _layouts(conn, tmp_path)
    assert kept == measured
    if split:
        monkeypatch.setattr(aging_split, "MIN_CUSTOMERS", 0)
    _no_spill(monkeypatch)
    _check(conn, db_path, clock, tmp_path)


def test_renames_reassignments_and_the_advance_keep_the_widths(
    conn: sqlite3.Connection,
    db_path: Path,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build(conn, 47, customers=50)
    ids = _ids(conn)
    with write_tx(conn):
        _short_names(conn)
        conn.execute("UPDATE customers SET name = ? WHERE id = ?", ("L" * 30, ids[1]))
    assert aging_snapshot.advance(conn, TODAY - timedelta(days=10), min_invoices=0) == "built"
    with write_tx(conn):
        conn.execute("UPDATE customers SET name = 'short' WHERE id = ?", (ids[1],))
        conn.execute("UPDATE customers SET name = ? WHERE id = ?", ("Zoë\x07" * 5, ids[2]))
        conn.execute("UPDATE queue SET collector_id = NULL WHERE customer_id = ?", (ids[3],))
        conn.execute(
            "INSERT INTO assignments (customer_id, collector_id, assigned_at, reason) "
            "VALUES (?, NULL, ?, 'test')",
            (ids[3], NOW),
        )
        _invoice(conn, ids[4], 123_456_789, "EUR")
    # the night's advance: renamed, moved and shifted rows out of the widths and back in
    assert aging_snapshot.advance(conn, TODAY) == "advanced"
    _kept_equals_a_fill(conn)
    kept, measured = _layouts(conn, tmp_path)
    assert kept == measured
    _no_spill(monkeypatch)
    _check(conn, db_path, clock, tmp_path)


def test_the_measuring_pass_is_taken_exactly_when_the_widths_are_not_kept(
    conn: sqlite3.Connection,
    db_path: Path,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build(conn, 48, customers=30)
    calls = _measured(monkeypatch)
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"
    _check(conn, db_path, clock, tmp_path)
    assert calls == []  # kept: no pass
    monkeypatch.setenv("DUNNING_AGING_WIDTHS", "0")
    _check(conn, db_path, clock, tmp_path)
    assert calls == [1]  # turned off
    monkeypatch.delenv("DUNNING_AGING_WIDTHS")
    # a snapshot of another day: its rows are shifted, their lengths not kept
    assert aging_snapshot.advance(conn, TODAY - timedelta(days=2), min_invoices=0) != "none"
    _check(conn, db_path, clock, tmp_path)
    assert calls == [1, 1]
    # a sum beyond 64 bits: the build keeps no widths (SQLite cannot sum it)
    one, two = [r[0] for r in conn.execute(
        "SELECT customer_id FROM queue WHERE collector_id = 1 LIMIT 2")]  # fmt: skip
    with write_tx(conn):
        _invoice(conn, one, 2**62, "USD")
        _invoice(conn, two, 2**62, "USD")
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "advanced"
    assert not aging_widths.kept(conn)  # its advance gave them up
    _check(conn, db_path, clock, tmp_path)
    assert calls == [1, 1, 1]
    monkeypatch.setattr(aging_split, "MIN_CUSTOMERS", 0)
    _check(conn, db_path, clock, tmp_path)  # and in two processes (each measures its half)
    assert calls == [1, 1, 1, 1]
    with write_tx(conn):  # a build: SQLite cannot sum it, no widths kept either
        aging_order.fill(conn)
    assert aging_order.state(conn) is not None and not aging_widths.kept(conn)
    _check(conn, db_path, clock, tmp_path)
    assert len(calls) == 5


def test_a_database_with_the_ordered_table_gets_its_widths_from_the_migration(
    conn: sqlite3.Connection,
    db_path: Path,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build(conn, 49, customers=30)
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"
    kept = aging_widths.stored(conn)
    with write_tx(conn):  # as m021 finds it
        conn.execute("DROP TABLE aging_widths")
        conn.execute(f"DELETE FROM {MIGRATIONS_TABLE} WHERE name = 'm021_aging_widths'")
    assert migrate(conn) == ["m021_aging_widths"]
    assert aging_widths.stored(conn) == kept
    _no_spill(monkeypatch)
    _check(conn, db_path, clock, tmp_path)


@pytest.mark.parametrize("kept", [True, False])
def test_the_csv_in_two_processes_takes_its_totals_from_the_kept_sums(
    conn: sqlite3.Connection,
    db_path: Path,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kept: bool,
) -> None:
    build(conn, 50, customers=40)
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"
    ids = _ids(conn)
    with write_tx(conn):  # a dirty customer: its old row out of the sums, its new one in
        _invoice(conn, ids[2], 55_555_555, "EUR")
        _invoice(conn, ids[3], 1_000, "JPY")  # a currency no clean row has
    if not kept:
        monkeypatch.setenv("DUNNING_AGING_WIDTHS", "0")
    calls: list[int] = []
    real = aging_out._add_sums
    monkeypatch.setattr(aging_out, "_add_sums", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(aging_split, "MIN_CUSTOMERS", 0)
    out = tmp_path / "a.csv"
    run(db_path, clock, "--format", "csv", "-o", str(out))
    assert out.read_bytes() == reference_csv(reference_rows(conn, TODAY, "customer"), "customer")
    assert bool(calls) is not kept  # summed a row at a time only when not kept
