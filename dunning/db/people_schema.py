"""The tables of the lead's desk for people and claims (m025_people, issue 9 items 8-9).

- ``collectors.team``: a team name ('' none); ``collectors.theme``: the Textual theme the
  collector last picked (NULL: the default), applied at their next start.
- ``collector_changes``: every change to a collector (display name, role, languages,
  locale, time zone, team, active) with who made it, when and why; append-only.
- ``claim_releases``: every claim a lead broke (whose it was, until when, which process),
  who released it, when, why; append-only.
- ``work_sessions``: one row per open screen (process), written by its heartbeat: when it
  started, its last beat, the account on screen and since when. Not history: a row is
  updated by its own session and ended when the screen closes.
"""

from __future__ import annotations

from dunning.db.history_guards import guards_of

HISTORY_TABLES = ("collector_changes", "claim_releases")


def guards() -> dict[str, str]:
    """The append-only triggers of the two history tables, by name."""
    return guards_of(HISTORY_TABLES)


DDL: list[str] = [
    "ALTER TABLE collectors ADD COLUMN team TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE collectors ADD COLUMN theme TEXT",
    """CREATE TABLE collector_changes (
        id            INTEGER PRIMARY KEY,
        collector_id  INTEGER NOT NULL REFERENCES collectors(id),
        at            TEXT NOT NULL,
        by_id         INTEGER REFERENCES collectors(id),   -- NULL: the host operator
        os_user       TEXT NOT NULL,
        field         TEXT NOT NULL,   -- display_name, role, languages, locale, tz, team, active
        old           TEXT,
        new           TEXT,
        reason        TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX collector_changes_who ON collector_changes(collector_id, at)",
    """CREATE TABLE claim_releases (
        id            INTEGER PRIMARY KEY,
        customer_id   INTEGER NOT NULL REFERENCES customers(id),
        held_by       INTEGER NOT NULL REFERENCES collectors(id),
        expires_at    TEXT,
        pid           INTEGER,
        host          TEXT,
        released_at   TEXT NOT NULL,
        released_by   INTEGER REFERENCES collectors(id),
        reason        TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX claim_releases_customer ON claim_releases(customer_id, released_at)",
    """CREATE TABLE work_sessions (
        id            INTEGER PRIMARY KEY,
        collector_id  INTEGER NOT NULL REFERENCES collectors(id),
        host          TEXT NOT NULL,
        pid           INTEGER NOT NULL,
        started_at    TEXT NOT NULL,
        beat_at       TEXT NOT NULL,
        ended_at      TEXT,
        customer_id   INTEGER,          -- the account on screen at the last beat
        on_since      TEXT              -- since when it has been on screen
    )""",
    "CREATE INDEX work_sessions_open ON work_sessions(collector_id) WHERE ended_at IS NULL",
    "CREATE INDEX work_sessions_proc ON work_sessions(host, pid) WHERE ended_at IS NULL",
    *guards().values(),
]
