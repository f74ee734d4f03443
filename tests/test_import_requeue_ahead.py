"""The queue rows of a file's new customers, read and scored by a helper process while
the import writes the chunk before (dunning/db/ledger/requeue_ahead.py): the queue ends
exactly as the writer alone leaves it; a commit by another connection after the helper
was asked makes the writer read the rest itself (so that commit is in the rows); a helper
that fails changes nothing but the speed."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from test_ledger_support import INVOICE_HEADER, load, write_csv

from dunning.db.connection import connect, write_tx
from dunning.db.ledger import requeue, requeue_ahead
from dunning.db.schema import migrate

HEADER = [*INVOICE_HEADER, "currency", "disputed"]


def _rows(customers: int) -> list[list[object]]:
    out: list[list[object]] = []
    for c in range(customers):
        for n in range(c % 4 + 1):
            amount = 100 + 37 * c + 11 * n
            due = f"2026-{8 + (c + n) % 4:02d}-{1 + (c * 7 + n) % 27:02d}"
            issue = f"2026-0{7 if (c + n) % 4 else 6}-01"
            open_ = "0" if (c + n) % 5 == 0 else f"{amount / 2:.2f}"
            if c % 7 == 3 and n == 0:  # a credit note
                amount, open_ = -amount, f"{-amount:.2f}"
            cur = "EUR" if c % 9 == 0 else "USD"
            out.append([f"K{c:04d}", f"Kunde {c}", f"I{c}-{n}", issue, due, f"{amount:.2f}",
                        open_, cur, "yes" if c % 11 == 5 else ""])  # fmt: skip
    return out


def _db(path: Path) -> sqlite3.Connection:
    c = connect(path)
    migrate(c)
    return c


def _queue(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute("SELECT * FROM queue ORDER BY customer_id")]


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Chunks of 5 accounts; the helper from 2 chunks on; how many chunks it served."""
    monkeypatch.setattr(requeue, "REFRESH_CHUNK", 5)
    monkeypatch.setattr(requeue_ahead, "AHEAD_FROM", 2)
    served: list[int] = []
    take = requeue_ahead.Ahead.take

    def counted(self: requeue_ahead.Ahead, conn: sqlite3.Connection, k: int) -> Any:
        rows = take(self, conn, k)
        served.append(int(rows is not None))
        return rows

    monkeypatch.setattr(requeue_ahead.Ahead, "take", counted)
    return served


def _alone(tmp_path: Path, csv: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    with monkeypatch.context() as m:
        m.setattr(requeue_ahead.Ahead, "start", classmethod(lambda cls, *a: None))
        c = _db(tmp_path / "alone.db")
        try:
            assert load(c, csv, "invoices", create_customers=True).written
            return _queue(c)
        finally:
            c.close()


def test_the_helpers_rows_are_the_writers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_chunks: list[int]
) -> None:
    csv = write_csv(tmp_path / "f.csv", [HEADER, *_rows(43)])
    expected = _alone(tmp_path, csv, monkeypatch)
    c = _db(tmp_path / "ahead.db")
    try:
        r = load(c, csv, "invoices", create_customers=True)
        assert r.written and r.customers_created == 43
        assert _queue(c) == expected
    finally:
        c.close()
    assert len(small_chunks) == 9 and all(small_chunks)  # every chunk from the helper


def test_a_commit_by_another_connection_makes_the_writer_read_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_chunks: list[int]
) -> None:
    """Cash for a customer of the last chunk is committed by another connection just
    after the helper was asked: every row is then the writer's own, with the cash."""
    csv = write_csv(tmp_path / "f.csv", [HEADER, *_rows(30)])
    db = tmp_path / "ahead.db"
    c = _db(db)
    begin = requeue_ahead.Ahead.start.__func__  # type: ignore[attr-defined]

    def then_pay(cls: type, conn: sqlite3.Connection, *args: Any) -> Any:
        ahead = begin(cls, conn, *args)
        assert ahead is not None
        other = connect(db)
        try:
            with write_tx(other):
                cid = other.execute(
                    "SELECT id FROM customers WHERE external_ref = 'K0029'"
                ).fetchone()[0]
                other.execute(
                    "INSERT INTO payments (customer_id, invoice_id, amount_minor, currency,"
                    " paid_on, created_at) VALUES (?, NULL, 5000, 'USD', '2026-11-01',"
                    " '2026-11-23T10:00:00Z')",
                    (cid,),
                )
        finally:
            other.close()
        return ahead

    monkeypatch.setattr(requeue_ahead.Ahead, "start", classmethod(then_pay))
    try:
        assert load(c, csv, "invoices", create_customers=True).written
        cid = c.execute("SELECT id FROM customers WHERE external_ref = 'K0029'").fetchone()[0]
        unapplied = c.execute(
            "SELECT unapplied_minor FROM queue WHERE customer_id = ?", (cid,)
        ).fetchone()[0]
        assert unapplied == -5000  # read after the commit, by the writer
    finally:
        c.close()
    assert small_chunks and not any(small_chunks)  # the helper's rows were all left


def test_a_helper_that_fails_changes_nothing_but_the_speed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_chunks: list[int]
) -> None:
    csv = write_csv(tmp_path / "f.csv", [HEADER, *_rows(25)])
    expected = _alone(tmp_path, csv, monkeypatch)

    def broken(*args: Any) -> None:
        answers = args[-1]
        answers.send_bytes(b"not marshal")  # garbage, then gone
        answers.close()

    monkeypatch.setattr(requeue_ahead, "_helper", broken)
    c = _db(tmp_path / "ahead.db")
    try:
        assert load(c, csv, "invoices", create_customers=True).written
        assert _queue(c) == expected
    finally:
        c.close()
    assert not any(small_chunks)
