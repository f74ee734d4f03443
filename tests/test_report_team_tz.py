"""Report periods and "today" are the team's days (``team_tz``), not UTC's; ADD comes from
the unrounded DSO and BPDSO."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from dunning.cli import main
from dunning.clock import FixedClock
from dunning.db import exports
from dunning.db.connection import write_tx
from dunning.db.metrics import Metrics, metrics
from dunning.queue.config import settings_from_dict

if TYPE_CHECKING:
    from conftest import Ledger

TORONTO = ZoneInfo("America/Toronto")
OCT = (date(2026, 10, 1), date(2026, 10, 31))


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def calls(ledger: Ledger) -> sqlite3.Connection:
    """ana's calls around Toronto's midnights (EDT, UTC-4, in October)."""
    ana = ledger.collector("ana")
    cid = ledger.customer("Acme", collector=ana, invoices=[(100_000, "2026-10-15")])
    conn = ledger.conn
    with write_tx(conn):
        for at in [
            "2026-10-01T02:00:00Z",  # Sep 30 22:00 in Toronto: September's
            "2026-10-01T05:00:00Z",  # Oct 1 01:00 in Toronto
            "2026-10-05T23:30:00Z",  # Oct 5 19:30 in Toronto
            "2026-10-06T00:30:00Z",  # Oct 5 20:30 in Toronto: the same day, 1 hour on
            "2026-11-01T02:00:00Z",  # Oct 31 22:00 in Toronto: October's
        ]:
            conn.execute(
                "INSERT INTO activities (customer_id, collector_id, at, outcome, attempt, "
                "contact, rpc) VALUES (?, ?, ?, 'no_answer', 1, 1, 0)",
                (cid, ana, at),
            )
    return conn


def _ana(report) -> object:  # noqa: ANN001
    return next(a for a in report.activity if a.collector == "ana")


def test_a_period_is_the_teams_days(calls: sqlite3.Connection) -> None:
    toronto = _ana(metrics(calls, *OCT, TORONTO))
    assert toronto.attempts == 4  # Oct 1 01:00 .. Oct 31 22:00 Toronto
    assert toronto.hours == 1.0  # 19:30 and 20:30 on the 5th: one day of calling
    utc = _ana(metrics(calls, *OCT, UTC))
    assert utc.attempts == 4  # Oct 1 02:00Z .. Oct 6 00:30Z
    assert utc.hours == 3.0  # Oct 1 02:00-05:00; the 5th and 6th are two days in UTC


def test_an_export_of_activities_is_the_teams_days(calls: sqlite3.Connection) -> None:
    rows = list(exports.activities(calls, date(2026, 10, 31), date(2026, 10, 31), tz=TORONTO))
    assert [r["at"] for r in rows] == ["2026-11-01T02:00:00Z"]
    assert list(exports.activities(calls, date(2026, 10, 31), date(2026, 10, 31))) == []


def test_add_is_computed_from_unrounded_dso_and_bpdso() -> None:
    m = Metrics("TEAM", "USD", days=1, credit_sales=3, receivables_end=2, current_end=1)
    assert (m.dso, m.bpdso) == (0.67, 0.33)
    assert m.add_days == 0.33  # not 0.67 - 0.33 = 0.34


def test_team_tz_setting() -> None:
    assert settings_from_dict({"team_tz": "America/Toronto"}).team_zone == TORONTO
    with pytest.raises(ValueError, match="team_tz.*'Atlantis/Capital'"):
        settings_from_dict({"team_tz": "Atlantis/Capital"})


def test_report_metrics_and_today_follow_team_tz(
    calls: sqlite3.Connection, db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('team_tz = "America/Toronto"\n', encoding="utf-8")
    clock = FixedClock(datetime(2026, 11, 1, 2, 0, tzinfo=UTC))  # Oct 31 22:00 in Toronto
    argv = ["--db", str(db_path), "--config", str(config), "report", "metrics"]
    assert main([*argv, "--from", "today", "--to", "today", "--format", "json"], clock=clock) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["from"], doc["to"]) == ("2026-10-31", "2026-10-31")
    assert next(a for a in doc["activity"] if a["collector"] == "ana")["attempts"] == 1
    bad = tmp_path / "bad.toml"
    bad.write_text('team_tz = "Atlantis/Capital"\n', encoding="utf-8")
    code = main(["--db", str(db_path), "--config", str(bad), "report", "metrics",
                 "--from", "today", "--to", "today"], clock=clock)  # fmt: skip
    assert code == 2 and "'Atlantis/Capital'" in capsys.readouterr().err
