"""Today's aging lines made by SQLite (dunning/db/aging_lines.py): ``aging_out.chunks``
over aging_order gives the reference's lines, and its TOTAL lines taken from the sums
kept beside the table equal the lines summed row by row, with dirty customers (new
invoices, a rename), a currency no clean row has, and a report date the snapshot's rows
are shifted to."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from test_aging_reference import TODAY, build, reference_csv, reference_rows, run
from test_aging_widths import _ids, _invoice

from dunning.clock import FixedClock
from dunning.db import aging_lines, aging_out, aging_snapshot, aging_split
from dunning.db.connection import write_tx


@pytest.fixture(autouse=True)
def _far_shifts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aging_snapshot, "MAX_SHIFT_DAYS", 60)


def _lines(conn: sqlite3.Connection, as_of: date) -> list[list[Any]]:
    return [list(line) for lines in aging_out.chunks(conn, as_of, as_of) for line in lines]


def _summed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = aging_out._add_sums
    monkeypatch.setattr(aging_out, "_add_sums", lambda *a: calls.append(1) or real(*a))
    return calls


def _dirty(conn: sqlite3.Connection) -> None:
    ids = _ids(conn)
    with write_tx(conn):
        _invoice(conn, ids[2], 55_555_555, "EUR")
        _invoice(conn, ids[3], 1_000, "JPY")
        _invoice(conn, ids[4], 2**53 + 7, "USD")  # beyond a float's exact integers
        conn.execute("UPDATE customers SET name = 'Renamed' WHERE id = ?", (ids[5],))


@pytest.mark.parametrize("days", [0, 3, 20])
@pytest.mark.parametrize("dirty", [False, True])
def test_lines_and_kept_totals_equal_the_reference(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch, days: int, dirty: bool
) -> None:
    build(conn, 11, customers=50)
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"
    if dirty:
        _dirty(conn)
    as_of = TODAY + timedelta(days=days)
    want = reference_rows(conn, as_of, "customer")
    calls = _summed(monkeypatch)
    assert _lines(conn, as_of) == want
    assert calls == []  # the totals from the kept sums: no row summed
    monkeypatch.setenv("DUNNING_AGING_WIDTHS", "0")  # the rows summed instead
    assert _lines(conn, as_of) == want
    assert calls


def test_a_sum_the_kept_table_cannot_hold_falls_back_to_summing(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(conn, 12, customers=30)
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"
    ids = _ids(conn)
    with write_tx(conn):  # two dirty rows whose sum is beyond 64 bits
        _invoice(conn, ids[0], 2**62, "USD")
        _invoice(conn, ids[1], 2**62, "USD")
    with aging_snapshot.read_tx(conn):
        plan = aging_lines.statement(conn, TODAY, aging_lines.row_cols(lambda c: c))
        assert plan is not None
        assert aging_lines.kept_sums(conn, *plan) is None
    calls = _summed(monkeypatch)
    assert _lines(conn, TODAY) == reference_rows(conn, TODAY, "customer")
    assert calls


def test_lines_without_the_ordered_table_are_the_same(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(conn, 13, customers=40)
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"
    _dirty(conn)
    want = _lines(conn, TODAY)
    monkeypatch.setenv("DUNNING_AGING_ORDER", "0")  # the snapshot sorted, tuples shaped here
    assert _lines(conn, TODAY) == want == reference_rows(conn, TODAY, "customer")


def _hostile(conn: sqlite3.Connection) -> None:
    """Collectors whose names csv.writer quotes or csvsafe neutralizes, and a reference
    with a NUL and another with a formula start (the names come from build's NAMES)."""
    ids = _ids(conn)
    with write_tx(conn):
        for n, user in enumerate(["=cmd|calc", 'a,b "q"']):
            cid = conn.execute(
                "INSERT INTO collectors (username, display_name, created_at) VALUES (?,?,?)",
                (user, user, "2026-11-23T15:00:00Z"),
            ).lastrowid
            conn.execute(
                "UPDATE queue SET collector_id = ? WHERE customer_id IN (?, ?)",
                (cid, ids[10 + 2 * n], ids[11 + 2 * n]),
            )
        up = "UPDATE customers SET external_ref = ? WHERE id = ?"
        conn.execute(up, ("N\x00UL", ids[6]))
        conn.execute(up, ("-cmd", ids[7]))


@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("days", [0, 3])
def test_csv_with_hostile_names_and_collectors_equals_the_reference(
    conn: sqlite3.Connection,
    db_path: Path,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    split: bool,
    days: int,
) -> None:
    build(conn, 14, customers=60)
    _hostile(conn)
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"
    _dirty(conn)
    with write_tx(conn):  # a dirty customer with a hostile name
        conn.execute("UPDATE customers SET name = '@SUM(1)' WHERE id = ?", (_ids(conn)[8],))
    if split:
        monkeypatch.setattr(aging_split, "MIN_CUSTOMERS", 0)
    as_of = TODAY + timedelta(days=days)
    clock.advance(days=days)
    out = tmp_path / "a.csv"
    run(db_path, clock, "--format", "csv", "-o", str(out))
    assert out.read_bytes() == reference_csv(reference_rows(conn, as_of, "customer"), "customer")


def test_collector_names_by_lookup_when_there_are_many(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(conn, 15, customers=40)
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"
    monkeypatch.setattr(aging_lines, "CASE_MAX", 0)  # a lookup by id, not a CASE
    assert _lines(conn, TODAY) == reference_rows(conn, TODAY, "customer")
