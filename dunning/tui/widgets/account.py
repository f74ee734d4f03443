"""The account on screen: one Line-API widget (a ScrollView drawing pre-built Strips).

The pane was seven Static widgets; drawing them (measure, lay out, render each) was most of
the time between an outcome key and the next account drawn (issue 8). Here an account's
parts are turned into lines once, when it is shown (or when the pane's width or style
changes), and a frame only copies the visible ones: no widget is measured, arranged or
rendered. What each part shows is built by tui/widgets/account_text.py; a part is read
back by its name (``part_text("title")``), as the tests read the Statics by id before.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from datetime import datetime

from rich.cells import cell_len
from rich.text import Text
from textual._styles_cache import StylesCache
from textual.binding import Binding
from textual.content import Content
from textual.geometry import Region, Size
from textual.reactive import Reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.style import Style
from textual.visual import Visual, visualize

from dunning.i18n import N_
from dunning.owed import Owed
from dunning.queue.account_view import AccountView
from dunning.queue.collectors import Collector
from dunning.tui import fmt
from dunning.tui.keys import translate_bindings

# the helpers other modules and the tests import from here
from dunning.tui.widgets.account_text import (  # noqa: F401
    MAX_INVOICES,
    aging_lines,
    block_reason,
    call_text,
    fit_items,
    history_entry,
    history_text,
    invoices_text,
    owed_head,
    promises_text,
    title_text,
    why_parts,
    why_text,
    window_text,
)
from dunning.tui.widgets.pane_scrollbar import PaneScrollBar

# The parts, top to bottom, each followed by one blank line (as the Statics' margin was).
PARTS = ("title", "why", "call", "aging", "invoices", "promises", "history-inline")


class Page:
    """One account's parts, where their lines fall, and the Strips made so far: the pane
    draws one; the next account's can be made ahead (AccountPane.stage) and swapped in."""

    def __init__(self) -> None:
        self.texts: dict[str, Text] = {name: Text() for name in PARTS}
        self.owed: tuple[Text, Owed, str] | None = None
        self.why: tuple[list[str], str] | None = None
        self.history: Callable[[], Text] | None = None  # built when first placed
        # the parts placed, where each starts, the lines in all; their Strips once drawn
        self.names: list[str] = []
        self.starts: list[int] = []
        self.total = 0
        self.strips: dict[str, list[Strip]] = {}
        # what the lines were placed for: (text width, style, history inline shown)
        self.built_for: tuple[int, Style, bool] | None = None
        # the pane's first screen as a frame draws it (padding, background, filters), made
        # ahead with the page (AccountPane.stage), and what it was made for
        self.finished: tuple[tuple[object, ...], list[Strip]] | None = None

    def take_history(self) -> None:
        if self.history is not None:
            self.texts["history-inline"], self.history = self.history(), None

    def fill(self, view: AccountView, me: Collector, now: datetime) -> None:
        loc = me.locale
        self.texts["title"] = title_text(view, me)
        self.why = why_parts(view, loc)
        self.texts["call"] = call_text(view, me, now)
        self.owed = (owed_head(view, loc), view.owed, loc)
        self.texts["invoices"] = invoices_text(view, loc)
        self.texts["promises"] = promises_text(view, loc)
        self.texts["history-inline"] = Text()
        self.history = lambda: history_text(view.timeline, me, view.currency)
        self.built_for = None


class AccountPane(ScrollView, can_focus=True):
    """Why next, whom to call, what is owed, invoices, promises and disputes; on a narrow
    screen the history too (a wide one has a column for it: ``history_inline_shown``)."""

    BINDINGS = [
        Binding("j,down", "scroll_down", N_("Down"), show=False),
        Binding("k,up", "scroll_up", N_("Up"), show=False),
        Binding("g,home", "scroll_home", N_("Top"), show=False),
        Binding("G,end", "scroll_end", N_("Bottom"), show=False),
    ]

    # The pane's own size never follows its lines (it fills the body): a new account's
    # height asks for no layout of the screen; a scrollbar that comes or goes does
    # (show_vertical_scrollbar is a layout reactive, set by _scroll_update).
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False, repaint=False)
    auto_links: Reactive[bool] = Reactive(False)  # data holds no links (fmt.safe)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._page = Page()
        self.swaps = 0  # accounts shown from lines made ahead (tests, benchmarks)
        self.copied = 0  # frames that copied the first screen made ahead (Page.finished)
        # called once the next frame this pane is drawn in has been written (the screen
        # resumes garbage collection then: tui/quiet_gc.py)
        self.after_frame: list[Callable[[], object]] = []

    def on_mount(self) -> None:
        translate_bindings(self)

    @property
    def vertical_scrollbar(self) -> PaneScrollBar:
        """Textual's own (Widget.vertical_scrollbar), of a class that keeps its lines per
        geometry (tui/widgets/pane_scrollbar.py): an outcome changes the account's length,
        and the bar was drawn again every key (2-3 ms of the main thread's CPU a key)."""
        if self._vertical_scrollbar is not None:
            return self._vertical_scrollbar
        bar = PaneScrollBar(vertical=True, name="vertical", thickness=self.scrollbar_size_vertical)
        self._vertical_scrollbar = bar
        bar.display = False
        self.app._start_widget(self, bar)
        return bar

    # -- reading it back --------------------------------------------------------------
    def part(self, name: str) -> Text:
        """What the part ``name`` (one of PARTS) shows, styles kept, as last fitted."""
        if name == "history-inline":
            self._page.take_history()
        return self._page.texts[name]

    def part_text(self, name: str) -> str:
        return self.part(name).plain

    @property
    def history_inline_shown(self) -> bool:
        """The history is drawn in the pane (a narrow screen), not in its own column."""
        return not (self.is_attached and self.screen.has_class("-wide"))

    @property
    def lines_drawn(self) -> int:
        """The lines of the account, all parts (what scrolls), as last placed."""
        return self._page.total

    def drawn_text(self) -> list[str]:
        """Every line as it is drawn when scrolled to (a blank line after each part)."""
        out: list[str] = []
        for name in self._page.names:
            out.extend(strip.text.rstrip() for strip in self._part_strips(self._page, name))
            out.append("")
        return out

    # -- keys -------------------------------------------------------------------------
    # A line per key, at once: Textual's scroll_down waits for a refresh before it moves,
    # so "jjj" arriving in one read scrolled one line, not three.
    def action_scroll_down(self) -> None:
        self.scroll_to(y=self.scroll_target_y + 1, animate=False, immediate=True)

    def action_scroll_up(self) -> None:
        self.scroll_to(y=self.scroll_target_y - 1, animate=False, immediate=True)

    # -- drawing ----------------------------------------------------------------------
    def _text_width(self) -> int:
        """The cells a line may take: the pane minus padding and the scrollbar gutter
        (reserved by ``scrollbar-gutter: stable``, so it does not change with a scrollbar)."""
        return self.scrollable_content_region.width

    def _wanted(self) -> tuple[int, Style, bool]:
        return (self._text_width(), self.visual_style, self.history_inline_shown)

    def _place(self, page: Page, key: tuple[int, Style, bool]) -> None:
        """Where every part's lines fall (a part's height is its line count when no line is
        wider than the pane, as for most of an account), each part followed by a blank
        line; the Strips themselves are made when a part is first drawn (_part_strips): the
        history below the fold, or a long list of invoices, only when scrolled to."""
        width, _style, inline = key
        if page.owed is not None:
            head, owed, loc = page.owed
            aging = head.copy()
            aging.append_text(aging_lines(owed, loc, width))
            page.texts["aging"] = aging
        if page.why is not None:
            page.texts["why"] = why_text(*page.why, width)
        starts: list[int] = []
        names: list[str] = []
        top = 0
        for name in PARTS:
            if name == "history-inline":
                if not inline:
                    continue
                page.take_history()
            text = page.texts[name] = fmt.safe(page.texts[name])  # type: ignore[assignment]
            names.append(name)
            starts.append(top)
            top += self._height(text, width) + 1
        page.names, page.starts, page.total = names, starts, top
        page.strips = {}
        page.finished = None
        page.built_for = key

    @staticmethod
    def _height(text: Text, width: int) -> int:
        plain = text.plain
        if "\t" not in plain:
            lines = plain.split("\n")
            if all(cell_len(line) <= width for line in lines):
                return len(lines)
        return len(Content.from_rich_text(text).wrap(width)) if width > 0 else 1

    def _part_strips(self, page: Page, name: str) -> list[Strip]:
        strips = page.strips.get(name)
        if strips is None and page.built_for is not None:
            width, style, _inline = page.built_for
            visual = visualize(self, page.texts[name], markup=False)
            strips = page.strips[name] = Visual.to_strips(self, visual, width, None, style)
        return strips or []

    def _redraw(self) -> None:
        """New text in a part: the lines placed again, the scrollbar set, one repaint."""
        key = self._wanted()
        if key[0] <= 0:  # not laid out yet: the first render places them
            self._page.built_for = None
            self.refresh()
            return
        if self._page.built_for != key:
            self._place(self._page, key)
        self._size_lines()
        self.refresh()

    def _size_lines(self) -> None:
        page = self._page
        size = Size(page.built_for[0] if page.built_for else 0, page.total)
        if size != self.virtual_size:
            self.virtual_size = size
            self._scroll_update(size)

    def render_lines(self, crop: Region) -> list[Strip]:
        key = self._wanted()  # once a frame, not once a line
        if key != self._page.built_for and key[0] > 0:
            # the width, the focus's background or the breakpoint changed since: placed
            # again here (no reactive may change while a frame is drawn: sized after it)
            self._place(self._page, key)
            self.call_later(self._size_lines)
        if self.after_frame:  # in the frame's render: these run once it is written
            for call in self.after_frame:
                self.call_later(call)
            self.after_frame.clear()
        finished = self._page.finished
        if finished is not None and self.scroll_offset.y == 0 and finished[0] == self._finish_key():
            lines = finished[1][crop.y : crop.bottom]  # made ahead (stage): copied
            self.copied += 1
            if crop.column_span != (0, self.region.width):
                lines = [strip.crop(*crop.column_span) for strip in lines]
            return lines
        return super().render_lines(crop)

    def _finish_key(self) -> tuple[object, ...] | None:
        """What a frame's styling of the pane's lines reads (Textual's StylesCache, called
        by Widget.render_lines): lines made for the same are drawn as they are."""
        if self._border_title is not None or self._border_subtitle is not None:
            return None
        app = self.app
        return (
            self.region.size,
            self.content_region.size,
            self.styles.padding,
            self.background_colors,
            self.opacity,
            tuple(id(f) for f in self.get_line_filters()),
            id(app.ansi_theme),
            app.native_ansi_color,
            app.theme,
            self.visual_style,
            self.history_inline_shown,
        )

    def _finish(self, page: Page) -> None:
        """The first screen of ``page`` as a frame draws it at the top (no scroll), made
        with Textual's own styling (a StylesCache of its own), so that the frame after an
        outcome key copies the lines instead of styling them (issue 8)."""
        key = self._finish_key()
        if key is None or page.built_for is None:
            return
        size = self.region.size
        base_background, background = self.background_colors
        app = self.app
        lines = StylesCache().render(
            self.styles,
            size,
            base_background,
            background,
            lambda y: self._line(page, y),
            self.get_line_filters(),
            None,
            None,
            content_size=self.content_region.size,
            padding=self.styles.padding,
            crop=size.region,
            opacity=self.opacity,
            ansi_theme=app.ansi_theme,
            native_ansi=app.native_ansi_color,
        )
        console = app.console
        for line in lines:  # its terminal sequences too (kept on the Strip by Textual)
            line.render(console)
        page.finished = (key, lines)

    def render_line(self, y: int) -> Strip:
        return self._line(self._page, self.scroll_offset.y + y)

    def _line(self, page: Page, n: int) -> Strip:
        k = bisect_right(page.starts, n) - 1
        if k < 0:
            return Strip([], 0)
        strips = self._part_strips(page, page.names[k])
        row = n - page.starts[k]
        return strips[row] if row < len(strips) else Strip([], 0)

    def on_resize(self) -> None:
        # the lines are refitted to the new width (or none, on a change of height only)
        if self._page.built_for is not None and self._wanted() != self._page.built_for:
            self._redraw()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.refresh()  # the focus's background: render_lines places the lines again

    # -- what is shown ----------------------------------------------------------------
    def show_message(self, text: Text) -> None:
        """No account: only a message (the empty queue)."""
        self._page = Page()
        self._page.texts["title"] = text
        self._redraw()

    def stage(self, view: AccountView, me: Collector, now: datetime) -> Page:
        """The account ``view`` made ready to be shown (its text, where its lines fall, the
        Strips of the lines a first frame shows), without changing what is shown: made
        while the collector is still on the account before it (tui/screens/work.py)."""
        page = Page()
        page.fill(view, me, now)
        key = self._wanted()
        if key[0] > 0:
            self._place(page, key)
            height = self.scrollable_content_region.height
            for name, top in zip(page.names, page.starts, strict=True):
                if top >= height:
                    break
                self._part_strips(page, name)
            self._finish(page)
            if page.total > height and self.show_vertical_scrollbar:
                self.vertical_scrollbar.make_ahead(page.total)
        return page

    def show(
        self, view: AccountView, me: Collector, now: datetime, staged: Page | None = None
    ) -> None:
        """The account ``view``; its history is built only when drawn here (a wide screen
        has a column for it). ``staged``: its page made ahead by :meth:`stage` from a view
        equal to this one, used when made for the pane as it is now."""
        if staged is not None and staged.built_for == self._wanted():
            self._page = staged
            self.swaps += 1
        else:
            self._page = Page()
            self._page.fill(view, me, now)
        self.scroll_to(y=0, animate=False, immediate=True)
        self._redraw()

    def show_call(self, view: AccountView, me: Collector, now: datetime) -> None:
        """Whom to call, their clock, and whether and when they may be called: redrawn
        alone when the clock moves (the rest of the account does not change)."""
        text = call_text(view, me, now)
        old = self._page.texts["call"]
        if text.plain == old.plain and text.spans == old.spans:
            return
        self._page.texts["call"] = text
        self._page.built_for = None  # placed again: the call may take more lines
        self._page.finished = None
        self._redraw()
