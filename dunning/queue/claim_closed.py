"""What a claim remembers about an account it passed over because its calling window is
closed (or a holiday shuts the consumer's day): until when that verdict holds (m023).

The claim reads a collector's ready accounts best first and works out, for each one under
the contact rules, whether it may be called now: where the consumer may be (their phones'
zones), the jurisdictions' windows and holidays. At most hours much of a book is outside
its window (at 08:00-10:00 UTC most of North America), and every claim read the same
accounts at the head of the list again and worked them out again: 20-60 accounts a claim,
about a third of the claim's CPU.

A closed window has a known end: ``windows.opens_at`` (the first instant the rule allows
in every zone). So when the claim passes an account over as ``outside_window`` or
``holiday``, it writes on its queue row the interval in which that verdict holds
(``closed_from`` <= now < ``closed_until``, the verdict ``closed_why``), and the next claims
that meet the account in that interval pass it over with the same verdict without working
it out. The verdict is exact for the interval, because it depends only on:

- the instant: the window stays shut until ``opens_at``; the reason (a holiday or the
  hours) can change only at a local midnight of one of the zones, so with closed days in
  the rule the interval also ends at the first of those midnights;
- where the consumer may be (``calendar.account_reach``): the address's country and
  subdivision and the dialable numbers. A change of either clears the memo: triggers on
  ``customers`` (country, subdivision) and on ``phones`` (number, bad, do not call, owner,
  a delete); a phone added is seen by ``closed_mark``, the largest phone id when the memo
  was written (no trigger on inserts: an import or a build adds phones in bulk);
- the rules of the account's portfolio: fixed in code (``contact_rules``); whether the
  portfolio is under contact rules is the session's setting, checked before the memo is
  read, as before.

Status (``calls_allowed``) is checked before the memo, and the contact caps are not
remembered (they move with other writes: activities, voids): an account that is inside its
window is worked out in full at every claim, as before. The rows examined, their order,
``MAX_CANDIDATES`` and the accounts passed over (with their reasons) are the same as
without the memo.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, time, timedelta

from dunning.clock import to_iso
from dunning.phones import zone
from dunning.queue.contact_rules import jurisdictions_of, rule_for
from dunning.queue.windows import opens_at

REMEMBERED = ("outside_window", "holiday")

# where the consumer may be changed: the memo no longer holds
TRIGGERS = [
    """CREATE TRIGGER claim_closed_phones_u
       AFTER UPDATE OF e164, bad, do_not_call, customer_id ON phones
       WHEN OLD.e164 IS NOT NEW.e164 OR OLD.bad IS NOT NEW.bad
         OR OLD.do_not_call IS NOT NEW.do_not_call OR OLD.customer_id IS NOT NEW.customer_id
       BEGIN UPDATE queue SET closed_until = NULL
             WHERE customer_id IN (OLD.customer_id, NEW.customer_id)
               AND closed_until IS NOT NULL; END""",
    """CREATE TRIGGER claim_closed_phones_d AFTER DELETE ON phones
       BEGIN UPDATE queue SET closed_until = NULL
             WHERE customer_id = OLD.customer_id AND closed_until IS NOT NULL; END""",
    # the largest phone deleted: its id may be given again, so no mark can be trusted
    """CREATE TRIGGER claim_closed_phones_dmax AFTER DELETE ON phones
       WHEN OLD.id > (SELECT COALESCE(MAX(id), 0) FROM phones)
       BEGIN UPDATE queue SET closed_until = NULL WHERE closed_until IS NOT NULL; END""",
    """CREATE TRIGGER claim_closed_customers_u AFTER UPDATE OF country, subdivision ON customers
       WHEN OLD.country IS NOT NEW.country OR OLD.subdivision IS NOT NEW.subdivision
       BEGIN UPDATE queue SET closed_until = NULL
             WHERE customer_id = NEW.id AND closed_until IS NOT NULL; END""",
]
TRIGGER_NAMES = tuple(t.split()[2] for t in TRIGGERS)

DDL = [
    "ALTER TABLE queue ADD COLUMN closed_from TEXT",
    "ALTER TABLE queue ADD COLUMN closed_until TEXT",
    "ALTER TABLE queue ADD COLUMN closed_why TEXT",
    "ALTER TABLE queue ADD COLUMN closed_mark INTEGER",
    *TRIGGERS,
]


def lift_triggers(conn: sqlite3.Connection) -> list[str]:
    """Drop the triggers that name the queue table (inside the caller's transaction) and
    return the SQL to put them back: SQLite refuses to rename a table into the place of
    a dropped one while another table's trigger names it (queue/rebuild.py's swap)."""
    marks = ",".join("?" * len(TRIGGER_NAMES))
    rows = conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN ({marks})",
        TRIGGER_NAMES,
    ).fetchall()
    for name, _sql in rows:
        conn.execute(f"DROP TRIGGER {name}")
    return [str(sql) for _name, sql in rows]


COLUMNS = "q.closed_from, q.closed_until, q.closed_why, q.closed_mark"

WRITE = """UPDATE queue SET closed_from = ?, closed_until = ?, closed_why = ?, closed_mark = ?
           WHERE customer_id = ?"""


def phones_mark(conn: sqlite3.Connection) -> int:
    """The largest phone id now (a phone added since a memo was written: not trusted)."""
    return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM phones").fetchone()[0])


def remembered(row: sqlite3.Row, now_iso: str, mark: int) -> str | None:
    """The verdict remembered on the queue row, when it holds at ``now_iso``."""
    until = row["closed_until"]
    if until is None or not (row["closed_from"] <= now_iso < until):
        return None
    if row["closed_mark"] != mark:
        return None
    return str(row["closed_why"])


def holds_until(
    now: datetime,
    zones: tuple[str, ...],
    jurisdictions: tuple[tuple[str, str | None], ...],
    country: str,
    subdivision: str | None,
) -> datetime | None:
    """Until when a closed verdict at ``now`` (outside the window, or a holiday) stays the
    same verdict for the same zones and jurisdictions; None: not known (not remembered)."""
    rule = rule_for(jurisdictions or jurisdictions_of(country, subdivision))
    opens = opens_at(now, zones, rule)
    if opens is None or opens <= now:
        return None
    if rule.closed is not None:  # the reason may change at a local midnight
        for name in zones:
            tz = zone(name)
            midnight = datetime.combine(now.astimezone(tz).date() + timedelta(days=1), time(0), tz)
            opens = min(opens, midnight)
    return opens


def memo(now: datetime, until: datetime, why: str, cid: int) -> tuple[object, ...]:
    """The parameters of ``WRITE`` for one account but the mark (read once, when written)."""
    return (to_iso(now), to_iso(until), why, cid)
