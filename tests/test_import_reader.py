"""A big invoice file staged by a reader process (dunning/db/ledger/staging_beside.py)
leaves exactly what the writer alone leaves: the ledger, the queue, the counts, the
refusals and their order, the cleaning note, the rejects file, a dry run's counts; an
error reading the file is the same refusal; the progress is reported."""

from __future__ import annotations

import os
import sqlite3
import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from test_ledger_support import INVOICE_HEADER, dump, write_csv

from dunning.clock import FixedClock
from dunning.db.connection import connect
from dunning.db.ledger import ImportOptions, LedgerImportError, import_file, staging_beside
from dunning.db.schema import migrate
from dunning.queue.config import Settings

HEADER = [*INVOICE_HEADER, "currency", "status", "disputed"]


def _rows(n: int) -> list[list[object]]:
    out: list[list[object]] = []
    for i in range(n):
        c = i % 37
        cur, disputed = ("EUR" if c % 5 == 0 else "USD"), ("yes" if i % 13 == 0 else "")
        row: list[object] = [f"R{c:03d}", f"Firma {c}", f"N{i:05d}", "2026-08-01",
                             f"2026-{9 + i % 3}-15", f"{10 + i}.25", f"{i % 7}.00", cur, "",
                             disputed]  # fmt: skip
        if i % 41 == 7:
            row[3] = "2026-13-45"  # a bad date: refused
        if i % 53 == 11:
            row[5] = "12,34,5"  # a bad amount
        if i % 59 == 13:
            row[1] = "Firma\x1b[31m rot"  # control characters: cleaned
        if i % 61 == 17:
            row = [*row, "x", "y"]  # wider than the header: refused whole
        if i % 67 == 19:
            row = [""] * len(HEADER)  # blank: ignored
        if i % 71 == 23:
            row[3] = "2026-12-20"  # issued after --as-of: skipped when it is set
        out.append(row)
    return out


def _import(db: Path, csv: Path, beside: bool, monkeypatch: pytest.MonkeyPatch,
            **kw: Any) -> tuple[dict[str, Any], list[Any], dict[str, Any], list[Any]]:  # fmt: skip
    calls: list[int] = []
    real = staging_beside.run

    def counted(*a: Any) -> Any:
        calls.append(1)
        return real(*a)

    with monkeypatch.context() as m:
        m.setattr(staging_beside, "MIN_BYTES", 0 if beside else 10**12)
        m.setattr(staging_beside, "run", counted)
        conn = connect(db)
        migrate(conn)
        seen: list[Any] = []
        progress: list[tuple[int, int]] = []
        try:
            r = import_file(conn, FixedClock(), Settings(), csv,
                            ImportOptions(kind="invoices", create_customers=True, **kw),
                            progress=lambda a, b: progress.append((a, b)),
                            on_refusal=lambda where, x: seen.append((where, repr(x))))  # fmt: skip
            summary = r.summary()
            summary.pop("path")
            summary.pop("rejects")
            d = dump(conn)
            d["queue"] = [tuple(x) for x in conn.execute("SELECT * FROM queue ORDER BY 1")]
        finally:
            conn.close()
    assert calls == ([1] if beside else [])
    assert progress and progress[-1][0] == progress[-1][1]
    return summary, seen, d, progress[-1:]


@pytest.mark.parametrize(
    "options",
    [
        {"skip_invalid": True},
        {},  # refused rows: nothing written
        {"skip_invalid": True, "snapshot": True},
        {"skip_invalid": True, "as_of": date(2026, 11, 30)},
        {"skip_invalid": True, "dry_run": True},
    ],
)
def test_the_reader_leaves_what_the_writer_alone_leaves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: dict[str, Any]
) -> None:
    csv = write_csv(tmp_path / "f.csv", [HEADER, *_rows(12_000)])
    got = {}
    for beside in (False, True):
        kw = dict(options)
        if kw.get("skip_invalid"):
            kw["rejects"] = tmp_path / f"rejects-{beside}.csv"
        got[beside] = _import(tmp_path / f"{beside}.db", csv, beside, monkeypatch, **kw)
        if kw.get("skip_invalid"):
            got[beside] += (kw["rejects"].read_bytes(),)
    assert got[True] == got[False]
    summary, seen = got[True][0], got[True][1]
    assert summary["refused"] > 100 and summary["cleaned"] > 0 and len(seen) > 100


def test_an_error_reading_the_file_is_the_same_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dunning.db.ledger import sources

    rows = _rows(3000)
    rows[2500][1] = "z" * (sources.MAX_FIELD + 10)  # a field over the limit, late in the file
    csv = write_csv(tmp_path / "f.csv", [HEADER, *rows])
    said = []
    for beside in (False, True):
        with pytest.raises(LedgerImportError) as exc:
            _import(tmp_path / f"{beside}.db", csv, beside, monkeypatch)
        said.append(str(exc.value))
        conn = connect(tmp_path / f"{beside}.db")
        try:
            assert conn.execute("SELECT COUNT(*) FROM invoices").fetchone()[0] == 0
        finally:
            conn.close()
    assert said[0] == said[1] and ":2502" in said[0]


def test_a_small_file_or_a_big_ledger_is_staged_by_the_writer(tmp_path: Path) -> None:
    from dunning.db.ledger.rows import Context
    from dunning.db.ledger.sources import open_table

    csv = write_csv(tmp_path / "f.csv", [HEADER, *_rows(50)])
    conn: sqlite3.Connection = connect(tmp_path / "x.db")
    migrate(conn)
    try:
        table = open_table(csv, is_header=lambda cells: cells[:1] == ["customer_ref"])
        ctx = Context(conn=conn, order="ymd", locale="en_US", currency="USD", country="US")
        ctx.preload()
        assert not staging_beside.wanted("invoices", ctx, table)  # 50 rows: too small
        table.total = staging_beside.MIN_BYTES  # as big as it takes
        alone = threading.active_count() == 1 and (os.cpu_count() or 1) > 1
        assert staging_beside.wanted("invoices", ctx, table) == alone
        assert not staging_beside.wanted("payments", ctx, table)  # invoices only
        ctx._complete = False  # a ledger too big to read whole: look-ups on the writer's
        assert not staging_beside.wanted("invoices", ctx, table)
        table.close()
    finally:
        conn.close()
