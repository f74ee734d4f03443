"""Whose accounts a lead's review queue and disputes list show, and which of them a lead
may decide on (issue 9, items 5 and 6), for the CLI and the screens alike.

A lead with a team sees the accounts of their team's collectors and those assigned to
nobody (like the read-only view and the account lists: queue/filters.py ``scope``); an
admin, or a lead without a team (one team on the host), sees every account, and may ask
for one team's (``team``: its collectors' accounts). A lead with a team asking for another
team is refused (one translated line)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from dunning.i18n import _
from dunning.queue.collectors import Collector


class ScopeError(ValueError):
    """A team the asker may not see, or no such team: nothing read."""


@dataclass(frozen=True)
class Scope:
    """The owners whose accounts are shown: collector ids (None: assigned to nobody), or
    everyone (``owners`` None)."""

    owners: tuple[int | None, ...] | None

    def holds(self, owner: int | None) -> bool:
        return self.owners is None or owner in self.owners

    def sql(self, column: str = "q.collector_id") -> tuple[str, list[object]]:
        """A condition on ``column`` (the account's collector): "1" for everyone."""
        if self.owners is None:
            return "1", []
        ids = [o for o in self.owners if o is not None]
        parts = [f"{column} IN ({','.join('?' * len(ids))})"] if ids else []
        if None in self.owners:
            parts.append(f"{column} IS NULL")
        return ("(" + " OR ".join(parts) + ")" if parts else "0"), list(ids)

    def segments(self, conn: sqlite3.Connection) -> list[int | None]:
        """Each owner once (every collector and nobody for everyone)."""
        if self.owners is not None:
            return list(self.owners)
        return [None, *(int(r[0]) for r in conn.execute("SELECT id FROM collectors ORDER BY id"))]


def scope_of(conn: sqlite3.Connection, who: Collector, team: str | None = None) -> Scope:
    """What ``who`` sees (``team``: one team's accounts, asked by an admin or a lead
    without a team, or a lead naming their own)."""
    mine = who.role != "admin" and bool(who.team)
    if team is not None:
        team = team.strip()
        if mine and team != who.team:
            raise ScopeError(
                _("{who} leads team {team!r}: another team's accounts are not theirs to see")
                .format(who=who.username, team=who.team)
            )  # fmt: skip
        ids = [int(r[0]) for r in conn.execute("SELECT id FROM collectors WHERE team = ?",
                                               (team,))]  # fmt: skip
        if not ids:
            teams = [r[0] for r in conn.execute(
                "SELECT DISTINCT team FROM collectors WHERE team != '' ORDER BY 1")]  # fmt: skip
            raise ScopeError(
                _("no team {value!r} (teams: {teams})").format(
                    value=team[:80], teams=", ".join(teams) or "-"
                )
            )
        return Scope((*ids, None) if mine else tuple(ids))
    if not mine:
        return Scope(None)
    ids = [int(r[0]) for r in conn.execute("SELECT id FROM collectors WHERE team = ?",
                                           (who.team,))]  # fmt: skip
    return Scope((*ids, None))


def teams(conn: sqlite3.Connection) -> list[str]:
    """Every team named on the host (an admin's team filter cycles through them)."""
    return [r[0] for r in conn.execute(
        "SELECT DISTINCT team FROM collectors WHERE team != '' ORDER BY 1")]  # fmt: skip
