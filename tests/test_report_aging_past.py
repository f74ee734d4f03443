"""The aging of a past date rebuilds the ledger as it stood then, as `report metrics`
rebuilds receivables at a date; the aging of today stays the ledger as loaded."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from test_ledger_support import IBM, cli, invoices_csv, load, write_csv

from dunning.clock import FixedClock
from dunning.db import reports
from dunning.db.connection import connect, open_db
from dunning.db.metrics import metrics
from dunning.demo import build_demo

D = date(2026, 10, 31)  # the past as-of date
TODAY = date(2026, 11, 23)  # the test clock's day


def _rows(report: reports.AgingReport) -> list[tuple[Any, ...]]:
    return [(r.key, r.name, r.collector, r.currency, *r.buckets, r.credits, r.disputed,
             r.customers) for r in [*report.rows, *report.totals]]  # fmt: skip


@pytest.fixture
def history(conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock) -> sqlite3.Connection:
    """C1: A (1,000, due 10-01) paid 400 on 10-15 and 600 on 11-10; B issued 11-05.
    C2: unapplied cash 30 on 10-01, 50 on 11-01. C3: K issued 11-02, paid by a payment of
    10-20 (cash before the invoice). C4: L and M, 300 each with 100 open in the ERP
    extract and no payment; M loaded on 10-10, L today."""
    early = FixedClock(datetime(2026, 10, 10, 12, 0, tzinfo=UTC))
    m_row = [["C4", "Dyn", "M", "2026-09-15", "2026-10-15", "300.00", "100.00"]]
    load(conn, invoices_csv(tmp_path / "m.csv", m_row), "invoices", early, create_customers=True)
    rows = [["C1", "Acme", "A", "2026-09-01", "2026-10-01", "1000.00", ""],
            ["C1", "Acme", "B", "2026-11-05", "2026-12-05", "500.00", ""],
            ["C2", "Bolt", "J", "2026-09-01", "2026-09-30", "0.00", ""],
            ["C3", "Cato", "K", "2026-11-02", "2026-12-02", "200.00", ""],
            ["C4", "Dyn", "L", "2026-09-15", "2026-10-15", "300.00", "100.00"]]  # fmt: skip
    load(conn, invoices_csv(tmp_path / "i.csv", rows), "invoices", clock, create_customers=True)
    pay = [["customer_ref", "amount", "paid_on", "invoice"],
           ["C1", "400.00", "2026-10-15", "A"], ["C1", "600.00", "2026-11-10", "A"],
           ["C2", "30.00", "2026-10-01", ""], ["C2", "50.00", "2026-11-01", ""],
           ["C3", "200.00", "2026-10-20", ""]]  # fmt: skip
    load(conn, write_csv(tmp_path / "p.csv", pay), "payments", clock)
    return conn


def test_a_past_date_rebuilds_the_ledger_as_it_stood(history: sqlite3.Connection) -> None:
    report = reports.aging(history, D, today=TODAY)
    assert report.rebuilt
    got = {r.key: (r.buckets, r.credits) for r in report.rows}
    # A: 1,000 - 400 paid by 10-31 (the 600 of 11-10 is added back), 30 days late; B is
    # not issued yet
    assert got["C1"] == ([0, 60000, 0, 0, 0, 0], 0)
    assert got["C2"] == ([0] * 6, -3000)  # the cash of 11-01 was not received yet
    assert got["C3"] == ([0] * 6, -20000)  # K not issued: its payment was unapplied cash
    # M's 200 left in the ERP before 10-31 (its import, 10-10); L's only today
    assert got["C4"] == ([0, 30000 + 10000, 0, 0, 0, 0], 0)
    totals = {t.currency: t.total for t in report.totals}
    team = next(m for m in metrics(history, date(2026, 10, 1), D).money if m.collector == "TEAM")
    assert totals == {"USD": team.receivables_end} == {"USD": 60000 - 3000 - 20000 + 40000}
    by_collector = reports.aging(history, D, by="collector", today=TODAY)
    assert {t.currency: t.total for t in by_collector.totals} == totals
    assert [r.customers for r in by_collector.rows] == [4]


def test_today_and_later_stay_the_ledger_as_loaded(history: sqlite3.Connection) -> None:
    for as_of in (TODAY, date(2027, 1, 31)):
        now = reports.aging(history, as_of, today=TODAY)
        assert not now.rebuilt
        assert _rows(now) == _rows(reports.aging(history, as_of))
    totals = {t.currency: t.total for t in reports.aging(history, TODAY, today=TODAY).totals}
    assert totals == reports.ledger_total(history)


def test_a_date_before_everything_is_empty_and_never_overflows(
    history: sqlite3.Connection,
) -> None:
    for as_of in (date(1, 1, 1), date(1, 3, 1)):
        report = reports.aging(history, as_of, today=TODAY)
        assert report.rows == [] and report.totals == []
    far = reports.aging(history, date(9999, 12, 31), today=TODAY)
    assert {t.currency: t.total for t in far.totals} == reports.ledger_total(history)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("past") / "demo.db"
    build_demo(path, customers=300, seed=5)
    return path


def test_on_the_demo_ledger_past_equals_loaded_after_the_last_event_and_metrics_before(
    demo: Path,
) -> None:
    conn = connect(demo, readonly=True)
    later = date(2030, 1, 1)  # after every issue, payment and import in the demo
    for by in ("customer", "collector"):
        assert _rows(reports.aging_past(conn, later, by=by)) == _rows(
            reports.aging(conn, later, by=by)
        )
    for end in (date(2026, 6, 30), date(2026, 10, 31), date(2026, 11, 22)):
        past = {t.currency: t.total for t in reports.aging_past(conn, end).totals}
        team = {m.currency: m.receivables_end for m in metrics(conn, date(2026, 1, 1), end).money
                if m.collector == "TEAM"}  # fmt: skip
        assert {c: v for c, v in past.items() if v} == {c: v for c, v in team.items() if v}
        by_collector = reports.aging_past(conn, end, by="collector")
        assert {t.currency: t.total for t in by_collector.totals} == past
    conn.close()


def test_ibm_rebuilt_on_a_date_equals_the_sample_loaded_as_of_that_date(
    tmp_path: Path,
) -> None:
    """The sample loaded as it stood at the end (2014-01-31), aged on 2013-06-30, is the
    sample loaded as it stood on 2013-06-30, aged on that date."""
    if not IBM.exists():
        pytest.skip("../shared/data is absent")
    whole, then = open_db(tmp_path / "whole.db"), open_db(tmp_path / "then.db")
    load(whole, IBM, "invoices", profile="ibm", as_of=date(2014, 1, 31))
    load(then, IBM, "invoices", profile="ibm", as_of=date(2013, 6, 30))
    for by in ("customer", "collector"):
        rebuilt = reports.aging(whole, date(2013, 6, 30), by=by, today=TODAY)
        assert rebuilt.rebuilt and rebuilt.rows
        assert _rows(rebuilt) == _rows(reports.aging(then, date(2013, 6, 30), by=by))
    whole.close()
    then.close()


def test_the_cli_rebuilds_a_past_as_of(
    history: sqlite3.Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    db = Path(history.execute("PRAGMA database_list").fetchone()[2])
    assert cli(db, "report", "aging", "--as-of", "2026-10-31", "--format", "csv") == 0
    lines = capsys.readouterr().out.splitlines()
    # credits, net, disputed, total
    assert "TOTAL,,,USD,0.00,1000.00,0.00,0.00,0.00,0.00,-230.00,770.00,0.00,770.00" in lines
    assert cli(db, "report", "aging", "--format", "csv") == 0  # today: as loaded
    total = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("TOTAL"))
    assert total.split(",")[-1] == f"{reports.ledger_total(history)['USD'] / 100:.2f}"
