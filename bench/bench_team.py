"""A team writing at once: 50 collectors, one outcome a second each, while a lead moves
100,000 accounts from one collector to another.

    python bench/bench_team.py --db /tmp/copy-of-the-1M.db [--collectors 50] [--move 100000]
        [--at 16:00]

Each collector is a real process working as the screen does (queue/session.py's
WorkSession: claim the next account and load it, then log a 'no_answer' outcome), once a
second, as a collector row of its own (bench01..benchNN, created and given ready accounts
first with the product's own set-based move). Phase 1: the team alone (the reference,
measured in the same run). Phase 2: the same team while the lead runs the product's
command, ``dunning assign --from SRC --to DST --limit N --as LEAD`` (``--refs`` moves by
references on the command line instead, as before issue 8). Prints p50/p99/max of claim
(+ load) and of the outcome's commit in each phase, outcomes per second, how long the
move took, and the goal. Writes to the database: run it on a copy, never on a database
people work in.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import pct, summary_ms, table  # noqa: E402

from dunning.clock import Clock, FixedClock  # noqa: E402
from dunning.db.connection import connect  # noqa: E402
from dunning.db.schema import migrate  # noqa: E402
from dunning.queue.claim import catch_up  # noqa: E402
from dunning.queue.collectors import add_collector, get_collector  # noqa: E402
from dunning.queue.config import Settings  # noqa: E402

GOAL_MS = 200.0
# (t_claim_start, claim_s, t_commit_end, commit_s | None, error, lock_wait_s,
#  memos written by the claim, accounts the claim passed over)
Sample = tuple[float, float, float, float | None, str, float, int, int]


class DayClock:
    """Real time shifted to a weekday's working hours (16:00 UTC, 11:00 in Toronto), so
    that accounts under contact rules are callable whatever hour the bench runs at."""

    def __init__(self, base: datetime) -> None:
        self.base = base
        self.t0 = time.monotonic()

    def now(self) -> datetime:
        return self.base + timedelta(seconds=time.monotonic() - self.t0)


def working_day(at: str = "16:00") -> datetime:
    hour, minute = (int(x) for x in at.split(":"))
    day = datetime.now(UTC).replace(hour=hour, minute=minute, second=0, microsecond=0)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def collector_main(
    db: str, name: str, spread: float, base: datetime, start: Any, stop: Any, rate: float,
    out: Any,
) -> None:  # fmt: skip
    """One collector: claim + load, then log, every 1/rate s from ``start`` until ``stop``
    (a collector late by more than a turn skips it: people do not make up lost calls).
    Sends [(t_claim_start, claim_s, t_commit_end, commit_s | None, error, lock_wait_s)]
    when done (lock_wait_s: both writes' waits for the write lock)."""
    from dunning.db import lockwait
    from dunning.queue.outcomes import OutcomeInput
    from dunning.queue.session import WorkSession

    # how long each write waited for the lock (write_tx looks begin_immediate up per call)
    waits: list[float] = []
    begin = lockwait.begin_immediate

    def timed_begin(conn: Any) -> None:
        t = time.monotonic()
        begin(conn)
        waits.append(time.monotonic() - t)

    lockwait.begin_immediate = timed_begin  # type: ignore[assignment]

    # how many memos of a closed window each claim writes (queue/claim_closed.py)
    from dunning.queue import claim_closed

    memos: list[int] = [0]
    make_memo = claim_closed.memo

    def counted_memo(*a: Any) -> tuple[object, ...]:
        memos[0] += 1
        return make_memo(*a)

    claim_closed.memo = counted_memo  # type: ignore[assignment]

    conn = connect(db)
    me = get_collector(conn, name)
    conn.close()
    assert me is not None, name
    session = WorkSession(db, me, Settings(), clock=DayClock(base))
    if session.next_account() is not None:  # warm: imports, caches, statements (unmeasured)
        session.log(OutcomeInput("no_answer", note="bench"))
    out.put(("ready", name))
    while start.value == 0.0:
        time.sleep(0.02)
    samples: list[Sample] = []
    due = start.value + spread / rate  # spread over the second
    while not stop.is_set():
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        elif delay < -1 / rate:
            due = time.monotonic()
        due += 1 / rate
        if stop.is_set():
            break
        t0 = time.monotonic()
        waits.clear()
        memos[0] = 0
        try:
            view = session.next_account()
        except Exception as exc:  # noqa: BLE001 - counted and shown, the bench goes on
            samples.append(
                (t0, time.monotonic() - t0, time.monotonic(), None, str(exc)[:80], 0.0, 0, 0)
            )
            continue
        t1 = time.monotonic()
        if view is None:
            samples.append((t0, t1 - t0, t1, None, "nothing to claim", sum(waits), memos[0], 0))
            continue
        try:
            session.log(OutcomeInput("no_answer", note="bench"))
            err = ""
        except Exception as exc:  # noqa: BLE001
            err = str(exc)[:80]
        t2 = time.monotonic()
        passed = len(session.passed_over)
        sample = (t0, t1 - t0, t2, None if err else t2 - t1, err, sum(waits), memos[0], passed)
        samples.append(sample)
    session.close()
    out.put(("done", samples))


def setup(
    db: str, clock: Clock, n: int, per: int, feeder: str, lead_name: str
) -> tuple[list[str], int]:
    """Collectors bench01..benchNN, each with ``per`` ready accounts of ``feeder``'s."""
    conn = connect(db)
    migrate(conn)
    settings = Settings()
    t0 = time.perf_counter()
    woken, decided = catch_up(conn, clock, settings)  # the nightly refresh's catch-up
    print(f"catch-up: {woken:,} woken, {decided:,} promises decided in "
          f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)  # fmt: skip
    lead = get_collector(conn, lead_name)
    src = get_collector(conn, feeder)
    assert lead is not None and src is not None, (lead_name, feeder)
    names = [f"bench{i:02d}" for i in range(1, n + 1)]
    for name in names:
        me = get_collector(conn, name) or add_collector(
            conn, clock, username=name, display_name=name.title(), tz="America/Toronto"
        )
        have = conn.execute(
            "SELECT COUNT(*) FROM queue WHERE collector_id = ? AND state = 'ready'", (me.id,)
        ).fetchone()[0]
        if have < per:
            from dunning.queue.assign import Book, reassign_from

            book = Book(src.id, src.username, per - have, "ready")
            reassign_from(conn, clock, lead, book, me, "bench setup", pause=0)
    conn.close()
    return names, lead.id


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="a COPY of a benchmark database")
    ap.add_argument("--collectors", type=int, default=50)
    ap.add_argument("--rate", type=float, default=1.0, help="outcomes per second each")
    ap.add_argument("--move", type=int, default=100_000, help="accounts the lead moves")
    ap.add_argument("--from", dest="src", default="alice", help="whose accounts move")
    ap.add_argument("--to", dest="dst", default="bruno")
    ap.add_argument("--lead", default="lena")
    ap.add_argument("--feeder", default="dave", help="gives the bench collectors accounts")
    ap.add_argument("--alone", type=float, default=30.0, help="seconds of phase 1")
    ap.add_argument("--warmup", type=float, default=5.0, help="seconds not measured")
    ap.add_argument("--refs", action="store_true", help="move by references (the old way)")
    ap.add_argument(
        "--at",
        default="16:00",
        help="HH:MM UTC of a weekday the team works at (16:00: every account of the bench's "
        "collectors inside its calling window; an earlier hour makes claims pass accounts "
        "over and write the claim's memos, queue/claim_closed.py)",
    )
    ap.add_argument(
        "--rebalance",
        action="store_true",
        help="the lead runs `dunning rebalance --from SRC --to DST[,...]` (issue 9: the "
        "source's whole open book, to the speakers of each language) instead of assign",
    )
    ap.add_argument("--setup-only", action="store_true", help="create and feed collectors")
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    db = args.db
    if Path(db).resolve() == Path("/tmp/dunning-bench-main.db"):
        sys.exit("run the bench on a copy: it writes")
    base = working_day(args.at)
    load_before = os.getloadavg()
    per = int(args.rate * (args.warmup + args.alone + 300)) + 20  # enough for a slow move
    names, _lead_id = setup(db, FixedClock(base), args.collectors, per, args.feeder, args.lead)
    if args.setup_only:
        return

    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    stop = ctx.Event()
    start = ctx.Value("d", 0.0)  # set once every collector is ready
    procs = []
    for i, name in enumerate(names):
        spread = i / len(names)
        p = ctx.Process(
            target=collector_main, args=(db, name, spread, base, start, stop, args.rate, out)
        )
        p.start()
        procs.append(p)
    for _ in names:
        kind, _name = out.get(timeout=600)
        assert kind == "ready"
    start.value = t_start = time.monotonic() + 0.5
    phase1 = (t_start + args.warmup, t_start + args.warmup + args.alone)
    time.sleep(max(0.0, phase1[1] - time.monotonic()))

    # phase 2: the lead's move, the product's command in its own process
    env = dict(os.environ)
    import dunning  # the lead runs the code the collectors run

    root = str(Path(dunning.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "dunning", "--db", db, "assign", "--to", args.dst,
           "--as", args.lead, "--reason", "bench move"]  # fmt: skip
    if args.rebalance:
        cmd = [sys.executable, "-m", "dunning", "--db", db, "rebalance", "--from", args.src,
               "--to", args.dst, "--as", args.lead, "--reason", "bench rebalance"]  # fmt: skip
    elif args.refs:
        conn = connect(db)
        refs = [
            r[0]
            for r in conn.execute(
                "SELECT c.external_ref FROM queue q JOIN customers c ON c.id = q.customer_id "
                "WHERE q.collector_id = (SELECT id FROM collectors WHERE username = ?) "
                "ORDER BY q.customer_id LIMIT ?",
                (args.src, args.move),
            )
        ]
        conn.close()
        cmd += refs
    else:
        cmd += ["--from", args.src, "--limit", str(args.move)]
    print(f"phase 1 done; the lead's move starts ({len(names)} collectors working)",
          file=sys.stderr, flush=True)  # fmt: skip
    m0 = time.monotonic()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the collectors are not reaped yet
    move = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=root)
    m1 = time.monotonic()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    move_cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    print(f"the move took {m1 - m0:.1f} s", file=sys.stderr, flush=True)
    time.sleep(1.0)
    stop.set()
    samples: list[Sample] = []
    for _ in names:
        kind, got = out.get(timeout=300)
        samples.extend(got)
    for p in procs:
        p.join(timeout=60)
    load_after = os.getloadavg()

    def window(
        lo: float, hi: float
    ) -> tuple[list[float], list[float], float, list[str], list[float]]:
        ops = [s for s in samples if lo <= s[0] < hi]
        claims = [s[1] for s in ops]
        commits = [s[3] for s in ops if s[3] is not None]
        done = sum(1 for s in samples if s[3] is not None and lo <= s[2] < hi)
        errors = [s[4] for s in ops if s[4]]
        return claims, commits, done / (hi - lo), errors, [s[5] for s in ops]

    c1, k1, tp1, e1, w1 = window(*phase1)
    c2, k2, tp2, e2, w2 = window(m0, m1)
    conn = connect(db)
    customers = conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0]
    conn.close()
    print(f"database: {db} ({customers:,} customers); {len(names)} collectors x "
          f"{args.rate:g}/s; load average before {load_before[0]:.2f}, after "
          f"{load_after[0]:.2f}")  # fmt: skip
    how = "rebalance" if args.rebalance else "references" if args.refs else "--from"
    print(f"lead's move ({how}): exit {move.returncode}, "
          f"{m1 - m0:.1f} s ({move_cpu:.1f} s CPU): {move.stdout.strip()[:200]} "
          f"{move.stderr.strip()[-300:]}")  # fmt: skip
    offered = len(names) * args.rate
    rows = [
        ("claim + load, team alone", *summary_ms(c1), ""),
        ("claim + load, during the move", *summary_ms(c2), f"p99 <= {GOAL_MS:.0f}"),
        ("commit outcome, team alone", *summary_ms(k1), ""),
        ("commit outcome, during the move", *summary_ms(k2), f"p99 <= {GOAL_MS:.0f}"),
        ("  of which waiting for the lock, alone", *summary_ms(w1), "(claim + commit)"),
        ("  of which waiting for the lock, move", *summary_ms(w2), "(claim + commit)"),
    ]
    print(table(["work", "p50 ms", "p99 ms", "max ms", "n", "goal"], rows))
    change = (tp2 / tp1 - 1) * 100 if tp1 else float("nan")
    print(f"throughput: {tp1:.1f} outcomes/s alone, {tp2:.1f} during the move "
          f"({change:+.0f}%), offered {offered:g}/s")  # fmt: skip
    for label, (lo, hi) in (("alone", phase1), ("during the move", (m0, m1))):
        ops = [s for s in samples if lo <= s[0] < hi]
        written = [s[6] for s in ops]
        print(f"claims {label}: {len(ops)}, passed over p50 {pct([s[7] for s in ops], 50):.0f}; "
              f"memos written {sum(written):,} by {sum(1 for w in written if w)} claims "
              f"(max {max(written, default=0)})")  # fmt: skip
    for label, errs in (("alone", e1), ("during the move", e2)):
        if errs:
            print(f"errors {label}: {len(errs)}, e.g. {sorted(set(errs))[:3]}")
    if c1 and k1 and c2 and k2:
        print(f"p99 during the move / alone: claim {pct(c2, 99) / pct(c1, 99):.2f}x, "
              f"commit {pct(k2, 99) / pct(k1, 99):.2f}x")  # fmt: skip
    ok = pct(c2, 99) * 1000 <= GOAL_MS and pct(k2, 99) * 1000 <= GOAL_MS
    print(f"goal (claim and commit p99 <= {GOAL_MS:.0f} ms during the move): "
          f"{'met' if ok else 'NOT met'}")  # fmt: skip


if __name__ == "__main__":
    main()
