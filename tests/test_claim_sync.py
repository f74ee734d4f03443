"""The claim's lease is committed without waiting for the disk; outcomes still wait.

A claim (and a renewal, a release, a search's open) writes a lease: a power cut may take
it back with no harm, so its COMMIT runs with ``synchronous=NORMAL``; every other write,
an outcome first, keeps ``synchronous=FULL``; a promise the claim decides (history) is
synced before the claim returns (db/connection.py ``write_tx(durable=False)``,
``sync_wal``)."""

import os
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from dunning.db import connection
from dunning.db.connection import sync_wal, write_tx
from dunning.queue.claim import claim_account, claim_next, release, renew
from dunning.queue.outcomes import OutcomeInput, log_outcome

FULL, NORMAL = 2, 1


def level(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA synchronous").fetchone()[0])


class Levels:
    """The synchronous level each COMMIT ran with, in order."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.commits: list[str] = []
        self._level = "FULL"
        conn.set_trace_callback(self._see)

    def _see(self, sql: str) -> None:
        s = sql.strip().upper()
        if s.startswith("PRAGMA SYNCHRONOUS="):
            self._level = s.split("=", 1)[1]
        elif s == "COMMIT":
            self.commits.append(self._level)


@pytest.fixture
def two(ledger):
    alice = ledger.collector("alice")
    a = ledger.customer("A", collector=alice, invoices=[(900_000, "2026-09-01")])
    b = ledger.customer("B", collector=alice, invoices=[(100_000, "2026-10-01")])
    return alice, a, b


def test_a_claim_commits_unsynced_and_the_outcome_synced(conn, clock, settings, two):
    alice, a, _ = two
    seen = Levels(conn)
    claim = claim_next(conn, clock, settings, alice)
    assert claim is not None and claim.customer_id == a
    assert seen.commits == ["NORMAL"]
    assert level(conn) == FULL  # back for whatever comes next
    assert renew(conn, clock, settings, alice, a)
    log_outcome(
        conn, clock, settings, collector_id=alice, customer_id=a, inp=OutcomeInput("no_answer")
    )
    assert seen.commits == ["NORMAL", "NORMAL", "FULL"]
    claim_account(conn, clock, settings, alice, a)  # opened again from search
    release(conn, alice, a)
    assert seen.commits[3:] == ["NORMAL", "NORMAL"]
    assert level(conn) == FULL


def test_the_level_comes_back_after_a_failed_lax_transaction(conn, two):
    alice, a, _ = two
    with pytest.raises(RuntimeError), write_tx(conn, durable=False):
        conn.execute("UPDATE queue SET claimed_by = ? WHERE customer_id = ?", (alice, a))
        raise RuntimeError("boom")
    assert level(conn) == FULL
    assert (
        conn.execute("SELECT claimed_by FROM queue WHERE customer_id = ?", (a,)).fetchone()[0]
        is None
    )  # rolled back
    assert not conn.in_transaction


def test_a_connection_kept_at_normal_stays_there(conn, clock, settings, two):
    """bench_work.py's reference run sets NORMAL for every commit: a lax transaction puts
    back the connection's own level, not FULL."""
    alice, _, _ = two
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.durable_sync = "NORMAL"
    claim_next(conn, clock, settings, alice)
    assert level(conn) == NORMAL


def fsynced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    paths: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        paths.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(connection.os, "fsync", spy)
    return paths


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc")
def test_a_claim_that_decides_a_promise_syncs_it(conn, db_path, ledger, monkeypatch, two):
    alice, a, _ = two
    log_outcome(
        conn,
        ledger.clock,
        ledger.settings,
        collector_id=alice,
        customer_id=a,
        inp=OutcomeInput("promise_to_pay", amount_minor=100_000, on_date=date(2026, 11, 30)),
    )
    paths = fsynced(monkeypatch)
    claim = claim_next(conn, ledger.clock, ledger.settings, alice)  # nothing to decide yet
    assert claim is not None and paths == []
    release(conn, alice, claim.customer_id)
    ledger.clock.at = datetime(2026, 12, 3, 15, tzinfo=UTC)  # grace ended: broken
    claim = claim_next(conn, ledger.clock, ledger.settings, alice)
    assert claim is not None and claim.customer_id == a
    status = conn.execute("SELECT status FROM promises").fetchone()[0]
    assert status == "broken"
    assert paths == [os.path.realpath(f"{db_path}-wal")]  # the decision is on the disk


def test_sync_wal_on_a_connection_without_a_path_does_nothing(tmp_path, monkeypatch):
    paths = fsynced(monkeypatch)
    for target in (":memory:", str(tmp_path / "plain.db")):
        plain = sqlite3.connect(target)  # not dunning's: no path recorded
        sync_wal(plain)
        plain.close()
    assert paths == []
