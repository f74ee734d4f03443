"""Who is working: collectors, roles and identity (OS user or ``--as``)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from dunning.clock import Clock, person_zone, to_iso, zone_named
from dunning.db.connection import write_tx
from dunning.i18n import _
from dunning.queue.audit import os_account
from dunning.textsafe import clean

ROLES = ("collector", "lead", "admin")


class IdentityError(Exception):
    """Refused: unknown user, or --as not allowed here. The message says what to do."""


@dataclass(frozen=True)
class Collector:
    id: int
    username: str
    display_name: str
    role: str
    languages: tuple[str, ...]
    locale: str
    tz: str = ""  # IANA name; '' = the host's zone
    team: str = ""
    theme: str = ""  # the Textual theme last picked ('' = the default), applied at start
    active: bool = True

    @property
    def zone(self) -> tzinfo:
        """The collector's clock: what they type is read on it, "today" is theirs."""
        return person_zone(self.tz)

    @property
    def is_lead(self) -> bool:
        return self.role in ("lead", "admin")

    @property
    def dial_region(self) -> str:
        """The country the collector dials from, from the locale's territory."""
        parts = self.locale.replace("-", "_").split("_")
        return parts[1].upper() if len(parts) > 1 else "US"


def _row_to_collector(row: sqlite3.Row) -> Collector:
    return Collector(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        role=row["role"],
        languages=tuple(x for x in row["languages"].split(",") if x),
        locale=row["locale"],
        tz=row["tz"] or "",
        team=row["team"] or "",
        theme=row["theme"] or "",
        active=bool(row["active"]),
    )


def check_tz(name: str | None) -> str:
    """A valid IANA zone name, as stored ('' = the host's); ValueError naming it."""
    text = (name or "").strip()
    if not text:
        return ""
    zone_named(text)
    return text


def get_collector(conn: sqlite3.Connection, username: str) -> Collector | None:
    row = conn.execute(
        "SELECT * FROM collectors WHERE username = ? AND active = 1", (username,)
    ).fetchone()
    return _row_to_collector(row) if row else None


def get_collector_by_id(conn: sqlite3.Connection, collector_id: int) -> Collector | None:
    row = conn.execute("SELECT * FROM collectors WHERE id = ?", (collector_id,)).fetchone()
    return _row_to_collector(row) if row else None


def list_collectors(conn: sqlite3.Connection) -> list[Collector]:
    rows = conn.execute("SELECT * FROM collectors WHERE active = 1 ORDER BY username")
    return [_row_to_collector(r) for r in rows]


def clean_display_name(text: str) -> tuple[str, int]:
    """A display name as stored: without control, bidi or invisible format characters (it
    is shown on every screen and in exports); ``(name, how many were removed)``. Markup
    such as ``[b]`` is text and stays (every printer shows it literally)."""
    name, removed = clean(text.strip())
    return name.strip(), removed


def display_name_cleaned(n: int) -> str:
    """What the CLI says after :func:`clean_display_name` removed ``n`` characters."""
    return _("removed {n} control character(s) from the display name").format(n=n)


def add_collector(
    conn: sqlite3.Connection,
    clock: Clock,
    *,
    username: str,
    display_name: str,
    role: str = "collector",
    languages: str = "en",
    locale: str = "en_US",
    tz: str = "",
    team: str = "",
) -> Collector:
    tz = check_tz(tz)
    team = clean(team)[0].strip()
    if len(team) > 40:
        raise ValueError(_("team {value!r}: at most {n} characters").format(value=team[:100], n=40))
    if role not in ROLES:
        raise ValueError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if not username or not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise ValueError(f"username {username!r}: use letters, digits, '.', '_' or '-'")
    display_name = clean_display_name(display_name)[0] or username
    with write_tx(conn):
        if conn.execute("SELECT 1 FROM collectors WHERE username = ?", (username,)).fetchone():
            raise ValueError(f"collector {username!r} already exists")
        conn.execute(
            """INSERT INTO collectors (username, display_name, role, languages, locale,
               tz, team, created_at) VALUES (?,?,?,?,?,?,?,?)""",
            (
                username,
                display_name,
                role,
                languages,
                locale,
                tz or None,
                team,
                to_iso(clock.now()),
            ),  # fmt: skip
        )
    found = get_collector(conn, username)
    assert found is not None
    return found


def set_collector_tz(conn: sqlite3.Connection, username: str, tz: str) -> Collector:
    """Change a collector's time zone ('' = back to the host's)."""
    tz = check_tz(tz)
    with write_tx(conn):
        cur = conn.execute(
            "UPDATE collectors SET tz = ? WHERE username = ? AND active = 1",
            (tz or None, username),
        )
        if cur.rowcount == 0:
            raise ValueError(f"unknown collector {username!r} (see `dunning collectors list`)")
    found = get_collector(conn, username)
    assert found is not None
    return found


def os_user() -> str:
    """The real OS user's name (pwd.getpwuid(os.getuid())); the environment cannot forge it."""
    return os_account()[1]


def resolve_identity(
    conn: sqlite3.Connection,
    as_name: str | None,
    *,
    db_path: Path | None = None,
    account: tuple[int, str] | None = None,
) -> Collector:
    """The collector this process works as (see dunning/queue/identity.py for who may use
    ``--as``); IdentityError for the host operator, who is no collector."""
    from dunning.queue.identity import resolve_actor  # identity imports this module

    actor = resolve_actor(conn, as_name, db_path=db_path, account=account)
    if actor.collector is None:
        raise IdentityError(
            _(
                "the OS user {who!r} runs this host but is not a collector: say whom to work "
                "as with --as NAME"
            ).format(who=actor.os_name)
        )
    return actor.collector
