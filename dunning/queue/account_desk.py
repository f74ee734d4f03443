"""The account list's screen through one connection of its own, every call serialized by
a lock so that thread workers may use it (as queue/lead_desk.py does for the review
queue). The rules are in account_list.py, filters.py and assign_where.py."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

from dunning.i18n import _
from dunning.queue import account_list, assign_where
from dunning.queue.assign import AssignError
from dunning.queue.collectors import Collector, get_collector, list_collectors
from dunning.queue.desk import Desk


class AccountDesk(Desk):
    def query(self, text: str, sort: str, desc: bool | None) -> account_list.ListQuery:
        """RightsError, FilterError or ValueError (one line each) when refused."""
        return self._run(
            lambda c: account_list.query(
                c, self.clock, self.settings, self.collector, text, sort=sort, desc=desc
            )  # fmt: skip
        )

    def page(self, lq: account_list.ListQuery, where: str, cursor: object) -> account_list.Page:
        kw: dict[str, object] = {}
        if where == "after":
            kw["after"] = cursor
        elif where == "before":
            kw["before"] = cursor
        elif where == "last":
            kw["last"] = True
        return self._run(lambda c: account_list.page(c, self.clock, lq, **kw))  # type: ignore[arg-type]

    def count(self, lq: account_list.ListQuery) -> tuple[int, bool]:
        return self._run(lambda c: account_list.count(c, lq))

    def collectors(self) -> list[Collector]:
        return [c for c in self._run(list_collectors) if c.active]

    def _target(self, conn: sqlite3.Connection, name: str) -> Collector:
        to = get_collector(conn, name)
        if to is None:
            raise AssignError(_("unknown collector {name!r}").format(name=name))
        return to

    def preview(self, lq: account_list.ListQuery, to: str) -> assign_where.Preview:
        today = self.clock.now().astimezone(self.settings.team_zone).date()
        return self._run(
            lambda c: assign_where.preview(c, self.clock, lq, self._target(c, to), today=today)
        )

    def move_where(
        self,
        lq: account_list.ListQuery,
        to: str,
        reason: str,
        *,
        any_language: bool,
        progress: Callable[[int], None] | None = None,
        limit: int | None = None,
    ) -> int:
        return self._run(
            lambda c: assign_where.reassign_where(
                c, self.clock, self.collector, lq, self._target(c, to), reason,
                any_language=any_language, progress=progress, limit=limit,
            )
        )  # fmt: skip

    def move_ids(self, ids: Sequence[int], to: str, reason: str, *, any_language: bool) -> int:
        return self._run(
            lambda c: assign_where.reassign_ids(
                c, self.clock, self.collector, ids, self._target(c, to), reason,
                any_language=any_language,
            )
        )  # fmt: skip
