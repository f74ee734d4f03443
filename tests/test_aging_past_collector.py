"""The aging of a past date by collector as the base (the ledger as loaded, aged on the
date) plus the correction for what changed after it (dunning/db/past_collector.py):
the same rows as the slow reference of tests/test_aging_reference.py, computed in one
process or in two (the base by a second process), on real SQLite files."""

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
    run,
)

from dunning.clock import FixedClock
from dunning.db import past_collector
from dunning.db import reports_past as past
from dunning.db.connection import write_tx

DATES = [TODAY - timedelta(days=1), TODAY - timedelta(days=30), date(2026, 9, 30),
         date(2026, 6, 30)]  # fmt: skip


@pytest.mark.parametrize(("seed", "two"), [(11, False), (12, True), (13, True)])
def test_past_by_collector_equals_the_reference(
    conn: sqlite3.Connection,
    db_path: Path,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    seed: int,
    two: bool,
) -> None:
    """Random ledgers (partial payments, payments dated before their invoice's issue,
    credit notes, disputes, four currencies, unapplied cash, balances the ERP changed
    after the date), in one process or with the base computed by a second one."""
    monkeypatch.setattr(past, "use_delta", lambda conn, as_of: True)
    if two:
        monkeypatch.setattr(past_collector, "PARALLEL_MIN_INVOICES", 0)
    calls: list[bool] = []
    real = past_collector._two_processes

    def counted(*args: object) -> object:
        result = real(*args)  # type: ignore[arg-type]
        calls.append(result is not None)  # the second process's base was used
        return result

    monkeypatch.setattr(past_collector, "_two_processes", counted)
    build(conn, seed)
    for as_of in DATES:
        want = reference_rows(conn, as_of, "collector")
        assert product_rows(conn, as_of, "collector") == want, as_of
        out = tmp_path / f"c-{as_of}.csv"
        run(db_path, clock, "--by", "collector", "--as-of", as_of.isoformat(), "--format",
            "csv", "-o", str(out))  # fmt: skip
        assert out.read_bytes() == reference_csv(want, "collector"), as_of
    assert calls == ([True] * len(DATES) * 2 if two else [])


def _ledger(conn: sqlite3.Connection) -> None:
    """Hand-made cases around the date 2026-10-24 (30 days before TODAY)."""
    now = "2026-11-23T15:00:00Z"
    with write_tx(conn):
        for n, name in enumerate(["ann", "bob", "cy"], start=1):
            conn.execute(
                "INSERT INTO collectors (id, username, display_name, created_at) VALUES (?,?,?,?)",
                (n, name, name, now),
            )
        for cid, who, cur in [(1, 1, "USD"), (2, 1, "USD"), (3, 2, "CAD"), (4, 3, "USD"),
                              (5, None, "EUR"), (6, 2, "USD")]:  # fmt: skip
            conn.execute(
                "INSERT INTO customers (id, external_ref, name, country, currency, created_at, "
                "updated_at) VALUES (?,?,?,?,?,?,?)",
                (cid, f"C{cid}", f"Customer {cid}", "US", cur, now, now),
            )
            conn.execute(
                "INSERT INTO queue (customer_id, collector_id, next_action_at, updated_at) "
                "VALUES (?,?,?,?)",
                (cid, who, now, now),
            )
        inv = [  # id, customer, issue, due, amount, open, currency, status, disputed, updated
            # 1: open then and now, untouched
            (1, 1, "2026-08-01", "2026-08-31", 10_000, 10_000, "USD", "open", 0, "2026-08-01"),
            # 2: issued after the date, open now: nothing on the date (customer 2 only has it)
            (2, 2, "2026-11-01", "2026-12-01", 5_000, 5_000, "USD", "open", 0, "2026-11-01"),
            # 3: paid in full after the date: open then, gone now
            (3, 3, "2026-09-01", "2026-10-01", 7_000, 0, "CAD", "paid", 0, "2026-11-10"),
            # 4: the ERP closed it after the date without a payment
            (4, 4, "2026-07-01", "2026-07-15", 3_000, 0, "USD", "closed", 1, "2026-11-05"),
            # 5: a credit note issued after the date; 6: a credit note open then and now
            (5, 6, "2026-11-02", "2026-11-02", -2_500, -2_500, "USD", "open", 0, "2026-11-02"),
            (6, 6, "2026-05-02", "2026-05-02", -900, -900, "USD", "open", 0, "2026-05-02"),
            # 7: issued after the date, paid by cash received before it (unapplied then)
            (7, 5, "2026-11-03", "2026-12-03", 4_000, 0, "EUR", "paid", 0, "2026-11-03"),
            # 8: partly paid after the date, still open
            (8, 1, "2026-06-01", "2026-07-01", 8_000, 2_000, "USD", "open", 0, "2026-06-01"),
        ]
        for i, cid, issue, due, amount, open_, cur, status, disp, upd in inv:
            conn.execute(
                "INSERT INTO invoices (id, customer_id, number, issue_date, due_date, "
                "amount_minor, open_minor, currency, status, disputed, created_at, updated_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (i, cid, f"I{i}", issue, due, amount, open_, cur, status, disp, now,
                 upd + "T12:00:00Z"),
            )  # fmt: skip
        pays = [  # customer, invoice, amount, currency, paid_on
            (3, 3, 7_000, "CAD", "2026-11-10"),
            (5, 7, 4_000, "EUR", "2026-10-20"),  # before the date, for a later invoice
            (1, 8, 6_000, "USD", "2026-11-15"),
            (4, None, 1_200, "USD", "2026-11-20"),  # unapplied, after the date
            (6, None, 300, "USD", "2026-09-20"),  # unapplied, before the date
            (2, None, 50, "CAD", "2026-10-01"),  # unapplied in another currency
        ]
        for cid, iid, amount, cur, day in pays:
            conn.execute(
                "INSERT INTO payments (customer_id, invoice_id, amount_minor, currency, "
                "paid_on, created_at) VALUES (?,?,?,?,?,?)",
                (cid, iid, amount, cur, day, now),
            )


@pytest.mark.parametrize("two", [False, True])
def test_rows_that_appear_or_vanish_after_the_date(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch, two: bool
) -> None:
    """A customer whose only invoice was issued after the date has no row then; one paid
    or closed after the date has one; cash received before an invoice was issued is
    unapplied on the date; a collector with no row on the date has no line."""
    monkeypatch.setattr(past, "use_delta", lambda conn, as_of: True)
    if two:
        monkeypatch.setattr(past_collector, "PARALLEL_MIN_INVOICES", 0)
    _ledger(conn)
    for as_of in [date(2026, 10, 24), date(2026, 11, 4), date(2026, 6, 15),
                  date(2026, 1, 1), TODAY - timedelta(days=1)]:  # fmt: skip
        assert product_rows(conn, as_of, "collector") == reference_rows(conn, as_of, "collector"), (
            as_of
        )
    rows = product_rows(conn, date(2026, 1, 1), "collector")
    assert rows == []  # nothing was issued yet


def test_without_the_second_process_the_report_is_computed_here(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The two-process path refused (a commit between the two snapshots, or the worker
    failed): the base and the correction are computed here, in one read transaction."""
    monkeypatch.setattr(past, "use_delta", lambda conn, as_of: True)
    monkeypatch.setattr(past_collector, "PARALLEL_MIN_INVOICES", 0)
    monkeypatch.setattr(past_collector, "_two_processes", lambda path, params: None)
    _ledger(conn)
    as_of = date(2026, 10, 24)
    assert product_rows(conn, as_of, "collector") == reference_rows(conn, as_of, "collector")
