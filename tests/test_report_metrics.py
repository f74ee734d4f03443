"""`report metrics`: money per collector and currency, calls and promises per collector
and for the team once; kept rate over the promises that came due; DSO blank without
positive credit sales."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from openpyxl import load_workbook

from dunning.cli import main
from dunning.clock import FixedClock
from dunning.db.connection import write_tx
from dunning.db.metrics import metrics

if TYPE_CHECKING:
    from conftest import Ledger

OCT = (date(2026, 10, 1), date(2026, 10, 31))
PERIOD = ["--from", "2026-10-01", "--to", "2026-10-31"]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def team(ledger: Ledger) -> sqlite3.Connection:
    """ana: C1 (USD) and C2 (EUR), 3 attempts with 2 rpc; bob: C3 (USD) and C4 (GBP, a
    credit note the only October sale), 1 attempt with 1 rpc. ana's promises on C1."""
    ana, bob = ledger.collector("ana"), ledger.collector("bob")
    c1 = ledger.customer("Acme", collector=ana, invoices=[(100_000, "2026-10-15")])
    ledger.customer("Euro", collector=ana, currency="EUR", invoices=[(50_000, "2026-10-10")])
    c3 = ledger.customer("Bolt", collector=bob, invoices=[(20_000, "2026-09-01")])
    ledger.customer("Brit", collector=bob, currency="GBP",
                    invoices=[(30_000, "2026-08-01"), (-5_000, "2026-10-05")])  # fmt: skip
    conn = ledger.conn
    with write_tx(conn):
        for who, cid, at, rpc in [(ana, c1, "2026-10-05T14:00:00Z", 1),
                                  (ana, c1, "2026-10-05T15:00:00Z", 1),
                                  (ana, c1, "2026-10-06T14:00:00Z", 0),
                                  (bob, c3, "2026-10-07T14:00:00Z", 1)]:  # fmt: skip
            conn.execute(
                "INSERT INTO activities (customer_id, collector_id, at, outcome, attempt, "
                "contact, rpc) VALUES (?, ?, ?, 'no_answer', 1, ?, ?)",
                (cid, who, at, rpc, rpc),
            )
        # (promised on, due date, status): a promise comes due at due date + 2 grace days
        for promised, due, status in [
            ("2026-09-20", "2026-09-25", "kept"),  # came due in September
            ("2026-10-05", "2026-11-10", "kept"),  # made in October, paid early: November's
            ("2026-09-25", "2026-10-30", "kept"),  # due 10-30, grace to 11-01: November's
            ("2026-09-20", "2026-10-10", "broken"),  # came due 10-12
            ("2026-09-28", "2026-10-20", "kept"),  # came due 10-22
            ("2026-09-28", "2026-10-29", "partial"),  # came due 10-31
            ("2026-10-20", "2026-10-28", "pending"),  # not decided: not counted
        ]:
            conn.execute(
                "INSERT INTO promises (customer_id, amount_minor, currency, promised_on, "
                "due_date, status, created_at, created_by) VALUES (?, 1000, 'USD', ?, ?, ?, "
                "'2026-09-01T00:00:00Z', ?)",
                (c1, promised, due, status, ana),
            )
    return conn


def test_kept_rate_is_over_the_promises_that_came_due(team: sqlite3.Connection) -> None:
    ana = next(a for a in metrics(team, *OCT).activity if a.collector == "ana")
    assert (ana.promises_due, ana.promises_kept, ana.kept_rate) == (3, 1, 33.33)
    money = {(m.collector, m.currency): m for m in metrics(team, *OCT).money}
    assert money[("ana", "USD")].promised == 2000  # made in October, whatever their due


def test_calls_are_per_collector_and_for_the_team_once(team: sqlite3.Connection) -> None:
    report = metrics(team, *OCT)
    calls = {a.collector: (a.attempts, a.rpc, a.rpc_rate) for a in report.activity}
    assert calls == {"ana": (3, 2, 66.67), "bob": (1, 1, 100.0), "TEAM": (4, 3, 75.0)}
    assert [a.collector for a in report.activity] == ["ana", "bob", "TEAM"]
    team_money = [m.currency for m in report.money if m.collector == "TEAM"]
    assert team_money == ["EUR", "GBP", "USD"]
    assert not any(hasattr(m, "attempts") for m in report.money)


def test_dso_is_blank_without_positive_credit_sales(team: sqlite3.Connection) -> None:
    money = {(m.collector, m.currency): m for m in metrics(team, *OCT).money}
    gbp = money[("bob", "GBP")]
    assert gbp.credit_sales == -5000 and gbp.receivables_end == 25000
    assert (gbp.dso, gbp.bpdso, gbp.add_days) == (None, None, None)
    usd = money[("TEAM", "USD")]
    assert usd.credit_sales == 100_000 and usd.dso == round(120_000 * 31 / 100_000, 2)


def _run(db: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["--db", str(db), "report", "metrics", *PERIOD, *argv], clock=clock) == 0
    return capsys.readouterr().out


def test_every_format_keeps_calls_apart_from_money(
    team: sqlite3.Connection, db_path: Path, tmp_path: Path, clock: FixedClock,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    table = _run(db_path, clock, capsys)
    money_part, activity_part = table.split("promises and calls, per collector\n")
    assert "money, per collector and currency" in money_part and "attempts" not in money_part
    assert [x.split()[0] for x in activity_part.splitlines()[2:]] == ["ana", "bob", "TEAM"]
    assert "75.00" in activity_part.splitlines()[-1]

    rows = list(csv.DictReader(io.StringIO(_run(db_path, clock, capsys, "--format", "csv"))))
    activity = [r for r in rows if r["section"] == "activity"]
    assert [(r["collector"], r["currency"], r["rpc_rate"]) for r in activity] == [
        ("ana", "", "66.67"), ("bob", "", "100.00"), ("TEAM", "", "75.00")]  # fmt: skip
    money = [r for r in rows if r["section"] == "money"]
    assert all(r["attempts"] == "" for r in money) and len(money) == 4 + 3

    doc = json.loads(_run(db_path, clock, capsys, "--format", "json"))
    assert doc["activity"][-1] == {
        "collector": "TEAM", "promises_due": 3, "promises_kept": 1, "kept_rate": 33.33,
        "attempts": 4, "contacts": 3, "rpc": 3, "rpc_rate": 75.0, "hours": 1.0,
        "contacts_per_hour": 3.0,
    }  # fmt: skip
    assert "attempts" not in doc["money"][0] and "credit_sales_minor" in doc["money"][0]

    out = tmp_path / "m.xlsx"
    _run(db_path, clock, capsys, "-o", str(out))
    wb = load_workbook(out)
    assert wb.sheetnames == ["money", "activity", "about"]
    last = [c.value for c in list(wb["activity"].iter_rows())[-1]]
    assert last[0] == "TEAM" and last[4] == 4 and last[7] == 75.0
