"""Property (issue 6): over random histories of calls, random instants inside the calling
window and random account statuses, neither claim_next nor `dunning next` on the file deals
a consumer over a contact cap (Reg F: 7 attempts in 7 days, none within 7 days after a
conversation; Ontario: 3 contacts in 7 days) or in a status that forbids calls.

The oracle counts the history with plain datetime arithmetic, apart from the code."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dunning.cli import main
from dunning.clock import to_iso
from dunning.db.append_only import lifted
from dunning.db.connection import write_tx
from dunning.queue.claim import claim_next, release
from dunning.queue.outcomes import OUTCOMES

# weekdays of November 2026 on which neither New York nor Ontario is shut
DAYS = [date(2026, 11, d) for d in (16, 17, 18, 19, 20, 23, 24, 25, 27, 30)]
PLACES = {"US": ("NY", "+12125550100", "America/New_York"), "CA": ("ON", "+14165550123", "")}
# mostly calls nobody answered, so histories often reach 7 attempts without a conversation
CALLS = ["no_answer"] * 4 + ["busy"] * 3 + ["left_message", "promise_to_pay", "refused"]
STATUSES = ["active", "active", "active", "credit_hold", "cease", "legal", "agency", "closed"]
FORBIDDING = {"cease", "legal", "agency", "write_off", "closed"}

history = st.integers(0, 14).flatmap(  # every length equally likely: caps get reached
    lambda n: st.lists(
        st.tuples(st.integers(1, 9 * 24 * 60), st.sampled_from(CALLS)), min_size=n, max_size=n
    )
)
instants = st.builds(
    lambda d, minute: (
        datetime.combine(d, datetime.min.time(), UTC) + timedelta(hours=16, minutes=minute)
    ),  # 11:00-15:00 in New York and Toronto
    st.sampled_from(DAYS),
    st.integers(0, 4 * 60 - 1),
)


def _may_call(now: datetime, country: str, status: str, calls: list[tuple[int, str]]) -> bool:
    if status in FORBIDDING:
        return False
    week = [(now - timedelta(minutes=m), code) for m, code in calls if m < 7 * 24 * 60]
    if country == "US":
        if sum(OUTCOMES[c].attempt for _at, c in week) >= 7:
            return False
        tz = ZoneInfo(PLACES["US"][2])
        first_allowed = now.astimezone(tz).date() - timedelta(days=6)
        for m, code in calls:  # a conversation: day 1, no call through day 7
            at = now - timedelta(minutes=m)
            if OUTCOMES[code].rpc and at.astimezone(tz).date() >= first_allowed:
                return False
        return True
    contacts = sum(OUTCOMES[c].contact or c == "left_message" for _at, c in week)
    return contacts < 3


def _one_account(ledger) -> tuple[int, int]:
    """alice and her one consumer, made by the first example (the fixtures outlive it)."""
    if ledger.conn.execute("SELECT 1 FROM customers").fetchone():
        return 1, 1
    alice = ledger.collector("alice")
    cid = ledger.customer(
        "Jane", collector=alice, portfolio="consumer", invoices=[(50_000, "2026-01-01")]
    )
    return alice, cid


def _set(conn, cid: int, alice: int, country: str, status: str, calls, now: datetime) -> None:
    sub, number, _tz = PLACES[country]
    with write_tx(conn):
        conn.execute(
            "UPDATE customers SET country = ?, subdivision = ?, status = ? WHERE id = ?",
            (country, sub, status, cid),
        )
        conn.execute("DELETE FROM phones WHERE customer_id = ?", (cid,))
        conn.execute(
            "INSERT INTO phones (customer_id, e164, type, created_at) "
            "VALUES (?, ?, 'fixed_line', '2026-01-01T00:00:00Z')",
            (cid, number),
        )
        with lifted(conn, "activities_no_delete"):  # a fresh history for each example
            conn.execute("DELETE FROM activities WHERE customer_id = ?", (cid,))
        for minutes, code in calls:
            f = OUTCOMES[code]
            conn.execute(
                "INSERT INTO activities (customer_id, collector_id, at, outcome, attempt, "
                "contact, rpc, worked) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    cid,
                    alice,
                    to_iso(now - timedelta(minutes=minutes)),
                    code,
                    int(f.attempt),
                    int(f.contact),
                    int(f.rpc),
                    int(f.worked),
                ),
            )
        conn.execute(
            "UPDATE queue SET state = 'ready', next_action = 'call', next_action_at = ?, "
            "claimed_by = NULL, claim_expires_at = NULL WHERE customer_id = ?",
            ("2026-01-01T00:00:00Z", cid),
        )


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=200)
@given(
    now=instants,
    country=st.sampled_from(sorted(PLACES)),
    status=st.sampled_from(STATUSES),
    calls=history,
)
def test_never_dealt_over_a_cap_or_in_a_status_that_forbids_calls(
    conn, clock, settings, ledger, now, country, status, calls
):
    alice, cid = _one_account(ledger)
    _set(conn, cid, alice, country, status, calls, now)
    clock.at = now
    claim = claim_next(conn, clock, settings, alice, resume=False)
    expected = _may_call(now, country, status, calls)
    assert (claim is not None) == expected, (country, status, calls)
    if claim is not None:
        release(conn, alice, cid)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=25)
@given(
    now=instants,
    country=st.sampled_from(sorted(PLACES)),
    status=st.sampled_from(STATUSES),
    calls=history,
)
def test_dunning_next_on_the_file_agrees(
    db_path, conn, clock, ledger, capsys, monkeypatch, now, country, status, calls
):
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    alice, cid = _one_account(ledger)
    _set(conn, cid, alice, country, status, calls, now)
    clock.at = now
    main(["--db", str(db_path), "next", "--as", "alice", "--json"], clock=clock)
    data = json.loads(capsys.readouterr().out)
    dealt = data["account"] is not None
    assert dealt == _may_call(now, country, status, calls), (country, status, calls)
    if dealt:
        release(conn, alice, cid)
