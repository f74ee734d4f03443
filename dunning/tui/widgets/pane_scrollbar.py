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

from textual._styles_cache import StylesCache
from textual.geometry import Region
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.visual import Visual, visualize

KEEP = 64  # geometries kept (a line of 1-2 cells each: a few KB)


class PaneScrollBar(ScrollBar):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._kept: OrderedDict[tuple[object, ...], list[Strip]] = OrderedDict()
        self.reused = 0  # frames drawn from kept lines (tests, benchmarks)
        self.made_ahead = 0  # geometries made ahead (make_ahead)

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

    def make_ahead(self, virtual_height: int) -> None:
        """The lines the bar will draw once the pane shows, from its top, an account of
        ``virtual_height`` lines: made now (while the collector reads the account before
        it) when not kept, with Textual's own rendering and styling, apart from the bar's
        caches; the frame after the outcome key then copies them (issue 8)."""
        width, height = self.size
        if not width or not height or not self.display:
            return
        before = (self.window_virtual_size, self.position)
        # what the pane's scroll update sets on show (nothing redrawn: set_reactive)
        self.set_reactive(ScrollBar.window_virtual_size, virtual_height)
        self.set_reactive(ScrollBar.position, 0)
        try:
            key = self._key()
            if key in self._kept:
                return
            style = self.visual_style
            strips = Visual.to_strips(self, visualize(self, self.render()), width, height, style)
            blank = Strip.blank(width, style.rich_style)
            base_background, background = self.background_colors
            app = self.app
            lines = StylesCache().render(
                self.styles,
                self.region.size,
                base_background,
                background,
                lambda y: strips[y] if y < len(strips) else blank,
                self.get_line_filters(),
                None,
                None,
                content_size=self.content_region.size,
                padding=self.styles.padding,
                crop=self.size.region,
                opacity=self.opacity,
                ansi_theme=app.ansi_theme,
                native_ansi=app.native_ansi_color,
            )
            self._keep(key, lines)
            self.made_ahead += 1
        finally:
            self.set_reactive(ScrollBar.window_virtual_size, before[0])
            self.set_reactive(ScrollBar.position, before[1])

    def _keep(self, key: tuple[object, ...], lines: list[Strip]) -> None:
        self._kept[key] = lines
        if len(self._kept) > KEEP:
            self._kept.popitem(last=False)

    def render_lines(self, crop: Region) -> list[Strip]:
        width, height = self.size
        if not width or not height:
            return super().render_lines(crop)
        key = self._key()
        lines = self._kept.get(key)
        if lines is None:
            lines = super().render_lines(self.size.region)
            self._keep(key, lines)
        else:
            self._kept.move_to_end(key)
            self.reused += 1
        lines = lines[crop.y : crop.bottom]
        if crop.column_span != (0, width):
            x1, x2 = crop.column_span
            lines = [strip.crop(x1, x2) for strip in lines]
        return lines
