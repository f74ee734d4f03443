"""Who runs a command or a screen: an :class:`Actor` the environment cannot forge.

The OS user comes from ``os.getuid()`` (never LOGNAME/USER). ``--as NAME`` is honoured
only for a *trusted* OS user:

- root,
- the owner of the database file (``st_uid == os.getuid()``): whoever can copy or rewrite
  the file gains nothing by being refused ``--as``; this keeps ``dunning demo --as bruno``
  and a single-user set-up working,
- the service account recorded in the database (meta ``service_account``, set by
  ``dunning init --service-account NAME``), for the forced-command SSH set-up where each
  key runs ``dunning --as NAME``.

Anyone else works as the collector of their own OS user name, and cannot ``--as``
another one (leads included: a lead acts as themselves). A trusted user without ``--as``
and without a collector row of their own is the host *operator*: an admin for the host's
commands (imports, backups, reports, exports, queue refresh, adding collectors, init), so
cron jobs work; the audit log records them by OS user name.

:func:`authorize` is the one gate every command and screen calls: it checks the role
(dunning/queue/rights.py) and records a refusal in the audit log.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dunning.clock import Clock
from dunning.db.integrity import CorruptDatabase
from dunning.i18n import _
from dunning.queue.audit import get_meta, os_account, record
from dunning.queue.collectors import Collector, IdentityError, get_collector
from dunning.queue.rights import RightsError, allowed, require

SERVICE_ACCOUNT_KEY = "service_account"

ADD_HINT = (
    "dunning collectors add NAME --display-name 'Full Name' "
    "[--role collector|lead|admin] [--languages en,fr]"
)


@dataclass(frozen=True)
class Actor:
    """Who is acting: the real OS user, and the collector they act as (None: the host
    operator). ``trusted``: root, the database's owner or its service account."""

    os_name: str
    uid: int
    collector: Collector | None
    operator: bool = False
    trusted: bool = field(default=False, compare=False)

    @property
    def role(self) -> str:
        if self.collector is not None:
            return self.collector.role
        return "admin" if self.operator else "collector"

    @property
    def name(self) -> str:
        """How messages name them: the collector's login, else the OS user."""
        return self.collector.username if self.collector is not None else self.os_name

    @property
    def collector_id(self) -> int | None:
        return self.collector.id if self.collector is not None else None

    def may(self, action: str) -> bool:
        return allowed(self.role, action)


def db_file(conn: sqlite3.Connection) -> Path | None:
    """The main database file of ``conn`` (None: in memory)."""
    for row in conn.execute("PRAGMA database_list"):
        if row[1] == "main":
            return Path(row[2]) if row[2] else None
    return None


def service_account(conn: sqlite3.Connection) -> str | None:
    """The OS account recorded for the forced-command set-up, if any."""
    return get_meta(conn, SERVICE_ACCOUNT_KEY) or None


def owns_database(conn: sqlite3.Connection, uid: int, db_path: Path | None = None) -> bool:
    """Root, or the owner of the database file."""
    if uid == 0:
        return True
    path = db_path or db_file(conn)
    if path is None:
        return False
    try:
        return path.stat().st_uid == uid
    except OSError:
        return False


def resolve_actor(
    conn: sqlite3.Connection,
    as_name: str | None,
    *,
    db_path: Path | None = None,
    account: tuple[int, str] | None = None,
) -> Actor:
    """Who runs this process (see the module docstring); IdentityError when refused.

    ``account``: (uid, name) of the OS user, for tests; default ``os_account()``.
    """
    uid, who = account if account is not None else os_account()
    owner = owns_database(conn, uid, db_path)
    service = service_account(conn)
    trusted = owner or (service is not None and who == service)
    mine = get_collector(conn, who)
    if as_name:
        if not trusted and as_name != who:
            raise IdentityError(
                _(
                    "--as is honoured only for the database's owner or its service account "
                    "({service}); you are {who!r}"
                ).format(service=service or _("none recorded"), who=who)
            )
        found = get_collector(conn, as_name)
        if found is None:
            _refuse_inactive(conn, as_name)
            raise IdentityError(
                _("unknown collector {name!r}; add one with: {hint}").format(
                    name=as_name, hint=ADD_HINT
                )
            )
        return Actor(who, uid, found, operator=False, trusted=trusted)
    if mine is not None:
        return Actor(who, uid, mine, operator=False, trusted=trusted)
    if trusted:
        return Actor(who, uid, None, operator=True, trusted=True)
    _refuse_inactive(conn, who)
    raise IdentityError(
        _(
            "the OS user {who!r} is not a known collector; ask a lead to add you with: {hint}"
        ).format(who=who, hint=ADD_HINT)
    )


def _refuse_inactive(conn: sqlite3.Connection, name: str) -> None:
    """IdentityError saying when and by whom ``name`` was deactivated, if they were."""
    from dunning.queue.people import inactive_message  # people imports this module

    message = inactive_message(conn, name)
    if message is not None:
        raise IdentityError(message)


def refuse(
    conn: sqlite3.Connection,
    clock: Clock,
    *,
    action: str,
    message: str,
    collector_id: int | None = None,
    target: str = "",
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Record a refusal in the audit log (never fails the refusal itself)."""
    with contextlib.suppress(sqlite3.Error):
        record(
            conn,
            clock,
            action=action,
            collector_id=collector_id,
            target=target,
            result="refused",
            detail={**dict(detail or {}), "message": message},
        )


def authorize(
    conn: sqlite3.Connection,
    clock: Clock,
    actor: Actor,
    action: str,
    *,
    audit_action: str | None = None,
    target: str = "",
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Refuse (RightsError, recorded in the audit log) unless ``actor`` may ``action``."""
    try:
        require(actor.role, action, who=actor.name)
    except RightsError as exc:
        refuse(
            conn,
            clock,
            action=audit_action or action,
            message=str(exc),
            collector_id=actor.collector_id,
            target=target,
            detail=detail,
        )
        raise


def identify(
    conn: sqlite3.Connection,
    clock: Clock,
    as_name: str | None,
    *,
    action: str,
    db_path: Path | None = None,
    target: str = "",
) -> Actor:
    """:func:`resolve_actor`, with a refused identity recorded in the audit log."""
    try:
        return resolve_actor(conn, as_name, db_path=db_path)
    except IdentityError as exc:
        refuse(conn, clock, action=action, message=str(exc), target=target, detail={"as": as_name})
        raise


@contextlib.contextmanager
def audited(
    conn: sqlite3.Connection,
    clock: Clock,
    actor: Actor,
    action: str,
    *,
    target: str = "",
    detail: dict[str, Any] | None = None,
) -> Iterator[dict[str, Any]]:
    """Run a command's body and record it: ``done``, ``interrupted`` (Ctrl-C) or
    ``failed`` (any error, its message kept). The body may add counts to the yielded
    dict, recorded as the detail; ``info["_result"] = "failed"`` records a run that
    returned without raising but did nothing (rows refused)."""
    info: dict[str, Any] = dict(detail or {})
    result = "done"
    try:
        yield info
    except CorruptDatabase:
        info["_skip"] = True  # never write into a damaged file; the message names it
        raise
    except KeyboardInterrupt:
        result = "interrupted"
        raise
    except BaseException as exc:
        result = "failed"
        info.setdefault("error", str(exc)[:500] or type(exc).__name__)
        raise
    finally:
        result = info.pop("_result", None) or result
        with contextlib.suppress(sqlite3.Error):
            if not info.pop("_skip", False):
                record(
                    conn,
                    clock,
                    action=action,
                    collector_id=actor.collector_id,
                    target=target,
                    result=result,
                    detail=info,
                )
