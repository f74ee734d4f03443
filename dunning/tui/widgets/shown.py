"""Static and Label that show data safely: whatever they are given goes through
:func:`dunning.tui.fmt.safe` (no markup read from a string, control and bidi characters
made visible), on creation and on every ``update``. Every widget of the screen that may
show a name, a note, a reference or a message quoting them is one of these."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.geometry import Size
from textual.reactive import Reactive
from textual.strip import Strip
from textual.style import Style
from textual.visual import Visual, visualize
from textual.widget import _RenderCache
from textual.widgets import Label, Static

from dunning.tui import fmt


class Shown(Static):
    """A Static for data: ``Shown(id="title")`` then ``.update(text)`` as a Static.

    An update that leaves the widget's size as it was asks for no layout: Textual's
    layout pass (re-arrange and reflow the whole screen) was most of the time between an
    outcome key and the next account drawn, while most updates only change text."""

    # Textual lays the whole screen out a second time when a widget's virtual size changes
    # (Widget.virtual_size is a layout reactive). The pass that measured it has already
    # placed this widget (it has no children and no scrollbars): a second is wasted.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False, repaint=False)

    # Data never holds a link (no markup is read, fmt.safe): Textual's link styling pass
    # (a new Strip per line, a sixth of each render) has nothing to do.
    auto_links: Reactive[bool] = Reactive(False)

    def __init__(self, content: Any = "", **kwargs: Any) -> None:
        kwargs["markup"] = False
        super().__init__(fmt.safe(content), **kwargs)  # type: ignore[arg-type]
        # lines made ahead (prepare): the text, the size and style they were made for
        self._prepared: tuple[Text, tuple[Size, Style], list[Strip], int] | None = None
        self.copied = 0  # renders that copied lines made ahead (tests, benchmarks)

    def prepare(self, content: Any) -> None:
        """Make now the lines of ``content``, for an update expected soon with exactly that
        text at this size (the status line's "Saved" while the outcome is being saved):
        that update's frame copies them instead of wrapping and styling the text between
        the key and the frame (issue 8). Any other update draws as always."""
        content = fmt.safe(content)
        if not isinstance(content, Text) or not self.is_mounted:
            return
        size = self.size
        if size.width <= 0:
            return
        visual = visualize(self, content, markup=False)
        height = visual.get_height(self.styles, size.width)  # what the update measures
        styles = self.styles
        if styles.height is not None and styles.height.is_auto and not self._bounded():
            size = Size(size.width, height)  # the height the update's layout will give it
        if size.height <= 0:
            return
        style = self.visual_style
        strips = Visual.to_strips(self, visual, size.width, size.height, style)
        self._prepared = (content.copy(), (size, style), strips, height)

    def _bounded(self) -> bool:
        """A height between bounds (the status line: 3 to 8 lines)."""
        return self.styles.min_height is not None or self.styles.max_height is not None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._prepared = None  # made with the styles before (wrap, alignment, colours)

    def _render_content(self) -> None:
        """Widget._render_content, with the lines made ahead when they fit (prepare)."""
        prepared = self._prepared
        if prepared is not None:
            text, made_for, strips, _height = prepared
            if (
                made_for == (self.size, self.visual_style)
                and self.text_selection is None
                and _same(text, self.content)
            ):
                self._render_cache = _RenderCache(self.size, strips)
                self._dirty_regions.clear()
                self.copied += 1
                return
        super()._render_content()

    def update(self, content: Any = "", *, layout: bool = True) -> None:
        content = fmt.safe(content)
        if _same(content, self.content):
            return  # nothing to measure, convert or draw (the empty promises, the status)
        if not layout:
            super().update(content, layout=False)  # type: ignore[arg-type]
            return
        before = self._height_now()
        super().update(content, layout=False)  # type: ignore[arg-type]
        if before is None or self._height_now() != before:
            self.refresh(layout=True)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """Textual's measure wraps the whole text (and its render wraps it again); when no
        line is wider than ``width`` (most of an account), the height is its line count."""
        content = self.content
        prepared = self._prepared
        if (
            prepared is not None
            and prepared[1][0].width == width
            and self._content_height_cache[0] != width
            and _same(prepared[0], content)
        ):
            self._content_height_cache = (width, prepared[3])
        if (
            width > 0
            and isinstance(content, Text)
            and self._content_height_cache[0] != width
            and "\t" not in content.plain
            and self.styles.text_wrap == "wrap"
            and not self.styles.line_pad
        ):
            lines = content.plain.split("\n")
            if all(cell_len(line) <= width for line in lines):
                self._content_height_cache = (width, len(lines))
        return super().get_content_height(container, viewport, width)

    def _height_now(self) -> int | None:
        """The content's height at the width the last layout gave it; None when that is
        not known (not laid out yet, or a width that follows the content)."""
        if not self.is_mounted or (self.styles.width is not None and self.styles.width.is_auto):
            return None
        if any(not node.display for node in self.ancestors_with_self):
            return -1  # not shown (the history column of a narrow screen): no room taken
        width = self.content_region.width
        if width <= 0:
            return None
        if self.styles.height is not None and not self.styles.height.is_auto:
            return -1  # a fixed height: the content does not change it
        return self.get_content_height(self.size, self.app.size, width)


def _same(new: object, old: object) -> bool:
    """The same text drawn the same way (Rich's Text == compares the characters and spans
    only, not the base style). The same object is not: it may have been changed in place."""
    if new is not old and isinstance(new, Text) and isinstance(old, Text):
        return (
            new.plain == old.plain
            and new.spans == old.spans
            and new.style == old.style
            and (new.justify, new.overflow, new.no_wrap, new.end, new.tab_size)
            == (old.justify, old.overflow, old.no_wrap, old.end, old.tab_size)
        )
    return False


class ShownLabel(Label):
    """A Label for data (a dialog's error line quotes what was typed)."""

    def __init__(self, content: Any = "", **kwargs: Any) -> None:
        kwargs["markup"] = False
        super().__init__(fmt.safe(content), **kwargs)  # type: ignore[arg-type]

    def update(self, content: Any = "", *, layout: bool = True) -> None:
        super().update(fmt.safe(content), layout=layout)  # type: ignore[arg-type]
