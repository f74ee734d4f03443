"""``dunning export audit``: everything the audit holds, in one time-ordered listing.

Rows come from ``audit_log`` (who ran each import, export, report, backup, collector
change and reassignment, and every refusal: the real OS user and the collector acted as)
and from the history tables that record a person's or the system's change beside the
calls: ``assignments`` (who moved an account to whom; ``system`` when an import or the
demo did), ``voids`` (who took an outcome back, and what it cancelled), ``import_runs``
(what each import loaded), ``collectors`` (when each was added, with which role),
``collector_changes`` (each field a lead changed on a collector, deactivation included)
and ``claim_releases`` (each claim a lead broke, whose it was).

Each row: ``at_utc`` (as stored), ``at_local`` (the team's clock, with its offset),
``source`` (the table), ``os_user``/``os_uid`` (audit_log only), ``collector`` (whom it
acted as or who did it; empty: the system), ``action``, ``target`` (an account's
reference, a file, a collector), ``result`` and ``detail`` (JSON). Those tables are
append-only (dunning/db/append_only.py): the export also says which guard is missing,
if one is.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import UTC, date, timedelta, tzinfo
from pathlib import Path
from typing import Any

from dunning.clock import from_iso
from dunning.db import csvsafe
from dunning.db.metrics import day_start
from dunning.db.outfile import text_output

FORMATS = ("csv", "xlsx", "json")
COLUMNS = (
    "at_utc", "at_local", "source", "os_user", "os_uid", "collector", "action", "target",
    "result", "detail",
)  # fmt: skip

AUDIT_SQL = """
SELECT * FROM (
  SELECT l.at AS at, 'audit_log' AS source, l.id AS id, l.os_user, l.os_uid,
         co.username AS collector, l.action, l.target, l.result, l.detail
  FROM audit_log l LEFT JOIN collectors co ON co.id = l.collector_id
  WHERE l.at >= :lo AND l.at < :hi
  UNION ALL
  SELECT a.assigned_at, 'assignments', a.id, '', NULL,by.username, 'assign', c.external_ref,
         'done', json_object('to', ow.username, 'reason', a.reason, 'customer', c.name)
  FROM assignments a JOIN customers c ON c.id = a.customer_id
  LEFT JOIN collectors ow ON ow.id = a.collector_id
  LEFT JOIN collectors by ON by.id = a.assigned_by
  WHERE a.assigned_at >= :lo AND a.assigned_at < :hi
  UNION ALL
  SELECT v.voided_at, 'voids', v.id, '', NULL, vb.username,
         CASE WHEN v.undo THEN 'undo' ELSE 'void' END, c.external_ref, 'done',
         json_object('activity_id', v.activity_id, 'outcome', act.outcome,
                     'reason', v.reason, 'cancelled', json(v.details))
  FROM voids v JOIN customers c ON c.id = v.customer_id
  JOIN activities act ON act.id = v.activity_id
  LEFT JOIN collectors vb ON vb.id = v.voided_by
  WHERE v.voided_at >= :lo AND v.voided_at < :hi
  UNION ALL
  SELECT r.started_at, 'import_runs', r.id, '', NULL, NULL, 'import.' || r.kind, r.file,
         'done', json_object('profile', r.profile, 'options', json(r.options),
                             'finished_at', r.finished_at, 'rows', r.rows,
                             'created', r.created, 'updated', r.updated,
                             'unchanged', r.unchanged, 'closed', r.closed,
                             'refused', r.refused, 'skipped', r.skipped)
  FROM import_runs r
  WHERE r.started_at >= :lo AND r.started_at < :hi
  UNION ALL
  SELECT k.created_at, 'collectors', k.id, '', NULL, NULL, 'collector.created', k.username,
         'done', json_object('role', k.role, 'display_name', k.display_name)
  FROM collectors k
  WHERE k.created_at >= :lo AND k.created_at < :hi
  UNION ALL
  SELECT h.at, 'collector_changes', h.id, h.os_user, NULL, hb.username,
         'collector.' || h.field, hk.username, 'done',
         json_object('old', h.old, 'new', h.new, 'reason', h.reason)
  FROM collector_changes h JOIN collectors hk ON hk.id = h.collector_id
  LEFT JOIN collectors hb ON hb.id = h.by_id
  WHERE h.at >= :lo AND h.at < :hi
  UNION ALL
  SELECT x.released_at, 'claim_releases', x.id, '', NULL, xb.username, 'claim.released',
         c.external_ref, 'done',
         json_object('holder', xh.username, 'expires_at', x.expires_at, 'pid', x.pid,
                     'host', x.host, 'reason', x.reason)
  FROM claim_releases x JOIN customers c ON c.id = x.customer_id
  JOIN collectors xh ON xh.id = x.held_by
  LEFT JOIN collectors xb ON xb.id = x.released_by
  WHERE x.released_at >= :lo AND x.released_at < :hi
)
ORDER BY at, source, id
"""


def _local(at: str, tz: tzinfo) -> str:
    try:
        return from_iso(at).astimezone(tz).isoformat(timespec="seconds")
    except ValueError:  # not an instant: shown as stored
        return at


def audit_rows(
    conn: sqlite3.Connection,
    start: date | None = None,
    end: date | None = None,
    tz: tzinfo = UTC,
) -> Iterator[dict[str, Any]]:
    """Every audit row in [start, end] (days of the team's zone ``tz``, inclusive),
    oldest first, streamed; ``detail`` parsed from its JSON."""
    lo = day_start(start, tz) if start else ""
    hi = "~"  # after every timestamp
    if end is not None and end < date.max:
        hi = day_start(end + timedelta(days=1), tz)
    for r in conn.execute(AUDIT_SQL, {"lo": lo, "hi": hi}):
        at, source, _id, os_user, os_uid, collector, action, target, result, detail = tuple(r)
        parsed: Any = detail
        if detail:
            with contextlib.suppress(ValueError):
                parsed = json.loads(detail)
        yield {
            "at_utc": at,
            "at_local": _local(at, tz),
            "source": source,
            "os_user": os_user or "",
            "os_uid": os_uid,
            "collector": collector or "",
            "action": action,
            "target": target or "",
            "result": result,
            "detail": parsed,
        }


def _detail_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def write_audit(
    rows: Iterable[dict[str, Any]],
    fmt: str,
    dest: Path | None,
    *,
    meta: dict[str, Any] | None = None,
) -> int:
    """CSV (cells neutralized, dunning/db/csvsafe.py), XLSX (text cells, never formulas)
    or JSON (``meta`` then ``rows``, streamed); returns how many rows were written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    if fmt == "xlsx" and dest is None:
        raise ValueError("--format xlsx needs -o FILE")
    return _write(rows, fmt, dest, meta)  # private and whole: dunning/db/outfile.py


def _write(
    rows: Iterable[dict[str, Any]], fmt: str, dest: Path | None, meta: dict[str, Any] | None
) -> int:
    if fmt == "xlsx":
        assert dest is not None
        from dunning.db.exports import Column, Section
        from dunning.db.xlsx import write_xlsx

        count = [0]

        def lines() -> Iterator[list[Any]]:  # streamed: the write-only workbook
            for r in rows:
                count[0] += 1
                yield [_detail_text(r[c]) if c == "detail" else r[c] for c in COLUMNS]

        cols = [Column(c, "int" if c == "os_uid" else "text") for c in COLUMNS]
        about = {k: _detail_text(v) for k, v in (meta or {}).items()}
        write_xlsx([Section("audit", "audit", cols, lines())], dest, about)
        return count[0]
    n = 0
    with text_output(dest) as fh:
        if fmt == "csv":
            out = csvsafe.writer(fh)
            out.writerow(COLUMNS)
            for r in rows:
                out.writerow(
                    [
                        _detail_text(r[c]) if c == "detail" else ("" if r[c] is None else r[c])
                        for c in COLUMNS
                    ]
                )
                n += 1
        else:
            head = json.dumps(meta or {}, ensure_ascii=False, default=str)
            fh.write(head[:-1] + (", " if meta else "") + '"rows": [')
            for r in rows:
                fh.write(("\n" if n == 0 else ",\n") + json.dumps(r, ensure_ascii=False))
                n += 1
            fh.write("\n]}\n" if n else "]}\n")
    return n
