"""`v` on the history screen: void an outcome with a reason (a lead any, a collector their own
of the day; queue/void.py decides and says why not)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from dunning.i18n import N_, _
from dunning.tui.keys import translate_bindings
from dunning.tui.typeahead import TypeAhead, focus_bindings
from dunning.tui.widgets.shown import Shown, ShownLabel


class VoidDialog(TypeAhead, ModalScreen[tuple[int, str] | None]):
    """Which activity (#id, the newest outcome that stands by default) and why."""

    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel"), id="dialog.cancel"),
        Binding("ctrl+s", "submit", N_("Save"), id="dialog.save"),
        *focus_bindings(),
    ]

    def __init__(self, name: str, activity_id: int | None) -> None:
        super().__init__(classes="outcome-dialog")
        translate_bindings(self)
        self.name_text = name
        self.activity_id = activity_id

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Shown(
                _("Void an outcome of {name}").format(name=self.name_text), id="dialog-title"
            )
            with Horizontal(classes="field-row"):
                yield Label(_("Activity #"), classes="field-label")
                yield Input(
                    str(self.activity_id or ""), id="f-activity", compact=True, type="integer"
                )
            with Horizontal(classes="field-row"):
                yield Label(_("Why"), classes="field-label")
                yield Input(
                    placeholder=_("e.g. logged on the wrong account"), id="f-reason", compact=True
                )
            yield ShownLabel("", id="dialog-error")
            yield Shown(_("Enter or Ctrl+S saves · Esc cancels · Tab next field"), id="dialog-hint")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#f-reason", Input))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        error = self.query_one("#dialog-error", Label)
        raw = self.query_one("#f-activity", Input).value.strip().lstrip("#")
        reason = self.query_one("#f-reason", Input).value.strip()
        if not raw.isdigit() or len(raw) > 19:  # past 2**63 it is no id either
            error.update(_("activity id {value!r} is not a number").format(value=raw))
            return
        if not reason:
            error.update(_("say why the outcome is voided (a reason is required)"))
            return
        self.dismiss((int(raw), reason))
