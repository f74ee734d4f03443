"""The demo build's floor: what the single writer costs with no generation at all.

    .venv/bin/python bench/bench_build_floor.py --source COPY_OF_A_DEMO.db [--db /tmp/floor.db]

Reads every loaded table's rows from a finished demo database (plain sqlite3, read-only;
a COPY, never /work/benchdb/m1.db itself), a slice at a time (not timed), and inserts
them into a new database exactly as ``demo.build`` does (same schema, pragmas, dropped
indexes, ``_Loader`` with its 50-row statements), timing only the inserts, table by
table, in CPU seconds of this process. Then the search index (``_Names``: folded names
and FTS5, made in the writer's wait during a real build), the indexes recreated after
the load, the folded index and the switch to WAL, each in CPU seconds (sorter threads
included) and wall seconds. The sum is the writer's CPU however fast the rows arrive:
if it is above the goal, no number of generator processes makes a single-writer build
meet it.
"""

from __future__ import annotations

import argparse
import gc
import os
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dunning.clock import FixedClock  # noqa: E402
from dunning.db import append_only  # noqa: E402
from dunning.db.connection import connect  # noqa: E402
from dunning.db.schema import migrate  # noqa: E402
from dunning.demo import build as B  # noqa: E402
from dunning.demo.gen import COLUMNS  # noqa: E402

SLICE = 100_000  # rows read from the source at a time


def remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def write_part(source: Path, part: Path, limit: int) -> None:
    """Every loaded table's rows for the first ``limit`` customers (0: all) in a file of
    plain tables (no index, no constraint), in rowid order: not timed."""
    remove(part)
    pc = sqlite3.connect(f"file:{part}", uri=True)
    pc.execute("PRAGMA journal_mode=OFF")
    pc.execute("PRAGMA synchronous=OFF")
    pc.execute("ATTACH ? AS src", (f"file:{source}?mode=ro",))
    for table, cols in COLUMNS.items():
        where = ""
        if limit:
            key = "id" if table == "customers" else "customer_id"
            if table == "dispute_invoices":
                key = "(SELECT customer_id FROM src.disputes d WHERE d.id = dispute_id)"
            where = f"WHERE {key} <= {limit}"
        pc.execute(
            f"CREATE TABLE {table} AS SELECT {', '.join(cols)} FROM src.{table} {where} "
            "ORDER BY rowid"
        )
    pc.commit()
    pc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--db", type=Path, default=Path("/tmp/dunning-floor.db"))
    parser.add_argument("--limit", type=int, default=0, help="customers (0: all)")
    parser.add_argument("--per-statement", type=int, default=B.ROWS_PER_STATEMENT)
    parser.add_argument("--keep-all", action="store_true", help="no index dropped for the load")
    parser.add_argument(
        "--copy",
        action="store_true",
        help="rows copied in by INSERT ... SELECT from a part file (no Python binding)",
    )
    parser.add_argument("--drop-all", action="store_true", help="drop customer-led indexes too")
    parser.add_argument("--hashsize", type=int, default=0, help="FTS5 hashsize (MB) to try")
    parser.add_argument("--load-cache", type=int, default=0, help="cache_size (MB) for the load")
    args = parser.parse_args()
    B._Loader.PER_STATEMENT = args.per_statement
    src = sqlite3.connect(f"file:{args.source}?mode=ro", uri=True)
    remove(args.db)
    print(f"sqlite {sqlite3.sqlite_version}, load average before: {os.getloadavg()[0]:.2f}")
    conn = connect(args.db)
    migrate(conn)
    for pragma in (
        "foreign_keys=OFF",
        "journal_mode=OFF",
        "synchronous=OFF",
        "ignore_check_constraints=ON",
    ):
        conn.execute(f"PRAGMA {pragma}")
    B._collectors(conn, FixedClock())
    indexes = [] if args.keep_all else B._drop_indexes(conn, not args.drop_all)
    if args.load_cache:
        conn.execute(f"PRAGMA cache_size=-{args.load_cache * 1000}")
    guards = {n: s for n, s in append_only.guards().items() if n.endswith("_no_replace")}
    for name in guards:
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    loader = B._Loader(conn)
    names = B._Names(conn)
    if args.hashsize:
        conn.execute(
            "INSERT INTO search_names_fts (search_names_fts, rank) VALUES ('hashsize', ?)",
            (args.hashsize * 1024 * 1024,),
        )
    cpu: dict[str, float] = {}
    gc.disable()
    if args.copy:  # the rows as a generator process would leave them: plain tables
        part = args.db.with_name(args.db.name + ".part")
        write_part(args.source, part, args.limit)
        conn.execute("ATTACH ? AS part", (str(part),))
    conn.execute("BEGIN")
    for table, cols in COLUMNS.items():
        cpu[table] = 0.0
        if args.copy:
            names_ = ", ".join(cols)
            t = time.process_time()
            cur = conn.execute(
                f"INSERT INTO main.{table} ({names_}) SELECT {names_} FROM part.{table}"
            )
            cpu[table] += time.process_time() - t
            loader.counts[table] = cur.rowcount
            continue
        limit = ""
        if args.limit:
            key = "id" if table == "customers" else "customer_id"
            if table == "dispute_invoices":
                key = "(SELECT customer_id FROM disputes d WHERE d.id = dispute_id)"
            limit = f"WHERE {key} <= {args.limit}"
        cur = src.execute(f"SELECT {', '.join(cols)} FROM {table} {limit} ORDER BY rowid")
        while rows := cur.fetchmany(SLICE):
            flat = [v for row in rows for v in row]
            del rows
            t = time.process_time()
            loader.load([(table, flat)])
            cpu[table] += time.process_time() - t
        conn.execute("COMMIT")
        conn.execute("BEGIN")
    conn.execute("COMMIT")
    if args.copy:
        conn.execute("DETACH part")
        remove(args.db.with_name(args.db.name + ".part"))
    gc.enable()
    src.close()
    print(f"{'phase':<44} {'CPU s':>7} {'wall s':>7} {'rows':>11}")
    for table in COLUMNS:
        print(f"{'insert ' + table:<44} {cpu[table]:7.2f} {'':>7} {loader.counts[table]:>11,}")
    total_insert = sum(cpu.values())
    print(f"{'(inserts together)':<44} {total_insert:7.2f}")

    after: list[tuple[str, float, float]] = []

    def timed(name: str, fn: object) -> None:
        c, w = time.process_time(), time.perf_counter()
        fn()  # type: ignore[operator]
        after.append((name, time.process_time() - c, time.perf_counter() - w))

    conn.execute("BEGIN")
    timed("search index: fold + FTS5 (in the wait)", lambda: names.fold(loader.counts["customers"]))
    conn.execute("COMMIT")
    conn.execute("PRAGMA cache_size=-2000")
    conn.execute("PRAGMA temp_store=FILE")
    conn.execute("PRAGMA threads=2")
    for name, _table, sql in indexes:
        timed(f"index {name}", lambda sql=sql: conn.execute(sql))
    timed("search index: folded index", names.finish)
    for sql in guards.values():
        conn.execute(sql)
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA cache_size=-20000")
    timed("finish (WAL)", lambda: conn.execute("PRAGMA journal_mode=WAL"))
    conn.close()
    for name, c, w in after:
        print(f"{name:<44} {c:7.2f} {w:7.2f}")
    idx = [a for a in after if a[0].startswith("index ")]
    print(f"{'(indexes together)':<44} {sum(a[1] for a in idx):7.2f} {sum(a[2] for a in idx):7.2f}")
    post = sum(a[1] for a in after) - after[0][1]
    print(
        f"\nwriter floor: inserts {total_insert:.1f} + search fold {after[0][1]:.1f} "
        f"+ after the load {post:.1f} = {total_insert + after[0][1] + post:.1f} s CPU "
        f"(after-load wall {sum(a[2] for a in after[1:]):.1f} s); "
        f"load average after: {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
