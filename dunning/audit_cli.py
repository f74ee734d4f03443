"""``dunning export audit`` (issue 7, section 8): gated to admins, recorded in the audit
itself; the rows and writers are in dunning/db/audit_export.py."""

from __future__ import annotations

import argparse
import sqlite3
from typing import Any

from dunning.ledger_cli import (
    _clock,
    _day,
    _err,
    _existing_db,
    _format,
    _guard,
    _team_zone,
)


def _audit_who(args: argparse.Namespace, conn: sqlite3.Connection) -> tuple[str, int | None]:
    """Who exports the audit, and as which collector (None: the host's operator — root,
    the database file's owner or the recorded service account, without --as — who counts
    as admin). Refused (RightsError, IdentityError) unless an admin."""
    from dunning.cli_base import Context
    from dunning.queue.audit import get_meta, os_account, record
    from dunning.queue.collectors import resolve_identity
    from dunning.queue.rights import RightsError, require

    uid, name = os_account()
    if not getattr(args, "as_name", None):
        try:
            owner = Context(args, _clock(args)).db_path.stat().st_uid
        except OSError:
            owner = -1
        if uid in (0, owner) or get_meta(conn, "service_account") == name:
            return name, None
    me = resolve_identity(conn, getattr(args, "as_name", None))
    try:
        require(me.role, "export.audit", who=me.username)
    except RightsError:
        record(conn, _clock(args), action="export.audit", collector_id=me.id,
               target=str(args.output or "-"), result="refused",
               detail={"role": me.role})  # fmt: skip
        raise
    return me.username, me.id


@_guard
def cmd_export_audit(args: argparse.Namespace) -> int:
    from dunning.db.append_only import missing_guards
    from dunning.db.audit_export import audit_rows, write_audit
    from dunning.i18n import _
    from dunning.queue.audit import record
    from dunning.queue.collectors import IdentityError
    from dunning.queue.rights import RightsError

    fmt = _format(args)
    start, end = _day(args, "--from", args.start), _day(args, "--to", args.end)
    if start is not None and end is not None and end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    conn = _existing_db(args)
    if conn is None:
        return 1
    try:
        try:
            who, collector_id = _audit_who(args, conn)
        except (RightsError, IdentityError) as exc:
            _err(str(exc))
            return 2
        missing = missing_guards(conn)
        if missing:
            _err(_("warning: the history is not protected: append-only guards missing: "
                   "{names}").format(names=", ".join(missing)))  # fmt: skip
        zone = _team_zone(args)
        now = _clock(args).now().astimezone(zone).isoformat(timespec="seconds")
        meta: dict[str, Any] = {
            "export": "audit", "exported_at": now, "exported_by": who, "from": start,
            "to": end, "missing_guards": missing,
        }  # fmt: skip
        rows = audit_rows(conn, start, end, zone)
        n = write_audit(rows, fmt, args.output, meta=meta)
        record(conn, _clock(args), action="export.audit", collector_id=collector_id,
               target=str(args.output or "-"),
               detail={"rows": n, "format": fmt, "from": start, "to": end})  # fmt: skip
    finally:
        conn.close()
    if args.output is not None:
        print(_("{n} audit rows written to {file}").format(n=n, file=args.output))
    return 0
