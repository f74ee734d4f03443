"""A big invoice file: its new customers and their invoices go in by short write
transactions (dunning/db/ledger/bulk.py), the queue rows are refreshed after the commit
in chunks. The ledger ends as the one-transaction import leaves it; a refusal anywhere
still writes nothing; other writers get the lock between chunks; a Ctrl-C completes it."""

from __future__ import annotations

import os
import signal
import sqlite3
from pathlib import Path

import pytest
from test_ledger_support import INVOICE_HEADER, cli, count, dump, load, write_csv

from dunning.db.connection import connect, write_tx
from dunning.db.ledger import bulk, importer, requeue, requeue_ahead
from dunning.db.schema import migrate

ROWS = [
    ["C1", "Acme", "INV-1", "2026-09-01", "2026-10-01", "100.00", "100.00", ""],
    ["C2", "Bolt", "INV-2", "2026-09-02", "2026-10-02", "50.00", "", ""],
    ["C1", "Acme", "INV-3", "2026-09-03", "2026-10-03", "70.00", "0", ""],
    ["C3", "Cube", "INV-4", "2026-09-04", "2026-10-04", "-20.00", "-20.00", ""],
    ["C2", "Bolt", "INV-5", "2026-09-05", "2026-10-05", "10.00", "10.00", "paid"],
    ["C4", "", "INV-6", "2026-09-06", "2026-10-06", "99.99", "12.34", ""],
    ["C1", "Acme", "INV-7", "2026-09-07", "2026-10-07", "5.00", "5.00", "closed"],
]
HEADER = [*INVOICE_HEADER, "status"]


def _db(path: Path) -> sqlite3.Connection:
    c = connect(path)
    migrate(c)
    return c


@pytest.fixture
def chunked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file is 'big', and a chunk is two rows."""
    monkeypatch.setattr(bulk, "MIN_ROWS", 1)
    monkeypatch.setattr(bulk, "CHUNK_ROWS", 2)
    monkeypatch.setattr(requeue, "REFRESH_CHUNK", 2)


def test_chunked_import_leaves_the_ledger_and_queue_as_one_transaction_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    known = write_csv(tmp_path / "known.csv", [HEADER, ROWS[0]])
    path = write_csv(tmp_path / "big.csv", [HEADER, *ROWS])
    got = {}
    for name, min_rows in (("one", 10**9), ("chunked", 1)):
        monkeypatch.setattr(bulk, "MIN_ROWS", min_rows)
        monkeypatch.setattr(bulk, "CHUNK_ROWS", 2)
        monkeypatch.setattr(requeue, "REFRESH_CHUNK", 2 if min_rows == 1 else 2000)
        c = _db(tmp_path / f"{name}.db")
        try:
            load(c, known, "invoices", create_customers=True)  # C1 is known: final tx
            r = load(c, path, "invoices", create_customers=True)
            counts = (r.created, r.updated, r.unchanged, r.customers_created, r.written)
            again = load(c, path, "invoices", create_customers=True)
            assert (again.created, again.updated, again.unchanged) == (0, 0, 7)
            d = dump(c)  # the invoices of known customers come after the chunks: ids differ
            d["invoices"] = sorted(row[1:] for row in d["invoices"])
            got[name] = (counts, d)
            assert count(c, "SELECT COUNT(*) FROM queue") == 4
        finally:
            c.close()
    assert got["chunked"] == got["one"]
    assert got["one"][0] == (6, 0, 1, 3, True)


def test_a_refusal_on_the_last_row_writes_nothing(
    tmp_path: Path, conn: sqlite3.Connection, chunked: None
) -> None:
    before = dump(conn)
    bad = ["C9", "Nine", "INV-9", "2026-09-01", "2026-08-01", "1.00", "1.00", ""]
    r = load(conn, write_csv(tmp_path / "f.csv", [HEADER, *ROWS, bad]), "invoices",
             create_customers=True)  # fmt: skip
    assert (r.refused, r.written) == (1, False)
    assert [w for w, _ in r.seen] == [f"{tmp_path / 'f.csv'}:9"]  # type: ignore[attr-defined]
    assert dump(conn) == before
    assert count(conn, "SELECT COUNT(*) FROM customers") == 0


def test_another_writer_gets_the_lock_between_chunks_and_both_writes_stay(
    tmp_path: Path, db_path: Path, conn: sqlite3.Connection, chunked: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    other = connect(db_path)
    other.execute("PRAGMA busy_timeout=0")  # the lock is free now, or this fails
    written: list[int] = []
    real = bulk.apply_new_customers

    def between() -> None:
        with write_tx(other):  # a collector logging an outcome mid-import
            cid = other.execute("SELECT MIN(id) FROM customers").fetchone()[0]
            other.execute(
                "INSERT INTO activities (customer_id, at, outcome) VALUES (?, ?, 'no_answer')",
                (cid, f"2026-10-01T10:00:0{len(written)}Z"),
            )
        written.append(cid)

    monkeypatch.setattr(
        bulk, "apply_new_customers", lambda *a, **kw: real(*a, **kw, between=between)
    )
    r = load(conn, write_csv(tmp_path / "f.csv", [HEADER, *ROWS]), "invoices",
             create_customers=True)  # fmt: skip
    other.close()
    assert r.written and r.created == 7
    assert len(written) >= 4  # after the customers, then after each chunk of two rows
    assert count(conn, "SELECT COUNT(*) FROM activities") == len(written)
    assert count(conn, "SELECT COUNT(*) FROM invoices") == 7
    assert count(conn, "SELECT COUNT(*) FROM queue") == 4


def test_ctrl_c_during_the_chunks_completes_the_import_and_says_so(
    tmp_path: Path, chunked: None, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    db = tmp_path / "d.db"
    real = bulk.apply_new_customers

    def between() -> None:
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(
        bulk, "apply_new_customers", lambda *a, **kw: real(*a, **kw, between=between)
    )
    path = write_csv(tmp_path / "f.csv", [HEADER, *ROWS])
    assert cli(db, "import", "invoices", str(path), "--create-customers") == 0
    err = capsys.readouterr().err
    assert "written in full" in err
    c = connect(db)
    try:
        assert count(c, "SELECT COUNT(*) FROM invoices") == 7
        # the Ctrl-C also stopped the queue refresh, which says how to finish it
        assert count(c, "SELECT COUNT(*) FROM queue") < 4
    finally:
        c.close()
    assert "`dunning queue refresh` does it" in err
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_failure_after_the_chunks_says_what_was_written_and_a_rerun_completes(
    tmp_path: Path, conn: sqlite3.Connection, chunked: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path / "f.csv", [HEADER, *ROWS])
    real = importer.invoices.merge

    def merge(*a: object, **kw: object) -> object:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(importer.invoices, "merge", merge)
    with pytest.raises(importer.LedgerImportError, match="import the file again to complete"):
        load(conn, path, "invoices", create_customers=True)
    monkeypatch.setattr(importer.invoices, "merge", real)
    r = load(conn, path, "invoices", create_customers=True)
    assert r.written
    assert count(conn, "SELECT COUNT(*) FROM invoices") == 7
    assert count(conn, "SELECT COUNT(*) FROM queue") == 4


def test_queue_rows_are_refreshed_after_the_commit_in_chunks(
    tmp_path: Path, conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(requeue, "REFRESH_CHUNK", 1)
    # the writer reads every chunk itself (no helper: tests/test_import_requeue_ahead.py)
    monkeypatch.setattr(requeue_ahead, "AHEAD_FROM", 10**9)
    calls: list[int] = []
    real = requeue._refresh_chunk

    def refresh(c: sqlite3.Connection, *a: object, **kw: object) -> None:
        assert c.in_transaction  # each in a write transaction of its own...
        calls.append(count(c, "SELECT COUNT(*) FROM invoices"))  # ...after the ledger's
        real(c, *a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(requeue, "_refresh_chunk", refresh)
    r = load(conn, write_csv(tmp_path / "f.csv", [HEADER, *ROWS]), "invoices",
             create_customers=True)  # fmt: skip
    assert r.written and calls == [7, 7, 7, 7]
    assert count(conn, "SELECT COUNT(*) FROM queue") == 4


@pytest.mark.parametrize("preload", [0, 50_000])
def test_known_customers_are_found_looked_up_or_preloaded(
    tmp_path: Path, conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch, preload: int
) -> None:
    from dunning.db.ledger import rows

    monkeypatch.setattr(rows, "PRELOAD_CUSTOMERS", preload)  # 0: one look-up per customer
    load(conn, write_csv(tmp_path / "a.csv", [HEADER, ROWS[0]]), "invoices",
         create_customers=True)  # fmt: skip
    eur = ["C1", "Acme", "INV-8", "2026-09-01", "2026-10-01", "1.00", "1.00", ""]
    r = load(conn, write_csv(tmp_path / "b.csv", [[*HEADER, "currency"], [*eur, "EUR"]]),
             "invoices")  # fmt: skip
    assert r.refused == 1  # C1 is known, in USD: the look-up found it either way
    assert [x.reason for _, x in r.seen] == ["the customer's account is in USD"]  # type: ignore[attr-defined]


def test_a_commit_between_the_comparison_and_the_lock_is_seen(
    tmp_path: Path, db_path: Path, conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path / "f.csv", [HEADER, *ROWS])
    load(conn, path, "invoices", create_customers=True)
    other = connect(db_path)
    real = importer.invoices.resolve
    calls: list[bool] = []

    def resolve(c: sqlite3.Connection, **kw: bool) -> None:
        real(c, **kw)
        calls.append(c.in_transaction)
        if len(calls) == 1:  # made before the lock: someone writes the ledger meanwhile
            with write_tx(other):
                other.execute("UPDATE invoices SET open_minor = 5000 WHERE number = 'INV-1'")

    monkeypatch.setattr(importer.invoices, "resolve", resolve)
    r = load(conn, path, "invoices", create_customers=True)
    other.close()
    assert len(calls) == 2  # made again under the lock
    assert (r.updated, r.unchanged) == (1, 6)
    assert count(conn, "SELECT open_minor FROM invoices WHERE number = 'INV-1'") == 10000


def test_an_unchanged_file_is_compared_once_when_nobody_writes(
    tmp_path: Path, conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path / "f.csv", [HEADER, *ROWS])
    load(conn, path, "invoices", create_customers=True)
    real = importer.invoices.resolve
    calls: list[int] = []
    monkeypatch.setattr(
        importer.invoices, "resolve", lambda c, **kw: calls.append(1) or real(c, **kw)
    )
    before = dump(conn)
    r = load(conn, path, "invoices", create_customers=True)
    assert calls == [1] and (r.created, r.updated, r.unchanged) == (0, 0, 7)
    assert dump(conn) == before


def test_a_customer_created_elsewhere_between_chunks_gets_none_of_the_files_invoices(
    tmp_path: Path, db_path: Path, conn: sqlite3.Connection, chunked: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    other = connect(db_path)
    real = bulk.apply_new_customers
    made: list[int] = []

    def between() -> None:
        if not made:  # after the first chunk of customers: an id in the middle of the file's
            with write_tx(other):
                other.execute(
                    "INSERT INTO customers (external_ref, name, country, currency, created_at, "
                    "updated_at) VALUES ('X1', 'Elsewhere', 'US', 'USD', '', '')"
                )
            made.append(1)

    monkeypatch.setattr(
        bulk, "apply_new_customers", lambda *a, **kw: real(*a, **kw, between=between)
    )
    r = load(conn, write_csv(tmp_path / "f.csv", [HEADER, *ROWS]), "invoices",
             create_customers=True)  # fmt: skip
    other.close()
    assert (r.created, r.customers_created) == (7, 4)
    x1 = count(conn, "SELECT id FROM customers WHERE external_ref = 'X1'")
    assert x1 == 3  # between the file's second and third customers
    assert count(conn, "SELECT COUNT(*) FROM invoices WHERE customer_id = ?", x1) == 0
    assert count(conn, "SELECT COUNT(*) FROM queue") == 5  # X1 too: no queue row yet


def _indexes(c: sqlite3.Connection) -> list[tuple[str, str]]:
    return [
        (r[0], r[1])
        for r in c.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'invoices' "
            "AND sql IS NOT NULL ORDER BY name"
        )
    ]


def test_a_first_load_builds_the_invoices_indexes_after_its_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path / "big.csv", [HEADER, *ROWS])
    monkeypatch.setattr(bulk, "MIN_ROWS", 1)
    monkeypatch.setattr(bulk, "CHUNK_ROWS", 2)
    got = {}
    for name, defer_from, defer_max in (("during", 10**9, 10**9), ("after", 1, 7),
                                         ("too big", 1, 6)):  # fmt: skip
        monkeypatch.setattr(bulk, "DEFER_FROM", defer_from)
        monkeypatch.setattr(bulk, "DEFER_MAX", defer_max)
        c = _db(tmp_path / f"{name}.db")
        try:
            seen: list[str] = []
            c.set_trace_callback(seen.append)
            r = load(c, path, "invoices", create_customers=True)
            c.set_trace_callback(None)
            dropped = [s for s in seen if s.startswith('DROP INDEX "invoices')]
            assert r.written and r.created == 7
            assert bool(dropped) == (name == "after")
            assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            pending = c.execute("SELECT value FROM meta WHERE key = ?", (bulk.DEFERRED_KEY,))
            assert [row[0] for row in pending] == (["[]"] if name == "after" else [])
            got[name] = (dump(c), _indexes(c))
        finally:
            c.close()
    assert got["after"] == got["during"] == got["too big"]
    assert len(got["after"][1]) == 4  # the customer, open, aging and changed-on indexes


def test_a_crash_before_the_indexes_are_built_is_completed_by_the_next_import(
    tmp_path: Path, conn: sqlite3.Connection, chunked: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "DEFER_FROM", 1)
    unique = "CREATE UNIQUE INDEX invoices_test_unique ON invoices(customer_id, number)"
    conn.execute(unique)  # a unique index is never dropped: it checks rows as they go in
    want = _indexes(conn)
    real = bulk.build_deferred

    def crash(c: sqlite3.Connection, now: str) -> int:
        if bulk._pending(c):
            raise sqlite3.OperationalError("disk I/O error")
        return real(c, now)

    monkeypatch.setattr(bulk, "build_deferred", crash)
    path = write_csv(tmp_path / "f.csv", [HEADER, *ROWS])
    with pytest.raises(importer.LedgerImportError, match="import the file again to complete"):
        load(conn, path, "invoices", create_customers=True)
    assert _indexes(conn) == [("invoices_test_unique", unique)]  # the others: dropped,
    assert len(want) == 5
    assert len(bulk._pending(conn)) == 4  # and noted as still to build
    monkeypatch.setattr(bulk, "build_deferred", real)
    other = write_csv(tmp_path / "other.csv", [HEADER, ROWS[0]])
    r = load(conn, other, "invoices", create_customers=True)  # any import builds them first
    assert r.unchanged == 1 and _indexes(conn) == want and bulk._pending(conn) == []
    r = load(conn, path, "invoices", create_customers=True)
    assert r.written and count(conn, "SELECT COUNT(*) FROM invoices") == 7
    assert count(conn, "SELECT COUNT(*) FROM queue") == 4


def test_queue_rows_read_by_id_range_are_those_refresh_accounts_writes(
    tmp_path: Path, conn: sqlite3.Connection, chunked: None
) -> None:
    from dunning.clock import FixedClock
    from dunning.queue.accounts import refresh_accounts
    from dunning.queue.config import Settings

    load(conn, write_csv(tmp_path / "a.csv", [HEADER, ROWS[3]]), "invoices",
         create_customers=True)  # fmt: skip
    cash = ["C5", "Five", "INV-8", "2026-09-01", "2026-10-01", "-5.00", "-5.00", ""]
    r = load(conn, write_csv(tmp_path / "f.csv", [HEADER, *ROWS, cash]), "invoices",
             create_customers=True)  # fmt: skip
    assert r.written and r.customers_created == 4
    queue = "SELECT * FROM queue ORDER BY customer_id"
    ranged = conn.execute(queue).fetchall()
    assert len(ranged) == 5
    with write_tx(conn):
        refresh_accounts(conn, FixedClock(), Settings())
    assert conn.execute(queue).fetchall() == ranged


def test_new_customers_first_lines_after_refusals_are_those_of_one_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 8: each new customer's first line is grouped once by the cross-row checks and
    reused by the chunks, and staged rows meet their new customer by reference. With
    --skip-invalid rows are dropped between the two (a duplicate number, a second
    currency for C6): the customers and invoices are those of one transaction."""
    rows = [
        ["C5", "Five first", "INV-1", "2026-09-01", "2026-10-01", "10.00", "10.00", "EUR"],
        ["C5", "Five first", "INV-1", "2026-09-01", "2026-10-01", "10.00", "10.00", "EUR"],
        ["C6", "Six", "INV-2", "2026-09-02", "2026-10-02", "20.00", "20.00", "CAD"],
        ["C6", "Six", "INV-3", "2026-09-03", "2026-10-03", "30.00", "30.00", "USD"],
        ["C7", "Seven", "INV-4", "2026-09-04", "2026-10-04", "40.00", "", "USD"],
        ["C5", "Five later", "INV-5", "2026-09-05", "2026-10-05", "50.00", "50.00", "EUR"],
    ]
    header = [*INVOICE_HEADER, "currency"]
    path = write_csv(tmp_path / "mixed.csv", [header, *rows])
    got = {}
    for name, min_rows in (("one", 10**9), ("chunked", 1)):
        monkeypatch.setattr(bulk, "MIN_ROWS", min_rows)
        monkeypatch.setattr(bulk, "CHUNK_ROWS", 2)
        c = _db(tmp_path / f"{name}.db")
        try:
            r = load(c, path, "invoices", create_customers=True, skip_invalid=True)
            assert (r.refused, r.created, r.customers_created) == (2, 4, 3)
            reasons = [x.reason for _, x in r.seen]  # type: ignore[attr-defined]
            assert reasons == ["invoice INV-1 is also on line 2", "customer C6 is in CAD (line 4)"]
            customers = c.execute(
                "SELECT external_ref, name, currency FROM customers ORDER BY external_ref"
            ).fetchall()
            assert [tuple(x) for x in customers] == [
                ("C5", "Five first", "EUR"), ("C6", "Six", "CAD"), ("C7", "Seven", "USD"),
            ]  # fmt: skip
            d = dump(c)
            d["invoices"] = sorted(row[1:] for row in d["invoices"])
            got[name] = d
        finally:
            c.close()
    assert got["chunked"] == got["one"]


def test_a_number_written_elsewhere_between_chunks_is_left_to_the_final_merge(
    tmp_path: Path, db_path: Path, conn: sqlite3.Connection, chunked: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Another import writes INV-6 (the file's row for C4, created by the file's first
    chunks) while the file's first invoices go in: the chunk skips that row (INSERT OR
    IGNORE), every number is in the ledger once, and nothing fails."""
    other = connect(db_path)
    real = bulk.apply_new_customers
    calls: list[int] = []

    def between() -> None:
        calls.append(1)
        if len(calls) == 3:  # customers in two chunks, then the first chunk of invoices
            with write_tx(other):  # C4 is the file's, created by the first chunks
                other.execute(
                    "INSERT INTO invoices (customer_id, number, issue_date, due_date, "
                    "amount_minor, open_minor, currency, created_at, updated_at) "
                    "SELECT id, 'INV-6', '2026-09-06', '2026-10-06', 9999, 9999, 'USD', '', '' "
                    "FROM customers WHERE external_ref = 'C4'"
                )

    monkeypatch.setattr(
        bulk, "apply_new_customers", lambda *a, **kw: real(*a, **kw, between=between)
    )
    r = load(conn, write_csv(tmp_path / "f.csv", [HEADER, *ROWS]), "invoices",
             create_customers=True)  # fmt: skip
    other.close()
    assert len(calls) >= 3
    rows = conn.execute(
        "SELECT c.external_ref, i.number, i.open_minor FROM invoices i "
        "JOIN customers c ON c.id = i.customer_id ORDER BY i.number"
    ).fetchall()
    rows = [tuple(r) for r in rows]
    assert [n for _ref, n, _o in rows] == [f"INV-{k}" for k in range(1, 8)]
    # the other writer's row stands (the chunks take a number met for the same customer
    # as their own, as before OR IGNORE); the next import brings it to the file's values
    assert ("C4", "INV-6", 9999) in rows and r.customers_created == 4
    load(conn, write_csv(tmp_path / "f.csv", [HEADER, *ROWS]), "invoices", create_customers=True)
    assert count(conn, "SELECT open_minor FROM invoices WHERE number = 'INV-6'") == 1234
