"""Each phone number's place, stored (m028_places): the zones it rings in, its country and
subdivisions, its international and national formats (``dunning.places.place_text``).

A claim and the account's screen read it with the number (``queue.calendar.account_reach``,
``queue.account_view``) so that neither imports nor runs phonenumbers (~30 ms of a start,
ROUND6_p3.md). Kept per number, not per phone row: a number's place is a function of the
number alone (and of phonenumbers' data: a phonenumbers upgrade that changes a number's
place is picked up by ``refill``), and the demo's million phones share some tens of
thousands of numbers. A number without a row is parsed as before (older rows, or a writer
that does not fill it): the stored place is a cache, never the only source.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable

DDL = (
    "CREATE TABLE IF NOT EXISTS phone_places (e164 TEXT PRIMARY KEY, place TEXT NOT NULL) "
    "WITHOUT ROWID"
)

# each distinct number once (a scan of phones_e164), then one lookup of it
_MISSING = (
    "SELECT e164 FROM (SELECT DISTINCT e164 FROM phones) n WHERE NOT EXISTS "
    "(SELECT 1 FROM phone_places pp WHERE pp.e164 = n.e164)"
)
_MISSING_UPTO = (
    "SELECT e164 FROM (SELECT DISTINCT e164 FROM phones WHERE id <= ?) n WHERE NOT EXISTS "
    "(SELECT 1 FROM phone_places pp WHERE pp.e164 = n.e164)"
)


def fill(conn: sqlite3.Connection, numbers: Iterable[str]) -> int:
    """Store the place of each of these numbers not stored yet; returns how many."""
    from dunning.places import place_text

    have = "SELECT 1 FROM phone_places WHERE e164 = ?"
    rows = [
        (n, place_text(n))
        for n in dict.fromkeys(numbers)
        if conn.execute(have, (n,)).fetchone() is None
    ]
    conn.executemany("INSERT OR IGNORE INTO phone_places (e164, place) VALUES (?, ?)", rows)
    return len(rows)


def fill_missing(
    conn: sqlite3.Connection, made: dict[str, str] | None = None, upto: int | None = None
) -> int:
    """Store the place of every number of ``phones`` that has none (the migration, the demo's
    build once its phones are written); returns how many rows were added. ``made``: places
    already made (number -> text), stored as they are, used or not (the demo's pool of
    numbers: every copied phone's number is one of them); ``upto``: only phones up to that
    id need a look (the demo's template, the rest being copies with numbers of ``made``)."""
    from dunning.places import place_text

    before = conn.execute("SELECT COUNT(*) FROM phone_places").fetchone()[0]
    if made:
        conn.executemany(
            "INSERT OR IGNORE INTO phone_places (e164, place) VALUES (?, ?)", made.items()
        )
    sql = _MISSING if upto is None else _MISSING_UPTO
    rows = [(n, place_text(n)) for (n,) in conn.execute(sql, () if upto is None else (upto,))]
    conn.executemany("INSERT OR IGNORE INTO phone_places (e164, place) VALUES (?, ?)", rows)
    return int(conn.execute("SELECT COUNT(*) FROM phone_places").fetchone()[0] - before)


def refill(conn: sqlite3.Connection) -> int:
    """Recompute every stored place (after a phonenumbers upgrade); returns how many."""
    conn.execute("DELETE FROM phone_places")
    return fill_missing(conn)


def make_in_thread(numbers: list[str]) -> tuple[threading.Thread, dict[str, str]]:
    """Start making these numbers' place texts in a thread (the demo's build, while SQLite
    copies rows with the GIL released); join the thread, then pass the dict to
    ``fill_missing``."""
    from dunning.places import place_text

    made: dict[str, str] = {}

    def run() -> None:
        for n in numbers:
            made[n] = place_text(n)

    thread = threading.Thread(target=run, name="phone-places", daemon=True)
    thread.start()
    return thread, made
