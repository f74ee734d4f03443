"""Claiming: priority order, leases that expire, one collector per account, resuming."""

import pytest

from dunning.queue.assign import reassign
from dunning.queue.claim import ClaimError, claim_account, claim_next, release, renew
from dunning.queue.collectors import get_collector_by_id
from dunning.queue.drafts import save_draft
from dunning.queue.outcomes import OutcomeInput, log_outcome


@pytest.fixture
def team(ledger):
    alice = ledger.collector("alice")
    bruno = ledger.collector("bruno")
    # priority order: big > mid > small
    big = ledger.customer("Big", collector=alice, invoices=[(9_000_000, "2026-03-01")])
    mid = ledger.customer("Mid", collector=alice, invoices=[(500_000, "2026-08-01")])
    small = ledger.customer("Small", collector=alice, invoices=[(1_000, "2026-11-01")])
    return alice, bruno, big, mid, small


def holder(ledger, cid):
    row = ledger.queue_row(cid)
    return row["claimed_by"], row["claim_expires_at"]


def no_answer(ledger, collector, cid):
    return log_outcome(
        ledger.conn,
        ledger.clock,
        ledger.settings,
        collector_id=collector,
        customer_id=cid,
        inp=OutcomeInput("no_answer"),
    )


def test_claims_follow_priority_and_stamp_a_lease(conn, clock, settings, ledger, team):
    alice, _, big, mid, small = team
    order = []
    for _ in range(3):
        claim = claim_next(conn, clock, settings, alice)
        assert claim is not None and not claim.resumed
        assert claim.expires_at == "2026-11-23T15:15:00Z"  # lease_minutes = 15
        assert holder(ledger, claim.customer_id) == (alice, claim.expires_at)
        order.append(claim.customer_id)
        no_answer(ledger, alice, claim.customer_id)
        assert holder(ledger, claim.customer_id) == (None, None)
    assert order == [big, mid, small]
    assert claim_next(conn, clock, settings, alice) is None


def test_resume_the_account_held_after_a_crash(conn, clock, settings, ledger, team):
    alice, _, big, mid, _ = team
    first = claim_next(conn, clock, settings, alice)
    assert first is not None and first.customer_id == big
    # the process died; a new one comes back to the same account, lease renewed
    clock.advance(minutes=5)
    again = claim_next(conn, clock, settings, alice)
    assert again is not None and again.customer_id == big and again.resumed
    assert again.expires_at == "2026-11-23T15:20:00Z"
    # asking for something else explicitly
    other = claim_next(conn, clock, settings, alice, resume=False)
    assert other is not None and other.customer_id == mid
    skip = claim_next(conn, clock, settings, alice, exclude=frozenset({big, mid}))
    assert skip is not None and skip.customer_id not in (big, mid)


def test_resume_a_drafted_account_after_the_lease_expired(conn, clock, settings, ledger, team):
    alice, _, big, mid, _ = team
    claim_account(conn, clock, settings, alice, mid)
    save_draft(conn, clock, alice, mid, "said to call back after lunch")
    clock.advance(hours=2)  # lease long gone
    claim = claim_next(conn, clock, settings, alice)
    assert claim is not None and claim.customer_id == mid and claim.resumed
    assert claim_next(conn, clock, settings, alice, resume=False).customer_id == big


def test_a_drafted_account_held_by_someone_else_is_not_resumed(conn, clock, settings, ledger, team):
    alice, _, big, mid, _ = team
    lena = ledger.collector("lena", role="lead")  # only a lead may open alice's account
    save_draft(conn, clock, alice, mid, "note")
    claim_account(conn, clock, settings, lena, mid)
    claim = claim_next(conn, clock, settings, alice)
    assert claim is not None and claim.customer_id == big and not claim.resumed


def test_two_collectors_never_hold_the_same_account(conn, clock, settings, ledger, team):
    alice, bruno, big, _, _ = team
    claim = claim_next(conn, clock, settings, alice)
    assert claim is not None and claim.customer_id == big
    with pytest.raises(ClaimError, match="alice is working this account"):
        claim_account(conn, clock, settings, bruno, big)
    assert holder(ledger, big)[0] == alice
    # the lead gives the account to bruno while alice is on the call: bruno's queue does
    # not offer it until alice is done
    lena = ledger.collector("lena", role="lead")
    lead = get_collector_by_id(conn, lena)
    reassign(conn, clock, lead, [big], get_collector_by_id(conn, bruno), "cover")
    assert claim_next(conn, clock, settings, bruno) is None
    no_answer(ledger, alice, big)
    clock.advance(days=1)
    claim = claim_next(conn, clock, settings, bruno)
    assert claim is not None and claim.customer_id == big


def test_an_expired_lease_frees_the_account(conn, clock, settings, ledger, team):
    alice, _, big, _, _ = team
    lena = ledger.collector("lena", role="lead")  # only a lead may take alice's account
    claim_next(conn, clock, settings, alice)
    clock.advance(minutes=settings.lease_minutes - 1)
    with pytest.raises(ClaimError):
        claim_account(conn, clock, settings, lena, big)
    clock.advance(minutes=1)
    taken = claim_account(conn, clock, settings, lena, big)
    assert taken.customer_id == big and holder(ledger, big)[0] == lena
    # alice's process notices it lost the account when it renews
    assert renew(conn, clock, settings, alice, big) is False
    assert renew(conn, clock, settings, lena, big) is True


def test_renew_keeps_the_account_while_on_screen(conn, clock, settings, ledger, team):
    alice, bruno, big, _, _ = team
    claim_next(conn, clock, settings, alice)
    for _ in range(4):  # an hour on the phone, renewing every 10 minutes
        clock.advance(minutes=10)
        assert renew(conn, clock, settings, alice, big)
    with pytest.raises(ClaimError):
        claim_account(conn, clock, settings, bruno, big)
    assert holder(ledger, big)[1] == "2026-11-23T15:55:00Z"


def test_release_frees_only_ones_own_claim(conn, clock, settings, ledger, team):
    alice, bruno, big, _, _ = team
    claim_next(conn, clock, settings, alice)
    release(conn, bruno, big)
    assert holder(ledger, big)[0] == alice
    release(conn, alice, big)
    assert holder(ledger, big) == (None, None)
    lena = ledger.collector("lena", role="lead")  # bruno may not: alice's account
    assert claim_account(conn, clock, settings, lena, big).customer_id == big


def test_claim_account_refuses_an_unknown_account(conn, clock, settings, ledger, team):
    alice = team[0]
    with pytest.raises(ClaimError, match="no account"):
        claim_account(conn, clock, settings, alice, 99_999)


def test_the_same_collector_twice_with_resume_false_gets_two_accounts(
    conn, clock, settings, ledger, team
):
    """Two processes of one collector (a script, a second terminal) asking for a fresh
    account never get the same one; with resume they are handed back the held one."""
    alice, _, big, mid, _ = team
    a = claim_next(conn, clock, settings, alice, resume=False)
    b = claim_next(conn, clock, settings, alice, resume=False)
    assert (a.customer_id, b.customer_id) == (big, mid)
    clock.advance(minutes=1)
    c = claim_next(conn, clock, settings, alice)
    assert c.resumed and c.customer_id in (big, mid)


def test_waiting_accounts_wake_when_due(conn, clock, settings, ledger, team):
    alice, _, big, mid, small = team
    for cid in (big, mid, small):
        no_answer(ledger, alice, cid)  # next business day
    assert claim_next(conn, clock, settings, alice) is None
    clock.advance(hours=23, minutes=59)
    assert claim_next(conn, clock, settings, alice) is None
    clock.advance(minutes=1)
    claim = claim_next(conn, clock, settings, alice)
    assert claim is not None and claim.customer_id == big
    assert ledger.queue_row(mid)["state"] == "ready"


def _held_by_process(ledger, cid, pid):
    """The claim on ``cid`` was made by process ``pid`` on this host."""
    import socket

    with ledger.conn:
        ledger.conn.execute(
            "UPDATE queue SET claim_pid = ?, claim_host = ? WHERE customer_id = ?",
            (pid, socket.gethostname(), cid),
        )


def test_a_second_live_session_of_the_collector_never_resumes_the_first_ones_account(
    conn, clock, settings, ledger, team
):
    """Two SSH sessions of alice: the second gets the next account, not the one the first
    has open; once the first process is gone (crash, kill -9), its account comes back."""
    import subprocess
    import sys

    alice, _, big, mid, _ = team
    first_session = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        first = claim_next(conn, clock, settings, alice)
        assert first is not None and first.customer_id == big
        _held_by_process(ledger, big, first_session.pid)
        second = claim_next(conn, clock, settings, alice)
        assert second is not None and second.customer_id == mid and not second.resumed
        release(conn, alice, mid)
    finally:
        first_session.kill()
        first_session.wait()
    third = claim_next(conn, clock, settings, alice)
    assert third is not None and third.customer_id == big and third.resumed


def test_a_draft_is_not_resumed_once_the_account_left_the_collector(
    conn, clock, settings, ledger, team
):
    alice, bruno, big, mid, small = team
    lena = ledger.collector("lena", role="lead")
    save_draft(conn, clock, alice, big, "half a note")
    save_draft(conn, clock, alice, mid, "another")
    # a lead escalates one to legal and gives the other to bruno
    log_outcome(
        conn,
        clock,
        settings,
        collector_id=lena,
        customer_id=big,
        inp=OutcomeInput("escalated", escalation="legal", lead_reason="legal asked for it"),
    )
    reassign(
        conn, clock, get_collector_by_id(conn, lena), [mid], get_collector_by_id(conn, bruno), "fr"
    )
    claim = claim_next(conn, clock, settings, alice)
    assert claim is not None and claim.customer_id == small and not claim.resumed


def test_catch_up_wakes_every_due_account_in_chunks(
    conn, clock, settings, ledger, team, monkeypatch
):
    from dunning.queue import claim as claim_module

    alice, _, big, mid, small = team
    for cid in (big, mid, small):
        no_answer(ledger, alice, cid)
    clock.advance(days=3)
    monkeypatch.setattr(claim_module, "WAKE_CHUNK", 2)  # three accounts: two transactions
    assert claim_module.catch_up(conn, clock, settings) == (3, 0)
    assert {ledger.queue_row(c)["state"] for c in (big, mid, small)} == {"ready"}
    assert claim_module.catch_up(conn, clock, settings) == (0, 0)
