"""Typed messages that thread workers post back to the screen."""

from __future__ import annotations

from textual.message import Message

from dunning.queue.account_view import AccountView
from dunning.queue.outcomes import Logged
from dunning.queue.search import Hit


class AccountLoaded(Message):
    def __init__(
        self,
        view: AccountView | None,
        logged: Logged | None = None,
        counts: dict[str, int] | None = None,
    ) -> None:
        super().__init__()
        self.view = view
        self.logged = logged
        self.counts = counts


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
