"""Many real processes claiming from one database file never hold the same account.

Eight processes (spawned: fresh interpreters, as separate SSH sessions would be) work the
same collector's queue of 200 accounts: claim the next account, log "no answer" (which
sends it to the next business day), pause 2 ms as if dialing, repeat until nothing is
left. Every account must be worked exactly once, and no two processes' holds on an account
may overlap.

They ask both with and without ``resume``: resume hands a collector back the account
their own earlier process held (crash recovery), but never one that another live process
of theirs has open (the claim records the holder's pid).
"""

from __future__ import annotations

import multiprocessing as mp
import time
from pathlib import Path

import pytest

from dunning.clock import FixedClock, from_iso, to_iso
from dunning.db.connection import connect, write_tx
from dunning.db.schema import migrate
from dunning.queue.accounts import refresh_accounts
from dunning.queue.config import Settings

PROCESSES = 8
ACCOUNTS = 200


def worker(db: str, collector_id: int, now: str, start: object, out: object, resume: bool) -> None:
    from dunning.queue.claim import claim_next
    from dunning.queue.outcomes import OutcomeInput, log_outcome

    clock = FixedClock(from_iso(now))  # the lease never expires: only the claim protects
    settings = Settings()
    conn = connect(db)
    held: list[tuple[int, float, float]] = []
    errors: list[str] = []
    start.wait(60)  # type: ignore[attr-defined]  # everyone ready: the race begins
    try:
        while True:
            claim = claim_next(conn, clock, settings, collector_id, resume=resume)
            if claim is None:
                break
            claimed = time.monotonic()
            log_outcome(
                conn,
                clock,
                settings,
                collector_id=collector_id,
                customer_id=claim.customer_id,
                inp=OutcomeInput("no_answer"),
            )
            held.append((claim.customer_id, claimed, time.monotonic()))
            # A collector dials between two claims. Without any pause, the process that
            # holds the write lock takes it again before the others' busy handlers wake
            # (SQLite's busy handler is unfair), and one process may work every account.
            time.sleep(0.002)
    except Exception as exc:  # reported to the test, not swallowed
        errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()
    out.put((held, errors))  # type: ignore[attr-defined]


def build(conn, clock) -> int:
    now = "2026-11-23T15:00:00Z"
    with write_tx(conn):
        alice = conn.execute(
            "INSERT INTO collectors (username, display_name, created_at) "
            "VALUES ('alice', 'Alice', ?)",
            (now,),
        ).lastrowid
        for n in range(ACCOUNTS):
            cid = conn.execute(
                "INSERT INTO customers (external_ref, name, country, subdivision, currency, "
                "created_at, updated_at) VALUES (?, ?, 'US', 'NY', 'USD', ?, ?)",
                (f"C{n:05d}", f"Customer {n}", now, now),
            ).lastrowid
            conn.execute(
                "INSERT INTO phones (customer_id, e164, created_at) VALUES (?, ?, ?)",
                (cid, "+12125550100", now),
            )
            conn.execute(
                "INSERT INTO invoices (customer_id, number, issue_date, due_date, amount_minor, "
                "open_minor, currency, created_at, updated_at) "
                "VALUES (?, ?, '2026-06-01', '2026-07-01', ?, ?, 'USD', ?, ?)",
                (cid, f"INV-{n}", 10_000 + n, 10_000 + n, now, now),
            )
        refresh_accounts(conn, clock, Settings())
        conn.execute("UPDATE queue SET collector_id = ?", (alice,))
    return int(alice)


@pytest.mark.slow
@pytest.mark.parametrize("resume", [False, True], ids=["no-resume", "resume"])
def test_many_processes_never_hold_the_same_account(tmp_path: Path, clock, resume):
    db = tmp_path / "shared.db"
    conn = connect(db)
    migrate(conn)
    alice = build(conn, clock)
    conn.close()

    ctx = mp.get_context("spawn")
    start = ctx.Barrier(PROCESSES + 1)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=worker, args=(str(db), alice, to_iso(clock.now()), start, out, resume))
        for _ in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    start.wait(60)
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0

    errors = [e for _, errs in results for e in errs]
    assert errors == []
    worked = [h for held, _ in results for h in held]
    ids = [cid for cid, _, _ in worked]
    assert len(ids) == ACCOUNTS, "every account worked"
    assert len(set(ids)) == ACCOUNTS, "no account claimed twice"
    assert sum(1 for held, _ in results if held) > 1, "the work was shared"
    # and no two holds overlap in time (one per account here, checked the general way)
    spans: dict[int, list[tuple[float, float]]] = {}
    for cid, a, b in worked:
        spans.setdefault(cid, []).append((a, b))
    for cid, intervals in spans.items():
        intervals.sort()
        for (_, end), (begin, _) in zip(intervals, intervals[1:], strict=False):
            assert end <= begin, f"account {cid} held twice at once"

    check = connect(db)
    rows = check.execute(
        "SELECT COUNT(*), COUNT(DISTINCT customer_id) FROM activities WHERE outcome = 'no_answer'"
    ).fetchone()
    assert tuple(rows) == (ACCOUNTS, ACCOUNTS)
    assert (
        check.execute("SELECT COUNT(*) FROM queue WHERE claimed_by IS NOT NULL").fetchone()[0] == 0
    )
    check.close()
