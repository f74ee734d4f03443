"""The work screen when its database file is gone, and while a write waits for the lock.

Gone: the file at the database's path was replaced (a restore moved over it) or deleted
while the screen was open. Every write would go into the unlinked file and be lost, so
write_tx refuses (FileReplaced) and the screen stops: the account pane says what happened
and what to do, every key but quit, help and the note's own keys is off, and the note the
collector typed stays in its pane, editable and copyable, and is written to a private
recovery file (queue/recovery.py), rewritten as it changes and on quit.

Waiting: a write waits for the lock another process holds (an import); the status line
says for how long and who holds it (db/lockwait.py), second by second.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from rich.text import Text
from textual.widgets import Static, TextArea

from dunning.db.connection import FileReplaced
from dunning.db.lockwait import LockWait
from dunning.i18n import _
from dunning.queue.recovery import note_path, save_note
from dunning.tui.messages import FileGone, LockWaiting

if TYPE_CHECKING:
    from dunning.queue.account_view import AccountView
    from dunning.queue.session import WorkSession

T = TypeVar("T")

# what still works once the file is gone: leaving, help, and the note itself
GONE_ACTIONS = frozenset({"quit", "help", "edit_note", "leave_note"})


class FileGoneMixin:
    """Mixed into WorkScreen (a Screen)."""

    session: WorkSession
    view: AccountView | None
    busy: bool
    query_one: Callable[..., Any]
    post_message: Callable[..., Any]
    notify: Callable[..., Any]
    refresh_bindings: Callable[[], None]
    _stop_undo: Callable[[], None]
    app: Any

    gone: str | None = None  # the message, once the file is gone
    kept_note: Path | None = None  # the recovery file
    _gone_ref = ""
    _waiting_shown = ""  # the lock-wait line on the status line, while it is there

    def _guarded(self, fn: Callable[[], T]) -> Callable[[], T | None]:
        """``fn`` for a worker thread: FileReplaced becomes the blocking message."""

        def run() -> T | None:
            try:
                return fn()
            except FileReplaced as exc:
                self.post_message(FileGone(str(exc)))
                return None

        return run

    def _watch_lock(self) -> None:
        """Lock waits of this session's writes, shown on the status line."""

        def told(wait: LockWait | None) -> None:
            self.post_message(LockWaiting("" if wait is None else wait.message()))

        self.session.on_lock_wait = told

    def _lock_waiting(self, message: LockWaiting) -> None:
        if self.gone is not None:
            return
        status = self.query_one("#status", Static)
        if message.text:
            status.update(Text(message.text, style="bold yellow"))
            self._waiting_shown = message.text
        elif self._waiting_shown and str(status.content) == self._waiting_shown:
            status.update("")  # the wait is over; the outcome's own line follows
            self._waiting_shown = ""

    def _file_gone(self, message: FileGone) -> None:
        first = self.gone is None
        self.gone = message.text
        self.busy = False
        self._stop_undo()
        if first:
            self._gone_ref = self.view.external_ref if self.view is not None else ""
            self.keep_note()
        kept = (
            _("Your note stays in the note pane (copy it from there) and is kept in {path}.")
            .format(path=self.kept_note)
            if self.kept_note is not None
            else _("Your note stays in the note pane: copy it from there before you quit.")
        )  # fmt: skip
        text = Text(_("Nothing more can be saved") + "\n\n", style="bold red")
        text.append(message.text + "\n\n", style="bold")
        text.append(kept + "\n" + _("Press q to quit, then restart dunning."))
        self.query_one("#account").show_message(text)
        self.query_one("#history-wide", Static).update("")
        self.query_one("#status", Static).update(Text(message.text, style="bold red"))
        if first:
            self.notify(message.text, severity="error", timeout=30)
            self.refresh_bindings()

    def keep_note(self) -> None:
        """Write the note pane's text to the recovery file (when there is one to keep)."""
        if self.gone is None:
            return
        text = self.query_one("#note", TextArea).text
        if not text.strip() and self.kept_note is None:
            return
        now = self.session.clock.now()
        try:
            if self.kept_note is None:
                self.kept_note = note_path(self.session.collector.username, self._gone_ref, now)
            save_note(
                self.kept_note, text, db_path=self.session.db_path, ref=self._gone_ref, now=now
            )
        except OSError:
            self.kept_note = None  # the pane still holds it; the message says so

    def gone_allows(self, action: str) -> bool:
        return action in GONE_ACTIONS
