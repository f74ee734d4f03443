"""The cost of the write guard: one ``os.stat`` of the database path before each COMMIT
(dunning/db/connection.py, FileReplaced), per write transaction.

Times a one-row write transaction (as a collector's outcome is one transaction) with the
check and without it (the connection's recorded file identity cleared), on a real file
with ``synchronous=FULL`` and with ``synchronous=OFF`` (where the fsync no longer hides
the check's cost), and the bare ``os.stat``. Best of ``--repeat`` alternated rounds of
``--n`` transactions (the best filters out a loaded machine's noise).

    .venv/bin/python bench/bench_write_guard.py [--n 200] [--repeat 40]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from dunning.db.connection import check_same_file, connect, write_tx


def per_tx(conn, n: int) -> float:  # noqa: ANN001
    start = time.perf_counter()
    for i in range(n):
        with write_tx(conn):
            conn.execute("INSERT INTO t (x) VALUES (?)", (i,))
    return (time.perf_counter() - start) / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=40)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "guard.db"
        conn = connect(path)
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER)")
        ident = conn.file_id  # type: ignore[attr-defined]
        start = time.perf_counter()
        for _ in range(args.n * 10):
            os.stat(path)
        stat_us = (time.perf_counter() - start) / (args.n * 10) * 1e6
        start = time.perf_counter()
        for _ in range(args.n * 10):
            check_same_file(conn)
        check_us = (time.perf_counter() - start) / (args.n * 10) * 1e6
        print(f"os.stat of the path: {stat_us:.2f} µs; check_same_file: {check_us:.2f} µs")
        print("| synchronous | one-row write_tx, checked | unchecked | difference |")
        print("|---|---|---|---|")
        for sync in ("FULL", "OFF"):
            conn.execute(f"PRAGMA synchronous={sync}")
            checked, unchecked = [], []
            for _ in range(args.repeat):  # short rounds, alternated: the best of each
                conn.file_id = ident  # type: ignore[attr-defined]
                checked.append(per_tx(conn, args.n))
                conn.file_id = None  # type: ignore[attr-defined]
                unchecked.append(per_tx(conn, args.n))
            a, b = min(checked), min(unchecked)
            print(f"| {sync} | {a:.1f} µs | {b:.1f} µs | {a - b:+.1f} µs ({(a - b) / b:+.1%}) |")
        conn.close()


if __name__ == "__main__":
    main()
