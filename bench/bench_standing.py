"""How many queue rows a night would rewrite with a stored standing (queue/standing.py)
instead of the stored priority, on the bench's night (bench_refresh.py: the day after the
build). Reads only (raw sqlite3, read-only): it opens no migration.

    .venv/bin/python bench/bench_standing.py --db /tmp/copy-of-the-1m-demo.db

For every customer, in ranges of 5,000, the refresh's own comparison (``RowMaker.rows``:
the row as computed the day after against the row as stored) sorts the rows into created,
unchanged, score only (only the priority and the reasons move: the rows the days moved)
and other (state, next action, balances, oldest due). With a stored standing a score-only
row is written only when its standing changes (a term reaches its cap, money starts to
count: ``until`` has come). Prints the counts and what a row's standing costs to compute.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dunning.clock import FixedClock, from_iso, to_iso  # noqa: E402
from dunning.money import minor_digits  # noqa: E402
from dunning.queue.accounts import RowMaker  # noqa: E402
from dunning.queue.config import Settings  # noqa: E402
from dunning.queue.standing import constant_points, standing  # noqa: E402

FIELDS = ("id", "state", "priority", "reasons", "next_action", "next_action_at", "open_minor",
          "disputed_minor", "unapplied_minor", "oldest_due")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--days", type=int, default=1, help="days after the build")
    args = parser.parse_args()
    conn = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True, isolation_level=None)
    settings = Settings()
    clock = FixedClock()
    day0 = clock.now().date()
    clock.advance(days=args.days)
    now = clock.now()
    day1 = now.date()
    maker = RowMaker(to_iso(now), day1, settings)
    counts: Counter[str] = Counter()
    why: Counter[str] = Counter()
    digits: dict[str, int] = {}
    t, c = time.perf_counter(), time.process_time()
    std_cpu = 0.0
    last = 0
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    while True:
        lo, hi, n = conn.execute(
            "SELECT MIN(id), MAX(id), COUNT(*) FROM "
            "(SELECT id FROM customers WHERE id > ? ORDER BY id LIMIT 5000)",
            (last,),
        ).fetchone()
        if not n:
            break
        last = hi
        cust = {
            r[0]: r[1:]
            for r in conn.execute(
                "SELECT id, currency, risk_score FROM customers WHERE id BETWEEN ? AND ?",
                (lo, hi),
            )
        }
        conn.execute("BEGIN")
        for new, old in maker.rows(conn, "customer_id BETWEEN ? AND ?", [lo, hi]):
            if old is None:
                counts["created"] += 1
            elif new == old[:10]:
                counts["unchanged"] += 1
            elif new[4:] == old[4:10] and new[1] == old[1]:
                counts["score only"] += 1
                s = time.process_time()
                cur, risk = cust[new[0]]
                d = digits.get(cur) or digits.setdefault(cur, minor_digits(cur))
                openm = new[6] + new[8]
                const = constant_points(
                    openm if openm > 0 else 0, cur, d, bool(old[11]), new[4], risk, settings
                )
                due = date.fromisoformat(new[9]) if new[9] else None
                lc = from_iso(old[10]).date() if old[10] else None
                a = standing(day0, due, lc, const, settings)
                b = standing(day1, due, lc, const, settings)
                std_cpu += time.process_time() - s
                if (a.cls, a.key) != (b.cls, b.key):
                    counts["score only: standing changes (a cap, money starts)"] += 1
                    until = a.until
                    why["crossing on " + (str(until) if until else "?")] += 1
            else:
                counts["other"] += 1
                for i in (1, 4, 5, 6, 7, 8, 9):
                    if new[i] != old[i]:
                        why["other: " + FIELDS[i]] += 1
        conn.execute("COMMIT")
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    total = sum(v for k, v in counts.items() if ":" not in k)
    print(f"day {day0} -> {day1}: {total:,} customers, read and computed in {wall:.1f} s "
          f"wall, {cpu:.1f} s CPU (standings: {std_cpu:.1f} s CPU)")  # fmt: skip
    for k, v in counts.most_common():
        print(f"  {k:<58} {v:>10,}")
    for k, v in why.most_common(12):
        print(f"    {k:<56} {v:>10,}")
    now_rows = counts["score only"] + counts["other"] + counts["created"]
    new_rows = counts["score only: standing changes (a cap, money starts)"] + counts["other"]
    new_rows += counts["created"]
    print(f"rows written a night: now {now_rows:,}; with a stored standing {new_rows:,}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
