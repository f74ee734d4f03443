"""Aging (buckets at their boundaries, totals equal to the ledger), metrics, exports."""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from test_ledger_support import cli, count, invoices_csv, load, write_csv

from dunning.clock import FixedClock, to_iso
from dunning.db import exports, reports
from dunning.db.connection import write_tx
from dunning.db.metrics import metrics
from dunning.money import minor_digits

AS_OF = date(2026, 11, 23)
# days past due on 2026-11-23: 0, 1, 30, 31, 60, 61, 90, 91, 120, 121 and not yet due
DUES = ["2026-11-23", "2026-11-22", "2026-10-24", "2026-10-23", "2026-09-24", "2026-09-23",
        "2026-08-25", "2026-08-24", "2026-07-26", "2026-07-25", "2026-12-15"]  # fmt: skip


@pytest.fixture
def ledger(conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock) -> sqlite3.Connection:
    rows = [["C1", "Acme", f"I{n}", "2026-01-01", due, f"{n + 1}.00", ""]
            for n, due in enumerate(DUES)]  # fmt: skip
    rows += [["C1", "Acme", "CN", "2026-11-01", "", "-5.00", ""],
             ["C2", "Bolt", "J1", "2026-01-01", "2026-11-01", "1,000.10", "700.10"],
             ["C3", "Euro", "K1", "2026-01-01", "2026-11-01", "10.00", ""]]  # fmt: skip
    load(conn, invoices_csv(tmp_path / "i.csv", rows), "invoices", clock, create_customers=True)
    with write_tx(conn):
        conn.execute("UPDATE customers SET currency = 'EUR' WHERE external_ref = 'C3'")
        conn.execute("UPDATE invoices SET currency = 'EUR' WHERE number = 'K1'")
        conn.execute("UPDATE invoices SET disputed = 1 WHERE number = 'J1'")
        conn.execute(
            "INSERT INTO collectors (username, display_name, created_at) VALUES "
            "('ana', 'Ana', ?)", (to_iso(clock.now()),),
        )  # fmt: skip
        conn.execute(
            "UPDATE queue SET collector_id = (SELECT id FROM collectors) WHERE customer_id = "
            "(SELECT id FROM customers WHERE external_ref = 'C1')"
        )
    pay = [["customer_ref", "amount", "paid_on", "invoice"], ["C2", "750.00", "2026-11-20", "J1"]]
    load(conn, write_csv(tmp_path / "p.csv", pay), "payments", clock)
    return conn


def test_buckets_at_their_boundaries(ledger: sqlite3.Connection) -> None:
    report = reports.aging(ledger, AS_OF)
    c1 = next(r for r in report.rows if r.key == "C1")
    # DUES[n] carries n + 1 dollars: 0 and not-yet-due are current, 1 and 30 are 1-30...
    assert c1.buckets == [100 + 1100, 200 + 300, 400 + 500, 600 + 700, 800 + 900, 1000]
    assert c1.credits == -500 and c1.collector == "ana"


def test_totals_equal_the_ledger_to_the_cent(ledger: sqlite3.Connection) -> None:
    for by in ("customer", "collector"):
        report = reports.aging(ledger, AS_OF, by=by)
        totals = {t.currency: t.total for t in report.totals}
        assert totals == reports.ledger_total(ledger)
        assert totals == {"USD": 6600 - 500 - 4990, "EUR": 1000}
    by_collector = reports.aging(ledger, AS_OF, by="collector").rows
    counts = {(r.key, r.currency): (r.customers, r.total) for r in by_collector}
    assert counts == {
        ("ana", "USD"): (1, 6100), ("(unassigned)", "USD"): (1, -4990),
        ("(unassigned)", "EUR"): (1, 1000),
    }  # fmt: skip
    # J1 (disputed) is paid by reference; the 49.90 over is unapplied cash
    c2 = next(r for r in reports.aging(ledger, AS_OF).rows if r.key == "C2")
    assert (c2.buckets, c2.credits, c2.total, c2.disputed) == ([0] * 6, -4990, -4990, 0)


def test_aging_cli_formats(ledger: sqlite3.Connection, tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    db = Path(ledger.execute("PRAGMA database_list").fetchone()[2])
    assert cli(db, "report", "aging", "--as-of", "2026-11-23", "--by", "collector") == 0
    out = capsys.readouterr().out
    assert "ana" in out and "(unassigned)" in out and "TOTAL" in out
    assert cli(db, "report", "aging", "--as-of", "2026-11-23", "-o", str(tmp_path / "a.csv")) == 0
    with (tmp_path / "a.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    usd = next(r for r in rows if r["customer"] == "TOTAL" and r["currency"] == "USD")
    assert Decimal(usd["total"]) == Decimal(reports.ledger_total(ledger)["USD"]) / 100
    assert cli(db, "report", "aging", "--format", "json", "-o", str(tmp_path / "a.json")) == 0
    doc = json.loads((tmp_path / "a.json").read_text())
    assert doc["report"] == "aging" and "total_minor" in doc["rows"][0]
    assert cli(db, "report", "aging", "--as-of", "2026-11-23", "-o", str(tmp_path / "a.xlsx")) == 0
    ws = load_workbook(tmp_path / "a.xlsx").worksheets[0]
    header = [c.value for c in ws[1]]
    first = [c for c in ws[2]]
    total = first[header.index("total")]
    assert isinstance(total.value, int | float) and total.number_format == '#,##0.00 "USD"'
    about = load_workbook(tmp_path / "a.xlsx")["about"]
    assert about["B2"].is_date
    assert cli(db, "report", "aging", "--format", "xlsx") == 2
    assert "-o FILE" in capsys.readouterr().err


def test_customer_aging_for_the_account_screen(ledger: sqlite3.Connection) -> None:
    cid = count(ledger, "SELECT id FROM customers WHERE external_ref = 'C3'")
    row = reports.customer_aging(ledger, int(cid), AS_OF)  # type: ignore[arg-type]
    assert (row.currency, row.buckets[1], row.total) == ("EUR", 1000, 1000)


def _sales_ledger(conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock) -> None:
    rows = [["C1", "Acme", "A", "2026-09-20", "2026-10-20", "1000", ""],  # before the period
            ["C1", "Acme", "B", "2026-10-05", "2026-11-04", "3000", ""],
            ["C1", "Acme", "C", "2026-10-20", "2026-11-19", "2000", ""]]  # fmt: skip
    load(conn, invoices_csv(tmp_path / "i.csv", rows), "invoices", clock, create_customers=True)
    pay = [["customer_ref", "amount", "paid_on", "invoice"],
           ["C1", "1000", "2026-10-10", "A"], ["C1", "500", "2026-10-30", "B"]]  # fmt: skip
    load(conn, write_csv(tmp_path / "p.csv", pay), "payments", clock)


def test_dso_bpdso_add_cei(conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock) -> None:
    _sales_ledger(conn, tmp_path, clock)
    rows = metrics(conn, date(2026, 10, 1), date(2026, 10, 31)).money
    team = next(m for m in rows if m.collector == "TEAM")
    assert team.days == 31 and team.credit_sales == 500000
    assert team.receivables_begin == 100000  # A, open on 09-30
    assert team.receivables_end == 100000 + 500000 - 100000 - 50000  # 4,500 on 10-31
    assert team.current_end == 450000  # B and C not yet due on 10-31
    assert team.collected == 150000
    assert team.dso == round(450000 * 31 / 500000, 2)
    assert team.bpdso == team.dso and team.add_days == 0
    assert team.cei == round((100000 + 500000 - 450000) / (100000 + 500000 - 450000) * 100, 2)


def test_promise_and_call_metrics_per_collector(
    conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock
) -> None:
    _sales_ledger(conn, tmp_path, clock)
    now = to_iso(clock.now())
    with write_tx(conn):
        ana = conn.execute("INSERT INTO collectors (username, display_name, created_at) "
                           "VALUES ('ana', 'Ana', ?)", (now,)).lastrowid  # fmt: skip
        conn.execute("UPDATE queue SET collector_id = ?", (ana,))
        for status in ("kept", "broken", "partial", "kept"):
            conn.execute(
                "INSERT INTO promises (customer_id, amount_minor, currency, promised_on, "
                "due_date, status, created_at, created_by) VALUES (1, 100, 'USD', "
                "'2026-10-01', '2026-10-10', ?, ?, ?)", (status, now, ana),
            )  # fmt: skip
        for at, attempt, contact, rpc in [("2026-10-05T14:00:00Z", 1, 1, 1),
                                          ("2026-10-05T15:00:00Z", 1, 0, 0),
                                          ("2026-10-05T16:00:00Z", 1, 1, 0),
                                          ("2026-10-06T14:00:00Z", 1, 1, 1)]:  # fmt: skip
            conn.execute(
                "INSERT INTO activities (customer_id, collector_id, at, outcome, attempt, "
                "contact, rpc) VALUES (1, ?, ?, 'no_answer', ?, ?, ?)",
                (ana, at, attempt, contact, rpc),
            )
    report = metrics(conn, date(2026, 10, 1), date(2026, 10, 31))
    m = next(r for r in report.activity if r.collector == "ana")
    assert (m.promises_due, m.promises_kept, m.kept_rate) == (4, 2, 50.0)
    assert (m.attempts, m.rpc, m.rpc_rate) == (4, 2, 50.0)
    assert m.contacts_per_hour == 1.5  # 3 contacts over 2 hours of calling
    money, activity = exports.metrics_sections(report)
    assert {c.name for c in money.cols} >= {"dso", "bpdso", "add", "cei"}
    assert {c.name for c in activity.cols} >= {"kept_rate", "rpc_rate", "contacts_per_hour"}


def test_export_activities_csv_and_jsonl(
    conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    _sales_ledger(conn, tmp_path, clock)
    with write_tx(conn):
        conn.execute(
            "INSERT INTO activities (customer_id, at, outcome, note, details) VALUES "
            "(1, '2026-10-05T14:00:00Z', 'note', 'called, \"busy\"', '{\"a\": 1}'), "
            "(1, '2026-11-05T14:00:00Z', 'system', 'promise kept', NULL)"
        )
    db = Path(conn.execute("PRAGMA database_list").fetchone()[2])
    out = tmp_path / "act.csv"
    assert cli(db, "export", "activities", "--from", "2026-10-01", "--to", "2026-10-31",
               "-o", str(out)) == 0  # fmt: skip
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 1 and rows[0]["note"] == 'called, "busy"'
    assert rows[0]["customer_ref"] == "C1" and json.loads(rows[0]["details"]) == {"a": 1}
    assert "1 activities written" in capsys.readouterr().out
    assert cli(db, "export", "activities", "--format", "jsonl") == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [json.loads(x)["outcome"] for x in lines] == ["note", "system"]


@given(minor=st.integers(-(10**15), 10**15), currency=st.sampled_from(["USD", "JPY", "KWD"]))
def test_money_text_is_exact_on_both_paths(minor: int, currency: str) -> None:
    digits = minor_digits(currency)
    want = f"{Decimal(minor).scaleb(-digits):.{digits}f}"
    fast = [exports.Column("currency"), exports.Column("m", "money")]
    general = [*fast, exports.Column("rate", "float")]
    assert list(exports._texts(fast, [[currency, minor]], False)) == [[currency, want]]
    assert next(exports._texts(general, [[currency, minor, 1.0]], False))[1] == want
    grouped = f"{Decimal(minor).scaleb(-digits):,.{digits}f}"
    assert next(exports._texts(fast, [[currency, minor]], True))[1] == grouped
