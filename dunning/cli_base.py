"""What every ``dunning`` subcommand shares: exit codes, the error type, the context."""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from dunning.clock import Clock
from dunning.db.connection import DatabaseError, default_db_path, open_db, refuse_non_regular
from dunning.i18n import set_language
from dunning.queue.collectors import Collector, resolve_identity
from dunning.queue.config import Settings, load_settings

EXIT_OK = 0
EXIT_ERROR = 1  # refused, database problems, nothing found where something must be
EXIT_USAGE = 2  # bad arguments or input (amount, date, unknown account or outcome)
EXIT_NOTHING = 3  # `dunning next`: nothing can be called now

EXIT_CODES = """\
exit codes:
  0  done
  1  refused or failed (unknown collector, account held by someone else, no database,
     database error)
  2  bad usage or input (unknown account, bad amount or date, missing option)
  3  `next`: nothing to call now

dates and times:
  dates: 2026-12-01, today, tomorrow, yesterday, +3d, -1d, +2w, mon..sun (the next one;
    for `log paid --date`, the last one), also in French and Spanish (demain, ven, mañana);
    read on your calendar (your time zone: `dunning collectors set NAME --tz ZONE`, else
    this machine's)
  times: "2026-12-01 14:30", "tomorrow 9:00", "14:30" (the next one), +2h, +30m; a time
    for an account (log --at, --next) is in the CUSTOMER's time; end it with " me" for
    your own clock ("tomorrow 15:00 me")
money: as you would write it in your locale, in the customer's currency:
  1234.50, "1,234.50" (en), "1 234,50" (fr), "1.234,50" (es)

environment: DUNNING_DB (database path), DUNNING_CONFIG (settings file),
  DUNNING_SERVICE_ACCOUNT (the OS account for which --as is honoured)
"""


class CliError(Exception):
    """An expected failure: printed as ``dunning: <message>``, exit ``code``."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Context:
    """What a handler needs: database, settings, identity and the clock."""

    args: argparse.Namespace
    clock: Clock
    _settings: Settings | None = None
    _conns: list[sqlite3.Connection] = field(default_factory=list)

    @property
    def db_explicit(self) -> bool:
        """The path was chosen (--db or $DUNNING_DB), not the per-user default."""
        return bool(getattr(self.args, "db", None) or os.environ.get("DUNNING_DB"))

    @property
    def db_path(self) -> Path:
        given = getattr(self.args, "db", None)
        return Path(given).expanduser() if given else default_db_path()

    @property
    def as_name(self) -> str | None:
        return getattr(self.args, "as_name", None)

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(getattr(self.args, "config", None))
        return self._settings

    def open(self, path: Path | None = None) -> sqlite3.Connection:
        """Connect and migrate an existing database; a missing file is an error."""
        path = path or self.db_path
        if not path.exists():
            demo = path.with_name("demo.db")
            if not self.db_explicit and demo.is_file():
                raise CliError(
                    f"no database at {path}; the demo portfolio is at {demo}: add --db {demo} "
                    f"or export DUNNING_DB={demo}"
                )
            raise CliError(
                f"no database at {path}; build and open a demo with `dunning demo`, or "
                "import a ledger with `dunning import KIND FILE`; choose a file with --db PATH or "
                "$DUNNING_DB"
            )
        try:
            refuse_non_regular(path)  # a FIFO would hang the first read
        except DatabaseError as exc:
            raise CliError(str(exc)) from None
        try:
            _refuse_foreign(path)
            conn = open_db(path)
        except sqlite3.DatabaseError as exc:
            raise CliError(f"{path}: {exc}") from exc
        self._conns.append(conn)
        return conn

    def identity(self, conn: sqlite3.Connection, as_name: str | None = None) -> Collector:
        """Who runs the command; from here on, messages are in that collector's language."""
        me = resolve_identity(conn, as_name or self.as_name)
        set_language(me.locale)
        return me

    def close(self) -> None:
        for conn in self._conns:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._conns.clear()


def _refuse_foreign(path: Path) -> None:
    """An empty file, or another program's SQLite database, is not migrated into a dunning
    one by a command that only meant to read or log (a typo in --db)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()
    if "customers" in tables and "queue" in tables:
        return
    what = "an empty database" if not tables else "not a dunning database"
    raise CliError(
        f"{path} is {what}; build a demo with `dunning demo --db {path}`, or load a ledger "
        f"with `dunning import KIND FILE --db {path}`"
    )
