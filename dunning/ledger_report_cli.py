"""``dunning report aging|metrics``, ``dunning export activities`` and ``dunning backup``.

The handlers ledger_cli.register wires up; the shared helpers (_guard, _authorized, _audited,
...) stay in ledger_cli.py. Same exit codes and one-line errors as there.
"""

from __future__ import annotations

import argparse

from dunning.i18n import _
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
    _today,
)


@_guard
def cmd_aging(args: argparse.Namespace) -> int:
    from dunning.db import aging_out, exports, reports

    fmt = _format(args)
    today = _today(args)
    as_of = _day(args, "--as-of", args.as_of) or today
    conn = _existing_db(args)
    if conn is None:
        return 1
    try:
        detail = {"as_of": as_of, "by": args.by, "format": fmt, "output": args.output}
        actor = _authorized(args, conn, "report", target="aging", detail=detail)
        if actor is None:
            return 1
        with _audited(args, conn, actor, "report", "aging", detail) as info:
            title = f"Aging as of {as_of}"
            ledger = "rebuilt as it stood on as_of" if as_of < today else "as loaded"
            meta = {"report": "aging", "as_of": as_of, "by": args.by, "ledger": ledger}
            if args.by == "customer" and fmt in ("csv", "table", "xlsx"):
                # streamed from the cursor: bounded memory (dunning/db/aging_out.py)
                n = aging_out.write_aging(conn, as_of, fmt, args.output, today=today,
                                          title=title, meta=meta)  # fmt: skip
            else:
                report = reports.aging(conn, as_of, by=args.by, today=today)
                with reports.paused_gc():
                    cols, rows = exports.aging_table(report)
                    exports.write(cols, rows, fmt, args.output, title=title, meta=meta)
                n = len(report.rows)
            info["rows"] = n
    finally:
        conn.close()
    if args.output is not None:
        print(f"aging as of {as_of}: {n} rows written to {args.output}")
    return 0


@_guard
def cmd_metrics(args: argparse.Namespace) -> int:
    from dunning.db import exports
    from dunning.db.metrics import metrics

    fmt = _format(args)
    start, end = _day(args, "--from", args.start), _day(args, "--to", args.end)
    assert start is not None and end is not None  # both required
    if end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    conn = _existing_db(args)
    if conn is None:
        return 1
    try:
        detail = {"from": start, "to": end, "format": fmt, "output": args.output}
        actor = _authorized(args, conn, "report", target="metrics", detail=detail)
        if actor is None:
            return 1
        with _audited(args, conn, actor, "report", "metrics", detail):
            report = metrics(conn, start, end, _team_zone(args))
            meta = {"report": "metrics", "from": start, "to": end}
            sections = exports.metrics_sections(report)
            exports.write_sections(sections, fmt, args.output,
                                   title=f"Metrics {start} to {end}", meta=meta)  # fmt: skip
    finally:
        conn.close()
    if args.output is not None:
        n = len(report.money) + len(report.activity)
        print(f"metrics: {n} rows written to {args.output}")
    return 0


@_guard
def cmd_export_activities(args: argparse.Namespace) -> int:
    from dunning.db import exports

    fmt = _format(args)
    start, end = _day(args, "--from", args.start), _day(args, "--to", args.end)
    if start is not None and end is not None and end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    conn = _existing_db(args)
    if conn is None:
        return 1
    try:
        detail = {"from": start, "to": end, "collector": args.collector, "format": fmt,
                  "output": args.output}  # fmt: skip
        actor = _authorized(args, conn, "export", target="activities", detail=detail)
        if actor is None:
            return 1
        if (
            args.collector is not None
            and not conn.execute(
                "SELECT 1 FROM collectors WHERE username = ?", (args.collector,)
            ).fetchone()
        ):
            raise ValueError(f"--collector: no collector {args.collector!r} "
                             "(see `dunning collectors list`)")  # fmt: skip
        with _audited(args, conn, actor, "export", "activities", detail) as info:
            rows = exports.activities(conn, start, end, args.collector, _team_zone(args))
            n = exports.write_activities(rows, fmt, args.output)
            info["rows"] = n
    finally:
        conn.close()
    if args.output is not None:
        print(f"{n} activities written to {args.output}")
    return 0


@_guard
def cmd_backup(args: argparse.Namespace) -> int:
    from dunning.db.backup import backup

    conn = _existing_db(args)
    if conn is None:
        return 1
    try:
        detail = {"dest": args.dest, "force": args.force}
        actor = _authorized(args, conn, "backup", target=str(args.dest), detail=detail)
        if actor is None:
            return 1
        with _audited(args, conn, actor, "backup", str(args.dest), detail) as info:
            result = backup(conn, args.dest, _clock(args), force=args.force)
            info.update(path=result.path, bytes=result.bytes)
    finally:
        conn.close()
    if result.unrecorded:
        _err(
            _(
                "the live database passed its check but the check was not recorded "
                "({reason}): the next `queue refresh` checks the whole file"
            ).format(reason=result.unrecorded)
        )
    for stale in result.cleaned:
        _err(_("removed {path}: left by a backup that was stopped").format(path=stale))
    print(f"backup written to {result.path} ({result.bytes:,} bytes, {result.seconds:.1f} s)")
    return 0
