"""Big demo builds on two cores: half of the copies made by a second process.

The copies of the template (demo/replicate.py) are SQLite's C code in the one writer:
at 1M customers ~58 s on one core while the other is idle (ROUND6_p1.md). A database
file has one writer, but a second process can make rows into a file of its own, and
SQLite moves finished rows from one file to another cheaply: ``INSERT INTO main.t
SELECT * FROM side.t`` between two tables of the same definition is SQLite's transfer
optimization, which copies each record (and each index entry) as it is, without
evaluating a column, in order, appended: ~1.3 us a row against ~3-6 us for the copy
that makes it (docs/ROUND7_p3.md).

So the copies are split by table. The transfer appends into a table that already holds
the template's rows only when the table has an INTEGER PRIMARY KEY and no UNIQUE index
(SQLite cannot check uniqueness while transferring), which is every table of
``SIDE_TABLES``; the tables with a unique reference (customers, invoices, payments,
dispute_invoices) and the search index stay with the main writer. The side process:

1. forked once the template is committed, reads the template's rows of its tables
   (and the customers, for the phones' regions) from the database into TEMP tables of
   the same names and definitions, then lets the main writer go on;
2. makes the same copies, with the same statements (replicate.Replicator: unqualified
   names read the TEMP template, the rows go to ``main.``), into a new file whose
   tables are the database's own definitions with the indexes the build keeps during
   the load;
3. reports its rows and seconds; the main writer, done with its own copies, transfers
   every table (triggers on those tables dropped around it: SQLite refuses the transfer
   into a table with triggers, and the build made no row a trigger would act on),
   and deletes the file.

The rows, their ids and their order are exactly those of the copies made in one
process (tests/test_demo_copies.py).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sqlite3
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

from dunning.demo.replicate import TABLES as COPIED
from dunning.demo.replicate import Replicator, replicate
from dunning.demo.workers import Phase

# the tables whose copies the side process makes (INTEGER PRIMARY KEY, no UNIQUE index)
SIDE_TABLES = (
    "contacts",
    "phones",
    "activities",
    "promises",
    "disputes",
    "payment_reports",
    "assignments",
    "queue",
)
WAIT_S = 3600.0  # a side process that says nothing for this long has died


def copy_template(
    conn: sqlite3.Connection,
    columns: dict[str, tuple[str, ...]],
    phases: list[Phase],
    say: Callable[[str], None],
    counts: dict[str, int],
    template: int,
    customers: int,
    side: Path | None,
    indexes: list[tuple[str, str, str]],
) -> tuple[dict[str, int], dict[str, float]]:
    """The copies of the template: with ``side`` (the database's path), the tables of
    SIDE_TABLES made whole by a second process, their indexes too, and transferred in at
    the end (demo/side.py): their entries leave ``indexes`` (made after the load)."""
    if side is None:
        return replicate(conn, columns, counts, template, customers, say)
    t = time.perf_counter()
    later = [(n, tbl, sql) for n, tbl, sql in indexes if tbl in SIDE_TABLES]
    helper = Side(side, columns, counts, template, customers, [sql for _, _, sql in later])
    try:
        phases.append(Phase("  side: template read (main waits)", time.perf_counter() - t))
        mine = tuple(t for t in COPIED if t not in SIDE_TABLES)
        added, spent = replicate(conn, columns, counts, template, customers, say, mine)
        t = time.perf_counter()
        side_added, side_spent, indexed, moved = helper.finish(conn)
        phases.append(Phase("  side: waited for its copies", time.perf_counter() - t - moved))
        phases.append(Phase("  side: rows transferred in", moved, sum(side_added.values())))
        phases.append(Phase("  side: rows transferred in, CPU s of the writer", helper.cpu))
    except BaseException:
        helper.stop()
        raise
    conn.execute("DROP TABLE temp.demo_pool")  # Replicator.pools': the side drew the phones
    conn.execute("DROP TABLE temp.demo_pool_group")
    for entry in later:
        indexes.remove(entry)
    phases.extend(Phase(f"  index {k} (side process)", v) for k, v in indexed.items())
    added.update(side_added)
    spent.update({f"{k} (side process)": v for k, v in side_spent.items()})
    return added, spent


class Side:
    """The side process, started after the template is committed."""

    def __init__(
        self,
        db: Path,
        columns: dict[str, tuple[str, ...]],
        counts: dict[str, int],
        template: int,
        customers: int,
        later: list[str],
    ) -> None:
        """``later``: the SQL of the side tables' indexes the build made after the load;
        the side makes them after its copies and the transfer carries them in."""
        self.path = Path(f"{db}.side")
        self.later = later
        self.cpu = 0.0
        _remove(self.path)
        ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
        self.recv, send = ctx.Pipe(duplex=False)
        args = (db, self.path, columns, counts, template, customers, later, send)
        self.proc = ctx.Process(target=_side_main, args=args, daemon=True)
        self.proc.start()
        send.close()
        self.read_template = self._expect("ready")[0]

    def _expect(self, kind: str) -> list:
        if not self.recv.poll(WAIT_S):
            raise RuntimeError("the demo's side process stopped answering")
        try:
            got, payload = self.recv.recv()
        except EOFError:
            raise RuntimeError("the demo's side process died") from None
        if got == "error":
            raise RuntimeError(f"the demo's side process failed:\n{payload}")
        assert got == kind, got
        return payload

    def finish(
        self, conn: sqlite3.Connection
    ) -> tuple[dict[str, int], dict[str, float], dict[str, float], float]:
        """Wait for the side's tables and move them into ``conn``'s (emptied first: the
        side's hold the template's rows too); returns rows added and seconds per table,
        seconds per index (the side's), and the transfer's seconds."""
        added, seconds, indexed = self._expect("done")
        self.proc.join(timeout=30)
        t = time.perf_counter()
        cpu = time.process_time()
        marks = ",".join("?" * len(SIDE_TABLES))
        triggers = conn.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({marks})",
            SIDE_TABLES,
        ).fetchall()
        for name, _ in triggers:
            conn.execute(f'DROP TRIGGER "{name}"')
        # the tables as their SQL text says: a table the migrations changed by ALTER TABLE
        # (promises' generated column) is otherwise not "the same" for the transfer
        conn.execute("BEGIN")
        for table in SIDE_TABLES:  # no trigger, no WHERE: SQLite clears the table whole
            conn.execute(f"DELETE FROM main.{table}")
        for sql in self.later:  # on empty tables: nothing to sort, the transfer fills them
            conn.execute(sql)
        conn.execute("COMMIT")
        conn.execute("PRAGMA writable_schema=RESET")
        conn.execute("ATTACH ? AS side", (str(self.path),))
        try:
            moves = [_transfer(conn, table) for table in SIDE_TABLES]
            conn.execute("BEGIN")
            for sql in moves:
                conn.execute(sql)
            conn.execute("COMMIT")
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.execute("DETACH side")
            for _, sql in triggers:
                conn.execute(sql)
        _remove(self.path)
        self.cpu = time.process_time() - cpu
        return added, seconds, indexed, time.perf_counter() - t

    def stop(self) -> None:
        """After a failure: no side process left behind, no side file."""
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(timeout=5)
        self.recv.close()
        _remove(self.path)


def _transfer(conn: sqlite3.Connection, table: str) -> str:
    """The statement that moves the side's rows of ``table`` into main: SQLite's transfer
    when it takes it (its program copies whole records: RowData or RowCell), else the
    stored columns one by one (the same rows, slower; checked before anything is
    written)."""
    sql = f"INSERT INTO main.{table} SELECT * FROM side.{table}"
    try:
        if any(r[1] in ("RowData", "RowCell") for r in conn.execute(f"EXPLAIN {sql}")):
            return sql
    except sqlite3.OperationalError:  # not taken, and a generated column in the way
        pass
    stored = ", ".join(r[1] for r in conn.execute(f"PRAGMA main.table_xinfo({table})") if r[6] == 0)
    return f"INSERT INTO main.{table} ({stored}) SELECT {stored} FROM side.{table} ORDER BY rowid"


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _side_main(
    db: Path,
    path: Path,
    columns: dict[str, tuple[str, ...]],
    counts: dict[str, int],
    template: int,
    customers: int,
    later: list[str],
    send: Connection,
) -> None:
    try:
        t = time.perf_counter()
        conn = sqlite3.connect(path, isolation_level=None)
        for pragma in (
            "journal_mode=OFF",
            "synchronous=OFF",
            "foreign_keys=OFF",
            "temp_store=MEMORY",
            "cache_size=-20000",
        ):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("ATTACH ? AS tpl", (f"file:{db}?mode=ro",))
        reads = (*SIDE_TABLES, "customers")
        marks = ",".join("?" * len(reads))
        ddl = dict(
            conn.execute(
                f"SELECT name, sql FROM tpl.sqlite_master WHERE type = 'table' "
                f"AND name IN ({marks})",
                reads,
            ).fetchall()
        )
        indexes = [
            r[0]
            for r in conn.execute(
                f"SELECT sql FROM tpl.sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({marks}) AND tbl_name != 'customers'",
                reads,
            )
        ]
        for table in reads:
            sql = ddl[table]
            assert sql.startswith("CREATE TABLE "), sql
            conn.execute("CREATE TEMP TABLE " + sql[len("CREATE TABLE ") :])
            key = "customer_id" if table == "queue" else "id"
            top = template if table in ("customers", "queue") else counts[table]
            stored = ", ".join(  # a generated column is not given (promises.decide_after)
                r[1] for r in conn.execute(f"PRAGMA tpl.table_xinfo({table})") if r[6] == 0
            )
            conn.execute(
                f"INSERT INTO temp.{table} ({stored}) SELECT {stored} FROM tpl.{table} "
                f"WHERE {key} <= ?",
                (top,),
            )
        conn.execute("DETACH tpl")
        send.send(("ready", [time.perf_counter() - t]))
        for table in SIDE_TABLES:  # the template's rows first: ids 1.. in order
            conn.execute(ddl[table])
            stored = ", ".join(
                r[1] for r in conn.execute(f"PRAGMA main.table_xinfo({table})") if r[6] == 0
            )
            conn.execute(f"INSERT INTO main.{table} ({stored}) SELECT {stored} FROM temp.{table}")
        Replicator.pools(conn)
        quiet: Callable[[str], None] = lambda _msg: None  # noqa: E731
        added, seconds = replicate(
            conn, columns, counts, template, customers, quiet, SIDE_TABLES, "main.", False
        )
        # every index after the rows, as the build does (a small cache and temp files sort
        # fastest; one sorter thread: the other core is the main writer's)
        conn.execute("PRAGMA cache_size=-2000")
        conn.execute("PRAGMA temp_store=FILE")
        indexed: dict[str, float] = {}
        for sql in (*indexes, *later):
            t = time.perf_counter()
            conn.execute(sql)
            indexed[sql.split()[2]] = time.perf_counter() - t
        conn.close()
        send.send(("done", [added, seconds, indexed]))
    except BaseException:
        send.send(("error", traceback.format_exc()))
    finally:
        send.close()
        os._exit(0)
