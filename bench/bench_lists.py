"""Issue 9, item 2's speed goal: a lead's filtered account list at 1M customers, first
page <= 100 ms and each next page <= 50 ms (queue/account_list.py: keyset pages of 100).

For each filter and sort: the first page (the filter parsed, the page's ids read, its
rows read) and the next pages (after the last row's key), p50 / p99 / max, beside a
reference measured in the same run: raw sqlite3 reading 100 queue rows joined to their
customers by primary key (what showing a page costs at the least). Then the capped count
("10,000+") of each filter, which the screen reads in a worker after the first page.

    .venv/bin/python bench/bench_lists.py --db COPY.db [--reps 10] [--pages 5] [--as lena]

Reads only (the database is not written).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import resident, summary_ms, table  # noqa: E402
from dunning.clock import FixedClock, SystemClock  # noqa: E402
from dunning.db.connection import connect  # noqa: E402
from dunning.queue import account_list  # noqa: E402
from dunning.queue.collectors import get_collector  # noqa: E402
from dunning.queue.config import Settings  # noqa: E402

CASES: list[tuple[str, str, bool | None]] = [
    ("", "balance", None),
    ("collector=dave", "balance", None),
    ("collector=carmen state=ready", "due", None),
    ("lang=es bucket>=61", "balance", None),
    ("lang=fr bucket>=61 balance>=1000", "contact", None),
    ("bucket>=91 contact>30 dispute=no", "contact", None),
    ("state=review", "due", None),
    ("country=CA subdivision=QC", "name", None),
    ("q=gagne", "name", None),
    ("", "name", None),
    ("broken=yes", "collector", None),
]


def reference(path: Path, reps: int) -> list[float]:
    raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    top = raw.execute("SELECT MAX(id) FROM customers").fetchone()[0]
    rnd = random.Random(7)
    out = []
    for _ in range(reps * 5):
        ids = rnd.sample(range(1, top + 1), 100)
        marks = ",".join("?" * len(ids))
        began = time.perf_counter()
        raw.execute(
            f"SELECT c.id, c.external_ref, c.name, q.state, q.open_minor, q.oldest_due "
            f"FROM customers c JOIN queue q ON q.customer_id = c.id WHERE c.id IN ({marks})",
            ids,
        ).fetchall()
        out.append(time.perf_counter() - began)
    raw.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--reps", type=int, default=10, help="first pages per case (10)")
    ap.add_argument("--pages", type=int, default=5, help="next pages after each first (5)")
    ap.add_argument("--as", dest="who", default="lena", help="the lead (lena)")
    ap.add_argument("--at", default="", help="the clock, ISO UTC (default: now)")
    ap.add_argument("--only", default="", help="only the cases whose filter contains this")
    args = ap.parse_args()
    from datetime import datetime

    clock = FixedClock(datetime.fromisoformat(args.at)) if args.at else SystemClock()
    conn = connect(args.db)
    settings = Settings()
    who = get_collector(conn, args.who)
    if who is None:
        print(f"no collector {args.who!r}", file=sys.stderr)
        return 2
    customers = conn.execute("SELECT MAX(id) FROM customers").fetchone()[0]
    print(f"database {args.db} ({customers:,} customers; {resident(args.db)} in the page cache)")
    ref = reference(args.db, args.reps)
    rows = []
    for text, sort, desc in CASES:
        if args.only and args.only not in text:
            continue
        first, nxt, shown = [], [], 0
        for _ in range(args.reps):
            began = time.perf_counter()
            lq = account_list.query(conn, clock, settings, who, text, sort=sort, desc=desc)
            page = account_list.page(conn, clock, lq)
            first.append(time.perf_counter() - began)
            shown = len(page.rows)
            for _p in range(args.pages):
                if not page.more_after:
                    break
                began = time.perf_counter()
                page = account_list.page(conn, clock, lq, after=page.last)
                nxt.append(time.perf_counter() - began)
        began = time.perf_counter()
        n, capped = account_list.count(conn, lq)
        counted = time.perf_counter() - began
        f50, f99, fmax, _n = summary_ms(first)
        n50, n99, nmax, nn = summary_ms(nxt)
        rows.append([
            text or "(all)", sort, f"{n:,}{'+' if capped else ''}", str(shown),
            f"{f50} / {f99} / {fmax}", f"{n50} / {n99} / {nmax} ({nn})",
            f"{counted * 1000:.1f}",
        ])  # fmt: skip
        print("  " + " | ".join(rows[-1]), flush=True)  # as it goes (the table at the end)
    r50, r99, rmax, rn = summary_ms(ref)
    print(table(
        ["filter", "sort", "matches", "page", "first page p50 / p99 / max ms",
         "next page p50 / p99 / max ms (n)", "count ms"],
        rows,
    ))  # fmt: skip
    print(f"reference, raw sqlite3: 100 rows by primary key, p50 / p99 / max {r50} / {r99} / "
          f"{rmax} ms ({rn})")  # fmt: skip
    print("goal: first page <= 100 ms, next page <= 50 ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
