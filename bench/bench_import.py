"""Import speed: dunning's validated invoice import against sqlite-utils and a raw
executemany, on the same generated CSV, in the same run (issue 8's goal: at most half the
time of ``sqlite-utils insert --csv`` into an empty table, and no write transaction of the
import holding the lock over 5 s, so collectors keep logging outcomes). Also peak memory
at two file sizes (it must not grow with the file) and the time of an unchanged re-import.

    .venv/bin/python bench/bench_import.py [--rows 1000000] [--customers 100000]
    .venv/bin/python bench/bench_import.py --ab /tmp/main-worktree [--pairs 3]  # A/B only
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def generate(path: Path, rows: int, customers: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    start = date(2025, 1, 1).toordinal()
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["customer_ref", "customer_name", "number", "issue_date", "due_date",
                      "amount", "open_amount", "currency"])  # fmt: skip
        for n in range(rows):
            c = rnd.randrange(customers)
            issued = date.fromordinal(start + rnd.randrange(600))
            amount = rnd.randrange(1000, 5_000_000)
            open_ = amount if rnd.random() < 0.7 else rnd.randrange(0, amount)
            out.writerow([
                f"C{c:07d}", f"Customer {c}", f"INV{n:09d}", issued.isoformat(),
                (issued + timedelta(days=30)).isoformat(), f"{amount / 100:.2f}",
                f"{open_ / 100:.2f}", "USD",
            ])  # fmt: skip


RAW = """
import csv, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("CREATE TABLE t (customer_ref, customer_name, number, issue_date, due_date, "
             "amount, open_amount, currency)")
with open(sys.argv[2], newline="", encoding="utf-8") as fh:
    rows = csv.reader(fh)
    next(rows)
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO t VALUES (?,?,?,?,?,?,?,?)", rows)
    conn.execute("COMMIT")
"""

DUNNING = """
import sys, time
from contextlib import contextmanager
from pathlib import Path
import dunning.db.connection as connection
held = []
_write_tx = connection.write_tx

@contextmanager
def timed_tx(conn):  # how long each write transaction of the import holds the lock
    with _write_tx(conn) as c:
        t0 = time.perf_counter()  # the lock is had from here (BEGIN IMMEDIATE returned)
        yield c
    held.append(time.perf_counter() - t0)  # ...to the end of its COMMIT

connection.write_tx = timed_tx  # before the modules that import it by name are loaded
from dunning.clock import FixedClock
from dunning.db.connection import open_db
from dunning.db.ledger import ImportOptions, import_file
from dunning.queue.config import Settings
conn = open_db(sys.argv[1])
r = import_file(conn, FixedClock(), Settings(), Path(sys.argv[2]),
                ImportOptions(kind="invoices", create_customers=True))
assert r.written and not r.refused, r.summary()
print(f"{max(held):.2f} {sum(held):.2f} {len(held)} {sum(h > 5 for h in held)}")
"""


LOCK: list[str] = []


CPU: list[float] = []  # CPU seconds (user + system) of each child, in order


def run(cmd: list[str], code: Path = ROOT) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one child process (``code``: the checkout whose
    dunning package it imports)."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=code, stdout=subprocess.PIPE, text=True, env=env)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    LOCK.append(out.strip())
    CPU.append(usage.ru_utime + usage.ru_stime)
    return elapsed, usage.ru_maxrss // 1024


def ab(tmp: Path, big: Path, rows: int, other: Path, pairs: int) -> None:
    """Interleaved pairs: this checkout's import and ``other``'s (e.g. a worktree of main)
    of the same file into new databases, each pair beside its own sqlite-utils run, the
    order swapped every pair. Prints wall and CPU seconds and the ratio of each."""
    su = shutil.which("sqlite-utils", path=str(Path(PY).parent)) or "sqlite-utils"
    print(f"{rows:,} rows; A = {ROOT}, B = {other}")
    print(f"{'pair':>4} {'code':4} {'seconds':>8} {'CPU s':>7} {'sqlite-utils s':>14} "
          f"{'ratio':>6} {'lock s':>7} {'load':>5}")  # fmt: skip
    for n in range(pairs):
        t_su, _ = run([su, "insert", str(tmp / f"su{n}.db"), "t", str(big), "--csv"])
        (tmp / f"su{n}.db").unlink()
        order = [("A", ROOT), ("B", other)] if n % 2 == 0 else [("B", other), ("A", ROOT)]
        for name, code in order:
            db = tmp / f"{name}{n}.db"
            t, _ = run([PY, "-c", DUNNING, str(db), str(big)], code)
            for f in tmp.glob(f"{name}{n}.db*"):
                f.unlink()
            print(f"{n + 1:4d} {name:4} {t:8.2f} {CPU[-1]:7.2f} {t_su:14.2f} {t / t_su:6.3f} "
                  f"{LOCK[-1].split()[0]:>7} {os.getloadavg()[0]:5.1f}", flush=True)  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--small", type=int, default=100_000, help="rows of the memory check")
    ap.add_argument(
        "--ab", type=Path, metavar="CHECKOUT",
        help="only A/B pairs: this code against CHECKOUT's (e.g. a worktree of main)",
    )  # fmt: skip
    ap.add_argument("--pairs", type=int, default=3, help="pairs of --ab")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dunning-bench-import-"))
    try:
        big, small = tmp / "big.csv", tmp / "small.csv"
        generate(big, args.rows, args.customers)
        if args.ab:
            ab(tmp, big, args.rows, args.ab.resolve(), args.pairs)
            return
        # the same customers in a tenth of the rows: what grows with the file shows
        generate(small, args.small, args.customers)
        su = shutil.which("sqlite-utils", path=str(Path(PY).parent)) or "sqlite-utils"
        results = []
        t, m = run([su, "insert", str(tmp / "su.db"), "t", str(big), "--csv"])
        results.append(("sqlite-utils insert --csv (no validation)", t, m))
        t, m = run([PY, "-c", RAW, str(tmp / "raw.db"), str(big)])
        results.append(("raw csv + executemany, one transaction", t, m))
        t_small, m_small = run([PY, "-c", DUNNING, str(tmp / "small.db"), str(small)])
        t, m = run([PY, "-c", DUNNING, str(tmp / "dun.db"), str(big)])
        results.append(("dunning import invoices (validated, new DB)", t, m))
        lock_new = LOCK[-1].split()
        t2, m2 = run([PY, "-c", DUNNING, str(tmp / "dun.db"), str(big)])
        results.append(("dunning import invoices again (all unchanged)", t2, m2))
        lock_again = LOCK[-1].split()
        base = results[0][1]
        raw = results[1][1]
        print(f"{args.rows:,} invoice rows, {args.customers:,} customers, "
              f"{big.stat().st_size / 2**20:.0f} MiB CSV")  # fmt: skip
        print(f"{'step':48} {'seconds':>8} {'rows/s':>9} {'peak MiB':>9} "
              f"{'vs sqlite-utils':>15} {'vs raw':>7}")  # fmt: skip
        for name, secs, mem in results:
            print(f"{name:48} {secs:8.2f} {args.rows / secs:9,.0f} {mem:9d} "
                  f"{secs / base:15.2f} {secs / raw:7.2f}")  # fmt: skip
        print(
            f"memory: {m_small} MiB peak for {args.small:,} rows, {results[2][2]} MiB for "
            f"{args.rows:,} rows, both over {args.customers:,} customers "
            f"(the small import took {t_small:.2f} s)"
        )
        print(
            f"write lock, longest hold: {lock_new[0]} s (new DB; {lock_new[1]} s in "
            f"{lock_new[2]} transactions, {lock_new[3]} over 5 s), {lock_again[0]} s "
            f"(unchanged re-import; {lock_again[1]} s in {lock_again[2]})"
        )
        print(
            f"goals: import <= 0.50x sqlite-utils: {results[2][1] / base:.2f}x; "
            f"longest write-lock hold <= 5 s: {lock_new[0]} s / {lock_again[0]} s; "
            f"peak {results[2][2]} MiB beside sqlite-utils' {results[0][2]} MiB"
        )
        print(f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
