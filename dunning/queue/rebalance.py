"""Rebalance (issue 9, item 3): spread one collector's accounts, or the whole team's, evenly
by count or by balance, only to active collectors who speak each customer's language.

A sick day: ``dunning rebalance --from dave --until fri`` lends dave's open accounts to the
team until Friday (the team's calendar, ``team_tz``): each move is an ``assignments`` row
(who, when, why) and a ``loans`` row (to whom it goes back, when) written in the same
transaction; the nightly ``dunning queue refresh`` (or ``dunning rebalance return``) gives
them back after that day (queue/rebalance_move.py). Without ``--from`` the team's books are
evened out: accounts go from the collectors above the team's mean to those below it.

:func:`plan` is a read: it says per target collector how many accounts and how much they
would get, and what no one can take (nobody among the targets speaks the language). The
preview (``--dry-run``, the screen's dialog) prints it; :func:`commit
<dunning.queue.rebalance_move.commit>` moves it in short chunks, as ``dunning assign
--from`` does, re-reading each account's owner under the lock (an account that changed
hands since the plan stays where it is now). An account someone is on the phone with
changes owner too; they finish the call and log it (queue/assign.py ``hand_over``).

Routing by language is on unless ``[routing] by_language = false`` (queue/routing.py) or
``any_language``. Balances are compared across currencies with the configuration's rough
rates (``[fx_to_base]``, ordering only); what a collector gets is shown per currency.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from dunning.clock import Clock, to_iso
from dunning.i18n import N_, _
from dunning.queue import routing
from dunning.queue.collectors import Collector, get_collector_by_id
from dunning.queue.config import Settings
from dunning.queue.identity import refuse
from dunning.queue.rights import RightsError, require
from dunning.textsafe import clean
from dunning.when import parse_day

BY = ("count", "balance")
BY_NAMES = {"count": N_("count"), "balance": N_("balance")}
MAX_LOAN_DAYS = 366


class RebalanceError(ValueError):
    """Bad input (a name, a date, a mode): one line naming the value; nothing moved."""


@dataclass
class Share:
    """What one target collector would get."""

    collector: Collector
    accounts: int = 0
    weight: float = 0.0  # in the base currency (rough: ordering only)
    open_minor: dict[str, int] = field(default_factory=dict)  # currency -> balance


@dataclass
class Plan:
    """A rebalance worked out, not yet moved."""

    source: Collector | None  # None: the whole team
    team: str | None
    by: str
    until: date | None
    due_at: str | None  # UTC instant the loans are due back
    reason: str
    shares: list[Share]
    left: dict[str, int]  # language -> accounts no target can take
    left_minor: dict[str, dict[str, int]]  # language -> currency -> balance
    moves: list[tuple[int, int, int]]  # (customer id, from collector, to collector)
    considered: int  # accounts looked at
    any_language: bool = False

    @property
    def moving(self) -> int:
        return len(self.moves)


def _refused(conn: sqlite3.Connection, clock: Clock, lead: Collector, message: str,
             detail: dict[str, object]) -> RightsError:  # fmt: skip
    refuse(conn, clock, action="rebalance", message=message, collector_id=lead.id,
           detail=detail)  # fmt: skip
    return RightsError(message)


def check_rights(
    conn: sqlite3.Connection, clock: Clock, lead: Collector, detail: dict[str, object]
) -> None:
    """RightsError (audited) unless ``lead`` is a lead or an admin."""
    try:
        require(lead.role, "rebalance", who=lead.username)
    except RightsError as exc:
        raise _refused(conn, clock, lead, str(exc), detail) from None


def _named(conn: sqlite3.Connection, name: str, *, active: bool) -> Collector:
    row = conn.execute("SELECT id, active FROM collectors WHERE username = ?", (name,)).fetchone()
    if row is None:
        raise RebalanceError(
            _("unknown collector {name!r} (see `dunning collectors list`)").format(name=name)
        )
    if active and not row[1]:
        raise RebalanceError(_("{name!r} is not an active collector").format(name=name))
    found = get_collector_by_id(conn, int(row[0]))
    assert found is not None
    return found


def until_day(text: str | date | None, clock: Clock, settings: Settings) -> date | None:
    """``--until`` on the team's calendar: today or later, within a year."""
    if text is None or text == "":
        return None
    today = clock.now().astimezone(settings.team_zone).date()
    day = text if isinstance(text, date) else parse_day(str(text), today)
    if day < today:
        raise RebalanceError(
            _("--until {value}: that day is over (today is {today})").format(
                value=day.isoformat(), today=today.isoformat()
            )
        )
    if day > today + timedelta(days=MAX_LOAN_DAYS):
        raise RebalanceError(
            _("--until {value}: more than a year away").format(value=day.isoformat())
        )
    return day


def due_instant(day: date, settings: Settings) -> str:
    """The loans of ``--until day`` are due back when the next day begins (team's zone)."""
    start = datetime.combine(day + timedelta(days=1), time(0), tzinfo=settings.team_zone)
    return to_iso(start)


def _targets(
    conn: sqlite3.Connection,
    names: Sequence[str] | None,
    source: Collector | None,
    team: str | None,
) -> list[Collector]:
    if names:
        out: list[Collector] = []
        for name in dict.fromkeys(n.strip() for n in names if n.strip()):
            c = _named(conn, name, active=True)
            if source is not None and c.id == source.id:
                raise RebalanceError(
                    _("{name!r} is the collector whose accounts are spread: not a target")
                    .format(name=name)
                )  # fmt: skip
            out.append(c)
        return out
    sql = "SELECT id FROM collectors WHERE active = 1 AND role = 'collector'"
    params: list[object] = []
    if team is not None:
        sql += " AND team = ?"
        params.append(team)
    ids = [int(r[0]) for r in conn.execute(sql + " ORDER BY username", params)]
    return [
        c
        for c in (get_collector_by_id(conn, i) for i in ids)
        if c is not None and (source is None or c.id != source.id)
    ]


def _weight(by: str, open_minor: int, currency: str, settings: Settings) -> float:
    if by == "count":
        return 1.0
    digits = 100.0  # rough: ordering only (the rates are rough too)
    return max(open_minor, 0) / digits * settings.fx_to_base.get(currency, 1.0)


def _accounts(
    conn: sqlite3.Connection, owners: Sequence[int]
) -> list[tuple[int, int, str, int, str]]:
    """(customer id, owner, language, open balance, currency) of the owners' open accounts."""
    if not owners:
        return []
    marks = ",".join("?" * len(owners))
    return [
        (int(r[0]), int(r[1]), str(r[2] or ""), int(r[3] or 0), str(r[4]))
        for r in conn.execute(
            f"""SELECT q.customer_id, q.collector_id, {routing.LANG_SQL}, q.open_minor,
                       c.currency
                FROM queue q JOIN customers c ON c.id = q.customer_id
                WHERE q.collector_id IN ({marks}) AND q.state != 'closed'
                ORDER BY q.customer_id""",
            list(owners),
        )
    ]


def plan(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    lead: Collector,
    *,
    source: str | None = None,
    targets: Sequence[str] | None = None,
    by: str = "count",
    until: str | date | None = None,
    reason: str = "",
    team: str | None = None,
    any_language: bool = False,
) -> Plan:
    """Work out a rebalance (a read). RightsError for a collector (audited), RebalanceError
    naming a bad value."""
    reason = clean(reason or "")[0].strip()
    detail: dict[str, object] = {"from": source, "to": list(targets or []), "by": by,
                                 "until": str(until or ""), "reason": reason}  # fmt: skip
    check_rights(conn, clock, lead, detail)
    if by not in BY:
        raise RebalanceError(
            _("--by {value!r}: say count or balance").format(value=str(by)[:100])
        )  # fmt: skip
    src = _named(conn, source, active=False) if source else None
    day = until_day(until, clock, settings)
    if day is not None and src is None:
        raise RebalanceError(_("--until goes with --from NAME (whose accounts are lent)"))
    if team is None and src is not None and src.team:
        team = src.team
    people = _targets(conn, targets, src, team)
    if not people:
        raise RebalanceError(_("no active collector to give the accounts to: name them with --to"))
    routed = routing.enabled(settings) and not any_language
    shares = {c.id: Share(c) for c in people}
    owners = [src.id] if src is not None else [c.id for c in people]
    rows = _accounts(conn, owners)
    load: dict[int, float] = dict.fromkeys(shares, 0.0)
    counts: dict[int, int] = dict.fromkeys(shares, 0)
    if src is None:  # the team: what each holds now
        for _cid, owner, _lang, minor, cur in rows:
            load[owner] += _weight(by, minor, cur, settings)
            counts[owner] += 1
    eligible: dict[str, list[int]] = {}

    def who(lang: str) -> list[int]:
        if lang not in eligible:
            eligible[lang] = [
                c.id for c in people if not routed or routing.speaks(c, lang)
            ]  # fmt: skip
        return eligible[lang]

    left: dict[str, int] = {}
    left_minor: dict[str, dict[str, int]] = {}
    moves: list[tuple[int, int, int]] = []
    mean = sum(load.values()) / len(people)
    # the accounts fewest targets can take first (a language one collector speaks), then
    # the largest first (by balance): the greedy spread then ends even
    rows.sort(key=lambda r: (len(who(r[2])), -_weight(by, r[3], r[4], settings), r[0]))
    for cid, owner, lang, minor, cur in rows:
        w = _weight(by, minor, cur, settings)
        if src is None and load[owner] <= mean:
            continue  # at or under the mean: keeps its accounts
        can = [i for i in who(lang) if i != owner]
        if not can:
            if src is not None:
                left[lang] = left.get(lang, 0) + 1
                per = left_minor.setdefault(lang, {})
                per[cur] = per.get(cur, 0) + minor
            continue
        to = min(can, key=lambda i: (load[i], counts[i], shares[i].collector.username))
        if src is None and (load[to] + w > mean + w / 2 or load[owner] - w < mean - w / 2):
            continue  # the move would not bring the two nearer the mean
        moves.append((cid, owner, to))
        load[to] += w
        counts[to] += 1
        if src is None:
            load[owner] -= w
            counts[owner] -= 1
        s = shares[to]
        s.accounts += 1
        s.weight += w
        s.open_minor[cur] = s.open_minor.get(cur, 0) + minor
    return Plan(
        source=src,
        team=team,
        by=by,
        until=day,
        due_at=due_instant(day, settings) if day is not None else None,
        reason=reason,
        shares=list(shares.values()),
        left=left,
        left_minor=left_minor,
        moves=moves,
        considered=len(rows),
        any_language=not routed,
    )
