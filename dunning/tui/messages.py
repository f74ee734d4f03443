"""Typed messages that thread workers post back to the screen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from dunning.queue.account_view import AccountView
from dunning.queue.outcomes import Logged

if TYPE_CHECKING:  # imported when searched or undone, not to open the screen (the start)
    from dunning.queue.search import Hit
    from dunning.queue.void import Voided


class AccountLoaded(Message):
    """The account to show. ``refresh``: reloaded because another process committed, not
    the answer to this screen's own work (which it must not be taken for). ``undone``:
    the outcome `u` took back (the view is its account, its note in the draft)."""

    def __init__(
        self,
        view: AccountView | None,
        logged: Logged | None = None,
        counts: dict[str, int] | None = None,
        *,
        refresh: bool = False,
        undone: Voided | None = None,
    ) -> None:
        super().__init__()
        self.view = view
        self.logged = logged
        self.counts = counts
        self.refresh = refresh
        self.undone = undone  # `u` took this outcome back: its account is the view


class WorkFailed(Message):
    """A worker hit an expected error: shown on screen, never a crash."""

    def __init__(self, text: str, *, keep_account: bool = True) -> None:
        super().__init__()
        self.text = text
        self.keep_account = keep_account


class SearchResults(Message):
    def __init__(self, text: str, hits: list[Hit]) -> None:
        super().__init__()
        self.text = text
        self.hits = hits


class FileGone(Message):
    """The database file was replaced or deleted under the session: nothing more can be
    saved; the screen blocks work and keeps the note (screens/file_gone.py)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class LockWaiting(Message):
    """A write waits for the lock: ``text`` to show, '' once it has it."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
