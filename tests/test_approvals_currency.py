"""Write-off limits per currency (issue 9, item 7; queue/config.py ``writeoff_limit``,
queue/approvals.py): ``[approvals.writeoff_limit.MXN] lead = 90000`` is 90,000 pesos, the
role keys directly under ``[approvals.writeoff_limit]`` are every other currency's, and a
currency the policy sets nothing for is refused naming the file and the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from dunning.cli import main
from dunning.clock import FixedClock
from dunning.queue.config import settings_from_dict

CONFIG = """[approvals]
[approvals.writeoff_limit.USD]
lead = 500
admin = -1
[approvals.writeoff_limit.MXN]
collector = 0
lead = 20000
"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


@pytest.fixture
def run(db_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str], config: Path):  # noqa: ANN201
    def go(*argv: str) -> tuple[int, str, str]:
        code = main(["--db", str(db_path), "--config", str(config), *argv], clock=clock)
        out, err = capsys.readouterr()
        return code, out, err

    return go


@pytest.fixture
def team(ledger) -> dict[str, int]:  # noqa: ANN001
    return {
        "alice": ledger.collector("alice"),
        "lena": ledger.collector("lena", role="lead"),
        "root": ledger.collector("root", role="admin"),
    }


def status_of(conn, cid: int) -> str:  # noqa: ANN001
    return str(conn.execute("SELECT status FROM customers WHERE id = ?", (cid,)).fetchone()[0])


def test_the_limits_are_read_per_currency():
    s = settings_from_dict(
        {"approvals": {"writeoff_limit": {"lead": 100, "MXN": {"lead": 2000, "admin": -1}}}}
    )
    assert s.approvals.writeoff_limit == {"*": {"lead": 100}, "MXN": {"lead": 2000, "admin": -1}}
    with pytest.raises(ValueError, match=r"\[approvals\] writeoff_limit.MXN.lead must be a whole"):
        settings_from_dict({"approvals": {"writeoff_limit": {"MXN": {"lead": "lots"}}}})
    with pytest.raises(ValueError, match=r"keyed by a currency code \(USD\) or collector"):
        settings_from_dict({"approvals": {"writeoff_limit": {"pesos": {"lead": 1}}}})
    with pytest.raises(ValueError, match="keyed by collector, lead, admin, got 'boss'"):
        settings_from_dict({"approvals": {"writeoff_limit": {"MXN": {"boss": 1}}}})


def test_a_lead_approves_pesos_up_to_the_peso_limit(run, conn, ledger, team):
    # 15,000.00 MXN: above lena's 500 (the USD figure) but within her 20,000 MXN
    pesos = ledger.customer("Pesos", collector=team["alice"], currency="MXN",
                            invoices=[(1_500_000, "2026-09-01")])  # fmt: skip
    code, out, err = run("log", "C00001", "escalated", "--escalation", "writeoff",
                         "--note", "closed shop", "--as", "alice")  # fmt: skip
    assert code == 0, err
    assert "waiting for approval: write-off request" in out
    code, out, err = run("review", "decide", "C00001", "--to", "writeoff-approve",
                         "--reason", "shop closed", "--as", "lena")  # fmt: skip
    assert code == 0, err
    assert status_of(conn, pesos) == "write_off"
    row = conn.execute(
        "SELECT d.decision, k.username, d.reason FROM review_decisions d "
        "JOIN collectors k ON k.id = d.decided_by"
    ).fetchone()
    assert tuple(row) == ("writeoff_approved", "lena", "shop closed")


def test_a_currency_without_a_limit_is_refused_naming_the_setting(run, conn, ledger, team, config):
    loonies = ledger.customer("Loonies", collector=team["alice"], currency="CAD",
                              invoices=[(10_000, "2026-09-01")])  # fmt: skip
    code, out, err = run("log", "C00001", "escalated", "--escalation", "writeoff",
                         "--as", "alice")  # fmt: skip
    assert code == 0 and "waiting for approval: write-off request" in out  # none set: waits
    for who in ("lena", "root"):
        code, out, err = run("review", "decide", "C00001", "--to", "writeoff-approve",
                             "--reason", "small", "--as", who)  # fmt: skip
        role = "lead" if who == "lena" else "admin"
        assert code == 1
        assert err.strip() == (
            f"dunning: {config}: no write-off limit is set for {role} in CAD: set "
            f"[approvals.writeoff_limit.CAD] {role}"
        )
    assert status_of(conn, loonies) == "active"
    assert ledger.queue_row(loonies)["state"] == "review"
    assert conn.execute("SELECT COUNT(*) FROM review_decisions").fetchone()[0] == 0
    refused = conn.execute(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'review.decide' AND result = 'refused'"
    ).fetchone()[0]
    assert refused == 2


def test_config_show_prints_the_limits_per_currency(run):
    code, out, err = run("config", "show")
    assert code == 0, err
    usd = out.index("[approvals.writeoff_limit.USD]")
    mxn = out.index("[approvals.writeoff_limit.MXN]")
    assert out[usd:mxn].split("\n")[1:3] == ["lead = 500", "admin = -1"]
    assert "lead = 20000" in out[mxn:]
    assert "source" not in out
