"""Search speed (issue 8): every kind of query a collector types at `/` or `dunning search`,
beside an indexed primary-key lookup in raw sqlite3 measured in the same run.

    python bench/bench_search.py [--db /tmp/dunning-bench.db] [--n 300] [--rebuild]
                                 [--kinds phone,short] [--limit 50] [--mmap BYTES]

Goal: <= 5 ms p99 for a reference, an invoice number, a phone (known or not), a short
query and a query that finds nothing; <= 20 ms p99 for a name substring, accents and
punctuation folded. Opening the database applies pending migrations (m014_search builds
the search index): their time is printed, and ``--rebuild`` times the index's full
rebuild (what the demo build and a first import do) on a database that already has it.
Run it on a benchmark copy: the migration writes.

Beside wall and CPU time, each kind's database pages read from the OS per query (mean and
p99: bytes read by the process, /proc/self/io, over the page size): the figure a busy
machine does not blur, and what a search costs when the file is not all in the page cache
(the share that is, by ``fincore``, is printed before and after). A known phone or 1-2
letters show up to ``--limit`` accounts (50, what the screen asks for): each hit is its
customer's row and its queue row, read at random (two pages). ``--mmap`` sets
``PRAGMA mmap_size`` on the searching connection, to measure what dunning does not do
(a reading process would die of SIGBUS when another truncates the file under the map:
README's Benchmarks, issue 8).
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import pct, resident, summary_ms, table  # noqa: E402

from dunning.db import search_index  # noqa: E402
from dunning.db.connection import connect, write_tx  # noqa: E402
from dunning.db.schema import migrate  # noqa: E402
from dunning.queue.search import search_customers  # noqa: E402

GOALS = {"name substring, folded": 20.0}
GOAL_MS = 5.0


def _unaccented(text: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    ).lower()


def queries(raw: sqlite3.Connection, n: int, rnd: random.Random) -> dict[str, list[str]]:
    """n queries of each kind, drawn from the database (the known ones) or made up."""
    top = raw.execute("SELECT MAX(id) FROM customers").fetchone()[0]
    top_inv = raw.execute("SELECT MAX(id) FROM invoices").fetchone()[0] or 1
    top_ph = raw.execute("SELECT MAX(id) FROM phones").fetchone()[0] or 1

    def one(sql: str, hi: int) -> str:
        while True:
            row = raw.execute(sql, (rnd.randint(1, hi),)).fetchone()
            if row is not None:
                return str(row[0])

    out: dict[str, list[str]] = {k: [] for k in KINDS}
    for _ in range(n):
        out["reference"].append(one("SELECT external_ref FROM customers WHERE id = ?", top))
        out["invoice number"].append(one("SELECT number FROM invoices WHERE id = ?", top_inv))
        e164 = one("SELECT e164 FROM phones WHERE id = ?", top_ph)
        out["known phone"].append(e164)
        out["phone, last 7 digits"].append(e164[-7:])
        out["unknown phone"].append(
            f"({rnd.randint(200, 989)}) {rnd.randint(200, 999)}-{rnd.randint(0, 9999):04d}"
        )
        name = one("SELECT name FROM customers WHERE id = ?", top)
        words = [w for w in name.replace("&", " ").split() if len(w) >= 4] or [name]
        word = _unaccented(rnd.choice(words))
        start = rnd.randint(0, max(0, len(word) - 4))
        out["name substring, folded"].append(word[start : start + rnd.randint(4, 7)])
        out["short query (1-2 letters)"].append(
            "".join(rnd.choice("abcdefghijklmnopqrstuvwxyzé") for _ in range(rnd.randint(1, 2)))
        )
        out["no hit"].append("".join(rnd.choice("qxzjkvw") for _ in range(rnd.randint(4, 9))))
    # the accented names a French or Spanish book holds, typed without accents
    accented = [
        _unaccented(w)
        for (nm,) in raw.execute(
            "SELECT name FROM customers WHERE id % 97 = 0 AND name GLOB '*[^ -~]*' LIMIT 2000"
        )
        for w in nm.split()
        if not w.isascii() and len(w) >= 4
    ]
    if accented:
        out["name substring, folded"][::2] = [
            rnd.choice(accented) for _ in range(len(out["name substring, folded"][::2]))
        ]
    return out


KINDS = [
    "reference",
    "invoice number",
    "known phone",
    "phone, last 7 digits",
    "unknown phone",
    "name substring, folded",
    "short query (1-2 letters)",
    "no hit",
]


def _read_bytes() -> int:
    """Bytes this process has read by read() and pread() (Linux: /proc/self/io); 0 elsewhere."""
    try:
        with open("/proc/self/io") as f:
            for line in f:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _dirty() -> str:
    """The host's dirty and under-writeback page cache (/proc/meminfo), e.g. "dirty 2,310
    MB, writeback 0 MB": right after a 1M build ~3 GB of the new file is dirty and the
    kernel writes it back while the next bench runs (docs/ROUND6_p5.md)."""
    try:
        info = dict(
            (k, int(v.split()[0]) // 1024)
            for k, v in (
                line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines()
            )
            if k in ("Dirty", "Writeback")
        )
    except (OSError, ValueError):
        return "dirty ?"
    return f"dirty {info.get('Dirty', 0):,} MB, writeback {info.get('Writeback', 0):,} MB"


def timed(fn: Callable[[], Any], cpu: list[float] | None = None) -> tuple[float, Any]:
    """Wall seconds and the result; the thread's CPU seconds appended to ``cpu``: on a
    busy machine the wall p99 is mostly waiting for a core, CPU time is the work done."""
    c = time.thread_time()
    t = time.perf_counter()
    got = fn()
    wall = time.perf_counter() - t
    if cpu is not None:
        cpu.append(time.thread_time() - c)
    return wall, got


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="/tmp/dunning-bench.db")
    ap.add_argument("--n", type=int, default=300, help="queries of each kind")
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--rebuild", action="store_true", help="also time a full index rebuild")
    ap.add_argument(
        "--kinds", default="", help="only the kinds whose name holds one of these (comma list)"
    )
    ap.add_argument("--limit", type=int, default=50, help="hits asked for (the screen: 50)")
    ap.add_argument("--mmap", type=int, default=0, help="PRAGMA mmap_size for the search")
    args = ap.parse_args()
    wanted = [w.strip() for w in args.kinds.split(",") if w.strip()]
    kinds = [k for k in KINDS if not wanted or any(w in k for w in wanted)]
    path = Path(args.db)
    if not path.exists():
        print(f"{path}: no such database (build one with bench/bench_build.py)", file=sys.stderr)
        return 2
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    print(f"sqlite {sqlite3.sqlite_version}, load average before: {' '.join(load)}; {_dirty()}")

    conn = connect(path)
    cpu_used: list[float] = []
    seconds, applied = timed(lambda: migrate(conn), cpu_used)
    if applied:
        names = ", ".join(applied)
        print(f"migrations {names}: {seconds:.1f} s (CPU {cpu_used[-1]:.1f} s)")
    if args.rebuild:

        def rebuild() -> int:
            with write_tx(conn):
                return search_index.rebuild(conn)

        seconds, count = timed(rebuild, cpu_used)
        spent = cpu_used[-1]
        print(f"search index rebuild: {count:,} customers in {seconds:.1f} s (CPU {spent:.1f} s)")
    customers = conn.execute("SELECT MAX(id) FROM customers").fetchone()[0]
    print(f"database: {path}, {customers:,} customers, in the page cache: {resident(path)}")
    if args.mmap:
        conn.execute(f"PRAGMA mmap_size={int(args.mmap)}")
        print(f"mmap_size {conn.execute('PRAGMA mmap_size').fetchone()[0]:,} (not dunning's)")
    page = conn.execute("PRAGMA page_size").fetchone()[0]

    raw = sqlite3.connect(path)
    rnd = random.Random(args.seed)
    qs = queries(raw, args.n, rnd)
    for q in qs["reference"][:20]:  # warm both connections' caches a little
        search_customers(conn, q, limit=args.limit)
    reference: list[float] = []
    reference_cpu: list[float] = []
    results: dict[str, list[float]] = {k: [] for k in kinds}
    cpu: dict[str, list[float]] = {k: [] for k in kinds}
    pages: dict[str, list[float]] = {k: [] for k in kinds}
    shown: dict[str, int] = dict.fromkeys(kinds, 0)
    found: dict[str, int] = dict.fromkeys(kinds, 0)
    for i in range(args.n):
        for kind in kinds:
            q = qs[kind][i]
            before = _read_bytes()
            seconds, hits = timed(
                lambda q=q: search_customers(conn, q, limit=args.limit),  # type: ignore[misc]
                cpu[kind],
            )
            pages[kind].append((_read_bytes() - before) / page)
            results[kind].append(seconds)
            found[kind] += bool(hits)
            shown[kind] += len(hits)
            cid = rnd.randint(1, customers)
            seconds, _ = timed(
                lambda cid=cid: raw.execute(  # type: ignore[misc]
                    "SELECT * FROM customers WHERE id = ?", (cid,)
                ).fetchall(),
                reference_cpu,
            )
            reference.append(seconds)
    ref_p99 = pct(reference, 99)
    ref_cpu = pct(reference_cpu, 99) * 1000
    rows = [
        [
            "raw sqlite3: customer by primary key (reference)",
            *summary_ms(reference),
            "",
            f"{ref_cpu:.2f}",
            "",
            "-",
        ]
    ]
    for kind in kinds:
        goal = GOALS.get(kind, GOAL_MS)
        p99 = pct(results[kind], 99) * 1000
        verdict = "ok" if p99 <= goal else "MISSED"
        rows.append(
            [
                f"search: {kind} ({found[kind]}/{args.n} found, {shown[kind] / args.n:.1f} hits)",
                *summary_ms(results[kind]),
                f"{p99 / (ref_p99 * 1000):.0f}x",
                f"{pct(cpu[kind], 99) * 1000:.2f}",
                f"{sum(pages[kind]) / args.n:.0f} / {pct(pages[kind], 99):.0f}",
                f"<= {goal:g} ms p99 {verdict}",
            ]
        )
    heads = ["what", "p50 ms", "p99 ms", "max ms", "n", "p99 / reference", "CPU p99 ms"]
    heads += ["pages read mean / p99", "goal"]
    print(table(heads, rows))
    # the first queries paying for something (a cache filling, the kernel writing back a
    # file just built) show as a first half slower than the second
    halves = ", ".join(
        f"{kind.split(' (')[0]} {pct(results[kind][: args.n // 2], 99) * 1000:.2f} / "
        f"{pct(results[kind][args.n // 2 :], 99) * 1000:.2f}"
        for kind in kinds
    )
    print(f"p99 ms, first half / second half of the queries: {halves}; {_dirty()}")
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    print(f"load average after: {' '.join(load)}; in the page cache: {resident(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
