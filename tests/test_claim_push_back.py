"""A claim pushes back the accounts it may not call at this hour (queue/claim.py): they wait
until their window opens instead of being read again by every claim (issue 8)."""

from datetime import UTC, datetime, timedelta

from dunning.clock import to_iso
from dunning.db.connection import write_tx
from dunning.queue.claim import claim_next


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_an_account_outside_its_window_waits_until_it_opens(conn, clock, settings, ledger):
    alice = ledger.collector("alice")
    early = ledger.customer(
        "Early Bird",
        collector=alice,
        portfolio="consumer",
        phones=["+12135550100"],  # New York address, Los Angeles number: 08:00 there too
        subdivision="NY",
        invoices=[(9_000_000, "2026-01-01")],
    )
    acme = ledger.customer("Acme Inc", collector=alice, invoices=[(50_000, "2026-11-01")])
    later = ledger.customer("Later Inc", collector=alice, invoices=[(10_000, "2026-11-01")])
    before = ledger.queue_row(early)
    clock.at = utc("2026-11-23T15:00")  # 10:00 New York, 07:00 Los Angeles
    claim = claim_next(conn, clock, settings, alice)
    assert claim is not None and claim.customer_id == acme
    assert claim.passed_over == [(early, "outside_window")]
    row = ledger.queue_row(early)
    assert (row["state"], row["next_action_at"]) == ("waiting", "2026-11-23T16:00:00Z")
    assert (row["next_action"], row["priority"]) == (before["next_action"], before["priority"])
    # the next claim does not read it again
    clock.at = utc("2026-11-23T15:05")  # acme still held (its lease)
    claim = claim_next(conn, clock, settings, alice, resume=False)
    assert claim is not None and claim.customer_id == later
    assert claim.passed_over == []
    # 08:00 in Los Angeles: ready again, at its priority, ahead of the rest
    with write_tx(conn):
        conn.execute("UPDATE queue SET claimed_by = NULL, claim_expires_at = NULL")
    clock.at = utc("2026-11-23T16:00")
    claim = claim_next(conn, clock, settings, alice, resume=False)
    assert claim is not None and claim.customer_id == early
    assert claim.passed_over == []
    assert ledger.queue_row(early)["state"] == "ready"


def test_a_holiday_pushes_back_to_the_first_hour_allowed_after_it(conn, clock, settings, ledger):
    alice = ledger.collector("alice")
    jean = ledger.customer(
        "Jean",
        collector=alice,
        portfolio="consumer",
        country="CA",
        subdivision="ON",
        currency="CAD",
        phones=["+14165550100"],
        invoices=[(9_000_000, "2026-01-01")],
    )
    clock.at = utc("2026-12-25T17:00")  # Christmas, 12:00 in Toronto
    claim = claim_next(conn, clock, settings, alice)
    assert claim is None  # nothing else to call
    row = ledger.queue_row(jean)
    # Boxing Day (Saturday) is banned too; Sunday 13:00-17:00 in Ontario, in both its zones
    # (the address may be in the west, on Central time): 13:00 Central
    assert (row["state"], row["next_action_at"]) == ("waiting", "2026-12-27T19:00:00Z")


def test_a_contact_cap_is_checked_at_every_claim_not_pushed_back(conn, clock, settings, ledger):
    alice = ledger.collector("alice")
    jane = ledger.customer(
        "Jane Doe", collector=alice, portfolio="consumer", invoices=[(9_000_000, "2026-01-01")]
    )
    acme = ledger.customer("Acme Inc", collector=alice, invoices=[(10_000, "2026-11-01")])
    noon = utc("2026-11-23T17:00")
    with write_tx(conn):
        for k in range(7):
            conn.execute(
                "INSERT INTO activities (customer_id, at, outcome, attempt) "
                "VALUES (?, ?, 'no_answer', 1)",
                (jane, to_iso(noon - timedelta(days=k % 5, hours=k + 1))),
            )
    clock.at = noon
    claim = claim_next(conn, clock, settings, alice)
    assert claim is not None and claim.customer_id == acme
    assert claim.passed_over == [(jane, "cap_7_in_7")]
    assert ledger.queue_row(jane)["state"] == "ready"  # a void could lift the cap
    claim = claim_next(conn, clock, settings, alice, resume=False)
    assert claim is None
    assert ledger.queue_row(jane)["state"] == "ready"


def test_a_callback_the_consumer_asked_for_keeps_its_time(conn, clock, settings, ledger):
    """Reg F's consent exception matches the callback by its time: moving it would lose it."""
    alice = ledger.collector("alice")
    asked = ledger.customer(
        "Asked", collector=alice, portfolio="consumer", invoices=[(9_000_000, "2026-01-01")]
    )
    other = ledger.customer(
        "Other", collector=alice, portfolio="consumer", invoices=[(8_000_000, "2026-01-01")]
    )
    due = "2026-11-24T01:30:00Z"  # 20:30 New York
    with write_tx(conn):
        conn.execute(  # in a conversation the day before, the consumer asked for this call
            "INSERT INTO activities (customer_id, at, outcome, attempt, contact, rpc, "
            "next_action, next_action_at) VALUES (?, ?, 'callback', 1, 1, 1, 'callback', ?)",
            (asked, "2026-11-23T01:00:00Z", due),
        )
        conn.execute(
            "UPDATE queue SET next_action = 'callback', next_action_at = ?, state = 'ready' "
            "WHERE customer_id IN (?, ?)",
            (due, asked, other),
        )
    clock.at = utc("2026-11-24T03:00")  # 22:00 New York: both outside the window
    assert claim_next(conn, clock, settings, alice) is None
    kept, moved = ledger.queue_row(asked), ledger.queue_row(other)
    assert (kept["state"], kept["next_action_at"]) == ("ready", due)
    assert (moved["state"], moved["next_action"]) == ("waiting", "callback")
    assert moved["next_action_at"] == "2026-11-24T13:00:00Z"  # 08:00 New York
