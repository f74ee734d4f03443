"""The work screen's background jobs: the claim's renewal, the header's counts, the WAL's
checkpoints (each in a worker thread, never on the event loop)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any

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
