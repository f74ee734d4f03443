"""The lead's desk for the screens: the review queue and the disputes through one
connection of their own (a lead's screen never waits on the work session's), every call
serialized by a lock so that thread workers may use it. The rules are in review.py and
disputes.py; this only carries the connection, the clock, the settings and who asks."""

from __future__ import annotations

import sqlite3

from dunning.queue import disputes, disputes_list, lead_scope, read_only, review, review_list
from dunning.queue.collectors import Collector, get_collector, list_collectors
from dunning.queue.desk import Desk
from dunning.queue.rights import allowed


class LeadDesk(Desk):
    def may(self, action: str) -> bool:
        return allowed(self.collector.role, action)

    def review_fetch(
        self, where: str, cursor: object, team: str | None = None
    ) -> review_list.ReviewPage:
        """One page of the review queue (paged_list.py's ``where``: first, after, before,
        last; ``cursor`` the row to read from)."""
        c = cursor if isinstance(cursor, tuple) else None
        return self._run(
            lambda conn: review_list.review_page(
                conn, self.clock, self.collector, after=c if where == "after" else None,
                before=c if where == "before" else None, last=where == "last", team=team,
            )
        )  # fmt: skip

    def review_count(self, team: str | None = None) -> int:
        """How many accounts wait in review (read after the first page)."""
        return self._run(
            lambda conn: review_list.review_count(conn, self.clock, self.collector, team=team)
        )

    def decide(
        self, customer_id: int, decision: str, reason: str, to: str | None = None
    ) -> review.Decision:
        def go(conn: sqlite3.Connection) -> review.Decision:
            target = None
            if to is not None:
                target = get_collector(conn, to)
                if target is None:
                    raise review.ReviewError(f"unknown collector {to!r}")
            return review.decide(conn, self.clock, self.settings, self.collector, customer_id,
                                 decision, reason, to=target)  # fmt: skip

        return self._run(go)

    def disputes_listing(
        self, department: str | None = None, overdue_only: bool = False, team: str | None = None
    ) -> disputes_list.Listing:
        return self._run(
            lambda conn: disputes_list.listing(
                conn, self.clock, self.collector, department=department,
                overdue_only=overdue_only, team=team,
            )
        )  # fmt: skip

    def disputes_fetch(
        self, lst: disputes_list.Listing, where: str, cursor: object
    ) -> disputes_list.DisputePage:
        c = cursor if isinstance(cursor, tuple) else None
        return self._run(
            lambda conn: disputes_list.disputes_page(
                conn, self.clock, self.settings, lst, after=c if where == "after" else None,
                before=c if where == "before" else None, last=where == "last",
            )
        )  # fmt: skip

    def disputes_count(self, lst: disputes_list.Listing) -> tuple[int, int]:
        """(open disputes in the list, overdue among them), read after the first page."""
        return self._run(
            lambda conn: disputes_list.disputes_count(conn, self.clock, self.settings, lst)
        )

    def teams(self) -> list[str]:
        return self._run(lead_scope.teams)

    def resolve(self, dispute_id: int, valid: bool, reason: str) -> disputes.Resolution:
        return self._run(
            lambda conn: disputes.resolve_dispute(
                conn, self.clock, self.settings, self.collector, dispute_id, valid=valid,
                reason=reason,
            )
        )  # fmt: skip

    def look(self, customer_id: int) -> read_only.ReadOnlyAccount:
        """An account read-only, with who holds it (queue/read_only.py): nothing written."""
        return self._run(
            lambda conn: read_only.look_at(
                conn, self.clock, self.settings, self.collector, customer_id
            )
        )

    def held_by_other(self, customer_id: int) -> read_only.Holder | None:
        return self._run(
            lambda conn: read_only.held_by_other(conn, self.clock, self.collector, customer_id)
        )

    def collectors(self) -> list[Collector]:
        return self._run(list_collectors)
