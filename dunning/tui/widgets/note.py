"""The note pane: a TextArea that does not re-read its theme when it draws nothing new.

Textual's TextArea applies its theme's CSS (a walk of the widget's styles for each of its
component classes) on every ``render_lines``, before its lines are looked up in the styles
cache. The compositor calls ``render_lines`` on every widget inside the box around the
parts of the screen that changed, and an outcome changes the account pane, the top bar and
the status line: a box around the whole screen, the note included, whose lines all come
from the cache. Measured on the pty bench (issue 8), that theme walk was the largest part
of the note's share of each outcome's frame (about 7 of its 9 ms profiled under load). Here
it runs only when a line will be drawn again (typed, scrolled, resized, focused, restyled:
each of those marks the lines dirty or clears the cache), exactly when TextArea needs it.
"""

from __future__ import annotations

from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import TextArea


class NoteArea(TextArea):
    def render_lines(self, crop: Region) -> list[Strip]:
        if self._all_cached(crop):
            return Widget.render_lines(self, crop)  # every line from the cache: no theme
        return super().render_lines(crop)

    def _all_cached(self, crop: Region) -> bool:
        """Every line of ``crop`` will come from the styles cache as it is (the private
        state of textual's StylesCache, 8.x: read only; any doubt answers False)."""
        cache = getattr(self._styles_cache, "_cache", None)
        dirty = getattr(self._styles_cache, "_dirty_lines", None)
        width = getattr(self._styles_cache, "_width", None)
        if not isinstance(cache, dict) or not isinstance(dirty, set) or not cache:
            return False
        if width != self.region.width:
            return False
        return all(y in cache and y not in dirty for y in crop.line_range)
