"""Claim + load on one queue state, for an A/B of two versions of the code.

    PYTHONPATH=/path/to/A .venv/bin/python bench/bench_claim_ab.py --db COPY --as bruno
    PYTHONPATH=/path/to/B .venv/bin/python bench/bench_claim_ab.py --db COPY --as bruno

Walks down the collector's worklist (each claim excludes the accounts claimed before),
logs nothing, and releases every claim at the end, so runs of either version, one after
the other, see the same queue (bench_work.py logs outcomes: each run works a different
part of the list). Prints CPU and wall p50 / p99 of claim + load, and the accounts
passed over. Run interleaved (A, B, A, B) on a copy.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_work import clock_at, raw_claim_and_load  # noqa: E402
from common import pct  # noqa: E402

import dunning  # noqa: E402
from dunning.db.connection import connect  # noqa: E402
from dunning.db.schema import migrate  # noqa: E402
from dunning.queue.account_view import load_account  # noqa: E402
from dunning.queue.claim import catch_up, claim_next, release  # noqa: E402
from dunning.queue.collectors import get_collector  # noqa: E402
from dunning.queue.config import Settings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--as", dest="who", default="bruno")
    ap.add_argument("--n", type=int, default=150)
    ap.add_argument(
        "--at",
        help="HH:MM UTC: claim at this time of today (who may be called depends on it: pair "
        "runs at the same time; default: now)",
    )
    args = ap.parse_args()
    conn = connect(args.db)
    t0 = time.perf_counter()
    if applied := migrate(conn):  # untimed: once per copy
        print(f"migrated {applied} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    me = get_collector(conn, args.who)
    if me is None:
        sys.exit(f"{args.who}: no such collector")
    settings, clock = Settings(), clock_at(args.at)
    catch_up(conn, clock, settings)  # untimed: the wakes and promises a first claim would do
    cpu: list[float] = []
    wall: list[float] = []
    passed: list[int] = []
    got: list[int] = []
    load0 = os.getloadavg()[0]
    try:
        for _ in range(args.n):
            c0, t0 = time.process_time(), time.perf_counter()
            claim = claim_next(conn, clock, settings, me.id, exclude=frozenset(got), resume=False)
            if claim is None:
                break
            load_account(conn, clock, settings, claim.customer_id, me.id)
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - t0)
            passed.append(len(claim.passed_over))
            got.append(claim.customer_id)
    finally:
        for cid in got:
            release(conn, me.id, cid)
    # the reference, same state: the head of the four classes claimed and loaded by raw
    # sqlite3 (bench_work.py's), then released, so the next run sees the same queue
    raw: list[float] = []
    for _ in range(len(wall)):
        t0 = time.perf_counter()
        rid = raw_claim_and_load(conn, me.id)
        raw.append(time.perf_counter() - t0)
        if rid is not None:
            release(conn, me.id, rid)
    if not cpu:
        sys.exit("nothing to claim")
    print(
        f"{Path(dunning.__file__).parents[1]} as {args.who} at "
        f"{clock.now().astimezone(UTC):%H:%M} UTC: {len(cpu)} claims; CPU p50 "
        f"{pct(cpu, 50) * 1000:.2f} p99 {pct(cpu, 99) * 1000:.2f} ms; wall p50 "
        f"{pct(wall, 50) * 1000:.2f} p99 {pct(wall, 99) * 1000:.2f} ms; passed over p50 "
        f"{sorted(passed)[len(passed) // 2]} max {max(passed)}; first {got[:3]}; raw sqlite3 "
        f"wall p50 {pct(raw, 50) * 1000:.2f} p99 {pct(raw, 99) * 1000:.2f} ms "
        f"(x{pct(wall, 50) / pct(raw, 50):.2f}, x{pct(wall, 99) / pct(raw, 99):.2f}); "
        f"load {load0:.2f} -> {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
