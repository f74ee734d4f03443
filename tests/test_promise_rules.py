"""Promises decided right (issue 6, part 5): decided again when a payment dated inside the
window arrives late, on the customer's date, superseded by a new promise, kept by what
the ERP closes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from test_ledger_support import invoices_csv, load, write_csv

from dunning.clock import FixedClock
from dunning.db.connection import write_tx
from dunning.db.metrics import metrics
from dunning.queue.claim import claim_next
from dunning.queue.outcomes import OutcomeInput, log_outcome
from dunning.queue.promises import evaluate_promises

PAY = ["customer_ref", "invoice", "amount", "paid_on", "payment_ref"]


def at(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=UTC)


@pytest.fixture
def acct(ledger):
    """alice; a New York account (C00001) owing 5,000.00 since September (INV-1-0)."""
    alice = ledger.collector("alice")
    cid = ledger.customer("Acme", collector=alice, invoices=[(500_000, "2026-09-01")])
    return alice, cid


def log(ledger, alice, cid, outcome, **kw):
    return log_outcome(
        ledger.conn,
        ledger.clock,
        ledger.settings,
        collector_id=alice,
        customer_id=cid,
        inp=OutcomeInput(outcome, **kw),
    )


def promises(conn):
    return [
        tuple(r) for r in conn.execute("SELECT id, status, paid_minor, superseded_by FROM promises")
    ]


def system_notes(conn):
    return [
        (r["note"], json.loads(r["details"]))
        for r in conn.execute("SELECT * FROM activities WHERE outcome = 'system' ORDER BY id")
    ]


def kept_rate(conn) -> tuple[int, int]:
    """(due, kept) of the team in December (the promises' deadline month)."""
    team = next(
        a for a in metrics(conn, date(2026, 12, 1), date(2026, 12, 31)).activity
        if a.collector == "TEAM"
    )  # fmt: skip
    return team.promises_due, team.promises_kept


def decide(ledger, when):
    ledger.clock.at = when
    with write_tx(ledger.conn):
        return evaluate_promises(ledger.conn, ledger.clock, ledger.settings)


def test_a_late_payment_import_decides_a_broken_promise_again(conn, ledger, acct, tmp_path):
    alice, cid = acct
    log(ledger, alice, cid, "promise_to_pay", amount_minor=100_000, on_date=date(2026, 11, 30))
    before = ledger.queue_row(cid)["priority"]
    assert decide(ledger, at("2026-12-03", 15)) == 1
    assert promises(conn) == [(1, "broken", 0, None)]
    assert kept_rate(conn) == (1, 0)
    broken = ledger.queue_row(cid)
    assert broken["broken_promise"] == 1 and broken["priority"] > before
    decided_at = conn.execute("SELECT decided_at FROM promises").fetchone()[0]
    # the payment of 2026-11-30 reaches the ERP extract three days later
    ledger.clock.at = at("2026-12-04", 15)
    rows = [PAY, ["C00001", "", "1000.00", "2026-11-30", "P1"]]
    r = load(conn, write_csv(tmp_path / "p.csv", rows), "payments", ledger.clock)
    assert r.promises_decided == 1
    assert promises(conn) == [(1, "kept", 100_000, None)]
    assert kept_rate(conn) == (1, 1)  # the kept rate is no longer understated
    # decided_at stays when it was first decided; the change is on record
    assert conn.execute("SELECT decided_at FROM promises").fetchone()[0] == decided_at
    note, details = system_notes(conn)[-1]
    assert note == "promise broken -> kept"
    assert details == {"promise_id": 1, "status": "kept", "from": "broken", "paid_minor": 100_000}
    row = conn.execute("SELECT * FROM activities ORDER BY id DESC LIMIT 1").fetchone()
    assert row["collector_id"] is None and row["at"] == "2026-12-04T15:00:00Z"
    after = ledger.queue_row(cid)
    assert after["broken_promise"] == 0
    assert after["priority"] < broken["priority"]
    assert "broken_promise" not in [x[0] for x in json.loads(after["reasons"])]


def test_a_late_partial_payment_makes_it_partial_then_kept(conn, ledger, acct, tmp_path):
    alice, cid = acct
    log(ledger, alice, cid, "promise_to_pay", amount_minor=100_000, on_date=date(2026, 11, 30))
    decide(ledger, at("2026-12-03", 15))
    ledger.clock.at = at("2026-12-04", 15)
    rows = [PAY, ["C00001", "", "400.00", "2026-12-01", "P1"]]
    load(conn, write_csv(tmp_path / "p.csv", rows), "payments", ledger.clock)
    assert promises(conn) == [(1, "partial", 40_000, None)]
    assert ledger.queue_row(cid)["broken_promise"] == 1  # still short
    rows = [PAY, ["C00001", "", "600.00", "2026-12-02", "P2"],  # last grace day: counts
            ["C00001", "", "900.00", "2026-12-03", "P3"]]  # a day late: does not  # fmt: skip
    load(conn, write_csv(tmp_path / "q.csv", rows), "payments", ledger.clock)
    assert promises(conn) == [(1, "kept", 100_000, None)]
    assert [n for n, _ in system_notes(conn)] == [
        "promise broken",
        "promise broken -> partial",
        "promise partial -> kept",
    ]
    assert ledger.queue_row(cid)["broken_promise"] == 0


def test_a_payment_outside_the_window_decides_nothing_again(conn, ledger, acct, tmp_path):
    alice, cid = acct
    log(ledger, alice, cid, "promise_to_pay", amount_minor=100_000, on_date=date(2026, 11, 30))
    decide(ledger, at("2026-12-03", 15))
    ledger.clock.at = at("2026-12-10", 15)
    rows = [PAY, ["C00001", "", "1000.00", "2026-12-08", "P1"]]
    r = load(conn, write_csv(tmp_path / "p.csv", rows), "payments", ledger.clock)
    assert r.promises_decided == 0
    assert promises(conn) == [(1, "broken", 0, None)]


def test_decided_on_the_customers_date_not_utc(conn, ledger, acct):
    alice, cid = acct  # New York
    log(ledger, alice, cid, "promise_to_pay", amount_minor=100_000, on_date=date(2026, 11, 30))
    # 19:30 in New York on the last grace day is 00:30 UTC the day after
    assert decide(ledger, datetime(2026, 12, 3, 0, 30, tzinfo=UTC)) == 0
    assert promises(conn)[0][1] == "pending"
    assert decide(ledger, datetime(2026, 12, 3, 5, 0, tzinfo=UTC)) == 1
    assert promises(conn)[0][1] == "broken"


def test_a_new_promise_supersedes_the_pending_one(conn, ledger, acct):
    alice, cid = acct
    log(ledger, alice, cid, "promise_to_pay", amount_minor=100_000, on_date=date(2026, 11, 30))
    ledger.clock.at = at("2026-11-27", 15)  # renegotiated: a smaller amount, later
    log(ledger, alice, cid, "promise_to_pay", amount_minor=50_000, on_date=date(2026, 12, 11))
    assert promises(conn) == [(1, "cancelled", 0, 2), (2, "pending", 0, None)]
    assert system_notes(conn)[-1][1]["superseded_by"] == 2
    # the old deadline passes: nothing breaks, the account is not re-queued
    ledger.clock.at = at("2026-12-03", 15)
    claim_next(conn, ledger.clock, ledger.settings, alice)
    assert promises(conn)[0][1] == "cancelled"
    q = ledger.queue_row(cid)
    assert q["broken_promise"] == 0 and q["next_action"] == "promise_check"
    assert q["state"] == "waiting"
    # the kept rate counts promises decided, not the cancelled one
    assert kept_rate(conn) == (0, 0)


def test_a_payment_plan_supersedes_a_pending_promise(conn, ledger, acct):
    alice, cid = acct
    log(ledger, alice, cid, "promise_to_pay", amount_minor=100_000, on_date=date(2026, 11, 30))
    log(
        ledger,
        alice,
        cid,
        "payment_plan",
        instalments=[(50_000, date(2026, 12, 1)), (50_000, date(2027, 1, 1))],
    )
    assert promises(conn) == [
        (1, "cancelled", 0, 2),
        (2, "pending", 0, None),
        (3, "pending", 0, None),
    ]


def test_an_invoice_the_erp_closes_keeps_the_promise(conn, ledger, tmp_path):
    alice = ledger.collector("alice")
    ledger.customer(
        "Acme", collector=alice, invoices=[(100_000, "2026-09-01"), (30_000, "2026-10-01")]
    )
    cid = 1
    log(ledger, alice, cid, "promise_to_pay", amount_minor=100_000, on_date=date(2026, 11, 30))
    # the next full extract no longer lists INV-1-0: the ERP closed it (no payment row)
    ledger.clock.at = at("2026-11-26", 15)
    rows = [["C00001", "Acme", "INV-1-1", "2026-10-01", "2026-10-01", "300.00", "300.00"]]
    r = load(conn, invoices_csv(tmp_path / "i.csv", rows), "invoices", ledger.clock,
             snapshot=True)  # fmt: skip
    assert r.closed == 1
    closure = conn.execute("SELECT * FROM invoice_closures").fetchone()
    assert (closure["amount_minor"], closure["closed_on"], closure["how"]) == (
        100_000,
        "2026-11-26",
        "snapshot",
    )
    assert promises(conn) == [(1, "kept", 100_000, None)]


def test_a_balance_taken_to_zero_without_a_payment_counts(conn, ledger, tmp_path):
    alice = ledger.collector("alice")
    ledger.customer("Acme", collector=alice, invoices=[(100_000, "2026-09-01")])
    log(ledger, alice, 1, "promise_to_pay", amount_minor=100_000, on_date=date(2026, 11, 30))
    decide(ledger, at("2026-12-03", 15))  # broken: nothing came in
    # the extract says the invoice has been at zero since; no payment row for it
    ledger.clock.at = at("2026-12-04", 15)
    rows = [["C00001", "Acme", "INV-1-0", "2026-09-01", "2026-09-01", "1000.00", "0"]]
    load(conn, invoices_csv(tmp_path / "i.csv", rows), "invoices", ledger.clock)
    # closed after the window (12-04): it does not keep a promise that ended on 12-02
    assert promises(conn)[0][1] == "broken"
    assert conn.execute("SELECT how FROM invoice_closures").fetchone()[0] == "zeroed"


def test_a_balance_zeroed_inside_the_window_keeps_it(conn, ledger, tmp_path):
    alice = ledger.collector("alice")
    ledger.customer("Acme", collector=alice, invoices=[(100_000, "2026-09-01")])
    log(ledger, alice, 1, "promise_to_pay", amount_minor=100_000, on_date=date(2026, 11, 30))
    ledger.clock.at = at("2026-11-30", 15)
    rows = [["C00001", "Acme", "INV-1-0", "2026-09-01", "2026-09-01", "1000.00", "0"]]
    load(conn, invoices_csv(tmp_path / "i.csv", rows), "invoices", FixedClock(at("2026-11-30")))
    assert promises(conn)[0][1:3] == ("kept", 100_000)


def test_the_history_says_what_changed_in_the_readers_words(conn, ledger, acct, tmp_path):
    from dunning.i18n import set_language
    from dunning.queue.account_view import timeline
    from dunning.queue.collectors import get_collector
    from dunning.tui.widgets.account import history_text

    alice, cid = acct
    log(ledger, alice, cid, "promise_to_pay", amount_minor=100_000, on_date=date(2026, 11, 30))
    decide(ledger, at("2026-12-03", 15))
    ledger.clock.at = at("2026-12-04", 15)
    rows = [PAY, ["C00001", "", "1000.00", "2026-11-30", "P1"]]
    load(conn, write_csv(tmp_path / "p.csv", rows), "payments", ledger.clock)
    me = get_collector(conn, "alice")
    assert me is not None
    text = history_text(timeline(conn, cid), me, "USD", limit=10).plain
    assert "promise broken → kept" in text and "promise broken\n" in text
    set_language("fr_CA")
    try:
        text = history_text(timeline(conn, cid), me, "USD", limit=10).plain
    finally:
        set_language("en_US")
    assert "promesse non tenue → tenue" in text


def test_promises_made_before_m008_get_a_deadline_never_too_early(tmp_path):
    import sqlite_utils

    from dunning.db.connection import connect
    from dunning.db.schema import migrate, migrations

    conn = connect(tmp_path / "old.db")
    with write_tx(conn):
        migrations.apply(sqlite_utils.Database(conn), stop_before="m008_promise_rules")
        conn.execute(
            "INSERT INTO customers (id, external_ref, name, country, currency, created_at, "
            "updated_at) VALUES (1, 'C1', 'Old', 'US', 'USD', 'x', 'x')"
        )
        conn.execute(
            "INSERT INTO promises (customer_id, amount_minor, currency, promised_on, due_date, "
            "grace_days, created_at) VALUES (1, 100, 'USD', '2026-11-20', '2026-11-30', 2, 'x')"
        )
    migrate(conn)
    row = conn.execute("SELECT decide_at, superseded_by FROM promises").fetchone()
    # 00:00 on 12-03 in every zone from UTC-12 on has begun by 12:00 UTC
    assert tuple(row) == ("2026-12-03T12:00:00Z", None)
    conn.close()
