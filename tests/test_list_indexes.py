"""The account lists' indexes after m031 (db/list_schema.py): what a lead's move and a
night's refresh rewrite (read from the UPDATE's own program: the indexes it opens for
writing), and a list read through each of its paths (the worklist's ranges, the ranges by
collector, the index over every account) giving the same pages, in SQL's order."""

from __future__ import annotations

import sqlite3

import pytest

from dunning.db.connection import write_tx
from dunning.queue import account_list, list_merge
from dunning.queue.collectors import get_collector
from dunning.queue.refresh_rows import COLUMNS, update_sql

LISTS = {"queue_list_balance", "queue_by_balance", "queue_by_due", "queue_by_contact"}


def written_indexes(conn: sqlite3.Connection, sql: str) -> set[str]:
    """The indexes of queue that ``sql`` opens for writing."""
    roots = {
        int(r[1]): r[0]
        for r in conn.execute(
            "SELECT name, rootpage FROM sqlite_master WHERE type = 'index' AND tbl_name = 'queue'"
        )
    }
    program = conn.execute(f"EXPLAIN {sql}", [None] * sql.count("?")).fetchall()
    return {roots[int(op[3])] for op in program if op[1] == "OpenWrite" and int(op[3]) in roots}


def test_a_move_and_a_nights_state_change_rewrite_no_list_but_balance(conn) -> None:  # noqa: ANN001
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert names >= LISTS and not {"queue_list_due", "queue_list_contact"} & names
    # a lead's move (queue/assign.py): the worklist and the balance ranges by collector
    move = "UPDATE queue SET collector_id = ?, updated_at = ? WHERE customer_id = ?"
    assert written_indexes(conn, move) & (LISTS | {"queue_worklist"}) == {
        "queue_worklist",
        "queue_list_balance",
    }
    # a night's waiting -> ready (queue/refresh_rows.py sets what changed, and the
    # priority and reasons): no list index
    state_only = update_sql(1 << COLUMNS.index("state"))
    assert "open_minor" not in state_only and "oldest_due" not in state_only
    assert not written_indexes(conn, state_only) & LISTS
    # what every column changing rewrites: the lists whose keys change
    everything = update_sql((1 << len(COLUMNS)) - 1)
    assert written_indexes(conn, everything) & LISTS == {
        "queue_list_balance",
        "queue_by_balance",
        "queue_by_due",
    }


@pytest.mark.parametrize("sort", ["balance", "due", "contact"])
@pytest.mark.parametrize("desc", [False, True])
@pytest.mark.parametrize("text", ["", "collector=alice", "collector=alice state=review",
                                  "state=review", "collector=alice,none"])  # fmt: skip
def test_every_path_of_a_list_gives_the_same_pages(
    conn, clock, settings, ledger, monkeypatch, sort, desc, text
) -> None:  # noqa: ANN001
    alice = ledger.collector("alice")
    bruno = ledger.collector("bruno")
    ledger.collector("lena", role="lead")
    for i in range(29):
        owner = (alice, bruno, None)[i % 3]
        cid = ledger.customer(f"P {i}", collector=owner,
                              invoices=[(700 * (i % 5) + 1, f"2026-0{1 + i % 6}-01")])  # fmt: skip
        if i % 4 == 0:
            with write_tx(conn):
                at = f"2026-11-0{1 + i % 3}T00:00:00Z" if i % 8 else None
                conn.execute("UPDATE queue SET state = 'review', last_contact_at = ? "
                             "WHERE customer_id = ?", (at, cid))  # fmt: skip
    lena = get_collector(conn, "lena")
    lq = account_list.query(conn, clock, settings, lena, text, sort=sort, desc=desc)
    column = account_list.SORTS[sort].key
    # what SQL says: the filter, ordered by the key (NULL keys as the sort puts them), id
    nulls = account_list.SORTS[sort].nulls
    null_first = (nulls == "first") != desc if nulls else False
    order = "DESC" if desc else "ASC"
    expected = [int(r[0]) for r in conn.execute(
        f"SELECT q.customer_id FROM {account_list.FROM} WHERE ({lq.where}) "
        f"ORDER BY ({column} IS NULL) {'DESC' if null_first else 'ASC'}, "
        f"{column} {order}, q.customer_id {order}", list(lq.params))]  # fmt: skip
    assert expected

    def walk() -> list[int]:
        seen, page = [], account_list.page(conn, clock, lq, size=3)
        while True:
            seen += [r.customer_id for r in page.rows]
            if not page.more_after:
                return seen
            page = account_list.page(conn, clock, lq, after=page.last, size=3)

    few = walk()  # a few accounts: the worklist's ranges (or the balance's by collector)
    monkeypatch.setattr(list_merge, "_few", lambda *a, **k: False)
    ranges = walk()  # as a collector with many accounts: the sort's own index
    assert few == ranges == expected
