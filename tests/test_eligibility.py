"""Eligibility: which accounts may be claimed (derive_state), and the queue rows behind it."""

from datetime import UTC, datetime

import pytest

from dunning.clock import to_iso
from dunning.db.connection import write_tx
from dunning.queue.accounts import Balances, derive_state, first_past_due, refresh_accounts
from dunning.queue.claim import claim_next

NOW = "2026-11-23T15:00:00Z"
OWED = Balances(open_minor=100_000, usable_phones=1)


def state(status="active", balances=OWED, next_action="call", next_action_at=NOW):
    return derive_state(
        customer_status=status,
        balances=balances,
        next_action=next_action,
        next_action_at=next_action_at,
        now_iso=NOW,
    )


def test_ready_when_owed_callable_and_due():
    assert state() == "ready"
    assert state(next_action_at="2026-11-23T14:59:59Z") == "ready"


def test_waiting_until_the_next_action_is_due():
    assert state(next_action_at="2026-11-23T15:00:01Z") == "waiting"


@pytest.mark.parametrize("status", ["legal", "agency", "cease"])
def test_hold_statuses(status):
    assert state(status) == "hold"


@pytest.mark.parametrize("status", ["write_off", "closed"])
def test_closed_statuses(status):
    assert state(status) == "closed"


def test_credit_hold_is_still_worked():
    assert state("credit_hold") == "ready"


def test_wholly_disputed_leaves_the_queue_partly_disputed_does_not():
    assert state(balances=Balances(disputed_minor=100_000, usable_phones=1)) == "disputed"
    part = Balances(open_minor=50_000, disputed_minor=50_000, usable_phones=1)
    assert state(balances=part) == "ready"


def test_nothing_owed_net_of_credits_is_closed():
    assert state(balances=Balances(usable_phones=1)) == "closed"
    paid_up = Balances(open_minor=100_000, credits_minor=-100_000, usable_phones=1)
    assert state(balances=paid_up) == "closed"
    mostly = Balances(open_minor=100_000, credits_minor=-99_999, usable_phones=1)
    assert state(balances=mostly) == "ready"


def test_lead_review_and_no_phone():
    assert state(next_action="lead_review") == "review"
    assert state(balances=Balances(open_minor=100_000, usable_phones=0)) == "no_phone"


def test_precedence_closed_then_hold_then_balance_then_review_then_phone():
    nothing = Balances()
    assert state("write_off", balances=nothing) == "closed"
    assert state("legal", balances=nothing, next_action="lead_review") == "hold"
    no_phone = Balances(open_minor=1, usable_phones=0)
    assert state(balances=no_phone, next_action="lead_review") == "review"
    assert state(balances=no_phone, next_action_at="2099-01-01T00:00:00Z") == "no_phone"


# -- the same rules on a real database ------------------------------------------------------


def refresh(conn, clock, settings, cid):
    with write_tx(conn):
        refresh_accounts(conn, clock, settings, [cid])


def test_queue_rows_follow_the_ledger(conn, clock, settings, ledger):
    alice = ledger.collector("alice")
    cid = ledger.customer(
        "Acme",
        collector=alice,
        invoices=[(100_000, "2026-09-01"), (40_000, "2026-10-01"), (-15_000, "2026-10-15")],
    )
    row = ledger.queue_row(cid)
    assert row["state"] == "ready"
    assert row["open_minor"] == 140_000 and row["unapplied_minor"] == -15_000
    assert row["oldest_due"] == "2026-09-01"
    # dispute the oldest invoice: the rest is still worked, oldest undisputed due moves
    with write_tx(conn):
        conn.execute(
            "UPDATE invoices SET disputed = 1 WHERE customer_id = ? AND due_date = ?",
            (cid, "2026-09-01"),
        )
    refresh(conn, clock, settings, cid)
    row = ledger.queue_row(cid)
    assert row["state"] == "ready" and row["disputed_minor"] == 100_000
    assert row["oldest_due"] == "2026-10-01"
    # dispute the other one too: wholly disputed
    with write_tx(conn):
        conn.execute("UPDATE invoices SET disputed = 1 WHERE customer_id = ?", (cid,))
    refresh(conn, clock, settings, cid)
    assert ledger.queue_row(cid)["state"] == "disputed"


def test_paid_invoices_and_unapplied_cash_close_the_account(conn, clock, settings, ledger):
    cid = ledger.customer("Acme", invoices=[(100_000, "2026-09-01")])
    with write_tx(conn):
        conn.execute(
            "INSERT INTO payments (customer_id, amount_minor, currency, paid_on, created_at) "
            "VALUES (?, 100000, 'USD', '2026-11-20', ?)",
            (cid, to_iso(clock.now())),
        )
    refresh(conn, clock, settings, cid)
    assert ledger.queue_row(cid)["state"] == "closed"


@pytest.mark.parametrize("flag", ["bad", "do_not_call"])
def test_no_usable_phone(conn, clock, settings, ledger, flag):
    cid = ledger.customer("Acme", phones=["+12125550100", "+12125550101"])
    with write_tx(conn):
        conn.execute(f"UPDATE phones SET {flag} = 1 WHERE e164 = '+12125550100'")
    refresh(conn, clock, settings, cid)
    assert ledger.queue_row(cid)["state"] == "ready"
    with write_tx(conn):
        conn.execute(f"UPDATE phones SET {flag} = 1 WHERE customer_id = ?", (cid,))
    refresh(conn, clock, settings, cid)
    assert ledger.queue_row(cid)["state"] == "no_phone"


@pytest.mark.parametrize(
    ("status", "expected"), [("legal", "hold"), ("cease", "hold"), ("write_off", "closed")]
)
def test_status_from_the_customer_row(ledger, status, expected):
    cid = ledger.customer("Acme", status=status)
    assert ledger.queue_row(cid)["state"] == expected


def test_only_ready_accounts_are_claimed(conn, clock, settings, ledger):
    alice = ledger.collector("alice")
    ledger.customer(
        "On hold", collector=alice, status="legal", invoices=[(9_000_000, "2026-01-01")]
    )
    ledger.customer("No phone", collector=alice, phones=[], invoices=[(9_000_000, "2026-01-01")])
    waiting = ledger.customer("Later", collector=alice, invoices=[(9_000_000, "2026-01-01")])
    with write_tx(conn):
        conn.execute(
            "UPDATE queue SET next_action_at = '2026-11-24T15:00:00Z' WHERE customer_id = ?",
            (waiting,),
        )
    refresh(conn, clock, settings, waiting)
    assert ledger.queue_row(waiting)["state"] == "waiting"
    ready = ledger.customer("Ready", collector=alice, invoices=[(1_000, "2026-11-01")])
    claim = claim_next(conn, clock, settings, alice)
    assert claim is not None and claim.customer_id == ready
    assert claim_next(conn, clock, settings, alice, resume=False) is None
    # the next day, the waiting account wakes up
    clock.advance(days=1)
    claim = claim_next(conn, clock, settings, alice, resume=False)
    assert claim is not None and claim.customer_id == waiting


def test_other_collectors_accounts_are_not_offered(conn, clock, settings, ledger):
    alice = ledger.collector("alice")
    bruno = ledger.collector("bruno")
    ledger.customer("Bruno's", collector=bruno)
    ledger.customer("Nobody's", collector=None)
    assert claim_next(conn, clock, settings, alice) is None


# -- nothing is dealt for which no money is past due ----------------------------------------
# T0 is Monday 2026-11-23.


def test_first_past_due_nets_credits_oldest_first():
    assert first_past_due([("2026-12-10", 100)], 0) == "2026-12-11"
    assert first_past_due([("2026-12-10", 100), ("2026-11-01", 50)], -60) == "2026-12-11"
    assert first_past_due([("2026-12-10", 100), ("2026-11-01", 50)], -40) == "2026-11-02"
    assert first_past_due([("2026-12-10", 100)], -100) is None


def test_a_current_balance_waits_for_its_due_date(conn, clock, settings, ledger):
    alice = ledger.collector("alice")
    cid = ledger.customer("Current", collector=alice, invoices=[(500_000, "2026-12-10")])
    row = ledger.queue_row(cid)
    assert (row["state"], row["next_action"], row["next_action_at"]) == (
        "waiting",
        "await_due",
        "2026-12-11T11:00:00Z",  # the 11th has begun for every customer
    )
    assert claim_next(conn, clock, settings, alice) is None
    clock.at = datetime(2026, 12, 11, 15, 0, tzinfo=UTC)  # a day past due
    claim = claim_next(conn, clock, settings, alice)
    assert claim is not None and claim.customer_id == cid
    assert ledger.queue_row(cid)["next_action"] == "call"


def test_credits_that_cover_what_is_past_due_wait_too(conn, clock, settings, ledger):
    alice = ledger.collector("alice")
    cid = ledger.customer(
        "Covered",
        collector=alice,
        invoices=[(100_000, "2026-10-01"), (-100_000, "2026-10-15"), (50_000, "2026-12-01")],
    )
    row = ledger.queue_row(cid)
    assert (row["state"], row["next_action_at"]) == ("waiting", "2026-12-02T11:00:00Z")
    assert claim_next(conn, clock, settings, alice) is None


def test_past_due_money_arriving_makes_it_a_call_at_once(conn, clock, settings, ledger):
    alice = ledger.collector("alice")
    cid = ledger.customer("Current", collector=alice, invoices=[(500_000, "2026-12-10")])
    assert ledger.queue_row(cid)["state"] == "waiting"
    with write_tx(conn):
        conn.execute(
            "INSERT INTO invoices (customer_id, number, issue_date, due_date, amount_minor, "
            "open_minor, currency, created_at, updated_at) VALUES (?, 'LATE', '2026-10-01', "
            "'2026-10-31', 20000, 20000, 'USD', ?, ?)",
            (cid, to_iso(clock.now()), to_iso(clock.now())),
        )
        refresh_accounts(conn, clock, settings, [cid])
    row = ledger.queue_row(cid)
    assert (row["state"], row["next_action"]) == ("ready", "call")
    assert row["next_action_at"] <= to_iso(clock.now())


@pytest.mark.parametrize("action", ["callback", "promise_check", "instalment_check"])
def test_a_callback_or_promise_check_is_due_anyway(conn, clock, settings, ledger, action):
    alice = ledger.collector("alice")
    cid = ledger.customer("Current", collector=alice, invoices=[(500_000, "2026-12-10")])
    with write_tx(conn):
        conn.execute(
            "UPDATE queue SET next_action = ?, next_action_at = ? WHERE customer_id = ?",
            (action, to_iso(clock.now()), cid),
        )
        refresh_accounts(conn, clock, settings, [cid])
    assert ledger.queue_row(cid)["state"] == "ready"
    claim = claim_next(conn, clock, settings, alice)
    assert claim is not None and claim.customer_id == cid


def test_a_later_next_action_the_collector_chose_is_kept(conn, clock, settings, ledger):
    alice = ledger.collector("alice")
    cid = ledger.customer("Current", collector=alice, invoices=[(500_000, "2026-11-25")])
    with write_tx(conn):
        conn.execute(
            "UPDATE queue SET next_action = 'call', next_action_at = '2026-12-01T14:00:00Z' "
            "WHERE customer_id = ?",
            (cid,),
        )
        refresh_accounts(conn, clock, settings, [cid])
    row = ledger.queue_row(cid)
    assert (row["next_action"], row["next_action_at"]) == ("call", "2026-12-01T14:00:00Z")


@pytest.mark.parametrize(
    ("sub", "phone", "when"),
    [
        ("HI", "+18085550123", datetime(2026, 12, 11, 2, 0, tzinfo=UTC)),  # Thu 10 16:00 HST
        ("NY", "+12125550100", datetime(2026, 12, 11, 1, 0, tzinfo=UTC)),  # Thu 10 20:00 NY
    ],
)
def test_money_is_past_due_on_the_customers_date_not_utcs(
    conn, clock, settings, ledger, sub, phone, when
):
    """Due on the 10th: on the evening of the 10th where the customer is (already the 11th
    in UTC) nothing is past due yet for them, so the account is not dealt."""
    alice = ledger.collector("alice")
    cid = ledger.customer(
        "Due today", collector=alice, subdivision=sub, portfolio="consumer",
        invoices=[(500_000, "2026-12-10")], phones=[phone],
    )  # fmt: skip
    clock.at = when
    with write_tx(conn):
        refresh_accounts(conn, clock, settings, [cid])
    assert claim_next(conn, clock, settings, alice) is None
    clock.at = datetime(2026, 12, 11, 19, 0, tzinfo=UTC)  # the 11th everywhere, in the window
    claim = claim_next(conn, clock, settings, alice)
    assert claim is not None and claim.customer_id == cid
