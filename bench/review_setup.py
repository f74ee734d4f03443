"""Set up a copy of the 1M bench database for bench/bench_review_lists.py: ``n`` accounts
in review (each with the refusal that sent it there) and ``n`` open disputes. Writes the
copy (never the original): run it on ``cp /work/benchdb/r8.db COPY.db``."""

from __future__ import annotations

import random
import sqlite3

DEPARTMENTS = ("sales", "customer_service", "billing", "legal")
REASONS = ("pricing", "not_received", "damaged", "quality", "billing_error", "duplicate")


def _iso(day: int, sec: int) -> str:
    from datetime import UTC, datetime, timedelta

    at = datetime(2026, 6, 1, tzinfo=UTC) + timedelta(days=day, seconds=sec)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def setup(conn: sqlite3.Connection, n: int = 100_000, seed: int = 9) -> tuple[int, int]:
    """Bring the accounts in review and the open disputes up to ``n`` each (idempotent);
    returns how many there are."""
    rnd = random.Random(seed)
    have = conn.execute("SELECT COUNT(*) FROM queue WHERE state = 'review'").fetchone()[0]
    if have < n:
        ready = [
            r[0]
            for r in conn.execute(
                "SELECT customer_id FROM queue WHERE state = 'ready' AND collector_id IS NOT NULL"
            )
        ]
        picked = rnd.sample(ready, n - have)
        conn.execute("BEGIN IMMEDIATE")
        for cid in picked:
            at = _iso(rnd.randrange(180), rnd.randrange(86400))
            owner = conn.execute(
                "SELECT collector_id FROM queue WHERE customer_id = ?", (cid,)
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO activities (customer_id, collector_id, at, outcome, attempt, "
                "contact, rpc, worked, note, next_action, next_action_at) "
                "VALUES (?, ?, ?, 'refused', 1, 1, 1, 1, 'bench: refused', 'lead_review', ?)",
                (cid, owner, at, at),
            )
            conn.execute(
                "UPDATE queue SET state = 'review', next_action = 'lead_review', "
                "next_action_at = ? WHERE customer_id = ?",
                (at, cid),
            )
        conn.execute("COMMIT")
    opened = conn.execute("SELECT COUNT(*) FROM disputes WHERE status = 'open'").fetchone()[0]
    if opened < n:
        top = conn.execute("SELECT MAX(id) FROM customers").fetchone()[0]
        conn.execute("BEGIN IMMEDIATE")
        rows = []
        for _ in range(n - opened):
            cid = rnd.randrange(1, top + 1)
            rows.append(
                (
                    cid,
                    rnd.choice(REASONS),
                    rnd.choice(DEPARTMENTS),
                    rnd.randrange(1000, 500_000),
                    _iso(rnd.randrange(180), rnd.randrange(86400)),
                )
            )
        conn.executemany(
            "INSERT INTO disputes (customer_id, reason, department, amount_minor, currency, "
            "status, created_at) SELECT ?, ?, ?, ?, c.currency, 'open', ? FROM customers c "
            "WHERE c.id = ?",
            [(*r, r[0]) for r in rows],
        )
        conn.execute("COMMIT")
    return (
        conn.execute("SELECT COUNT(*) FROM queue WHERE state = 'review'").fetchone()[0],
        conn.execute("SELECT COUNT(*) FROM disputes WHERE status = 'open'").fetchone()[0],
    )
