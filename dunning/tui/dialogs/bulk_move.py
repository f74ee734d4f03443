"""The last step of a bulk reassignment from the account list: what would move (count, by
collector and bucket, languages the target does not speak), then Enter moves or Esc
cancels. The rules are checked again in queue/ when it moves.

For every account a filter matches (``*``), how many to move: empty moves them all; a
number moves the first that many in the list's order (its sort, as shown), as
``dunning assign --where ... --limit N`` does."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Checkbox, Input, Label

from dunning.i18n import _
from dunning.tui.dialogs.base import Dialog
from dunning.tui.widgets.shown import Shown


@dataclass(frozen=True)
class MoveChoice:
    anyway: bool  # move whatever the language
    limit: int | None = None  # the first N in the list's order (None: all)


class ConfirmMoveDialog(Dialog[MoveChoice | None]):
    """Returns what to move (None: Esc). ``of``: how many match, when the move is of every
    account a filter matches (the "how many" field is shown); None for a selection."""

    def __init__(self, title: str, lines: list[str], unspoken: bool, of: int | None = None,
                 order: str = "") -> None:  # fmt: skip
        super().__init__()
        self.title_text = title
        self.lines = lines
        self.unspoken = unspoken
        self.of = of
        self.order = order

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Shown(self.title_text, id="dialog-title")
            yield Shown("\n".join(self.lines), id="move-preview")
            if self.of is not None:
                with Horizontal(classes="field-row"):
                    yield Label(_("How many"), classes="field-label")
                    yield Input(
                        placeholder=_("all {n} (or the first N, {order})").format(
                            n=f"{self.of:,}", order=self.order
                        ),
                        id="f-limit",
                        compact=True,
                        restrict=r"[0-9]*",
                        max_length=9,
                    )
            if self.unspoken:
                yield Checkbox(_("move them whatever the language"), id="f-any")
            yield Label("", id="dialog-error")
            yield Shown(_("Enter moves · Esc cancels"), id="dialog-hint")

    def submit(self) -> None:
        anyway = False
        if self.unspoken:
            anyway = self.query_one("#f-any", Checkbox).value
        limit = None
        if self.of is not None:
            text = self.query_one("#f-limit", Input).value.strip()
            if text:
                limit = int(text)
                if limit < 1:
                    raise ValueError(_("how many: 1 or more (empty: all of them)"))
                if limit >= self.of:
                    limit = None  # all of them
        self.close(MoveChoice(anyway, limit))
