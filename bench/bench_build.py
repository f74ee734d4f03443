"""Build the big demo database and show where the time goes.

    .venv/bin/python bench/bench_build.py [--customers 1000000] [--db /tmp/dunning-bench.db]
    .venv/bin/python bench/bench_build.py --generator-only --customers 100000

Prints one row per phase of ``build_demo_report`` (seconds, rows, rows/s), then a raw
sqlite3 baseline: ``executemany`` of as many pre-generated minimal invoice tuples as the
build made invoices, into a bare table, so the layer's overhead per invoice is visible.
The database is left in place: other benchmarks reuse it. The machine is shared, so the
load average before and after is printed with the numbers.

``--cpu-phases``: the same build in ONE process (generator and scorer in line, as small
builds run) with every phase timed in CPU seconds of that process (sorter threads
included) instead of wall seconds: where the CPU goes, phase by phase, whatever else the
machine runs. "load: waiting for rows" is then the generator and the scorer's CPU. The
real build spreads that CPU over two more processes (plus marshalling the rows between
them), so its total is higher and its wall time lower.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import sqlite3
import sys
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dunning.clock import FixedClock  # noqa: E402
from dunning.demo import build as demo_build  # noqa: E402
from dunning.demo import workers as demo_workers  # noqa: E402
from dunning.demo.build import ROWS_PER_STATEMENT, build_demo_report  # noqa: E402


def remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def baseline(path: Path, count: int, chunk: int = 500_000) -> tuple[float, float]:
    """Seconds to executemany ``count`` (id, customer_id, due_date, amount_minor) tuples
    into a bare table, one row a statement and ROWS_PER_STATEMENT rows a statement (the
    way the demo loader does it); tuples are made before each timed call."""
    rng = random.Random(0)
    days = [f"2026-{m:02d}-{d:02d}" for m in range(1, 13) for d in range(1, 29)]
    results = []
    for per in (1, ROWS_PER_STATEMENT):
        remove(path)
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute(
            "CREATE TABLE bare (id INTEGER PRIMARY KEY, customer_id INTEGER, due_date TEXT,"
            " amount_minor INTEGER)"
        )
        sql = "INSERT INTO bare VALUES " + ", ".join(["(?, ?, ?, ?)"] * per)
        spent = 0.0
        conn.execute("BEGIN")
        for start in range(0, count, chunk):
            n = min(chunk, count - start)
            flat: list[object] = []
            for i in range(start + 1, start + n + 1):
                flat += (i, i // 5 + 1, days[int(rng.random() * 336)], rng.randrange(100_000))
            step = 4 * per
            params = [flat[j : j + step] for j in range(0, len(flat) - step + 1, step)]
            t = time.perf_counter()
            conn.executemany(sql, params)
            spent += time.perf_counter() - t
        conn.execute("COMMIT")
        conn.close()
        results.append(spent)
    remove(path)
    return results[0], results[1]


def cpu_seconds() -> float:
    """User+sys seconds of this process and of its children that have ended (the demo's
    generator and scorer processes are joined before build_demo_report returns)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def progress(msg: str) -> None:
    """Every 100,000 customers, and the phases; to stderr so the table stays clean."""
    if msg.startswith("customers"):
        done, total = (int(x) for x in msg.split()[1].split("/"))
        if done % 100_000 and done != total:
            return
    if not msg.startswith("index"):
        print(f"  {time.strftime('%H:%M:%S')} {msg}", file=sys.stderr, flush=True)


def generator_only(customers: int, chunk: int) -> None:
    """The rows of ``customers`` made in this process, nothing written: CPU seconds of the
    generator, of marshalling its batches (dumps + loads, what the pipes cost) and of the
    queue scorer, per 1,000 customers. The part of the build that the generator's process
    (the long pole of a big build) spends. Deterministic instruction counts, whatever the
    load: run it under ``valgrind --tool=callgrind`` with a small ``--customers`` (2,000)
    and subtract a run with ``--customers 0`` (the imports and the phone pools)."""
    import gc
    import marshal

    from dunning.demo import data as demo_data
    from dunning.demo.gen import GenConfig, Generator
    from dunning.demo.history import QueueMaker

    ids = {c[0]: i + 1 for i, c in enumerate(demo_data.COLLECTORS)}
    cfg = GenConfig(
        customers=max(customers, 1),
        seed=0,
        now=FixedClock().now(),
        collector_ids=ids,
        phone_pool=True,
        direct_queue=True,
        chunk=chunk,
    )
    gen = Generator(cfg)
    gen.warm_pools()
    maker = QueueMaker(cfg.now, cfg.settings)
    if not customers:
        return
    gc.disable()  # as in the generator's process
    made = shipped = scored = 0.0
    held: object = None
    t = time.process_time()
    for name, rows in gen.batches():
        t1 = time.process_time()
        made += t1 - t
        if rows:
            held = marshal.loads(marshal.dumps(rows))  # noqa: F841
        t2 = time.process_time()
        shipped += t2 - t1
        if name == "queue_input":
            maker.rows(rows)
        t = time.process_time()
        scored += t - t2
    per = 1000 / customers
    print(f"load average: {os.getloadavg()[0]:.2f}; {customers:,} customers, CPU seconds")
    for what, secs in (("generate", made), ("marshal dumps + loads", shipped), ("score", scored)):
        print(f"{what:<24} {secs:8.2f} s  {secs * per * 1000:8.1f} ms per 1,000 customers")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/dunning-bench.db"))
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--cpu-phases",
        action="store_true",
        help="one process, each phase in CPU seconds (see the module's docstring)",
    )
    parser.add_argument(
        "--generator-only",
        action="store_true",
        help="make the rows in this process, write nothing (see generator_only)",
    )
    parser.add_argument(
        "--no-side",
        action="store_true",
        help="every copy made by the writer (no side process, demo/side.py)",
    )
    parser.add_argument(
        "--template",
        type=int,
        default=None,
        help="accounts the generator makes; the rest are SQL copies (default: the build's "
        "TEMPLATE for big builds; 0: no copies, every account from the generator)",
    )
    args = parser.parse_args()
    if args.generator_only:
        generator_only(args.customers, demo_build.CHUNK)
        return
    if args.cpu_phases:  # the build's phase clock becomes this process's CPU clock
        cpu_clock = types.SimpleNamespace(perf_counter=time.process_time)
        demo_build.time = cpu_clock  # type: ignore[assignment]
        demo_workers.time = cpu_clock  # type: ignore[assignment]

    print(
        f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, "
        f"{os.cpu_count()} cpus, load average before: {os.getloadavg()[0]:.2f}"
    )
    if args.db.exists():
        print(f"removing the previous {args.db}")
    remove(args.db)
    cpu_before = cpu_seconds()
    self_before = resource.getrusage(resource.RUSAGE_SELF)
    summary, phases = build_demo_report(
        args.db,
        customers=args.customers,
        clock=FixedClock(),
        progress=progress,
        template=args.template,
        side=not (args.no_side or args.cpu_phases),
        **({"worker": False, "phone_pool": True, "direct_queue": True} if args.cpu_phases else {}),
    )
    cpu = cpu_seconds() - cpu_before
    me = resource.getrusage(resource.RUSAGE_SELF)
    writer = me.ru_utime + me.ru_stime - self_before.ru_utime - self_before.ru_stime
    wall = next(p.seconds for p in phases if p.name == "total")
    print(f"load average after the build: {os.getloadavg()[0]:.2f}")
    if args.cpu_phases:
        print(f"build in one process, phases in CPU seconds: {wall:.1f} s CPU\n")
    else:
        print(
            f"build: {wall:.1f} s wall, {cpu:.1f} s CPU (user+sys of this process and the "
            f"generator, scorer and side processes), of which the writer's process "
            f"{writer:.1f} s; goal at 1,000,000 customers: <= 90 s wall at load 2\n"
        )
    print(f"{'phase':<50} {'seconds':>8} {'rows':>12} {'rows/s':>12}")
    for p in phases:
        rate = f"{p.rows / p.seconds:,.0f}" if p.rows and p.seconds > 0 else ""
        rows = f"{p.rows:,}" if p.rows else ""
        print(f"{p.name:<50} {p.seconds:8.2f} {rows:>12} {rate:>12}")
    indexes = [p for p in phases if p.name.startswith("index ")]
    print(f"{'(indexes together)':<50} {sum(p.seconds for p in indexes):8.2f}")
    counts = ", ".join(f"{k} {v:,}" for k, v in summary.items() if not k.startswith("queue_"))
    states = ", ".join(f"{k[6:]} {v:,}" for k, v in summary.items() if k.startswith("queue_"))
    print(f"\nrows: {counts}\nqueue states: {states}")
    size = args.db.stat().st_size
    print(f"database: {args.db} ({size / 1e9:.2f} GB), left in place for other benchmarks")

    if args.no_baseline:
        return
    invoices = summary["invoices"]
    load = next(p for p in phases if p.name == "load invoices")
    one, many = baseline(args.db.with_name(args.db.name + ".baseline"), invoices)
    print(f"\nraw sqlite3 baseline: {invoices:,} minimal invoice tuples into a bare table")
    print(f"{'what':<50} {'seconds':>8} {'us/row':>8} {'rows/s':>12}")
    for name, secs in (
        ("executemany, 1 row a statement", one),
        (f"executemany, {ROWS_PER_STATEMENT} rows a statement", many),
        ("demo loader: load invoices (12 columns)", load.seconds),
    ):
        print(f"{name:<50} {secs:8.2f} {secs / invoices * 1e6:8.2f} {invoices / secs:12,.0f}")
    total = next(p for p in phases if p.name == "total")
    print(
        f"{'demo build, everything (per invoice)':<50} {total.seconds:8.2f} "
        f"{total.seconds / invoices * 1e6:8.2f} {invoices / total.seconds:12,.0f}"
    )


if __name__ == "__main__":
    main()
