"""The claim's unsynced commit against a synced one, in the same run, call by call.

    python bench/bench_claim_sync.py --db COPY [--n 1000] [--as alice] [--at HH:MM]

Works as bench_work.py does (claim + load, then a 'no_answer' outcome, a checkpoint every
10 s), alternating call by call between the claim as it is (``write_tx(durable=False)``:
its COMMIT does not wait for the disk) and the same claim committed with
``synchronous=FULL`` (as before round 7): both kinds share the machine's and the disk's
weather, which on a shared host moves more between two runs than the change itself.
Prints claim + load, the outcome's commit and their sum (p50 / p90 / p99) for each kind.
Logs outcomes: run it on a copy.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import AbstractContextManager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_work import CHECKPOINT_EVERY, clock_at  # noqa: E402
from common import pct  # noqa: E402

from dunning.db import connection  # noqa: E402
from dunning.queue import claim as claim_module  # noqa: E402
from dunning.queue.claim import catch_up  # noqa: E402
from dunning.queue.collectors import get_collector  # noqa: E402
from dunning.queue.config import Settings  # noqa: E402
from dunning.queue.outcomes import OutcomeInput  # noqa: E402
from dunning.queue.session import WorkSession  # noqa: E402

SYNCED = {"now": False}  # this call's claim: committed with synchronous=FULL


def _tx(conn: object, *, durable: bool = True) -> AbstractContextManager[object]:
    return connection.write_tx(conn, durable=durable or SYNCED["now"])  # type: ignore[arg-type]


def _ms(xs: list[float]) -> str:
    return " / ".join(f"{pct(xs, p) * 1000:.2f}" for p in (50, 90, 99))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--as", dest="who", default="alice")
    ap.add_argument("--at", help="HH:MM UTC (bench_work.py's)")
    args = ap.parse_args()
    conn = connection.connect(args.db)
    me = get_collector(conn, args.who)
    if me is None:
        sys.exit(f"{args.who}: no such collector")
    clock = clock_at(args.at)
    settings = Settings()
    catch_up(conn, clock, settings)  # untimed, as bench_work.py
    session = WorkSession(args.db, me, settings, clock=clock)
    claim_module.write_tx = _tx  # type: ignore[assignment]
    kinds: dict[bool, tuple[list[float], list[float]]] = {True: ([], []), False: ([], [])}
    load0, last = os.getloadavg()[0], time.perf_counter()
    for i in range(args.n):
        if time.perf_counter() - last >= CHECKPOINT_EVERY:
            session.checkpoint()
            last = time.perf_counter()
        SYNCED["now"] = i % 2 == 0
        t0 = time.perf_counter()
        if session.next_account() is None:
            break
        t1 = time.perf_counter()
        session.log(OutcomeInput("no_answer", note="bench", phone_id=None))
        t2 = time.perf_counter()
        kinds[SYNCED["now"]][0].append(t1 - t0)
        kinds[SYNCED["now"]][1].append(t2 - t1)
    print(
        f"{args.db} as {args.who}; load average {load0:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after; ms p50 / p90 / p99"
    )
    for synced in (True, False):
        cl, co = kinds[synced]
        if not cl:
            continue
        total = [a + b for a, b in zip(cl, co, strict=True)]
        print(
            f"claim {'synced (before)' if synced else 'unsynced (now)'}: n {len(cl)}; "
            f"claim + load {_ms(cl)}; commit {_ms(co)}; both {_ms(total)}"
        )


if __name__ == "__main__":
    main()
