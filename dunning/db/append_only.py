"""The history tables are append-only, enforced by the database itself (m012, issue 7).

Triggers refuse every UPDATE and DELETE on the history — from dunning, from the
``sqlite3`` shell or from any other program — with ``append-only: <table> ...``, except
the system transitions dunning performs, each allowed exactly (every other column
unchanged):

- ``promises``: pending -> kept | partial | broken (``paid_minor``; ``decided_at`` set
  once); partial | broken -> kept | partial, re-decided when money arrives
  (``paid_minor`` never lower, ``decided_at`` kept); any status but cancelled ->
  cancelled (superseded by a new promise or plan: ``superseded_by`` set from NULL on a
  pending one; or voided; ``decided_at`` set once); cancelled -> pending when the void
  of the promise that superseded it restores it (``superseded_by`` and ``decided_at``
  back to NULL, only on a row that had been superseded).
- ``disputes``: open -> resolved_valid | resolved_invalid | voided, ``resolved_at`` set
  and ``resolved_by`` set from NULL.
- ``voids``: ``details`` (what the void cancelled) filled once, from NULL, in the void's
  own transaction (dunning/queue/void.py).
- ``meta``: a value may change (``key`` never), as ``queue.audit.set_meta`` does, which
  records the change in ``audit_log`` in the same transaction; a row is never deleted,
  but for the transient ``writer`` note (who holds the write lock now: db/lockwait.py),
  which is removed when the long write ends.
- activities, assignments, dispute_invoices, payment_reports, import_runs,
  invoice_closures, audit_log: no UPDATE, no DELETE at all.

- customers, collectors (m013): never deleted, ``id`` (and a collector's ``username``)
  never changed, so no history row loses whom it is about or who made it; every other
  column changes as before (imports, ``collectors set``, status changes).

``INSERT OR REPLACE`` deletes the row it replaces without firing a DELETE trigger, so an
insert over an existing key is refused too (``meta`` aside: its upsert is an UPDATE).

What this protects, and what it does not: anyone who can write the file can also drop a
trigger (``DROP TRIGGER`` changes the schema, and ``dunning export audit`` names a missing
guard); the file's permissions keep other users out. The triggers stop a quiet edit of
the history — a note rewritten, a reassignment deleted — by dunning's own code paths, a
script or an ``UPDATE`` typed into ``sqlite3``.

M012 has shipped: never edit it. A later migration that rebuilds a guarded table must
create its triggers again (``GUARDS`` lists them; tests/test_append_only.py checks
that the migrated schema has every one); one that must rewrite history on purpose
drops the trigger and creates it again in the same migration.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

# table -> columns of its key, for the INSERT-over-an-existing-row guard
_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "activities": (("id",),),
    "assignments": (("id",),),
    "promises": (("id",),),
    "disputes": (("id",),),
    "dispute_invoices": (("dispute_id", "invoice_id"),),
    "payment_reports": (("id",),),
    "voids": (("id",), ("activity_id",)),
    "import_runs": (("id",),),
    "invoice_closures": (("id",),),
    "audit_log": (("id",),),
}
# tables with no UPDATE at all
_FROZEN = (
    "activities", "assignments", "dispute_invoices", "payment_reports", "import_runs",
    "invoice_closures", "audit_log",
)  # fmt: skip

_SAME_PROMISE = " AND ".join(
    f"NEW.{c} IS OLD.{c}"
    for c in (
        "id",
        "customer_id",
        "activity_id",
        "plan_ref",
        "instalment",
        "amount_minor",
        "currency",
        "promised_on",
        "due_date",
        "grace_days",
        "created_at",
        "created_by",
        "decide_at",
    )  # fmt: skip
)
_SAME_DISPUTE = " AND ".join(
    f"NEW.{c} IS OLD.{c}"
    for c in (
        "id",
        "customer_id",
        "activity_id",
        "reason",
        "department",
        "amount_minor",
        "currency",
        "created_at",
        "created_by",
    )  # fmt: skip
)
_SAME_VOID = " AND ".join(
    f"NEW.{c} IS OLD.{c}"
    for c in ("id", "activity_id", "customer_id", "voided_at", "voided_by", "reason", "undo")
)
_SET_ONCE = "(NEW.decided_at IS OLD.decided_at OR OLD.decided_at IS NULL)"
_PROMISE_MOVES = f"""(
    -- nothing changes
    (NEW.status IS OLD.status AND NEW.paid_minor IS OLD.paid_minor
     AND NEW.decided_at IS OLD.decided_at AND NEW.superseded_by IS OLD.superseded_by)
    -- decided: pending -> kept, partial or broken
    OR (OLD.status = 'pending' AND NEW.status IN ('kept', 'partial', 'broken')
        AND NEW.decided_at IS NOT NULL AND {_SET_ONCE}
        AND NEW.superseded_by IS OLD.superseded_by)
    -- decided again when money arrives: never less paid, decided_at kept
    OR (OLD.status IN ('partial', 'broken') AND NEW.status IN ('kept', 'partial')
        AND NEW.paid_minor >= OLD.paid_minor AND NEW.decided_at IS OLD.decided_at
        AND NEW.superseded_by IS OLD.superseded_by)
    -- cancelled: superseded (from pending) or voided
    OR (OLD.status != 'cancelled' AND NEW.status = 'cancelled'
        AND NEW.paid_minor IS OLD.paid_minor AND NEW.decided_at IS NOT NULL AND {_SET_ONCE}
        AND (NEW.superseded_by IS OLD.superseded_by
             OR (OLD.status = 'pending' AND OLD.superseded_by IS NULL)))
    -- restored: the promise that superseded it was voided
    OR (OLD.status = 'cancelled' AND NEW.status = 'pending'
        AND OLD.superseded_by IS NOT NULL AND NEW.superseded_by IS NULL
        AND NEW.decided_at IS NULL AND NEW.paid_minor IS OLD.paid_minor)
)"""
_DISPUTE_MOVES = """(
    (NEW.status IS OLD.status AND NEW.resolved_at IS OLD.resolved_at
     AND NEW.resolved_by IS OLD.resolved_by)
    OR (OLD.status = 'open' AND NEW.status IN ('resolved_valid', 'resolved_invalid', 'voided')
        AND OLD.resolved_at IS NULL AND NEW.resolved_at IS NOT NULL
        AND OLD.resolved_by IS NULL)
)"""


def _raise(what: str) -> str:
    return f"SELECT RAISE(ABORT, 'append-only: {what}')"


def _trigger(name: str, when: str, table: str, cond: str, what: str) -> str:
    cond = f" WHEN {cond}" if cond else ""
    return f"CREATE TRIGGER {name} BEFORE {when} ON {table}{cond}\nBEGIN {_raise(what)}; END"


def guards() -> dict[str, str]:
    """Each trigger's name and its CREATE TRIGGER statement, as m012 creates them."""
    out: dict[str, str] = {}
    for table, keys in _KEYS.items():
        out[f"{table}_no_delete"] = _trigger(
            f"{table}_no_delete", "DELETE", table, "", f"{table} rows are never deleted"
        )
        exists = " OR ".join(
            f"EXISTS (SELECT 1 FROM {table} WHERE "
            + " AND ".join(f"{c} = NEW.{c}" for c in key)
            + ")"
            for key in keys
        )
        out[f"{table}_no_replace"] = _trigger(
            f"{table}_no_replace", "INSERT", table, exists,
            f"{table} rows are never replaced (a correction is a new row)",
        )  # fmt: skip
    for table in _FROZEN:
        out[f"{table}_no_update"] = _trigger(
            f"{table}_no_update", "UPDATE", table, "",
            f"{table} rows are never changed (a correction is a new row)",
        )  # fmt: skip
    out["promises_no_update"] = _trigger(
        "promises_no_update", "UPDATE", "promises",
        f"NOT ({_SAME_PROMISE} AND {_PROMISE_MOVES})",
        "a promise changes only by the system decision, cancellation or restoration",
    )  # fmt: skip
    out["disputes_no_update"] = _trigger(
        "disputes_no_update", "UPDATE", "disputes", f"NOT ({_SAME_DISPUTE} AND {_DISPUTE_MOVES})",
        "a dispute changes only from open to resolved or voided",
    )  # fmt: skip
    out["voids_no_update"] = _trigger(
        "voids_no_update", "UPDATE", "voids",
        f"NOT ({_SAME_VOID} AND (NEW.details IS OLD.details OR OLD.details IS NULL))",
        "a void is never changed (its details are written once)",
    )  # fmt: skip
    out["meta_no_delete"] = _trigger(
        "meta_no_delete", "DELETE", "meta", "OLD.key != 'writer'", "meta rows are never deleted"
    )
    out["meta_no_rekey"] = _trigger(
        "meta_no_rekey", "UPDATE", "meta", "NEW.key IS NOT OLD.key",
        "a meta key is never renamed",
    )  # fmt: skip
    return out


# the statements m012 ran, frozen: a later change is a new migration
M012 = list(guards().values())


def subject_guards() -> dict[str, str]:
    """The triggers that keep whom the history is about and who made it (m013): a
    customer or a collector is never deleted, and their ``id`` (a collector's
    ``username`` too) never changes. Without them, ``DELETE FROM customers`` in the
    ``sqlite3`` shell (foreign keys are off there) took the account's calls and notes out
    of every export, and renaming a collector gave their outcomes to someone else, no
    trigger dropped. dunning itself closes an account (``status``) and deactivates a
    collector (``active = 0``), never deletes them."""
    return {
        "customers_no_delete": _trigger(
            "customers_no_delete", "DELETE", "customers", "",
            "customers are never deleted (their history would lose its account)",
        ),
        "customers_no_rekey": _trigger(
            "customers_no_rekey", "UPDATE", "customers", "NEW.id IS NOT OLD.id",
            "customer ids never change",
        ),
        "collectors_no_delete": _trigger(
            "collectors_no_delete", "DELETE", "collectors", "",
            "collectors are never deleted (deactivate them instead)",
        ),
        "collectors_no_rekey": _trigger(
            "collectors_no_rekey", "UPDATE", "collectors",
            "NEW.id IS NOT OLD.id OR NEW.username IS NOT OLD.username",
            "collector ids and usernames never change",
        ),
    }  # fmt: skip


# the statements m013 ran, frozen like M012
M013 = list(subject_guards().values())


def missing_guards(conn: sqlite3.Connection) -> list[str]:
    """The append-only triggers this database lacks (dropped by hand, or lost when a
    table was rebuilt), by name; [] when every one is there."""
    have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    from dunning.db import loans_schema, people_schema  # m025_people's, m027_loans's histories

    every = set(guards()) | set(subject_guards()) | set(people_schema.guards())
    return sorted((every | set(loans_schema.guards())) - have)


@contextmanager
def lifted(conn: sqlite3.Connection, *names: str) -> Iterator[None]:
    """Drop the named guards for the block and create them again after it, inside the
    caller's transaction: for a migration that must rewrite history on purpose (and for
    tests that reset a fixture), never for daily work."""
    from dunning.db import loans_schema, people_schema

    known = {**guards(), **subject_guards(), **people_schema.guards(), **loans_schema.guards()}
    for name in names:
        conn.execute(f"DROP TRIGGER IF EXISTS {name}")
    try:
        yield
    finally:
        for name in names:
            conn.execute(known[name])
