"""Numbered schema migrations (sqlite-utils ``Migrations``), each in one transaction.

Add a migration by appending a function decorated with ``@migrations()`` named
``m00N_what``; never edit one that has shipped. ``tests/test_migrations.py`` migrates
a database created at every earlier step, holding data.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from dunning.db.append_only import M012, M013
from dunning.db.connection import write_tx
from dunning.db.on_use import OnUse
from dunning.db.schema_sql import M001, M002, M008, M010, M011, M024
from dunning.regions import COUNTRIES, subdivision_code

if TYPE_CHECKING:
    import sqlite_utils
    from sqlite_utils.migrations import Migrations

MIGRATION_SET = "dunning"
MIGRATIONS_TABLE = "_sqlite_migrations"  # sqlite-utils' Migrations.migrations_table


class _LazyMigrations:
    """sqlite-utils' ``Migrations`` registered as it is (``@migrations()``), but sqlite-utils
    (and click, which it imports: ~0.1 s of a start) is imported only when a migration must
    run or a caller asks for it (``pending``, ``applied``, ``apply``). Opening an up-to-date
    database compares the names applied with :attr:`names` in plain sqlite3
    (:func:`pending_names`)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._registered: list[tuple[str, Callable[..., None], bool]] = []
        self._real: Migrations | None = None

    def __call__(
        self, *, name: str | None = None, transactional: bool = True
    ) -> Callable[[Callable[..., None]], Callable[..., None]]:
        def inner(func: Callable[..., None]) -> Callable[..., None]:
            migration_name = name or func.__name__
            if migration_name in self.names:
                raise ValueError(f"Migration '{migration_name}' is already registered")
            self._registered.append((migration_name, func, transactional))
            if self._real is not None:
                self._real(name=migration_name, transactional=transactional)(func)
            return func

        return inner

    @property
    def names(self) -> list[str]:
        return [name for name, _fn, _tx in self._registered]

    def real(self) -> Migrations:
        if self._real is None:
            from sqlite_utils.migrations import Migrations

            real = Migrations(self.name)
            for name, fn, transactional in self._registered:
                real(name=name, transactional=transactional)(fn)
            self._real = real
        return self._real

    def __getattr__(self, attr: str) -> Any:  # pending, applied, apply, ...
        return getattr(self.real(), attr)


migrations = _LazyMigrations(MIGRATION_SET)

# modules of the migrations below, imported when one of them runs: an up-to-date
# database's open (every start) imports none of them (~7 ms of a start, ROUND6_p3.md)
aging_order: Any = OnUse("dunning.db.aging_order")
aging_snapshot: Any = OnUse("dunning.db.aging_snapshot")
aging_widths: Any = OnUse("dunning.db.aging_widths")
search_index: Any = OnUse("dunning.db.search_index")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    for statement in M001.split(";\n"):
        if statement.strip():
            db.execute(statement)


def pending_names(conn: sqlite3.Connection) -> list[str]:
    """The migrations not applied yet, in order: what ``migrations.pending`` says, read
    with plain sqlite3 (a read-only query; no sqlite-utils)."""
    if (
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (MIGRATIONS_TABLE,)
        ).fetchone()
        is None
    ):
        return migrations.names
    applied = {
        row[0]
        for row in conn.execute(
            f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ?", (MIGRATION_SET,)
        )
    }
    return [name for name in migrations.names if name not in applied]


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply pending migrations under one write lock; returns the names applied."""
    if not pending_names(conn):
        return []
    import sqlite_utils

    db = sqlite_utils.Database(conn, execute_plugins=False)
    with write_tx(conn):
        # another process may have migrated while we waited for the lock
        pending = [m.name for m in migrations.pending(db)]
        migrations.apply(db)
    return pending


def schema_version(conn: sqlite3.Connection) -> list[str]:
    import sqlite_utils

    db = sqlite_utils.Database(conn, execute_plugins=False)
    return [m.name for m in migrations.applied(db)]


# --- m002: ledger import (dunning/db/ledger, docs/IMPORT.md) ------------------------------


@migrations()
def m002_ledger_import(db: sqlite_utils.Database) -> None:
    for statement in M002.split(";\n"):
        if statement.strip():
            db.execute(statement)


# --- m003: aging at scale (dunning/db/reports.py) -----------------------------------------
# A covering partial index over open invoices in (customer, currency) order: the aging
# report and the queue's balance refresh read it alone, without touching the table and
# without sorting (5,000,000 invoices age in ~2 s instead of ~15 s).


@migrations()
def m003_ledger_aging_index(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE INDEX invoices_aging ON invoices"
        "(customer_id, currency, due_date, open_minor, disputed) WHERE status = 'open'"
    )


@migrations()
def m004_claims_index(db: sqlite_utils.Database) -> None:
    """Finding the accounts a collector holds (resume after a crash) without scanning the
    queue: a partial index, as small as the number of claims in flight."""
    db.execute(
        "CREATE INDEX queue_claims ON queue(claimed_by, claim_expires_at) "
        "WHERE claimed_by IS NOT NULL"
    )


@migrations()
def m005_promise_deadline(db: sqlite_utils.Database) -> None:
    """When a pending promise can be decided (due date + grace), indexed, so the check at
    every claim reads only the promises that just expired, not every one within grace."""
    db.execute(
        "ALTER TABLE promises ADD COLUMN decide_after TEXT "
        "GENERATED ALWAYS AS (date(due_date, '+' || grace_days || ' days')) VIRTUAL"
    )
    db.execute("CREATE INDEX promises_deadline ON promises(decide_after) WHERE status = 'pending'")


@migrations()
def m006_claim_holder(db: sqlite_utils.Database) -> None:
    """Which process holds a claim (pid and host), so that a collector's second session
    never resumes the account the first one has open, while a crashed or finished one's
    account is handed back at once (queue/claim.py)."""
    db.execute("ALTER TABLE queue ADD COLUMN claim_pid INTEGER")
    db.execute("ALTER TABLE queue ADD COLUMN claim_host TEXT")


@migrations()
def m007_subdivisions_normalized(db: sqlite_utils.Database) -> None:
    """Customers' states and provinces as ISO 3166-2 codes ('Québec', 'CA-QC', 'PQ' ->
    'QC'), as imports now store them, so the Quebec and Ontario rules and the holidays of
    the customer's place apply. A value that is not recognized is left as it is."""
    marks = ",".join("?" * len(COUNTRIES))
    rows = db.execute(
        f"SELECT id, country, subdivision FROM customers WHERE country IN ({marks}) "
        "AND subdivision IS NOT NULL",
        COUNTRIES,
    ).fetchall()
    for cid, country, value in rows:
        code = subdivision_code(country, value)
        if code is not None and code != value:
            db.execute("UPDATE customers SET subdivision = ? WHERE id = ?", (code, cid))


# --- m008: promises decided right (dunning/queue/promises.py) -----------------------------


@migrations()
def m008_promise_rules(db: sqlite_utils.Database) -> None:
    for statement in M008.split(";\n"):
        if statement.strip():
            db.execute(statement)


@migrations()
def m009_collector_tz(db: sqlite_utils.Database) -> None:
    """Each collector's time zone (an IANA name, e.g. America/Toronto): what they type is
    read on their clock and "their day" is theirs, not the server's (over SSH the server's
    zone is rarely the collector's). NULL or '' = the host's local zone."""
    db.execute("ALTER TABLE collectors ADD COLUMN tz TEXT")


# --- m010: voiding an outcome (dunning/queue/void.py) -------------------------------------
# A void is an appended record: the activity stays, the void says who took it back, when
# and why. What the outcome created is cancelled, never deleted: promises 'cancelled',
# a dispute 'voided' (a new status: the table is rebuilt to widen its CHECK, keeping its
# rows and ids), a payment report voided through its activity's void.
# Its SQL, M010, is in dunning/db/schema_sql.py.


@migrations()
def m010_voids(db: sqlite_utils.Database) -> None:
    # Foreign keys stay on (a migration runs inside a transaction, where the pragma cannot
    # change): deferred, the rows of dispute_invoices briefly point at no dispute while the
    # table is rebuilt, and point at their own ids again before the commit checks them.
    db.execute("PRAGMA defer_foreign_keys = ON")
    for statement in M010.split(";\n"):
        if statement.strip():
            db.execute(statement)


# --- m011: the host's facts and the audit log (dunning/queue/audit.py, issue 7) -----------
# meta: facts about this database set once by its admin (e.g. the service account for
# which --as is honoured). audit_log: who did what outside the call history: every import,
# export, report, backup, collector change, reassignment, and every refusal. ``os_user``
# is the real OS account (pwd.getpwuid(os.getuid())), ``collector_id`` whom it acted as.
# Its SQL, M011, is in dunning/db/schema_sql.py.


@migrations()
def m011_audit_log(db: sqlite_utils.Database) -> None:
    for statement in M011.split(";\n"):
        if statement.strip():
            db.execute(statement)


# --- m012: the history is append-only (dunning/db/append_only.py, issue 7) ----------------
# Triggers refuse UPDATE and DELETE on the history tables (and an INSERT over an existing
# row), except the system transitions dunning performs: a promise decided, re-decided,
# cancelled or restored; a dispute resolved or voided; a void's details written once; a
# meta value changed. The module's docstring lists each one exactly.


@migrations()
def m012_append_only(db: sqlite_utils.Database) -> None:
    for statement in M012:
        db.execute(statement)


# --- m013: the history keeps its subjects (dunning/db/append_only.py, issue 7 QA) --------
# A customer or a collector is never deleted and never changes id (nor a collector's
# username): deleting an account in the sqlite3 shell took its calls and notes out of
# every export without touching a guarded table.


@migrations()
def m013_keep_subjects(db: sqlite_utils.Database) -> None:
    for statement in M013:
        db.execute(statement)


# --- m014: the search index (dunning/db/search_index.py, issue 8) -------------------------
# Customers' names folded (case, accents, punctuation) in FTS5 trigram and prefix indexes,
# kept in step by the writers through search_stale, and phones by their last digits. An
# existing database gets every name folded here (set-based; bench/bench_search.py times
# it at 1M customers).


@migrations()
def m014_search(db: sqlite_utils.Database) -> None:
    for statement in search_index.DDL:
        db.execute(statement)
    search_index.rebuild(db.conn)


# The aging of a past date (dunning/db/reports_past.py) reads only what changed after the
# date: invoices issued or changed (by an import) after it, or whose status disagrees with
# their open amount, through one expression index; and the payments dated after it.
# Both agings read unapplied cash from a small partial index instead of every payment.
CHANGED_ON = (
    "max(issue_date, substr(updated_at, 1, 10), "
    "CASE WHEN status != 'open' AND open_minor != 0 THEN '~' ELSE '' END)"
)


@migrations()
def m015_aging(db: sqlite_utils.Database) -> None:
    db.execute(f"CREATE INDEX invoices_changed_on ON invoices({CHANGED_ON})")
    db.execute("CREATE INDEX payments_paid_on ON payments(paid_on)")
    # unapplied cash (about 1% of payments), in the aging's order, without the table
    db.execute(
        "CREATE INDEX payments_unapplied ON payments(customer_id, currency, amount_minor) "
        "WHERE invoice_id IS NULL"
    )


# --- m016: the nightly refresh reads by id range through covering indexes (issue 8) ------
# queue/refresh.py sums each customer's unapplied cash and counts its usable phones for a
# range of customers; with these partial indexes both are index-only range reads (the
# older indexes on customer_id visit the table for every payment and phone).


@migrations()
def m016_refresh(db: sqlite_utils.Database) -> None:
    # payments_unapplied, the partial index of unapplied cash it also reads, is m015's
    db.execute(
        "CREATE INDEX IF NOT EXISTS phones_usable ON phones(customer_id) "
        "WHERE bad = 0 AND do_not_call = 0"
    )


# --- m017: a phone search reads one index only (issue 8) ---------------------------------
# phones_tail again, holding the number and the customer: a number shared by 50 accounts is
# a range of that index, not 50 phone rows read at random (search_index.COVERING_DDL;
# bench/bench_search.py). Same name, same order of rows.


@migrations()
def m017_search(db: sqlite_utils.Database) -> None:
    for statement in search_index.COVERING_DDL:
        db.execute(statement)


# --- m018: the aging snapshot (issue 8; dunning/db/aging_snapshot.py) --------------------
# Each customer's aging row as of one date, kept exact; empty until the nightly refresh
# builds it on a large ledger.


@migrations()
def m018_aging(db: sqlite_utils.Database) -> None:
    for statement in aging_snapshot.DDL:
        db.execute(statement)


# --- m019: today's aging in the report's order (issue 8; dunning/db/aging_order.py) -----
# The snapshot's rows with what a line shows, keyed by the report's order; a rename makes
# its customer dirty (a trigger). Filled here when the database has a snapshot already.


@migrations()
def m019_aging_order(db: sqlite_utils.Database) -> None:
    for statement in aging_order.DDL:
        db.execute(statement)
    if db.execute("SELECT 1 FROM aging_snapshot_state").fetchone() is not None:
        aging_order.fill(db.conn)


# --- m020: the aging of a past date reads the issue date in its indexes (issue 8) --------
# db/past_collector.py: the invoices issued after the date are nothing on it. With
# issue_date last in the covering index of open invoices, the base drops them in the index;
# with issue_date beside the expression of m015, the invoices changed after the date that
# were issued by it are a filtered range of that index (no table read). Same names, same
# leading columns: every reader of the old indexes reads the new ones the same way.
AGING_PAST_DDL = (
    "DROP INDEX IF EXISTS invoices_aging",
    "CREATE INDEX invoices_aging ON invoices"
    "(customer_id, currency, due_date, open_minor, disputed, issue_date) WHERE status = 'open'",
    "DROP INDEX IF EXISTS invoices_changed_on",
    f"CREATE INDEX invoices_changed_on ON invoices({CHANGED_ON}, issue_date)",
)


@migrations()
def m020_aging_past(db: sqlite_utils.Database) -> None:
    for statement in AGING_PAST_DDL:
        db.execute(statement)


# --- m021: the aligned table's widths kept beside aging_order (issue 8; aging_widths.py) -
# Counts of each amount's length and each text cell's width; filled here when the
# database has aging_order's rows already (one aggregate a column).


@migrations()
def m021_aging_widths(db: sqlite_utils.Database) -> None:
    for statement in aging_widths.DDL:
        db.execute(statement)
    if db.execute("SELECT 1 FROM aging_order_state").fetchone() is not None:
        aging_widths.fill(db.conn)


# --- m022 (issue 8, round 4): the queue row's standing (queue/standing.py: class, key, the
# day the class changes), ordered by the worklist index; stored priority no longer read.
@migrations()
def m022_refresh(db: sqlite_utils.Database) -> None:
    from dunning.queue.config import Settings
    from dunning.queue.standing import fill

    db.execute("ALTER TABLE queue ADD COLUMN pclass INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE queue ADD COLUMN pkey INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE queue ADD COLUMN restand_on TEXT")
    db.execute("DROP INDEX IF EXISTS queue_worklist")
    fill(db.conn, Settings())
    db.execute(
        "CREATE INDEX queue_worklist ON queue(collector_id, state, pclass, pkey DESC, customer_id)"
    )
    # the nightly refresh reads only the customers whose row can have changed
    # (queue/refresh_scope.py): its indexes, its record and the triggers that keep it
    from dunning.queue.refresh_scope import DDL as SCOPE_DDL

    _each(db, SCOPE_DDL)


def _each(db: sqlite_utils.Database, statements: Iterable[str]) -> None:
    for statement in statements:
        db.execute(statement)


# --- m023: the claim remembers until when an account it passed over stays closed (four
# queue columns, NULL: not known) and triggers that forget it (queue/claim_closed.py).


@migrations()
def m023_claim(db: sqlite_utils.Database) -> None:
    from dunning.queue.claim_closed import DDL

    _each(db, DDL)


# --- m024_review: the lead's decisions on reviews and disputes (issue 9): two append-only
# histories (queue/review.py, disputes.py); no index on the queue (the claim's path).


@migrations()
def m024_review(db: sqlite_utils.Database) -> None:
    _each(db, M024)


# --- m025_people (issue 9, items 8-10): collectors.team and .theme; collector_changes and
# claim_releases (append-only); work_sessions, one row per open screen with its heartbeat.


@migrations()
def m025_people(db: sqlite_utils.Database) -> None:
    from dunning.db.people_schema import DDL

    _each(db, DDL)


# --- m026_aging_plain (issue 8): aging_order.plain, a table line in one printf (aging_lines).


@migrations()
def m026_aging_plain(db: sqlite_utils.Database) -> None:
    db.execute(aging_order.PLAIN_DDL)
    if db.execute("SELECT 1 FROM aging_order LIMIT 1").fetchone() is not None:
        aging_order.fill_plain(db.conn)


# --- m027_loans: a rebalance's loans (issue 9, item 3): loans (an account lent until a date)
# and loan_returns, both append-only (db/loans_schema.py; queue/rebalance.py writes them).


@migrations()
def m027_loans(db: sqlite_utils.Database) -> None:
    from dunning.db.loans_schema import DDL

    _each(db, DDL)


# --- m028_places: each number's place stored in phone_places (db/phone_places.py): a claim
# and the account's screen never import phonenumbers; filled for the numbers in phones.


@migrations()
def m028_places(db: sqlite_utils.Database) -> None:
    from dunning.db import phone_places

    db.execute(phone_places.DDL)
    phone_places.fill_missing(db.conn)


# --- m029_lists: the account lists' indexes (issue 9, item 2; dunning/db/list_schema.py)
@migrations()
def m029_lists(db: sqlite_utils.Database) -> None:
    from dunning.db.list_schema import DDL

    _each(db, DDL)


from dunning.db import schema_later  # noqa: E402, F401 - m030 on: registered there
