"""The rebalance dialog's access to the database: a connection of its own (the work
session's is issue 8's hot path and is not touched), every call serialized by a lock so
thread workers may use it. The rules are in rebalance.py and rebalance_move.py."""

from __future__ import annotations

from dunning.queue import rebalance, rebalance_move
from dunning.queue.desk import Desk
from dunning.queue.rights import allowed


class RebalanceDesk(Desk):
    def may(self) -> bool:
        return allowed(self.collector.role, "rebalance")

    def plan(
        self, *, source: str, targets: list[str], by: str, until: str, reason: str
    ) -> rebalance.Plan:
        return self._run(
            lambda conn: rebalance.plan(
                conn, self.clock, self.settings, self.collector, source=source or None,
                targets=targets or None, by=by, until=until or None, reason=reason,
            )
        )  # fmt: skip

    def commit(self, plan: rebalance.Plan) -> int:
        return self._run(lambda conn: rebalance_move.commit(conn, self.clock, self.collector, plan))
