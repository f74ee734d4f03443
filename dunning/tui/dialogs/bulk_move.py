"""The last step of a bulk reassignment from the account list: what would move (count, by
collector and bucket, languages the target does not speak), then Enter moves or Esc
cancels. The rules are checked again in queue/ when it moves."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Checkbox, Label

from dunning.i18n import _
from dunning.tui.dialogs.base import Dialog
from dunning.tui.widgets.shown import Shown


class ConfirmMoveDialog(Dialog[bool | None]):
    """Returns whether to move whatever the language (True), or not (False); None: Esc."""

    def __init__(self, title: str, lines: list[str], unspoken: bool) -> None:
        super().__init__()
        self.title_text = title
        self.lines = lines
        self.unspoken = unspoken

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Shown(self.title_text, id="dialog-title")
            yield Shown("\n".join(self.lines), id="move-preview")
            if self.unspoken:
                yield Checkbox(_("move them whatever the language"), id="f-any")
            yield Label("", id="dialog-error")
            yield Shown(_("Enter moves · Esc cancels"), id="dialog-hint")

    def submit(self) -> None:
        anyway = False
        if self.unspoken:
            anyway = self.query_one("#f-any", Checkbox).value
        self.close(anyway)
