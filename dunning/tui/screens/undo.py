"""`u` on the work screen: take back the outcome just saved, within settings.undo_seconds.

The countdown is drawn under the "Saved" line; the rules (too late, someone else has the
account) are queue/void.py's, through WorkSession.undo.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.timer import Timer
from textual.widgets import Static, TextArea

from dunning.i18n import _
from dunning.tui.messages import AccountLoaded
from dunning.tui.screens.help import keys_by_id
from dunning.tui.widgets.shown import Shown

if TYPE_CHECKING:
    from dunning.queue.account_view import AccountView
    from dunning.queue.session import WorkSession


def saved_message(what: dict[str, object]) -> str:
    """The status line's first line once an outcome is saved ("outcome", "ref")."""
    return _("Saved: {outcome} on {ref}").format(**what)


def undo_status(message: str, what: dict[str, object], left: float) -> Text:
    """The status line after an outcome: its message, then `u`'s countdown while it runs."""
    status = Text(message, style="green")
    if left > 0:
        status.append("\n")
        status.append(
            _("{key} undo {outcome} on {ref} ({n} s)").format(**what, n=math.ceil(left)),
            style="bold yellow",
        )
    return status


class UndoMixin:
    """Mixed into WorkScreen (a Screen): uses its session, view, status line and _work."""

    session: WorkSession
    view: AccountView | None
    busy: bool
    last_message: str
    _note_saved: str
    _work: Callable[..., None]
    query_one: Callable[..., Any]
    set_interval: Callable[..., Timer]

    def _init_undo(self) -> None:
        self._undo_what: dict[str, object] = {}  # outcome and ref `u` would take back
        self._undo_timer: Timer | None = None
        self._undo_key: str | None = None
        self._undo_pending = False  # `u` pressed while the outcome was being saved

    def _start_undo(self, what: dict[str, object]) -> None:
        """After an outcome is saved: `u` can take it back for settings.undo_seconds, shown
        as a countdown under the "Saved" line."""
        if self._undo_key is None:  # as the user's keymap binds it; looked up once
            self._undo_key = keys_by_id(self).get("undo", "u")  # type: ignore[arg-type]
        self._undo_what = {**what, "key": self._undo_key}
        if self._undo_timer is None:
            self._undo_timer = self.set_interval(1.0, self._tick_undo)
        self._tick_undo()

    def _stop_undo(self) -> None:
        self._undo_what = {}
        if self._undo_timer is not None:
            self._undo_timer.stop()
            self._undo_timer = None

    def _tick_undo(self) -> None:
        left = self.session.undo_seconds_left() if self._undo_what else 0.0
        status = undo_status(self.last_message, self._undo_what, left)
        if left <= 0:
            self._stop_undo()
        self.query_one("#status", Static).update(status)

    def _prepare_saved(self, what: dict[str, object]) -> None:
        """At the outcome key: the status line its save will show ("Saved", the countdown
        from the start), its lines made while the worker saves (Shown.prepare)."""
        if self._undo_key is None:  # as the user's keymap binds it; looked up once
            self._undo_key = keys_by_id(self).get("undo", "u")  # type: ignore[arg-type]
        left = float(self.session.settings.undo_seconds)
        status = undo_status(saved_message(what), {**what, "key": self._undo_key}, left)
        self.query_one("#status", Shown).prepare(status)

    def action_undo(self) -> None:
        if self.busy:  # the outcome is on its way: undone as soon as it is saved
            self._undo_pending = True
            return
        self._undo_pending = False
        if self.session.last_logged is None:
            self.query_one("#status", Static).update(Text(_("Nothing to undo."), style="yellow"))
            return
        # the note typed for the account now on screen is kept as its draft
        keep = (self.view.id, self.query_one("#note", TextArea).text) if self.view else None

        def job() -> AccountLoaded:
            if keep is not None and keep[1] != self._note_saved:
                self.session.save_draft(*keep)
            undone, view = self.session.undo()
            return AccountLoaded(view, None, undone=undone)

        self._work(job, counts=True)
