"""The claim's order from stored standings (queue/standing.py, claim.worklist): the four
classes merged by today's value, the same order as today's score up to its rounding, on
the build's day and weeks later without the rows being rewritten."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

from dunning.clock import FixedClock, to_iso
from dunning.db.connection import open_db
from dunning.demo.build import build_demo
from dunning.queue.account_view import _why_now
from dunning.queue.claim import claim_next, worklist
from dunning.queue.config import Settings
from dunning.queue.refresh import refresh_all
from dunning.queue.standing import value_on


def _ready(conn: sqlite3.Connection, collector: int, day: date) -> list[tuple[int, int]]:
    """(priority shown today x100, id) of the collector's ready accounts nobody holds."""
    conn.row_factory = sqlite3.Row
    out = []
    for r in conn.execute(
        """SELECT q.*, q.customer_id AS queued, q.open_minor + q.unapplied_minor AS owed,
                  c.currency, c.risk_score
           FROM queue q JOIN customers c ON c.id = q.customer_id
           WHERE q.collector_id = ? AND q.state = 'ready' AND q.claimed_by IS NULL""",
        (collector,),
    ):
        out.append((_why_now(r, day, Settings())[0], int(r["customer_id"])))
    return out


def test_the_worklist_is_todays_order_on_any_day(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    build_demo(db, customers=400, seed=7, clock=FixedClock())
    conn = open_db(db)
    settings = Settings()
    collector = conn.execute(
        "SELECT collector_id FROM queue WHERE state = 'ready' GROUP BY collector_id "
        "ORDER BY COUNT(*) DESC LIMIT 1"
    ).fetchone()[0]
    for days in (0, 1, 20):
        clock = FixedClock()
        clock.advance(days=days)
        refresh_all(conn, clock, settings, workers=0)
        now = clock.now()
        rows = list(worklist(conn, settings, collector, to_iso(now), now.date()))
        classes = {r["customer_id"]: None for r in rows}
        shown = dict((cid, p) for p, cid in _ready(conn, collector, now.date()))
        assert set(classes) == set(shown) and len(rows) > 30
        # the merge is a full sort by today's value (ties: the lower id)
        stored = {r[0]: r[1:] for r in conn.execute("SELECT customer_id, pclass, pkey FROM queue")}
        want = sorted(shown, key=lambda c: (-value_on(*stored[c], now.date(), settings), c))
        assert [r["customer_id"] for r in rows] == want
        # and today's shown priority never goes up by more than its rounding (two day
        # terms rounded to 0.1 each: 0.1 point, 10 x100) along the worklist
        prios = [shown[r["customer_id"]] for r in rows]
        for a, b in zip(prios, prios[1:], strict=False):
            assert b <= a + 10, (days, a, b)
        assert len({(stored[c][0]) for c in shown}) >= 2  # more than one class met
    conn.close()


def test_the_claim_takes_the_head_of_the_best_class(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    build_demo(db, customers=200, seed=2, clock=FixedClock())
    conn = open_db(db)
    settings = Settings()
    clock = FixedClock()
    clock.advance(days=3)
    refresh_all(conn, clock, settings, workers=0)
    collector = conn.execute(
        "SELECT collector_id FROM queue WHERE state = 'ready' LIMIT 1"
    ).fetchone()[0]
    now = clock.now()
    first = next(iter(worklist(conn, settings, collector, to_iso(now), now.date())))
    got = claim_next(conn, clock, settings, collector, resume=False)
    assert got is not None
    # the first account of the merged worklist, unless it may not be called at this hour
    assert got.customer_id == first["customer_id"] or got.passed_over
    assert not got.passed_over or got.passed_over[0][0] == first["customer_id"]
    conn.close()
