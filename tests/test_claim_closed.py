"""The claim's memo of closed windows (queue/claim_closed.py, m023): a claim that passes an
account over because its window is closed (or a holiday shuts its day) writes until when;
the next claims in that interval pass it over with the same verdict without working it
out, and every claim's result (account, accounts passed over and why) is the same as
without the memo, at any hour, across midnights and holidays, and after where the
consumer may be changes."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import Ledger

from dunning.clock import FixedClock, to_iso
from dunning.db.connection import connect, write_tx
from dunning.queue.claim import claim_next, release
from dunning.queue.config import Settings

# (subdivision, phones): zones whose windows open and close at different instants, and
# holidays that shut the day (Ontario, Quebec)
PLACES = [
    ("US", "NY", ["+12125550100"]),
    ("US", "CA", ["+13105550100"]),
    ("US", "NY", ["+12125550101", "+13105550101"]),  # two zones: both must allow
    ("CA", "ON", ["+14165550100"]),
    ("CA", "QC", ["+15145550100"]),
    ("CA", None, ["+14165550102", "+15145550102"]),  # two provinces: both rules
    ("US", "HI", ["+18085550100"]),
    ("GB", None, ["+442071234567"]),
]


def _book(ledger: Ledger, collector: int) -> list[int]:
    ids = []
    for k in range(24):
        country, sub, phones = PLACES[k % len(PLACES)]
        ids.append(
            ledger.customer(
                f"Consumer {k}",
                collector=collector,
                country=country,
                subdivision=sub,
                currency="USD",
                portfolio="consumer" if k % 5 else "b2b",
                # the b2b accounts (never blocked) owe least: last in the list
                invoices=[(10_000 + 1_000 * k if k % 5 else 500, "2026-09-01")],
                phones=[p.replace("0100", f"01{k:02d}") for p in phones],
            )
        )
    return ids


def _claim(
    conn: sqlite3.Connection, at: datetime, settings: Settings, collector: int
) -> tuple[int | None, list[tuple[int, str]]]:
    claim = claim_next(conn, FixedClock(at), settings, collector, resume=False)
    if claim is None:
        return None, []
    release(conn, collector, claim.customer_id)
    return claim.customer_id, claim.passed_over


def _forget(conn: sqlite3.Connection) -> None:
    with write_tx(conn):
        conn.execute("UPDATE queue SET closed_until = NULL")


@pytest.fixture
def pair(
    conn: sqlite3.Connection, db_path: Path, tmp_path: Path, clock: FixedClock, settings: Settings
) -> tuple[sqlite3.Connection, sqlite3.Connection, int]:
    """The same book in two files: the first keeps its memos, the second forgets them
    before every claim (the claim as it was)."""
    ledger = Ledger(conn, clock, settings)
    alice = ledger.collector("alice")
    _book(ledger, alice)
    other = connect(tmp_path / "twin.db")
    conn.backup(other)
    return conn, other, alice


def test_every_claim_is_the_same_with_the_memo_at_any_hour(pair, settings) -> None:
    kept, fresh, alice = pair
    # every 37 minutes over four days around Christmas and Boxing Day (Ontario and Quebec
    # holidays), through every zone's midnight and window
    at = datetime(2026, 12, 23, 0, 7, tzinfo=UTC)
    remembered = 0
    for _ in range(4 * 24 * 60 // 37):
        _forget(fresh)
        got = _claim(kept, at, settings, alice)
        want = _claim(fresh, at, settings, alice)
        assert got == want, at
        remembered += kept.execute(
            "SELECT COUNT(*) FROM queue WHERE closed_until > ?", (to_iso(at),)
        ).fetchone()[0]
        at += timedelta(minutes=37)
    assert remembered > 100  # the memo was there to be used


def test_a_closed_account_is_remembered_until_its_window_opens(pair, settings) -> None:
    kept, _fresh, alice = pair
    at = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)  # 02:30 New York, 21:30 Hawaii
    cid, passed = _claim(kept, at, settings, alice)
    rows = {
        r["customer_id"]: r
        for r in kept.execute("SELECT * FROM queue WHERE closed_until IS NOT NULL")
    }
    assert {c for c, why in passed if why in ("outside_window", "holiday")} == set(rows)
    ny = kept.execute(
        "SELECT q.* FROM queue q JOIN phones p ON p.customer_id = q.customer_id "
        "WHERE p.e164 = '+12125550108'"  # consumer 8
    ).fetchone()
    assert ny["closed_why"] == "outside_window"
    assert ny["closed_from"] == "2026-11-24T07:30:00Z"
    assert ny["closed_until"] == "2026-11-24T13:00:00Z"  # 08:00 in New York


def test_a_new_phone_is_seen_by_the_mark(pair, settings, clock) -> None:
    kept, _fresh, alice = pair
    at = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)
    _claim(kept, at, settings, alice)
    before = kept.execute("SELECT COALESCE(MAX(id), 0) FROM phones").fetchone()[0]
    assert kept.execute("SELECT COUNT(*) FROM queue WHERE closed_mark = ?", (before,)).fetchone()[0]
    with write_tx(kept):
        kept.execute(
            "INSERT INTO phones (customer_id, e164, type, created_at) "
            "VALUES (1, '+442071234599', 'mobile', ?)",
            (to_iso(at),),
        )
    _claim(kept, at + timedelta(minutes=1), settings, alice)
    # every memo was worked out again and written with the new mark
    assert not kept.execute(
        "SELECT COUNT(*) FROM queue WHERE closed_mark = ?", (before,)
    ).fetchone()[0]


def test_where_the_consumer_may_be_changed_forgets_the_memo(pair, settings) -> None:
    kept, fresh, alice = pair
    at = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)
    _claim(kept, at, settings, alice)

    def memo(conn: sqlite3.Connection, cid: int) -> str | None:
        return conn.execute(
            "SELECT closed_until FROM queue WHERE customer_id = ?", (cid,)
        ).fetchone()[0]

    closed = [
        r[0] for r in kept.execute("SELECT customer_id FROM queue WHERE closed_until IS NOT NULL")
    ]
    a, b, c, d = closed[:4]
    with write_tx(kept):
        kept.execute("UPDATE phones SET bad = 1 WHERE customer_id = ?", (a,))
        kept.execute("UPDATE customers SET subdivision = 'QC' WHERE id = ?", (b,))
        kept.execute("UPDATE phones SET do_not_call = 1 WHERE customer_id = ?", (c,))
        kept.execute("UPDATE customers SET name = 'Renamed' WHERE id = ?", (d,))
    assert memo(kept, a) is None and memo(kept, b) is None and memo(kept, c) is None
    assert memo(kept, d) is not None  # not where the consumer may be
    # and the claims stay those of the claim without memo
    with write_tx(fresh):
        fresh.execute("UPDATE phones SET bad = 1 WHERE customer_id = ?", (a,))
        fresh.execute("UPDATE customers SET subdivision = 'QC' WHERE id = ?", (b,))
        fresh.execute("UPDATE phones SET do_not_call = 1 WHERE customer_id = ?", (c,))
    for minutes in range(0, 600, 29):
        t = at + timedelta(minutes=minutes)
        _forget(fresh)
        assert _claim(kept, t, settings, alice) == _claim(fresh, t, settings, alice), t


def test_a_clock_set_back_does_not_use_a_later_memo(pair, settings) -> None:
    kept, fresh, alice = pair
    late = datetime(2026, 11, 24, 4, 30, tzinfo=UTC)  # 23:30 in New York: closed
    _claim(kept, late, settings, alice)
    early = late - timedelta(hours=3)  # 20:30 in New York: open
    _forget(fresh)
    assert _claim(kept, early, settings, alice) == _claim(fresh, early, settings, alice)


def test_the_portfolio_setting_is_the_sessions(pair, settings) -> None:
    """A memo written under the contact rules is not applied by a session whose settings
    leave the portfolio out of them."""
    kept, fresh, alice = pair
    at = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)
    _claim(kept, at, settings, alice)
    loose = Settings(contact_rules_portfolios=())
    _forget(fresh)
    assert _claim(kept, at, loose, alice) == _claim(fresh, at, loose, alice)


def test_a_rebuilt_queue_keeps_the_memo_and_its_triggers(pair, settings) -> None:
    """The refresh that builds the next queue beside the live one and swaps it in
    (queue/rebuild.py) keeps the memos and the triggers that forget them."""
    from dunning.queue.refresh import refresh_all

    kept, _fresh, alice = pair
    at = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)
    _claim(kept, at, settings, alice)
    memos = kept.execute(
        "SELECT customer_id, closed_until FROM queue WHERE closed_until IS NOT NULL"
    ).fetchall()
    assert memos
    stats = refresh_all(kept, FixedClock(at), settings, workers=0, rebuild=True)
    assert stats.rebuilt
    after = kept.execute(
        "SELECT customer_id, closed_until FROM queue WHERE closed_until IS NOT NULL"
    ).fetchall()
    assert [tuple(r) for r in after] == [tuple(r) for r in memos]
    cid = memos[0][0]
    with write_tx(kept):
        kept.execute("UPDATE phones SET bad = 1 WHERE customer_id = ?", (cid,))
    assert (
        kept.execute("SELECT closed_until FROM queue WHERE customer_id = ?", (cid,)).fetchone()[0]
        is None
    )
