"""Aging report speed and memory over a large ledger (issue 8: a million customers, each
output <= 5 s and <= 150 MB; a past date <= 5 s).

Uses ``--db`` (e.g. the 1M demo database bench/bench_build.py leaves), else
/tmp/dunning-bench.db when it exists, else builds its own (``--invoices``, generated in
SQL) in a temporary directory. Each step runs in a child process of its own, as the CLI
would, and is reported with its wall time and the child's peak resident memory (its
``ru_maxrss`` from ``wait4``), beside the raw GROUP BY scan the report is built on,
measured the same way in the same run:

- rows: the aging by customer read from its cursor, nothing kept (dunning/db/aging_out.py);
- csv / table / xlsx: ``dunning report aging --format ...`` to a file (xlsx with --xlsx:
  openpyxl writes about 10,000 rows a second);
- past by collector / by customer: ``--as-of`` a past date (``--past``, default 30 days
  before ``--as-of``), the ledger rebuilt as it stood then (the by-customer one as CSV).

- the aging snapshot (dunning/db/aging_snapshot.py) is used when the database has one
  within a few days of ``--as-of``; ``--snapshot make`` builds or advances it first (the
  nightly refresh's work), ``--snapshot drop`` removes it (the scan of open invoices).
  With a snapshot (made with the sums of m030), the past date by collector reads its base
  from the stored sums (dunning/db/past_sums.py) whatever the date: ``--snapshot make``
  once on a database built without one (bench_build.py's), then ``keep``.

    .venv/bin/python bench/bench_aging.py [--db PATH] [--repeat 2] [--xlsx]
        [--snapshot make|drop|keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from dunning.db import aging_out, aging_snapshot, reports
from dunning.db import reports_parallel as parallel
from dunning.db.connection import connect, open_db, write_tx

DEMO_DB = Path("/tmp/dunning-bench.db")
OWN_DB = Path("/tmp/dunning-bench-aging.db")  # with --keep: built once, reused
GOAL_S, GOAL_MB = 5.0, 150


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


STEPS = ["raw", "rows", "csv", "table", "xlsx", "past-collector", "past-customer"]


def step(name: str, path: Path, as_of: date, past: date, out: Path) -> None:
    """One measured step, in this (child) process."""
    conn = connect(path, readonly=True)  # never writes to someone else's database
    if name == "raw":  # the aggregate alone, rows fetched, nothing built
        bounds = {f"b{n}": d for n, d in enumerate(reports._bounds(as_of), start=1)}
        parallel.scan_groups(conn, bounds)
    elif name == "rows":
        for _ in aging_out.chunks(conn, as_of, as_of):
            pass
    elif name in ("csv", "table", "xlsx"):
        aging_out.write_aging(conn, as_of, name, out.with_suffix("." + name), today=as_of,
                              title=f"Aging as of {as_of}")  # fmt: skip
    elif name == "past-collector":
        reports.aging(conn, past, by="collector", today=as_of)
    elif name == "past-customer":
        aging_out.write_aging(conn, past, "csv", out.with_suffix(".csv"), today=as_of)
    conn.close()


def measured(name: str, args: argparse.Namespace, out: Path) -> tuple[float, float, float]:
    """(seconds, CPU seconds, peak RSS in MB) of the step run in a child process. CPU
    time (user + system) says more than wall time on a loaded machine."""
    argv = [sys.executable, __file__, "--step", name, "--db", str(args.db),
            "--as-of", args.as_of.isoformat(), "--past", args.past.isoformat(),
            "--out", str(out)]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"step {name} failed ({proc.returncode})")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # KB on Linux


def _snapshot(path: Path, what: str, as_of: date) -> None:
    conn = open_db(path)  # migrated (m018)
    t0 = time.perf_counter()
    if what == "drop":
        with write_tx(conn):
            conn.execute("DELETE FROM aging_snapshot_state")
            conn.execute("DELETE FROM aging_snapshot")
            conn.execute("DELETE FROM aging_dirty")
        done = "dropped"
    else:
        done = aging_snapshot.advance(conn, as_of, min_invoices=0)
    print(f"aging snapshot {done} ({as_of}) in {time.perf_counter() - t0:.1f} s")
    conn.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path)
    ap.add_argument("--invoices", type=int, default=5_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help=f"build {OWN_DB} once and reuse it")
    ap.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 23))
    ap.add_argument("--past", type=date.fromisoformat, help="default: --as-of - 30 days")
    ap.add_argument("--xlsx", action="store_true", help="also time the XLSX (slow)")
    ap.add_argument(
        "--snapshot",
        choices=["keep", "make", "drop"],
        default="keep",
        help="the aging snapshot (db/aging_snapshot.py): make = bring it to --as-of first "
        "(as the nightly refresh does; writes to --db, untimed, its time printed); drop = "
        "remove it (the scan, as before it); keep = as the database has it",
    )
    ap.add_argument("--steps", help=f"comma-separated, of {','.join(STEPS)} (raw always)")
    ap.add_argument("--step", choices=[*STEPS, "snapshot"], help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.past = args.past or args.as_of - timedelta(days=30)
    if args.step == "snapshot":
        _snapshot(args.db, args.snapshot, args.as_of)
        return
    if args.step:
        step(args.step, args.db, args.as_of, args.past, args.out)
        return
    tmp = Path(tempfile.mkdtemp(prefix="dunning-bench-aging-"))
    path = args.db or (DEMO_DB if DEMO_DB.exists() else None)
    if path is None:
        path = OWN_DB if args.keep else tmp / "aging.db"
        if not path.exists():
            t0 = time.perf_counter()
            build(path, args.invoices)
            print(f"built {args.invoices:,} invoices in {time.perf_counter() - t0:.1f} s")
    args.db = path
    if args.snapshot != "keep":
        # in a child process: a step's peak memory (ru_maxrss) starts from this process's
        # at the fork (Linux keeps the high-water mark across exec), and making the
        # snapshot grows this one to ~140 MB
        subprocess.run([sys.executable, __file__, "--db", str(path), "--as-of",
                        args.as_of.isoformat(), "--snapshot", args.snapshot, "--step",
                        "snapshot"], check=True)  # fmt: skip
    try:
        conn = connect(path, readonly=True)
        total = conn.execute("SELECT COUNT(*) FROM invoices").fetchone()[0]
        custs = conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0]
        pays = conn.execute("SELECT COUNT(*) FROM payments").fetchone()[0]
        st = aging_snapshot.state(conn)
        conn.close()
        print(f"aging snapshot: {st.as_of if st else 'none'}")
        load = os.getloadavg()[0]
        print(f"{path}: {custs:,} customers, {total:,} invoices, {pays:,} payments; "
              f"as of {args.as_of}, past date {args.past}; load {load:.1f}")  # fmt: skip
        steps = [s for s in STEPS if s != "xlsx" or args.xlsx]
        if args.steps:
            steps = ["raw", *(s for s in args.steps.split(",") if s != "raw")]
        runs: dict[str, list[tuple[float, float, float]]] = {s: [] for s in steps}
        for _ in range(args.repeat):  # interleaved: each figure beside its reference
            for name in steps:
                runs[name].append(measured(name, args, tmp / "out"))
        raw = min(r[0] for r in runs["raw"])
        raw_cpu = min(r[1] for r in runs["raw"])
        print(f"{'step':30} {'best s':>7} {'worst s':>8} {'x raw':>6} {'cpu s':>6} "
              f"{'x raw':>6} {'peak MB':>8}  goal")  # fmt: skip
        for name in steps:
            best = min(r[0] for r in runs[name])
            worst = max(r[0] for r in runs[name])
            cpu = min(r[1] for r in runs[name])
            mb = max(r[2] for r in runs[name])
            goal = "(reference)" if name == "raw" else f"<= {GOAL_S:.0f} s"
            if name in ("rows", "csv", "table"):
                goal += f", <= {GOAL_MB} MB"
            label = {"raw": "raw GROUP BY scan (reference)"}.get(name, f"aging {name}")
            print(f"{label:30} {best:7.2f} {worst:8.2f} {best / raw:6.2f} {cpu:6.2f} "
                  f"{cpu / raw_cpu:6.2f} {mb:8.0f}  {goal}")  # fmt: skip
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
