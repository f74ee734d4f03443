"""The work screen's top bar (who works, the queue's counts, the account on screen) and the
status line and top bar an outcome key will show, made ahead (Shown.prepare): while the
collector reads an account, for the outcome they used last and the account most likely
next; at the key, for another outcome. The frame after the key then copies their lines."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text

from dunning.i18n import _
from dunning.tui import fmt
from dunning.tui.widgets.shown import Shown

if TYPE_CHECKING:
    from datetime import datetime

    from dunning.queue.account_view import AccountView
    from dunning.queue.collectors import Collector
    from dunning.queue.session import WorkSession
    from dunning.tui.widgets.account import Page


def topbar_text(me: Collector, counts: dict[str, int], view: AccountView | None, mark: str) -> Text:
    bar = Text()
    bar.append(" dunning ", style="bold reverse")
    bar.append(f" {me.display_name} ({me.username})")
    if counts:
        bar.append(
            "  ·  "
            + _("{ready} ready · {waiting} waiting").format(
                ready=counts.get("ready", 0), waiting=counts.get("waiting", 0)
            ),
            style="dim",
        )
    if view is not None:
        bar.append(f"  ·  {view.external_ref}", style="bold")
        if mark:
            bar.append(f"  ·  {mark}", style="bold yellow")
    return bar


def counted(counts: dict[str, int], state: str) -> dict[str, int]:
    """The header's counts once our own outcome moved one account from ready to ``state``
    (the periodic refresh catches up with everyone else's work)."""
    if not counts or state == "ready":
        return counts
    out = dict(counts)
    out["ready"] = max(out.get("ready", 0) - 1, 0)
    out[state] = out.get(state, 0) + 1
    return out


def outcome_label(code: str) -> str:
    return _(fmt.OUTCOME_LABELS.get(code, code))


class TopbarMixin:
    """Mixed into WorkScreen (a Screen): uses its session, view, counts and staged page."""

    session: WorkSession
    view: AccountView | None
    _counts: dict[str, int]
    _staged: tuple[AccountView, Page, datetime] | None
    query_one: Callable[..., Any]
    _marker: Callable[[], str]
    _prepare_saved: Callable[[dict[str, object]], None]  # UndoMixin's
    # the last outcome key's code, and the state each code last left its account in
    _last_code: str | None = None
    _left_in: dict[str, str] | None = None

    def _topbar(self) -> None:
        text = topbar_text(self.session.collector, self._counts, self.view, self._marker())
        self.query_one("#topbar", Shown).update(text)

    def _outcome_done(self, code: str, state: str) -> None:
        """An outcome saved: its code and the state it left the account in, remembered
        for the next key's status line and top bar made ahead."""
        self._last_code = code
        if self._left_in is None:
            self._left_in = {}
        self._left_in[code] = state

    def _prepare_outcome(self, code: str | None) -> None:
        """The status line and the top bar an outcome ``code`` on the account on screen
        will show, their lines made now; nothing shown changes."""
        if code is None or self.view is None:
            return
        self._prepare_saved({"outcome": outcome_label(code), "ref": self.view.external_ref})
        state = (self._left_in or {}).get(code)
        if self._staged is None or state is None:
            return
        nxt = self._staged[0]
        access = self.session.access(nxt)
        mark = access.marker() if access.needs_reason else ""
        text = topbar_text(self.session.collector, counted(self._counts, state), nxt, mark)
        self.query_one("#topbar", Shown).prepare(text)
