"""The base of a past date by collector in chunks of customers that two processes share
out as they go (dunning/db/past_collector.py, reports_parallel.claim): every chunk
computed once, by one process or the other, and the report equal to the slow reference
whatever the chunk size, in one process or two, with reassignments after the date."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from test_aging_reference import TODAY, build, product_rows, reference_rows

from dunning.clock import FixedClock
from dunning.db import past_collector
from dunning.db import reports_parallel as parallel
from dunning.db import reports_past as past
from dunning.db.connection import write_tx
from dunning.queue.assign import reassign
from dunning.queue.collectors import get_collector_by_id

CLAIM_LOOP = """
import os, sys
from dunning.db.reports_parallel import claim
fd = os.open(sys.argv[1], os.O_RDWR)
got = []
while (n := claim(fd, True)) is not None:
    got.append(n)
print(" ".join(map(str, got)))
"""


def test_two_claimers_take_every_chunk_once(tmp_path: Path) -> None:
    """A process claiming from the bottom and this one from the top: each of the 2,000
    chunks goes to exactly one of them, the bottom's in rising order, the top's falling."""
    path = parallel.claims_file(2000)
    assert path is not None
    try:
        assert os.stat(path).st_mode & 0o077 == 0  # private
        env = os.environ | {"PYTHONPATH": str(Path(past_collector.__file__).parents[2])}
        proc = subprocess.Popen(
            [sys.executable, "-c", CLAIM_LOOP, path], stdout=subprocess.PIPE, env=env
        )
        mine: list[int] = []
        fd = os.open(path, os.O_RDWR)
        while (n := parallel.claim(fd, False)) is not None:
            mine.append(n)
        os.close(fd)
        out, _ = proc.communicate(timeout=60)
        theirs = [int(x) for x in out.split()]
    finally:
        os.unlink(path)
    assert sorted(mine + theirs) == list(range(2000))
    assert theirs == sorted(theirs) and mine == sorted(mine, reverse=True)
    assert not mine or not theirs or max(theirs) < min(mine)


def test_chunks_cover_the_customer_ids_once() -> None:
    for lo, hi in [(1, 1), (1, 10), (5, 1_000_004), (1, 99_999), (-3, 250_000)]:
        chunks = past_collector.chunks_of(lo, hi)
        assert chunks is not None
        ids = (
            [
                i
                for n in range(chunks["count"])
                for r in [parallel.chunk_range(chunks, n)]
                for i in range(r["lo"], r["hi"] + 1)
            ]
            if hi - lo < 300_000
            else []
        )
        if ids:
            assert ids == list(range(lo, hi + 1))
        last = parallel.chunk_range(chunks, chunks["count"] - 1)
        assert last["hi"] == hi and chunks["step"] <= past_collector.CHUNK_CUSTOMERS
        assert chunks["count"] >= min(past_collector.MIN_CHUNKS, hi - lo + 1)
    assert past_collector.chunks_of(None, None) is None


@pytest.mark.parametrize(("two", "chunk"), [(False, 1), (False, 7), (True, 1), (True, 4)])
def test_past_by_collector_in_chunks_equals_the_reference(
    conn: sqlite3.Connection,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    two: bool,
    chunk: int,
) -> None:
    """Random ledgers (payments dated before their invoice's issue, credit notes,
    disputes, four currencies, unapplied cash, balances changed after the date), half of
    a collector's accounts moved to another after the date: the chunked base (one
    process, or two sharing the chunks) equals the reference on several dates, and no
    claims file is left behind."""
    monkeypatch.setattr(past, "use_delta", lambda conn, as_of: True)
    monkeypatch.setattr(past_collector, "CHUNK_CUSTOMERS", chunk)
    made: list[str] = []
    real_file = parallel.claims_file

    def tracked(chunks: int) -> str | None:
        path = real_file(chunks)
        made.append(str(path))
        return path

    monkeypatch.setattr(parallel, "claims_file", tracked)
    if two:
        monkeypatch.setattr(past_collector, "PARALLEL_MIN_INVOICES", 0)
    build(conn, 31)
    col0, col1 = (conn.execute("SELECT id FROM collectors WHERE username = ?", (u,)).fetchone()[0]
                  for u in ("col0", "col1"))  # fmt: skip
    with write_tx(conn):
        conn.execute(
            "INSERT INTO collectors (username, display_name, role, created_at) "
            "VALUES ('lena', 'Lena', 'lead', '2026-11-23T15:00:00Z')"
        )
    lead = get_collector_by_id(conn, conn.execute(
        "SELECT id FROM collectors WHERE username = 'lena'").fetchone()[0])  # fmt: skip
    to = get_collector_by_id(conn, col1)
    moved = [r[0] for r in conn.execute("SELECT customer_id FROM queue WHERE collector_id = ?",
                                         (col0,))]  # fmt: skip
    assert lead is not None and to is not None and moved
    assert reassign(conn, clock, lead, moved[::2], to, "cover") > 0
    currencies = {r[0] for r in conn.execute("SELECT DISTINCT currency FROM invoices")}
    assert len(currencies) >= 2
    for days in (1, 30, 45, 140):
        day = TODAY - timedelta(days=days)
        assert product_rows(conn, day, "collector") == reference_rows(conn, day, "collector")
    assert len(made) == (4 if two else 0)
    assert not any(Path(p).exists() for p in made)


def test_no_claims_file_means_one_process(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No temporary directory to write the claims file in: the report is computed in one
    process, the same, with no traceback."""
    import tempfile

    def refused(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError("read-only /tmp")

    monkeypatch.setattr(past, "use_delta", lambda conn, as_of: True)
    monkeypatch.setattr(past_collector, "PARALLEL_MIN_INVOICES", 0)
    monkeypatch.setattr(tempfile, "mkstemp", refused)
    calls: list[bool] = []
    real = past_collector._two_processes

    def counted(*args: object) -> object:
        result = real(*args)  # type: ignore[arg-type]
        calls.append(result is not None)
        return result

    monkeypatch.setattr(past_collector, "_two_processes", counted)
    build(conn, 32)
    day = TODAY - timedelta(days=30)
    assert product_rows(conn, day, "collector") == reference_rows(conn, day, "collector")
    assert calls == [False]
