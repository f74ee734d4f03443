"""A dry run's letters written by several processes (the nightly letter run's
``--dry-run``, issue 10 item 5): rendering a letter is ~1 ms of Python, so 100,000 .eml
need the host's cores. The plan (queue/letter_run.py ``plan``) says how many letters
each chunk of customer ids holds; the chunks are shared out in customer order, each
process taking a contiguous run of them with about the same number of letters, and
writing them with ``letter_run.run(dry_run=True)`` over its own read-only connection.
Nothing is written to the database (a dry run records nothing).
"""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from dunning.clock import Clock, FixedClock
from dunning.db.connection import connect
from dunning.queue import letter_run
from dunning.queue.config import Settings


def shares(chunks: list[tuple[int, int, int]], jobs: int) -> list[tuple[int, int, int]]:
    """(lo, hi, letters) per process: contiguous runs of chunks, about equal in letters."""
    total = sum(n for _lo, _hi, n in chunks)
    if not chunks or total == 0:
        return []
    jobs = max(1, min(jobs, len(chunks)))
    target = total / jobs
    out: list[tuple[int, int, int]] = []
    start, acc = chunks[0][0], 0
    for k, (_lo, hi, n) in enumerate(chunks):
        acc += n
        last = k == len(chunks) - 1
        if last or (acc >= target * (len(out) + 1) and len(out) < jobs - 1):
            done = sum(s[2] for s in out)
            out.append((start, hi, acc - done))
            if not last:
                start = chunks[k + 1][0]
    return out


def _work(
    db_path: str,
    clock: Clock,
    settings: Settings,
    out_dir: str,
    level: int | None,
    share: tuple[int, int, int],
) -> letter_run.RunCounts:
    conn = connect(db_path, readonly=True)
    try:
        return letter_run.run(
            conn, clock, settings, level=level, limit=share[2], dry_run=True,
            out_dir=Path(out_dir), customer_range=(share[0], share[1]),
        )  # fmt: skip
    finally:
        conn.close()


def dry_run(
    db_path: Path,
    clock: Clock,
    settings: Settings,
    out_dir: Path,
    planned: letter_run.RunCounts,
    *,
    level: int | None = None,
    jobs: int = 2,
) -> letter_run.RunCounts:
    """Write the planned letters into ``out_dir`` with ``jobs`` processes; their counts."""
    fixed = FixedClock(clock.now())  # every process writes as of the same instant
    parts = shares(planned.chunks, jobs)
    total = letter_run.RunCounts()
    if len(parts) <= 1:
        for share in parts:
            total.add(_work(str(db_path), fixed, settings, str(out_dir), level, share))
        return total
    with ProcessPoolExecutor(len(parts), mp_context=mp.get_context("spawn")) as pool:
        futures = [
            pool.submit(_work, str(db_path), fixed, settings, str(out_dir), level, share)
            for share in parts
        ]
        for f in futures:
            total.add(f.result())
    return total
