"""Static and Label that show data safely: whatever they are given goes through
:func:`dunning.tui.fmt.safe` (no markup read from a string, control and bidi characters
made visible), on creation and on every ``update``. Every widget of the screen that may
show a name, a note, a reference or a message quoting them is one of these."""

from __future__ import annotations

from typing import Any

from textual.widgets import Label, Static

from dunning.tui import fmt


class Shown(Static):
    """A Static for data: ``Shown(id="title")`` then ``.update(text)`` as a Static."""

    def __init__(self, content: Any = "", **kwargs: Any) -> None:
        kwargs["markup"] = False
        super().__init__(fmt.safe(content), **kwargs)  # type: ignore[arg-type]

    def update(self, content: Any = "", *, layout: bool = True) -> None:
        super().update(fmt.safe(content), layout=layout)  # type: ignore[arg-type]


class ShownLabel(Label):
    """A Label for data (a dialog's error line quotes what was typed)."""

    def __init__(self, content: Any = "", **kwargs: Any) -> None:
        kwargs["markup"] = False
        super().__init__(fmt.safe(content), **kwargs)  # type: ignore[arg-type]

    def update(self, content: Any = "", *, layout: bool = True) -> None:
        super().update(fmt.safe(content), layout=layout)  # type: ignore[arg-type]
