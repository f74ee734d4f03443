"""The team board on a big database (issue 9, item 1): first draw and refresh.

    python bench/bench_board.py --db /tmp/COPY.db [--collectors 50] [--setup]

Goals (issue 9, at 1,000,000 customers, 50 collectors): the board draws in <= 1 s and
refreshes in <= 200 ms. Measured beside references in the same run: a raw ``COUNT(*)``
over the queue, and the naive board's per-refresh aggregate (every collector's counts by
state in one GROUP BY over the worklist index).

- **first draw**: a new reader on a new connection reads the whole live tier (what the
  screen shows first; the book follows in its own worker);
- **refresh after a commit**: another connection logs an outcome for one collector (a
  real ``no_answer`` through queue/outcomes.py), then the reader reads again;
- **refresh, nothing committed**: the screen's check each second (PRAGMA data_version);
- **refresh after a bulk move** (``--moves``): another connection moves ``--move-size``
  accounts from one collector to another (``assign --from ... --limit``, the lead's move),
  then the reader reads again: a move recounts its giver and taker (m033's
  ``assignments.from_collector_id``), not every collector;
- **book**: untouched 14+ days, balances by bucket (aging by collector from the aging
  snapshot) and the accounts no collector can serve, and (m033) the first read of every
  open dispute: read when the board opens and every 5 minutes, in its own worker, never
  on the refresh path.

``--setup`` (once, on a copy: it writes) adds collectors up to ``--collectors`` with the
accounts spread evenly over them, a screen beating and an account held for each, and the
aging snapshot (what the nightly refresh makes). Run it on a copy, never on a database
people work in.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import summary_ms, table  # noqa: E402

from dunning.clock import FixedClock, to_iso  # noqa: E402
from dunning.db import aging_snapshot  # noqa: E402
from dunning.db.connection import connect, open_db, write_tx  # noqa: E402
from dunning.queue import assign, board  # noqa: E402
from dunning.queue.collectors import get_collector  # noqa: E402
from dunning.queue.config import Settings  # noqa: E402
from dunning.queue.outcomes import OutcomeInput, log_outcome  # noqa: E402

UTC_ZONE = ZoneInfo("UTC")


def setup(path: Path, clock: FixedClock, n: int) -> None:
    conn = connect(path)
    have = conn.execute("SELECT COUNT(*) FROM collectors WHERE role = 'collector'").fetchone()[0]
    now = to_iso(clock.now())
    t0 = time.perf_counter()
    with write_tx(conn):
        for i in range(have, n):
            conn.execute(
                "INSERT OR IGNORE INTO collectors (username, display_name, role, languages, "
                "locale, created_at) VALUES (?, ?, 'collector', 'en,fr,es', 'en_US', ?)",
                (f"bench{i:02d}", f"Bench {i:02d}", now),
            )
    ids = [r[0] for r in conn.execute("SELECT id FROM collectors WHERE role = 'collector'")]
    # spread the accounts: customer id modulo the number of collectors, in chunks
    hi = conn.execute("SELECT MAX(customer_id) FROM queue").fetchone()[0]
    case = " ".join(f"WHEN {k} THEN {cid}" for k, cid in enumerate(ids))
    for lo in range(0, hi + 1, 100_000):
        with write_tx(conn):
            conn.execute(
                f"UPDATE queue SET collector_id = CASE customer_id % {len(ids)} {case} END "
                "WHERE customer_id BETWEEN ? AND ?",
                (lo, lo + 99_999),
            )
    print(f"setup: {len(ids)} collectors, accounts spread in {time.perf_counter() - t0:.1f} s")
    # each collector online, on one account held since a few minutes
    with write_tx(conn):
        for k, cid in enumerate(ids):
            acc = conn.execute(
                "SELECT customer_id FROM queue WHERE collector_id = ? AND state = 'ready' LIMIT 1",
                (cid,),
            ).fetchone()[0]
            since = to_iso(clock.now() - timedelta(minutes=k))
            conn.execute(
                "UPDATE queue SET claimed_by = ?, claim_expires_at = ?, claim_host = 'bench', "
                "claim_pid = ? WHERE customer_id = ?",
                (cid, to_iso(clock.now() + timedelta(hours=12)), 10_000 + k, acc),
            )
            conn.execute(
                "INSERT INTO work_sessions (collector_id, host, pid, started_at, beat_at, "
                "customer_id, on_since) VALUES (?, 'bench', ?, ?, ?, ?, ?)",
                (cid, 10_000 + k, since, to_iso(clock.now() + timedelta(hours=12)), acc, since),
            )
    t0 = time.perf_counter()
    done = aging_snapshot.advance(conn, clock.now().date())
    print(f"setup: aging snapshot {done} in {time.perf_counter() - t0:.1f} s")
    conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--collectors", type=int, default=50)
    ap.add_argument("--setup", action="store_true", help="prepare the copy first (writes)")
    ap.add_argument("--n", type=int, default=30, help="refreshes after a commit")
    ap.add_argument("--at", default="2026-11-22T20:00:00", help="the bench's clock (UTC)")
    ap.add_argument("--moves", type=int, default=10, help="refreshes after a bulk move")
    ap.add_argument("--move-size", type=int, default=1000, help="accounts in each move")
    ap.add_argument("--lead", default="lena", help="the lead who moves (a lead or admin)")
    args = ap.parse_args()
    clock = FixedClock(datetime.fromisoformat(args.at).replace(tzinfo=UTC))
    if args.setup:
        setup(args.db, clock, args.collectors)
    settings = Settings()

    def new_reader(conn):  # noqa: ANN001, ANN202 - the screen's reader (main's or this one)
        try:
            return board.BoardReader(conn, clock, UTC_ZONE, "", disputes=False)
        except TypeError:  # before m033: no disputes on the board
            return board.BoardReader(conn, clock, UTC_ZONE, "")

    def read_book(conn):  # noqa: ANN001, ANN202
        try:
            return board.read_book(conn, clock, UTC_ZONE, "", settings.disputes.service_days)
        except TypeError:
            return board.read_book(conn, clock, UTC_ZONE, "")

    cpu: dict[int, list[float]] = {}  # id(samples) -> CPU seconds beside each wall sample

    def timed(fn, reps: int) -> list[float]:  # noqa: ANN001
        out: list[float] = []
        cpu[id(out)] = []
        for _ in range(reps):
            c, t = time.process_time(), time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
            cpu[id(out)].append(time.process_time() - c)
        return out

    open_db(args.db).close()  # the schema of the code under test (m033 adds an index)
    ref = connect(args.db)
    raw_count = timed(lambda: ref.execute("SELECT COUNT(*) FROM queue").fetchone(), 5)
    naive = timed(
        lambda: ref.execute(
            "SELECT collector_id, state, COUNT(*) FROM queue INDEXED BY queue_worklist "
            "GROUP BY collector_id, state"
        ).fetchall(),
        5,
    )

    first: list[float] = []
    cpu[id(first)] = []
    rows = 0
    for _ in range(5):
        conn = connect(args.db)
        c, t = time.process_time(), time.perf_counter()
        reader = new_reader(conn)
        found = reader.live()
        first.append(time.perf_counter() - t)
        cpu[id(first)].append(time.process_time() - c)
        rows = len(found.rows)
        conn.close()

    # refreshes after a real commit by one collector (another connection)
    conn = connect(args.db)
    reader = new_reader(conn)
    reader.live()
    # the book, on its own connection as the screen reads it; with m033 it reads every
    # open dispute too, and the live reader goes on from there
    book_conn = connect(args.db)
    books: list[board.Book] = []
    book = timed(lambda: books.append(read_book(book_conn)), 1)
    if hasattr(reader, "adopt"):
        reader.adopt(books[0].disputes)
    reader.live()
    writer = connect(args.db)
    picks = writer.execute(
        "SELECT customer_id, collector_id FROM queue WHERE state = 'ready' AND claimed_by IS NULL "
        "ORDER BY customer_id LIMIT ?",
        (args.n,),
    ).fetchall()
    after: list[float] = []
    commit: list[float] = []
    cpu[id(after)] = []
    for cid, owner in picks:
        t = time.perf_counter()
        log_outcome(
            writer, clock, settings, collector_id=owner, customer_id=cid,
            inp=OutcomeInput("no_answer"),
        )  # fmt: skip
        commit.append(time.perf_counter() - t)
        c, t = time.process_time(), time.perf_counter()
        reader.live()
        after.append(time.perf_counter() - t)
        cpu[id(after)].append(time.process_time() - c)
    # refreshes after a bulk move (another connection: the lead's assign --from --limit)
    moved: list[float] = []
    move_s: list[float] = []
    cpu[id(moved)] = []
    lead = get_collector(writer, args.lead)
    pair = [
        get_collector(writer, r[0])
        for r in writer.execute(
            "SELECT username FROM collectors WHERE role = 'collector' AND active "
            "ORDER BY id LIMIT 2"
        )
    ]
    for k in range(args.moves if lead is not None and None not in pair else 0):
        src, dst = pair[k % 2], pair[(k + 1) % 2]
        assert src is not None and dst is not None and lead is not None
        t = time.perf_counter()
        part = assign.Book(src.id, src.username, limit=args.move_size)
        assign.reassign_from(writer, clock, lead, part, dst, "bench move", pause=0)
        move_s.append(time.perf_counter() - t)
        c, t = time.process_time(), time.perf_counter()
        reader.live()
        moved.append(time.perf_counter() - t)
        cpu[id(moved)].append(time.process_time() - c)
    quiet = timed(lambda: conn.execute("PRAGMA data_version").fetchone(), 50)
    snap = aging_snapshot.state(conn)

    headers = ["what", "p50 ms", "p99 ms", "max ms", "n", "CPU p50 / p99 ms", "goal"]

    def line(name: str, samples: list[float], goal: str) -> list[str]:
        c = cpu.get(id(samples), [])
        used = f"{summary_ms(c)[0]} / {summary_ms(c)[1]}" if c else ""
        return [name, *summary_ms(samples), used, goal]

    load = os.getloadavg()[0]
    print(f"\n{args.db}: {rows} collectors on the board; aging snapshot: {snap}; load {load:.1f}")
    print(
        table(
            headers,
            [
                line("board first draw (live tier, new connection)", first, "<= 1000"),
                line("board refresh after a commit", after, "<= 200"),
                line(f"board refresh after a move of {args.move_size}", moved, "<= 200"),
                ["(the move itself: assign --from --limit, no pause)", *summary_ms(move_s), "", ""],
                line("board refresh, nothing committed (data_version)", quiet, ""),
                line("book (untouched, buckets, languages), own worker", book, ""),
                ["(the commit itself: log_outcome no_answer)", *summary_ms(commit), "", ""],
                line("reference: raw SELECT COUNT(*) FROM queue", raw_count, ""),
                line("reference: naive GROUP BY collector, state", naive, ""),
            ],
        )
    )


if __name__ == "__main__":
    main()
