"""Promises decided from payments: kept, partial, broken at the grace boundary, and one
payment never keeping two promises."""

import json
from datetime import UTC, date, datetime

import pytest

from dunning.db.connection import write_tx
from dunning.queue.accounts import refresh_accounts
from dunning.queue.claim import claim_next
from dunning.queue.outcomes import OutcomeInput, log_outcome
from dunning.queue.promises import evaluate_promises

# promise made Monday 2026-11-23, due Monday 2026-11-30, grace 2 days: decided after 12-02


@pytest.fixture
def acct(ledger):
    alice = ledger.collector("alice")
    cid = ledger.customer("Acme", collector=alice, invoices=[(500_000, "2026-09-01")])
    return alice, cid


def promise(ledger, alice, cid, amount, due, **kw):
    log_outcome(
        ledger.conn,
        ledger.clock,
        ledger.settings,
        collector_id=alice,
        customer_id=cid,
        inp=OutcomeInput("promise_to_pay", amount_minor=amount, on_date=due, **kw),
    )


def pay(conn, cid, amount, paid_on):
    with write_tx(conn):
        conn.execute(
            "INSERT INTO payments (customer_id, amount_minor, currency, paid_on, created_at) "
            "VALUES (?, ?, 'USD', ?, ?)",
            (cid, amount, paid_on, f"{paid_on}T12:00:00Z"),
        )


def evaluate(ledger, at, ids=None):
    ledger.clock.at = at
    with write_tx(ledger.conn):
        return evaluate_promises(ledger.conn, ledger.clock, ledger.settings, ids)


def statuses(conn):
    return [
        (r["status"], r["paid_minor"])
        for r in conn.execute("SELECT status, paid_minor FROM promises ORDER BY due_date, id")
    ]


def at(day, hour=12):
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=UTC)


def test_kept_as_soon_as_payments_reach_the_amount(conn, ledger, acct):
    alice, cid = acct
    promise(ledger, alice, cid, 100_000, date(2026, 11, 30))
    pay(conn, cid, 60_000, "2026-11-25")
    assert evaluate(ledger, at("2026-11-25"), [cid]) == 0
    assert statuses(conn) == [("pending", 0)]
    pay(conn, cid, 40_000, "2026-11-27")
    assert evaluate(ledger, at("2026-11-27"), [cid]) == 1
    assert statuses(conn) == [("kept", 100_000)]
    p = conn.execute("SELECT decided_at FROM promises").fetchone()
    assert p["decided_at"] == "2026-11-27T12:00:00Z"
    system = conn.execute("SELECT * FROM activities WHERE outcome = 'system'").fetchone()
    assert system["collector_id"] is None
    assert json.loads(system["details"])["status"] == "kept"
    q = ledger.queue_row(cid)
    assert q["broken_promise"] == 0 and q["next_action"] == "call"


def test_a_payment_in_the_grace_days_keeps_it(conn, ledger, acct):
    alice, cid = acct
    promise(ledger, alice, cid, 100_000, date(2026, 11, 30))
    pay(conn, cid, 100_000, "2026-12-02")  # due + 2 grace days
    evaluate(ledger, at("2026-12-03"), [cid])
    assert statuses(conn) == [("kept", 100_000)]


def test_payments_outside_the_window_do_not_count(conn, ledger, acct):
    alice, cid = acct
    pay(conn, cid, 100_000, "2026-11-20")  # before the promise was made
    promise(ledger, alice, cid, 100_000, date(2026, 11, 30))
    pay(conn, cid, 100_000, "2026-12-03")  # after due + grace
    evaluate(ledger, at("2026-12-03", 13), [cid])
    assert statuses(conn) == [("broken", 0)]


def test_broken_at_the_grace_boundary_of_the_customers_day(conn, ledger, acct):
    alice, cid = acct  # a New York customer
    promise(ledger, alice, cid, 100_000, date(2026, 11, 30))
    # the last day of grace, 19:30 in New York (00:30 UTC the next day): still pending
    assert evaluate(ledger, at("2026-12-03", 0).replace(minute=30)) == 0
    assert evaluate(ledger, at("2026-12-03", 4)) == 0  # 23:00 New York
    assert statuses(conn) == [("pending", 0)]
    # the customer's next day: broken
    assert evaluate(ledger, at("2026-12-03", 5)) == 1
    assert statuses(conn) == [("broken", 0)]
    # decided once: evaluating again changes nothing
    assert evaluate(ledger, at("2026-12-04", 5)) == 0


def test_the_deadline_is_stored_where_the_customer_is(conn, ledger):
    alice = ledger.collector("alice")
    tokyo = ledger.customer(
        "Tokyo",
        collector=alice,
        country="JP",
        subdivision=None,
        currency="JPY",
        phones=["+81312345678"],
    )
    promise(ledger, alice, tokyo, 100_000, date(2026, 11, 30))
    row = conn.execute("SELECT decide_at FROM promises").fetchone()
    assert row[0] == "2026-12-02T15:00:00Z"  # 00:00 on 12-03 in Tokyo
    assert evaluate(ledger, at("2026-12-02", 14)) == 0
    assert evaluate(ledger, at("2026-12-02", 15)) == 1


def test_partial_when_some_was_paid(conn, ledger, acct):
    alice, cid = acct
    promise(ledger, alice, cid, 100_000, date(2026, 11, 30))
    pay(conn, cid, 40_000, "2026-11-29")
    assert evaluate(ledger, at("2026-12-03", 4)) == 0
    assert evaluate(ledger, at("2026-12-03", 5)) == 1
    assert statuses(conn) == [("partial", 40_000)]
    assert ledger.queue_row(cid)["broken_promise"] == 1


def test_grace_days_of_the_promise_decide(conn, ledger, acct):
    alice, cid = acct
    promise(ledger, alice, cid, 100_000, date(2026, 11, 30), grace_days=0)
    assert evaluate(ledger, at("2026-12-01", 4)) == 0
    assert evaluate(ledger, at("2026-12-01", 5)) == 1
    assert statuses(conn) == [("broken", 0)]


def test_broken_promise_raises_priority_and_comes_back_first(conn, clock, settings, ledger):
    alice = ledger.collector("alice")
    promised = ledger.customer("Promised", collector=alice, invoices=[(100_000, "2026-10-01")])
    bigger = ledger.customer("Bigger", collector=alice, invoices=[(900_000, "2026-09-01")])
    promise(ledger, alice, promised, 100_000, date(2026, 11, 30))
    ledger.clock.at = at("2026-12-03", 15)
    with write_tx(conn):
        refresh_accounts(conn, ledger.clock, settings)
    before = ledger.queue_row(promised)
    assert before["next_action"] == "promise_check" and before["state"] == "ready"
    assert before["priority"] < ledger.queue_row(bigger)["priority"]
    evaluate(ledger, at("2026-12-03", 15))
    after = ledger.queue_row(promised)
    assert after["broken_promise"] == 1
    assert (after["next_action"], after["next_action_at"], after["state"]) == (
        "call",
        "2026-12-03T15:00:00Z",
        "ready",
    )
    # +200 broken promise, -15 no more promise check
    assert after["priority"] - before["priority"] == 18_500
    reasons = [r[0] for r in json.loads(after["reasons"])]
    assert "broken_promise" in reasons
    # claim_next decides promises itself, and the broken one goes back to the top
    claim = claim_next(conn, ledger.clock, ledger.settings, alice)
    assert claim is not None and claim.customer_id == promised


def test_claim_next_decides_promises_whose_grace_ended(conn, ledger, acct):
    alice, cid = acct
    promise(ledger, alice, cid, 100_000, date(2026, 11, 30))
    ledger.clock.at = at("2026-12-03", 15)
    claim = claim_next(conn, ledger.clock, ledger.settings, alice)
    assert claim is not None and claim.customer_id == cid
    assert statuses(conn) == [("broken", 0)]


def plan(ledger, alice, cid, *instalments):
    log_outcome(
        ledger.conn,
        ledger.clock,
        ledger.settings,
        collector_id=alice,
        customer_id=cid,
        inp=OutcomeInput("payment_plan", instalments=list(instalments)),
    )


def test_one_payment_is_allotted_across_two_instalments(conn, ledger, acct):
    alice, cid = acct
    plan(ledger, alice, cid, (60_000, date(2026, 11, 30)), (60_000, date(2026, 12, 7)))
    pay(conn, cid, 100_000, "2026-11-30")
    evaluate(ledger, at("2026-11-30", 20), [cid])
    assert statuses(conn) == [("kept", 60_000), ("pending", 0)]
    # later runs remember what the first promise took: 40,000 is left for the second
    assert evaluate(ledger, at("2026-12-10", 4)) == 0
    assert evaluate(ledger, at("2026-12-10", 5)) == 1
    assert statuses(conn) == [("kept", 60_000), ("partial", 40_000)]


def test_two_payments_keep_two_instalments(conn, ledger, acct):
    alice, cid = acct
    plan(ledger, alice, cid, (60_000, date(2026, 11, 30)), (60_000, date(2026, 12, 7)))
    pay(conn, cid, 60_000, "2026-11-28")
    pay(conn, cid, 60_000, "2026-12-05")
    assert evaluate(ledger, at("2026-12-05", 20), [cid]) == 2
    assert statuses(conn) == [("kept", 60_000), ("kept", 60_000)]


def test_payment_plan_instalments_are_promises(conn, clock, settings, ledger, acct):
    alice, cid = acct
    log_outcome(
        conn,
        clock,
        settings,
        collector_id=alice,
        customer_id=cid,
        inp=OutcomeInput(
            "payment_plan",
            instalments=[(50_000, date(2026, 12, 1)), (50_000, date(2027, 1, 1))],
        ),
    )
    assert ledger.queue_row(cid)["next_action_at"] == "2026-12-03T05:00:00Z"
    pay(conn, cid, 50_000, "2026-12-01")
    evaluate(ledger, at("2026-12-01", 18), [cid])
    assert statuses(conn) == [("kept", 50_000), ("pending", 0)]
    # the plan is running as agreed: nobody calls until the next instalment is checked
    q = ledger.queue_row(cid)
    assert (q["next_action"], q["next_action_at"], q["state"]) == (
        "instalment_check",
        "2027-01-03T05:00:00Z",  # midnight in New York
        "waiting",
    )
    evaluate(ledger, at("2027-01-04", 5))
    assert statuses(conn) == [("kept", 50_000), ("broken", 0)]
    assert ledger.queue_row(cid)["broken_promise"] == 1
