"""Logging outcomes: flags, default next actions (DOMAIN.md), the records each creates,
overrides, all-or-nothing validation and claims."""

from datetime import UTC, date, datetime, timedelta

import pytest

from dunning.clock import to_iso
from dunning.db.connection import write_tx
from dunning.queue.claim import ClaimError, claim_account
from dunning.queue.drafts import load_draft, save_draft
from dunning.queue.outcomes import OUTCOMES, OutcomeError, OutcomeInput, log_outcome

FRIDAY = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


@pytest.fixture
def acct(ledger):
    """alice and one account of hers with two numbers and three open invoices."""
    alice = ledger.collector("alice")
    cid = ledger.customer(
        "Acme",
        collector=alice,
        phones=["+12125550100", "+12125550101"],
        invoices=[(100_000, "2026-08-01"), (50_000, "2026-09-01"), (25_000, "2026-10-01")],
    )
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


def rows(conn, sql, *params):
    return conn.execute(sql, params).fetchall()


def phone_ids(conn, cid):
    return [
        r[0] for r in rows(conn, "SELECT id FROM phones WHERE customer_id = ? ORDER BY id", cid)
    ]


def invoice_ids(conn, cid):
    return [
        r[0] for r in rows(conn, "SELECT id FROM invoices WHERE customer_id = ? ORDER BY id", cid)
    ]


# -- flags ----------------------------------------------------------------------------------

# DOMAIN.md "Call outcomes": attempt, contact, rpc
DOMAIN_FLAGS = {
    "promise_to_pay": (1, 1, 1),
    "payment_plan": (1, 1, 1),
    "paid": (1, 1, 1),
    "dispute": (1, 1, 1),
    "callback": (1, 1, 0),  # rpc "maybe": the collector says
    "refused": (1, 1, 1),
    "left_message": (1, 0, 0),
    "no_answer": (1, 0, 0),
    "busy": (1, 0, 0),
    "wrong_number": (1, 0, 0),
    "escalated": (0, 0, 0),
    "note": (0, 0, 0),
}


def test_flags_match_the_domain_table():
    for code, (attempt, contact, rpc) in DOMAIN_FLAGS.items():
        f = OUTCOMES[code]
        assert (f.attempt, f.contact, f.rpc) == (bool(attempt), bool(contact), bool(rpc)), code


def valid_input(conn, cid, outcome, now):
    """The least each outcome needs."""
    today = now.date()
    return {
        "promise_to_pay": {"amount_minor": 10_000, "on_date": today + timedelta(days=7)},
        "payment_plan": {
            "instalments": [(10_000, today + timedelta(days=7)), (10_000, today + timedelta(30))]
        },
        "paid": {"amount_minor": 10_000, "on_date": today},
        "dispute": {
            "invoice_ids": invoice_ids(conn, cid)[:1],
            "reason": "damaged",
            "department": "sales",
        },
        "callback": {"callback_at": now + timedelta(hours=3)},
        "wrong_number": {"phone_id": phone_ids(conn, cid)[0]},
        "escalated": {"escalation": "lead_review"},
        "skip": {"reason": "in a meeting"},
    }.get(outcome, {})


@pytest.mark.parametrize("outcome", list(DOMAIN_FLAGS))
def test_activity_row_carries_the_flags(conn, clock, ledger, acct, outcome):
    alice, cid = acct
    logged = log(
        ledger,
        alice,
        cid,
        outcome,
        note=f"  {outcome}  ",
        **valid_input(conn, cid, outcome, clock.now()),
    )
    act = rows(conn, "SELECT * FROM activities WHERE id = ?", logged.activity_id)[0]
    assert (act["attempt"], act["contact"], act["rpc"]) == DOMAIN_FLAGS[outcome]
    assert act["collector_id"] == alice and act["at"] == "2026-11-23T15:00:00Z"
    assert act["note"] == outcome  # stripped
    q = ledger.queue_row(cid)
    assert (q["last_attempt_at"] is not None) == bool(DOMAIN_FLAGS[outcome][0])
    assert (q["last_contact_at"] is not None) == bool(DOMAIN_FLAGS[outcome][1])


def test_callback_rpc_when_the_collector_says_so(conn, clock, ledger, acct):
    alice, cid = acct
    logged = log(
        ledger, alice, cid, "callback", rpc=True, callback_at=clock.now() + timedelta(hours=1)
    )
    assert rows(conn, "SELECT rpc FROM activities WHERE id = ?", logged.activity_id)[0][0] == 1


# -- default next actions -------------------------------------------------------------------


def at_friday(clock):
    clock.at = FRIDAY


@pytest.mark.parametrize(
    ("outcome", "next_action", "next_at", "state"),
    [
        ("no_answer", "call", "2026-11-30T15:00:00Z", "waiting"),  # next business day: Monday
        ("left_message", "call", "2026-12-01T15:00:00Z", "waiting"),  # 2 business days
        ("paid", "verify_payment", "2026-12-02T15:00:00Z", "waiting"),  # 3 business days
        ("dispute", "call", "2026-11-30T15:00:00Z", "waiting"),
        ("busy", "call", "2026-11-27T17:00:00Z", "waiting"),  # in 2 hours
        ("refused", "lead_review", "2026-11-27T15:00:00Z", "review"),
        ("wrong_number", "call", "2026-11-27T15:00:00Z", "ready"),  # try another number
        ("skip", "call", "2026-11-27T16:00:00Z", "waiting"),  # skip_minutes
        ("callback", "callback", "2026-11-27T18:00:00Z", "waiting"),
        # D + 2 grace, from midnight where the customer is (New York: 05:00 UTC)
        ("promise_to_pay", "promise_check", "2026-12-06T05:00:00Z", "waiting"),
        ("payment_plan", "instalment_check", "2026-12-06T05:00:00Z", "waiting"),
    ],
)
def test_default_next_action_over_a_weekend(
    conn, clock, ledger, acct, outcome, next_action, next_at, state
):
    alice, cid = acct
    at_friday(clock)
    logged = log(ledger, alice, cid, outcome, **valid_input(conn, cid, outcome, clock.now()))
    assert (logged.next_action, logged.next_action_at, logged.state) == (
        next_action,
        next_at,
        state,
    )
    q = ledger.queue_row(cid)
    assert (q["next_action"], q["next_action_at"], q["state"]) == (next_action, next_at, state)
    act = rows(conn, "SELECT * FROM activities WHERE id = ?", logged.activity_id)[0]
    assert (act["next_action"], act["next_action_at"]) == (next_action, next_at)


def test_business_days_from_a_saturday(conn, clock, ledger, acct):
    alice, cid = acct
    clock.at = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)
    assert log(ledger, alice, cid, "no_answer").next_action_at == "2026-11-30T15:00:00Z"


@pytest.mark.parametrize(
    ("escalation", "next_action", "state", "status"),
    [
        ("legal", "legal", "hold", "legal"),
        ("agency", "agency", "hold", "agency"),
        ("credit_hold", "call", "waiting", "credit_hold"),
        ("lead_review", "lead_review", "review", "active"),
    ],
)
def test_escalations(conn, clock, ledger, acct, escalation, next_action, state, status):
    alice, cid = acct
    logged = log(ledger, alice, cid, "escalated", escalation=escalation)
    assert (logged.next_action, logged.state) == (next_action, state)
    assert rows(conn, "SELECT status FROM customers WHERE id = ?", cid)[0][0] == status


def test_note_changes_nothing_but_the_history(conn, clock, ledger, acct):
    alice, cid = acct
    log(ledger, alice, cid, "no_answer")
    before = dict(ledger.queue_row(cid))
    clock.advance(minutes=5)
    logged = log(ledger, alice, cid, "note", note="customer emailed")
    after = dict(ledger.queue_row(cid))
    assert (logged.next_action, logged.next_action_at) == ("call", before["next_action_at"])
    for key in ("next_action", "next_action_at", "state", "last_attempt_at", "last_contact_at"):
        assert after[key] == before[key], key


def test_collector_overrides_the_next_action(conn, clock, ledger, acct):
    alice, cid = acct
    later = clock.now() + timedelta(days=5, hours=2)
    logged = log(ledger, alice, cid, "no_answer", next_action_at=later)
    assert logged.next_action_at == to_iso(later)
    act = rows(conn, "SELECT details FROM activities WHERE id = ?", logged.activity_id)[0][0]
    assert "next_action_override" in act
    # a promise check can be moved too
    clock.advance(days=6)
    logged = log(
        ledger,
        alice,
        cid,
        "promise_to_pay",
        amount_minor=100,
        on_date=date(2026, 12, 10),
        next_action_at=clock.now() + timedelta(days=1),
    )
    assert logged.next_action == "promise_check"
    assert logged.next_action_at == "2026-11-30T15:00:00Z"


@pytest.mark.parametrize("outcome", ["refused", "escalated", "note"])
def test_no_next_action_override_where_the_outcome_decides(conn, clock, ledger, acct, outcome):
    """Refused goes to review, escalated out of the queue, a note changes nothing: a
    chosen next action would be ignored, so it is refused rather than recorded."""
    alice, cid = acct
    extra = {"escalation": "legal"} if outcome == "escalated" else {}
    with pytest.raises(OutcomeError, match="cannot be chosen"):
        log(ledger, alice, cid, outcome, next_action_at=clock.now() + timedelta(days=9), **extra)
    assert rows(conn, "SELECT COUNT(*) FROM activities")[0][0] == 0
    assert (ledger.queue_row(cid)["next_action"], ledger.queue_row(cid)["state"]) == (
        "call",
        "ready",
    )


# -- records --------------------------------------------------------------------------------


def test_promise_to_pay_creates_a_promise(conn, clock, ledger, acct):
    alice, cid = acct
    logged = log(
        ledger, alice, cid, "promise_to_pay", amount_minor=75_000, on_date=date(2026, 11, 30)
    )
    (p,) = rows(conn, "SELECT * FROM promises WHERE customer_id = ?", cid)
    assert (p["amount_minor"], p["currency"], p["due_date"], p["grace_days"]) == (
        75_000,
        "USD",
        "2026-11-30",
        2,
    )
    assert (p["status"], p["promised_on"], p["created_by"], p["activity_id"]) == (
        "pending",
        "2026-11-23",
        alice,
        logged.activity_id,
    )
    assert p["plan_ref"] is None


def test_promise_grace_days_override(conn, clock, ledger, acct):
    alice, cid = acct
    logged = log(
        ledger,
        alice,
        cid,
        "promise_to_pay",
        amount_minor=1,
        grace_days=5,
        on_date=date(2026, 11, 30),
    )
    assert rows(conn, "SELECT grace_days FROM promises")[0][0] == 5
    assert logged.next_action_at == "2026-12-05T05:00:00Z"


def test_payment_plan_creates_instalments(conn, clock, ledger, acct):
    alice, cid = acct
    plan = [(50_000, date(2026, 12, 1)), (50_000, date(2027, 1, 1)), (75_000, date(2027, 2, 1))]
    logged = log(ledger, alice, cid, "payment_plan", instalments=plan)
    got = rows(conn, "SELECT * FROM promises WHERE customer_id = ? ORDER BY instalment", cid)
    assert [(r["instalment"], r["amount_minor"], r["due_date"]) for r in got] == [
        (1, 50_000, "2026-12-01"),
        (2, 50_000, "2027-01-01"),
        (3, 75_000, "2027-02-01"),
    ]
    assert {r["plan_ref"] for r in got} == {f"plan-{logged.activity_id}"}
    assert {r["status"] for r in got} == {"pending"}
    assert logged.next_action_at == "2026-12-03T05:00:00Z"


def test_dispute_creates_dispute_links_invoices_and_flags_them(conn, clock, ledger, acct):
    alice, cid = acct
    first, second, _ = invoice_ids(conn, cid)
    logged = log(
        ledger,
        alice,
        cid,
        "dispute",
        invoice_ids=[second, first, first],
        reason="billing_error",
        department="billing",
    )
    (d,) = rows(conn, "SELECT * FROM disputes WHERE customer_id = ?", cid)
    assert (d["reason"], d["department"], d["status"], d["amount_minor"]) == (
        "billing_error",
        "billing",
        "open",
        150_000,
    )
    assert (d["activity_id"], d["created_by"]) == (logged.activity_id, alice)
    linked = rows(conn, "SELECT invoice_id FROM dispute_invoices WHERE dispute_id = ?", d["id"])
    assert sorted(r[0] for r in linked) == [first, second]
    flags = rows(conn, "SELECT id, disputed FROM invoices WHERE customer_id = ? ORDER BY id", cid)
    assert [tuple(r) for r in flags] == [(first, 1), (second, 1), (flags[2][0], 0)]
    q = ledger.queue_row(cid)
    assert (q["open_minor"], q["disputed_minor"], q["state"]) == (25_000, 150_000, "waiting")


def test_disputing_every_invoice_takes_the_account_out(conn, clock, ledger, acct):
    alice, cid = acct
    logged = log(
        ledger,
        alice,
        cid,
        "dispute",
        invoice_ids=invoice_ids(conn, cid),
        reason="quality",
        department="customer_service",
    )
    assert logged.state == "disputed"


def test_paid_creates_a_payment_report(conn, clock, ledger, acct):
    alice, cid = acct
    log(
        ledger,
        alice,
        cid,
        "paid",
        amount_minor=175_000,
        on_date=date(2026, 11, 20),
        reference="WIRE-991",
    )
    (r,) = rows(conn, "SELECT * FROM payment_reports WHERE customer_id = ?", cid)
    assert (r["amount_minor"], r["currency"], r["paid_on"], r["reference"], r["created_by"]) == (
        175_000,
        "USD",
        "2026-11-20",
        "WIRE-991",
        alice,
    )
    # a report is not a payment: the balance is unchanged until the ERP says so
    assert ledger.queue_row(cid)["open_minor"] == 175_000
    assert rows(conn, "SELECT COUNT(*) FROM payments")[0][0] == 0


def test_wrong_number_marks_it_bad_and_the_next_number_is_tried(conn, clock, ledger, acct):
    alice, cid = acct
    bad, good = phone_ids(conn, cid)
    logged = log(ledger, alice, cid, "wrong_number", phone_id=bad)
    assert logged.state == "ready"
    p = rows(conn, "SELECT * FROM phones WHERE id = ?", bad)[0]
    assert (p["bad"], p["bad_by"], p["bad_at"]) == (1, alice, "2026-11-23T15:00:00Z")
    assert rows(conn, "SELECT bad FROM phones WHERE id = ?", good)[0][0] == 0
    logged = log(ledger, alice, cid, "wrong_number", phone_id=good)
    assert logged.state == "no_phone"


def test_right_party_contact_clears_broken_promise(conn, clock, ledger, acct):
    alice, cid = acct
    with write_tx(conn):
        conn.execute("UPDATE queue SET broken_promise = 1 WHERE customer_id = ?", (cid,))
    log(ledger, alice, cid, "no_answer")
    assert ledger.queue_row(cid)["broken_promise"] == 1
    clock.advance(days=1)
    log(ledger, alice, cid, "refused")
    assert ledger.queue_row(cid)["broken_promise"] == 0


def test_logging_releases_the_claim_and_clears_the_draft(conn, clock, settings, ledger, acct):
    alice, cid = acct
    claim_account(conn, clock, settings, alice, cid)
    save_draft(conn, clock, alice, cid, "half typed")
    log(ledger, alice, cid, "no_answer", note="half typed, then finished")
    q = ledger.queue_row(cid)
    assert q["claimed_by"] is None and q["claim_expires_at"] is None
    assert load_draft(conn, alice, cid) == ""


# -- all or nothing -------------------------------------------------------------------------

TABLES = (
    "activities",
    "promises",
    "disputes",
    "dispute_invoices",
    "payment_reports",
    "drafts",
)


def snapshot(conn):
    data = {t: [tuple(r) for r in rows(conn, f"SELECT * FROM {t} ORDER BY rowid")] for t in TABLES}
    for t in ("queue", "phones", "invoices", "customers"):
        data[t] = [tuple(r) for r in rows(conn, f"SELECT * FROM {t} ORDER BY rowid")]
    return data


def bad_inputs(conn, clock, cid, other_cid):
    today = clock.now().date()
    now = clock.now()
    inv = invoice_ids(conn, cid)
    return [
        ("no_such_outcome", {}, "unknown outcome"),
        ("promise_to_pay", {"on_date": today}, "amount"),
        ("promise_to_pay", {"amount_minor": 0, "on_date": today}, "amount"),
        ("promise_to_pay", {"amount_minor": 100}, "date"),
        ("promise_to_pay", {"amount_minor": 100, "on_date": today - timedelta(1)}, "past"),
        ("promise_to_pay", {"amount_minor": 100, "on_date": today + timedelta(400)}, "year"),
        ("promise_to_pay", {"amount_minor": 100, "on_date": today, "grace_days": 31}, "grace"),
        ("payment_plan", {"instalments": [(100, today)]}, "two instalments"),
        ("payment_plan", {"instalments": [(100, today + timedelta(9)), (100, today)]}, "order"),
        ("payment_plan", {"instalments": [(100, today - timedelta(1)), (1, today)]}, "past"),
        ("payment_plan", {"instalments": [(0, today), (100, today + timedelta(9))]}, "amount"),
        ("paid", {"amount_minor": 100, "on_date": today + timedelta(1)}, "future"),
        ("paid", {"on_date": today}, "amount"),
        ("dispute", {"reason": "damaged", "department": "sales"}, "at least one invoice"),
        ("dispute", {"invoice_ids": inv[:1], "reason": "moody", "department": "sales"}, "reason"),
        ("dispute", {"invoice_ids": inv[:1], "reason": "damaged", "department": "hr"}, "depart"),
        (
            "dispute",
            {"invoice_ids": invoice_ids(conn, other_cid), "reason": "other", "department": "sales"},
            "of this customer",
        ),
        ("callback", {}, "date and time"),
        ("callback", {"callback_at": now - timedelta(hours=1)}, "past"),
        ("wrong_number", {}, "which number"),
        ("wrong_number", {"phone_id": phone_ids(conn, other_cid)[0]}, "not a number of this"),
        ("no_answer", {"phone_id": 999_999}, "not a number of this"),
        ("escalated", {"escalation": "mafia"}, "escalate to"),
        ("skip", {"reason": "   "}, "why"),
        ("no_answer", {"next_action_at": now - timedelta(hours=2)}, "past"),
    ]


def test_validation_errors_write_nothing(conn, clock, ledger, acct):
    alice, cid = acct
    other = ledger.customer("Other", invoices=[(10_000, "2026-10-01")])
    save_draft(conn, clock, alice, cid, "keep me")
    before = snapshot(conn)
    for outcome, kw, message in bad_inputs(conn, clock, cid, other):
        with pytest.raises(OutcomeError, match=message):
            log(ledger, alice, cid, outcome, **kw)
        assert snapshot(conn) == before, (outcome, kw)
    with pytest.raises(OutcomeError, match="no customer"):
        log(ledger, alice, 424242, "no_answer")
    assert snapshot(conn) == before


def test_an_already_disputed_invoice_cannot_be_disputed_again(conn, clock, ledger, acct):
    alice, cid = acct
    inv = invoice_ids(conn, cid)[:1]
    log(ledger, alice, cid, "dispute", invoice_ids=inv, reason="other", department="sales")
    before = snapshot(conn)
    with pytest.raises(OutcomeError, match="undisputed"):
        log(ledger, alice, cid, "dispute", invoice_ids=inv, reason="other", department="sales")
    assert snapshot(conn) == before


def test_a_failure_half_way_leaves_nothing_half_stored(conn, clock, ledger, acct):
    """The activity is written before the promise: if the promise fails, both go."""
    alice, cid = acct
    with write_tx(conn):
        conn.execute(
            "CREATE TRIGGER boom BEFORE INSERT ON promises "
            "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END"
        )
    before = snapshot(conn)
    with pytest.raises(Exception, match="disk on fire"):
        log(ledger, alice, cid, "promise_to_pay", amount_minor=100, on_date=date(2026, 12, 1))
    assert snapshot(conn) == before
    assert not conn.in_transaction
    with write_tx(conn):
        conn.execute("DROP TRIGGER boom")
    log(ledger, alice, cid, "promise_to_pay", amount_minor=100, on_date=date(2026, 12, 1))
    assert len(rows(conn, "SELECT * FROM promises")) == 1


# -- claims ---------------------------------------------------------------------------------


def test_an_account_held_by_another_collector_refuses(conn, clock, settings, ledger, acct):
    alice, cid = acct
    bruno = ledger.collector("bruno", role="lead")  # only a lead may open alice's account
    claim_account(conn, clock, settings, bruno, cid)
    before = snapshot(conn)
    with pytest.raises(ClaimError, match="being worked by bruno"):
        log(ledger, alice, cid, "no_answer")
    assert snapshot(conn) == before
    # bruno's process died: once the lease expires, alice may log
    clock.advance(minutes=settings.lease_minutes + 1)
    assert log(ledger, alice, cid, "no_answer").outcome == "no_answer"


def test_history_of_one_second_is_newest_first(conn, clock, ledger, acct):
    from dunning.queue.account_view import timeline

    alice, cid = acct
    for outcome in ("busy", "no_answer", "note"):
        log(ledger, alice, cid, outcome, note=outcome)  # the clock stands still
    assert [e.code for e in timeline(conn, cid)] == ["note", "no_answer", "busy"]
