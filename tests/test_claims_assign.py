"""Reassignment by a lead: history rows and the owner change together, 1,000 accounts per
write transaction, refused for collectors."""

import pytest

from dunning.db.connection import write_tx
from dunning.queue.accounts import refresh_accounts
from dunning.queue.assign import AssignError, reassign
from dunning.queue.collectors import get_collector

N = 2_345


@pytest.fixture
def big_book(conn, clock, settings, ledger):
    ledger.collector("alice")
    ledger.collector("bruno")
    ledger.collector("lena", role="lead")
    now = ledger.now
    with write_tx(conn):
        conn.executemany(
            "INSERT INTO customers (external_ref, name, country, currency, created_at, "
            "updated_at) VALUES (?, ?, 'US', 'USD', ?, ?)",
            [(f"K{n:06d}", f"Customer {n}", now, now) for n in range(N)],
        )
        ids = [r[0] for r in conn.execute("SELECT id FROM customers ORDER BY id")]
        # every account but the last 45 has a queue row owned by alice
        refresh_accounts(conn, clock, settings, ids[:-45])
        conn.execute(
            "UPDATE queue SET collector_id = (SELECT id FROM collectors WHERE username = 'alice')"
        )
    return ids


def who(conn, name):
    c = get_collector(conn, name)
    assert c is not None
    return c


def test_reassign_in_chunks_of_1000(conn, clock, big_book):
    lena, bruno = who(conn, "lena"), who(conn, "bruno")
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    moved = reassign(conn, clock, lena, big_book, bruno, "territory change")
    conn.set_trace_callback(None)
    assert moved == N
    # 1000+1000+345, the two short ones that name the bulk move as the lock's holder
    # while it runs (lockwait.announce: the note written, then removed), and the audit row
    assert sum(1 for s in statements if s.strip() == "BEGIN IMMEDIATE") == 3 + 2 + 1
    assert conn.execute("SELECT COUNT(*) FROM meta WHERE key = 'writer'").fetchone()[0] == 0
    owners = conn.execute("SELECT collector_id, COUNT(*) FROM queue GROUP BY 1").fetchall()
    assert [tuple(r) for r in owners] == [(bruno.id, N)]  # missing queue rows were created
    rows = conn.execute(
        "SELECT COUNT(*), COUNT(DISTINCT customer_id), MIN(assigned_by), MAX(assigned_by), "
        "MIN(reason), MIN(assigned_at) FROM assignments"
    ).fetchone()
    assert tuple(rows) == (N, N, lena.id, lena.id, "territory change", "2026-11-23T15:00:00Z")


def test_accounts_already_with_the_collector_are_left_alone(conn, clock, big_book):
    lena, alice = who(conn, "lena"), who(conn, "alice")
    assert reassign(conn, clock, lena, big_book[:10], alice, "") == 0
    assert conn.execute("SELECT COUNT(*) FROM assignments").fetchone()[0] == 0
    assert reassign(conn, clock, lena, [*big_book[:3], 10**9], who(conn, "bruno"), "") == 3


def test_collectors_may_not_reassign(conn, clock, big_book):
    alice, bruno = who(conn, "alice"), who(conn, "bruno")
    with pytest.raises(AssignError, match="needs the lead or admin role"):
        reassign(conn, clock, alice, big_book[:5], bruno, "mine now")
    assert conn.execute("SELECT COUNT(*) FROM assignments").fetchone()[0] == 0


def test_an_inactive_collector_cannot_take_accounts(conn, clock, big_book):
    lena, bruno = who(conn, "lena"), who(conn, "bruno")
    conn.execute("UPDATE collectors SET active = 0 WHERE id = ?", (bruno.id,))
    with pytest.raises(AssignError, match="not an active collector"):
        reassign(conn, clock, lena, big_book[:5], bruno, "")
    assert conn.execute("SELECT COUNT(*) FROM assignments").fetchone()[0] == 0
