"""The work screen's next account, made ahead: while the collector is on an account, the
one most likely next is read (nothing claimed) and its lines made, so that an outcome key
only swaps them in when the claim it makes brings exactly that account."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dunning.tui.messages import AccountLoaded
from dunning.tui.widgets.account import AccountPane, Page, history_text
from dunning.tui.widgets.shown import Shown

if TYPE_CHECKING:
    from dunning.queue.account_view import AccountView
    from dunning.queue.session import WorkSession

# the next account's lines are made this long after an account is drawn (never in the way
# of the frames that follow it: the header's counts); after the first account, once the
# start's own after-work is done (imports, holidays: start -> first account drawn)
STAGE_DELAY = 0.05
STAGE_DELAY_FIRST = 1.0
WIDE_HISTORY = 40  # the entries of the wide screen's history column


class StageMixin:
    """Mixed into WorkScreen (a Screen): uses its session, view, busy flag and workers."""

    session: WorkSession
    view: AccountView | None
    busy: bool
    gone: Any
    app: Any
    account_read_only: bool  # WorkScreen's property
    query_one: Callable[..., Any]
    run_worker: Callable[..., Any]
    _now: Callable[[], datetime]
    # the account most likely next, its lines made ahead, and the minute they were made
    # for (the call line shows the customer's clock)
    _staged: tuple[AccountView, Page, datetime] | None
    _last_code: str | None  # TopbarMixin's
    _prepare_outcome: Callable[[str | None], None]

    # the id of the last guess (peek_next), and whether the guess before the last outcome
    # was the account the outcome then claimed: lines are made ahead only while guesses
    # come true (at an hour when the top of the worklist is outside its calling window the
    # guess misses every time, and making its lines cost 15-20 ms of the main thread's CPU
    # a key for nothing); the guess itself is still read, so a right one turns it back on
    _guessed: int | None = None
    _guess_right = True

    def _take_staged(self, message: AccountLoaded) -> Page | None:
        """The lines made ahead for the account now to be shown, if they were made from
        exactly what was just loaded for it (the view, with its verdict and window at the
        time of the claim) and for this minute; else None (made now, as always)."""
        guessed, self._guessed = self._guessed, None
        if message.logged is not None and message.view is not None and guessed is not None:
            self._guess_right = guessed == message.view.id
        staged, self._staged = self._staged, None
        if staged is None or message.view is None:
            return None
        view, page, minute = staged
        if view != message.view or minute != _minute(self._now()):
            return None
        return page

    def _stage_next(self) -> None:
        """While the collector is on this account: load the one most likely next (read
        only, nothing claimed: session.peek_next) and make its lines. An outcome key then
        claims as always; when the account claimed is that one, unchanged, the pane swaps
        the lines in instead of making them between the key and the frame."""
        view = self.view
        if view is None or self.gone is not None or self.busy or self.account_read_only:
            return
        shown = view.id

        def job() -> None:
            try:
                nxt = self.session.peek_next(frozenset({shown}))
            except Exception:  # noqa: BLE001 - a guess: the outcome's claim decides anyway
                return
            if nxt is not None:
                with suppress(Exception):  # the app may be closing
                    self.app.call_from_thread(self._stage, shown, nxt)

        self.run_worker(job, thread=True, group="stage", exclusive=True, exit_on_error=False)

    def _stage(self, shown: int, nxt: AccountView) -> None:
        if self.view is None or self.view.id != shown or self.busy or self.gone is not None:
            return  # another account came meanwhile, or an outcome is on its way
        self._guessed = nxt.id
        if self._guess_right:  # else (the last guess missed): no lines made for this one
            now = self._now()
            pane = self.query_one("#account", AccountPane)
            me = self.session.collector
            self._staged = (nxt, pane.stage(nxt, me, now), _minute(now))
            if not pane.history_inline_shown:  # a wide screen: the history column's too
                wide = history_text(nxt.timeline, me, nxt.currency, limit=WIDE_HISTORY)
                self.query_one("#history-wide", Shown).prepare(wide)
        self._prepare_outcome(self._last_code)  # the status line and top bar (work_topbar)


def _minute(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)
