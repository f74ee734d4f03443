"""A dry run's letters written by several processes (the nightly letter run's
``--dry-run``, issue 10 item 5): rendering a letter is ~1 ms of Python, so 100,000 .eml
need the host's cores.

Planned and written at once: this process plans chunk by chunk of customer ids (the
levels due and the writing rules, queue/letter_run.py ``plan``) and hands each chunk that
holds letters to one of ``jobs`` worker processes as soon as it is planned, with the
number of letters it may write (``--limit`` is reached in customer order, as in one
process); the workers write them with ``letter_run.run(dry_run=True)``, each over its own
read-only connection opened once. The plan of the next chunks runs while the workers
write (it was a tenth of the run, on one core, before the writing began). Nothing is
written to the database (a dry run records nothing).
"""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from dunning.clock import Clock, FixedClock
from dunning.db.connection import connect
from dunning.queue import letter_run
from dunning.queue.config import Settings

_WORKER: dict[str, object] = {}  # a worker process's connection and run (set by _start)


def _start(db_path: str, clock: Clock, settings: Settings, out_dir: str, level: int | None) -> None:
    _WORKER.update(
        conn=connect(db_path, readonly=True),
        clock=clock,
        settings=settings,
        out_dir=Path(out_dir),
        level=level,
    )


def _write(lo: int, hi: int, letters: int) -> letter_run.RunCounts:
    """In a worker: the ``letters`` planned in customer ids [lo, hi], written."""
    w = _WORKER
    return letter_run.run(
        w["conn"], w["clock"], w["settings"], level=w["level"], limit=letters,  # type: ignore[arg-type]
        dry_run=True, out_dir=w["out_dir"], customer_range=(lo, hi),  # type: ignore[arg-type]
    )  # fmt: skip


def dry_run(
    conn: sqlite3.Connection,
    db_path: Path,
    clock: Clock,
    settings: Settings,
    out_dir: Path,
    *,
    level: int | None = None,
    limit: int | None = None,
    jobs: int = 2,
    chunk: int = letter_run.CHUNK,
) -> tuple[letter_run.RunCounts, letter_run.RunCounts]:
    """Plan (over ``conn``) and write the letters due into ``out_dir`` with ``jobs``
    processes: (what was planned, what was written)."""
    fixed = FixedClock(clock.now())  # every process writes as of the same instant
    done = letter_run.RunCounts()
    if jobs <= 1:

        def here(lo: int, hi: int, letters: int) -> None:
            done.add(
                letter_run.run(
                    conn,
                    fixed,
                    settings,
                    level=level,
                    limit=letters,
                    dry_run=True,
                    out_dir=out_dir,
                    customer_range=(lo, hi),
                )  # fmt: skip
            )

        planned = letter_run.plan(
            conn, fixed, settings, level=level, limit=limit, chunk=chunk, on_chunk=here
        )
        return planned, done
    futures: list[Future[letter_run.RunCounts]] = []
    with ProcessPoolExecutor(
        jobs,
        mp_context=mp.get_context("spawn"),
        initializer=_start,
        initargs=(str(db_path), fixed, settings, str(out_dir), level),
    ) as pool:
        planned = letter_run.plan(
            conn, fixed, settings, level=level, limit=limit, chunk=chunk,
            on_chunk=lambda lo, hi, n: futures.append(pool.submit(_write, lo, hi, n)),
        )  # fmt: skip
        for f in futures:
            done.add(f.result())
    return planned, done
