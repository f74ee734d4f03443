"""The aging of a past date by collector around the issue date (m020, issue 8): the base
leaves out the invoices issued after the date in the covering index, the correction
reads only the invoices issued by it that changed or were paid after it. Invoices issued
after the date that are open now, closed now, or paid partly before (cash unapplied on
the date) and partly after it; invoices issued by the date paid partly before and partly
after it, with and without a change by an import. Same rows as the slow reference of
tests/test_aging_reference.py, in one process and in two; and the migration."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
import sqlite_utils
from test_aging_reference import TODAY, product_rows, reference_rows

from dunning.db import past_collector
from dunning.db import reports_past as past
from dunning.db.connection import connect, write_tx
from dunning.db.schema import migrate, migrations

DATE = date(2026, 10, 24)
NOW = "2026-11-23T15:00:00Z"


def _ledger(conn: sqlite3.Connection) -> None:
    """One customer per case (ids 1..10), two collectors and a customer with none."""
    with write_tx(conn):
        for n, name in [(1, "ann"), (2, "bob")]:
            conn.execute(
                "INSERT INTO collectors (id, username, display_name, created_at) VALUES (?,?,?,?)",
                (n, name, name, NOW),
            )
        for cid in range(1, 11):
            conn.execute(
                "INSERT INTO customers (id, external_ref, name, country, currency, created_at, "
                "updated_at) VALUES (?,?,?,?,?,?,?)",
                (cid, f"C{cid}", f"Customer {cid}", "US", "USD", NOW, NOW),
            )
            who = None if cid == 10 else 1 + cid % 2
            conn.execute(
                "INSERT INTO queue (customer_id, collector_id, next_action_at, updated_at) "
                "VALUES (?,?,?,?)",
                (cid, who, NOW, NOW),
            )
        inv = [  # id, customer, issue, due, amount, open, status, updated
            # 1: issued after the date, open now (the customer's only invoice): no row then
            (1, 1, "2026-11-01", "2026-12-01", 5_000, 5_000, "open", "2026-11-01"),
            # 2: issued after the date, closed now by the ERP without a payment
            (2, 2, "2026-11-02", "2026-12-02", 6_000, 0, "closed", "2026-11-12"),
            # 3: issued after the date, paid partly before it (unapplied cash then) and
            # partly after, still open
            (3, 3, "2026-11-03", "2026-12-03", 9_000, 4_000, "open", "2026-11-03"),
            # 4: issued after the date, paid partly before it and the rest after: paid now
            (4, 4, "2026-11-04", "2026-12-04", 3_000, 0, "paid", "2026-11-20"),
            # 5: issued by the date, paid partly before and partly after it, still open
            (5, 5, "2026-09-01", "2026-10-01", 10_000, 2_500, "open", "2026-09-01"),
            # 6: the same, paid in full now
            (6, 6, "2026-08-01", "2026-08-31", 8_000, 0, "paid", "2026-11-15"),
            # 7: issued by the date, partly paid before, its amount changed by an import
            # after it (then = amount - paid by then)
            (7, 7, "2026-07-01", "2026-07-31", 7_500, 6_000, "open", "2026-11-18"),
            # 8: issued on the date itself, paid partly after
            (8, 8, "2026-10-24", "2026-11-23", 4_400, 400, "open", "2026-10-24"),
            # 9: issued the day after the date, open: nothing then, beside an untouched one
            (9, 9, "2026-10-25", "2026-11-24", 1_100, 1_100, "open", "2026-10-25"),
            (10, 9, "2026-05-01", "2026-05-31", 2_200, 2_200, "open", "2026-05-01"),
            # 11: a credit note issued after the date for the customer with no collector
            (11, 10, "2026-11-05", "2026-11-05", -700, -700, "open", "2026-11-05"),
            (12, 10, "2026-06-05", "2026-07-05", 1_300, 1_300, "open", "2026-06-05"),
        ]
        for i, cid, issue, due, amount, open_, status, upd in inv:
            conn.execute(
                "INSERT INTO invoices (id, customer_id, number, issue_date, due_date, "
                "amount_minor, open_minor, currency, status, disputed, created_at, updated_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (i, cid, f"I{i}", issue, due, amount, open_, "USD", status, 0, NOW,
                 upd + "T12:00:00Z"),
            )  # fmt: skip
        pays = [  # customer, invoice, amount, paid_on
            (3, 3, 2_000, "2026-10-10"),  # before the date, for a later invoice
            (3, 3, 3_000, "2026-11-10"),
            (4, 4, 1_000, "2026-10-24"),  # on the date, for a later invoice
            (4, 4, 2_000, "2026-11-20"),
            (5, 5, 4_000, "2026-10-01"),
            (5, 5, 3_500, "2026-11-01"),
            (6, 6, 5_000, "2026-09-15"),
            (6, 6, 3_000, "2026-11-15"),
            (7, 7, 1_500, "2026-08-15"),
            (8, 8, 4_000, "2026-11-02"),
        ]
        for cid, iid, amount, day in pays:
            conn.execute(
                "INSERT INTO payments (customer_id, invoice_id, amount_minor, currency, "
                "paid_on, created_at) VALUES (?,?,?,?,?,?)",
                (cid, iid, amount, "USD", day, NOW),
            )


DATES = [DATE, date(2026, 10, 23), date(2026, 10, 25), date(2026, 11, 3), date(2026, 9, 20),
         TODAY]  # fmt: skip


@pytest.mark.parametrize("chunk", [None, 1, 2, 3, 100_000])
def test_invoices_issued_after_the_date(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch, chunk: int | None
) -> None:
    """Each case alone in its customer, so a wrong part shows as a wrong line; in one
    process (None) or with the base in chunks of 1, 2, 3 customer ids shared out between
    the two as they go (or one chunk: the second process computes the whole base)."""
    monkeypatch.setattr(past, "use_delta", lambda conn, as_of: True)
    calls: list[bool] = []
    if chunk is not None:
        monkeypatch.setattr(past_collector, "PARALLEL_MIN_INVOICES", 0)
        monkeypatch.setattr(past_collector, "CHUNK_CUSTOMERS", chunk)
        real = past_collector._two_processes

        def counted(*args: object) -> object:
            result = real(*args)  # type: ignore[arg-type]
            calls.append(result is not None)
            return result

        monkeypatch.setattr(past_collector, "_two_processes", counted)
    _ledger(conn)
    for as_of in DATES:
        want = reference_rows(conn, as_of, "collector")
        assert product_rows(conn, as_of, "collector") == want, as_of
    # TODAY is today's aging, not a past date
    assert calls == ([] if chunk is None else [True] * (len(DATES) - 1))
    on_date = product_rows(conn, DATE, "collector")
    # customers 1, 2 have nothing on the date; 3 and 4 have cash unapplied then; 9 one line
    assert sum(r[1] for r in on_date if r[0] != "TOTAL") == 8


def test_m020_puts_the_issue_date_in_both_indexes_and_the_reports_read_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database with a ledger, stopped before m020, migrates: both indexes hold the
    issue date, the base reads the covering index alone, the changed invoices issued by
    the date are a range of invoices_changed_on, and the report equals the reference."""
    monkeypatch.setattr(past, "use_delta", lambda conn, as_of: True)
    conn = connect(tmp_path / "old.db")
    with write_tx(conn):
        migrations.apply(sqlite_utils.Database(conn), stop_before="m020_aging_past")
    _ledger(conn)
    before = {
        n: s for n, s in conn.execute("SELECT name, sql FROM sqlite_master WHERE type='index'")
    }
    assert "issue_date" not in before["invoices_aging"]
    assert migrate(conn)[0] == "m020_aging_past"  # the later migrations follow it
    after = {
        n: s for n, s in conn.execute("SELECT name, sql FROM sqlite_master WHERE type='index'")
    }
    assert {n for n in after if n.startswith("invoices")} == {
        n for n in before if n.startswith("invoices")
    }
    assert after["invoices_aging"].endswith("disputed, issue_date) WHERE status = 'open'")
    assert after["invoices_changed_on"].endswith(", issue_date)")
    params = {"as_of": DATE.isoformat(), **{f"b{n}": "2026-01-01" for n in range(1, 6)}}
    plan = " | ".join(
        r[3]
        for r in conn.execute(
            "EXPLAIN QUERY PLAN " + past_collector.BOTH_SQL, params | past_collector.ALL_IDS
        )
    )
    # SQLite 3.40 labels a partial index "USING INDEX" even when no table column is read
    # (DeferredSeek): the ranges below are what the index-only reads look like
    assert "invoices USING INDEX invoices_aging (customer_id>? AND customer_id<?)" in plan
    assert plan.count("invoices USING INDEX invoices_changed_on (<expr>>?)") == 2, plan
    assert "SCAN invoices" not in plan, plan
    want = reference_rows(conn, DATE, "collector")
    assert product_rows(conn, DATE, "collector") == want
    conn.close()
