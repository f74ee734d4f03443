"""The nightly letter run (issue 10 item 5): every letter the dunning levels make due
(queue/levels.py), written and sent through queue/sending.py, as the system.

Two passes over the customers, in chunks of ``CHUNK`` ids (each chunk's reads are a few
indexed range reads; no read transaction is held across chunks, no write lock outside
one letter's record):

1. the plan: what would go to whom, counted by level, channel and language, and what is
   skipped by reason (the writing rules' codes, ``paused`` by a promise or plan in good
   standing); nothing written;
2. the run: each letter through ``send_letter`` (actor None: the system; its archive row
   carries the level and the invoice ids), then the invoices' levels (``dunning_levels``)
   in their own short transaction. A call level is a call task: the account's next
   action becomes a call now, with a system activity, and the levels are recorded.

Resumable: a run stopped anywhere leaves no invoice levelled without its letter archived
(the levels are written after the archive's commit); one stopped between the two has its
levels written from the archive by :func:`levels.reconcile` at the next run's start, so
the letter is not sent twice. With ``dry_run`` the .eml files (or paper letters) are
written into ``out_dir`` and nothing is recorded (no level, no archive, no activity).
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from dunning.clock import Clock, to_iso
from dunning.db.connection import write_tx
from dunning.queue.accounts import DUE_ANYWAY, REVIEW_ACTIONS, refresh_accounts
from dunning.queue.config import Settings
from dunning.queue.levels import DueLetter, due_in_range, reconcile, record_levels
from dunning.queue.writing_rules import check_write

if TYPE_CHECKING:
    from dunning.queue.smtp import Transport

CHUNK = 2000  # customer ids per pass's chunk
RECONCILE_DAYS = 7  # how far back the start of a run looks for letters without levels


@dataclass
class RunCounts:
    """What a pass counted: ``letters`` by (level, channel, language), ``skipped`` by
    (level, reason code), ``invoices`` dunned, ``files`` written (dry run or --out)."""

    letters: Counter[tuple[int, str, str]] = field(default_factory=Counter)
    skipped: Counter[tuple[int, str]] = field(default_factory=Counter)
    invoices: int = 0
    files: int = 0
    reconciled: int = 0
    failures: list[str] = field(default_factory=list)  # "REF: reason" of letters not sent
    # the plan's letters per chunk of customer ids: (lo, hi, letters), those with some
    chunks: list[tuple[int, int, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.letters.values())

    def add(self, other: RunCounts) -> None:
        self.letters.update(other.letters)
        self.skipped.update(other.skipped)
        self.invoices += other.invoices
        self.files += other.files
        self.failures.extend(other.failures[: max(0, 100 - len(self.failures))])


@dataclass(frozen=True)
class Account:
    ref: str
    language: str


_ACCOUNTS = """SELECT c.id, c.external_ref, COALESCE(NULLIF(lower(trim((SELECT language
        FROM contacts WHERE customer_id = c.id ORDER BY is_primary DESC, id LIMIT 1))), ''),
        NULLIF(c.language, ''), 'en')
    FROM customers c WHERE c.id BETWEEN ? AND ?"""


def _accounts(conn: sqlite3.Connection, lo: int, hi: int) -> dict[int, Account]:
    """Each customer's reference and the language a letter is written in (the contact's,
    else the customer's, as letters/context.py chooses)."""
    return {
        cid: Account(ref, (lang or "en")[:2])
        for cid, ref, lang in conn.execute(_ACCOUNTS, (lo, hi)).fetchall()
    }


def chunks(conn: sqlite3.Connection, size: int = CHUNK) -> Iterator[tuple[int, int]]:
    # two one-row reads of the primary key (one SELECT of MIN and MAX scans the table)
    first = conn.execute("SELECT MIN(id) FROM customers").fetchone()[0]
    if first is None:
        return
    lo, top = int(first), int(conn.execute("SELECT MAX(id) FROM customers").fetchone()[0])
    while lo <= top:
        yield lo, min(lo + size - 1, top)
        lo += size


def _due(
    conn: sqlite3.Connection,
    now: datetime,
    settings: Settings,
    lo: int,
    hi: int,
    level: int | None,
    counts: RunCounts,
) -> list[DueLetter]:
    letters, paused = due_in_range(conn, now, settings, lo, hi, only_level=level)
    for _cid, n in paused.items():
        counts.skipped[(0, "paused")] += n
    return letters


def plan(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    *,
    level: int | None = None,
    limit: int | None = None,
    chunk: int = CHUNK,
    on_chunk: Callable[[int, int, int], None] | None = None,
) -> RunCounts:
    """What the run would send (``letters``) and skip (``skipped``, by reason); reads only.
    ``on_chunk(lo, hi, letters)`` as soon as a chunk of customer ids holding letters is
    planned (letter_run_jobs writes it while the next chunks are planned)."""
    now = clock.now()
    counts = RunCounts()
    left = limit
    for lo, hi in chunks(conn, chunk):
        due = _due(conn, now, settings, lo, hi, level, counts)
        if not due:
            continue
        accounts = _accounts(conn, lo, hi)
        n = 0
        for d in due:
            if left is not None and left <= 0:
                break
            if d.level.channel != "call":
                verdict = check_write(
                    conn, now, settings, d.customer_id, channel=d.level.channel,
                    kind=d.level.kind,
                )  # fmt: skip
                if not verdict.ok:
                    counts.skipped[(d.level.number, verdict.code)] += 1
                    continue
            _count(counts, d, accounts[d.customer_id].language)
            n += 1
            if left is not None:
                left -= 1
        if n:
            counts.chunks.append((lo, hi, n))
            if on_chunk is not None:
                on_chunk(lo, hi, n)
        if left is not None and left <= 0:
            break
    return counts


def run(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    *,
    level: int | None = None,
    limit: int | None = None,
    dry_run: bool = False,
    out_dir: Path | None = None,
    chunk: int = CHUNK,
    progress: Callable[[int, int], None] | None = None,
    customer_range: tuple[int, int] | None = None,
) -> RunCounts:
    """Send every letter due (see the module docstring); ``limit``: at most that many
    letters sent or written (call tasks included; refused ones do not count), in
    customer order; ``customer_range``: only the ids in
    [lo, hi] (a worker's share). ``progress(done, letters)`` after each chunk."""
    counts = RunCounts()
    if not dry_run:
        counts.reconciled = reconcile_stopped(conn, clock)
    relay = None
    if not dry_run and out_dir is None and settings.smtp is not None:
        from dunning.queue.smtp import SmtpTransport  # noqa: PLC0415

        relay = SmtpTransport(settings.smtp)  # one connection for the run's e-mails
    try:
        return _run(
            conn, clock, settings, counts, level=level, limit=limit, dry_run=dry_run,
            out_dir=out_dir, chunk=chunk, progress=progress, customer_range=customer_range,
            transport=relay,
        )  # fmt: skip
    finally:
        if relay is not None:
            relay.close()


def _run(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    counts: RunCounts,
    *,
    level: int | None,
    limit: int | None,
    dry_run: bool,
    out_dir: Path | None,
    chunk: int,
    progress: Callable[[int, int], None] | None,
    customer_range: tuple[int, int] | None,
    transport: Transport | None,
) -> RunCounts:
    from dunning.queue.sending import send_letter  # noqa: PLC0415 - Jinja2 when sending

    left = limit
    ranges = chunks(conn, chunk)
    if customer_range is not None:
        ranges = _within(ranges, *customer_range)
    for lo, hi in ranges:
        due = _due(conn, clock.now(), settings, lo, hi, level, counts)
        accounts = _accounts(conn, lo, hi) if due else {}
        for d in due:
            if left is not None and left <= 0:
                return counts
            account = accounts[d.customer_id]
            if d.level.channel == "call":
                if not dry_run:
                    call_task(conn, clock, settings, d)
                _count(counts, d, account.language)
                left = None if left is None else left - 1
                continue
            result = send_letter(
                conn, clock, None, settings, account.ref, d.level.kind,
                channel=d.level.channel, out_dir=out_dir, dry_run=dry_run,
                level=d.level.number, invoices=d.invoice_ids, transport=transport,
            )  # fmt: skip
            if result.path is not None:
                counts.files += 1
            if result.sent:
                with write_tx(conn):
                    record_levels(
                        conn, to_iso(clock.now()), d.customer_id, d.level.number,
                        d.level.channel, d.invoice_ids, result.letter_id,
                    )  # fmt: skip
            elif result.code != "dry_run":
                counts.skipped[(d.level.number, result.code)] += 1
                if len(counts.failures) < 100 and result.code not in _RULES:
                    counts.failures.append(f"{account.ref}: {result.reason}")
                continue
            _count(counts, d, account.language)
            left = None if left is None else left - 1
        if progress is not None:
            progress(hi, counts.total)
    return counts


# the writing rules' refusals: counted as skipped, not reported one by one
_RULES = frozenset(
    {
        "status_cease", "status_legal", "status_agency", "status_write_off", "status_closed",
        "no_address", "unknown_recipient", "no_email", "no_postal_address", "nothing_overdue",
        "outside_window",
        "holiday", "ontario_cap",
    }
)  # fmt: skip


def reconcile_stopped(conn: sqlite3.Connection, clock: Clock) -> int:
    """The levels of the letters a stopped run sent in the past week, written from the
    archive (``levels.reconcile``): the levels rows added."""
    since = to_iso(clock.now() - timedelta(days=RECONCILE_DAYS))
    with write_tx(conn):
        return reconcile(conn, since)


def _within(ranges: Iterator[tuple[int, int]], lo: int, hi: int) -> Iterator[tuple[int, int]]:
    for a, b in ranges:
        if b >= lo and a <= hi:
            yield max(a, lo), min(b, hi)


def _count(counts: RunCounts, d: DueLetter, language: str) -> None:
    counts.letters[(d.level.number, d.level.channel, language)] += 1
    counts.invoices += len(d.invoice_ids)


def call_task(conn: sqlite3.Connection, clock: Clock, settings: Settings, d: DueLetter) -> None:
    """A call level: the account's next action becomes a call now (unless a callback, a
    promise check or a lead's review is pending), a system activity says which level, and
    the invoices' levels are recorded; one transaction."""
    now_iso = to_iso(clock.now())
    details = {"dunning_level": d.level.number, "invoices": list(d.invoice_ids)}
    with write_tx(conn):
        conn.execute(
            "INSERT INTO activities (customer_id, collector_id, at, outcome, note, next_action, "
            "next_action_at, details) VALUES (?, NULL, ?, 'system', ?, 'call', ?, ?)",
            (
                d.customer_id,
                now_iso,
                f"dunning level {d.level.number}: call",
                now_iso,
                json.dumps(details),
            ),
        )
        keep = tuple(DUE_ANYWAY | REVIEW_ACTIONS)
        conn.execute(
            f"UPDATE queue SET next_action = 'call', next_action_at = ? WHERE customer_id = ? "
            f"AND next_action NOT IN ({','.join('?' * len(keep))})",
            (now_iso, d.customer_id, *keep),
        )
        record_levels(conn, now_iso, d.customer_id, d.level.number, "call", d.invoice_ids, None)
        refresh_accounts(conn, clock, settings, [d.customer_id])
