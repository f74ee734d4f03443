"""The order in which a lead's move (`dunning assign --from`) takes its chunks (issue 8,
round 6): the accounts that move are the book's lowest ids (``--limit``), as before; they
move in the order of the worklist index, so that each chunk's index entries are
neighbours (half the pages written per account). What moves, its history and what a
claim sees during the move are the same as in id order."""

from __future__ import annotations

import sqlite3

import pytest
from test_assign_from import build_book

from dunning.clock import FixedClock
from dunning.db.connection import write_tx
from dunning.queue import assign
from dunning.queue.assign import Book, reassign, reassign_from
from dunning.queue.claim import claim_next
from dunning.queue.collectors import get_collector
from dunning.queue.config import Settings

N = 1_500


@pytest.fixture
def book(conn, ledger, clock, settings, monkeypatch) -> list[int]:  # noqa: ANN001
    ids = build_book(conn, ledger, clock, settings, N)
    ledger.collector("carol")
    with write_tx(conn):  # standings that differ from the id order
        conn.execute("UPDATE queue SET pkey = (customer_id * 7919) % 1000")
    for name in ("FIRST_CHUNK", "MIN_CHUNK", "MAX_CHUNK"):
        monkeypatch.setattr(assign, name, 100)  # fixed chunks of 100
    return ids


def worklist_order(conn: sqlite3.Connection, ids: list[int]) -> list[int]:
    marks = ",".join("?" * len(ids))
    return [
        r[0]
        for r in conn.execute(
            f"SELECT customer_id FROM queue WHERE customer_id IN ({marks}) "
            "ORDER BY state, pclass, pkey DESC, customer_id",
            ids,
        )
    ]


def test_the_lowest_ids_move_in_chunks_taken_in_the_worklists_order(conn, clock, book):
    lead, alice, bruno = (get_collector(conn, n) for n in ("lena", "alice", "bruno"))
    assert lead and alice and bruno
    order = worklist_order(conn, book[:1000])
    chunks: list[list[int]] = []

    def seen(moved: int) -> None:
        rows = conn.execute("SELECT customer_id FROM assignments ORDER BY id").fetchall()
        chunks.append([r[0] for r in rows][sum(map(len, chunks)) :])

    moved = reassign_from(conn, clock, lead, Book(alice.id, "alice", 1000), bruno, "x",
                          pause=0, progress=seen)  # fmt: skip
    assert moved == 1000
    mine = [r[0] for r in conn.execute(
        "SELECT customer_id FROM queue WHERE collector_id = ? ORDER BY customer_id", (bruno.id,)
    )]  # fmt: skip
    assert mine == book[:1000]  # the lowest ids, as before
    assert len(chunks) == 10 and all(len(c) == 100 for c in chunks)
    # each chunk is the next 100 of the worklist's order; its history rows in id order
    assert [sorted(c) for c in chunks] == [sorted(order[i : i + 100]) for i in range(0, 1000, 100)]
    assert all(c == sorted(c) for c in chunks)
    assert order != sorted(order)  # (the test's standings do differ from the ids)


def test_accounts_that_leave_the_book_during_the_move_are_made_up_by_the_next_ids(
    conn, clock, book
):
    lead, alice, bruno, carol = (get_collector(conn, n) for n in ("lena", "alice", "bruno",
                                                                   "carol"))  # fmt: skip
    assert lead and alice and bruno and carol
    order = worklist_order(conn, book[:500])
    gone = order[-3:]  # staged, in the last chunk: given to carol after the first chunk

    def seen(moved: int) -> None:
        if moved == 100:
            reassign(conn, clock, lead, gone, carol, "meanwhile")

    moved = reassign_from(conn, clock, lead, Book(alice.id, "alice", 500), bruno, "x",
                          pause=0, progress=seen)  # fmt: skip
    assert moved == 500
    mine = {r[0] for r in conn.execute(
        "SELECT customer_id FROM queue WHERE collector_id = ?", (bruno.id,)
    )}  # fmt: skip
    assert mine == set(book[:503]) - set(gone)
    assert {r[0] for r in conn.execute(
        "SELECT customer_id FROM queue WHERE collector_id = ?", (carol.id,)
    )} == set(gone)  # fmt: skip


def test_a_claim_during_the_move_sees_what_it_sees_without_one(
    conn, clock: FixedClock, settings: Settings, book
):
    """Between the move's chunks the source's and the target's claims each take the best
    account of their book as it is then, as a claim with no move under way does."""
    lead, alice, bruno = (get_collector(conn, n) for n in ("lena", "alice", "bruno"))
    assert lead and alice and bruno
    claimed: list[tuple[int, int | None, int | None]] = []

    def best(cid: int) -> int | None:  # the head of the worklist nobody holds
        row = conn.execute(
            "SELECT customer_id FROM queue WHERE collector_id = ? AND state = 'ready' "
            "AND claimed_by IS NULL ORDER BY pclass, pkey DESC, customer_id LIMIT 1",
            (cid,),
        ).fetchone()
        return None if row is None else row[0]

    def seen(moved: int) -> None:
        for who in (alice, bruno):
            want = best(who.id)
            got = claim_next(conn, clock, settings, who.id, resume=False)
            claimed.append((moved, want, got.customer_id if got else None))

    moved = reassign_from(conn, clock, lead, Book(alice.id, "alice", 1000), bruno, "x",
                          pause=0, progress=seen)  # fmt: skip
    assert moved == 1000 and len(claimed) == 20
    assert all(want == got and got is not None for _m, want, got in claimed)
