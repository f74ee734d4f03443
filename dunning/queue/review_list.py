"""The review queue a page at a time (issue 9, item 5): keyset pages, oldest first.

An account waits in review from its queue row's ``next_action_at`` (set when the outcome
that sent it was logged); the page's order is ``(next_action_at, customer_id)``. A page is
one range of the review index (m032 ``queue_review_since``: the review rows alone, in that
order, with their collector) after (or before) the last row seen, in scope
(queue/lead_scope.py: a lead's team and nobody, or everyone), ``LIMIT page + 1``; then
what the list shows for those rows alone
(why each came, who sent it, the terms proposed). Never every row: 100,000 accounts in
review after a bad night are read a page at a time (bench/bench_review_lists.py). The
count is read separately, per owner, from the worklist index alone.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from dunning.clock import Clock
from dunning.queue import approvals
from dunning.queue.collectors import Collector
from dunning.queue.lead_scope import Scope, scope_of
from dunning.queue.review import ReviewItem, _reason_code, _require, came_for, proposal_of

PAGE = 100
Cursor = tuple[str, int]  # (next_action_at, customer id)


@dataclass(frozen=True)
class ReviewPage:
    rows: list[ReviewItem]
    more_after: bool
    more_before: bool

    @property
    def first(self) -> Cursor | None:
        return (self.rows[0].key, self.rows[0].customer_id) if self.rows else None

    @property
    def last(self) -> Cursor | None:
        return (self.rows[-1].key, self.rows[-1].customer_id) if self.rows else None


def _ids(
    conn: sqlite3.Connection, scope: Scope, cursor: Cursor | None, down: bool, size: int
) -> list[Cursor]:
    """(next_action_at, customer id) of up to ``size`` review rows after ``cursor`` in
    the direction read (``down``: newest first), in scope: one range of the review index
    (m032 ``queue_review_since``, which holds the collector: the scope is checked in it)."""
    order, cmp = ("DESC", "<") if down else ("ASC", ">")
    seen, args = scope.sql("+collector_id")  # "+": checked in the review index's rows
    sql = f"SELECT next_action_at, customer_id FROM queue WHERE state = 'review' AND {seen}"
    if cursor is not None:
        sql += (f" AND next_action_at {cmp}= ? AND (next_action_at {cmp} ? "
                f"OR customer_id {cmp} ?)")  # fmt: skip
        args += [cursor[0], cursor[0], cursor[1]]
    sql += f" ORDER BY next_action_at {order}, customer_id {order} LIMIT ?"
    args.append(size)
    return [(str(r[0]), int(r[1])) for r in conn.execute(sql, args)]


def items(conn: sqlite3.Connection, by: Collector, ids: list[Cursor]) -> list[ReviewItem]:
    """What the list shows for ``ids`` (a page), in their order."""
    out: list[ReviewItem] = []
    for key, cid in ids:
        row = conn.execute(
            """SELECT c.external_ref, c.name, c.currency, k.username AS owner,
                      q.open_minor + q.unapplied_minor AS owed
               FROM customers c JOIN queue q ON q.customer_id = c.id
               LEFT JOIN collectors k ON k.id = q.collector_id WHERE c.id = ?""",
            (cid,),
        ).fetchone()
        if row is None:
            continue
        why = came_for(conn, cid)
        code, proposal = _reason_code(why), proposal_of(why)
        out.append(
            ReviewItem(
                customer_id=cid,
                ref=row["external_ref"],
                name=row["name"],
                collector=row["owner"],
                came_for=code,
                note=why["note"] if why else "",
                sent_by=why["who"] if why else None,
                since=why["at"] if why else key,
                owed_minor=max(int(row["owed"] or 0), 0),
                currency=row["currency"],
                activity_id=int(why["id"]) if why else None,
                terms=approvals.terms_text(code, proposal, row["currency"], by.locale),
                proposal=proposal or None,
                key=key,
            )
        )
    return out


def review_page(
    conn: sqlite3.Connection,
    clock: Clock,
    by: Collector,
    *,
    after: Cursor | None = None,
    before: Cursor | None = None,
    last: bool = False,
    size: int | None = None,
    team: str | None = None,
) -> ReviewPage:
    """One page of the review queue, oldest first: the first (no cursor), the one after
    ``after``, the one before ``before``, or the last (``last``). Refused (RightsError) for
    a collector, ScopeError for a team not theirs."""
    size = size or PAGE
    _require(conn, clock, by, "list")
    scope = scope_of(conn, by, team)
    backwards = before is not None or last
    ids = _ids(conn, scope, before if before is not None else after, backwards, size + 1)
    more = len(ids) > size
    ids = ids[:size]
    if backwards:
        ids.reverse()
    rows = items(conn, by, ids)
    if before is not None:
        return ReviewPage(rows, more_after=True, more_before=more)
    if last:
        return ReviewPage(rows, more_after=False, more_before=more)
    return ReviewPage(rows, more_after=more, more_before=after is not None)


def review_count(
    conn: sqlite3.Connection, clock: Clock, by: Collector, *, team: str | None = None
) -> int:
    """How many accounts wait in review in ``by``'s scope (the worklist index alone)."""
    _require(conn, clock, by, "list")
    return count_in(conn, scope_of(conn, by, team))


def count_in(conn: sqlite3.Connection, scope: Scope) -> int:
    return sum(
        conn.execute(
            "SELECT COUNT(*) FROM queue WHERE collector_id IS ? AND state = 'review'", (owner,)
        ).fetchone()[0]
        for owner in scope.segments(conn)
    )
