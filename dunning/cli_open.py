"""`dunning` with no command: open the app on the next account (issue 8, start -> first
account drawn). Apart from cli_admin.py so that opening the app imports none of the
housekeeping commands' modules (the nightly refresh, the demo, assign: ~10-20 ms of a start).
"""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

from dunning.cli_base import CliError, Context


def _has_customers(conn: sqlite3.Connection) -> bool:
    """One row read (a COUNT(*) read the whole table: 1M customers at every start)."""
    return conn.execute("SELECT 1 FROM customers LIMIT 1").fetchone() is not None


def open_app(ctx: Context, path: Path, as_name: str | None = None) -> int:
    conn = ctx.open(path, warn=False)  # the screen says it
    if not _has_customers(conn):
        raise CliError(
            f"{path} holds no customers yet: build and open a demo with `dunning demo`, or "
            "import your ledger with `dunning import KIND FILE`"
        )
    collector = ctx.identity(conn, as_name)
    settings = ctx.settings()
    ctx.close()
    from dunning import babel_start

    babel_start.install(collector.locale)  # the first figures' data, trimmed (~10 ms)
    from dunning.queue.session import WorkSession, start_session, use_collector_clock

    if collector.is_lead:  # a lead starts on the team board: no account claimed ahead
        use_collector_clock(collector)
        session = WorkSession(path, collector, settings)
    else:  # the first account is claimed and loaded while Textual imports
        session = start_session(path, collector, settings)
    try:
        from dunning.tui.app import run_app  # Textual is slow to import: only here
    except BaseException:
        session.close()
        raise
    return run_app(path, collector, settings, session)


def cmd_open(args: argparse.Namespace, ctx: Context) -> int:
    return open_app(ctx, ctx.db_path)
