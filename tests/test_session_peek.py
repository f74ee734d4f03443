"""The screen's guess of the next account (WorkSession.peek_next): read only, and it
passes over what the last claim passed over (not callable now), as the next claim will."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from dunning.clock import FixedClock
from dunning.queue.collectors import get_collector
from dunning.queue.config import Settings
from dunning.queue.session import WorkSession


def test_the_guess_passes_over_what_the_last_claim_passed_over(
    conn: sqlite3.Connection, db_path: Path, clock: FixedClock, settings: Settings, ledger
) -> None:  # noqa: ANN001
    alice = ledger.collector("alice")
    early = ledger.customer(
        "Early Bird",
        collector=alice,
        portfolio="consumer",
        phones=["+12135550100"],  # New York address, Los Angeles number: 07:00 there
        subdivision="NY",
        invoices=[(9_000_000, "2026-01-01")],
    )
    acme = ledger.customer("Acme Inc", collector=alice, invoices=[(10_000, "2026-11-01")])
    bolt = ledger.customer("Bolt Ltd", collector=alice, invoices=[(5_000, "2026-11-01")])
    clock.at = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 10:00 New York, 07:00 LA
    me = get_collector(conn, "alice")
    assert me is not None
    session = WorkSession(db_path, me, settings, clock)
    try:
        view = session.next_account()
        assert view is not None and view.id == acme
        assert session.passed_over == [(early, "outside_window")]
        guess = session.peek_next(frozenset({acme}))
        assert guess is not None and guess.id == bolt  # not Early Bird, the top
        claimed = conn.execute("SELECT customer_id FROM queue WHERE claimed_by IS NOT NULL")
        assert [r[0] for r in claimed] == [acme]  # the guess claimed nothing
        # and it is the account the next claim takes
        nxt = session.next_account(frozenset({acme}))
        assert nxt is not None and nxt.id == guess.id
    finally:
        session.close()
