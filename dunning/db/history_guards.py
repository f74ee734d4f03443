"""The append-only triggers of a later history table (m025_people's, m027_loans's): no
UPDATE, no DELETE, no INSERT OR REPLACE over an existing id; db/append_only.py knows
them by name (missing_guards, lifted)."""

from __future__ import annotations

from collections.abc import Iterable


def _raise(what: str) -> str:
    return f"SELECT RAISE(ABORT, 'append-only: {what}')"


def guards_of(tables: Iterable[str]) -> dict[str, str]:
    """The three triggers of each table, by name."""
    out: dict[str, str] = {}
    for table in tables:
        out[f"{table}_no_update"] = (
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}\nBEGIN "
            f"{_raise(f'{table} rows are never changed (a correction is a new row)')}; END"
        )
        out[f"{table}_no_delete"] = (
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}\nBEGIN "
            f"{_raise(f'{table} rows are never deleted')}; END"
        )
        out[f"{table}_no_replace"] = (
            f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} WHEN EXISTS "
            f"(SELECT 1 FROM {table} WHERE id = NEW.id)\nBEGIN "
            f"{_raise(f'{table} rows are never replaced (a correction is a new row)')}; END"
        )
    return out
