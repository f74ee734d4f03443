"""The account pane's vertical scrollbar: its styled lines kept for the geometries seen.

Each outcome brings an account of another length, so Textual draws the scrollbar again:
a Rich renderable turned into 28 lines, each styled by the StylesCache. On the pty bench
(issue 8) that was the largest widget of the frame after the key, more than the account
pane itself (a 1-cell column costing as much as 68 columns of text). The lines depend only
on the bar's geometry and colours, and accounts' lengths recur, so the lines made for a
geometry are kept (a few dozen) and copied when it comes back.
"""

from __future__ import annotations

from collections import OrderedDict

from textual.geometry import Region
from textual.scrollbar import ScrollBar
from textual.strip import Strip

KEEP = 64  # geometries kept (a line of 1-2 cells each: a few KB)


class PaneScrollBar(ScrollBar):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._kept: OrderedDict[tuple[object, ...], list[Strip]] = OrderedDict()
        self.reused = 0  # frames drawn from kept lines (tests, benchmarks)

    def _key(self) -> tuple[object, ...]:
        """Everything ScrollBar.render and the styling of its lines read."""
        parent = self.parent
        pstyles = parent.styles  # type: ignore[union-attr]
        app = self.app
        return (
            self.size,
            self.window_virtual_size,
            self.window_size,
            self.position,
            self.thickness,
            self.vertical,
            self.renderer,
            bool(self.grabbed),
            self.mouse_over,
            pstyles.scrollbar_background,
            pstyles.scrollbar_color,
            pstyles.scrollbar_background_hover,
            pstyles.scrollbar_color_hover,
            pstyles.scrollbar_background_active,
            pstyles.scrollbar_color_active,
            parent.background_colors,  # type: ignore[union-attr]
            self.background_colors,
            self.screen.styles.scrollbar_color,
            app.theme,
            id(app.ansi_theme),
            app.native_ansi_color,
            tuple(id(f) for f in self.get_line_filters()),
        )

    def render_lines(self, crop: Region) -> list[Strip]:
        width, height = self.size
        if not width or not height:
            return super().render_lines(crop)
        key = self._key()
        lines = self._kept.get(key)
        if lines is None:
            lines = super().render_lines(self.size.region)
            self._kept[key] = lines
            if len(self._kept) > KEEP:
                self._kept.popitem(last=False)
        else:
            self._kept.move_to_end(key)
            self.reused += 1
        lines = lines[crop.y : crop.bottom]
        if crop.column_span != (0, width):
            x1, x2 = crop.column_span
            lines = [strip.crop(x1, x2) for strip in lines]
        return lines
