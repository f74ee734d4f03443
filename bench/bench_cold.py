"""What a user waits for when the database is NOT in the page cache (after a reboot, or on
a host whose RAM is smaller than the database).

    python bench/bench_cold.py --db /tmp/dunning-bench.db [--as alice] [--n 20]

For each piece of work, once run to warm the process (imports, caches), the database
file (and its -wal) is evicted from the OS page cache with ``posix_fadvise(DONTNEED)``
(no root needed; ``fincore`` shows the resident share before and after), then the work is
timed cold, then again warm in the same run.
Logs real 'no_answer' outcomes: run it on a benchmark copy.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import resident, table  # noqa: E402

from dunning.db.connection import connect  # noqa: E402
from dunning.queue.collectors import get_collector  # noqa: E402
from dunning.queue.config import Settings  # noqa: E402
from dunning.queue.outcomes import OutcomeInput  # noqa: E402
from dunning.queue.search import search_customers  # noqa: E402
from dunning.queue.session import WorkSession  # noqa: E402


def evict(db: Path) -> None:
    for suffix in ("", "-wal"):
        path = Path(f"{db}{suffix}")
        if not path.exists():
            continue
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)  # dirty pages cannot be dropped
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--db", default="/tmp/dunning-bench.db")
    ap.add_argument("--as", dest="who", default="alice")
    ap.add_argument("--n", type=int, default=20, help="outcomes logged after the cold claim")
    args = ap.parse_args()
    db = Path(args.db)
    python = sys.executable
    cli = [python, "-m", "dunning", "--db", str(db)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}

    rows: list[tuple[str, str, str, str]] = []

    def work_session() -> tuple[float, float, float]:
        conn = connect(db)
        me = get_collector(conn, args.who)
        assert me is not None
        session = WorkSession(str(db), me, Settings())
        first = timed(session.next_account)
        session.log(OutcomeInput("no_answer", note="bench cold", phone_id=None))
        more = []
        for _ in range(args.n):
            more.append(timed(session.next_account))
            session.log(OutcomeInput("no_answer", note="bench cold", phone_id=None))
        conn.close()
        return first, max(more), sorted(more)[len(more) // 2]

    def search_all() -> float:
        conn = connect(db)
        ref = conn.execute("SELECT external_ref FROM customers ORDER BY id DESC LIMIT 1")
        ref_text = str(ref.fetchone()[0])
        t = timed(lambda: search_customers(conn, ref_text))
        t += timed(lambda: search_customers(conn, "gagne"))
        conn.close()
        return t

    def aging() -> float:
        return timed(
            lambda: subprocess.run(
                [*cli, "report", "aging", "--by", "collector", "--format", "csv"],
                stdout=subprocess.DEVNULL,
                env=env,
                check=True,
            )
        )

    print(f"database: {db} ({db.stat().st_size / 1e9:.2f} GB)")
    for label, fn in (
        ("first claim + load of a session", lambda: work_session()[0]),
        ("search: a reference, then a name", search_all),
        ("aging by collector, CSV (a process)", aging),
    ):
        fn()  # imports and first-use caches of this process, so only the disk differs
        evict(db)
        before = resident(db, 0)
        cold = fn()
        after = resident(db, 0)
        warm = fn()
        rows.append((label, f"{cold * 1000:,.1f}", f"{warm * 1000:,.1f}", f"{before} -> {after}"))
    evict(db)
    first, worst, median = work_session()
    rows.append(
        (
            f"next {args.n} claims after a cold start: p50 / max",
            f"{median * 1000:,.1f} / {worst * 1000:,.1f}",
            "",
            "",
        )
    )
    print(f"load average: {os.getloadavg()[0]:.2f}")
    print(table(["work", "cold ms", "warm ms", "file resident (cold run)"], rows))


if __name__ == "__main__":
    main()
