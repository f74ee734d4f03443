"""A collector's working session: what one screen (or a benchmark) does, without a screen.

Owns one connection used from worker threads one call at a time (a lock), so the TUI
never touches SQL and its event loop never waits on the database.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from dunning.clock import Clock, SystemClock, to_iso
from dunning.db import private
from dunning.db.connection import (
    check_same_file,
    checkpoint,
    connect,
    data_version,
    manual_checkpoints,
)
from dunning.db.lockwait import LockWait
from dunning.db.schema import migrate
from dunning.i18n import _
from dunning.queue import presence
from dunning.queue.access import Access, ClaimError, access_for, load_access, require_change
from dunning.queue.account_view import (
    AccountView,
    TimelineEntry,
    load_account,
    recheck,
    timeline,
)
from dunning.queue.claim import Claim, claim_account, claim_next, peek_next, release, renew
from dunning.queue.collectors import Collector, get_collector, list_collectors
from dunning.queue.config import Settings
from dunning.queue.drafts import save_draft
from dunning.queue.letters_sent import ArchivedLetter, letters_of
from dunning.queue.outcomes import Logged, OutcomeInput, log_outcome
from dunning.queue.rights import allowed

if TYPE_CHECKING:
    from dunning.db.reports import AgingReport
    from dunning.queue.opt_out import OptChange
    from dunning.queue.search import Hit
    from dunning.queue.void import Voided

T = TypeVar("T")

# The screen checkpoints every few seconds (tui/screens/work.py, CHECKPOINT_EVERY). A session
# used without it (a script, a benchmark) checkpoints after an outcome when none ran for this
# long, so its WAL stays bounded whoever drives it.
CHECKPOINT_FALLBACK = 60.0


class WorkSession:
    def __init__(
        self,
        db_path: str | Path,
        collector: Collector,
        settings: Settings,
        clock: Clock | None = None,
    ) -> None:
        self.db_path = Path(db_path)
        self.collector = collector
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._conn = connect(self.db_path, any_thread=True)
        migrate(self._conn)
        # Slow reads (header counts, search, aging) use their own connection and lock, so
        # they never hold up logging an outcome or claiming the next account.
        self._read_lock = threading.Lock()
        self._read_conn = connect(self.db_path, any_thread=True)
        # an outcome's COMMIT never runs SQLite's automatic checkpoint: the screen asks
        # for checkpoint() every few seconds instead, off its event loop
        manual_checkpoints(self._conn)
        self.last_checkpoint: tuple[int, int, int] | None = None  # (busy, frames, copied)
        self._checkpointed_at = time.monotonic()
        self.current: int | None = None  # customer id on screen (claimed unless read-only)
        # another collector's account opened from search: shown, never claimed or changed
        self.read_only = False
        self.passed_over: list[tuple[int, str]] = []
        self.last_logged: Logged | None = None  # what `u` would take back
        self.last_logged_at = self.clock.now()
        # told while a write waits for the lock (a LockWait, then None): the screen's line
        self.on_lock_wait: Callable[[LockWait | None], None] | None = None
        self._conn.on_wait = self._lock_wait  # type: ignore[attr-defined]
        # the first account, claimed ahead of the screen (prefetch_first)
        self._first: tuple[threading.Thread, list[AccountView | None | BaseException]] | None
        self._first = None

    def _lock_wait(self, wait: LockWait | None) -> None:
        if self.on_lock_wait is not None:
            self.on_lock_wait(wait)

    def check_file(self) -> None:
        """FileReplaced when the database file was deleted or replaced under this session
        (every write checks it too; the screen asks every few seconds, so it knows before
        the collector types an outcome)."""
        with self._lock:
            check_same_file(self._conn)

    def file_warning(self) -> str | None:
        """Once per process: others can read the database files, and the command that
        fixes it (dunning/db/private.py); None when they cannot."""
        return private.take_warning(self.db_path)

    def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            return fn(self._conn)

    def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._read_lock:
            return fn(self._read_conn)

    # -- the loop -------------------------------------------------------------------
    def prefetch_first(self) -> None:
        """Start claiming and loading the first account now, in a thread: `dunning` calls
        it before it imports Textual, so the claim (a few ms of work) is done while the
        app imports instead of after the screen is mounted, when the first frame's
        rendering holds the GIL it needs. The screen's first :meth:`next_account` takes
        its result (or its exception, raised there as the claim itself would raise it)."""
        box: list[AccountView | None | BaseException] = []

        def run() -> None:
            try:
                box.append(self._claim_next(frozenset()))
            except BaseException as exc:  # noqa: BLE001 - handed to next_account()
                box.append(exc)

        thread = threading.Thread(target=run, name="dunning-first-account", daemon=True)
        self._first = (thread, box)
        thread.start()

    def first_if_done(self) -> tuple[bool, AccountView | None]:
        """Without waiting: (True, the first account, or None when nothing can be called)
        when the claim made ahead (:meth:`prefetch_first`) is done and did not fail, taken
        as :meth:`next_account` takes it; (False, None) when it is still running, failed or
        was never made: a worker must take it (tui/screens/work_first.py)."""
        first = self._first
        if first is None:
            return False, None
        thread, box = first
        if thread.is_alive() or not box or isinstance(box[0], BaseException):
            return False, None
        return True, self.next_account()

    def next_account(self, exclude: frozenset[int] = frozenset()) -> AccountView | None:
        """Claim and load the next account (resuming a held or drafted one first)."""
        if self._first is not None:
            thread, box = self._first
            self._first = None
            thread.join()
            if not exclude:
                if isinstance(box[0], BaseException):
                    raise box[0]
                return box[0]
        return self._claim_next(exclude)

    def _claim_next(self, exclude: frozenset[int]) -> AccountView | None:
        def go(conn: sqlite3.Connection) -> AccountView | None:
            claim: Claim | None = claim_next(
                conn, self.clock, self.settings, self.collector.id, exclude=exclude
            )
            self.read_only = False
            if claim is None:
                self.current = None
                return None
            self.current = claim.customer_id
            self.passed_over = claim.passed_over
            return load_account(
                conn, self.clock, self.settings, claim.customer_id, self.collector.id
            )

        return self._run(go)

    def peek_next(self, exclude: frozenset[int]) -> AccountView | None:
        """The account most likely claimed after the one on screen (claim.peek_next), loaded
        on the read connection, nothing claimed or written: the screen makes its lines while
        the collector is on the current one, and uses them only if the account the outcome
        then claims is this one, unchanged (tui/screens/work.py).

        The accounts the last claim passed over (not callable then: outside their calling
        window, a status) are passed over by the guess too: the next claim, minutes later,
        most likely passes over them again. Measured on the 100,000-customer bench (dave,
        100 outcomes at 07:00 UTC): right 97 times against 70 without."""
        skip = exclude | {cid for cid, _why in self.passed_over}

        def go(conn: sqlite3.Connection) -> AccountView | None:
            cid = peek_next(conn, self.clock, self.collector.id, skip, self.settings)
            if cid is None:
                return None
            return load_account(conn, self.clock, self.settings, cid, self.collector.id)

        return self._read(go)

    def open_account(self, customer_id: int) -> AccountView | None:
        """Open a searched account: release the current one, claim this one. Another
        collector's account opens read-only for a collector: shown, not claimed (its owner
        keeps working it), every change refused (queue/access.py)."""

        def go(conn: sqlite3.Connection) -> AccountView | None:
            now_iso = to_iso(self.clock.now())
            access = load_access(conn, now_iso, self.collector, customer_id)
            if access is None:
                raise ClaimError(_("no account with id {id}").format(id=customer_id))
            read_only = access.read_only and not access.holds
            if not read_only:
                claim_account(conn, self.clock, self.settings, self.collector.id, customer_id)
            if self.current not in (None, customer_id):
                release(conn, self.collector.id, self.current)  # type: ignore[arg-type]
            self.current = customer_id
            self.read_only = read_only
            return load_account(conn, self.clock, self.settings, customer_id, self.collector.id)

        return self._run(go)

    def reload(self) -> AccountView | None:
        if self.current is None:
            return None
        cid = self.current
        return self._run(
            lambda conn: load_account(conn, self.clock, self.settings, cid, self.collector.id)
        )

    def access(self, view: AccountView) -> Access:
        """What this collector may do with the account on screen (queue/access.py)."""
        return access_for(view.id, view.external_ref, view.assigned_to, self.collector)

    def refuse(self, code: str) -> None:
        """An outcome key on an account one may not change: raises the one-line refusal
        (AccountRefused), recorded in the audit log, before any dialog opens."""
        if self.current is None:
            return
        cid = self.current

        def go(conn: sqlite3.Connection) -> None:
            require_change(
                conn, self.clock, self.collector, cid, action="log", detail={"outcome": code}
            )
            # not refused: it became this collector's since it was opened; it is claimed now
            claim_account(conn, self.clock, self.settings, self.collector.id, cid)
            self.read_only = False

        self._run(go)

    def recheck(self, view: AccountView) -> AccountView:
        """The open account's verdict and calling window at the clock's time now (no
        reload: the screen asks as the minutes pass)."""
        return self._read(lambda conn: recheck(conn, self.clock, self.settings, view))

    def history(self, customer_id: int) -> list[TimelineEntry]:
        """The whole timeline of an account, newest first."""
        return self._read(lambda conn: timeline(conn, customer_id, None))

    def letters(self, customer_id: int) -> list[ArchivedLetter]:
        """The account's letters sent (the archive), newest first."""
        return self._read(lambda conn: letters_of(conn, customer_id))

    def log(self, inp: OutcomeInput) -> Logged:
        if self.current is None:
            raise ValueError(_("no account is open"))
        cid = self.current
        logged = self._run(
            lambda conn: log_outcome(
                conn,
                self.clock,
                self.settings,
                collector_id=self.collector.id,
                customer_id=cid,
                inp=inp,
            )
        )
        if inp.outcome != "note":
            self.current = None
        if time.monotonic() - self._checkpointed_at > CHECKPOINT_FALLBACK:
            self.checkpoint()  # nobody asked for one lately (no screen)
        self.last_logged = logged
        self.last_logged_at = self.clock.now()  # the activity's `at`: the same clock
        return logged

    def undo_seconds_left(self) -> float:
        """How long `u` can still take back the last outcome (0: nothing, or too late)."""
        if self.last_logged is None:
            return 0.0
        age = (self.clock.now() - self.last_logged_at).total_seconds()
        return max(self.settings.undo_seconds - age, 0.0)

    def undo(self) -> tuple[Voided, AccountView | None]:
        """`u`: void the last outcome (reason 'undone'), claim its account again with its
        note back, release the account that came next. Refused (VoidRefused) when too
        late or when someone else has the account open now."""
        from dunning.queue.void import VoidRefused, too_late, undo_outcome  # noqa: PLC0415

        logged = self.last_logged
        if logged is None:
            raise VoidRefused(_("nothing to undo"))
        if self.undo_seconds_left() <= 0:  # the countdown has ended: as the screen says
            age = (self.clock.now() - self.last_logged_at).total_seconds()
            raise too_late(age, logged.activity_id)
        release_id = self.current

        def go(conn: sqlite3.Connection) -> tuple[Voided, AccountView | None]:
            voided = undo_outcome(
                conn,
                self.clock,
                self.settings,
                by=self.collector,
                activity_id=logged.activity_id,
                release_id=release_id,
            )
            self.last_logged = None
            self.current = logged.customer_id
            self.read_only = False
            view = load_account(
                conn, self.clock, self.settings, logged.customer_id, self.collector.id
            )
            return voided, view

        return self._run(go)

    def void(self, activity_id: int, reason: str) -> Voided:
        """A lead (or the collector, the same day) voids an outcome with a reason."""
        from dunning.queue.void import void_activity  # noqa: PLC0415

        return self._run(
            lambda conn: void_activity(
                conn,
                self.clock,
                self.settings,
                by=self.collector,
                activity_id=activity_id,
                reason=reason,
            )
        )

    def save_draft(self, customer_id: int, text: str) -> None:
        if self.read_only and customer_id == self.current:
            return  # nothing is typed on a read-only account (quitting saves no draft)
        self._run(lambda conn: save_draft(conn, self.clock, self.collector.id, customer_id, text))

    def search(self, text: str, limit: int = 50) -> list[Hit]:
        from dunning.queue.search_scope import search_for  # noqa: PLC0415

        return self._read(
            lambda conn: search_for(
                conn, self.collector, text, dial_region=self.collector.dial_region, limit=limit
            )
        )

    def renew(self) -> bool:
        """Extend the claim's lease; FileReplaced when the file is not the path's any more
        (write_tx checks it, and a renewal without a claim checks it too)."""
        if self.current is None or self.read_only:
            self.check_file()
            return True
        cid = self.current
        return self._run(
            lambda conn: renew(conn, self.clock, self.settings, self.collector.id, cid)
        )

    def release(self) -> None:
        if self.current is None:
            return
        cid = self.current
        self._run(lambda conn: release(conn, self.collector.id, cid))
        self.current = None
        self.read_only = False

    def collectors(self) -> list[Collector]:
        return self._run(list_collectors)

    def reassign(self, customer_id: int, to_username: str, reason: str) -> AccountView | None:
        """A lead gives the open account to another collector, lets go of it (their own
        hold: the new owner can claim it at once) and moves on; returns the lead's next
        account (queue/assign.py, ``hand_over``)."""
        from dunning.queue.assign import AssignError, hand_over  # noqa: PLC0415

        def go(conn: sqlite3.Connection) -> None:
            to = get_collector(conn, to_username)
            if to is None:
                raise AssignError(_("unknown collector {name!r}").format(name=to_username))
            hand_over(conn, self.clock, self.collector, customer_id, to, reason, self.settings)
            if self.current == customer_id:
                self.current = None
                self.read_only = False

        self._run(go)
        return self._claim_next(frozenset({customer_id}))

    def beat(self) -> bool:
        """The screen is open (queue/presence.py): who is logged in, on which account;
        False when this collector has been deactivated."""
        cid = None if self.read_only else self.current
        return self._run(lambda conn: presence.beat(conn, self.clock, self.collector.id, cid))

    def end_presence(self) -> None:
        self._run(lambda conn: presence.end(conn, self.clock, self.collector.id))

    def save_theme(self, theme: str) -> None:
        """The theme picked on screen, applied at this collector's next start."""
        from dunning.queue.people import save_theme  # not before the first account

        self._run(lambda conn: save_theme(conn, self.collector.id, theme))

    def email_opt(
        self, ref: str, picked: tuple[str, ...] | None, *, opt_out: bool, check: bool = False
    ) -> OptChange | None:
        """The e-mail opt-out (opt-in) of the addresses ``picked`` (None: all), rights and
        audit in queue/opt_out.py; ``check``: only refused or not, nothing is changed."""
        from dunning.queue import opt_out as o  # not before the first account

        a = o.screen_actor(self.collector)
        if check:
            self._run(lambda conn: o.check_opt_rights(conn, self.clock, a, ref, opt_out=opt_out))
            return None
        return self._run(
            lambda conn: o.change_addresses(conn, self.clock, a, ref, picked, opt_out=opt_out)
        )

    def may(self, action: str) -> bool:
        """Whether this collector's role may ``action`` (dunning/queue/rights.py): the
        screen shows or hides a feature by the same rule the command line obeys."""
        return allowed(self.collector.role, action)

    def aging_by_collector(self) -> AgingReport:
        """The team's aging for those who may run reports (leads, admins); a collector's
        own portfolio otherwise, as `dunning report aging` is refused them."""
        from dunning.db.reports import aging  # a report: not loaded before the first account

        today = self.clock.now().astimezone(self.settings.team_zone).date()  # the team's

        def go(conn: sqlite3.Connection) -> AgingReport:
            if self.may("report"):
                return aging(conn, today, by="collector")
            mine = [
                int(r[0])
                for r in conn.execute(
                    "SELECT customer_id FROM queue WHERE collector_id = ?", (self.collector.id,)
                )
            ]
            return aging(conn, today, by="collector", customer_ids=mine)

        return self._read(go)

    def counts(self) -> dict[str, int]:
        """Accounts of this collector by queue state (for the header)."""

        def go(conn: sqlite3.Connection) -> dict[str, int]:
            return {
                r[0]: r[1]
                for r in conn.execute(
                    "SELECT state, COUNT(*) FROM queue WHERE collector_id = ? GROUP BY state",
                    (self.collector.id,),
                )
            }

        return self._read(go)

    def checkpoint(self) -> tuple[int, int, int]:
        """A PASSIVE checkpoint on the read connection: it takes no write lock, so an
        outcome being saved meanwhile neither waits for it nor makes it wait."""
        self.last_checkpoint = self._read(checkpoint)
        self._checkpointed_at = time.monotonic()
        return self.last_checkpoint

    def data_version(self) -> int:
        return self._run(data_version)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # the board stops showing this screen
            self.end_presence()
        with self._lock:
            self._conn.close()
        with self._read_lock:
            self._read_conn.close()


def use_collector_clock(collector: Collector) -> None:
    """One collector per app process: the screen shows every time on the collector's
    clock (collectors.tz), not the server's, by making it the process's local zone."""
    if collector.tz:
        os.environ["TZ"] = collector.tz
        time.tzset()


def start_session(db_path: str | Path, collector: Collector, settings: Settings) -> WorkSession:
    """The app's session, its first account already being claimed (prefetch_first):
    called before Textual is imported (dunning/cli_admin.py, open_app)."""
    use_collector_clock(collector)
    session = WorkSession(db_path, collector, settings)
    session.prefetch_first()
    return session
