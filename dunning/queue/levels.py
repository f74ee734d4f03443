"""Dunning levels (issue 10 item 5; DOMAIN.md "Written collections"): which invoice is due
for which level of its portfolio's ladder (``[levels]``, queue/levels_config.py), and
the levels reached (``dunning_levels``, m038).

The rules:

- an invoice is dunned while it is open, owed (``open_minor`` > 0) and not disputed; a
  paid, written-off (closed) or disputed invoice never climbs;
- it climbs one level at a time: its next level is the one after the highest it reached
  (an invoice at 95 days with no letter yet gets level 1 first), due once the invoice is
  that many days past due AND the gap between the two levels' days has passed since the
  level before was reached (so the ladder's spacing is kept: 1 at day 95, 2 no earlier
  than 23 days later); it never gets the same level twice (the table's primary key);
- a promise pending, or a payment plan with an instalment pending and none broken or
  partial (in good standing), pauses the climb of every invoice of the account; once
  broken, the climb resumes where it was;
- one letter per customer and level, listing the invoices it dunns.

No Textual here; the letter run (queue/letter_run.py) sends and records.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from dunning.queue.config import Settings
from dunning.queue.levels_config import DEFAULT_LADDER, LEVEL_KINDS, Level

# a promise, or a plan's pending instalment with no broken or partial one, pauses the climb
_PAUSED = """SELECT DISTINCT p.customer_id FROM promises p
    WHERE p.customer_id BETWEEN ? AND ? AND p.status = 'pending'
      AND (p.plan_ref IS NULL OR NOT EXISTS (
           SELECT 1 FROM promises b WHERE b.customer_id = p.customer_id
             AND b.plan_ref = p.plan_ref AND b.status IN ('broken', 'partial')))"""

# the invoices that may be dunned (open, owed, undisputed, past due by ``days`` of the
# ladders' first level at least), of the customers with ids in [lo, hi]
_DUNNABLE = """SELECT i.id, i.customer_id, i.due_date, c.portfolio
    FROM invoices i JOIN customers c ON c.id = i.customer_id
    WHERE i.customer_id BETWEEN ? AND ? AND i.due_date <= ? AND i.status = 'open'
      AND i.open_minor > 0 AND i.disputed = 0
    ORDER BY i.customer_id, i.due_date, i.id"""

_REACHED = """SELECT invoice_id, MAX(level), MAX(at) FROM dunning_levels
    WHERE customer_id BETWEEN ? AND ? GROUP BY invoice_id"""


@dataclass(frozen=True)
class DueLetter:
    """One letter to write: ``customer_id``'s invoices due for ``level``."""

    customer_id: int
    portfolio: str
    level: Level
    invoice_ids: tuple[int, ...]


def ladder_for(settings: Settings, portfolio: str) -> tuple[Level, ...]:
    return settings.levels.get(portfolio, DEFAULT_LADDER)


def next_level(
    ladder: tuple[Level, ...],
    reached: int,
    reached_on: date | None,
    due: date,
    today: date,
) -> Level | None:
    """The level an invoice due ``due`` that reached level ``reached`` (0: none) on
    ``reached_on`` is due for ``today``; None when none is."""
    if reached >= len(ladder):
        return None
    level = ladder[reached]  # levels are numbered 1..n: the next one is at index ``reached``
    if (today - due).days < level.days:
        return None
    if reached and reached_on is not None:
        gap = level.days - ladder[reached - 1].days
        if (today - reached_on).days < gap:
            return None
    return level


def _day(iso: str) -> date:
    return date.fromisoformat(iso[:10])


def due_in_range(
    conn: sqlite3.Connection,
    now_utc: datetime,
    settings: Settings,
    lo: int,
    hi: int,
    *,
    only_level: int | None = None,
) -> tuple[list[DueLetter], dict[int, int]]:
    """The letters due for the customers with ids in [lo, hi] (customer id, then level
    order), and the customers paused by a promise or plan (customer id -> the number of
    letters they would have had). Reads only: three indexed range reads."""
    today = now_utc.date()
    first = min((ladder[0].days for ladder in settings.levels.values() if ladder), default=0)
    latest_due = date.fromordinal(today.toordinal() - first).isoformat()
    reached = {inv: (lvl, _day(at)) for inv, lvl, at in conn.execute(_REACHED, (lo, hi)).fetchall()}
    paused_ids = {r[0] for r in conn.execute(_PAUSED, (lo, hi)).fetchall()}
    grouped: dict[tuple[int, int], list[int]] = defaultdict(list)
    levels: dict[tuple[int, int], tuple[str, Level]] = {}
    for inv, cid, due, portfolio in conn.execute(_DUNNABLE, (lo, hi, latest_due)):
        ladder = ladder_for(settings, portfolio)
        lvl, on = reached.get(inv, (0, None))
        level = next_level(ladder, lvl, on, _day(due), today)
        if level is None or (only_level is not None and level.number != only_level):
            continue
        key = (cid, level.number)
        grouped[key].append(inv)
        levels[key] = (portfolio, level)
    letters: list[DueLetter] = []
    paused: dict[int, int] = defaultdict(int)
    for key in sorted(grouped):
        cid = key[0]
        if cid in paused_ids:
            paused[cid] += 1
            continue
        portfolio, level = levels[key]
        letters.append(DueLetter(cid, portfolio, level, tuple(grouped[key])))
    return letters, dict(paused)


def kind_for_account(
    conn: sqlite3.Connection, now_utc: datetime, settings: Settings, customer_id: int
) -> str | None:
    """The kind of the account's next level letter: the highest level one of its invoices
    is due for now (the letter run would send it tonight); else the level its invoices
    reached (the letter the account is at, to write again); None when nothing is dunned
    (nothing undisputed overdue that reached the first level's days). A paused climb (a
    promise in good standing) still says the letter the account is at, or would be due."""
    letters, _paused = due_in_range(conn, now_utc, settings, customer_id, customer_id)
    if letters:
        return max(letters, key=lambda d: d.level.number).level.kind
    row = conn.execute(
        "SELECT c.portfolio, MAX(d.level) FROM customers c "
        "JOIN dunning_levels d ON d.customer_id = c.id "
        "JOIN invoices i ON i.id = d.invoice_id AND i.status = 'open' AND i.open_minor > 0 "
        "AND i.disputed = 0 WHERE c.id = ?",
        (customer_id,),
    ).fetchone()
    if row is None or row[1] is None:
        return _paused_kind(conn, now_utc, settings, customer_id)
    ladder = ladder_for(settings, row[0])
    return ladder[min(row[1], len(ladder)) - 1].kind if ladder else None


def _paused_kind(
    conn: sqlite3.Connection, now_utc: datetime, settings: Settings, customer_id: int
) -> str | None:
    """A paused account with nothing reached yet: the first level's kind when some invoice
    is past its days (what the run would send once the promise breaks)."""
    row = conn.execute(
        "SELECT c.portfolio, MIN(i.due_date) FROM customers c JOIN invoices i "
        "ON i.customer_id = c.id AND i.status = 'open' AND i.open_minor > 0 AND i.disputed = 0 "
        "WHERE c.id = ?",
        (customer_id,),
    ).fetchone()
    if row is None or row[1] is None:
        return None
    ladder = ladder_for(settings, row[0])
    if ladder and (now_utc.date() - _day(row[1])).days >= ladder[0].days:
        return ladder[0].kind
    return None


def record_levels(
    conn: sqlite3.Connection,
    at_iso: str,
    customer_id: int,
    level: int,
    channel: str,
    invoice_ids: Iterable[int],
    letter_id: int | None,
) -> int:
    """The invoices reached ``level`` (in the caller's transaction); an invoice that had
    it already keeps its first row. Returns how many rows were added."""
    cur = conn.executemany(
        "INSERT OR IGNORE INTO dunning_levels (invoice_id, level, customer_id, at, letter_id, "
        "channel) VALUES (?,?,?,?,?,?)",
        [(inv, level, customer_id, at_iso, letter_id, channel) for inv in invoice_ids],
    )
    return cur.rowcount


def has_archive_levels(conn: sqlite3.Connection) -> bool:
    """Does the letters archive (m036_letters_sent) carry ``level`` and ``invoices``?"""
    cols = {r[1] for r in conn.execute("PRAGMA table_info(letters_sent)")}
    return {"level", "invoices"} <= cols


def reconcile(conn: sqlite3.Connection, since_iso: str = "") -> int:
    """Levels of letters archived without their ``dunning_levels`` rows (a run stopped
    between the send's commit and its levels'): the archive says what each letter dunned,
    so the levels are written from it. Run in a write transaction; returns rows added."""
    if not has_archive_levels(conn):
        return 0
    added = 0
    rows = conn.execute(
        "SELECT l.id, l.customer_id, l.level, l.channel, l.at, l.invoices FROM letters_sent l "
        f"WHERE l.kind IN ({','.join('?' * len(LEVEL_KINDS))}) AND l.at >= ? "
        "AND l.level IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM dunning_levels d WHERE d.letter_id = l.id)",
        (*LEVEL_KINDS, since_iso),
    ).fetchall()
    for letter_id, cid, level, channel, at, invoices in rows:
        try:
            ids = [int(i) for i in json.loads(invoices)]
        except (ValueError, TypeError):
            continue
        added += record_levels(conn, at, cid, int(level), channel, ids, letter_id)
    return added
