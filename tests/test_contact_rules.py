"""Contact rules (DOMAIN.md): calling windows in the number's local time in every possible
zone, Quebec and Ontario, Regulation F caps; business-to-business never blocked."""

from datetime import UTC, datetime, timedelta

import pytest

from dunning.clock import to_iso
from dunning.db.connection import write_tx
from dunning.queue.claim import claim_next
from dunning.queue.config import Settings, settings_from_dict
from dunning.queue.contact_rules import check_callable, in_window, legal_window

NY = ("America/New_York",)
TORONTO = ("America/Toronto",)
MAINLAND_US = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def verdict(
    conn,
    when,
    *,
    zones,
    country="US",
    subdivision=None,
    portfolio="consumer",
    customer_id=0,
    settings=None,
):
    return check_callable(
        conn,
        when,
        settings or Settings(),
        customer_id=customer_id,
        portfolio=portfolio,
        country=country,
        subdivision=subdivision,
        zones=zones,
    )


# -- windows --------------------------------------------------------------------------------

# November: New York UTC-5, Chicago -6, Denver -7, Los Angeles -8.


@pytest.mark.parametrize(
    ("when", "ok"),
    [
        ("2026-11-23T12:59", False),  # 07:59 New York
        ("2026-11-23T13:00", True),  # 08:00
        ("2026-11-24T01:59", True),  # 20:59
        ("2026-11-24T02:00", False),  # 21:00
    ],
)
def test_us_8_to_21_local(conn, when, ok):
    assert verdict(conn, utc(when), zones=NY).ok is ok


@pytest.mark.parametrize(
    ("when", "ok"),
    [
        ("2026-11-23T13:00", False),  # 08:00 in New York but 05:00 in Los Angeles
        ("2026-11-23T15:59", False),  # 07:59 in Los Angeles
        ("2026-11-23T16:00", True),  # 08:00 in Los Angeles, 11:00 in New York
        ("2026-11-24T01:59", True),  # 20:59 in New York
        ("2026-11-24T02:00", False),  # 21:00 in New York, 18:00 in Los Angeles
    ],
)
def test_us_ambiguous_number_only_hours_legal_in_every_zone(conn, when, ok):
    v = verdict(conn, utc(when), zones=MAINLAND_US)
    assert v.ok is ok
    if not ok:
        assert v.code == "outside_window" and "FDCPA" in v.detail


def test_no_known_zone_is_never_callable(conn):
    assert not in_window(utc("2026-11-23T16:00"), (), legal_window("US", None))


@pytest.mark.parametrize(
    ("when", "ok"),
    [
        ("2026-11-28T15:00", True),  # Saturday 10:00 Montreal
        ("2026-11-29T15:00", False),  # Sunday 10:00: never on Sunday
        ("2026-11-30T01:00", False),  # Sunday 20:00
        ("2026-11-30T12:59", False),  # Monday 07:59
        ("2026-11-30T13:00", True),  # Monday 08:00
        ("2026-12-01T00:59", True),  # Monday 19:59
        ("2026-12-01T01:00", False),  # Monday 20:00
    ],
)
def test_quebec_8_to_20_monday_to_saturday(conn, when, ok):
    v = verdict(conn, utc(when), zones=TORONTO, country="CA", subdivision="QC")
    assert v.ok is ok
    if not ok:
        assert "Quebec" in v.detail


@pytest.mark.parametrize(
    ("when", "ok"),
    [
        ("2026-11-29T17:59", False),  # Sunday 12:59 Toronto
        ("2026-11-29T18:00", True),  # Sunday 13:00
        ("2026-11-29T21:59", True),  # Sunday 16:59
        ("2026-11-29T22:00", False),  # Sunday 17:00
        ("2026-11-30T11:59", False),  # Monday 06:59
        ("2026-11-30T12:00", True),  # Monday 07:00
        ("2026-12-01T01:59", True),  # Monday 20:59
        ("2026-12-01T02:00", False),  # Monday 21:00
    ],
)
def test_ontario_hours_and_sunday_afternoon(conn, when, ok):
    v = verdict(conn, utc(when), zones=TORONTO, country="CA", subdivision="ON")
    assert v.ok is ok


def test_elsewhere_8_to_21_local(conn):
    paris = ("Europe/Paris",)  # UTC+1 in November
    assert verdict(conn, utc("2026-11-23T07:00"), zones=paris, country="FR").ok
    assert not verdict(conn, utc("2026-11-23T06:59"), zones=paris, country="FR").ok
    assert not verdict(conn, utc("2026-11-23T20:00"), zones=paris, country="FR").ok


# -- caps -----------------------------------------------------------------------------------


def add_activity(conn, cid, at, outcome="no_answer", attempt=1, contact=0, rpc=None):
    """rpc: a conversation with the consumer; by default every contact is one."""
    with write_tx(conn):
        conn.execute(
            "INSERT INTO activities (customer_id, at, outcome, attempt, contact, rpc) "
            "VALUES (?,?,?,?,?,?)",
            (cid, to_iso(at), outcome, attempt, contact, contact if rpc is None else rpc),
        )


NOON_NY = utc("2026-11-23T17:00")


@pytest.fixture
def us_consumer(ledger):
    return ledger.customer("Jane Doe", portfolio="consumer", country="US", subdivision="NY")


def test_reg_f_seven_attempts_in_seven_days(conn, us_consumer):
    cid = us_consumer
    for k in range(6):
        add_activity(conn, cid, NOON_NY - timedelta(days=k, hours=1))
    assert verdict(conn, NOON_NY, zones=NY, customer_id=cid).ok
    add_activity(conn, cid, NOON_NY - timedelta(hours=2))
    v = verdict(conn, NOON_NY, zones=NY, customer_id=cid)
    assert (v.ok, v.code) == (False, "cap_7_in_7")
    assert v.opens_at == NOON_NY + timedelta(days=2, hours=-1)  # shown: when it opens
    # the oldest attempt (5 days 1 hour ago) ages out 7 days after it was made
    later = NOON_NY + timedelta(days=1, hours=23, minutes=1)
    assert verdict(conn, later, zones=NY, customer_id=cid).ok


def test_reg_f_no_call_within_seven_days_of_a_conversation(conn, us_consumer):
    cid = us_consumer
    talked = utc("2026-11-23T15:00")  # Monday 10:00 New York: day 1
    add_activity(conn, cid, talked, outcome="refused", contact=1)
    for day in range(7):  # through Sunday evening, day 7
        when = talked + timedelta(days=day, hours=8)
        v = verdict(conn, when, zones=NY, customer_id=cid)
        assert (v.ok, v.code) == (False, "recent_conversation"), when
        assert v.opens_at == utc("2026-11-30T13:00"), when  # day 8, 08:00 New York
    # day 8, Monday morning New York: allowed again
    assert verdict(conn, utc("2026-11-30T13:00"), zones=NY, customer_id=cid).ok


def test_reg_f_days_are_local_calendar_days(conn, us_consumer):
    cid = us_consumer
    # Monday 20:00 New York is Tuesday 01:00 UTC: day 1 is still Monday
    add_activity(conn, cid, utc("2026-11-24T01:00"), outcome="callback", contact=1)
    assert not verdict(conn, utc("2026-11-30T00:30"), zones=NY, customer_id=cid).ok  # Sun
    assert verdict(conn, utc("2026-11-30T13:30"), zones=NY, customer_id=cid).ok  # Mon


def test_a_third_party_who_answered_is_no_conversation_with_the_consumer(conn, us_consumer):
    cid = us_consumer
    add_activity(conn, cid, NOON_NY - timedelta(hours=3), outcome="callback", contact=1, rpc=0)
    assert verdict(conn, NOON_NY, zones=NY, customer_id=cid).ok


def test_a_callback_the_consumer_asked_for_may_be_made(conn, clock, settings, ledger, us_consumer):
    """Reg F 1006.14(b)(3): the consumer's prior consent, given in the conversation,
    lifts the 7 days after it for the call they asked for, and only that call."""
    from dunning.queue.outcomes import OutcomeInput, log_outcome

    cid = us_consumer
    alice = ledger.collector("alice")
    with conn:  # alice's account: a collector logs only on their own (issue 7)
        conn.execute("UPDATE queue SET collector_id = ? WHERE customer_id = ?", (alice, cid))
    clock.at = NOON_NY
    at = NOON_NY + timedelta(days=1)
    log_outcome(
        conn,
        clock,
        settings,
        collector_id=alice,
        customer_id=cid,
        inp=OutcomeInput("callback", callback_at=at, rpc=True),
    )
    assert not verdict(conn, at - timedelta(hours=1), zones=NY, customer_id=cid).ok  # not yet
    v = verdict(conn, at, zones=NY, customer_id=cid)
    assert v.ok and "1006.14(b)(3)" in v.detail
    # that call made (no answer): the 7 days after the conversation apply again
    clock.at = at
    log_outcome(
        conn, clock, settings, collector_id=alice, customer_id=cid, inp=OutcomeInput("no_answer")
    )
    v = verdict(conn, at + timedelta(days=1), zones=NY, customer_id=cid)
    assert (v.ok, v.code) == (False, "recent_conversation")


def test_messages_and_unanswered_calls_are_no_conversation(conn, us_consumer):
    cid = us_consumer
    add_activity(conn, cid, NOON_NY - timedelta(hours=3), outcome="left_message")
    add_activity(conn, cid, NOON_NY - timedelta(hours=2))
    assert verdict(conn, NOON_NY, zones=NY, customer_id=cid).ok


def test_ontario_three_contacts_in_seven_days_voicemail_counts(conn, ledger):
    cid = ledger.customer("Jean", portfolio="consumer", country="CA", subdivision="ON")
    when = utc("2026-11-23T17:00")
    for k in range(5):  # unanswered calls are not contacts
        add_activity(conn, cid, when - timedelta(days=k, hours=1))
    add_activity(conn, cid, when - timedelta(days=1), outcome="callback", contact=1)
    add_activity(conn, cid, when - timedelta(days=2), outcome="left_message")
    add_activity(conn, cid, when - timedelta(days=8), outcome="refused", contact=1)  # too old
    v = verdict(conn, when, zones=TORONTO, country="CA", subdivision="ON", customer_id=cid)
    assert v.ok
    add_activity(conn, cid, when - timedelta(days=3), outcome="left_message")
    v = verdict(conn, when, zones=TORONTO, country="CA", subdivision="ON", customer_id=cid)
    assert (v.ok, v.code) == (False, "ontario_cap")


# -- business to business -------------------------------------------------------------------


def test_b2b_is_never_blocked_only_flagged(conn, ledger):
    cid = ledger.customer("Acme Inc", portfolio="b2b", country="US", subdivision="NY")
    for k in range(10):
        add_activity(conn, cid, NOON_NY - timedelta(hours=k + 1), outcome="refused", contact=1)
    v = verdict(conn, NOON_NY, zones=NY, customer_id=cid, portfolio="b2b")
    assert (v.ok, v.code) == (True, "ok")
    night = utc("2026-11-24T04:00")  # 23:00 New York
    v = verdict(conn, night, zones=NY, customer_id=cid, portfolio="b2b")
    assert (v.ok, v.code) == (True, "after_hours")
    sunday = utc("2026-11-29T17:00")
    assert verdict(conn, sunday, zones=NY, customer_id=cid, portfolio="b2b").ok


def test_the_portfolios_under_rules_come_from_configuration(conn, ledger):
    strict = settings_from_dict({"contact_rules_portfolios": ["consumer", "b2b"]})
    night = utc("2026-11-24T04:00")
    v = verdict(conn, night, zones=NY, portfolio="b2b", settings=strict)
    assert (v.ok, v.code) == (False, "outside_window")


# -- in the queue ---------------------------------------------------------------------------


def test_claim_passes_over_accounts_not_callable_now(conn, clock, settings, ledger):
    alice = ledger.collector("alice")
    early = ledger.customer(
        "Early Bird",
        collector=alice,
        portfolio="consumer",
        phones=["+12135550100"],  # New York address, Los Angeles number: 08:00 there too
        subdivision="NY",
        invoices=[(9_000_000, "2026-01-01")],
    )
    b2b = ledger.customer("Acme Inc", collector=alice, invoices=[(10_000, "2026-11-01")])
    clock.at = utc("2026-11-23T15:00")  # 10:00 New York, 07:00 Los Angeles
    claim = claim_next(conn, clock, settings, alice)
    assert claim is not None and claim.customer_id == b2b
    assert claim.passed_over == [(early, "outside_window")]
    clock.at = utc("2026-11-23T16:00")
    claim = claim_next(conn, clock, settings, alice, resume=False)
    assert claim is not None and claim.customer_id == early
