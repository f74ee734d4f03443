"""Helpers for the ledger tests (import, payments, reports, backup); no tests here.

Imported as ``from test_ledger_support import ...`` (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

import argparse
import csv
import sqlite3
from pathlib import Path

from dunning.clock import FixedClock
from dunning.db.ledger import ImportOptions, ImportResult, import_file
from dunning.ledger_cli import register
from dunning.queue.config import Settings

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
IBM = SHARED / "data" / "ibm-accounts-receivable.csv"
TABLES = (
    "customers", "contacts", "phones", "invoices", "payments", "queue", "promises",
    "activities", "assignments",
)  # fmt: skip


def write_csv(
    path: Path, rows: list[list[object]], *, delimiter: str = ",", encoding: str = "utf-8"
) -> Path:
    with path.open("w", newline="", encoding=encoding) as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)
    return path


def load(
    conn: sqlite3.Connection, path: Path, kind: str, clock: FixedClock | None = None, **kw: object
) -> ImportResult:
    """import_file with the test clock; refusals collected on the result's ``seen``."""
    seen: list[tuple[str, object]] = []
    result = import_file(
        conn,
        clock or FixedClock(),
        Settings(),
        path,
        ImportOptions(kind=kind, **kw),  # type: ignore[arg-type]
        on_refusal=lambda where, r: seen.append((where, r)),
    )
    result.seen = seen  # type: ignore[attr-defined]
    return result


def dump(conn: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every ledger table, to compare before and after."""
    return {t: [tuple(r) for r in conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2")] for t in TABLES}


def cli(db: Path, *argv: str, clock: FixedClock | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dunning")
    parser.add_argument("--db", type=Path)
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["--db", str(db), *argv])
    args.clock = clock or FixedClock()
    return int(args.func(args))


INVOICE_HEADER = ["customer_ref", "customer_name", "number", "issue_date", "due_date", "amount",
                  "open_amount"]  # fmt: skip


def invoices_csv(path: Path, rows: list[list[object]]) -> Path:
    return write_csv(path, [INVOICE_HEADER, *rows])


def count(conn: sqlite3.Connection, sql: str, *params: object) -> object:
    return conn.execute(sql, params).fetchone()[0]
