"""A settlement paid forgives the rest (issue 9, item 7; queue/writeoffs.py ``settle``):
the collector agrees a settlement, a lead approves it, the ERP's payment file brings the
amount agreed, and the import that loads it writes the rest off (kind ``settled``): the
invoices it covered leave collection, the history says "settled", the audit and the
report's ``written_off`` hold the amount forgiven. A settlement not paid by its date
breaks like a promise and the account is back in the queue."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from dunning.cli import main
from dunning.clock import FixedClock

CONFIG = "[approvals]\nsettlement_max_discount_pct = 20\n"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def run(db_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str], tmp_path: Path):  # noqa: ANN201
    config = tmp_path / "config.toml"
    config.write_text(CONFIG, encoding="utf-8")

    def go(*argv: str) -> tuple[int, str, str]:
        code = main(["--db", str(db_path), "--config", str(config), *argv], clock=clock)
        out, err = capsys.readouterr()
        return code, out, err

    return go


@pytest.fixture
def acme(ledger) -> int:  # noqa: ANN001
    """C00001, alice's: INV-1-0 600.00 (due first) and INV-1-1 400.00."""
    alice = ledger.collector("alice")
    ledger.collector("lena", role="lead")
    return ledger.customer(
        "Acme", collector=alice, invoices=[(60_000, "2026-08-01"), (40_000, "2026-09-01")]
    )


def payments(tmp_path: Path, *rows: list[str]) -> str:
    path = tmp_path / "payments.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(
            [["customer_ref", "invoice", "amount", "paid_on", "payment_ref"], *rows]
        )
    return str(path)


def invoices(conn, cid: int) -> dict[str, tuple[str, int]]:  # noqa: ANN001
    return {
        r[0]: (r[1], r[2])
        for r in conn.execute(
            "SELECT number, status, open_minor FROM invoices WHERE customer_id = ?", (cid,)
        )
    }


def test_an_approved_settlement_paid_by_import_writes_the_rest_off(
    run, conn, ledger, acme, clock, tmp_path
):
    code, out, err = run("log", "C00001", "escalated", "--escalation", "settlement",
                         "--amount", "500", "--date", "+10d", "--note", "half now, rest never",
                         "--as", "alice")  # fmt: skip
    assert code == 0 and "waiting for approval: settlement request" in out, err
    code, out, err = run("review", "decide", "C00001", "--to", "settlement-approve",
                         "--reason", "old customer, closing shop", "--as", "lena")  # fmt: skip
    assert code == 0, err
    clock.advance(days=3)
    code, out, err = run("import", "payments", payments(tmp_path, ["C00001", "", "500.00",
                         "2026-11-26", "P1"]))  # fmt: skip
    assert code == 0, err

    promise = conn.execute("SELECT status, paid_minor FROM promises").fetchone()
    assert tuple(promise) == ("kept", 50_000)
    # 500.00 paid the oldest invoice down to 100.00; 100.00 + 400.00 forgiven
    assert invoices(conn, acme) == {"INV-1-0": ("closed", 0), "INV-1-1": ("closed", 0)}
    rows = conn.execute(
        """SELECT i.number, w.amount_minor, w.kind, w.by_id, d.decision, k.username, w.reason
           FROM writeoffs w JOIN invoices i ON i.id = w.invoice_id
           JOIN review_decisions d ON d.id = w.decision_id
           JOIN collectors k ON k.id = d.decided_by ORDER BY i.number"""
    ).fetchall()
    assert [tuple(r)[:6] for r in rows] == [
        ("INV-1-0", 10_000, "settled", None, "settlement_approved", "lena"),
        ("INV-1-1", 40_000, "settled", None, "settlement_approved", "lena"),
    ]
    assert "settlement of $500.00 paid" in rows[0][6]
    assert ledger.queue_row(acme)["state"] == "closed"  # nothing left to collect

    audit = conn.execute(
        "SELECT target, detail FROM audit_log WHERE action = 'writeoff'"
    ).fetchone()
    assert audit[0] == "C00001"
    assert json.loads(audit[1])["amount_minor"] == 50_000
    assert json.loads(audit[1])["kind"] == "settled"

    code, out, err = run("history", "C00001", "--as", "lena")
    assert code == 0, err
    assert "settled: $500.00 forgiven (INV-1-0, INV-1-1)" in out

    code, out, err = run("report", "metrics", "--from", "2026-11-01", "--to", "2026-11-30",
                         "--format", "csv", "--as", "lena")  # fmt: skip
    assert code == 0, err
    money = [r for r in csv.DictReader(io.StringIO(out)) if r["section"] == "money"]
    assert {(r["collector"], r["written_off"]) for r in money} == {
        ("alice", "500.00"), ("TEAM", "500.00"),
    }  # fmt: skip

    # the ERP, not told yet, sends the invoices open again: they stay closed
    inv = tmp_path / "inv.csv"
    inv.write_text(
        "customer_ref,customer_name,number,issue_date,due_date,amount,open_amount\n"
        "C00001,Acme,INV-1-1,2026-09-01,2026-09-01,400.00,400.00\n",
        encoding="utf-8",
    )
    code, out, err = run("import", "invoices", str(inv))
    assert code == 0, err
    assert invoices(conn, acme)["INV-1-1"] == ("closed", 0)
    assert ledger.queue_row(acme)["state"] == "closed"


def test_a_settlement_not_paid_by_its_date_breaks_and_the_account_is_back(
    run, conn, ledger, acme, clock, tmp_path
):
    # 10% off: within the policy (20), a promise at once
    code, out, err = run("log", "C00001", "escalated", "--escalation", "settlement",
                         "--amount", "900", "--date", "+5d", "--as", "alice")  # fmt: skip
    assert code == 0 and "waiting for approval" not in out, err
    assert conn.execute("SELECT status FROM promises").fetchone()[0] == "pending"
    clock.advance(days=9)  # past the date and the grace days; 100.00 came in its window
    code, out, err = run("import", "payments", payments(tmp_path, ["C00001", "", "100.00",
                         "2026-11-27", "P9"]))  # fmt: skip
    assert code == 0, err
    assert tuple(conn.execute("SELECT status, paid_minor FROM promises").fetchone()) == (
        "partial", 10_000,
    )  # fmt: skip
    assert conn.execute("SELECT COUNT(*) FROM writeoffs").fetchone()[0] == 0
    assert invoices(conn, acme) == {"INV-1-0": ("open", 50_000), "INV-1-1": ("open", 40_000)}
    q = ledger.queue_row(acme)
    assert (q["state"], q["broken_promise"], q["next_action"]) == ("ready", 1, "call")
    code, out, err = run("next", "--as", "alice")
    assert code == 0 and "C00001" in out, err
