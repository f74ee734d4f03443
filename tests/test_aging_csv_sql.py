"""Today's aging CSV with its plain rows' lines made by SQLite (dunning/db/aging_csv.py,
m035_aging_csv): the same bytes as the slow reference and as the Python path (main's:
DUNNING_AGING_SQL_CSV=0), through the CLI, in one process (a small ledger, or the second
process refused) and two, with hostile names (quotes, commas, formula starts, controls, a
NUL, line breaks, accents, wide and combining characters), hostile collector names, four
currencies (0, 2 and 3 digits), amounts between -1 and 0, beyond 2**53, a dirty customer
and a renamed one; SQLite writes the plain rows (Python never sees them); the flag is kept
by the snapshot's build, its advance and m035_aging_csv."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from test_aging_lines import _dirty, _hostile
from test_aging_reference import TODAY, build, reference_csv, reference_rows, run
from test_aging_widths import _ids, _invoice

from dunning.clock import FixedClock
from dunning.db import aging_order, aging_out, aging_snapshot, aging_split, csvsafe
from dunning.db.connection import write_tx
from dunning.db.schema import MIGRATIONS_TABLE, migrate
from dunning.i18n import set_language

WIDE = "山田商事株式会社東京"  # 10 characters, 30 bytes
COMBINING = "Rene\u0301e Gagne\u0301"


def _python_rows(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the rows this process writes by Python (aging_out._csv_batch)."""
    rows: list[int] = []
    real = aging_out._csv_batch

    def counted(batch: Any, *args: Any) -> str:
        rows.append(len(batch))
        return str(real(batch, *args))

    monkeypatch.setattr(aging_out, "_csv_batch", counted)
    return rows


def _ledger(conn: sqlite3.Connection) -> None:
    build(conn, 21, customers=70)
    _hostile(conn)
    ids = _ids(conn)
    with write_tx(conn):
        up = "UPDATE customers SET name = ? WHERE id = ?"
        names = [WIDE, COMBINING, 'O\'Brien "Ltd"', "+1 plus", "x\ty", "é" * 40, "a,b",
                 "CR\rLF\n", "Zoë \u202e", "-5"]  # fmt: skip
        for n, name in enumerate(names):
            conn.execute(up, (name, ids[20 + n]))
        conn.execute("UPDATE customers SET external_ref = 'R,1' WHERE id = ?", (ids[30],))
        cid = conn.execute(
            "INSERT INTO collectors (username, display_name, created_at) VALUES (?,?,?)",
            ("Zoë\x1b[2J", "Zoë", "2026-11-23T15:00:00Z"),
        ).lastrowid
        conn.execute("UPDATE queue SET collector_id = ? WHERE customer_id = ?", (cid, ids[31]))
        _invoice(conn, ids[32], 1_234_567, "JPY")  # 0 digits
        _invoice(conn, ids[33], 5_000, "KWD")  # 3 digits
        _invoice(conn, ids[34], -50, "USD")  # -0.50: the "-0" of %d
        _invoice(conn, ids[35], -7, "EUR")  # -0.07
        _invoice(conn, ids[36], -999, "KWD")  # -0.999
        # USD and KWD below 10**14 (their lines by SQLite), EUR's huge amounts kept (Python)
        conn.execute(
            "UPDATE invoices SET open_minor = open_minor / 1000 WHERE "
            "abs(open_minor) >= 10000000000000 AND currency IN ('USD', 'KWD')"
        )
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"


def _csv(db: Path, clock: FixedClock, out: Path) -> bytes:
    run(db, clock, "--format", "csv", "-o", str(out))
    return out.read_bytes()


@pytest.mark.parametrize("how", ["one", "no-worker", "split"])
@pytest.mark.parametrize("dirty", [False, True])
def test_sql_lines_equal_the_reference_and_the_python_path(
    conn: sqlite3.Connection,
    db_path: Path,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
    dirty: bool,
) -> None:
    _ledger(conn)
    flags = dict(conn.execute("SELECT csv_plain, COUNT(*) FROM aging_order GROUP BY 1"))
    assert flags[0] >= 10 and flags[1] >= 20  # hostile rows not plain, the others plain
    if dirty:
        _dirty(conn)  # new invoices (EUR, JPY, beyond 2**53), a rename
        with write_tx(conn):  # a dirty customer renamed to a formula start
            conn.execute("UPDATE customers SET name = '=1+2' WHERE id = ?", (_ids(conn)[40],))
    split = how == "split"  # else every row is seen by this process
    if how != "one":  # one: a small ledger, one process (aging_csv.write_all)
        monkeypatch.setattr(aging_split, "MIN_CUSTOMERS", 0)
    if how == "no-worker":  # no second process: this one writes both halves
        monkeypatch.setattr(aging_split, "_start", lambda fd: None)
    total = conn.execute("SELECT COUNT(*) FROM aging_order").fetchone()[0]
    want = reference_csv(reference_rows(conn, TODAY, "customer"), "customer")
    for lang in ("en", "fr", "es"):
        set_language(lang)
        try:
            python = _python_rows(monkeypatch)
            got = _csv(db_path, clock, tmp_path / f"sql-{lang}.csv")
            assert got == want
            if not split:
                # SQLite wrote the plain rows (but those of a hostile collector, -0.xx)
                # SQLite wrote the plain rows but those of EUR (amounts of 10**13 and more),
                # of a hostile collector or with an amount between -1 and 0
                assert sum(python) > 0 and total - sum(python) >= 8
            monkeypatch.setenv("DUNNING_AGING_SQL_CSV", "0")
            python.clear()
            assert _csv(db_path, clock, tmp_path / f"py-{lang}.csv") == got
            if not split:
                assert sum(python) >= total  # every row by Python: main's path
            monkeypatch.delenv("DUNNING_AGING_SQL_CSV")
        finally:
            set_language("en")


def test_a_shifted_date_and_no_kept_widths_are_the_python_path(
    conn: sqlite3.Connection,
    db_path: Path,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _ledger(conn)
    monkeypatch.setattr(aging_split, "MIN_CUSTOMERS", 0)
    monkeypatch.setattr(aging_split, "_start", lambda fd: None)
    total = conn.execute("SELECT COUNT(*) FROM aging_order").fetchone()[0]
    python = _python_rows(monkeypatch)
    monkeypatch.setenv("DUNNING_AGING_WIDTHS", "0")  # no kept widths: Python's lines
    want = reference_csv(reference_rows(conn, TODAY, "customer"), "customer")
    assert _csv(db_path, clock, tmp_path / "a.csv") == want
    assert sum(python) >= total
    monkeypatch.delenv("DUNNING_AGING_WIDTHS")
    python.clear()
    clock.advance(days=3)  # the snapshot's rows shifted: Python's lines
    want = reference_csv(reference_rows(conn, TODAY + timedelta(days=3), "customer"), "customer")
    assert _csv(db_path, clock, tmp_path / "b.csv") == want
    assert sum(python) >= total


def test_the_flag_is_kept_by_the_build_the_advance_and_the_migration(
    conn: sqlite3.Connection,
) -> None:
    build(conn, 33, customers=40)
    ids = _ids(conn)
    with write_tx(conn):
        conn.execute("UPDATE customers SET name = 'a,b' WHERE id = ?", (ids[0],))
        conn.execute("UPDATE customers SET name = 'Clean' WHERE id = ?", (ids[1],))
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"

    def flags() -> dict[int, int]:
        rows = conn.execute("SELECT customer_id, csv_plain, external_ref, name FROM aging_order")
        out = {}
        for cid, flag, ref, name in rows:
            assert flag == aging_order.csv_plain(ref, name)
            out[cid] = flag
        return out

    assert flags()[ids[0]] == 0 and flags()[ids[1]] == 1
    with write_tx(conn):  # renamed: made again by the next advance, its flag with it
        conn.execute("UPDATE customers SET name = '@x' WHERE id = ?", (ids[1],))
        conn.execute("UPDATE customers SET name = 'Gagné' WHERE id = ?", (ids[0],))
    assert aging_snapshot.advance(conn, TODAY + timedelta(days=1), min_invoices=0) == "advanced"
    assert flags()[ids[0]] == 1 and flags()[ids[1]] == 0
    # m035_aging_csv on a database whose table was filled before it: every row's flag
    with write_tx(conn):
        conn.execute(f"DELETE FROM {MIGRATIONS_TABLE} WHERE name = 'm035_aging_csv'")
        conn.execute("ALTER TABLE aging_order DROP COLUMN csv_plain")
    assert migrate(conn) == ["m035_aging_csv"]
    assert set(flags().values()) == {0, 1}


@pytest.mark.parametrize(
    "cell",
    ["ok", "Gagné", WIDE, COMBINING, "a,b", 'say "hi"', "=1", "+1", "-1", "@x", "\tx", "\rx",
     "a\nb", "a\x00b", "esc\x1b[2J", "bidi\u202e", " lead", "", "x" * 40, "1,5"],
)  # fmt: skip
def test_the_flag_is_what_the_fast_csv_line_writes_as_it_is(cell: str) -> None:
    """csv_plain: 1 exactly when aging_out's fast line writes both cells as they are
    (_special finds nothing) and they are printable (no NUL, no line break)."""
    assert aging_order._TRIGGERS == csvsafe.TRIGGERS
    for ref, name in ((cell, "Name"), ("R1", cell)):
        plain = not aging_out._special((ref, name)) and (ref + name).isprintable()
        assert aging_order.csv_plain(ref, name) == int(plain)
