"""Durable commits that extend the WAL file against commits that overwrite it, interleaved.

    python bench/wal_grow.py [--dir /tmp] [--rounds 4] [--n 300]

A session that never checkpoints (bench_work.py: the fallback is 60 s) after the WAL was
deleted (the last connection closed) extends the file at every commit; one whose WAL was
grown and checkpointed before overwrites it. This measures both on the same small file in
raw sqlite3 (WAL, synchronous=FULL, five row updates a commit), alternating.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import summary_ms, table  # noqa: E402

ROWS = 50_000


def commits(conn: sqlite3.Connection, n: int) -> list[float]:
    out: list[float] = []
    for _ in range(n):
        t = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for _k in range(5):
            conn.execute(
                "UPDATE t SET v = ? WHERE id = ?",
                (str(random.random()) * 10, random.randrange(ROWS)),
            )
        conn.execute("COMMIT")
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=tempfile.gettempdir(), help="on the database's disk")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = os.path.join(tmp, "wal_grow.db")
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA wal_autocheckpoint=0")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        conn.executemany("INSERT INTO t VALUES (?, ?)", ((i, "x" * 200) for i in range(ROWS)))
        grow: list[float] = []
        reuse: list[float] = []
        for _ in range(args.rounds):
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # 0 bytes: each commit extends it
            grow += commits(conn, args.n)
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")  # all copied, file kept: overwritten
            reuse += commits(conn, args.n)
        conn.close()
    print(f"in {args.dir}; load average {os.getloadavg()[0]:.2f}")
    print(
        table(
            ["durable commit (5 rows)", "p50 ms", "p99 ms", "max ms", "n"],
            [
                ("extends the WAL file", *summary_ms(grow)),
                ("overwrites a WAL already that long", *summary_ms(reuse)),
            ],
        )
    )


if __name__ == "__main__":
    main()
