"""The lead's desk for the screens: the review queue and the disputes through one
connection of their own (a lead's screen never waits on the work session's), every call
serialized by a lock so that thread workers may use it. The rules are in review.py and
disputes.py; this only carries the connection, the clock, the settings and who asks."""

from __future__ import annotations

import sqlite3

from dunning.queue import disputes, read_only, review
from dunning.queue.collectors import Collector, get_collector, list_collectors
from dunning.queue.desk import Desk
from dunning.queue.rights import allowed


class LeadDesk(Desk):
    def may(self, action: str) -> bool:
        return allowed(self.collector.role, action)

    def review_page(self, offset: int, limit: int) -> tuple[list[review.ReviewItem], int]:
        """One page of the review queue and how many accounts wait in all."""

        def go(conn: sqlite3.Connection) -> tuple[list[review.ReviewItem], int]:
            items = review.list_review(conn, self.clock, self.collector, offset=offset,
                                       limit=limit)  # fmt: skip
            return items, review.count_review(conn)

        return self._run(go)

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

    def disputes(
        self, department: str | None = None, overdue_only: bool = False
    ) -> list[disputes.DisputeItem]:
        return self._run(
            lambda conn: disputes.list_disputes(
                conn, self.clock, self.settings, self.collector, department=department,
                overdue_only=overdue_only,
            )
        )  # fmt: skip

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
