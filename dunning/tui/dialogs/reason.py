"""A lead's first outcome on another collector's account: why (queue/access.py records it
beside the outcome, so the history reads "lena for bruno: ...")."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label

from dunning.i18n import _
from dunning.tui.dialogs.base import Dialog
from dunning.tui.widgets.shown import Shown


class LeadReasonDialog(Dialog[str | None]):
    """Asked once per account opened: the reason stands for every outcome logged on it."""

    def __init__(self, ref: str, owner: str | None) -> None:
        super().__init__()
        self.ref = ref
        self.owner = owner

    def compose(self) -> ComposeResult:
        whose = (
            _("{ref} is {owner}'s account").format(ref=self.ref, owner=self.owner)
            if self.owner
            else _("{ref} is assigned to nobody").format(ref=self.ref)
        )
        with Vertical(id="dialog"):
            yield Shown(whose + ": " + _("why do you act on it?"), id="dialog-title")
            with Horizontal(classes="field-row"):
                yield Label(_("Why"), classes="field-label")
                yield Input(
                    placeholder=_("e.g. the collector is away this week"),
                    id="f-reason",
                    compact=True,
                )
            yield Label("", id="dialog-error")
            yield Shown(_("Enter saves · Esc cancels"), id="dialog-hint")

    def on_mount(self) -> None:
        super().on_mount()
        self.set_focus(self.query_one("#f-reason", Input))

    def submit(self) -> None:
        reason = self.query_one("#f-reason", Input).value.strip()
        if not reason:
            raise ValueError(
                _("say why you act on another collector's account (a reason is required)")
            )
        self.close(reason)
