"""A lead's bulk move by filter (issue 9, item 2): ``dunning assign --where "lang=es
bucket>=61 collector=dave" --to carmen --reason ...`` and the account list's ``a``.

The same machinery as ``assign --from`` (queue/assign.py): the matching accounts are
staged (a read, no lock) in the worklist index's order, then moved in short chunks with
a pause between them; under the lock each chunk reads every account again against the
filter, so one changed meanwhile is left as it is now. Each moved account gets its
``assignments`` row (to whom, by whom, when, why) in the same transaction as its new
owner, and the lead's own hold on it is released (as the screen's ``a`` does,
``assign.hand_over``); an account someone else is on the phone with keeps their claim
and changes owner when they log the outcome. One audit row for the command (the filter,
the counts). Accounts already the target's are left out.

``limit``: at most that many of the matching accounts move, the first in the list's order
(its sort: ``balance`` the largest first, ``due`` the oldest first...): their ids are
picked once, a page of that size read as the list reads one, and the move (and the dry
run's counts) is over those alone; each is still checked against the filter under the
lock when its chunk moves.

A target who does not speak a customer's language is refused (the count by language)
unless ``any_language``: :func:`dunning.queue.filters.unspoken` is the check (p6's
routing may reuse it).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from dunning.clock import Clock, to_iso
from dunning.db.connection import write_tx
from dunning.db.lockwait import announce
from dunning.i18n import _
from dunning.queue import assign
from dunning.queue.account_list import AccountRow, ListQuery, details, page_ids
from dunning.queue.assign import AssignError
from dunning.queue.bulk import Interrupted, record_interrupted
from dunning.queue.collectors import Collector
from dunning.queue.filters import BUCKETS, in_scope, unspoken

STAGE = "temp.assign_where"
PICK = "temp.assign_pick"  # --limit: the ids picked, the first in the list's order


@dataclass(frozen=True)
class Preview:
    """What a move would do: how many accounts, by owner and bucket, the first ones, and
    how many are in languages the target does not speak."""

    count: int  # matching accounts not already the target's
    already: int  # matching accounts already the target's
    by_collector: list[tuple[str, int]]  # '' = nobody
    by_bucket: list[tuple[str, int]]
    first: list[AccountRow]
    unspoken: dict[str, int]
    matching: int | None = None  # with a limit: how many match (not already the target's)


def _moving(lq: ListQuery, to: Collector) -> tuple[str, list[object]]:
    return f"({lq.where}) AND q.collector_id IS NOT ?", [*lq.params, to.id]


def _picked(
    conn: sqlite3.Connection, lq: ListQuery, to: Collector, limit: int | None
) -> tuple[str, list[object]]:
    """What moves: every match not already the target's, or (``limit``) the first
    ``limit`` of them in the list's order, picked into ``PICK``."""
    where, params = _moving(lq, to)
    if limit is None:
        return where, params
    moving = replace(lq, where=where, params=tuple(params))
    ids, _more = page_ids(conn, moving, size=limit)
    conn.execute(f"DROP TABLE IF EXISTS {PICK}")
    conn.execute(f"CREATE TABLE {PICK} (customer_id INTEGER PRIMARY KEY)")
    conn.executemany(f"INSERT INTO {PICK} VALUES (?)", [(i,) for i, _k in ids])
    return f"({where}) AND q.customer_id IN (SELECT customer_id FROM {PICK})", params


def _unpick(conn: sqlite3.Connection) -> None:
    with contextlib.suppress(sqlite3.Error):
        conn.execute(f"DROP TABLE IF EXISTS {PICK}")


def _bucket_case(today: date) -> tuple[str, list[object]]:
    whens, params = [], []
    for name, first, _last in reversed(BUCKETS[1:]):
        whens.append("WHEN q.oldest_due <= ? THEN ?")
        params += [(today - timedelta(days=first)).isoformat(), name]
    return f"CASE {' '.join(whens)} ELSE 'current' END", params


def preview(
    conn: sqlite3.Connection,
    clock: Clock,
    lq: ListQuery,
    to: Collector,
    *,
    today: date,
    first: int = 10,
    limit: int | None = None,
) -> Preview:
    """The dry run: reads the matches (no write); with ``limit``, of the first ones."""
    try:
        return _preview(conn, clock, lq, to, today, first, limit)
    finally:
        _unpick(conn)


def _preview(
    conn: sqlite3.Connection, clock: Clock, lq: ListQuery, to: Collector, today: date,
    first: int, limit: int | None,
) -> Preview:  # fmt: skip
    where, params = _picked(conn, lq, to, limit)
    base = "queue q JOIN customers c ON c.id = q.customer_id"
    owners = conn.execute(
        f"""SELECT COALESCE(k.username, ''), COUNT(*) FROM {base}
            LEFT JOIN collectors k ON k.id = q.collector_id WHERE {where}
            GROUP BY 1 ORDER BY 2 DESC, 1""",
        params,
    ).fetchall()
    case, cparams = _bucket_case(today)
    buckets = dict(conn.execute(
        f"SELECT {case} AS b, COUNT(*) FROM {base} WHERE {where} GROUP BY b",
        [*cparams, *params],
    ).fetchall())  # fmt: skip
    already = conn.execute(
        f"SELECT COUNT(*) FROM {base} WHERE ({lq.where}) AND q.collector_id = ?",
        [*lq.params, to.id],
    ).fetchone()[0]
    moving = replace(lq, where=where, params=tuple(params))
    ids, _more = page_ids(conn, moving, size=first)
    matching = None
    if limit is not None:
        every, every_params = _moving(lq, to)
        matching = int(conn.execute(f"SELECT COUNT(*) FROM {base} WHERE {every}",
                                    every_params).fetchone()[0])  # fmt: skip
    return Preview(
        sum(int(n) for _o, n in owners),
        int(already),
        [(str(o), int(n)) for o, n in owners],
        [(b[0], int(buckets[b[0]])) for b in BUCKETS if b[0] in buckets],
        details(conn, to_iso(clock.now()), ids),
        unspoken(conn, where, params, to.languages),
        matching,
    )


def refuse_languages(to: Collector, missing: dict[str, int]) -> AssignError:
    langs = ", ".join(f"{lang} ({n:,})" for lang, n in missing.items())
    return AssignError(
        _("{name} does not speak the language of {n:,} of these accounts: {langs}; add "
          "lang=... to the filter, or --any-language to move them anyway")
        .format(name=to.username, n=sum(missing.values()), langs=langs)
    )  # fmt: skip


def check_target(
    conn: sqlite3.Connection, clock: Clock, lead: Collector, to: Collector, detail: dict
) -> None:
    """The lead may move accounts, to an active collector of their team."""
    assign._require_lead(conn, clock, lead, to, detail)  # noqa: SLF001 (same package)
    if not to.active:
        raise AssignError(_("{name!r} is not an active collector").format(name=to.username))
    if not in_scope(lead, to):
        raise AssignError(
            _("{name} is not in your team ({team}): a lead gives accounts within their team")
            .format(name=to.username, team=lead.team)
        )  # fmt: skip


def reassign_where(
    conn: sqlite3.Connection,
    clock: Clock,
    lead: Collector,
    lq: ListQuery,
    to: Collector,
    reason: str,
    *,
    any_language: bool = False,
    pause: float = assign.PAUSE_S,
    progress: Callable[[int], None] | None = None,
    limit: int | None = None,
) -> int:
    """Move every account ``lq`` matches (not already ``to``'s) to ``to``, or the first
    ``limit`` of them in the list's order; how many moved. AssignError (audited) when
    refused; Interrupted (audited) on Ctrl-C."""
    try:
        return _reassign_where(conn, clock, lead, lq, to, reason, any_language, pause,
                               progress, limit)  # fmt: skip
    finally:
        _unpick(conn)


def _reassign_where(
    conn: sqlite3.Connection, clock: Clock, lead: Collector, lq: ListQuery, to: Collector,
    reason: str, any_language: bool, pause: float, progress: Callable[[int], None] | None,
    limit: int | None,
) -> int:  # fmt: skip
    from dunning.textsafe import clean

    reason = clean(reason)[0].strip()
    text = lq.filter.text if lq.filter is not None else ""
    detail: dict[str, object] = {"where": text, "reason": reason}
    if limit is not None:
        detail.update(limit=limit, sort=lq.sort)
    check_target(conn, clock, lead, to, detail)
    where, params = _picked(conn, lq, to, limit)
    if not any_language:
        missing = unspoken(conn, where, params, to.languages)
        if missing:
            exc = refuse_languages(to, missing)
            assign._record(conn, clock, lead, to, {**detail, "message": str(exc)},  # noqa: SLF001
                           result="refused")  # fmt: skip
            raise exc
    of = conn.execute(
        f"SELECT COUNT(*) FROM queue q JOIN customers c ON c.id = q.customer_id WHERE {where}",
        params,
    ).fetchone()[0]
    start = conn.execute("SELECT COALESCE(MAX(id), 0) FROM assignments").fetchone()[0]
    try:
        with announce(conn, "assign", to_iso(clock.now())):
            moved = _move(conn, clock, lead, where, params, to, reason, pause, progress)
    except KeyboardInterrupt:
        moved = assign._moved_since(conn, start, lead)  # noqa: SLF001
        record_interrupted(conn, clock, action="assign", done=moved, of=of,
                           collector_id=lead.id, target=to.username)  # fmt: skip
        if limit is None:
            again = _("run the same command again to move the rest")
        else:
            again = _("run it again with --limit {n} to move the rest").format(n=of - moved)
        raise Interrupted(
            _("{moved:,} of {of:,} accounts moved to {name} before the interruption; {again}")
            .format(moved=moved, of=of, name=to.username, again=again), moved, of,
        ) from None  # fmt: skip
    except Exception as exc:
        assign._record(conn, clock, lead, to, {**detail, "error": str(exc)[:500]},  # noqa: SLF001
                       result="failed")  # fmt: skip
        raise
    assign._record(conn, clock, lead, to, {**detail, "matched": of, "moved": moved})  # noqa: SLF001
    return moved


def _move(
    conn: sqlite3.Connection,
    clock: Clock,
    lead: Collector,
    where: str,
    params: list[object],
    to: Collector,
    reason: str,
    pause: float,
    progress: Callable[[int], None] | None,
) -> int:
    conn.execute(f"DROP TABLE IF EXISTS {STAGE}")
    conn.execute(
        f"""CREATE TABLE {STAGE} AS SELECT q.customer_id
            FROM queue q JOIN customers c ON c.id = q.customer_id WHERE {where}
            ORDER BY q.collector_id, q.state, q.pclass, q.pkey DESC, q.customer_id""",
        params,
    )
    n = conn.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {STAGE}").fetchone()[0]

    def chunk(pos: int, size: int) -> int:
        before = assign.still_active(conn, to)
        now_iso = to_iso(clock.now())
        k = conn.execute(
            f"""INSERT INTO assignments (customer_id, collector_id, assigned_at,
                    assigned_by, reason, from_collector_id)
                SELECT q.customer_id, ?, ?, ?, ?, q.collector_id
                FROM {STAGE} m CROSS JOIN queue q ON q.customer_id = m.customer_id
                     JOIN customers c ON c.id = q.customer_id
                WHERE m.rowid > ? AND m.rowid <= ? AND {where}
                ORDER BY q.customer_id""",
            [to.id, now_iso, lead.id, reason, pos, pos + size, *params],
        ).rowcount
        moved_ids = "SELECT customer_id FROM assignments WHERE id > ?"
        conn.execute(
            f"UPDATE queue SET collector_id = ?, updated_at = ? WHERE customer_id IN ({moved_ids})",
            (to.id, now_iso, before),
        )
        # the lead's own holds let go (someone else's call is left to finish)
        conn.execute(
            f"""UPDATE queue SET claimed_by = NULL, claim_expires_at = NULL,
                    claim_pid = NULL, claim_host = NULL
                WHERE claimed_by = ? AND customer_id IN ({moved_ids})""",
            (lead.id, before),
        )
        return k

    try:
        return assign.Pacer(pause).run(conn, n, chunk, 0, progress)
    finally:
        with contextlib.suppress(sqlite3.Error):
            conn.execute(f"DROP TABLE IF EXISTS {STAGE}")


def reassign_ids(
    conn: sqlite3.Connection,
    clock: Clock,
    lead: Collector,
    ids: Sequence[int],
    to: Collector,
    reason: str,
    *,
    any_language: bool = False,
) -> int:
    """The screen's selection picked one by one (space): the same checks, then
    ``assign.reassign`` and the lead's holds released."""
    detail: dict[str, object] = {"accounts": len(ids), "reason": reason}
    check_target(conn, clock, lead, to, detail)
    ids = sorted(set(ids))
    if not any_language:
        missing: dict[str, int] = {}
        for i in range(0, len(ids), 900):
            chunk = ids[i : i + 900]
            marks = ",".join("?" * len(chunk))
            got = unspoken(conn, f"q.customer_id IN ({marks}) AND q.collector_id IS NOT ?",
                           [*chunk, to.id], to.languages)  # fmt: skip
            for lang, n in got.items():
                missing[lang] = missing.get(lang, 0) + n
        if missing:
            raise refuse_languages(to, missing)
    moved = assign.reassign(conn, clock, lead, ids, to, reason)
    for i in range(0, len(ids), 900):
        chunk = ids[i : i + 900]
        marks = ",".join("?" * len(chunk))
        with write_tx(conn):
            conn.execute(
                f"""UPDATE queue SET claimed_by = NULL, claim_expires_at = NULL,
                        claim_pid = NULL, claim_host = NULL
                    WHERE claimed_by = ? AND customer_id IN ({marks})""",
                [lead.id, *chunk],
            )
    return moved
