"""Textual's Footer, composed once for any number of binding changes before it runs.

Textual's Footer schedules a whole recompose (every key removed and mounted again, styled,
laid out: ~10 ms of the main thread on this screen) for each change of the screen's
bindings, and several come together: at start the focus, the screen stack and the first
account each publish one (four recomposes after the first frame), and an account whose
status forbids calls changes the outcome keys in the frame that draws it. The keys are
read when the footer composes, so one recompose after the last change shows the same
keys as several (issue 8: start -> first account, outcome key -> next account drawn).
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class OneFooter(Footer):
    """A Footer that runs one recompose for the binding changes made before it runs."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._recompose_due = False
        self.recomposes = 0  # how many ran (tests)

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._recompose_due:
            self._recompose_due = True
            self.call_after_refresh(self._recompose_once)

    async def _recompose_once(self) -> None:
        self._recompose_due = False  # a change from here on asks for another
        self.recomposes += 1
        await self.recompose()
