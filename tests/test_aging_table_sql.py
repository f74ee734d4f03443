"""Today's aligned table with its plain rows' lines made by SQLite (dunning/db/aging_lines.py,
m026_aging_plain): the same bytes as the slow reference and as the Python path
(DUNNING_AGING_SQL_TABLE=0) in en, fr and es, in one process and two, with hostile names
(controls, wide and combining characters, formula starts, quotes, a NUL), hostile
collector names, three currencies (2 and 0 digits), amounts between -1 and 0, a dirty
customer, a renamed one; SQLite writes the plain rows (Python never sees them), and the
flag is kept by the snapshot's build, its advance and m026_aging_plain."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from test_aging_lines import _dirty, _hostile
from test_aging_reference import TODAY, build, reference_rows, reference_table
from test_aging_widths import _ids, _invoice

from dunning.db import aging_lines, aging_order, aging_out, aging_snapshot, aging_split, reports
from dunning.db.connection import write_tx
from dunning.db.schema import MIGRATIONS_TABLE, migrate
from dunning.i18n import set_language

WIDE = "山田商事株式会社東京"  # 10 characters, 30 bytes
COMBINING = "Rene\u0301e Gagne\u0301"  # combining accents: code points, not glyphs


def _python_rows(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the rows written by Python's path (aging_out.batch_lines)."""
    rows: list[int] = []
    real = aging_out.batch_lines

    def batch_lines(shape: Any, names: Any) -> Any:
        make = real(shape, names)

        def counted(batch: Any) -> Any:
            rows.append(len(batch))
            return make(batch)

        return counted

    monkeypatch.setattr(aging_out, "batch_lines", batch_lines)
    return rows


def _ledger(conn: sqlite3.Connection) -> None:
    build(conn, 21, customers=70)
    _hostile(conn)
    ids = _ids(conn)
    with write_tx(conn):
        up = "UPDATE customers SET name = ? WHERE id = ?"
        for n, name in enumerate([WIDE, COMBINING, 'O\'Brien "Ltd"', "+1 plus", "x\ty", "é" * 40]):
            conn.execute(up, (name, ids[20 + n]))
        cid = conn.execute(
            "INSERT INTO collectors (username, display_name, created_at) VALUES (?,?,?)",
            ("Zoë\x1b[2J", "Zoë", "2026-11-23T15:00:00Z"),
        ).lastrowid
        conn.execute("UPDATE queue SET collector_id = ? WHERE customer_id = ?", (cid, ids[29]))
        _invoice(conn, ids[30], 1_234_567, "JPY")  # 0 digits
        _invoice(conn, ids[31], 5_000, "EUR")
        _invoice(conn, ids[32], -50, "USD")  # -0.50: the "-0" SQLite's %,d cannot write
        _invoice(conn, ids[33], -7, "EUR")
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"


def _write(conn: sqlite3.Connection, out: Path) -> int:
    return aging_out.write_aging(conn, TODAY, "table", out, today=TODAY, title=f"T {TODAY}")


@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("dirty", [False, True])
def test_sql_lines_equal_the_reference_and_the_python_path(
    conn: sqlite3.Connection,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    split: bool,
    dirty: bool,
) -> None:
    _ledger(conn)
    assert conn.execute("SELECT COUNT(*) FROM aging_order WHERE NOT plain").fetchone()[0] >= 8
    if dirty:
        _dirty(conn)
        with write_tx(conn):  # a dirty customer renamed to a formula start
            conn.execute("UPDATE customers SET name = '=1+2' WHERE id = ?", (_ids(conn)[40],))
    if split:
        monkeypatch.setattr(aging_split, "MIN_CUSTOMERS", 0)
    total = conn.execute("SELECT COUNT(*) FROM aging_order").fetchone()[0]
    want = reference_table(reference_rows(conn, TODAY, "customer"), "customer", f"T {TODAY}")
    for lang in ("en", "fr", "es"):
        set_language(lang)
        try:
            python = _python_rows(monkeypatch)
            _write(conn, tmp_path / f"sql-{lang}.txt")
            assert (tmp_path / f"sql-{lang}.txt").read_text(encoding="utf-8") == want
            assert 0 < sum(python) < total  # SQLite wrote the plain rows
            monkeypatch.setenv("DUNNING_AGING_SQL_TABLE", "0")
            _write(conn, tmp_path / f"py-{lang}.txt")
            monkeypatch.delenv("DUNNING_AGING_SQL_TABLE")
        finally:
            set_language("en")
        one = (tmp_path / f"sql-{lang}.txt").read_bytes()
        assert one == (tmp_path / f"py-{lang}.txt").read_bytes()


def _plain_ledger(conn: sqlite3.Connection, customers: int) -> list[int]:
    """Customers with plain names, amounts below 2**52 (USD, EUR, JPY): every row a
    line SQLite can write."""
    ids = []
    now = "2026-11-23T15:00:00Z"
    with write_tx(conn):
        for n in range(customers):
            cur = ("USD", "EUR", "JPY")[n % 3]
            cid = conn.execute(
                "INSERT INTO customers (external_ref, name, country, currency, created_at, "
                "updated_at) VALUES (?,?,?,?,?,?)",
                (f"P{n:03d}", f"Plain {n} Gagné", "US", cur, now, now),
            ).lastrowid
            conn.execute(
                "INSERT INTO queue (customer_id, collector_id, next_action_at, updated_at) "
                "VALUES (?,NULL,?,?)",
                (cid, now, now),
            )
            _invoice(conn, int(cid or 0), 1_000 + 7_919 * n * n, cur)
            ids.append(int(cid or 0))
    return ids


def test_collector_names_many_and_hostile(
    conn: sqlite3.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More collectors than the rows' CASE names (aging_lines.CASE_MAX), one with a
    control: every one shown cleaned; every row's line written by SQLite."""
    ids = _plain_ledger(conn, 60)
    with write_tx(conn):
        for n in range(40):
            cid = conn.execute(
                "INSERT INTO collectors (username, display_name, created_at) VALUES (?,?,?)",
                (f"c{n}\x07" if n == 3 else f"c{n}", "x", "2026-11-23T15:00:00Z"),
            ).lastrowid
            conn.execute("UPDATE queue SET collector_id = ? WHERE customer_id = ?", (cid, ids[n]))
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"
    python = _python_rows(monkeypatch)
    _write(conn, tmp_path / "a.txt")
    assert sum(python) == 0
    want = reference_table(reference_rows(conn, TODAY, "customer"), "customer", f"T {TODAY}")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == want


def test_the_flag_is_kept_by_the_build_the_advance_and_the_migration(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    build(conn, 23, customers=40)
    ids = _ids(conn)
    with write_tx(conn):
        conn.execute("UPDATE customers SET name = ? WHERE id = ?", ("a\x00b", ids[0]))
        conn.execute("UPDATE customers SET name = 'Clean' WHERE id = ?", (ids[1],))
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"

    def flags() -> dict[int, int]:
        rows = conn.execute("SELECT customer_id, plain, external_ref, name FROM aging_order")
        out = {}
        for cid, plain, ref, name in rows:
            assert plain == aging_order.plain(ref, name)
            out[cid] = plain
        return out

    assert flags()[ids[0]] == 0 and flags()[ids[1]] == 2  # 2: ASCII too
    with write_tx(conn):  # renamed: made again by the next advance, its flag with it
        conn.execute("UPDATE customers SET name = ? WHERE id = ?", ("N" * 33, ids[1]))
        conn.execute("UPDATE customers SET name = 'Gagné' WHERE id = ?", (ids[0],))
    assert aging_snapshot.advance(conn, TODAY + timedelta(days=1), min_invoices=0) == "advanced"
    assert flags()[ids[0]] == 1 and flags()[ids[1]] == 3  # 3: the name only cut
    # m026_aging_plain on a database whose table was filled before it: every row's flag
    with write_tx(conn):
        conn.execute("UPDATE aging_order SET plain = 0")
        conn.execute(f"DELETE FROM {MIGRATIONS_TABLE} WHERE name = 'm026_aging_plain'")
        conn.execute("ALTER TABLE aging_order DROP COLUMN plain")
    migrate(conn)
    after = flags()  # each row checked against plain() by flags()
    assert set(after.values()) == {0, 1, 2, 3}


def test_no_flag_column_is_the_python_path(
    conn: sqlite3.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table without the flag (a database before m026_aging_plain): Python writes every row."""
    build(conn, 24, customers=30)
    assert aging_snapshot.advance(conn, TODAY, min_invoices=0) == "built"
    monkeypatch.setattr(aging_order, "has_plain", lambda c: False)
    python = _python_rows(monkeypatch)
    _write(conn, tmp_path / "a.txt")
    total = conn.execute("SELECT COUNT(*) FROM aging_order").fetchone()[0]
    assert sum(python) == total
    assert reports.UNASSIGNED  # the module's names are the reference's


def test_the_flag_is_what_the_table_shows() -> None:
    """aging_order.plain: 0 exactly when exports.table_text changes a cell, 2 for ASCII."""
    from dunning.db import exports as ex

    assert aging_order._TEXT_MAX == aging_lines.TEXT_MAX == ex.TABLE_TEXT_MAX
    cells = ["", "R1", "A" * 32, "A" * 33, "a\x00b", "a\x7fb", "a\tb", "~ !", "Gagné", WIDE,
             COMBINING, "ab\u202ecd", "\x1b[2J", "é" * 32, "é" * 33, "x\u200by", "\U0001f600",
             "a\u00a0b", "a\u034fb", "\u2028"]  # fmt: skip
    for ref in cells:
        for name in cells:
            shown = ex.table_text(ref) == ref and ex.table_text(name) == name
            cut = ex.table_text(ref) == ref and ex.table_text(name) == name[:31] + "\u2026"
            want = 2 if shown and (ref + name).isascii() else 1 if shown else 3 if cut else 0
            assert aging_order.plain(ref, name) == want, (ref, name)
