"""A lead's decision on the review queue or a dispute: why (always), and to whom when
the account goes to another collector. The rules are checked again in queue/."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, RadioButton, RadioSet

from dunning.i18n import _
from dunning.queue.collectors import Collector
from dunning.tui import fmt
from dunning.tui.dialogs.base import Choices, Dialog, radio_value
from dunning.tui.widgets.shown import Shown

# (the chosen collector's username or None, the reason)
DecisionResult = tuple[str | None, str]


class DecisionDialog(Dialog[DecisionResult | None]):
    def __init__(
        self, title: str, collectors: list[Collector] | None = None, language: str = ""
    ) -> None:
        super().__init__()
        self.title_text = title
        self.collectors = collectors
        self.language = language

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Shown(self.title_text, id="dialog-title")
            if self.collectors is not None:
                yield Label(_("To"), classes="field-label")
                with Choices(id="f-to"):
                    for n, c in enumerate(self.collectors):
                        yield RadioButton(
                            fmt.safe(f"{c.display_name} ({c.username}) {','.join(c.languages)}"),
                            value=n == 0,
                            name=c.username,
                        )
            with Horizontal(classes="field-row"):
                yield Label(_("Why"), classes="field-label")
                yield Input(placeholder=_("kept with the decision"), id="f-reason", compact=True)
            yield Label("", id="dialog-error")
            yield Shown(_("Enter saves · Esc cancels"), id="dialog-hint")

    def on_mount(self) -> None:
        super().on_mount()
        self.set_focus(self.query_one("#f-reason", Input))

    def submit(self) -> None:
        to = None
        if self.collectors is not None:
            to = radio_value(self.query_one("#f-to", RadioSet))
            if not to:
                raise ValueError(_("choose a collector"))
        reason = self.query_one("#f-reason", Input).value.strip()
        if not reason:
            raise ValueError(_("say why (a reason is kept with the decision)"))
        self.close((to, reason))
