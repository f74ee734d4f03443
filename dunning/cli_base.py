"""What every ``dunning`` subcommand shares: exit codes, the error type, the context."""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path

from dunning.clock import Clock
from dunning.db import private
from dunning.db.connection import DatabaseError, default_db_path, open_db, refuse_non_regular
from dunning.db.lockwait import LockWait
from dunning.i18n import _, set_language
from dunning.queue.collectors import Collector, IdentityError
from dunning.queue.config import Settings, load_settings
from dunning.queue.identity import Actor, authorize, identify

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
  DUNNING_LOCK_WAIT (seconds a write waits for another's write lock; default 120)
identity: the OS user running dunning; --as NAME only for root, the database file's owner
  or the service account recorded by `dunning init --service-account NAME`
"""


def say(message: str) -> None:
    """One line on stderr, ``dunning: <message>``, that is not an error (the CLI's standard
    streams show control characters from the data, never send them: dunning/textsafe.py)."""
    with contextlib.suppress(BrokenPipeError, OSError):
        print(f"dunning: {message}", file=sys.stderr)


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

    def open(self, path: Path | None = None, *, warn: bool = True) -> sqlite3.Connection:
        """Connect and migrate an existing database; a missing file is an error.

        ``warn``: say on stderr, once per process, when others can read the database
        (False: the screen says it)."""
        path = path or self.db_path
        if not path.exists():
            demo = path.with_name("demo.db")
            if not self.db_explicit and demo.is_file():
                raise CliError(
                    _(
                        "no database at {path}; the demo portfolio is at {demo}: add --db "
                        "{demo} or export DUNNING_DB={demo}"
                    ).format(path=path, demo=demo)
                )
            raise CliError(
                _(
                    "no database at {path}; build and open a demo with `dunning demo`, or "
                    "import a ledger with `dunning import KIND FILE`; choose a file with "
                    "--db PATH or $DUNNING_DB"
                ).format(path=path)
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
        if warn:
            warn_exposed(path)
        return conn

    def actor(
        self, conn: sqlite3.Connection, *, action: str = "identity", target: str = ""
    ) -> Actor:
        """Who runs the command (a collector, or the host operator); a refused ``--as`` or
        an unknown OS user is recorded in the audit log under ``action``. From here on,
        messages are in the collector's language."""
        actor = identify(conn, self.clock, self.as_name, action=action, target=target)
        if actor.collector is not None:
            set_language(actor.collector.locale)
        return actor

    def authorize(
        self,
        conn: sqlite3.Connection,
        action: str,
        *,
        audit_action: str | None = None,
        target: str = "",
        detail: dict[str, object] | None = None,
    ) -> Actor:
        """The actor, when their role may do ``action`` (dunning/queue/rights.py); else
        RightsError, recorded in the audit log with the real OS user."""
        name = audit_action or action
        actor = self.actor(conn, action=name, target=target)
        authorize(conn, self.clock, actor, action, audit_action=name, target=target, detail=detail)
        return actor

    def identity(self, conn: sqlite3.Connection, as_name: str | None = None) -> Collector:
        """The collector who runs the command (the host operator must say --as NAME)."""
        if as_name is not None and as_name != self.as_name:
            self.args.as_name = as_name
        actor = self.actor(conn)
        if actor.collector is None:
            raise IdentityError(
                _(
                    "the OS user {who!r} runs this host but is not a collector: say whom to "
                    "work as with --as NAME"
                ).format(who=actor.os_name)
            )
        return actor.collector

    def close(self) -> None:
        for conn in self._conns:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._conns.clear()


def warn_exposed(path: Path) -> None:
    """Once per process, on stderr: others can read the database, and the fix."""
    message = private.take_warning(path)
    if message:
        with contextlib.suppress(OSError):
            print(f"dunning: {message}", file=sys.stderr)


def _refuse_foreign(path: Path, *, importing: bool = False) -> None:
    """An empty file, or another program's SQLite database, is not migrated into a dunning
    one by a command that only meant to read, log or load (a typo in --db). Only `demo`,
    and `import` into a path where no file exists yet, create a database."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            tables = {r[0] for r in rows}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise CliError(
            _("{path}: not a dunning database ({error}); nothing was changed").format(
                path=path, error=exc
            ),
            2 if importing else 1,
        ) from exc
    if "customers" in tables and "queue" in tables:
        return
    what = _("an empty database") if not tables else _("not a dunning database")
    if importing:
        raise CliError(
            _(
                "{path} is {what}; nothing was changed: import loads into a dunning database "
                "(or creates one where no file exists yet); choose another --db"
            ).format(path=path, what=what),
            2,
        )
    raise CliError(
        _(
            "{path} is {what}; build a demo with `dunning demo --db {path}`, or load a "
            "ledger with `dunning import KIND FILE --db NEW_FILE`"
        ).format(path=path, what=what)
    )


class StderrWait:
    """The CLI's lock-wait reporter (dunning/db/lockwait.py): on a terminal one line that
    counts the seconds, else a line when the wait starts and every 10 s."""

    def __init__(self) -> None:
        self.shown = -1.0

    def __call__(self, wait: LockWait | None) -> None:
        tty = sys.stderr.isatty()
        with contextlib.suppress(OSError, ValueError):
            if wait is None:
                if self.shown >= 0 and tty:
                    sys.stderr.write("\n")
                    sys.stderr.flush()
                self.shown = -1.0
                return
            if tty:
                sys.stderr.write(f"\rdunning: {wait.message()}   ")
                sys.stderr.flush()
                self.shown = wait.seconds
            elif self.shown < 0 or wait.seconds - self.shown >= 10:
                print(f"dunning: {wait.message()}", file=sys.stderr, flush=True)
                self.shown = wait.seconds
