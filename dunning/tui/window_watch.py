"""Re-checks, as the clock moves, whether the open account may be called: a green account
open past 21:00 turns red with no commit from anyone, and a red one turns green when its
window opens. Once a minute, and at the next edge of the window when it is nearer."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from textual.timer import Timer

from dunning.queue.account_view import AccountView
from dunning.tui.widgets.account import AccountPane

if TYPE_CHECKING:
    from dunning.tui.screens.work import WorkScreen

RECHECK_EVERY = 60.0  # seconds


class WindowWatch:
    def __init__(self, screen: WorkScreen) -> None:
        self.screen = screen
        self._edge: Timer | None = None

    def start(self) -> None:
        self.screen.set_interval(RECHECK_EVERY, self.recheck)

    def recheck(self) -> None:
        """Ask the session (off the event loop) for the verdict at the clock's time now."""
        screen = self.screen
        view = screen.view
        if view is None or view.window is None:
            return

        def job() -> None:
            try:
                fresh = screen.session.recheck(view)
            except Exception:  # noqa: BLE001 - the next minute tries again
                return
            screen.app.call_from_thread(self._rechecked, fresh)

        screen.run_worker(job, thread=True, group="recheck", exclusive=True, exit_on_error=False)

    def _rechecked(self, fresh: AccountView) -> None:
        screen = self.screen
        if screen.busy or screen.view is None or screen.view.id != fresh.id:
            return  # another account came meanwhile
        screen.view = replace(screen.view, callable=fresh.callable, window=fresh.window)
        pane = screen.query_one("#account", AccountPane)
        pane.show_call(screen.view, screen.session.collector, screen.session.clock.now())
        self.arm()

    def arm(self) -> None:
        """A recheck at the window's next edge (it opens or closes) when that comes within
        the minute: the verdict changes at 21:00 sharp, not up to a minute later."""
        if self._edge is not None:
            self._edge.stop()
            self._edge = None
        view = self.screen.view
        if view is None or view.window is None:
            return
        now = self.screen.session.clock.now()
        edges = [t for p in view.window.periods for t in p if t > now]
        if view.callable.opens_at is not None and view.callable.opens_at > now:
            edges.append(view.callable.opens_at)
        if not edges:
            return
        delay = (min(edges) - now).total_seconds()
        if 0 < delay < RECHECK_EVERY:
            self._edge = self.screen.set_timer(delay + 0.05, self.recheck)
