"""The aging CSV written by two processes (dunning/db/aging_split.py) has exactly the
bytes of the reference, wherever the pivot falls (ties included), falls back to one
process when the second cannot start, and leaves no file when interrupted or when the
second process fails."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
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

from dunning.cli import main
from dunning.clock import FixedClock
from dunning.db import aging_out, aging_split
from dunning.db.connection import write_tx


@pytest.fixture
def used(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """One entry each time the worker's half came back (CSV: its sums; table: its state)."""
    seen: list[bool] = []
    result, get = aging_split._result, aging_split._get

    def spy_result(proc: Any) -> Any:
        out = result(proc)
        seen.append(out is not None)
        return out

    def spy_get(stream: Any) -> Any:
        out = get(stream)
        seen.append(True)
        return out

    monkeypatch.setattr(aging_split, "_result", spy_result)
    monkeypatch.setattr(aging_split, "_get", spy_get)
    return seen


@pytest.fixture
def split(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The split applies whatever the ledger's size; the list records each result."""
    monkeypatch.setattr(aging_split, "MIN_CUSTOMERS", 0)
    results: list[Any] = []
    real = aging_split.write_csv

    def spy(*args: Any) -> Any:
        results.append(real(*args))
        return results[-1]

    monkeypatch.setattr(aging_split, "write_csv", spy)
    return results


def _ties(conn: sqlite3.Connection) -> None:
    """Customers with the same total (one open invoice of 10.00 USD each)."""
    now = "2026-11-23T15:00:00Z"
    with write_tx(conn):
        for n in range(12):
            cid = conn.execute(
                "INSERT INTO customers (external_ref, name, country, currency, created_at, "
                "updated_at) VALUES (?,?,?,?,?,?)",
                (f"T{(n * 7) % 12:02d}", f"Tie {n}", "US", "USD", now, now),
            ).lastrowid
            conn.execute(
                "INSERT INTO invoices (customer_id, number, issue_date, due_date, amount_minor,"
                " open_minor, currency, status, disputed, created_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (cid, f"TIE{n}", "2026-09-01", "2026-10-01", 1000, 1000, "USD", "open", 0,
                 now, now),
            )  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_split_csv_equals_the_reference(
    conn: sqlite3.Connection,
    db_path: Path,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    split: list[Any],
    used: list[bool],
    seed: int,
) -> None:
    build(conn, seed, customers=150)
    _ties(conn)
    monkeypatch.setattr(aging_out, "CHUNK", 7)
    for as_of in (TODAY, TODAY + timedelta(days=40)):
        want = reference_csv(reference_rows(conn, as_of, "customer"), "customer")
        argv = ["--as-of", as_of.isoformat()] if as_of != TODAY else []
        out = tmp_path / f"a-{as_of}.csv"
        run(db_path, clock, *argv, "--format", "csv", "-o", str(out))
        assert split[-1] is not None and used[-1]  # written by two processes
        assert out.read_bytes() == want, as_of


def test_the_pivot_may_fall_on_any_row(
    conn: sqlite3.Connection,
    db_path: Path,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    split: list[Any],
) -> None:
    """The first, a tied, the last row, or a key that is no row: the same bytes."""
    build(conn, 4, customers=60)
    _ties(conn)
    want = reference_csv(reference_rows(conn, TODAY, "customer"), "customer")
    keys = [row[:3] for b in aging_out._batches(conn, TODAY, TODAY) for row in b]
    tied = [k for k in keys if k[1].startswith("T")]
    for pivot in (keys[0], tied[0], tied[5], tied[-1], keys[-1], (-(10**15), "", ""),
                  (10**15, "", ""), (tied[3][0], "T05~", "")):  # fmt: skip
        monkeypatch.setattr(aging_split, "_pivot", lambda conn, bounds, p=pivot: p)
        out = tmp_path / "a.csv"
        run(db_path, clock, "--format", "csv", "-o", str(out))
        assert split[-1] is not None
        assert out.read_bytes() == want, pivot


def test_no_second_process_or_a_failed_one_this_one_writes_both_halves(
    conn: sqlite3.Connection,
    db_path: Path,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    split: list[Any],
) -> None:
    build(conn, 5, customers=60)
    want = reference_csv(reference_rows(conn, TODAY, "customer"), "customer")
    out = tmp_path / "a.csv"
    with monkeypatch.context() as m:  # cannot start
        m.setattr(aging_split, "sys", SimpleNamespace(executable="/nonexistent/python"))
        run(db_path, clock, "--format", "csv", "-o", str(out))
    assert split[-1] is not None
    assert out.read_bytes() == want
    with monkeypatch.context() as m:  # starts, exits at once
        m.setattr(aging_split, "sys", SimpleNamespace(executable="/bin/false"))
        run(db_path, clock, "--format", "csv", "-o", str(out))
    assert out.read_bytes() == want
    send = aging_split._send
    with monkeypatch.context() as m:  # its statement fails once its snapshot is taken
        m.setattr(aging_split, "_send", lambda proc, job: send(proc, job | {"sql": "SELECT x"}))
        run(db_path, clock, "--format", "csv", "-o", str(out))
    assert out.read_bytes() == want


def test_a_write_between_the_two_snapshots_one_snapshot_is_read(
    conn: sqlite3.Connection,
    db_path: Path,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    split: list[Any],
) -> None:
    """A commit after the worker's snapshot and before this process's: the worker's
    half is not used; the whole report is the later state."""
    build(conn, 7, customers=60)
    real = aging_split.parallel.begin_snapshot

    def commit_then_begin(own: sqlite3.Connection) -> None:
        with write_tx(conn):
            conn.execute(
                "UPDATE invoices SET open_minor = open_minor + 100000000"
                " WHERE id = (SELECT MIN(id) FROM invoices WHERE status = 'open')"
            )
        real(own)

    fake = SimpleNamespace(CUSTOMER_SQL=aging_split.parallel.CUSTOMER_SQL,
                           begin_snapshot=commit_then_begin)  # fmt: skip
    monkeypatch.setattr(aging_split, "parallel", fake)
    out = tmp_path / "a.csv"
    run(db_path, clock, "--format", "csv", "-o", str(out))
    assert split[-1] is not None
    assert out.read_bytes() == reference_csv(reference_rows(conn, TODAY, "customer"), "customer")


def test_an_interrupt_leaves_no_file(
    conn: sqlite3.Connection,
    db_path: Path,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    split: list[Any],
) -> None:
    build(conn, 6, customers=60)
    out = tmp_path / "out" / "aging.csv"
    out.parent.mkdir()
    argv = ["--db", str(db_path), "report", "aging", "--format", "csv", "-o", str(out)]
    monkeypatch.setattr(aging_out, "CHUNK", 3)
    calls = []
    csv_batch = aging_out._csv_batch

    def interrupted(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return csv_batch(*args)

    monkeypatch.setattr(aging_out, "_csv_batch", interrupted)
    assert main(argv, clock=clock) == 130
    assert len(calls) == 2
    assert list(out.parent.iterdir()) == []


def _table(conn: sqlite3.Connection, as_of: Any = TODAY) -> str:
    rows = reference_rows(conn, as_of, "customer")
    return reference_table(rows, "customer", f"Aging as of {as_of}")


@pytest.mark.parametrize("seed", [1, 2])
def test_the_split_table_equals_the_reference_wherever_the_pivot_falls(
    conn: sqlite3.Connection,
    db_path: Path,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    used: list[bool],
    seed: int,
) -> None:
    monkeypatch.setattr(aging_split, "MIN_CUSTOMERS", 0)
    build(conn, seed, customers=120)
    _ties(conn)
    monkeypatch.setattr(aging_out, "CHUNK", 7)
    out = tmp_path / "a.txt"
    for as_of in (TODAY, TODAY + timedelta(days=40)):
        argv = ["--as-of", as_of.isoformat()] if as_of != TODAY else []
        run(db_path, clock, *argv, "--format", "table", "-o", str(out))
        assert out.read_text(encoding="utf-8") == _table(conn, as_of), as_of
        assert used == [True]  # the worker's state came back
        used.clear()
    want = _table(conn)
    keys = [row[:3] for b in aging_out._batches(conn, TODAY, TODAY) for row in b]
    tied = [k for k in keys if k[1].startswith("T")]
    real = aging_split.write_table
    got: list[Any] = []

    def spy(*args: Any) -> Any:
        got.append(real(*args))
        return got[-1]

    monkeypatch.setattr(aging_split, "write_table", spy)
    for pivot in (keys[0], tied[4], keys[-1], (-(10**15), "", ""), (10**15, "", "")):
        monkeypatch.setattr(aging_split, "_pivot", lambda conn, bounds, p=pivot: p)
        run(db_path, clock, "--format", "table", "-o", str(out))
        assert got[-1] is not None
        assert out.read_text(encoding="utf-8") == want, pivot


def test_the_split_table_when_the_second_process_fails_or_a_write_lands(
    conn: sqlite3.Connection,
    db_path: Path,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(aging_split, "MIN_CUSTOMERS", 0)
    build(conn, 8, customers=70)
    want = _table(conn)
    out = tmp_path / "a.txt"
    put, send = aging_split._put, aging_split._send
    breaks = [
        ("sys", SimpleNamespace(executable="/nonexistent/python")),  # cannot start
        ("sys", SimpleNamespace(executable="/bin/false")),  # exits at once
        # its statement fails once its snapshot is taken
        ("_send", lambda proc, job, close=True: send(proc, job | {"sql": "SELECT x"}, close)),
        # it fails in pass two, after its state was read
        ("_put", lambda s, v: put(s, None if isinstance(v, dict) and "formats" in v else v)),
    ]
    for name, fake in breaks:
        with monkeypatch.context() as m:
            m.setattr(aging_split, name, fake)
            run(db_path, clock, "--format", "table", "-o", str(out))
        assert out.read_text(encoding="utf-8") == want, name
    real = aging_split.parallel.begin_snapshot

    def commit_then_begin(own: sqlite3.Connection) -> None:
        with write_tx(conn):
            conn.execute(
                "UPDATE invoices SET open_minor = open_minor + 100000000"
                " WHERE id = (SELECT MIN(id) FROM invoices WHERE status = 'open')"
            )
        real(own)

    fake = SimpleNamespace(CUSTOMER_SQL=aging_split.parallel.CUSTOMER_SQL,
                           begin_snapshot=commit_then_begin)  # fmt: skip
    monkeypatch.setattr(aging_split, "parallel", fake)
    run(db_path, clock, "--format", "table", "-o", str(out))
    assert out.read_text(encoding="utf-8") == _table(conn)
    monkeypatch.undo()
    monkeypatch.setattr(aging_split, "MIN_CUSTOMERS", 0)
    monkeypatch.setattr(aging_out, "CHUNK", 3)
    calls = []
    lines = aging_out.write_lines

    def interrupted(*args: Any) -> Any:
        calls.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(aging_out, "write_lines", interrupted)
    out.unlink()
    argv = ["--db", str(db_path), "report", "aging", "--format", "table", "-o", str(out)]
    assert main(argv, clock=clock) == 130
    assert calls and lines is not None
    assert list(tmp_path.glob("a.txt*")) == []
