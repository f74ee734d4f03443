"""A partial write-off on the command line (issue 9, item 7; queue/writeoffs.py):
``--escalation writeoff --invoices N`` writes off those invoices whole, through the same
policy as the whole account (the collector's limit, then a lead's, then an admin); bad
choices are refused naming the invoice; a void opens them again; a whole write-off closes
every open invoice and is counted too."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dunning.cli import main
from dunning.clock import FixedClock

CONFIG = """[approvals.writeoff_limit]
collector = 100
lead = 5000
admin = -1
"""


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
    """C00001, alice's: INV-1-0 80.00, INV-1-1 900.00, INV-1-2 200.00; C00002 bruno's."""
    alice = ledger.collector("alice")
    ledger.collector("lena", role="lead")
    cid = ledger.customer(
        "Acme", collector=alice,
        invoices=[(8_000, "2026-08-01"), (90_000, "2026-09-01"), (20_000, "2026-10-01")],
    )  # fmt: skip
    ledger.customer("Other", collector=ledger.collector("bruno"))
    return cid


def invoices(conn, cid: int) -> list[tuple[str, str, int]]:  # noqa: ANN001
    sql = "SELECT number, status, open_minor FROM invoices WHERE customer_id = ? ORDER BY id"
    return [tuple(r) for r in conn.execute(sql, (cid,))]


def test_within_the_collector_limit_it_takes_effect_and_a_void_opens_it_again(
    run, conn, ledger, acme
):
    code, out, err = run("log", "C00001", "escalated", "--escalation", "writeoff", "--invoices",
                         "INV-1-0", "--note", "bank fees", "--as", "alice")  # fmt: skip
    assert code == 0 and "waiting for approval" not in out, err
    assert invoices(conn, acme)[0] == ("INV-1-0", "closed", 0)
    assert conn.execute("SELECT status FROM customers WHERE id = ?", (acme,)).fetchone()[0] == (
        "active"
    )
    q = ledger.queue_row(acme)
    assert (q["state"], q["next_action"], q["open_minor"]) == ("waiting", "call", 110_000)
    row = conn.execute(
        "SELECT w.amount_minor, k.username, w.reason, w.decision_id FROM writeoffs w "
        "JOIN collectors k ON k.id = w.by_id"
    ).fetchone()
    assert tuple(row) == (8_000, "alice", "bank fees", None)
    activity = conn.execute("SELECT id FROM activities WHERE outcome = 'escalated'").fetchone()[0]
    code, out, err = run("void", str(activity), "--reason", "wrong invoice", "--as", "lena")
    assert code == 0, err
    assert invoices(conn, acme)[0] == ("INV-1-0", "open", 8_000)
    assert conn.execute("SELECT voided_at IS NOT NULL FROM writeoffs").fetchone()[0] == 1
    assert ledger.queue_row(acme)["open_minor"] == 118_000


def test_above_it_a_lead_then_an_admin_decides(run, conn, ledger, acme):
    code, out, err = run("log", "C00001", "escalated", "--escalation", "writeoff",
                         "--invoices", "INV-1-1,INV-1-2", "--as", "alice")  # fmt: skip
    assert code == 0 and "waiting for approval: write-off request" in out, err
    code, out, err = run("review", "list", "--as", "lena")
    assert "write off $1,100.00: invoices INV-1-1, INV-1-2" in out
    code, out, err = run("review", "decide", "C00001", "--to", "writeoff-approve",
                         "--reason", "returned goods", "--as", "lena")  # fmt: skip
    assert code == 0, err
    assert invoices(conn, acme) == [
        ("INV-1-0", "open", 8_000), ("INV-1-1", "closed", 0), ("INV-1-2", "closed", 0),
    ]  # fmt: skip
    q = ledger.queue_row(acme)
    assert (q["state"], q["open_minor"]) == ("ready", 8_000)
    assert conn.execute(
        "SELECT SUM(amount_minor), COUNT(DISTINCT decision_id) FROM writeoffs"
    ).fetchone()[:] == (110_000, 1)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--invoices", "INV-2-0"], "--invoices: 'INV-2-0' is not an invoice of C00001"),
        (["--invoices", "INV-1-9"], "--invoices: 'INV-1-9' is not an invoice of C00001"),
    ],
)
def test_an_invoice_of_another_account_is_refused(run, conn, acme, argv, message):
    code, out, err = run("log", "C00001", "escalated", "--escalation", "writeoff", *argv,
                         "--as", "alice")  # fmt: skip
    assert code == 2 and message in err
    assert conn.execute("SELECT COUNT(*) FROM activities").fetchone()[0] == 0


def test_a_paid_or_disputed_invoice_or_another_escalation_is_refused(run, conn, ledger, acme):
    conn.execute("UPDATE invoices SET status = 'paid', open_minor = 0 WHERE number = 'INV-1-0'")
    conn.execute("UPDATE invoices SET disputed = 1 WHERE number = 'INV-1-1'")
    conn.commit()
    cases = [
        (["writeoff", "--invoices", "INV-1-0"], "invoice INV-1-0 of C00001 is not open"),
        (["writeoff", "--invoices", "INV-1-1"],
         "invoice INV-1-1 of C00001 is under dispute: end the dispute first"),
        (["lead_review", "--invoices", "INV-1-2"], "only a write-off is of chosen invoices"),
    ]  # fmt: skip
    for argv, message in cases:
        code, out, err = run("log", "C00001", "escalated", "--escalation", *argv,
                             "--as", "alice")  # fmt: skip
        assert code != 0 and message in err, (argv, err)
    assert conn.execute("SELECT COUNT(*) FROM activities").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM writeoffs").fetchone()[0] == 0


def test_a_whole_write_off_closes_every_open_invoice(run, conn, ledger, acme):
    code, out, err = run("log", "C00001", "escalated", "--escalation", "writeoff",
                         "--as", "alice")  # fmt: skip
    assert code == 0 and "waiting for approval" in out, err
    code, out, err = run("review", "decide", "C00001", "--to", "writeoff-approve",
                         "--reason", "insolvent", "--as", "lena")  # fmt: skip
    assert code == 0, err
    assert {s for _n, s, _o in invoices(conn, acme)} == {"closed"}
    assert conn.execute("SELECT status FROM customers WHERE id = ?", (acme,)).fetchone()[0] == (
        "write_off"
    )
    assert conn.execute("SELECT SUM(amount_minor) FROM writeoffs").fetchone()[0] == 118_000
    assert ledger.queue_row(acme)["state"] == "closed"


def test_a_write_off_row_changes_only_once_when_voided(run, conn, acme):
    code, out, err = run("log", "C00001", "escalated", "--escalation", "writeoff", "--invoices",
                         "INV-1-0", "--as", "alice")  # fmt: skip
    assert code == 0, err
    for sql in ("UPDATE writeoffs SET amount_minor = 1", "DELETE FROM writeoffs",
                "UPDATE writeoffs SET voided_at = NULL"):  # fmt: skip
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(sql)
    conn.execute("UPDATE writeoffs SET voided_at = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="changes once, when voided"):
        conn.execute("UPDATE writeoffs SET voided_at = 'y'")
    conn.rollback()
