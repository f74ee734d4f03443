"""Voiding an outcome (queue/void.py): an appended record; what it created is cancelled
and the queue row recomputed; who may, and what is refused."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import pytest
from conftest import Ledger

from dunning.clock import FixedClock, to_iso
from dunning.db.connection import write_tx
from dunning.queue.account_view import timeline
from dunning.queue.claim import claim_account
from dunning.queue.collectors import get_collector_by_id
from dunning.queue.config import Settings
from dunning.queue.outcomes import OutcomeInput, log_outcome
from dunning.queue.promises import evaluate_promises
from dunning.queue.void import VoidInputError, VoidRefused, undo_outcome, void_activity


@pytest.fixture
def team(ledger: Ledger) -> dict[str, int]:
    alice = ledger.collector("alice")
    bob = ledger.collector("bob")
    lena = ledger.collector("lena", role="lead")
    acme = ledger.customer(
        "Acme", collector=alice, invoices=[(100_000, "2026-09-01"), (50_000, "2026-10-01")]
    )
    return {"alice": alice, "bob": bob, "lena": lena, "acme": acme}


def log(conn, clock, settings, who: int, cid: int, inp: OutcomeInput) -> int:
    return log_outcome(
        conn, clock, settings, collector_id=who, customer_id=cid, inp=inp
    ).activity_id


def void(conn, clock, settings, who: int, aid: int, reason: str = "wrong account"):
    by = get_collector_by_id(conn, who)
    assert by is not None
    return void_activity(conn, clock, settings, by=by, activity_id=aid, reason=reason)


def row(conn: sqlite3.Connection, sql: str, *params: object) -> sqlite3.Row:
    return conn.execute(sql, params).fetchone()


def test_a_lead_voids_a_promise_it_is_cancelled_and_the_queue_recomputed(
    conn, clock: FixedClock, settings: Settings, team, ledger: Ledger
):
    cid = team["acme"]
    first = log(conn, clock, settings, team["alice"], cid, OutcomeInput("no_answer"))
    clock.advance(hours=1)
    aid = log(
        conn,
        clock,
        settings,
        team["alice"],
        cid,
        OutcomeInput("promise_to_pay", amount_minor=10_000, on_date=date(2026, 11, 30)),
    )
    assert ledger.queue_row(cid)["next_action"] == "promise_check"
    clock.advance(days=2)
    v = void(conn, clock, settings, team["lena"], aid)
    assert v.cancelled == {"promises": [[1, "pending"]]}
    assert row(conn, "SELECT status FROM promises WHERE activity_id = ?", aid)[0] == "cancelled"
    # the activity stays; the void is a new row
    assert row(conn, "SELECT COUNT(*) FROM activities")[0] == 2
    vr = row(conn, "SELECT * FROM voids WHERE activity_id = ?", aid)
    assert (vr["voided_by"], vr["reason"], vr["undo"]) == (team["lena"], "wrong account", 0)
    q = ledger.queue_row(cid)
    before = row(conn, "SELECT next_action, next_action_at, at FROM activities WHERE id = ?", first)
    assert (q["next_action"], q["next_action_at"]) == (
        before["next_action"],
        before["next_action_at"],
    )
    assert q["last_attempt_at"] == before["at"] and q["last_contact_at"] is None
    assert q["state"] == "ready"
    entries = timeline(conn, cid, None)
    voided = [e for e in entries if e.id == aid][0]
    assert voided.voided is not None and voided.voided["by"] == "lena"
    assert [e for e in entries if e.id == first][0].voided is None


def test_voiding_a_broken_promise_clears_the_broken_flag(
    conn, clock: FixedClock, settings: Settings, team, ledger: Ledger
):
    cid = team["acme"]
    aid = log(
        conn,
        clock,
        settings,
        team["alice"],
        cid,
        OutcomeInput("promise_to_pay", amount_minor=10_000, on_date=date(2026, 11, 24)),
    )
    clock.advance(days=5)
    with write_tx(conn):
        evaluate_promises(conn, clock, settings)
    assert ledger.queue_row(cid)["broken_promise"] == 1
    void(conn, clock, settings, team["lena"], aid, "logged on the wrong account")
    assert row(conn, "SELECT status FROM promises")[0] == "cancelled"
    q = ledger.queue_row(cid)
    assert (q["broken_promise"], q["next_action"]) == (0, "call")


def test_voiding_a_plan_cancels_every_instalment(conn, clock, settings, team):
    cid = team["acme"]
    aid = log(
        conn,
        clock,
        settings,
        team["alice"],
        cid,
        OutcomeInput(
            "payment_plan", instalments=[(5_000, date(2026, 12, 1)), (5_000, date(2027, 1, 1))]
        ),
    )
    void(conn, clock, settings, team["alice"], aid, "typo")
    statuses = [r[0] for r in conn.execute("SELECT status FROM promises")]
    assert statuses == ["cancelled", "cancelled"]


def test_voiding_a_dispute_closes_it_and_undisputes_its_invoices(
    conn, clock, settings, team, ledger: Ledger
):
    cid = team["acme"]
    inv = [r[0] for r in conn.execute("SELECT id FROM invoices WHERE customer_id = ?", (cid,))]
    a1 = log(
        conn,
        clock,
        settings,
        team["alice"],
        cid,
        OutcomeInput("dispute", invoice_ids=[inv[0]], reason="pricing", department="sales"),
    )
    a2 = log(
        conn,
        clock,
        settings,
        team["alice"],
        cid,
        OutcomeInput("dispute", invoice_ids=[inv[1]], reason="damaged", department="sales"),
    )
    assert ledger.queue_row(cid)["disputed_minor"] == 150_000
    void(conn, clock, settings, team["lena"], a1)
    assert row(conn, "SELECT status FROM disputes WHERE activity_id = ?", a1)[0] == "voided"
    assert row(conn, "SELECT status FROM disputes WHERE activity_id = ?", a2)[0] == "open"
    disputed = dict(conn.execute("SELECT id, disputed FROM invoices").fetchall())
    assert disputed == {inv[0]: 0, inv[1]: 1}
    assert ledger.queue_row(cid)["disputed_minor"] == 50_000


def test_voiding_a_wrong_number_makes_the_number_usable_again(conn, clock, settings, team):
    cid = team["acme"]
    phone = row(conn, "SELECT id FROM phones WHERE customer_id = ?", cid)[0]
    aid = log(
        conn, clock, settings, team["alice"], cid, OutcomeInput("wrong_number", phone_id=phone)
    )
    assert row(conn, "SELECT bad FROM phones WHERE id = ?", phone)[0] == 1
    v = void(conn, clock, settings, team["alice"], aid, "it was the right number")
    assert v.cancelled == {"bad_phone": phone}
    assert tuple(row(conn, "SELECT bad, bad_at, bad_by FROM phones WHERE id = ?", phone)) == (
        0,
        None,
        None,
    )


def test_voiding_a_paid_report_and_an_escalation(conn, clock, settings, team, ledger: Ledger):
    cid = team["acme"]
    paid = log(
        conn,
        clock,
        settings,
        team["alice"],
        cid,
        OutcomeInput("paid", amount_minor=1_000, on_date=date(2026, 11, 20)),
    )
    v = void(conn, clock, settings, team["alice"], paid, "another customer paid")
    assert v.cancelled == {"payment_reports": [1]}
    assert row(conn, "SELECT COUNT(*) FROM payment_reports")[0] == 1  # kept, voided
    esc = log(
        conn, clock, settings, team["alice"], cid, OutcomeInput("escalated", escalation="legal")
    )
    assert ledger.queue_row(cid)["state"] == "hold"
    void(conn, clock, settings, team["lena"], esc)
    assert row(conn, "SELECT status FROM customers WHERE id = ?", cid)[0] == "active"
    assert ledger.queue_row(cid)["state"] == "ready"


def test_voiding_refused_takes_the_account_out_of_review(conn, clock, settings, team, ledger):
    cid = team["acme"]
    aid = log(conn, clock, settings, team["alice"], cid, OutcomeInput("refused"))
    assert ledger.queue_row(cid)["state"] == "review"
    void(conn, clock, settings, team["alice"], aid)
    q = ledger.queue_row(cid)
    assert (q["state"], q["next_action"], q["last_attempt_at"]) == ("ready", "call", None)


def test_who_may_void_and_what_is_refused(conn, clock: FixedClock, settings, team):
    cid = team["acme"]
    aid = log(conn, clock, settings, team["alice"], cid, OutcomeInput("no_answer"))
    with pytest.raises(VoidRefused, match="logged by alice: only a lead"):
        void(conn, clock, settings, team["bob"], aid)
    with pytest.raises(VoidInputError, match="reason"):
        void(conn, clock, settings, team["alice"], aid, "  ")
    with pytest.raises(VoidInputError, match="no activity with id 999"):
        void(conn, clock, settings, team["lena"], 999)
    clock.advance(days=1)
    with pytest.raises(VoidRefused, match="earlier day"):
        void(conn, clock, settings, team["alice"], aid)
    assert row(conn, "SELECT COUNT(*) FROM voids")[0] == 0
    void(conn, clock, settings, team["lena"], aid)
    with pytest.raises(VoidRefused, match="already voided"):
        void(conn, clock, settings, team["lena"], aid)
    with write_tx(conn):
        conn.execute(
            "INSERT INTO activities (customer_id, at, outcome, note) VALUES (?, ?, 'system', '')",
            (cid, to_iso(clock.now())),
        )
    system = row(conn, "SELECT MAX(id) FROM activities")[0]
    with pytest.raises(VoidRefused, match="system"):
        void(conn, clock, settings, team["lena"], system)
    assert row(conn, "SELECT COUNT(*) FROM voids")[0] == 1


def test_undo_within_the_window_reclaims_with_the_note(
    conn, clock: FixedClock, settings, team, ledger
):
    cid = team["acme"]
    other = ledger.customer("Bolt", collector=team["alice"])
    aid = log(conn, clock, settings, team["alice"], cid, OutcomeInput("refused", note="rude"))
    claim_account(conn, clock, settings, team["alice"], other)
    alice = get_collector_by_id(conn, team["alice"])
    assert alice is not None
    clock.advance(seconds=settings.undo_seconds + 1)
    with pytest.raises(VoidRefused, match="too late"):
        undo_outcome(conn, clock, settings, by=alice, activity_id=aid, release_id=other)
    clock.advance(seconds=-2)
    v = undo_outcome(conn, clock, settings, by=alice, activity_id=aid, release_id=other)
    assert (v.reason, v.note) == ("undone", "rude")
    assert row(conn, "SELECT undo, reason FROM voids")[:] == (1, "undone")
    assert ledger.queue_row(cid)["claimed_by"] == team["alice"]
    assert ledger.queue_row(other)["claimed_by"] is None
    assert row(conn, "SELECT text FROM drafts WHERE customer_id = ?", cid)[0] == "rude"


def test_undo_refused_when_someone_else_has_the_account(conn, clock, settings, team, ledger):
    cid = team["acme"]
    aid = log(conn, clock, settings, team["alice"], cid, OutcomeInput("no_answer"))
    claim_account(conn, clock, settings, team["lena"], cid)
    alice = get_collector_by_id(conn, team["alice"])
    assert alice is not None
    with pytest.raises(VoidRefused, match="open for lena"):
        undo_outcome(conn, clock, settings, by=alice, activity_id=aid)
    assert row(conn, "SELECT COUNT(*) FROM voids")[0] == 0
    assert ledger.queue_row(cid)["claimed_by"] == team["lena"]


def test_a_later_outcome_keeps_its_next_action(conn, clock: FixedClock, settings, team, ledger):
    cid = team["acme"]
    aid = log(conn, clock, settings, team["alice"], cid, OutcomeInput("no_answer"))
    clock.advance(minutes=5)
    log(
        conn,
        clock,
        settings,
        team["alice"],
        cid,
        OutcomeInput("callback", callback_at=clock.now() + timedelta(days=1)),
    )
    void(conn, clock, settings, team["lena"], aid)
    assert ledger.queue_row(cid)["next_action"] == "callback"


def test_a_voided_conversation_no_longer_blocks_calls(conn, clock: FixedClock, settings, ledger):
    """Reg F's 7 days after a conversation: a Refused logged on the wrong consumer blocked
    them for a week; voided, it counts for nothing (nor for the 7-in-7 cap)."""
    from dunning.queue.contact_rules import check_callable

    alice = ledger.collector("alice")
    lena = ledger.collector("lena", role="lead")
    cid = ledger.customer("Jane Doe", collector=alice, portfolio="consumer")
    aid = log(conn, clock, settings, alice, cid, OutcomeInput("refused"))
    clock.advance(days=1)

    def verdict() -> str:
        return check_callable(
            conn,
            clock.now(),
            settings,
            customer_id=cid,
            portfolio="consumer",
            country="US",
            subdivision="NY",
            zones=("America/New_York",),
        ).code

    assert verdict() == "recent_conversation"
    void(conn, clock, settings, lena, aid, "wrong customer")
    assert verdict() == "ok"


def test_a_voided_outcome_counts_in_no_metrics(conn, clock: FixedClock, settings, team):
    from dunning.db.metrics import metrics

    cid = team["acme"]
    log(conn, clock, settings, team["alice"], cid, OutcomeInput("no_answer"))
    aid = log(
        conn,
        clock,
        settings,
        team["alice"],
        cid,
        OutcomeInput("promise_to_pay", amount_minor=10_000, on_date=date(2026, 11, 30)),
    )
    day = clock.now().date()

    def alice() -> tuple[int, int, int]:
        report = metrics(conn, day, day)
        calls = next(a for a in report.activity if a.collector == "alice")
        promised = sum(m.promised for m in report.money if m.collector == "alice")
        return calls.attempts, calls.rpc, promised

    assert alice() == (2, 1, 10_000)
    void(conn, clock, settings, team["lena"], aid)
    assert alice() == (1, 0, 0)


def test_voiding_a_renegotiated_promise_restores_the_one_it_replaced(
    conn, clock: FixedClock, settings: Settings, team, ledger: Ledger
):
    cid = team["acme"]
    first = log(
        conn,
        clock,
        settings,
        team["alice"],
        cid,
        OutcomeInput("promise_to_pay", amount_minor=10_000, on_date=date(2026, 11, 30)),
    )
    clock.advance(hours=1)
    second = log(
        conn,
        clock,
        settings,
        team["alice"],
        cid,
        OutcomeInput("promise_to_pay", amount_minor=20_000, on_date=date(2026, 12, 4)),
    )
    old = row(conn, "SELECT id, status FROM promises WHERE activity_id = ?", first)
    assert old["status"] == "cancelled"  # superseded by the renegotiation
    v = void(conn, clock, settings, team["lena"], second, "logged on the wrong call")
    assert v.cancelled["restored_promises"] == [old["id"]]
    assert row(conn, "SELECT status, superseded_by FROM promises WHERE id = ?", old["id"])[:] == (
        "pending",
        None,
    )
    q = ledger.queue_row(cid)
    assert q["next_action"] == "promise_check"
    assert (
        q["next_action_at"]
        == row(conn, "SELECT next_action_at FROM activities WHERE id = ?", first)[0]
    )


def test_voiding_an_escalation_keeps_the_status_a_later_one_set(
    conn, clock, settings, team, ledger: Ledger
):
    """Escalated to legal twice; voiding the first leaves the account with legal (the second
    stands): it must not become callable again."""
    cid = team["acme"]
    first = log(
        conn, clock, settings, team["alice"], cid, OutcomeInput("escalated", escalation="legal")
    )
    clock.advance(hours=1)
    log(conn, clock, settings, team["alice"], cid, OutcomeInput("escalated", escalation="legal"))
    void(conn, clock, settings, team["lena"], first)
    assert row(conn, "SELECT status FROM customers WHERE id = ?", cid)[0] == "legal"
    assert ledger.queue_row(cid)["state"] == "hold"


@pytest.mark.parametrize("status", ["cease", "credit_hold", "agency"])
def test_voiding_an_escalation_puts_back_the_status_it_replaced(
    conn, clock, settings, ledger: Ledger, status: str
):
    """A cease account escalated to legal by mistake: voiding the escalation makes it a cease
    account again, never an active one that the queue would deal."""
    alice = ledger.collector("alice")
    lena = ledger.collector("lena", role="lead")
    cid = ledger.customer(
        "Quiet", collector=alice, portfolio="consumer", status=status,
        invoices=[(50_000, "2026-09-01")], phones=["+12125550100"],
    )  # fmt: skip
    esc = log(conn, clock, settings, alice, cid, OutcomeInput("escalated", escalation="legal"))
    void(conn, clock, settings, lena, esc)
    assert row(conn, "SELECT status FROM customers WHERE id = ?", cid)[0] == status
    if status != "credit_hold":
        assert ledger.queue_row(cid)["state"] == "hold"


def test_voiding_a_chain_of_escalations_ends_on_the_status_before_the_first(
    conn, clock, settings, ledger: Ledger
):
    alice = ledger.collector("alice")
    lena = ledger.collector("lena", role="lead")
    cid = ledger.customer(
        "Quiet", collector=alice, portfolio="consumer", status="cease",
        invoices=[(50_000, "2026-09-01")], phones=["+12125550100"],
    )  # fmt: skip
    first = log(conn, clock, settings, alice, cid, OutcomeInput("escalated", escalation="legal"))
    clock.advance(hours=1)
    second = log(conn, clock, settings, alice, cid, OutcomeInput("escalated", escalation="agency"))
    void(conn, clock, settings, lena, first)  # agency stands: nothing changes
    assert row(conn, "SELECT status FROM customers WHERE id = ?", cid)[0] == "agency"
    void(conn, clock, settings, lena, second)
    assert row(conn, "SELECT status FROM customers WHERE id = ?", cid)[0] == "cease"
