"""Whose accounts a search finds (issue 9, item 9): the same rule for ``/`` on the screen
and ``dunning search``.

- A lead whose ``team`` is set finds their team's accounts (assigned to a collector of
  that team) and the accounts assigned to nobody, as the read-only view and the account
  lists (``F``) scope them.
- An admin, a lead without a team, a collector and the host operator find every account
  (a collector's search keeps its rule: any customer, opened read-only when another
  collector's; queue/read_only.py).

The search itself (queue/search.py) is not changed: a lead's hits are filtered by owner,
asking the indexes for more hits (4x at a time, at most ``SCOPED_MAX``) until the page is
full or the matches run out, so a team that owns an eighth of the accounts still gets a
full page.
"""

from __future__ import annotations

import sqlite3

from dunning.queue.collectors import Collector
from dunning.queue.search import Hit, search_customers

SCOPED_MAX = 2000  # hits read for one lead's search at most (two pages read per hit)


def scope_team(by: Collector | None) -> str:
    """The team a search by ``by`` is limited to; '' for every account."""
    return by.team if by is not None and by.role == "lead" and by.team else ""


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
    members = {
        str(r[0]) for r in conn.execute("SELECT username FROM collectors WHERE team = ?", (team,))
    }
    ask = limit
    while True:
        hits = search_customers(conn, text, dial_region=dial_region, limit=ask)
        mine = [h for h in hits if h.assigned_to is None or h.assigned_to in members]
        if len(mine) >= limit or len(hits) < ask or ask >= SCOPED_MAX:
            return mine[:limit]
        ask = min(ask * 4, SCOPED_MAX)
