"""Aging report speed over a large ledger (issue 3's goal: 5,000,000 invoices <= 5 s).

Uses /tmp/dunning-bench.db (the demo generator's 5M-invoice database) when it exists,
else builds its own (``--invoices``, generated in SQL) in a temporary directory. Each
step is timed on one connection and split over two processes (reports_parallel.py),
beside the raw GROUP BY scan the report is built on.

    .venv/bin/python bench/bench_aging.py [--db PATH] [--invoices 5000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from dunning.db import exports, reports
from dunning.db import reports_parallel as parallel
from dunning.db.connection import connect, open_db

DEMO_DB = Path("/tmp/dunning-bench.db")
OWN_DB = Path("/tmp/dunning-bench-aging.db")  # with --keep: built once, reused
NEVER = 10**12  # parallel_min: the one-connection path, whatever the size


def build(path: Path, invoices: int, per_customer: int = 20) -> None:
    """A ledger of ``invoices`` invoices, 70% open, due over the past 400 days."""
    conn = open_db(path)
    customers = max(invoices // per_customer, 1)
    now = "2026-11-23T15:00:00Z"
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    for n in range(10):
        conn.execute(
            "INSERT INTO collectors (username, display_name, created_at) VALUES (?,?,?)",
            (f"c{n}", f"Collector {n}", now),
        )
    conn.execute(
        """WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ?)
           INSERT INTO customers (id, external_ref, name, country, currency, created_at,
                                  updated_at)
           SELECT n, printf('C%07d', n), printf('Customer %d', n), 'US',
                  CASE WHEN n % 10 = 0 THEN 'CAD' ELSE 'USD' END, ?, ? FROM s""",
        (customers, now, now),
    )
    conn.execute(
        """INSERT INTO queue (customer_id, collector_id, next_action_at, updated_at)
           SELECT id, CASE WHEN id % 11 = 0 THEN NULL ELSE id % 10 + 1 END, ?, ?
           FROM customers""",
        (now, now),
    )
    conn.execute(
        """WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :n)
           INSERT INTO invoices (customer_id, number, issue_date, due_date, amount_minor,
                                 open_minor, currency, status, disputed, created_at,
                                 updated_at)
           SELECT c, printf('INV%09d', n), date('2026-11-23', (-d - 30) || ' days'),
                  date('2026-11-23', (-d) || ' days'), a,
                  CASE WHEN n % 10 < 7 THEN a ELSE 0 END,
                  CASE WHEN c % 10 = 0 THEN 'CAD' ELSE 'USD' END,
                  CASE WHEN n % 10 < 7 THEN 'open' ELSE 'paid' END, n % 97 = 0, :now, :now
           FROM (SELECT n, (n * 7919) % :customers + 1 AS c, (n * 104729) % 400 - 60 AS d,
                        (n * 15485863) % 500000 + 100 AS a FROM s)""",
        {"n": invoices, "customers": customers, "now": now},
    )
    conn.execute("COMMIT")
    conn.close()


def timed(fn: object, repeat: int) -> tuple[float, float]:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        runs.append(time.perf_counter() - t0)
    return min(runs), statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path)
    ap.add_argument("--invoices", type=int, default=5_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help=f"build {OWN_DB} once and reuse it")
    ap.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 23))
    args = ap.parse_args()
    tmp = None
    path = args.db or (DEMO_DB if DEMO_DB.exists() else None)
    if path is None:
        if args.keep:
            path = OWN_DB
        else:
            tmp = Path(tempfile.mkdtemp(prefix="dunning-bench-aging-"))
            path = tmp / "aging.db"
        if not path.exists():
            t0 = time.perf_counter()
            build(path, args.invoices)
            print(f"built {args.invoices:,} invoices in {time.perf_counter() - t0:.1f} s")
    try:
        conn = connect(path, readonly=True)  # never writes to someone else's database
        has_index = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'invoices_aging'"
        ).fetchone()
        if not has_index:
            print("note: no invoices_aging index (migration m003 not applied): slower")
        total = conn.execute("SELECT COUNT(*) FROM invoices").fetchone()[0]
        opened = conn.execute("SELECT COUNT(*) FROM invoices WHERE status = 'open'").fetchone()
        custs = conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0]
        print(f"{path}: {total:,} invoices ({opened[0]:,} open), {custs:,} customers")
        sink = Path(os.devnull)

        bounds = {f"b{n}": d for n, d in enumerate(reports._bounds(args.as_of), start=1)}

        def raw_group_by() -> None:  # the aggregate alone, rows fetched, nothing built
            parallel.scan_groups(conn, bounds)

        def by_customer(split: int) -> None:
            reports.aging(conn, args.as_of, parallel_min=split)

        def by_collector(split: int) -> None:
            reports.aging(conn, args.as_of, by="collector", parallel_min=split)

        def to_csv(split: int) -> None:  # as `dunning report aging -o FILE.csv` does it
            with reports.paused_gc():
                cols, rows = exports.aging_table(
                    reports.aging(conn, args.as_of, parallel_min=split)
                )
                exports.write(cols, rows, "csv", sink)

        def to_table(split: int) -> None:  # as `dunning report aging > FILE` does it
            with reports.paused_gc():
                cols, rows = exports.aging_table(
                    reports.aging(conn, args.as_of, parallel_min=split)
                )
                exports.write(cols, rows, "table", sink, title="Aging")

        best, median = timed(raw_group_by, args.repeat)
        print(
            f"raw sqlite3 GROUP BY (the scan alone, no join/sort/rows): {best:.2f} s best, "
            f"{median:.2f} s median"
        )
        print(f"{'step (best / median s)':34} {'one connection':>15} {'two processes':>15}  goal")
        for name, fn in [
            ("aging by customer (query + rows)", by_customer),
            ("aging by collector", by_collector),
            ("aging by customer written as CSV", to_csv),
            ("aging by customer as a table", to_table),
        ]:
            cells = []
            for split in (NEVER, 0):
                best, median = timed(lambda fn=fn, split=split: fn(split), args.repeat)
                cells.append(f"{best:6.2f} / {median:5.2f}")
            print(f"{name:34} {cells[0]:>15} {cells[1]:>15}  <= 5 s")
        best, median = timed(lambda: reports.ledger_total(conn), args.repeat)
        print(f"ledger total (the check the totals meet): {best:.2f} s best, {median:.2f} s median")
        conn.close()
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
