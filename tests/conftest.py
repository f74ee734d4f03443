"""Shared fixtures: real SQLite files under tmp_path, a clock that stands still."""

from __future__ import annotations

import gc
import os
import signal
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from dunning.clock import FixedClock, to_iso
from dunning.db import private
from dunning.db.connection import connect, write_tx
from dunning.db.schema import migrate
from dunning.i18n import set_language
from dunning.queue.accounts import refresh_accounts
from dunning.queue.config import Settings

# Screens show local time: make "local" the same everywhere tests run.
os.environ["TZ"] = "UTC"
time.tzset()

# Every `python -m dunning` a test starts would compile the whole package from source again
# when the shell says not to write bytecode (PYTHONDONTWRITEBYTECODE, set in some
# development shells): ~0.15 s of CPU a process, and the suite starts hundreds. The
# processes keep their compiled modules in one cache directory instead (PYTHONPYCACHEPREFIX:
# nothing is written beside the sources). This process does the same from here on: the
# test modules imported after this one (rewritten by pytest for its asserts) are cached too.
if os.environ.get("PYTHONDONTWRITEBYTECODE"):
    del os.environ["PYTHONDONTWRITEBYTECODE"]
    os.environ.setdefault(
        "PYTHONPYCACHEPREFIX", str(Path(tempfile.gettempdir()) / f"dunning-pycache-{os.getuid()}")
    )
    sys.pycache_prefix = sys.pycache_prefix or os.environ["PYTHONPYCACHEPREFIX"]
    sys.dont_write_bytecode = False

# A suite started in the background (`nohup pytest &`, some CI shells) inherits SIGINT
# ignored, and so would every `python -m dunning` it starts: the Ctrl-C tests (an import,
# a bulk assign, a refresh interrupted) need SIGINT as a terminal delivers it. A handler
# (not SIG_IGN) here is reset to the default in each child at exec.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Property tests draw the same examples on every run, so CI is never red by luck; run
# `pytest --hypothesis-profile=explore` to search fresh examples.
hypothesis_settings.register_profile("repeatable", derandomize=True, deadline=None)
hypothesis_settings.register_profile("explore", max_examples=1000, deadline=None)
hypothesis_settings.load_profile("repeatable")


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Collect the session's garbage once, then freeze what is left. pytest's cleanup
    then runs five full collections over the heap a whole suite leaves (seconds under
    load), and a pytest-xdist worker still busy 5 s after it said it finished is sent a
    SIGINT by execnet (a KeyboardInterrupt traceback at the end of the output). Frozen
    objects are skipped by those collections; anything unraisable in the garbage is
    still reported by this first one."""
    gc.collect()
    gc.freeze()


SHARED = Path(__file__).resolve().parents[1].parent / "shared"

# Monday 2026-11-23 15:00 UTC = 10:00 in Toronto / New York: inside every calling window
T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def english_after_each_test() -> Iterator[None]:
    """A French or Spanish app (Pilot) sets the process's language: the next test starts in
    English, whatever ran before it."""
    yield
    set_language("en")
    private.reset_for_tests()  # the exposed-database warning is once per process


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def settings() -> Settings:
    return Settings()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "dunning.db"


# Migrating a new file costs ~0.1 s (0.7 s the first time in a process), and most tests
# start from an empty, migrated database: the first one is built once per process and the
# later ones are copies of its bytes (~1 ms). tests/test_migrations.py (and the tests that
# migrate an older file on purpose) still run the migrations themselves.
_files: dict[object, bytes] = {}


def write_db(path: Path, data: bytes) -> None:
    """A database file at ``path`` (which must not exist) with ``data``, created private as
    ``connect`` creates one (0600, its directory made)."""
    path = Path(path)
    if os.path.lexists(path):
        raise FileExistsError(path)
    private.prepare_db(path)
    with open(path, "r+b") as f:
        f.write(data)


def cached_db(path: Path, key: object, build: Callable[[Path], None]) -> None:
    """Make at ``path`` the database ``build(path)`` would make, building it once per
    ``key`` and process and copying its bytes after that. ``build`` must close every
    connection it opens (the copy is the file alone, with no -wal beside it)."""
    data = _files.get(key)
    if data is None:
        with tempfile.TemporaryDirectory(prefix="dunning-template-") as tmp:
            first = Path(tmp) / "template.db"
            build(first)
            for side in ("-wal", "-journal"):
                assert not Path(f"{first}{side}").exists(), f"template left {side} open"
            data = _files[key] = first.read_bytes()
    write_db(path, data)


def _migrate_new(path: Path) -> None:
    c = connect(path)
    migrate(c)
    c.close()


def migrated_db(path: Path) -> None:
    """An empty database at ``path`` with every migration applied (as ``open_db`` leaves a
    new file), copied from the one built first."""
    cached_db(path, "migrated", _migrate_new)


@pytest.fixture
def conn(db_path: Path) -> Iterator[sqlite3.Connection]:
    migrated_db(db_path)
    c = connect(db_path)
    assert migrate(c) == []  # the copy is up to date
    yield c
    c.close()


class Ledger:
    """Builds a small, exact portfolio for rules tests."""

    def __init__(self, conn: sqlite3.Connection, clock: FixedClock, settings: Settings) -> None:
        self.conn = conn
        self.clock = clock
        self.settings = settings
        self.now = to_iso(clock.now())
        self._n = 0

    def collector(
        self, username: str, role: str = "collector", languages: str = "en", locale: str = "en_US"
    ) -> int:
        with write_tx(self.conn):
            cur = self.conn.execute(
                "INSERT INTO collectors (username, display_name, role, languages, locale, "
                "created_at) VALUES (?,?,?,?,?,?)",
                (username, username.title(), role, languages, locale, self.now),
            )
        return int(cur.lastrowid or 0)

    def customer(
        self,
        name: str,
        *,
        collector: int | None = None,
        country: str = "US",
        subdivision: str | None = "NY",
        currency: str = "USD",
        portfolio: str = "b2b",
        status: str = "active",
        invoices: list[tuple[int, str]] | None = None,  # (amount_minor, due_date)
        phones: list[str] | None = None,
        risk: int = 0,
    ) -> int:
        self._n += 1
        with write_tx(self.conn):
            cur = self.conn.execute(
                "INSERT INTO customers (external_ref, name, country, subdivision, currency, "
                "portfolio, status, risk_score, created_at, updated_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    f"C{self._n:05d}",
                    name,
                    country,
                    subdivision,
                    currency,
                    portfolio,
                    status,
                    risk,
                    self.now,
                    self.now,
                ),
            )
            cid = int(cur.lastrowid or 0)
            ct = self.conn.execute(
                "INSERT INTO contacts (customer_id, name, is_primary, created_at) VALUES (?,?,1,?)",
                (cid, f"{name} AP", self.now),
            ).lastrowid
            for e164 in phones if phones is not None else ["+12125550100"]:
                self.conn.execute(
                    "INSERT INTO phones (customer_id, contact_id, e164, type, created_at) "
                    "VALUES (?,?,?,?,?)",
                    (cid, ct, e164, "fixed_line", self.now),
                )
            for k, (amount, due) in enumerate(invoices or [(100_000, "2026-09-01")]):
                self.conn.execute(
                    "INSERT INTO invoices (customer_id, number, issue_date, due_date, "
                    "amount_minor, open_minor, currency, created_at, updated_at) "
                    "VALUES (?,?,?,?,?,?,?,?,?)",
                    (cid, f"INV-{cid}-{k}", due, due, amount, amount, currency, self.now, self.now),
                )
            refresh_accounts(self.conn, self.clock, self.settings, [cid])
            self.conn.execute(
                "UPDATE queue SET collector_id = ? WHERE customer_id = ?", (collector, cid)
            )
        return cid

    def queue_row(self, cid: int) -> sqlite3.Row:
        return self.conn.execute("SELECT * FROM queue WHERE customer_id = ?", (cid,)).fetchone()


@pytest.fixture
def ledger(conn: sqlite3.Connection, clock: FixedClock, settings: Settings) -> Ledger:
    return Ledger(conn, clock, settings)
