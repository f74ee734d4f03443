"""Time ``dunning queue refresh`` beside the raw SQL of the aggregates it needs.

    .venv/bin/python bench/bench_refresh.py --db /tmp/copy-of-the-1m-demo.db

The database is WRITTEN (queue rows, promises): pass a copy of the demo database
(bench/bench_build.py builds one), never a database anyone uses. A file without write
permission is refused.

Prints, in one run:
- the reference: the set-based aggregate queries the refresh needs, as raw sqlite3 over
  whole tables (open invoices by customer, unapplied cash, usable phones, customers and
  their queue rows);
- the check the command runs first (a damaged page stops the night's run, issue 7;
  db/integrity.py ``refresh_check``), named, with its time: by default the scoped one,
  ``PRAGMA quick_check(TABLE)`` of the tables it writes (REFRESH_WRITES), what it runs
  when a whole-file check passed within 24 h (the nightly order import, backup, refresh);
  ``--whole-check``: the whole file's, what it runs otherwise (and records), counted in
  the goal; ``--full-check``: the whole file's too, beside the scoped one, untimed in the
  goal (both timed in one run);
- ``--cell-size-check off``: the refresh without ``PRAGMA cell_size_check`` (on, by
  default, as the command runs it), to measure what it costs;
- the refresh (``queue.refresh.refresh_all``, what the command runs after the check) on
  the day after the build (most scores move: days past due, days since contact) and then
  again the same day (every row already right), each with rows changed and unchanged,
  promises decided, the longest write-lock hold, wall and CPU seconds;
- the aging snapshot brought to the new day (``db/aging_snapshot.advance``, which the
  command runs after the refresh; the night before's snapshot is made first, untimed);
- the goal: the command (check + refresh + snapshot) <= 15 s at 1,000,000 customers.
The machine is shared: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dunning.clock import FixedClock  # noqa: E402
from dunning.db import aging_snapshot  # noqa: E402
from dunning.db.connection import open_db  # noqa: E402
from dunning.db.integrity import (  # noqa: E402
    CHECKED_KEY,
    REFRESH_WRITES,
    quick_check,
    record_whole,
)
from dunning.queue import refresh as refresh_mod  # noqa: E402
from dunning.queue import refresh_scope  # noqa: E402
from dunning.queue.config import Settings  # noqa: E402
from dunning.queue.refresh import CHUNK, refresh_all  # noqa: E402
from dunning.queue.refresh_ahead import checked_ahead  # noqa: E402

GOAL_S = 15.0
REFERENCE = {
    "open invoices by customer": """SELECT customer_id,
        SUM(CASE WHEN open_minor > 0 AND disputed = 0 THEN open_minor ELSE 0 END),
        SUM(CASE WHEN open_minor > 0 AND disputed = 1 THEN open_minor ELSE 0 END),
        SUM(CASE WHEN open_minor < 0 THEN open_minor ELSE 0 END),
        MIN(CASE WHEN open_minor > 0 AND disputed = 0 THEN due_date END),
        SUM(CASE WHEN open_minor > 0 AND disputed = 0 AND due_date < '2026-11-24'
                 THEN open_minor ELSE 0 END)
        FROM invoices WHERE status = 'open' GROUP BY customer_id""",
    "unapplied cash by customer": """SELECT customer_id, SUM(amount_minor) FROM payments
        WHERE invoice_id IS NULL GROUP BY customer_id""",
    "usable phones by customer": """SELECT customer_id, COUNT(*) FROM phones
        WHERE bad = 0 AND do_not_call = 0 GROUP BY customer_id""",
    "customers and their queue rows": """SELECT c.id, c.status, c.currency, c.risk_score,
        q.state, q.priority, q.reasons, q.next_action, q.next_action_at, q.open_minor,
        q.disputed_minor, q.unapplied_minor, q.oldest_due, q.last_contact_at,
        q.broken_promise FROM customers c LEFT JOIN queue q ON q.customer_id = c.id""",
}


def cpu() -> float:
    """CPU seconds of this process and of its helper processes once they ended."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


def helpers_cpu() -> float:
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return c.ru_utime + c.ru_stime


def reference(path: Path) -> list[tuple[str, float, float, int]]:
    conn = sqlite3.connect(path)
    out = []
    for name, sql in REFERENCE.items():
        t, c = time.perf_counter(), cpu()
        rows = 0
        for _ in conn.execute(sql):
            rows += 1
        out.append((name, time.perf_counter() - t, cpu() - c, rows))
    conn.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="a COPY of a demo database")
    parser.add_argument("--no-check", action="store_true", help="skip timing quick_check")
    parser.add_argument(
        "--full-check", action="store_true", help="also time the whole file's quick_check"
    )
    parser.add_argument("--chunk", type=int, default=CHUNK, help="customers a range")
    parser.add_argument(
        "--rebuild",
        choices=("auto", "on", "off"),
        default="off",
        help="build the next queue beside the live one and swap it in (auto: when most "
        "rows change), or update rows in place (off: what the command does)",
    )
    parser.add_argument(
        "--whole-check",
        action="store_true",
        help="the command's check is the whole file's (no whole-file check recorded within "
        "24 h), counted in the goal; default: the scoped one (after the nightly backup)",
    )
    parser.add_argument(
        "--cell-size-check",
        choices=("on", "off"),
        default="on",
        help="PRAGMA cell_size_check on the refresh's connections (on: what the command does)",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="every night reads every customer (`queue refresh --full`); default: the build "
        "is recorded as the night before's refresh, so the night reads only the customers "
        "whose row can have changed (queue/refresh_scope.py)",
    )
    parser.add_argument(
        "--serial-check",
        action="store_true",
        help="the check first, then the refresh (round 4's command); default: the check "
        "in a thread beside the night's first reads (queue/refresh_ahead.py), as the "
        "command runs it now",
    )
    parser.add_argument(
        "--check-tables",
        action="store_true",
        help="beside the reads: also list quick_check(TABLE) of each table it writes "
        "first, untimed (the command's check then reads them a second time)",
    )
    args = parser.parse_args()
    refresh_mod.CELL_SIZE_CHECK = args.cell_size_check.upper()
    print(f"PRAGMA cell_size_check on the refresh's connections: {refresh_mod.CELL_SIZE_CHECK}")
    if not args.db.exists() or not os.stat(args.db).st_mode & 0o200:
        sys.exit(f"{args.db}: missing or read-only; pass a copy (this bench writes to it)")

    print(
        f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} cpus, load average before: {os.getloadavg()[0]:.2f}"
    )
    conn = open_db(args.db)  # runs the migrations of this branch, as the command would
    customers = conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0]
    print(f"{args.db}: {customers:,} customers\n")
    print(f"{'what':<58} {'wall s':>8} {'cpu s':>8} {'rows':>10}")
    ref = reference(args.db)
    for name, wall, used, rows in ref:
        print(f"{'reference: ' + name:<58} {wall:8.2f} {used:8.2f} {rows:>10,}")
    ref_wall = sum(r[1] for r in ref)
    print(f"{'reference: together':<58} {ref_wall:8.2f} {sum(r[2] for r in ref):8.2f}")
    check = 0.0
    if not args.no_check and args.whole_check:
        t, c = time.perf_counter(), cpu()
        ok = quick_check(conn) == ["ok"]
        check = time.perf_counter() - t
        print(
            f"{'check run: whole file, PRAGMA quick_check (none in 24 h)':<58} "
            f"{check:8.2f} {cpu() - c:8.2f} {'ok' if ok else 'DAMAGED':>10}"
        )
    elif not args.no_check:
        if args.full_check:
            t, c = time.perf_counter(), cpu()
            ok = quick_check(conn) == ["ok"]
            print(
                f"{'PRAGMA quick_check, whole file (backup; not the command)':<58} "
                f"{time.perf_counter() - t:8.2f} {cpu() - c:8.2f} {'ok' if ok else 'DAMAGED':>10}"
            )
        # beside the reads (the default), the command's own check is the one timed, below:
        # these are listed only with --check-tables, so that the check counted is the
        # first pass over those tables, as the serial check is
        listed = REFRESH_WRITES if args.serial_check or args.check_tables else ()
        for table in listed:
            t, c = time.perf_counter(), cpu()
            ok = quick_check(conn, [table]) == ["ok"]
            took = time.perf_counter() - t
            check += took
            print(
                f"{'  quick_check(' + table + ')':<58} "
                f"{took:8.2f} {cpu() - c:8.2f} {'ok' if ok else 'DAMAGED':>10}"
            )
        if listed:
            print(f"{'check run: scoped, quick_check(TABLE) of tables it writes':<58} {check:8.2f}")
    if not args.serial_check and not args.no_check:
        print(
            "the command's check runs beside its first reads: counted below, in the "
            "refresh's time" + (" (the list above: untimed)" if args.check_tables else "")
        )
        check = 0.0
    settings = Settings()
    day0 = FixedClock().now().astimezone(settings.team_zone).date()
    t = time.perf_counter()
    made = aging_snapshot.advance(conn, day0)  # the night before's, as the command left it
    print(
        f"{'aging snapshot of the night before (untimed: ' + made + ')':<58} "
        f"{time.perf_counter() - t:8.2f}"
    )
    if not args.full:
        t = time.perf_counter()
        refresh_scope.record(conn, settings)  # the build's queue, as the night before's
        print(f"{'record of the night before (untimed)':<58} {time.perf_counter() - t:8.2f}")
    runs = []
    for label, day in (("refresh, the day after the build", 1), ("again, same day", 1)):
        clock = FixedClock()
        clock.advance(days=day)
        overlap = not args.serial_check and not args.no_check
        if overlap and args.whole_check:  # no whole-file check recorded within 24 h
            conn.execute("DELETE FROM meta WHERE key = ?", (CHECKED_KEY,))
        elif overlap:
            record_whole(conn, clock, "bench")  # the nightly backup's (untimed)
        t, c, h, tc = time.perf_counter(), cpu(), helpers_cpu(), time.thread_time()
        rebuild = {"auto": None, "on": True, "off": False}[args.rebuild]
        ahead = None
        if overlap:
            ahead = checked_ahead(conn, args.db, clock, settings, full=args.full, chunk=args.chunk)
            print(
                f"    check beside the reads: {ahead.check}, {ahead.check_wall:.2f} s wall, "
                f"{ahead.check_cpu:.2f} s CPU in its thread; verdict at "
                f"{time.perf_counter() - t:.2f} s, {len(ahead.read):,} customers read "
                f"meanwhile ({time.thread_time() - tc:.2f} s CPU in the main thread)"
            )
        stats = refresh_all(
            conn, clock, settings, chunk=args.chunk, rebuild=rebuild, full=args.full, ahead=ahead
        )
        wall, used, helped = time.perf_counter() - t, cpu() - c, helpers_cpu() - h
        runs.append(wall)
        print(f"{label:<58} {wall:8.2f} {used:8.2f} {stats.done:>10,}")
        print(
            f"    rows changed {stats.changed:,}, unchanged (not written) "
            f"{stats.unchanged:,}, promises decided {stats.decided:,}, ranges recomputed "
            f"under the lock {stats.recomputed}\n"
            f"    written: {'next queue built and swapped in' if stats.rebuilt else 'in place'}"
            f" ({stats.carried:,} rows carried over)\n"
            f"    customers read: {'all' if stats.read is None else f'{stats.read:,}'}\n"
            f"    CPU: {used - helped:.2f} s writer, {helped:.2f} s helper processes; "
            f"{time.thread_time() - tc:.2f} s in the main thread\n"
            f"    write lock: longest {stats.longest_lock * 1000:.0f} ms, "
            f"{stats.lock_total:.2f} s in all; {wall / ref_wall:.1f}x the reference\n"
            f"    WAL copied back (PASSIVE, after the commits): {stats.checkpoints:.2f} s"
        )
        if stats.swap:
            steps = ", ".join(f"{k} {v * 1000:.0f}" for k, v in stats.swap.items())
            print(f"    the swap's transaction, ms: {steps}")
        t, c = time.perf_counter(), cpu()
        did = aging_snapshot.advance(conn, clock.now().astimezone(settings.team_zone).date())
        snap = time.perf_counter() - t
        runs[-1] += snap
        print(
            f"{'  then the aging snapshot (' + did + '; one write transaction)':<58} "
            f"{snap:8.2f} {cpu() - c:8.2f}"
        )
    conn.close()
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    whole = check + runs[0]
    verdict = "met" if whole <= GOAL_S else "NOT met"
    print(
        f"goal: `dunning queue refresh` <= {GOAL_S:.0f} s at 1,000,000 customers: check "
        f"{check:.1f}{'' if args.serial_check or args.no_check else ' (beside the reads)'}"
        f" + refresh and snapshot {runs[0]:.1f} = {whole:.1f} s on {customers:,} "
        f"customers -> {verdict}"
        + ("" if customers >= 1_000_000 else " (scale: not a 1M database)")
    )


if __name__ == "__main__":
    main()
