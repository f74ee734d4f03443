"""Keys typed faster than the screen changes land where the collector meant them.

Textual hands each key to the widget focused when the key is read and queues it there.
When keys arrive in one burst (a fast typist, or an SSH link that delivers several
keystrokes in one packet), a key that moves focus (tab, ``i`` into the note) or opens a
dialog (``p``) is acted on only after the keys behind it were already queued for the old
widget: "i" + "Spoke to Jean" opened the promise dialog at the "p", and "tab +7d" in a
dialog typed the date into the amount. Measured in tmux with ``send-keys`` bursts.

Two remedies, used together:

- Keys that move focus or open a screen are *priority* bindings: Textual runs those while
  reading the key, before it routes the next one (see :func:`focus_bindings`).
- A dialog opened by a key has no focused field for the keys right behind that key; they
  reach the screen itself. :class:`TypeAhead` types them into the field that gets focus.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Input


def focus_bindings() -> list[Binding]:
    """tab / shift+tab move between a dialog's fields before the next key is routed."""
    return [
        Binding("tab", "app.focus_next", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", show=False, priority=True),
    ]


def type_into(field: Input, character: str) -> None:
    """What Input does with a printable key: replace the selection, else insert."""
    selection = field.selection
    if selection.is_empty:
        field.insert_text_at_cursor(character)
    else:
        field.replace(character, *selection)


class TypeAhead:
    """Mixin for a screen (listed before the Screen class): keys that reach the screen
    itself, not a field, are typed into its focused Input.

    An Input stops every printable key it gets, so a printable key seen here came to the
    screen itself: typed before any field had focus, or routed while focus was moving.
    A plain mixin, not a Screen subclass, so that it brings no CSS of its own.
    """

    focused: Widget | None
    _typed_ahead: list[str] | None = None

    def on_key(self, event: events.Key) -> None:
        if not event.is_printable or not event.character:
            return
        focused = self.focused
        if focused is None:
            if self._typed_ahead is None:
                self._typed_ahead = []
            self._typed_ahead.append(event.character)
            event.stop()
        elif isinstance(focused, Input):
            type_into(focused, event.character)
            event.stop()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        widget = event.widget
        if self._typed_ahead and isinstance(widget, Input):
            typed, self._typed_ahead = "".join(self._typed_ahead), None
            for ch in typed:
                type_into(widget, ch)
