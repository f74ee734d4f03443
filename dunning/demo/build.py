"""Build a realistic, deterministic demo portfolio into a new database file.

``build_demo(path, customers=500, seed=0, clock=None)`` writes a team of five
collectors and ``customers`` accounts in the US, Canada, Mexico, France, Spain and the
UK: contacts and valid phone numbers, invoices in every aging bucket, credit notes,
payments and unapplied cash, 90 days of call history with promises (kept, broken,
pending, plans), disputes and payment reports, and a queue row for every account.

Same seed and clock, same rows (byte for byte). The clock defaults to ``FixedClock()``;
the CLI passes ``SystemClock()`` so the aging looks current.

How it stays fast (1M customers, 5M invoices; bench/bench_build.py): one generator
(demo_gen) walks the customers in order. For big builds it runs in a second process and
a third scores the queue rows (``derive_state`` and ``priority.score``, exactly what
``refresh_accounts`` would write); both ship marshalled chunks through pipes, so
generating, scoring and inserting share the cores. Rows travel flat and go in 50 to an
INSERT. The file is loaded with ``journal_mode=OFF``, ``synchronous=OFF`` and CHECK
constraints off (the generator only makes valid rows; the tests run integrity_check);
the migration's indexes that the rows would not reach in key order are dropped and
recreated from their own SQL afterwards, and the database ends in WAL mode like every
other dunning database. The search index (names folded, FTS5) is made batch by batch while
the rows go in, in the time the writer waits for the generator (``_Names``). Small builds
check every phone number with phonenumbers and let
``refresh_accounts`` derive the queue; big ones draw numbers from pools checked once.

Builds of more than TEMPLATE customers make the first TEMPLATE accounts that way and the
rest in SQLite's C code, as copies of those accounts with their own ids, references and
phone numbers (demo/replicate.py): the generator's ~100 us of Python a customer, the
marshalling and the binding of every row are gone for 95% of a 1M build (its CPU went
from ~250 s to ~130 s). The copies of the tables with no unique index (contacts, phones,
activities, promises, disputes, payment reports, assignments, queue) are made whole, with
their indexes, by a second process into a file of its own while this one copies the rest,
and moved in by SQLite's transfer (demo/side.py): the two cores share the copies. The
build ends checkpointed and synced to disk, ready to serve.
"""

from __future__ import annotations

import gc
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from dunning.clock import Clock, FixedClock, to_iso
from dunning.db import append_only, phone_places, search_index
from dunning.db.connection import connect, write_tx
from dunning.db.schema import migrate
from dunning.demo import data as demo_data
from dunning.demo.gen import COLUMNS, QUEUE_SEED, GenConfig, Row
from dunning.demo.replicate import Replicator
from dunning.demo.side import copy_template
from dunning.demo.workers import Phase, from_processes, in_process
from dunning.queue import refresh_scope
from dunning.queue.accounts import refresh_accounts
from dunning.queue.config import Settings

LARGE = 20_000  # from here on: generator process, phone pools, queue rows computed directly
CHUNK = 10_000  # customers per batch shipped from the generator
# big builds: the generator makes this many accounts, SQLite copies them for the rest
# (demo/replicate.py); 0 turns the copies off
TEMPLATE = 50_000
LOADED = tuple(COLUMNS)
KEEP_ORDERED = True  # keep indexes led by customer_id/invoice_id during the load
# multi-row INSERTs: a quarter faster than one row a statement; 17 columns x 50 stays
# under SQLite's historic limit of 999 parameters
ROWS_PER_STATEMENT = 50
STATES = ("ready", "waiting", "hold", "disputed", "no_phone", "review", "closed")


def build_demo(
    path: str | Path,
    *,
    customers: int = 500,
    seed: int = 0,
    clock: Clock | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Build the demo portfolio into ``path`` (new, or a database with no customers).

    Returns row counts per table plus ``queue_<state>`` counts. Raises ValueError
    naming the path when it already holds customers or is not a database.
    """
    summary, _ = build_demo_report(
        path, customers=customers, seed=seed, clock=clock, progress=progress
    )
    return summary


def build_demo_report(
    path: str | Path,
    *,
    customers: int = 500,
    seed: int = 0,
    clock: Clock | None = None,
    progress: Callable[[str], None] | None = None,
    worker: bool | None = None,
    phone_pool: bool | None = None,
    direct_queue: bool | None = None,
    template: int | None = None,
    side: bool = True,
) -> tuple[dict[str, int], list[Phase]]:
    """``build_demo`` plus the time each phase took (for bench/bench_build.py).

    ``worker``, ``phone_pool`` and ``direct_queue`` default to ``customers >= LARGE``;
    the tests set them to check that every way gives the same rows. ``template``: the
    accounts the generator makes when more are asked for (the rest are copies made by
    SQLite, demo/replicate.py); defaults to TEMPLATE for big builds, none for small ones
    (it needs the phone pools and the queue rows scored directly). ``side``: the copies
    of some tables made by a second process (demo/side.py); False: all in this one.
    """
    if customers < 1:
        raise ValueError(f"customers must be at least 1, not {customers}")
    path = Path(path)
    large = customers >= LARGE
    clock = clock or FixedClock()
    say = progress or (lambda _msg: None)
    existed = path.exists()
    _refuse_if_used(path)
    phases: list[Phase] = []
    started = time.perf_counter()
    conn = connect(path)
    try:
        summary = _build(
            conn,
            phases,
            say,
            customers=customers,
            seed=seed,
            clock=clock,
            worker=large if worker is None else worker,
            phone_pool=large if phone_pool is None else phone_pool,
            direct_queue=large if direct_queue is None else direct_queue,
            template=(TEMPLATE if large else 0) if template is None else template,
            side=path if side else None,
        )
    except BaseException:
        conn.close()
        if not existed:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        raise
    # the mark that lets `dunning demo --force` replace this file, and nothing else
    conn.execute("CREATE TABLE IF NOT EXISTS demo_portfolio (customers, seed, built_at)")
    conn.execute(
        "INSERT INTO demo_portfolio VALUES (?, ?, ?)", (customers, seed, to_iso(clock.now()))
    )
    # ready to serve: the WAL emptied into the file and the file on disk, so the first
    # reader after a build neither replays a WAL nor shares the disk with the kernel
    # writing the build's pages back (a search 4 s after a 1M build ran 2-3x slower)
    t = time.perf_counter()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    conn.close()
    if large:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    phases.append(Phase("checkpoint, file synced to disk", time.perf_counter() - t))
    phases.append(Phase("total", time.perf_counter() - started, sum(summary[t] for t in LOADED)))
    say(f"done: {customers} customers in {phases[-1].seconds:.1f} s")
    return summary, phases


def _refuse_if_used(path: Path) -> None:
    if not path.exists() or path.stat().st_size == 0:
        return
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            has = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'customers'"
            ).fetchone()
            count = conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0] if has else 0
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"{path}: not a dunning database ({exc})") from exc
    if count:
        raise ValueError(f"{path} already holds {count} customers; build the demo into a new file")


def _build(
    conn: sqlite3.Connection,
    phases: list[Phase],
    say: Callable[[str], None],
    *,
    customers: int,
    seed: int,
    clock: Clock,
    worker: bool,
    phone_pool: bool,
    direct_queue: bool,
    template: int,
    side: Path | None,
) -> dict[str, int]:
    t0 = time.perf_counter()
    copies = 0 < template < customers
    if copies and not (phone_pool and direct_queue):
        raise ValueError("copies of a template need the phone pools and direct queue rows")
    made = template if copies else customers
    say("schema")
    migrate(conn)
    for pragma in (
        "foreign_keys=OFF",
        "journal_mode=OFF",
        "synchronous=OFF",
        "ignore_check_constraints=ON",
    ):
        conn.execute(f"PRAGMA {pragma}")
    ids = _collectors(conn, clock)
    indexes = _drop_indexes(conn, KEEP_ORDERED)
    # a new database has no history to replace: the append-only INSERT guards (a lookup
    # per row) come back with the indexes; UPDATE and DELETE stay refused throughout
    guards = {n: sql for n, sql in append_only.guards().items() if n.endswith("_no_replace")}
    for name in guards:
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    cfg = GenConfig(
        customers=made,
        seed=seed,
        now=clock.now(),
        collector_ids=ids,
        phone_pool=phone_pool,
        direct_queue=direct_queue,
        chunk=CHUNK,
    )
    phases.append(Phase("setup (schema, team, drop indexes)", time.perf_counter() - t0))

    places: tuple[threading.Thread, dict[str, str]] = (threading.Thread(), {})
    template_phones = 0
    places[0].start()
    loader = _Loader(conn)
    names = _Names(conn)
    if copies:
        t = time.perf_counter()
        Replicator.pools(conn)
        phases.append(Phase("phone pools for the copies (writer)", time.perf_counter() - t))
    source = from_processes(cfg, phases) if worker else in_process(cfg, phases)
    gc_was_on = gc.isenabled()
    gc.disable()  # millions of short-lived tuples, no cycles: collections only cost time
    try:
        conn.execute("BEGIN")
        for kind, tables in source:
            loader.load(tables)
            names.fold(loader.counts["customers"])
            if kind == "chunk":  # a chunk of customers is complete: commit, report
                conn.execute("COMMIT")
                conn.execute("BEGIN")
                say(f"customers {loader.counts['customers']}/{customers}")
        conn.execute("COMMIT")
        if copies:
            # the numbers' places (m028_places) made on the other core while SQLite copies
            places = phone_places.make_in_thread(
                [r[0] for r in conn.execute("SELECT e164 FROM temp.demo_pool")]
            )
            template_phones = loader.counts["phones"]
            t = time.perf_counter()
            added, spent = copy_template(
                conn, COLUMNS, phases, say, loader.counts, template, customers, side, indexes
            )
            phases.append(
                Phase(
                    f"copies of the first {template} accounts (SQL)",
                    time.perf_counter() - t,
                    sum(added.values()),
                )
            )
            phases.extend(Phase(f"  copy {k}", v, added.get(k, 0)) for k, v in spent.items())
            for table, n in added.items():
                loader.counts[table] += n
            names.done = customers
    finally:
        if gc_was_on:
            gc.enable()
        for sql in guards.values():
            conn.execute(sql)
    for table in LOADED:
        if loader.counts[table]:
            phases.append(Phase(f"load {table}", loader.seconds[table], loader.counts[table]))
    phases.append(Phase("load: search index (names folded, FTS)", names.seconds, names.done))
    phases.append(Phase("load: waiting for rows", loader.waiting))

    # Sorting for CREATE INDEX is fastest with a small cache and temp files (page-cache
    # backed): measured 2.5 s against 4-6 s with a 256 MB cache or temp_store=MEMORY.
    conn.execute("PRAGMA cache_size=-2000")
    conn.execute("PRAGMA temp_store=FILE")
    conn.execute("PRAGMA threads=2")
    say("indexes")
    for name, table, index_sql in indexes:
        t = time.perf_counter()
        conn.execute(index_sql)
        phases.append(Phase(f"index {name}", time.perf_counter() - t, loader.counts[table]))
    t = time.perf_counter()
    names.finish()
    phases.append(Phase("search index (its folded index)", time.perf_counter() - t, names.done))
    t = time.perf_counter()
    places[0].join()
    conn.execute("BEGIN")
    made = phone_places.fill_missing(conn, places[1], template_phones if copies else None)
    conn.execute("COMMIT")
    phases.append(Phase("phone places (m028_places, per number)", time.perf_counter() - t, made))
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("PRAGMA cache_size=-20000")

    counts = loader.counts
    if not direct_queue:
        say("queue")
        t = time.perf_counter()
        _queue_by_refresh(conn, clock, loader.seeds)
        phases.append(Phase("queue (refresh_accounts)", time.perf_counter() - t, customers))
        counts["queue"] = len(loader.seeds)

    say("finish")
    t = time.perf_counter()
    for pragma in ("ignore_check_constraints=OFF", "foreign_keys=ON", "synchronous=FULL"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute("PRAGMA journal_mode=WAL")
    # every queue row was written as that day's refresh would: the night after a build
    # reads only what changed since (queue/refresh_scope.py), not the whole book
    refresh_scope.record(conn, Settings())
    summary = dict(counts)
    summary["collectors"] = len(ids)
    for state in STATES:
        summary[f"queue_{state}"] = 0
    for state, count in conn.execute("SELECT state, COUNT(*) FROM queue GROUP BY state"):
        summary[f"queue_{state}"] = count
    phases.append(Phase("finish (WAL, summary)", time.perf_counter() - t))
    return summary


class _Loader:
    """Inserts batches of rows, ROWS_PER_STATEMENT to a statement."""

    PER_STATEMENT = ROWS_PER_STATEMENT

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.counts = dict.fromkeys(LOADED, 0)
        self.seconds = dict.fromkeys(LOADED, 0.0)
        self.waiting = 0.0
        self.seeds: list[Row] = []
        self._since = time.perf_counter()
        self._one: dict[str, str] = {}
        self._many: dict[str, str] = {}
        for table, cols in COLUMNS.items():
            values = f"({', '.join('?' * len(cols))})"
            head = f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
            self._one[table] = head + values
            self._many[table] = head + ", ".join([values] * self.PER_STATEMENT)

    def load(self, tables: list[tuple[str, list[object]]]) -> None:
        """Insert each table's rows, given flat (row after row, column by column)."""
        self.waiting += time.perf_counter() - self._since
        for table, values in tables:
            if table == "queue_seed":  # rows, kept for the slow path's refresh
                self.seeds.extend(values)  # type: ignore[arg-type]
                continue
            t = time.perf_counter()
            self._insert(table, values)
            self.seconds[table] += time.perf_counter() - t
            self.counts[table] += len(values) // len(COLUMNS[table])
        self._since = time.perf_counter()

    def _insert(self, table: str, values: list[object]) -> None:
        width = len(COLUMNS[table])
        step = width * self.PER_STATEMENT
        full = len(values) // step * step
        if full:
            self.conn.executemany(
                self._many[table], [values[i : i + step] for i in range(0, full, step)]
            )
        if full < len(values):
            self.conn.executemany(
                self._one[table], [values[i : i + width] for i in range(full, len(values), width)]
            )


class _Names:
    """The search index (db/search_index.py) made while the rows go in: after each batch,
    the new customers' names folded into ``search_names`` and FTS5 by SQL over the rows
    just inserted, as ``search_index.rebuild`` does for a whole table at the end. Done
    here, it uses the writer's time waiting for the generator (at 1M it was ~7 s of CPU
    after the load, on the build's critical path); the folded index is built after."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.done = 0
        self.seconds = 0.0
        conn.create_function("dunning_index_text", 1, search_index.index_text, deterministic=True)
        conn.execute("DELETE FROM search_stale")
        conn.execute("DROP INDEX IF EXISTS search_names_folded")
        # no incremental merging while the whole index is written (see rebuild)
        conn.execute(
            "INSERT INTO search_names_fts (search_names_fts, rank) VALUES ('automerge', 0)"
        )

    def fold(self, upto: int) -> None:
        """Index the customers above the last one indexed, up to id ``upto``."""
        if upto <= self.done:
            return
        t = time.perf_counter()
        span = (self.done, upto)
        self.conn.execute(
            "INSERT INTO search_names (customer_id, folded) SELECT id, "
            "dunning_index_text(name) FROM customers WHERE id > ? AND id <= ? ORDER BY id",
            span,
        )
        self.conn.execute(
            "INSERT INTO search_names_fts (rowid, folded) SELECT customer_id, folded "
            "FROM search_names WHERE customer_id > ? AND customer_id <= ?",
            span,
        )
        self.done = upto
        self.seconds += time.perf_counter() - t

    def finish(self) -> None:
        self.conn.execute(search_index.FOLDED_INDEX)
        self.conn.execute(
            "INSERT INTO search_names_fts (search_names_fts, rank) VALUES ('automerge', 4)"
        )


def _collectors(conn: sqlite3.Connection, clock: Clock) -> dict[str, int]:
    """The demo team; collectors already present (by username) are kept as they are."""
    created = to_iso(clock.now())
    with write_tx(conn):
        for username, name, role, languages, locale in demo_data.COLLECTORS:
            conn.execute(
                """INSERT INTO collectors (username, display_name, role, languages, locale,
                       tz, created_at) VALUES (?,?,?,?,?,?,?)
                   ON CONFLICT(username) DO NOTHING""",
                (
                    username,
                    name,
                    role,
                    languages,
                    locale,
                    demo_data.COLLECTOR_TZ.get(username),
                    created,
                ),
            )
    wanted = [c[0] for c in demo_data.COLLECTORS]
    rows = conn.execute(
        f"SELECT username, id FROM collectors WHERE username IN ({','.join('?' * len(wanted))})",
        wanted,
    )
    return {r[0]: r[1] for r in rows}


def _drop_indexes(conn: sqlite3.Connection, keep_ordered: bool) -> list[tuple[str, str, str]]:
    """Drop the loaded tables' own indexes; returns (name, table, sql) to recreate them.

    Only indexes with SQL (not the automatic ones behind UNIQUE and PRIMARY KEY, which
    the rows reach in key order anyway). With ``keep_ordered``, indexes that lead with
    customer_id or invoice_id stay: rows arrive in that order, so they only append."""
    marks = ",".join("?" * len(LOADED))
    rows = conn.execute(
        f"""SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index'
            AND sql IS NOT NULL AND tbl_name IN ({marks}) ORDER BY tbl_name, name""",
        LOADED,
    ).fetchall()
    dropped = []
    for name, table, sql in rows:
        first = conn.execute(f'PRAGMA index_info("{name}")').fetchone()
        if keep_ordered and first is not None and first[2] in ("customer_id", "invoice_id"):
            continue
        conn.execute(f'DROP INDEX "{name}"')
        dropped.append((name, table, sql))
    return dropped


def _queue_by_refresh(conn: sqlite3.Connection, clock: Clock, seeds: list[Row]) -> None:
    """The queue the way the app keeps it: refresh, set what history implies, refresh."""
    settings = Settings()
    cols = [c for c in QUEUE_SEED if c != "customer_id"]
    update = f"UPDATE queue SET {', '.join(f'{c} = ?' for c in cols)} WHERE customer_id = ?"
    with write_tx(conn):
        refresh_accounts(conn, clock, settings, None)
        conn.executemany(update, [(*s[1:], s[0]) for s in seeds])
        refresh_accounts(conn, clock, settings, None)
