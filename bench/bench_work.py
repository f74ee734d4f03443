"""The collector's hot path on a big database: claim + load, and commit an outcome.

    python bench/bench_work.py --db /tmp/dunning-bench.db [--n 2000] [--as alice]

Each figure sits beside the same work done by raw sqlite3 in the same run, so the
overhead of the layers (queue/, db/) is visible. Logs real 'no_answer' outcomes: run it
on a benchmark copy, not on a database people work in.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import pct, summary_ms, table  # noqa: E402

from dunning.clock import SystemClock, to_iso  # noqa: E402
from dunning.db.connection import connect  # noqa: E402
from dunning.queue.claim import catch_up  # noqa: E402
from dunning.queue.collectors import get_collector  # noqa: E402
from dunning.queue.config import Settings  # noqa: E402
from dunning.queue.outcomes import OutcomeInput  # noqa: E402
from dunning.queue.session import WorkSession  # noqa: E402
from dunning.queue.standing import CLASSES, value_on  # noqa: E402

SETTINGS = Settings()

CHECKPOINT_EVERY = 10.0  # as the screen does (tui/screens/work.py CHECKPOINT_EVERY)


def raw_claim_and_load(conn: sqlite3.Connection, collector_id: int) -> int | None:
    """The least the hot path must do, in raw sqlite3: claim one and read what is shown.
    The worklist is ordered by standing (queue/standing.py): the head of each of the four
    classes, the best of them by today's value."""
    clock = SystemClock().now()
    now = to_iso(clock)
    conn.execute("BEGIN IMMEDIATE")
    heads = []
    for cls in CLASSES:
        r = conn.execute(
            "SELECT customer_id, pkey FROM queue WHERE collector_id = ? AND state = 'ready' "
            "AND pclass = ? AND (claimed_by IS NULL OR claim_expires_at <= ?) "
            "ORDER BY pkey DESC, customer_id LIMIT 1",
            (collector_id, cls, now),
        ).fetchone()
        if r is not None:
            heads.append((-value_on(cls, r[1], clock.date(), SETTINGS), r[0]))
    if not heads:
        conn.execute("COMMIT")
        return None
    cid = min(heads)[1]
    conn.execute(
        "UPDATE queue SET claimed_by = ?, claim_expires_at = ? WHERE customer_id = ?",
        (collector_id, now, cid),
    )
    conn.execute("COMMIT")
    conn.execute("SELECT * FROM customers WHERE id = ?", (cid,)).fetchall()
    conn.execute("SELECT * FROM contacts WHERE customer_id = ?", (cid,)).fetchall()
    conn.execute("SELECT * FROM phones WHERE customer_id = ?", (cid,)).fetchall()
    conn.execute(
        "SELECT * FROM invoices WHERE customer_id = ? AND status = 'open'", (cid,)
    ).fetchall()
    conn.execute("SELECT * FROM promises WHERE customer_id = ?", (cid,)).fetchall()
    conn.execute("SELECT * FROM disputes WHERE customer_id = ?", (cid,)).fetchall()
    conn.execute(
        "SELECT * FROM activities WHERE customer_id = ? ORDER BY at DESC LIMIT 60", (cid,)
    ).fetchall()
    return int(cid)


def raw_commit(conn: sqlite3.Connection, collector_id: int, cid: int) -> None:
    now = to_iso(SystemClock().now())
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(
        "INSERT INTO activities (customer_id, collector_id, at, outcome, attempt, note) "
        "VALUES (?, ?, ?, 'no_answer', 1, '')",
        (cid, collector_id, now),
    )
    conn.execute(
        "UPDATE queue SET state = 'waiting', next_action_at = '9999', claimed_by = NULL "
        "WHERE customer_id = ?",
        (cid,),
    )
    conn.execute("COMMIT")


@dataclass
class ShiftedClock:
    """The system clock moved to another time of day (``--at``): who can be called
    depends on the customers' local time, so the claim's cost does too."""

    shift: timedelta

    def now(self) -> datetime:
        return SystemClock().now() + self.shift


def clock_at(hhmm: str | None) -> SystemClock | ShiftedClock:
    if not hhmm:
        return SystemClock()
    now = SystemClock().now().astimezone(UTC)
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return ShiftedClock(now.replace(hour=hours, minute=minutes, second=0, microsecond=0) - now)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--db", default="/tmp/dunning-bench.db")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--as", dest="who", default="alice")
    ap.add_argument("--raw-as", default="dave", help="collector whose queue the raw runs use")
    ap.add_argument(
        "--at",
        help="HH:MM UTC: run at this time of today (the customers callable depend on it; "
        "default: now)",
    )
    ap.add_argument(
        "--sync",
        choices=["full", "normal"],
        default="full",
        help="normal: every commit of the session and of raw sqlite3 with synchronous=NORMAL "
        "(a reference only, to see the share of the disk's syncs: WAL + NORMAL may lose the "
        "last commits on a power cut)",
    )
    args = ap.parse_args()
    conn = connect(args.db)
    me = get_collector(conn, args.who)
    other = get_collector(conn, args.raw_as)
    assert me is not None and other is not None
    clock = clock_at(args.at)
    session = WorkSession(args.db, me, Settings(), clock=clock)
    if args.sync == "normal":
        for c in (conn, session._conn):  # noqa: SLF001 - a reference run only
            c.execute("PRAGMA synchronous=NORMAL")
            c.durable_sync = "NORMAL"  # type: ignore[attr-defined]
    # the benchmark database is built as of 2026-11-23 (a fixed clock, for determinism):
    # bring its queue up to today first, as the nightly `dunning queue refresh` would, so
    # that the timings are a working day's and not the first claims after days unrun
    t0 = time.perf_counter()
    woken, decided = catch_up(conn, clock, Settings())
    print(
        f"catch-up (untimed below): {woken:,} accounts woken, {decided:,} promises decided "
        f"in {time.perf_counter() - t0:.1f} s",
        file=sys.stderr,
    )
    load0 = os.getloadavg()[0]
    claim_load: list[float] = []
    claim_cpu: list[float] = []  # this process's CPU: less disturbed by a busy machine
    passed: list[int] = []  # accounts the claim read and passed over (not callable now)
    commit: list[float] = []
    commit_cpu: list[float] = []
    last_checkpoint = time.perf_counter()
    for _ in range(args.n):
        if time.perf_counter() - last_checkpoint >= CHECKPOINT_EVERY:
            session.checkpoint()  # untimed: the screen runs it in a worker every 10 s
            last_checkpoint = time.perf_counter()
        c0 = time.process_time()
        t0 = time.perf_counter()
        view = session.next_account()
        t1 = time.perf_counter()
        c1 = time.process_time()
        if view is None:
            break
        passed.append(len(session.passed_over))
        session.log(OutcomeInput("no_answer", note="bench", phone_id=None))
        t2 = time.perf_counter()
        commit_cpu.append(time.process_time() - c1)
        claim_load.append(t1 - t0)
        claim_cpu.append(c1 - c0)
        commit.append(t2 - t1)
    raw_cl: list[float] = []
    raw_co: list[float] = []
    for _ in range(args.n):
        t0 = time.perf_counter()
        cid = raw_claim_and_load(conn, other.id)
        t1 = time.perf_counter()
        if cid is None:
            break
        raw_commit(conn, other.id, cid)
        t2 = time.perf_counter()
        raw_cl.append(t1 - t0)
        raw_co.append(t2 - t1)
    customers = conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0]
    invoices = conn.execute("SELECT MAX(rowid) FROM invoices").fetchone()[0]
    print(
        f"database: {args.db} ({customers:,} customers, ~{invoices:,} invoices); "
        f"at {clock.now().astimezone(UTC):%H:%M} UTC; synchronous={args.sync.upper()}; "
        f"load average {load0:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    if passed:
        ranked = sorted(passed)
        print(
            f"accounts passed over a claim (not callable now): p50 {ranked[len(ranked) // 2]}, "
            f"max {ranked[-1]}, {sum(passed):,} in all; claim + load CPU p50 "
            f"{statistics.median(claim_cpu) * 1000:.2f} ms, "
            f"p99 {pct(claim_cpu, 99) * 1000:.2f} ms; "
            f"commit CPU p50 {statistics.median(commit_cpu) * 1000:.2f} ms, "
            f"p99 {pct(commit_cpu, 99) * 1000:.2f} ms"
        )
    if claim_load and raw_cl:
        print(
            "dunning / raw sqlite3, p50 and p99: claim + load "
            f"{pct(claim_load, 50) / pct(raw_cl, 50):.2f}x, "
            f"{pct(claim_load, 99) / pct(raw_cl, 99):.2f}x; "
            f"commit {pct(commit, 50) / pct(raw_co, 50):.2f}x, "
            f"{pct(commit, 99) / pct(raw_co, 99):.2f}x"
        )
    print(
        table(
            ["work", "p50 ms", "p99 ms", "max ms", "n", "goal"],
            [
                ("claim next + load the account (dunning)", *summary_ms(claim_load), "p99 <= 10"),
                ("  same, raw sqlite3", *summary_ms(raw_cl), ""),
                ("commit an outcome (dunning)", *summary_ms(commit), "p99 <= 10"),
                ("  same, raw sqlite3", *summary_ms(raw_co), ""),
            ],
        )
    )


if __name__ == "__main__":
    main()
