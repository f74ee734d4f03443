"""Issue 9's multi-process test: collectors claiming and logging outcomes while a lead
rebalances, then an audit that no account was ever held by two collectors at once and no
outcome was lost.

Three collector processes (spawned: fresh interpreters, as SSH sessions are) claim their
next account, log "no answer" on it and claim again, six times each; meanwhile a lead's
process lends dave's book to them (`rebalance --from dave --until today`), gives it back
(`rebalance return --from dave`) and evens the team out, over and over in small chunks,
until every collector is done (a few seconds on a quiet machine). Accounts change hands
under the collectors' feet, some while they are on the phone with them (the holder keeps
it until the outcome).

The audit: the holds of every account (claim -> outcome logged, on the system's monotonic
clock, shared by the processes) never overlap between collectors; every outcome a
collector logged is in ``activities`` exactly once, under their name; no claim is left;
every account's owner is the last ``assignments`` row's; every loan is ended.
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

COLLECTORS = ("alice", "bruno", "carmen")
ACCOUNTS = 240  # 60 each, dave's included
PER = 6  # outcomes each collector logs (the lead keeps rebalancing until all have)
DEADLINE_S = 120.0  # a loaded 2-core machine: generous, never reached when quiet


def collector(
    db: str, collector_id: int, now: str, start: object, done: object, out: object
) -> None:
    from dunning.queue.claim import claim_next
    from dunning.queue.outcomes import OutcomeInput, log_outcome

    clock = FixedClock(from_iso(now))  # the lease never expires: only the claim protects
    settings = Settings()
    conn = connect(db)
    held: list[tuple[int, int, float, float, int]] = []
    errors: list[str] = []
    claim_next(conn, clock, settings, 0)  # warm-up (no such collector: nothing claimed)
    start.wait(60)  # type: ignore[attr-defined]
    end = time.monotonic() + DEADLINE_S
    try:
        while len(held) < PER and time.monotonic() < end:
            claim = claim_next(conn, clock, settings, collector_id)
            if claim is None:
                time.sleep(0.02)  # nothing of mine now: the lead may lend me some
                continue
            claimed = time.monotonic()
            time.sleep(0.003)  # on the phone: the lead may move the account meanwhile
            logged = log_outcome(
                conn, clock, settings, collector_id=collector_id,
                customer_id=claim.customer_id, inp=OutcomeInput("no_answer"),
            )  # fmt: skip
            held.append((claim.customer_id, collector_id, claimed, time.monotonic(),
                         logged.activity_id))  # fmt: skip
    except Exception as exc:  # reported to the test, not swallowed
        errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()
        with done.get_lock():  # type: ignore[attr-defined]
            done.value += 1  # type: ignore[attr-defined]
    out.put(("collector", held, errors))  # type: ignore[attr-defined]


def lead(db: str, now: str, start: object, done: object, out: object) -> None:
    from dunning.queue import rebalance, rebalance_move
    from dunning.queue.collectors import get_collector

    clock = FixedClock(from_iso(now))
    settings = Settings()
    conn = connect(db)
    lena = get_collector(conn, "lena")
    assert lena is not None
    dave = get_collector(conn, "dave")
    assert dave is not None
    rounds = moved = 0
    errors: list[str] = []
    start.wait(60)  # type: ignore[attr-defined]
    end = time.monotonic() + DEADLINE_S
    try:
        # until every collector has logged their outcomes (at least one round)
        while not rounds or (done.value < len(COLLECTORS) and time.monotonic() < end):  # type: ignore[attr-defined]
            plan = rebalance.plan(conn, clock, settings, lena, source="dave", until="today",
                                  reason=f"sick {rounds}")  # fmt: skip
            moved += rebalance_move.commit(conn, clock, lena, plan, pause=0.005)
            rebalance_move.return_loans(conn, clock, by=lena, owner_id=dave.id, pause=0.005)
            plan = rebalance.plan(conn, clock, settings, lena, targets=[*COLLECTORS, "dave"],
                                  by="balance", reason=f"even {rounds}")  # fmt: skip
            moved += rebalance_move.commit(conn, clock, lena, plan, pause=0.005)
            rounds += 1
        # the last word: dave's book lent, so the collectors end with work
        plan = rebalance.plan(conn, clock, settings, lena, source="dave", until="today")
        moved += rebalance_move.commit(conn, clock, lena, plan, pause=0.005)
        rebalance_move.return_loans(conn, clock, by=lena, owner_id=dave.id, pause=0.005)
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()
    out.put(("lead", [(rounds, moved)], errors))  # type: ignore[attr-defined]


def build(db: Path, now: str) -> dict[str, int]:
    conn = connect(db)
    migrate(conn)
    ids: dict[str, int] = {}
    with write_tx(conn):
        for name in (*COLLECTORS, "dave", "lena"):
            ids[name] = int(conn.execute(
                "INSERT INTO collectors (username, display_name, role, created_at) "
                "VALUES (?, ?, ?, ?)",
                (name, name.title(), "lead" if name == "lena" else "collector", now),
            ).lastrowid or 0)  # fmt: skip
        owners = [ids[n] for n in (*COLLECTORS, "dave")]
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
                (cid, f"INV-{n}", 10_000 + 37 * n, 10_000 + 37 * n, now, now),
            )
        refresh_accounts(conn, FixedClock(from_iso(now)), Settings())
        conn.execute(
            "UPDATE queue SET collector_id = CASE customer_id % 4 WHEN 0 THEN ? WHEN 1 THEN ? "
            "WHEN 2 THEN ? ELSE ? END",
            owners,
        )
    conn.close()
    return ids


@pytest.mark.slow
def test_collectors_work_while_a_lead_rebalances(tmp_path: Path, clock: FixedClock) -> None:
    db = tmp_path / "shared.db"
    now = to_iso(clock.now())
    ids = build(db, now)

    ctx = mp.get_context("spawn")
    start = ctx.Barrier(len(COLLECTORS) + 2)
    done = ctx.Value("i", 0)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=collector, args=(str(db), ids[name], now, start, done, out))
        for name in COLLECTORS
    ]
    procs.append(ctx.Process(target=lead, args=(str(db), now, start, done, out)))
    for p in procs:
        p.start()
    start.wait(60)
    results = [out.get(timeout=DEADLINE_S + 60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0

    assert [e for _, _, errs in results for e in errs] == []
    ((rounds, moved),) = next(r for kind, r, _ in results if kind == "lead")
    assert rounds >= 1 and moved > 0, "the lead moved accounts while the team worked"
    holds = [h for kind, held, _ in results if kind == "collector" for h in held]
    assert len(holds) == PER * len(COLLECTORS), f"the collectors worked: {len(holds)} outcomes"

    # no account held by two collectors at once
    spans: dict[int, list[tuple[float, float, int]]] = {}
    for cid, who, began, ended, _aid in holds:
        spans.setdefault(cid, []).append((began, ended, who))
    for cid, intervals in spans.items():
        intervals.sort()
        for (_b, end, who), (begin, _e, other) in zip(intervals, intervals[1:], strict=False):
            assert end <= begin, f"account {cid} held by {who} and {other} at once"

    check = connect(db)
    # no outcome lost: every logged outcome is in activities exactly once, as its collector's
    logged = sorted((aid, cid, who) for cid, who, _b, _e, aid in holds)
    stored = sorted(
        tuple(r) for r in check.execute(
            "SELECT id, customer_id, collector_id FROM activities WHERE outcome = 'no_answer'"
        )
    )  # fmt: skip
    assert stored == logged
    assert (
        check.execute("SELECT COUNT(*) FROM queue WHERE claimed_by IS NOT NULL").fetchone()[0] == 0
    )
    # every owner is the one the history says; every loan ended
    wrong = check.execute(
        """SELECT COUNT(*) FROM queue q WHERE q.collector_id IS NOT (
               SELECT a.collector_id FROM assignments a WHERE a.customer_id = q.customer_id
               ORDER BY a.id DESC LIMIT 1)
             AND EXISTS (SELECT 1 FROM assignments a WHERE a.customer_id = q.customer_id)"""
    ).fetchone()[0]
    assert wrong == 0
    assert (
        check.execute(
            "SELECT COUNT(*) FROM loans l LEFT JOIN loan_returns r ON r.loan_id = l.id "
            "WHERE r.id IS NULL"
        ).fetchone()[0]
        == 0
    )
    check.close()
