"""A lead's first outcome on another collector's account: why (queue/access.py records it
beside the outcome, so the history reads "lena for bruno: ...")."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from dunning.i18n import N_, _
from dunning.tui.keys import translate_bindings
from dunning.tui.typeahead import TypeAhead, focus_bindings
from dunning.tui.widgets.shown import Shown


class LeadReasonDialog(TypeAhead, ModalScreen[str | None]):
    """Asked once per account opened: the reason stands for every outcome logged on it."""

    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel"), id="dialog.cancel"),
        Binding("ctrl+s", "submit", N_("Save"), id="dialog.save"),
        *focus_bindings(),
    ]

    def __init__(self, ref: str, owner: str | None) -> None:
        super().__init__(classes="outcome-dialog")
        translate_bindings(self)
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
        self.set_focus(self.query_one("#f-reason", Input))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        reason = self.query_one("#f-reason", Input).value.strip()
        if not reason:
            self.query_one("#dialog-error", Label).update(
                _("say why you act on another collector's account (a reason is required)")
            )
            return
        self.dismiss(reason)
