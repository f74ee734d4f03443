"""The lead's team board (issue 9, item 1): one row per active collector of a team.

Two tiers, because a board must refresh within 2 s of any commit on a million accounts:

- **live** (:class:`BoardReader.live`, every refresh): who is online since when
  (work_sessions, queue/presence.py), the account each holds and since when (the live
  claims, queue/claims.py: the partial index ``queue_claims``), the ready / waiting /
  review counts (per collector, a range of the worklist index: recounted only for the
  collectors whose accounts changed since the last read, found by the ids of activities
  and assignments written since, and all of them every ``RECOUNT_EVERY``), and today's
  figures: attempts, contacts, right-party contacts, promises taken (count and amount per
  currency), promises broken, collected. "Today" is the team's day (``team_tz``, as every
  report). Each is an index range of today's rows: activities by (collector, at), the
  system's promise decisions by (NULL, at), payments loaded today by id (the first id of
  the day found by bisection: ids follow the load). And the open disputes on each
  collector's accounts, with how many are overdue (queue/board_disputes.py): their
  first read (every open dispute: ~0.5 s at 1M) is the book's, then each refresh reads
  only the customers written for since.
- **book** (:func:`read_book`, when the board opens and every ``BOOK_EVERY``): accounts
  untouched for 14+ days, open balance by aging bucket and accounts no active collector
  can serve (their customer's language is spoken by none), counted by language. One pass
  over the queue (and the aging snapshot's stored buckets, db/aging_snapshot.py: never
  the invoices); the screen shows since when it holds.

Only a lead or an admin reads a board (``board`` in queue/rights.py); a lead sees their
own team, an admin any team or all of them.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime

from dunning.clock import Clock, from_iso, to_iso
from dunning.db import aging_snapshot, reports
from dunning.i18n import _
from dunning.queue.board_disputes import DisputeCounts
from dunning.queue.board_today import Today
from dunning.queue.claims import list_claims
from dunning.queue.collectors import Collector, _row_to_collector
from dunning.queue.identity import Actor, refuse
from dunning.queue.presence import online
from dunning.queue.rights import RightsError, require

UNTOUCHED_DAYS = 14
RECOUNT_EVERY = 30.0  # seconds: a collector's counts read again (accounts woken by time)
BULK = 8  # more collectors than this (and half the board) to count: one GROUP BY instead
MOVED_MAX = 200_000  # more assignments rows than this since the last read: recount all
ROLL = 5  # at most this many collectors recounted per refresh for age alone
BOOK_EVERY = 300.0  # seconds between two reads of the book tier on the screen
COUNTED = ("ready", "waiting", "review")
BUCKETS = ("current", "1-30", "31-60", "61-90", "91-120", "120+")
# an account worked by someone: not closed, not out of the queue (legal, agency, cease)
OPEN_STATES = ("ready", "waiting", "review", "no_phone", "disputed")


class BoardError(ValueError):
    """Bad input (an unknown team): one translated line naming the value."""


@dataclass
class BoardRow:
    collector_id: int
    username: str
    display_name: str
    languages: tuple[str, ...]
    team: str
    online_since: datetime | None = None
    working_on: str | None = None  # the account held now (reference)
    working_id: int | None = None
    working_name: str = ""
    working_currency: str = ""
    working_since: datetime | None = None
    ready: int = 0
    waiting: int = 0
    review: int = 0
    attempts: int = 0
    contacts: int = 0
    rpc: int = 0
    promises: int = 0
    promised: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    broken: int = 0
    collected: dict[str, int] = field(default_factory=dict)
    disputes: int | None = None  # open disputes on their accounts (None: not read yet)
    overdue: int = 0  # of which past [disputes] service_days business days
    untouched: int | None = None  # book tier: None until read
    buckets: dict[str, list[int]] | None = None  # currency -> six buckets (minor units)

    def as_json(self) -> dict[str, object]:
        return {
            "collector": self.username,
            "display_name": self.display_name,
            "team": self.team,
            "languages": list(self.languages),
            "online_since": to_iso(self.online_since) if self.online_since else None,
            "working_on": self.working_on,
            "working_since": to_iso(self.working_since) if self.working_since else None,
            "ready": self.ready,
            "waiting": self.waiting,
            "review": self.review,
            "attempts": self.attempts,
            "contacts": self.contacts,
            "rpc": self.rpc,
            "promises": self.promises,
            "promised_minor": self.promised,
            "promises_broken": self.broken,
            "collected_minor": self.collected,
            "disputes_open": self.disputes,
            "disputes_overdue": self.overdue,
            "untouched_14d": self.untouched,
            "buckets_minor": (
                {c: dict(zip(BUCKETS, v, strict=True)) for c, v in self.buckets.items()}
                if self.buckets is not None
                else None
            ),
        }


@dataclass
class Book:
    """The slow tier: per collector untouched and buckets; unserved by language."""

    at: datetime
    untouched: dict[int | None, int]
    buckets: dict[int | None, dict[str, list[int]]]
    buckets_as_of: date
    unserved: dict[str, int]  # language -> accounts no active collector of the scope speaks
    from_snapshot: bool = False  # the buckets read from the aging snapshot's stored rows
    # the open disputes read with the book (service_days given): the counts as they were,
    # and the reader that goes on from there (BoardReader.adopt)
    dispute_counts: dict[int, tuple[int, int]] | None = None
    disputes: DisputeCounts | None = None


@dataclass
class Board:
    team: str | None  # None: every team (an admin)
    day: date  # the team's today
    at: datetime
    rows: list[BoardRow]
    book: Book | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "team": self.team,
            "day": self.day.isoformat(),
            "at": to_iso(self.at),
            "collectors": [r.as_json() for r in self.rows],
            "book_at": to_iso(self.book.at) if self.book else None,
            "buckets_as_of": self.book.buckets_as_of.isoformat() if self.book else None,
            "unserved": self.book.unserved if self.book else None,
        }


def check_scope(
    conn: sqlite3.Connection, clock: Clock, actor: Actor, team: str | None
) -> str | None:
    """The team the actor may see: a lead their own (``team`` may only name it), an admin
    the one named or every team (None). RightsError (audited) for a collector; BoardError
    for an unknown team."""
    try:
        require(actor.role, "board", who=actor.name)
    except RightsError as exc:
        refuse(conn, clock, action="board", message=str(exc), collector_id=actor.collector_id)
        raise
    own = actor.collector.team if actor.collector is not None else ""
    if team is not None:
        team = team.strip()
        known = {r[0] for r in conn.execute("SELECT DISTINCT team FROM collectors WHERE active")}
        if team not in known:
            shown = ", ".join(sorted(f"{t!r}" for t in known))
            raise BoardError(
                _("unknown team {team!r} (teams: {known})").format(team=team, known=shown)
            )
    if actor.role == "admin":
        return team
    if team is not None and team != own:
        message = _("{who} (lead) sees only their own team {own!r}, not {team!r}").format(
            who=actor.name, own=own, team=team
        )
        refuse(conn, clock, action="board", message=message, collector_id=actor.collector_id,
               target=team)  # fmt: skip
        raise RightsError(message)
    return own


def team_members(conn: sqlite3.Connection, team: str | None) -> list[Collector]:
    """Active collectors of the team (every team: None), leads and admins included only
    when they hold accounts (a lead working a queue of their own)."""
    rows = conn.execute(
        """SELECT * FROM collectors k WHERE active AND (?1 IS NULL OR team = ?1)
           AND (role = 'collector' OR EXISTS (SELECT 1 FROM queue q
                WHERE q.collector_id = k.id AND q.state IN ('ready', 'waiting', 'review')))
           ORDER BY username""",
        (team,),
    ).fetchall()
    return [_row_to_collector(r) for r in rows]


def day_bounds(clock: Clock, zone: object) -> tuple[date, str, str]:
    """The team's today and its start and end as stored UTC instants."""
    local = clock.now().astimezone(zone)  # type: ignore[arg-type]
    day = local.date()
    start = datetime.combine(day, dtime(0), tzinfo=zone)  # type: ignore[arg-type]
    end = datetime.combine(day + timedelta(days=1), dtime(0), tzinfo=zone)  # type: ignore[arg-type]
    return day, to_iso(start), to_iso(end)


class BoardReader:
    """Reads a team's board again and again, cheaply: it remembers the counts of the last
    read and the ids it read up to, and recounts only what changed."""

    def __init__(self, conn: sqlite3.Connection, clock: Clock, zone: object,
                 team: str | None, *, service_days: int = 10,
                 disputes: bool = True) -> None:  # fmt: skip
        self.conn = conn
        self.clock = clock
        self.zone = zone
        self.team = team
        self._counts: dict[int, dict[str, int]] = {}
        self._counted: dict[int, float] = {}  # collector -> when counted (monotonic)
        self._act_max = 0
        self._asg_max = 0
        self._day_figures = Today()
        # disputes False: the first read of every open dispute is left to the book, which
        # hands its counts over (adopt); until then the rows say None
        self._disputes = DisputeCounts(service_days) if disputes else None

    def adopt(self, counts: DisputeCounts | None) -> None:
        """Go on from the disputes the book read (its marks: the same read transaction;
        the next live read applies what was written since)."""
        if counts is not None:
            self._disputes = counts

    # -- the ready / waiting / review counts -------------------------------------------
    def _count(self, cid: int) -> dict[str, int]:
        got = dict.fromkeys(COUNTED, 0)
        for state, n in self.conn.execute(
            """SELECT state, COUNT(*) FROM queue INDEXED BY queue_worklist
               WHERE collector_id = ? AND state IN ('ready', 'waiting', 'review')
               GROUP BY state""",
            (cid,),
        ):
            got[state] = int(n)
        return got

    def _changed(self) -> set[int] | None:
        """Collectors whose accounts changed since the last read (None: all of them):
        the owners of accounts with an activity since, and the givers and takers of the
        assignments since (``from_collector_id``, m033: a range of ids, no account read)."""
        act = self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM activities").fetchone()[0]
        asg = self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM assignments").fetchone()[0]
        first = not self._counts
        last_act, last_asg = self._act_max, self._asg_max
        self._act_max, self._asg_max = act, asg
        if first or asg - last_asg > MOVED_MAX:
            return None  # nothing counted yet, or a move of most of the book
        out: set[int] = set()
        if asg != last_asg:
            for taker, giver in self.conn.execute(
                """SELECT DISTINCT collector_id, from_collector_id FROM assignments
                   WHERE id > ? AND id <= ?""",
                (last_asg, asg),
            ):
                out.update(c for c in (taker, giver) if c is not None)
        if act != last_act:
            out.update(
                int(r[0])
                for r in self.conn.execute(
                    """SELECT DISTINCT q.collector_id FROM activities a
                       JOIN queue q ON q.customer_id = a.customer_id
                       WHERE a.id > ? AND a.id <= ?""",
                    (last_act, act),
                )
                if r[0] is not None
            )
        return out

    def _counts_for(self, ids: list[int]) -> set[int]:
        """Recount the collectors whose accounts changed, those never counted, and the
        ``ROLL`` counted longest ago once older than RECOUNT_EVERY (accounts woken by
        time change state without an activity): a refresh after a move recounts its
        givers and takers, never the whole team but on the first read. Returns the
        collectors recounted."""
        now = time.monotonic()
        changed = self._changed()
        if changed is None:
            changed = set(ids)
        old = sorted((self._counted.get(c, float("-inf")), c) for c in ids)
        changed |= {c for at, c in old[:ROLL] if now - at >= RECOUNT_EVERY}
        todo = [c for c in ids if c in changed or c not in self._counts]
        if len(todo) > max(BULK, len(ids) // 2):  # one pass over the worklist index
            got: dict[int, dict[str, int]] = {c: dict.fromkeys(COUNTED, 0) for c in todo}
            for cid, state, n in self.conn.execute(
                """SELECT collector_id, state, COUNT(*) FROM queue INDEXED BY queue_worklist
                   WHERE state IN ('ready', 'waiting', 'review') GROUP BY collector_id, state"""
            ):
                if cid in got:
                    got[cid][state] = int(n)
            self._counts.update(got)
            self._counted.update(dict.fromkeys(todo, now))
            return set(todo)
        for cid in todo:
            self._counts[cid] = self._count(cid)
            self._counted[cid] = now
        return set(todo)

    # -- everything of the live tier ---------------------------------------------------
    def live(self) -> Board:
        conn = self.conn
        now = self.clock.now()
        day, start, end = day_bounds(self.clock, self.zone)
        members = team_members(conn, self.team)
        rows = {
            m.id: BoardRow(m.id, m.username, m.display_name, m.languages, m.team) for m in members
        }
        ids = list(rows)
        conn.execute("BEGIN")  # one read transaction: every figure of the same moment
        try:
            self._counts_for(ids)
            if self._disputes is not None:
                self._disputes.read(conn, now)
            for cid, row in rows.items():
                c = self._counts[cid]
                row.ready, row.waiting, row.review = c["ready"], c["waiting"], c["review"]
                if self._disputes is not None:
                    row.disputes, row.overdue = self._disputes.get(cid)
            self._presence(rows, now)
            days = self._day_figures.read(conn, start, end)
            for cid, row in rows.items():
                d = days.get(cid)
                if d is not None:
                    row.attempts, row.contacts, row.rpc = d.attempts, d.contacts, d.rpc
                    row.promises, row.promised = d.promises, dict(d.promised)
                    row.broken, row.collected = d.broken, dict(d.collected)
        finally:
            conn.execute("COMMIT")
        return Board(self.team, day, now, list(rows.values()))

    def _presence(self, rows: dict[int, BoardRow], now: datetime) -> None:
        for cid, on in online(self.conn, now).items():
            if cid in rows:
                rows[cid].online_since = on.since
        by_name = {r.username: r for r in rows.values()}
        for held in list_claims(self.conn, self.clock):
            row = by_name.get(held.holder)
            if row is None or (row.working_on is not None and held.stale):
                continue
            row.working_on, row.working_id = held.ref, held.customer_id
            row.working_name, row.working_since = held.name, held.since
            cur = self.conn.execute(
                "SELECT currency FROM customers WHERE id = ?", (held.customer_id,)
            ).fetchone()
            row.working_currency = cur[0] if cur else ""


def read_book(conn: sqlite3.Connection, clock: Clock, zone: object, team: str | None,
              service_days: int | None = None) -> Book:  # fmt: skip
    """The slow tier: a pass over the queue and one over the customers, and the aging by
    collector."""
    now = clock.now()
    day = day_bounds(clock, zone)[0]
    cutoff = to_iso(now - timedelta(days=UNTOUCHED_DAYS))
    members = conn.execute(
        "SELECT id FROM collectors WHERE (?1 IS NULL OR team = ?1)", (team,)
    ).fetchall()
    scope = {int(m[0]) for m in members}  # the team's accounts: of its members, active or not
    # spoken by the board's collectors (a lead counts only with a queue of their own)
    spoken = {lang for m in team_members(conn, team) for lang in m.languages}
    states = ",".join(f"'{s}'" for s in OPEN_STATES)
    untouched: dict[int | None, int] = {}
    unserved: dict[str, int] = {}
    conn.execute("BEGIN")
    try:
        # two sequential scans rather than a million look-ups: the queue alone for the
        # untouched, the customers alone (their language) for the languages nobody speaks
        for cid, old in conn.execute(
            f"""SELECT collector_id,
                       SUM(MAX(COALESCE(last_attempt_at, ''), COALESCE(last_contact_at, ''))
                           < ?)
                FROM queue NOT INDEXED WHERE state IN ({states}) GROUP BY collector_id""",
            (cutoff,),
        ):
            if cid is None or cid in scope:
                untouched[cid] = int(old or 0)
        marks = ",".join("?" * len(spoken))
        for lang, cid, n in conn.execute(
            f"""SELECT c.language, q.collector_id, COUNT(*)
                FROM customers c NOT INDEXED JOIN queue q ON q.customer_id = c.id
                WHERE c.language NOT IN ({marks}) AND q.state IN ({states})
                GROUP BY c.language, q.collector_id""",
            tuple(spoken),
        ):
            if cid is None or cid in scope:
                unserved[lang] = unserved.get(lang, 0) + int(n)
        disputes = None
        if service_days is not None:  # every open dispute, and the marks to go on from
            disputes = DisputeCounts(service_days)
            disputes.read(conn, now)
    finally:
        conn.execute("COMMIT")
    names = {r[1]: int(r[0]) for r in conn.execute("SELECT id, username FROM collectors")
             if int(r[0]) in scope}  # fmt: skip
    buckets, as_of, stored = _buckets(conn, day, names)
    book = Book(now, untouched, buckets, as_of, dict(sorted(unserved.items())), stored)
    if disputes is not None:
        book.disputes = disputes
        book.dispute_counts = {c: disputes.get(c) for c in scope}
    return book


def _buckets(
    conn: sqlite3.Connection, day: date, members: dict[str, int]
) -> tuple[dict[int | None, dict[str, list[int]]], date, bool]:
    """Open balance by bucket per collector and currency: the aging by collector of the
    team's today (db/reports.py, the same figures as `A`), read from the aging snapshot's
    stored rows when the database has one (a large ledger after its nightly refresh);
    without one (a small ledger) it is the aging's own scan."""
    report = reports.aging(conn, day, by="collector")
    out: dict[int | None, dict[str, list[int]]] = {}
    for row in report.rows:
        cid = members.get(row.key)
        if cid is None and row.key != reports.UNASSIGNED:
            continue  # another team's collector
        out.setdefault(cid, {})[row.currency] = list(row.buckets)
    return out, day, aging_snapshot.state(conn) is not None


def attach_book(board: Board, book: Book) -> Board:
    board.book = book
    for row in board.rows:
        row.untouched = book.untouched.get(row.collector_id, 0)
        row.buckets = book.buckets.get(row.collector_id, {})
        if row.disputes is None and book.dispute_counts is not None:
            row.disputes, row.overdue = book.dispute_counts.get(row.collector_id, (0, 0))
    return board


def read_board(conn: sqlite3.Connection, clock: Clock, zone: object, actor: Actor,
               team: str | None = None, *, book: bool = True,
               service_days: int = 10) -> Board:  # fmt: skip
    """The whole board at once (the CLI): rights, scope, live tier and book tier."""
    scope = check_scope(conn, clock, actor, team)
    board = BoardReader(conn, clock, zone, scope, service_days=service_days).live()
    return attach_book(board, read_book(conn, clock, zone, scope)) if book else board


def since_text(at: datetime | None, now: datetime) -> str:
    """'12 min', '2 h 05' since an instant (for the screen and the CLI)."""
    if at is None:
        return ""
    minutes = max(0, int((now - at).total_seconds() // 60))
    if minutes < 60:
        return _("{n} min").format(n=minutes)
    return _("{h} h {m:02d}").format(h=minutes // 60, m=minutes % 60)


def parse_iso(text: str | None) -> datetime | None:
    return from_iso(text) if text else None
