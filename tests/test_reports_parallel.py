"""The aging split over two processes gives the rows the one-connection scan gives, and
both give what the aging gave before it was split (the reference SQL below), to the cent
and in the same order."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from dunning.db import reports
from dunning.db import reports_parallel as parallel
from dunning.db.connection import connect, write_tx
from dunning.demo import build_demo

AS_OF = date(2026, 11, 23)
NOW = "2026-11-23T15:00:00Z"
NEVER = 10**12  # parallel_min: always one connection
ALWAYS = 0  # parallel_min: always split

# --- the aging before the split (the commit before it), kept as the reference ------------
# (buckets undisputed since dunning/owed.py: the disputed amount is its own column)
REF_GROUPS = """
    SELECT customer_id, currency,
           SUM(CASE WHEN open_minor > 0 AND NOT disputed AND due_date >= :b1
                    THEN open_minor ELSE 0 END) AS b0,
           SUM(CASE WHEN open_minor > 0 AND NOT disputed AND due_date < :b1
                    AND due_date >= :b2 THEN open_minor ELSE 0 END) AS b1,
           SUM(CASE WHEN open_minor > 0 AND NOT disputed AND due_date < :b2
                    AND due_date >= :b3 THEN open_minor ELSE 0 END) AS b2,
           SUM(CASE WHEN open_minor > 0 AND NOT disputed AND due_date < :b3
                    AND due_date >= :b4 THEN open_minor ELSE 0 END) AS b3,
           SUM(CASE WHEN open_minor > 0 AND NOT disputed AND due_date < :b4
                    AND due_date >= :b5 THEN open_minor ELSE 0 END) AS b4,
           SUM(CASE WHEN open_minor > 0 AND NOT disputed AND due_date < :b5
                    THEN open_minor ELSE 0 END) AS b5,
           SUM(CASE WHEN open_minor < 0 THEN open_minor ELSE 0 END) AS cr,
           SUM(CASE WHEN open_minor > 0 THEN disputed * open_minor ELSE 0 END) AS dp
    FROM invoices WHERE status = 'open' AND open_minor != 0
    GROUP BY customer_id, currency
"""
REF_CUSTOMER = """WITH u AS (
    SELECT customer_id, currency, -SUM(amount_minor) AS cash FROM payments
    WHERE invoice_id IS NULL GROUP BY customer_id, currency
), m AS (
    SELECT a.customer_id, a.currency, a.b0, a.b1, a.b2, a.b3, a.b4, a.b5,
           a.cr + COALESCE(u.cash, 0) AS cr, a.dp
    FROM (""" + REF_GROUPS + """) a LEFT JOIN u ON u.customer_id = a.customer_id
                                        AND u.currency = a.currency
    UNION ALL
    SELECT u.customer_id, u.currency, 0, 0, 0, 0, 0, 0, u.cash, 0 FROM u
    WHERE NOT EXISTS (SELECT 1 FROM invoices i WHERE i.customer_id = u.customer_id
                      AND i.currency = u.currency AND i.status = 'open'
                      AND i.open_minor != 0)
)
SELECT c.external_ref, c.name, COALESCE(co.username, '(unassigned)'), m.currency,
       m.b0, m.b1, m.b2, m.b3, m.b4, m.b5, m.cr, m.dp
FROM m JOIN customers c ON c.id = m.customer_id
LEFT JOIN queue q ON q.customer_id = m.customer_id
LEFT JOIN collectors co ON co.id = q.collector_id
ORDER BY m.b0 + m.b1 + m.b2 + m.b3 + m.b4 + m.b5 + m.cr + m.dp DESC, c.external_ref,
         m.currency
"""  # fmt: skip


def _ref_collector(by_customer: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """By collector is by customer summed per collector and currency (a customer row
    counts one customer)."""
    sums: dict[tuple[str, str], list[int]] = {}
    for _, _, who, cur, *values in by_customer:
        t = sums.setdefault((who, cur), [0] * 9)
        for n, v in enumerate([*values, 1]):
            t[n] += v
    order = sorted(sums, key=lambda k: (k[0] == reports.UNASSIGNED, k))
    return [(who, cur, *sums[(who, cur)]) for who, cur in order]


def _params(as_of: date) -> dict[str, str]:
    return {f"b{n}": (as_of - timedelta(days=d)).isoformat()
            for n, d in enumerate((0, 30, 60, 90, 120), start=1)}  # fmt: skip


def _rows(report: reports.AgingReport) -> list[tuple[Any, ...]]:
    return [(r.key, r.name, r.collector, r.currency, *r.buckets, r.credits, r.disputed,
             r.customers) for r in [*report.rows, *report.totals]]  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 demo customers, plus the awkward cases: one customer in two currencies with
    equal totals, unapplied cash where no invoice is open, unassigned accounts, totals of 0
    and open invoices at 0."""
    path = tmp_path_factory.mktemp("aging") / "demo.db"
    build_demo(path, customers=300, seed=3)
    conn = connect(path)
    with write_tx(conn):
        conn.execute("UPDATE queue SET collector_id = NULL WHERE customer_id % 7 = 0")
        for n, (cid, cur, due, amount, open_) in enumerate([
            (5, "CAD", "2026-11-01", 12345, 12345), (5, "USD", "2026-11-01", 12345, 12345),
            (9, "JPY", "2026-01-01", 500, 0), (11, "USD", "2026-10-01", 700, -700),
            (12, "SEK", "2026-10-01", 700, 700), (12, "SEK", "2025-10-01", 700, -700),
            (13, "SEK", "2026-11-23", 300, 300), (13, "SEK", "2026-07-01", 300, -300),
        ]):  # fmt: skip
            conn.execute(
                "INSERT INTO invoices (customer_id, number, issue_date, due_date, amount_minor,"
                " open_minor, currency, status, disputed, created_at, updated_at) VALUES "
                "(?, ?, '2025-01-01', ?, ?, ?, ?, 'open', ?, ?, ?)",
                (cid, f"EDGE{n}", due, amount, open_, cur, n % 2, NOW, NOW),
            )
        for cid, cur, amount in [(20, "CHF", 999), (21, "USD", 1), (299, "GBP", 42)]:
            conn.execute(
                "INSERT INTO payments (customer_id, amount_minor, currency, paid_on, "
                "created_at) VALUES (?, ?, ?, '2026-11-01', ?)",
                (cid, amount, cur, NOW),
            )
    conn.close()
    return path


@pytest.fixture
def db(demo: Path) -> Iterator[sqlite3.Connection]:
    conn = connect(demo, readonly=True)
    yield conn
    conn.close()


@pytest.mark.parametrize("as_of", [AS_OF, date(2026, 3, 1), date(2027, 6, 30)])
def test_split_equals_one_connection_equals_the_reference(
    db: sqlite3.Connection, as_of: date, monkeypatch: pytest.MonkeyPatch
) -> None:
    splits: list[object] = []
    real = parallel.split_scan

    def spy(*args: Any) -> object:
        splits.append(out := real(*args))
        return out

    monkeypatch.setattr(parallel, "split_scan", spy)
    p = _params(as_of)
    ref_customer = [tuple(r) for r in db.execute(REF_CUSTOMER, p)]
    ref_collector = _ref_collector(ref_customer)
    for by, ref in (("customer", ref_customer), ("collector", ref_collector)):
        one = reports.aging(db, as_of, by=by, parallel_min=NEVER)
        two = reports.aging(db, as_of, by=by, parallel_min=ALWAYS)
        assert _rows(one) == _rows(two)
        assert _nonzero({t.currency: t.total for t in one.totals}) == _nonzero(
            reports.ledger_total(db)
        )
        if by == "customer":
            got = [(r.key, r.name, r.collector, r.currency, *r.buckets, r.credits, r.disputed)
                   for r in one.rows]  # fmt: skip
            assert got == ref
        else:
            got = [(r.key, r.currency, *r.buckets, r.credits, r.disputed, r.customers)
                   for r in one.rows]  # fmt: skip
            assert got == ref
    assert len(splits) == 2 and all(s is not None for s in splits)  # really split, twice


def test_the_edge_cases_are_there(db: sqlite3.Connection) -> None:
    rows = reports.aging(db, AS_OF, parallel_min=ALWAYS).rows
    five = [r for r in rows if r.key == rows[0].key or r.total == 12345]
    assert {(r.currency, r.total) for r in five} >= {("CAD", 12345), ("USD", 12345)}
    assert any(r.currency == "CHF" and r.buckets == [0] * 6 and r.credits == -999 for r in rows)
    assert any(r.collector == reports.UNASSIGNED for r in rows)
    assert [r.key for r in rows if r.currency == "SEK"] == sorted(
        {r.key for r in rows if r.currency == "SEK"}
    )
    assert sum(r.total == 0 for r in rows) >= 2


def test_a_write_between_the_two_snapshots_falls_back_to_one_connection(
    demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "copy.db"
    src = sqlite3.connect(demo)
    src.backup(dst := sqlite3.connect(copy))
    src.close()
    dst.close()
    conn = connect(copy)
    real_begin = parallel.begin_snapshot
    wrote: list[int] = []

    def begin_then_write(c: sqlite3.Connection) -> None:
        real_begin(c)
        if not wrote:  # a collector's payment lands after our snapshot, before the worker's
            with write_tx(conn):
                conn.execute(
                    "INSERT INTO payments (customer_id, amount_minor, currency, paid_on, "
                    "created_at) VALUES (1, 100000, 'USD', '2026-11-22', ?)", (NOW,),
                )  # fmt: skip
            wrote.append(1)

    monkeypatch.setattr(parallel, "begin_snapshot", begin_then_write)
    assert parallel.split_scan(str(copy), "customer", _params(AS_OF), 150) is None
    report = reports.aging(conn, AS_OF, parallel_min=ALWAYS)
    assert _nonzero({t.currency: t.total for t in report.totals}) == _nonzero(
        reports.ledger_total(conn)
    )
    monkeypatch.undo()
    assert _rows(report) == _rows(reports.aging(conn, AS_OF, parallel_min=NEVER))
    conn.close()


def test_no_split_inside_a_transaction_or_in_memory_or_for_some_ids(
    db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: object) -> None:
        raise AssertionError("split")

    monkeypatch.setattr(parallel, "split_scan", fail)
    db.execute("BEGIN")
    reports.aging(db, AS_OF, parallel_min=ALWAYS)
    db.execute("COMMIT")
    reports.aging(db, AS_OF, customer_ids=[1, 2, 3], parallel_min=ALWAYS)
    mem = sqlite3.connect(":memory:")
    src = sqlite3.connect(db.execute("PRAGMA database_list").fetchone()[2])
    src.backup(mem)
    src.close()
    assert reports.aging(mem, AS_OF, parallel_min=ALWAYS).rows


def _nonzero(totals: dict[str, int]) -> dict[str, int]:
    return {cur: v for cur, v in totals.items() if v}  # an open invoice at 0 ages nowhere
