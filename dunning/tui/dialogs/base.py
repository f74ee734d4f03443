"""What every dialog shares: Enter saves from any field, Esc cancels, choices move with the
arrows, and keys typed in one burst are read in the order they were typed.

- Enter is a priority binding of the dialog: it saves whether the focus is on a text
  field, a list of checkboxes or a set of radio buttons (a list would otherwise take it
  as "tick"). Space ticks; the arrows move. In a :class:`Choices` set the arrows also
  choose, so what is highlighted is what is saved.
- Enter is acted on as it is read, but the keys typed before it may still wait in a
  field's queue: the values are read once every field has handled what it was sent.
  Keys typed after Enter, while the values are read, wait on the dialog (no field has
  focus) and go to the field that gets focus back if the input is refused.
- Esc is a priority binding too: the dialog is gone before the next key is routed, so
  "esc n" cancels the dialog and then logs "no answer", as typed.
"""

from __future__ import annotations

from typing import TypeVar

from rich.cells import cell_len
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Label, RadioButton, RadioSet, SelectionList

from dunning.i18n import N_
from dunning.tui.keys import translate_bindings
from dunning.tui.typeahead import TypeAhead, focus_bindings

ResultT = TypeVar("ResultT")

LABEL_MAX = 30  # a longer field label wraps under itself instead of squeezing the field


class Choices(RadioSet):
    """One choice among a few: opens on the chosen one; the arrows move and choose."""

    _ready = False

    def on_mount(self) -> None:
        # after RadioSet's own mount handler, which may run after this one and highlights
        # the first button (that must choose nothing), whichever is chosen
        self.call_next(self._open_on_choice)

    def _open_on_choice(self) -> None:
        if self.pressed_index >= 0:
            self._selected = self.pressed_index
        self._ready = True

    def _choose_highlighted(self) -> None:
        if self._selected is not None:
            button = self._nodes[self._selected]
            if isinstance(button, RadioButton) and not button.value:
                button.value = True

    def action_next_button(self) -> None:
        super().action_next_button()
        if self._ready:
            self._choose_highlighted()

    def action_previous_button(self) -> None:
        super().action_previous_button()
        if self._ready:
            self._choose_highlighted()


class Dialog(TypeAhead, ModalScreen[ResultT]):
    """A modal dialog. Subclasses compose their fields (a ``#dialog-error`` Label among
    them) and implement :meth:`submit`, which either calls :meth:`close` with the result or
    raises ValueError, whose message is shown in ``#dialog-error`` (and nothing is saved).
    Esc while the values are being read is ignored: they are already on their way."""

    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel"), id="dialog.cancel", priority=True),
        Binding("enter", "submit", N_("Save"), id="dialog.enter", show=False, priority=True),
        Binding("ctrl+s", "submit", N_("Save"), id="dialog.save", priority=True),
        *focus_bindings(),
    ]

    def __init__(self) -> None:
        super().__init__(classes="outcome-dialog")
        translate_bindings(self)
        self._submitting = False
        self._done = False

    def on_mount(self) -> None:
        for sel in self.query(SelectionList):
            if sel.option_count and sel.highlighted is None:
                sel.highlighted = 0
        self._size_labels()

    def _size_labels(self) -> None:
        """Labels beside their field all get the width of the longest (up to LABEL_MAX):
        nothing is cut in a language with longer words."""
        labels = list(self.query(".field-row > .field-label").results(Label))
        if not labels:
            return
        width = min(max(cell_len(str(lab.render())) for lab in labels) + 1, LABEL_MAX)
        for lab in labels:
            lab.styles.width = width

    def action_cancel(self) -> None:
        if self._submitting or self._done:
            return
        self._done = True
        self.dismiss(None)

    def action_submit(self) -> None:
        if self._submitting or self._done:
            return
        self._submitting = True
        back = self.focused
        self.set_focus(None)  # keys typed from now on wait on the dialog (TypeAhead)
        pending: list[Widget] = [
            w for w in self.query("Input, RadioSet, SelectionList") if w.is_mounted
        ]

        def step() -> None:
            if pending:
                pending.pop(0).call_later(step)
            else:
                self._read(back)

        step()

    def _read(self, back: Widget | None) -> None:
        self._submitting = False
        try:
            self.submit()
        except ValueError as exc:
            self.show_error(str(exc))
            self.set_focus(back)  # and what was typed meanwhile goes there

    def submit(self) -> None:  # pragma: no cover - every dialog has its own
        raise NotImplementedError

    def show_error(self, text: str) -> None:
        self.query_one("#dialog-error", Label).update(text)

    def close(self, result: ResultT) -> None:
        self._done = True
        self.dismiss(result)


def radio_value(widget: RadioSet) -> str:
    pressed = widget.pressed_button
    return pressed.name or "" if pressed is not None else ""
