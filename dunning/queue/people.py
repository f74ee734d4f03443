"""A lead changes the team (issue 9, item 8): a collector's display name, role,
languages, locale, time zone and team; deactivate and reactivate.

Rules, here so that the command line and any screen obey the same ones:

- A collector may change their own time zone; everything else, and anyone else, needs a
  lead or an admin (``collectors.change`` in dunning/queue/rights.py).
- Only an admin makes someone an admin, changes an admin or deactivates one; nobody
  changes their own role or deactivates themselves (a team is never left without the
  person who could undo it).
- Every field changed is a ``collector_changes`` row (who, when, old, new, why), written
  in the same transaction as the change, with one ``audit_log`` row for the command.
- A deactivated collector can no longer log in nor be given accounts; their claims are
  released (each a ``claim_releases`` row) and their open screens are told at their next
  heartbeat (queue/presence.py). Their accounts stay theirs until a lead moves them:
  :func:`book` counts them, and the CLI prints the command that moves them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass

from dunning.clock import Clock, to_iso
from dunning.db.connection import write_tx
from dunning.i18n import _
from dunning.queue import audit
from dunning.queue.collectors import (
    ROLES,
    Collector,
    _row_to_collector,
    check_tz,
    clean_display_name,
)
from dunning.queue.identity import Actor, refuse
from dunning.queue.rights import RightsError, require
from dunning.textsafe import clean

FIELDS = ("display_name", "role", "languages", "locale", "tz", "team")
MAX_TEAM = 40
MAX_REASON = 500


class PeopleError(ValueError):
    """A value that cannot be right (named in the one-line message); nothing changed."""


@dataclass(frozen=True)
class Change:
    field: str
    old: str
    new: str


def check_languages(text: str) -> str:
    """``"en, FR"`` -> ``"en,fr"``; PeopleError naming the value unless ISO 639-1 codes."""
    codes = [x.strip().lower() for x in (text or "").split(",") if x.strip()]
    if not codes or not all(len(x) == 2 and x.isascii() and x.isalpha() for x in codes):
        raise PeopleError(
            _("languages {value!r}: ISO 639-1 codes, e.g. en,fr").format(value=text[:100])
        )
    return ",".join(dict.fromkeys(codes))


def check_locale(text: str) -> str:
    from babel import Locale, UnknownLocaleError

    value = (text or "").strip()
    try:
        Locale.parse(value)
    except (UnknownLocaleError, ValueError, TypeError):
        raise PeopleError(
            _("locale {value!r} is not a locale (e.g. en_US, fr_CA)").format(value=value[:100])
        ) from None
    return value


def check_team(text: str) -> str:
    value = clean(text or "")[0].strip()
    if len(value) > MAX_TEAM:
        raise PeopleError(
            _("team {value!r}: at most {n} characters").format(value=value[:100], n=MAX_TEAM)
        )
    return value


def _checked(field: str, value: str) -> str:
    if field == "display_name":
        name = clean_display_name(value)[0]
        if not name:
            raise PeopleError(_("the display name may not be empty"))
        return name[:200]
    if field == "role":
        if value not in ROLES:
            raise PeopleError(
                _("role {value!r} is not one of {roles}").format(
                    value=value[:100], roles=", ".join(ROLES)
                )
            )
        return value
    if field == "languages":
        return check_languages(value)
    if field == "locale":
        return check_locale(value)
    if field == "tz":
        try:
            return check_tz(value)
        except ValueError as exc:
            raise PeopleError(str(exc)) from None
    if field == "team":
        return check_team(value)
    raise PeopleError(_("unknown field {name!r}").format(name=field))


def _row(conn: sqlite3.Connection, username: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM collectors WHERE username = ?", (username,)).fetchone()
    if row is None:
        raise PeopleError(
            _("unknown collector {name!r} (see `dunning collectors list`)").format(name=username)
        )
    return row


def _refused(
    conn: sqlite3.Connection, clock: Clock, actor: Actor, action: str, target: str, message: str
) -> RightsError:
    refuse(conn, clock, action=action, message=message, collector_id=actor.collector_id,
           target=target)  # fmt: skip
    return RightsError(message)


def _require(
    conn: sqlite3.Connection, clock: Clock, actor: Actor, action: str, target: str
) -> None:
    try:
        require(actor.role, "collectors.change", who=actor.name)
    except RightsError as exc:
        raise _refused(conn, clock, actor, action, target, str(exc)) from None


def _clean_reason(reason: str) -> str:
    return clean(reason or "")[0].strip()[:MAX_REASON]


def _history(
    conn: sqlite3.Connection,
    now_iso: str,
    actor: Actor,
    collector_id: int,
    changes: list[Change],
    reason: str,
) -> None:
    conn.executemany(
        """INSERT INTO collector_changes (collector_id, at, by_id, os_user, field, old, new,
               reason) VALUES (?,?,?,?,?,?,?,?)""",
        [
            (collector_id, now_iso, actor.collector_id, actor.os_name, c.field, c.old, c.new,
             reason)
            for c in changes
        ],
    )  # fmt: skip


def change_collector(
    conn: sqlite3.Connection,
    clock: Clock,
    actor: Actor,
    username: str,
    values: Mapping[str, str],
    reason: str = "",
) -> tuple[Collector, list[Change]]:
    """Set the given fields of ``username``; returns the collector and what changed (a
    value equal to the present one is no change). PeopleError names a bad value,
    RightsError (recorded) a change the actor may not make; nothing is written then."""
    if not values:
        raise PeopleError(
            _("say what to change: --display-name, --role, --languages, --locale, --tz or --team")
        )
    checked = {f: _checked(f, v) for f, v in values.items()}
    reason = _clean_reason(reason)
    row = _row(conn, username)
    own = actor.collector is not None and actor.collector.id == row["id"]
    if not (own and set(checked) == {"tz"}):  # one's own time zone: anyone
        _require(conn, clock, actor, "collectors.set", username)
    if "role" in checked and checked["role"] != row["role"] and own:
        raise _refused(conn, clock, actor, "collectors.set", username,
                       _("you may not change your own role"))  # fmt: skip
    if actor.role != "admin" and (row["role"] == "admin" or checked.get("role") == "admin"):
        raise _refused(conn, clock, actor, "collectors.set", username,
                       _("only an admin may change an admin or make one"))  # fmt: skip
    now_iso = to_iso(clock.now())
    with write_tx(conn):
        row = _row(conn, username)  # again, under the lock
        changes = [
            Change(f, str(row[f] or ""), v) for f, v in checked.items() if str(row[f] or "") != v
        ]
        if changes:
            sets = ", ".join(f"{c.field} = ?" for c in changes)
            conn.execute(
                f"UPDATE collectors SET {sets} WHERE id = ?",
                [*(c.new if c.new or c.field != "tz" else None for c in changes), row["id"]],
            )
            _history(conn, now_iso, actor, int(row["id"]), changes, reason)
        audit.record(
            conn, clock, action="collectors.set", collector_id=actor.collector_id,
            target=username,
            detail={"changed": {c.field: [c.old, c.new] for c in changes}, "reason": reason},
        )  # fmt: skip
        found = _row_to_collector(_row(conn, username))
    return found, changes


@dataclass(frozen=True)
class Deactivated:
    collector: Collector
    released: int  # claims released
    accounts: dict[str, int]  # accounts still theirs, by queue state


def set_active(
    conn: sqlite3.Connection,
    clock: Clock,
    actor: Actor,
    username: str,
    active: bool,
    reason: str,
) -> Deactivated:
    """Deactivate (``active=False``) or reactivate a collector. Deactivating releases
    their claims and ends their screens' sessions; their accounts stay assigned to them
    (counted in the result) until a lead moves them (``dunning assign --from NAME``)."""
    action = "collectors.reactivate" if active else "collectors.deactivate"
    reason = _clean_reason(reason)
    if not reason:
        raise PeopleError(_("say why with --reason (it is kept in the history)"))
    row = _row(conn, username)
    _require(conn, clock, actor, action, username)
    if actor.collector is not None and actor.collector.id == row["id"]:
        raise _refused(conn, clock, actor, action, username,
                       _("you may not deactivate or reactivate yourself"))  # fmt: skip
    if row["role"] == "admin" and actor.role != "admin":
        raise _refused(conn, clock, actor, action, username,
                       _("only an admin may deactivate or reactivate an admin"))  # fmt: skip
    if bool(row["active"]) == active:
        state = _("active") if active else _("deactivated")
        raise PeopleError(_("{name} is already {state}").format(name=username, state=state))
    now_iso = to_iso(clock.now())
    released = 0
    with write_tx(conn):
        cid = int(row["id"])
        conn.execute("UPDATE collectors SET active = ? WHERE id = ?", (int(active), cid))
        _history(conn, now_iso, actor, cid,
                 [Change("active", str(int(not active)), str(int(active)))], reason)  # fmt: skip
        if not active:
            held = conn.execute(
                """SELECT customer_id, claim_expires_at, claim_pid, claim_host FROM queue
                   WHERE claimed_by = ?""",
                (cid,),
            ).fetchall()
            conn.executemany(
                """INSERT INTO claim_releases (customer_id, held_by, expires_at, pid, host,
                       released_at, released_by, reason) VALUES (?,?,?,?,?,?,?,?)""",
                [
                    (r["customer_id"], cid, r["claim_expires_at"], r["claim_pid"],
                     r["claim_host"], now_iso, actor.collector_id, reason)
                    for r in held
                ],
            )  # fmt: skip
            conn.execute(
                """UPDATE queue SET claimed_by = NULL, claim_expires_at = NULL,
                       claim_pid = NULL, claim_host = NULL WHERE claimed_by = ?""",
                (cid,),
            )
            released = len(held)
        accounts = book(conn, cid)
        audit.record(
            conn, clock, action=action, collector_id=actor.collector_id, target=username,
            detail={"reason": reason, "claims_released": released, "accounts": accounts},
        )  # fmt: skip
        found = _row_to_collector(_row(conn, username))
    return Deactivated(found, released, accounts)


def book(conn: sqlite3.Connection, collector_id: int) -> dict[str, int]:
    """A collector's accounts by queue state (the worklist index: no table scan)."""
    return {
        str(r[0]): int(r[1])
        for r in conn.execute(
            "SELECT state, COUNT(*) FROM queue WHERE collector_id = ? GROUP BY state",
            (collector_id,),
        )
    }


def inactive_message(conn: sqlite3.Connection, username: str) -> str | None:
    """The refusal for a deactivated collector (when and by whom), None if not one."""
    row = conn.execute(
        "SELECT id FROM collectors WHERE username = ? AND active = 0", (username,)
    ).fetchone()
    if row is None:
        return None
    last = conn.execute(
        """SELECT h.at, k.username FROM collector_changes h
           LEFT JOIN collectors k ON k.id = h.by_id
           WHERE h.collector_id = ? AND h.field = 'active' ORDER BY h.id DESC LIMIT 1""",
        (row["id"],),
    ).fetchone()
    if last is None:
        return _("{name} is deactivated: ask a lead to reactivate them").format(name=username)
    return _("{name} was deactivated on {day} by {by}: ask a lead to reactivate them").format(
        name=username, day=str(last["at"])[:10], by=last["username"] or _("the host operator")
    )


def changes_of(conn: sqlite3.Connection, collector_id: int, limit: int = 10) -> list[sqlite3.Row]:
    """A collector's latest changes, newest first."""
    return conn.execute(
        """SELECT h.at, h.field, h.old, h.new, h.reason, k.username AS by_name, h.os_user
           FROM collector_changes h LEFT JOIN collectors k ON k.id = h.by_id
           WHERE h.collector_id = ? ORDER BY h.id DESC LIMIT ?""",
        (collector_id, limit),
    ).fetchall()


MAX_THEME = 64


def save_theme(conn: sqlite3.Connection, collector_id: int, theme: str) -> None:
    """The Textual theme a collector picked, applied at their next start (a preference,
    theirs only: not history, not audited)."""
    name = (theme or "").strip()
    if len(name) > MAX_THEME or not all(ch.isalnum() or ch in "-_" for ch in name):
        raise PeopleError(_("theme {value!r} is not a theme name").format(value=name[:100]))
    with write_tx(conn):
        conn.execute("UPDATE collectors SET theme = ? WHERE id = ?", (name or None, collector_id))
