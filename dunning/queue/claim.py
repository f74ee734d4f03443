"""Claiming: one collector works an account at a time.

``claim_next`` runs in one ``BEGIN IMMEDIATE`` transaction: it wakes accounts whose next
action came due, decides promises whose grace ended, then takes the highest-priority
ready account of the collector that nobody else holds and that may be called now, and
stamps it with a lease. A lease that expires (a crashed process, a dropped SSH link)
frees the account for others; the collector's own process renews it while it is open.

The claim's transaction is not synced to the disk by itself (``write_tx(durable=False)``):
what it writes is a lease, the claim's memos and the wakes, all of which a power cut may
take back with no harm (every holder dies with the host; a lease lost is a lease expired;
the memos and wakes are worked out again by the next claim), and the next outcome's
durable commit syncs it anyway. Its wait for the disk was most of the claim's p99 (3-25 ms
on a busy host). A promise decided by the claim (a system activity: history) is synced
before the claim returns (``sync_wal``), as a durable commit would be.
"""

from __future__ import annotations

import heapq
import os
import socket
import sqlite3
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from dunning.clock import Clock, to_iso
from dunning.db.connection import sync_wal, write_tx
from dunning.i18n import _
from dunning.queue import claim_closed
from dunning.queue.access import ClaimError, load_access, not_yours
from dunning.queue.calendar import account_reach
from dunning.queue.collectors import get_collector_by_id
from dunning.queue.config import Settings
from dunning.queue.contact_rules import check_callable
from dunning.queue.promises import evaluate_promises
from dunning.queue.standing import CLASSES, value_on
from dunning.queue.status_rules import calls_allowed

__all__ = ["Claim", "ClaimError", "claim_account", "claim_next", "release", "renew"]

WAKE_CHUNK = 5000
CANDIDATE_PAGE = 25
FIRST_PAGE = 8  # rows of each class read first (four classes: 32 rows for one claim)
MAX_CANDIDATES = 500


@dataclass(frozen=True)
class Claim:
    customer_id: int
    expires_at: str
    resumed: bool = False  # came back to an account held or drafted before
    passed_over: list[tuple[int, str]] = field(default_factory=list)  # (id, why) not callable


def wake_due(conn: sqlite3.Connection, now_iso: str) -> int:
    """Waiting accounts whose next action is due become ready (bounded per call); one
    waiting for its money to fall due (``await_due``) is a call again."""
    cur = conn.execute(
        """UPDATE queue SET state = 'ready',
               next_action = CASE next_action WHEN 'await_due' THEN 'call' ELSE next_action END
           WHERE customer_id IN (
               SELECT customer_id FROM queue WHERE state = 'waiting' AND next_action_at <= ?
               LIMIT ?)""",
        (now_iso, WAKE_CHUNK),
    )
    return cur.rowcount


def catch_up(conn: sqlite3.Connection, clock: Clock, settings: Settings) -> tuple[int, int]:
    """Wake every account whose next action came due and decide every promise whose grace
    ended, in short transactions: what the first claims of a day would otherwise do, 5,000
    accounts per claim (the nightly `dunning queue refresh` does it too). Returns (woken,
    promises decided)."""
    now_iso = to_iso(clock.now())
    woken = 0
    while True:
        with write_tx(conn):
            n = wake_due(conn, now_iso)
        woken += n
        if n < WAKE_CHUNK:
            break
    with write_tx(conn):
        decided = evaluate_promises(conn, clock, settings)
    return woken, decided


def _holder() -> tuple[int, str]:
    return os.getpid(), socket.gethostname()


def _stamp(conn: sqlite3.Connection, collector_id: int, customer_id: int, expires: str) -> None:
    pid, host = _holder()
    conn.execute(
        """UPDATE queue SET claimed_by = ?, claim_expires_at = ?, claim_pid = ?, claim_host = ?
           WHERE customer_id = ?""",
        (collector_id, expires, pid, host, customer_id),
    )


def holder_gone(pid: int | None, host: str | None) -> bool:
    """The process that made a claim is this one, or no longer runs (crashed, killed, a
    finished ``dunning next``): its account may be handed back. A live process, or one on
    another host (which cannot be asked), keeps it until its lease ends."""
    me_pid, me_host = _holder()
    if pid is None:
        return True
    if host != me_host:
        return False
    if pid == me_pid:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


def _resume(
    conn: sqlite3.Connection,
    now: datetime,
    settings: Settings,
    collector_id: int,
    exclude: frozenset[int],
) -> int | None:
    """The account this collector was working when their session ended (still held, or
    with a draft), if it is still theirs, still ready and callable now."""
    now_iso = to_iso(now)
    cols = "q.customer_id, q.claimed_by, q.claim_expires_at, q.claim_pid, q.claim_host"
    # the unary + keeps SQLite off the worklist index (collector, state): these read the
    # few claims (partial index) and drafts of one collector, not 150,000 ready accounts
    held = conn.execute(
        f"""SELECT {cols} FROM queue q
            WHERE q.claimed_by = ? AND q.claim_expires_at > ?
              AND +q.collector_id = ? AND +q.state = 'ready'
            ORDER BY q.claim_expires_at DESC LIMIT 20""",
        (collector_id, now_iso, collector_id),
    ).fetchall()
    drafted = conn.execute(
        f"""SELECT {cols} FROM drafts d JOIN queue q ON q.customer_id = d.customer_id
            WHERE d.collector_id = ? AND +q.collector_id = ? AND +q.state = 'ready'
              AND (q.claimed_by IS NULL OR q.claimed_by = ? OR q.claim_expires_at <= ?)
            ORDER BY d.updated_at DESC LIMIT 20""",
        (collector_id, collector_id, collector_id, now_iso),
    ).fetchall()
    for r in [*held, *drafted]:
        cid = int(r["customer_id"])
        if cid in exclude:
            continue
        live = r["claimed_by"] is not None and r["claim_expires_at"] > now_iso
        if live and not holder_gone(r["claim_pid"], r["claim_host"]):
            continue  # open in another session of this collector
        if _callable(conn, now, settings, cid) is None:
            return cid
    return None


def _callable(
    conn: sqlite3.Connection, now: datetime, settings: Settings, customer_id: int
) -> str | None:
    """None when the account may be called now, else why not (consumer contact rules)."""
    c = conn.execute(
        "SELECT portfolio, country, subdivision, status FROM customers WHERE id = ?",
        (customer_id,),
    ).fetchone()
    if c is not None and not calls_allowed(c["status"]):
        return f"status_{c['status']}"
    if c is None or c["portfolio"] not in settings.contact_rules_portfolios:
        return None
    return _why_not(conn, now, settings, customer_id, c)


def _why_not(
    conn: sqlite3.Connection,
    now: datetime,
    settings: Settings,
    cid: int,
    c: sqlite3.Row,
    closed: list[tuple[object, ...]] | None = None,
) -> str | None:
    """Why the account may not be called now (None: it may). ``closed``: where to add the
    memo of a closed window or holiday for the claim to write (queue/claim_closed.py)."""
    where = account_reach(conn, cid, c["country"], c["subdivision"])
    verdict = check_callable(
        conn,
        now,
        settings,
        customer_id=cid,
        portfolio=c["portfolio"],
        country=c["country"],
        subdivision=c["subdivision"],
        zones=where.zones,
        jurisdictions=where.jurisdictions,
        explain=False,
    )
    if verdict.ok:
        return None
    if closed is not None and verdict.code in claim_closed.REMEMBERED:
        until = claim_closed.holds_until(
            now, where.zones, where.jurisdictions, c["country"], c["subdivision"]
        )
        if until is not None:
            closed.append(claim_closed.memo(now, until, verdict.code, cid))
    return verdict.code


def claim_next(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    collector_id: int,
    *,
    exclude: frozenset[int] = frozenset(),
    resume: bool = True,
) -> Claim | None:
    """Claim the collector's next account; None when nothing can be called now.

    ``resume``: first hand back an account this collector holds or has a draft on (after
    a crash, a dropped link), unless another live session of theirs has it open.
    Otherwise only accounts nobody holds are candidates, not even ones this collector
    holds in another process.
    """
    now = clock.now()
    now_iso = to_iso(now)
    expires = to_iso(now + timedelta(minutes=settings.lease_minutes))
    decided = 0
    with write_tx(conn, durable=False):
        if resume:
            held = _resume(conn, now, settings, collector_id, exclude)
            if held is not None:
                _stamp(conn, collector_id, held, expires)
                return Claim(held, expires, resumed=True)
        wake_due(conn, now_iso)
        decided = evaluate_promises(conn, clock, settings)
        passed: list[tuple[int, str]] = []
        closed: list[tuple[object, ...]] = []  # memos to write (queue/claim_closed.py)
        mark: int | None = None
        seen = 0
        claim: Claim | None = None
        for row in worklist(conn, settings, collector_id, now_iso, now.date()):
            seen += 1
            if seen > MAX_CANDIDATES:
                break
            cid = int(row["customer_id"])
            if cid in exclude:
                continue
            if not calls_allowed(row["status"]):  # a queue row not yet moved to hold
                passed.append((cid, f"status_{row['status']}"))
                continue
            if row["portfolio"] in settings.contact_rules_portfolios:
                why = None
                if row["closed_until"] is not None:
                    if mark is None:  # read once a claim, only when a memo is met
                        mark = claim_closed.phones_mark(conn)
                    why = claim_closed.remembered(row, now_iso, mark)
                if why is None:
                    why = _why_not(conn, now, settings, cid, row, closed)
                if why is not None:
                    passed.append((cid, why))
                    continue
            _stamp(conn, collector_id, cid, expires)
            claim = Claim(cid, expires, passed_over=passed)
            break
        if closed:
            mark = claim_closed.phones_mark(conn) if mark is None else mark
            conn.executemany(claim_closed.WRITE, [(*m, mark, cid) for *m, cid in closed])
    if decided:
        sync_wal(conn)  # the promises' decisions are history: durable as an outcome is
    return claim


_CLASS_PAGE = f"""SELECT q.customer_id, q.pkey, c.portfolio, c.country, c.subdivision, c.status,
        {claim_closed.COLUMNS}
    FROM queue q JOIN customers c ON c.id = q.customer_id
    WHERE q.collector_id = ? AND q.state = 'ready' AND q.pclass = ?
      AND (q.claimed_by IS NULL OR q.claim_expires_at <= ?) {{after}}
    ORDER BY q.pkey DESC, q.customer_id LIMIT ?"""
_AFTER = "AND q.pkey <= ? AND (q.pkey < ? OR q.customer_id > ?)"


def worklist(
    conn: sqlite3.Connection,
    settings: Settings,
    collector_id: int,
    now_iso: str,
    day: date,
) -> Iterator[sqlite3.Row]:
    """The collector's ready accounts nobody holds, best first on ``day``: each of the four
    classes of standing (queue/standing.py) read in its key's order, a page at a time
    (keyset), merged by the value of the key on that day; ties: the lower customer id.
    Read lazily: a claim reads a page of each class, more only as it passes accounts by."""
    pages: dict[int, deque[sqlite3.Row]] = {}
    more: dict[int, bool] = {}
    heap: list[tuple[float, int, int, sqlite3.Row]] = []

    def read(cls: int, last: sqlite3.Row | None, n: int) -> None:
        if last is None:
            rows = conn.execute(
                _CLASS_PAGE.format(after=""), (collector_id, cls, now_iso, n)
            ).fetchall()
        else:
            pkey, cid = last["pkey"], last["customer_id"]
            rows = conn.execute(
                _CLASS_PAGE.format(after=_AFTER),
                (collector_id, cls, now_iso, pkey, pkey, cid, n),
            ).fetchall()
        pages[cls] = deque(rows)
        more[cls] = len(rows) == n

    def push(cls: int, last: sqlite3.Row | None) -> None:
        if not pages[cls] and more[cls]:
            read(cls, last, CANDIDATE_PAGE)
        if pages[cls]:
            r = pages[cls].popleft()
            value = value_on(cls, r["pkey"], day, settings)
            heapq.heappush(heap, (-value, int(r["customer_id"]), cls, r))

    for cls in CLASSES:
        read(cls, None, FIRST_PAGE)
        push(cls, None)
    while heap:
        _, _, cls, row = heapq.heappop(heap)
        yield row
        push(cls, row)


def claim_account(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    collector_id: int,
    customer_id: int,
) -> Claim:
    """Open a given account (from search): claim it unless someone else holds it."""
    now = clock.now()
    now_iso = to_iso(now)
    expires = to_iso(now + timedelta(minutes=settings.lease_minutes))
    with write_tx(conn, durable=False):  # a lease (see the module's doc)
        row = conn.execute(
            """SELECT q.claimed_by, q.claim_expires_at, k.username FROM queue q
               LEFT JOIN collectors k ON k.id = q.claimed_by WHERE q.customer_id = ?""",
            (customer_id,),
        ).fetchone()
        if row is None:
            raise ClaimError(_("no account with id {id}").format(id=customer_id))
        if row["claimed_by"] not in (None, collector_id) and row["claim_expires_at"] > now_iso:
            raise ClaimError(
                _("{who} is working this account right now").format(who=row["username"])
            )
        me = get_collector_by_id(conn, collector_id)
        access = load_access(conn, now_iso, me, customer_id) if me is not None else None
        if access is None or not (access.mine or access.lead or access.holds):
            # another collector's account: read-only (queue/access.py), never claimed
            ref = access.ref if access else str(customer_id)
            raise ClaimError(not_yours(ref, access.owner if access else None))
        _stamp(conn, collector_id, customer_id, expires)
    return Claim(customer_id, expires)


def renew(
    conn: sqlite3.Connection, clock: Clock, settings: Settings, collector_id: int, customer_id: int
) -> bool:
    """Extend the lease while the account is on screen; False if it was lost."""
    now = clock.now()
    with write_tx(conn, durable=False):  # a lease (see the module's doc)
        pid, host = _holder()
        # a lapsed lease is taken back only on one's own account (a lead's: any)
        cur = conn.execute(
            """UPDATE queue SET claimed_by = ?, claim_expires_at = ?, claim_pid = ?,
                   claim_host = ?
               WHERE customer_id = ?
               AND (claimed_by = ? OR ((claimed_by IS NULL OR claim_expires_at <= ?)
                    AND (collector_id = ? OR EXISTS (SELECT 1 FROM collectors
                         WHERE id = ? AND role IN ('lead', 'admin')))))""",
            (
                collector_id,
                to_iso(now + timedelta(minutes=settings.lease_minutes)),
                pid,
                host,
                customer_id,
                collector_id,
                to_iso(now),
                collector_id,
                collector_id,
            ),
        )
    return cur.rowcount > 0


def release(conn: sqlite3.Connection, collector_id: int, customer_id: int) -> None:
    with write_tx(conn, durable=False):  # a lease (see the module's doc)
        conn.execute(
            """UPDATE queue SET claimed_by = NULL, claim_expires_at = NULL, claim_pid = NULL,
                   claim_host = NULL
               WHERE customer_id = ? AND claimed_by = ?""",
            (customer_id, collector_id),
        )


def peek_next(
    conn: sqlite3.Connection,
    clock: Clock,
    collector_id: int,
    exclude: frozenset[int],
    settings: Settings | None = None,
) -> int | None:
    """The account :func:`claim_next` would most likely claim after the one on screen (the
    top of the collector's worklist nobody holds), read without claiming or writing: a
    guess the screen uses to make the next account's lines ahead. The real claim still
    decides (it resumes held or drafted accounts first, applies the contact rules, wakes
    and decides promises); a wrong guess costs only the lines made for nothing."""
    now = clock.now()
    settings = settings or Settings()
    rows = worklist(conn, settings, collector_id, to_iso(now), now.date())
    for seen, row in enumerate(rows, 1):
        cid = int(row["customer_id"])
        if cid not in exclude and calls_allowed(row["status"]):
            return cid
        if seen >= CANDIDATE_PAGE:
            break
    return None
