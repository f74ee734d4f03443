"""Issue 9, items 5 and 6: the lead's review queue and open disputes at 1M customers with
100,000 accounts in review and 100,000 open disputes; goal: first page <= 100 ms, next
page <= 50 ms (queue/review_list.py, queue/disputes_list.py: keyset pages of 100).

For each list: the first page and the next pages (after the last row's key), p50 / p99 /
max, and the count (read after the page, in a worker on screen), beside bench_lists.py's
reference measured in the same run (raw sqlite3: 100 queue rows and their customers by
primary key). With main's code (no
review_list module) it measures what main does instead: ``list_review(offset=0,
limit=100)`` (every review row's key read and sorted, then a page) and ``list_disputes``
(every open dispute read, aged and returned).

    cp /work/benchdb/r8.db COPY.db
    .venv/bin/python bench/bench_review_lists.py --db COPY.db --setup   # writes the copy
    .venv/bin/python bench/bench_review_lists.py --db COPY.db [--reps 10] [--pages 5]

``--setup`` brings the copy to 100,000 accounts in review (each with the refusal that
sent it) and 100,000 open disputes (bench/review_setup.py), gives alice and bruno the
team "north" and adds tess, the lead of north, and migrates it. Without it: reads only.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_lists import reference  # noqa: E402
from bench.common import resident, summary_ms, table  # noqa: E402
from dunning.clock import FixedClock  # noqa: E402
from dunning.db.connection import connect  # noqa: E402
from dunning.queue import disputes, review  # noqa: E402
from dunning.queue.collectors import get_collector  # noqa: E402
from dunning.queue.config import Settings  # noqa: E402

try:
    from dunning.queue import disputes_list, review_list
except ImportError:  # main's code: no pages
    disputes_list = review_list = None  # type: ignore[assignment]


def setup(path: Path) -> None:
    from bench.review_setup import setup as fill
    from dunning.db.schema import migrate

    raw = sqlite3.connect(path, isolation_level=None)
    print("in review, open disputes:", fill(raw))
    raw.execute("UPDATE collectors SET team = 'north' WHERE username IN ('alice', 'bruno')")
    if raw.execute("SELECT 1 FROM collectors WHERE username = 'tess'").fetchone() is None:
        raw.execute(
            "INSERT INTO collectors (username, display_name, role, languages, locale, tz, "
            "team, created_at) SELECT 'tess', 'Tess', 'lead', languages, locale, tz, 'north', "
            "created_at FROM collectors WHERE username = 'lena'"
        )
    raw.close()
    conn = connect(path)
    print("migrated:", migrate(conn))
    conn.close()


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    began = time.perf_counter()
    out = fn()
    return time.perf_counter() - began, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--setup", action="store_true", help="fill the copy first (writes it)")
    ap.add_argument("--reps", type=int, default=10, help="first pages per case (10)")
    ap.add_argument("--pages", type=int, default=5, help="next pages after each first (5)")
    ap.add_argument("--at", default="2026-12-02T12:00:00+00:00", help="the clock, ISO UTC")
    args = ap.parse_args()
    if args.setup:
        setup(args.db)
    clock = FixedClock(datetime.fromisoformat(args.at))
    settings = Settings()
    conn = connect(args.db)
    customers = conn.execute("SELECT MAX(id) FROM customers").fetchone()[0]
    print(f"database {args.db} ({customers:,} customers; {resident(args.db)} in the page "
          f"cache); code: {'pages' if review_list else 'main (no pages)'}")  # fmt: skip
    rows = []
    cases: list[tuple[str, str, dict[str, object]]] = [
        ("review", "lena", {}),
        ("review", "tess", {}),
        ("disputes", "lena", {}),
        ("disputes", "lena", {"department": "billing"}),
        ("disputes", "lena", {"overdue_only": True}),
        ("disputes", "tess", {}),
    ]
    for kind, name, opts in cases:
        who = get_collector(conn, name)
        if who is None:
            print(f"no collector {name!r} (run --setup)", file=sys.stderr)
            return 2
        first: list[float] = []
        nxt: list[float] = []
        counted: list[float] = []
        n: object = "-"
        for _ in range(args.reps):
            if review_list is None:  # main's code: every row, then a page
                if kind == "review":
                    t, items = timed(lambda w=who: review.list_review(
                        conn, clock, w, offset=0, limit=100))  # fmt: skip
                    c, n = timed(lambda: review.count_review(conn))
                else:
                    t, items = timed(lambda w=who, o=opts: disputes.list_disputes(
                        conn, clock, settings, w, **o))  # fmt: skip
                    c, n = 0.0, len(items)  # type: ignore[arg-type]
                first.append(t)
                counted.append(c)
                continue
            if kind == "review":
                t, page = timed(lambda w=who: review_list.review_page(conn, clock, w))
                first.append(t)
                for _p in range(args.pages):
                    if not page.more_after:
                        break
                    t, page = timed(lambda w=who, p=page: review_list.review_page(
                        conn, clock, w, after=p.last))  # fmt: skip
                    nxt.append(t)
                c, n = timed(lambda w=who: review_list.review_count(conn, clock, w))
            else:
                t, page = timed(lambda w=who, o=opts: disputes_list.disputes_page(
                    conn, clock, settings, disputes_list.listing(conn, clock, w, **o)))  # fmt: skip
                first.append(t)
                lst = disputes_list.listing(conn, clock, who, **opts)  # type: ignore[arg-type]
                for _p in range(args.pages):
                    if not page.more_after:
                        break
                    t, page = timed(lambda p=page, lst=lst: disputes_list.disputes_page(
                        conn, clock, settings, lst, after=p.last))  # fmt: skip
                    nxt.append(t)
                c, n = timed(lambda lst=lst: disputes_list.disputes_count(
                    conn, clock, settings, lst))  # fmt: skip
            counted.append(c)
        f50, f99, fmax, _n = summary_ms(first)
        n50, n99, nmax, nn = summary_ms(nxt)
        c50, _c99, cmax, _cn = summary_ms(counted)
        label = " ".join(f"{k}={v}" for k, v in opts.items()) or "(all)"
        rows.append([kind, name, label, str(n), f"{f50} / {f99} / {fmax}",
                     f"{n50} / {n99} / {nmax} ({nn})", f"{c50} / {cmax}"])  # fmt: skip
        print("  " + " | ".join(rows[-1]), flush=True)
    r50, r99, rmax, rn = summary_ms(reference(args.db, args.reps))
    print(table(["list", "as", "filter", "count", "first page p50 / p99 / max ms",
                 "next page p50 / p99 / max ms (n)", "count p50 / max ms"], rows))  # fmt: skip
    print(f"reference, raw sqlite3: 100 rows by primary key, p50 / p99 / max {r50} / {r99} / "
          f"{rmax} ms ({rn})")  # fmt: skip
    print("goal: first page <= 100 ms, next page <= 50 ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
