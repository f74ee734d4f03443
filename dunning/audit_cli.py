"""``dunning export audit`` (issue 7, section 8): gated to admins, recorded in the audit
itself; the rows and writers are in dunning/db/audit_export.py."""

from __future__ import annotations

import argparse
from typing import Any

from dunning.ledger_cli import (
    _audited,
    _authorized,
    _clock,
    _day,
    _err,
    _existing_db,
    _format,
    _guard,
    _team_zone,
)


@_guard
def cmd_export_audit(args: argparse.Namespace) -> int:
    from dunning.db.append_only import missing_guards
    from dunning.db.audit_export import audit_rows, write_audit
    from dunning.i18n import _

    fmt = _format(args)
    start, end = _day(args, "--from", args.start), _day(args, "--to", args.end)
    if start is not None and end is not None and end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    conn = _existing_db(args)
    if conn is None:
        return 1
    try:
        target = str(args.output or "-")
        detail: dict[str, Any] = {"format": fmt, "from": start, "to": end}
        actor = _authorized(args, conn, "export.audit", target=target, detail=detail)
        if actor is None:
            return 1
        who = actor.name
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
        with _audited(args, conn, actor, "export.audit", target, detail) as info:
            rows = audit_rows(conn, start, end, zone)
            n = write_audit(rows, fmt, args.output, meta=meta)
            info.update(rows=n)
            if missing:  # kept in the audit log: a CSV has no header to carry it
                info.update(missing_guards=missing)
    finally:
        conn.close()
    if args.output is not None:
        print(_("{n} audit rows written to {file}").format(n=n, file=args.output))
    return 0
