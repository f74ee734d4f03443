"""Reassigning accounts: a lead moves accounts from one collector to another.

Each moved account gets an ``assignments`` history row (to whom, by whom, when, why) and
its ``queue.collector_id`` set, in the same write transaction. Bulk moves are chunked
(1,000 accounts per transaction) so that other collectors' writes never wait long
(DESIGN.md: a 100,000-row UPDATE stalls every writer ~1 s; 1,000-row chunks ~50 ms).
A claim in progress is left alone: the account changes owner, the collector on the call
keeps the claim and finishes it (queue/access.py: ``holds``), and the next claim is the
new owner's. A bulk move stopped part-way (Ctrl-C) raises
:class:`~dunning.queue.bulk.Interrupted` saying how many moved, and audits it; running the
same command again moves the rest.

A lead's move of a whole book (:func:`reassign_from`, ``dunning assign --from USER``) is
set-based: each chunk is one ``INSERT ... SELECT`` into the history and one ``UPDATE`` of
the owner over a range of customer ids, sized to hold the write lock ~50 ms, and the move
pauses between chunks so that the team's claims and outcomes get the lock in between
(issue 8: back-to-back chunks left collectors waiting seconds).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from dunning.clock import Clock, to_iso
from dunning.db.connection import write_tx
from dunning.db.lockwait import announce
from dunning.i18n import _
from dunning.queue.accounts import refresh_accounts
from dunning.queue.audit import record
from dunning.queue.bulk import Interrupted, record_interrupted
from dunning.queue.collectors import Collector
from dunning.queue.config import Settings
from dunning.queue.identity import refuse
from dunning.queue.rights import RightsError, require
from dunning.textsafe import clean

CHUNK = 1000
# between two chunks of a bulk move the lock is free this long: time for the waiting
# claims and outcomes of a team (each a few ms) to go first
PAUSE_S = 0.03
# a set-based chunk aims at holding the write lock this long (its size adapts)
TARGET_LOCK_S = 0.05
MIN_CHUNK, FIRST_CHUNK, MAX_CHUNK = 200, 1000, 5000


def breathe(conn: sqlite3.Connection, pause: float) -> None:
    """Between two chunks of a bulk change: copy what the chunk wrote from the WAL into
    the database (PASSIVE: it takes no write lock, the team's writes go on meanwhile),
    then leave the lock free for the rest of ``pause``. Without it the WAL crosses
    SQLite's auto-checkpoint size (1,000 pages) every chunk or two, and the checkpoint
    runs inside whichever commit crosses it: a collector's outcome, tens of ms late. A
    bulk writer empties its own writes instead."""
    began = time.monotonic()
    with contextlib.suppress(sqlite3.Error):
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    time.sleep(max(pause - (time.monotonic() - began), pause / 3))


@dataclass
class Pacer:
    """The chunks of a long move (``assign --from``, ``--where``, a rebalance): each chunk
    is one write transaction holding the lock about TARGET_LOCK_S (its size x2 or /2 at
    most after each), and between two the team's claims and outcomes go first: the lock is
    free at least as long as the chunk held it (a slow disk or a busy machine stretches
    both; ``pause`` 0 = no pause but the WAL's copy)."""

    pause: float
    size: int = field(default_factory=lambda: FIRST_CHUNK)  # read when made
    held: float = 0.0
    chunks: int = 0

    def run(
        self,
        conn: sqlite3.Connection,
        n: int,
        chunk: Callable[[int, int], int],
        moved: int = 0,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """``chunk(pos, size)`` moves staged rows pos+1..pos+size inside the transaction
        and says how many moved; returns ``moved`` plus what this run moved."""
        pos = 0
        while pos < n:
            if self.chunks:
                breathe(conn, max(self.pause, self.held) if self.pause else 0.0)
            with write_tx(conn):
                began = time.monotonic()
                moved += chunk(pos, self.size)
            self.held = max(time.monotonic() - began, 1e-4)
            self.chunks += 1
            pos += self.size
            if progress is not None:
                progress(moved)
            grow = min(2.0, max(0.5, TARGET_LOCK_S / self.held))
            self.size = max(MIN_CHUNK, min(MAX_CHUNK, round(self.size * grow)))
        return moved


class AssignError(Exception):
    """Refused: the person reassigning is not a lead, or the target cannot take accounts."""


def still_active(conn: sqlite3.Connection, to: Collector) -> int:
    """Inside a move's chunk: the target is read again under the lock (deactivated since
    the move began: refused); the last ``assignments`` id before the chunk's rows."""
    active = conn.execute("SELECT active FROM collectors WHERE id = ?", (to.id,)).fetchone()
    if active is None or not active[0]:
        raise AssignError(_("{name!r} is not an active collector").format(name=to.username))
    return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM assignments").fetchone()[0])


def _require_lead(
    conn: sqlite3.Connection,
    clock: Clock,
    lead: Collector,
    to: Collector,
    detail: Mapping[str, object],
) -> None:
    """AssignError (audited as refused) unless ``lead`` may reassign accounts."""
    try:
        require(lead.role, "assign", who=lead.username)
    except RightsError as exc:
        refuse(conn, clock, action="assign", message=str(exc), collector_id=lead.id,
               target=to.username, detail=dict(detail))  # fmt: skip
        raise AssignError(str(exc)) from None


def _moved_since(conn: sqlite3.Connection, start: int, lead: Collector) -> int:
    """Accounts ``lead`` moved in chunks committed after assignment row ``start``: exact
    whatever instant an interruption came at."""
    return int(
        conn.execute(
            "SELECT COUNT(*) FROM assignments WHERE id > ? AND assigned_by = ?",
            (start, lead.id),
        ).fetchone()[0]
    )


def _record(
    conn: sqlite3.Connection,
    clock: Clock,
    lead: Collector,
    to: Collector,
    detail: Mapping[str, object],
    *,
    result: str = "done",
) -> None:
    """The move's audit row (dunning export audit); a failed one never hides the error."""
    try:
        record(conn, clock, action="assign", collector_id=lead.id, target=to.username,
               result=result, detail=dict(detail))  # fmt: skip
    except sqlite3.Error:
        if result != "failed":
            raise


def reassign(
    conn: sqlite3.Connection,
    clock: Clock,
    lead: Collector,
    customer_ids: Iterable[int],
    to: Collector,
    reason: str,
    *,
    settings: Settings | None = None,
) -> int:
    """Give ``customer_ids`` to ``to``; returns how many accounts changed hands.

    Accounts already assigned to ``to`` and ids that are not customers are left out.
    Accounts without a queue row yet (imported, not refreshed) get one first.
    """
    reason = clean(reason)[0].strip()  # the CLI says how many went (dunning/textsafe.py)
    _require_lead(conn, clock, lead, to, {"reason": reason})
    ids = sorted(set(customer_ids))
    detail = {"accounts": len(ids), "reason": reason}
    start = conn.execute("SELECT COALESCE(MAX(id), 0) FROM assignments").fetchone()[0]
    try:
        if len(ids) <= CHUNK:
            moved = _reassign(conn, clock, lead, ids, to, reason, settings)
        else:
            with announce(conn, "assign", to_iso(clock.now())):
                moved = _reassign(conn, clock, lead, ids, to, reason, settings)
    except KeyboardInterrupt:
        # the chunks committed before the interruption are written: count them in the
        # database (exact whatever instant the signal came at), say so, and audit it
        moved = _moved_since(conn, start, lead)
        record_interrupted(
            conn, clock, action="assign", done=moved, of=len(ids), collector_id=lead.id,
            target=to.username,
        )  # fmt: skip
        raise Interrupted(
            _(
                "{moved:,} of {of:,} accounts moved to {name} before the interruption; run "
                "the same command again to move the rest"
            ).format(moved=moved, of=len(ids), name=to.username),
            moved,
            len(ids),
        ) from None
    except Exception as exc:
        _record(conn, clock, lead, to, {**detail, "error": str(exc)[:500]}, result="failed")
        raise
    _record(conn, clock, lead, to, {**detail, "moved": moved})  # who moved what
    return moved


def hand_over(
    conn: sqlite3.Connection,
    clock: Clock,
    lead: Collector,
    customer_id: int,
    to: Collector,
    reason: str,
    settings: Settings | None = None,
) -> int:
    """The screen's ``a``: give one account to ``to`` and let go of the lead's own hold on
    it, so that the new owner is never told it "is being worked by" the lead. Someone
    else's claim (the collector on the phone) is left alone: they finish and log their
    call, then the account is the new owner's. Returns 1 when it changed hands.

    Routing by language (queue/routing.py): refused (AssignError, audited) when ``to``
    does not speak the customer's language, unless ``[routing] by_language = false``."""
    from dunning.queue import routing

    if routing.enabled(settings):
        row = conn.execute(
            f"SELECT {routing.LANG_SQL} FROM customers c WHERE c.id = ?", (customer_id,)
        ).fetchone()
        if row is not None and not routing.speaks(to, row[0]):
            message = routing.refusal(to, row[0])
            refuse(conn, clock, action="assign", message=message, collector_id=lead.id,
                   target=to.username, detail={"customer_id": customer_id})  # fmt: skip
            raise AssignError(message)
    moved = reassign(conn, clock, lead, [customer_id], to, reason, settings=settings)
    with write_tx(conn):
        conn.execute(
            """UPDATE queue SET claimed_by = NULL, claim_expires_at = NULL, claim_pid = NULL,
                   claim_host = NULL WHERE customer_id = ? AND claimed_by = ?""",
            (customer_id, lead.id),
        )
    return moved


def _reassign(
    conn: sqlite3.Connection,
    clock: Clock,
    lead: Collector,
    ids: list[int],
    to: Collector,
    reason: str,
    settings: Settings | None,
) -> int:
    moved = 0
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        marks = ",".join("?" * len(chunk))
        with write_tx(conn):
            now_iso = to_iso(clock.now())
            active = conn.execute("SELECT active FROM collectors WHERE id = ?", (to.id,)).fetchone()
            if active is None or not active[0]:
                raise AssignError(_("{name!r} is not an active collector").format(name=to.username))
            current = {
                int(r[0]): r[1]
                for r in conn.execute(
                    f"SELECT customer_id, collector_id FROM queue WHERE customer_id IN ({marks})",
                    chunk,
                )
            }
            missing = [
                int(r[0])
                for r in conn.execute(f"SELECT id FROM customers WHERE id IN ({marks})", chunk)
                if int(r[0]) not in current
            ]
            if missing:
                refresh_accounts(conn, clock, settings or Settings(), missing)
                current.update(dict.fromkeys(missing))
            changing = [cid for cid in chunk if cid in current and current[cid] != to.id]
            if not changing:
                continue
            conn.executemany(
                """INSERT INTO assignments (customer_id, collector_id, assigned_at, assigned_by,
                       reason, from_collector_id) VALUES (?,?,?,?,?,?)""",
                [(cid, to.id, now_iso, lead.id, reason, current[cid]) for cid in changing],
            )
            change_marks = ",".join("?" * len(changing))
            conn.execute(
                f"""UPDATE queue SET collector_id = ?, updated_at = ?
                    WHERE customer_id IN ({change_marks})""",
                [to.id, now_iso, *changing],
            )
        moved += len(changing)
        if i + CHUNK < len(ids):
            breathe(conn, PAUSE_S)  # the team's writes go in between
    return moved


@dataclass(frozen=True)
class Book:
    """Which accounts of a collector a lead moves: all, or only those in one queue state,
    or of one language; at most ``limit`` of them (None: every one)."""

    source_id: int
    source: str  # the username, for messages and the audit log
    limit: int | None = None
    state: str | None = None
    language: str | None = None
    # routing by language (queue/routing.py): only customers of these languages move (the
    # target's); None: any language
    speakers: tuple[str, ...] | None = None

    def where(self) -> tuple[str, list[object]]:
        """The SQL filter (on ``q``, ``c``) beyond the owner, and its parameters."""
        sql, params = "", []
        if self.state is not None:
            sql += " AND q.state = ?"
            params.append(self.state)
        if self.language is not None:
            sql += " AND c.language = ?"
            params.append(self.language)
        if self.speakers is not None:
            from dunning.queue.routing import LANG_SQL

            marks = ",".join("?" * len(self.speakers)) or "NULL"
            sql += f" AND {LANG_SQL} IN ({marks})"
            params.extend(self.speakers)
        return sql, params

    def join(self) -> str:
        if self.language is None and self.speakers is None:
            return ""
        return " JOIN customers c ON c.id = q.customer_id"


def reassign_from(
    conn: sqlite3.Connection,
    clock: Clock,
    lead: Collector,
    book: Book,
    to: Collector,
    reason: str,
    *,
    pause: float = PAUSE_S,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Move ``book``'s accounts (of one collector) to ``to``; returns how many moved.

    Set-based, in short chunks with a pause between them (see the module's note). Each
    moved account gets its ``assignments`` row in the same transaction as its new owner;
    the audit log gets one row for the command, with the counts. Ctrl-C leaves whole
    chunks moved and says how many (:class:`Interrupted`).
    """
    reason = clean(reason)[0].strip()
    detail: dict[str, object] = {"from": book.source, "reason": reason}
    detail.update({k: v for k, v in (("limit", book.limit), ("state", book.state),
                                     ("language", book.language)) if v is not None})  # fmt: skip
    _require_lead(conn, clock, lead, to, detail)
    if book.source_id == to.id:
        raise AssignError(
            _("{name!r} already has these accounts: --from and --to name the same collector")
            .format(name=to.username)
        )  # fmt: skip
    filt, params = book.where()
    of = int(
        conn.execute(
            f"SELECT COUNT(*) FROM queue q{book.join()} WHERE q.collector_id = ?{filt}",
            [book.source_id, *params],
        ).fetchone()[0]
    )
    if book.limit is not None:
        of = min(of, book.limit)
    start = conn.execute("SELECT COALESCE(MAX(id), 0) FROM assignments").fetchone()[0]
    try:
        with announce(conn, "assign", to_iso(clock.now())):
            moved = _move_book(conn, clock, lead, book, to, reason, pause, progress)
    except KeyboardInterrupt:
        moved = _moved_since(conn, start, lead)
        record_interrupted(conn, clock, action="assign", done=moved, of=of,
                           collector_id=lead.id, target=to.username)  # fmt: skip
        if book.limit is None:
            again = _("run the same command again to move the rest")
        else:
            again = _("run it again with --limit {n} to move the rest").format(n=of - moved)
        raise Interrupted(
            _("{moved:,} of {of:,} accounts moved to {name} before the interruption; {again}")
            .format(moved=moved, of=of, name=to.username, again=again),
            moved,
            of,
        ) from None  # fmt: skip
    except Exception as exc:
        _record(conn, clock, lead, to, {**detail, "error": str(exc)[:500]}, result="failed")
        raise
    _record(conn, clock, lead, to, {**detail, "moved": moved})
    return moved


# the accounts of one move, staged in the order of the worklist index (see _move_book)
STAGE = "temp.assign_move"


def _stage(conn: sqlite3.Connection, book: Book, after: int, want: int | None) -> tuple[int, int]:
    """Stage the book's accounts with ids above ``after``, the lowest ``want`` ids (all:
    None), in the order of the worklist index (collector, state, class, key); returns how
    many and the largest id. A read (no write lock): the owner is read again under the
    lock when each chunk moves."""
    filt, params = book.where()
    conn.execute(f"DROP TABLE IF EXISTS {STAGE}")
    conn.execute(
        f"""CREATE TABLE {STAGE} AS SELECT customer_id FROM (
                SELECT q.customer_id, q.state, q.pclass, q.pkey FROM queue q{book.join()}
                WHERE q.customer_id > ? AND q.collector_id = ?{filt}
                ORDER BY q.customer_id LIMIT ?)
            ORDER BY state, pclass, pkey DESC, customer_id""",
        [after, book.source_id, *params, -1 if want is None else want],
    )
    n, top = conn.execute(f"SELECT COUNT(*), MAX(customer_id) FROM {STAGE}").fetchone()
    return int(n), int(top or 0)


def _move_book(
    conn: sqlite3.Connection,
    clock: Clock,
    lead: Collector,
    book: Book,
    to: Collector,
    reason: str,
    pause: float,
    progress: Callable[[int], None] | None,
) -> int:
    """The move's chunks. Which accounts move: the book's lowest ids first (``--limit``).
    In which order: the worklist index's, not the ids'. Each account moved rewrites its
    queue row (a table page) and its entry of the worklist index ``(collector, state,
    class, key, id)`` (out of the source's range into the target's). In id order a chunk
    of N accounts wrote ~2.1 N pages at 1M (every index entry on a page of its own, twice,
    for ~0.1 N table pages); in the index's order the entries of a chunk are neighbours at
    both ends and a chunk writes ~1.06 N pages (its table rows): half the pages to log,
    commit and checkpoint, so the chunk holds the lock half as long per account."""
    filt, params = book.where()
    join = book.join()
    moved, last, pacer = 0, 0, Pacer(pause)

    def chunk(pos: int, size: int) -> int:
        before = still_active(conn, to)
        now_iso = to_iso(clock.now())
        # the owner is read again under the lock: an account changed since it was staged
        # is left as it is now
        k = conn.execute(
            f"""INSERT INTO assignments (customer_id, collector_id, assigned_at,
                    assigned_by, reason, from_collector_id)
                SELECT q.customer_id, ?, ?, ?, ?, q.collector_id
                FROM {STAGE} m CROSS JOIN queue q ON q.customer_id = m.customer_id
                     {join}
                WHERE m.rowid > ? AND m.rowid <= ? AND q.collector_id = ?{filt}
                ORDER BY q.customer_id""",
            [to.id, now_iso, lead.id, reason, pos, pos + size, book.source_id, *params],
        ).rowcount
        conn.execute(
            """UPDATE queue SET collector_id = ?, updated_at = ?
               WHERE customer_id IN (SELECT customer_id FROM assignments WHERE id > ?)""",
            (to.id, now_iso, before),
        )
        return k

    try:
        while book.limit is None or moved < book.limit:
            # staged again after the first list: accounts that came into the book with
            # higher ids, or more when some staged ones left it before their chunk
            n, top = _stage(conn, book, last, None if book.limit is None else book.limit - moved)
            if not n:
                break
            last = top
            moved = pacer.run(conn, n, chunk, moved, progress)
    finally:
        with contextlib.suppress(sqlite3.Error):
            conn.execute(f"DROP TABLE IF EXISTS {STAGE}")
    return moved
