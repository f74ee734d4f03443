"""The work screen's background jobs: the claim's renewal, the header's counts, the WAL's
checkpoints (each in a worker thread, never on the event loop)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any

FIRST_BEAT = 2.0  # seconds after the screen opens: after its first account is drawn

if TYPE_CHECKING:
    from dunning.queue.account_view import AccountView
    from dunning.queue.session import WorkSession


class JobsMixin:
    """Mixed into WorkScreen (a Screen): uses its session, view and workers."""

    session: WorkSession
    view: AccountView | None
    app: Any
    run_worker: Callable[..., Any]
    _guarded: Callable[..., Any]
    _set_counts: Callable[[dict[str, int]], None]
    set_timer: Callable[..., Any]
    set_interval: Callable[..., Any]
    save_draft_now: Callable[[], None]

    def _start_beats(self) -> None:
        """Who is logged in (queue/presence.py): a first beat once the first account is
        on screen, then every BEAT_EVERY seconds, each in a worker."""
        from dunning.queue.presence import BEAT_EVERY

        self.set_timer(FIRST_BEAT, self._beat)
        self.set_interval(BEAT_EVERY, self._beat)

    def _beat(self) -> None:
        def job() -> None:
            try:
                active = self.session.beat()
            except Exception:  # noqa: BLE001 - the next beat tries again
                return
            if not active:
                with suppress(Exception):  # the app may be closing
                    self.app.call_from_thread(self._deactivated)

        self.run_worker(job, thread=True, group="beat", exclusive=True, exit_on_error=False)

    def _deactivated(self) -> None:
        """A lead deactivated this collector: keep the note, free the account, close."""
        from dunning.i18n import _

        with suppress(Exception):
            self.save_draft_now()
            self.session.release()
        self.app.exit(
            return_code=1,
            message=_("{name} was deactivated by a lead: the note is kept; ask a lead").format(
                name=self.session.collector.username
            ),
        )

    def _renew(self) -> None:
        if self.view is not None:
            renew = self._guarded(self.session.renew)
            self.run_worker(renew, thread=True, group="renew", exit_on_error=False)

    def _refresh_counts(self) -> None:
        """The header's ready/waiting counts, every COUNTS_EVERY seconds: our own outcomes
        are counted as they are saved (_loaded); this catches up with everyone else's."""
        self.run_worker(
            self._counts_job, thread=True, group="counts", exclusive=True, exit_on_error=False
        )

    def _counts_job(self) -> None:
        """In a worker thread: count, then show (the session's read connection)."""
        try:
            counts = self.session.counts()
        except Exception:  # noqa: BLE001 - the header can wait for the next try
            return
        with suppress(Exception):  # the app may be closing
            self.app.call_from_thread(self._set_counts, counts)

    def _checkpoint(self) -> None:
        """The WAL's pages into the database file, in a worker: never inside an outcome's
        commit (dunning/db/connection.py, manual_checkpoints)."""

        def job() -> None:
            with suppress(Exception):  # the next one tries again
                self.session.checkpoint()

        self.run_worker(job, thread=True, group="checkpoint", exclusive=True, exit_on_error=False)
