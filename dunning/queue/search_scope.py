"""Whose accounts a search finds (issue 9, item 9): the same rule for ``/`` on the screen
and ``dunning search``.

- A lead whose ``team`` is set finds their team's accounts (assigned to a collector of
  that team) and the accounts assigned to nobody, as the read-only view and the account
  lists (``F``) scope them.
- An admin, a lead without a team, a collector and the host operator find every account
  (a collector's search keeps its rule: any customer, opened read-only when another
  collector's; queue/read_only.py).

The search (queue/search.py) asks its indexes for 4x the page's ids and drops another
team's before their rows are read (``keep``: the queue row alone); when the page is still
not full, once more for as many as the team's share of them says a page needs (at most
``SCOPED_MAX``), so a team that owns an eighth of the accounts still gets a full page
(bench/bench_writeoffs.py measures it).
"""

from __future__ import annotations

import json
import sqlite3

from dunning.queue.collectors import Collector
from dunning.queue.search import Hit, search_customers

SCOPED_MAX = 2000  # hits read for one lead's search at most (two pages read per hit)


def scope_team(by: Collector | None) -> str:
    """The team a search by ``by`` is limited to; '' for every account."""
    return by.team if by is not None and by.role == "lead" and by.team else ""


# the ids given, less those assigned to a collector outside the team (?2): one statement
# whatever the number of ids (one prepared statement), in the order given
_KEEP = """SELECT j.value FROM json_each(?1) j WHERE NOT EXISTS (
    SELECT 1 FROM queue q WHERE q.customer_id = j.value AND q.collector_id IS NOT NULL
    AND q.collector_id NOT IN (SELECT value FROM json_each(?2)))"""


def search_for(
    conn: sqlite3.Connection,
    by: Collector | None,
    text: str,
    *,
    dial_region: str = "US",
    limit: int = 50,
) -> list[Hit]:
    """``search_customers`` as ``by`` may see it (see the module's note)."""
    team = scope_team(by)
    if not team:
        return search_customers(conn, text, dial_region=dial_region, limit=limit)
    members = json.dumps(
        [r[0] for r in conn.execute("SELECT id FROM collectors WHERE team = ?", (team,))]
    )
    seen = [0]

    def keep(c: sqlite3.Connection, ids: list[int]) -> list[int]:
        seen[0] += len(ids)
        return [int(r[0]) for r in c.execute(_KEEP, (json.dumps(ids), members))]

    ask = limit * 4  # most teams own a quarter of the accounts or more: one search
    while True:
        seen[0] = 0
        hits = search_customers(conn, text, dial_region=dial_region, limit=ask, keep=keep)
        if len(hits) >= limit or seen[0] < ask or ask >= SCOPED_MAX:
            return hits[:limit]
        # as many ids as the team's share of these says a page needs (a quarter more for
        # the spread), at least twice as many
        wanted = -(-limit * seen[0] * 5 // (4 * max(len(hits), 1)))
        ask = min(max(wanted, ask * 2), SCOPED_MAX)
