"""Why dunning reads without ``PRAGMA mmap_size`` (issue 8, search): a file truncated or
rewritten in place under a reader, read with read()/pread() and through a map.

    python bench/mmap_truncate.py [--dir /tmp]

Each case runs in a child process: a WAL database of ~19 MB is read whole inside a read
transaction, then cut to 8 KB (what ``cp backup.db dunning.db`` does first), then read
again in the same transaction. Without a map SQLite answers "database disk image is
malformed", an error the screen shows; with one the process dies of SIGBUS (exit -7),
leaving the terminal as it was. Measured 2026-12-02: exactly that.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import os, sqlite3, sys
path, mm = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(path, isolation_level=None)
c.execute("PRAGMA cache_size=-100")
c.execute(f"PRAGMA mmap_size={mm}")
c.execute("BEGIN")
c.execute("SELECT count(*), max(length(x)) FROM t").fetchone()
os.truncate(path, 8192)
try:
    c.execute("SELECT x FROM t WHERE id = 50000").fetchone()
    print("read what was there")
except sqlite3.Error as exc:
    print(f"sqlite3.{type(exc).__name__}: {exc}")
"""


def make(path: Path) -> None:
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT)")
    conn.executemany("INSERT INTO t (x) VALUES (?)", (("x" * 300,) for _ in range(60_000)))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=tempfile.gettempdir())
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "truncated.db"
        for mm in (0, 1 << 30):
            make(path)
            run = subprocess.run(
                [sys.executable, "-c", CHILD, str(path), str(mm)], capture_output=True, text=True
            )
            said = run.stdout.strip() or "(nothing)"
            print(f"mmap_size {mm:>10}: exit {run.returncode:>3}, {said}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
