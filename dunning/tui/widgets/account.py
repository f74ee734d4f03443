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

# The parts, top to bottom, each followed by one blank line (as the Statics' margin was).
PARTS = ("title", "why", "call", "aging", "invoices", "promises", "history-inline")


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
        self._texts: dict[str, Text] = {name: Text() for name in PARTS}
        self._owed: tuple[Text, Owed, str] | None = None
        self._why: tuple[list[str], str] | None = None
        self._history: Callable[[], Text] | None = None  # built when first drawn
        # the parts drawn, where each starts, the lines in all; their Strips once drawn
        self._names: list[str] = []
        self._starts: list[int] = []
        self._total = 0
        self._strips: dict[str, list[Strip]] = {}
        # what the lines were built for: (text width, style, history inline shown)
        self._built_for: tuple[int, Style, bool] | None = None

    def on_mount(self) -> None:
        translate_bindings(self)

    # -- reading it back --------------------------------------------------------------
    def part(self, name: str) -> Text:
        """What the part ``name`` (one of PARTS) shows, styles kept, as last fitted."""
        if name == "history-inline":
            self._take_history()
        return self._texts[name]

    def _take_history(self) -> None:
        if self._history is not None:
            self._texts["history-inline"], self._history = self._history(), None

    def part_text(self, name: str) -> str:
        return self.part(name).plain

    @property
    def history_inline_shown(self) -> bool:
        """The history is drawn in the pane (a narrow screen), not in its own column."""
        return not (self.is_attached and self.screen.has_class("-wide"))

    @property
    def lines_drawn(self) -> int:
        """The lines of the account, all parts (what scrolls), as last placed."""
        return self._total

    def drawn_text(self) -> list[str]:
        """Every line as it is drawn when scrolled to (a blank line after each part)."""
        out: list[str] = []
        for name in self._names:
            out.extend(strip.text.rstrip() for strip in self._part_strips(name))
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

    def _make_lines(self, key: tuple[int, Style, bool]) -> None:
        """Where every part's lines fall (a part's height is its line count when no line is
        wider than the pane, as for most of an account), each part followed by a blank
        line; the Strips themselves are made when a part is first drawn (_part_strips): the
        history below the fold, or the long invoices list, only when scrolled to."""
        width, style, inline = key
        if self._owed is not None:
            head, owed, loc = self._owed
            aging = head.copy()
            aging.append_text(aging_lines(owed, loc, width))
            self._texts["aging"] = aging
        if self._why is not None:
            self._texts["why"] = why_text(*self._why, width)
        starts: list[int] = []
        names: list[str] = []
        top = 0
        for name in PARTS:
            if name == "history-inline":
                if not inline:
                    continue
                self._take_history()
            text = self._texts[name] = fmt.safe(self._texts[name])  # type: ignore[assignment]
            names.append(name)
            starts.append(top)
            top += self._height(text, width) + 1
        self._names, self._starts, self._total = names, starts, top
        self._strips = {}
        self._built_for = key

    def _height(self, text: Text, width: int) -> int:
        plain = text.plain
        if "\t" not in plain:
            lines = plain.split("\n")
            if all(cell_len(line) <= width for line in lines):
                return len(lines)
        return len(self._part_visual(text).wrap(width)) if width > 0 else 1

    def _part_visual(self, text: Text) -> Content:
        return Content.from_rich_text(text)

    def _part_strips(self, name: str) -> list[Strip]:
        strips = self._strips.get(name)
        if strips is None and self._built_for is not None:
            width, style, _inline = self._built_for
            visual = visualize(self, self._texts[name], markup=False)
            strips = self._strips[name] = Visual.to_strips(self, visual, width, None, style)
        return strips or []

    def _redraw(self) -> None:
        """New text in a part: the lines placed again, the scrollbar set, one repaint."""
        key = self._wanted()
        if key[0] <= 0:  # not laid out yet: the first render places them
            self._built_for = None
            self.refresh()
            return
        self._make_lines(key)
        self._size_lines()
        self.refresh()

    def _size_lines(self) -> None:
        size = Size(self._built_for[0] if self._built_for else 0, self._total)
        if size != self.virtual_size:
            self.virtual_size = size
            self._scroll_update(size)

    def render_lines(self, crop: Region) -> list[Strip]:
        key = self._wanted()  # once a frame, not once a line
        if key != self._built_for and key[0] > 0:
            # the width, the focus's background or the breakpoint changed since: placed
            # again here (no reactive may change while a frame is drawn: sized after it)
            self._make_lines(key)
            self.call_later(self._size_lines)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        n = self.scroll_offset.y + y
        k = bisect_right(self._starts, n) - 1
        if k < 0:
            return Strip([], 0)
        strips = self._part_strips(self._names[k])
        row = n - self._starts[k]
        return strips[row] if row < len(strips) else Strip([], 0)

    def on_resize(self) -> None:
        # the lines are refitted to the new width (or none, on a change of height only)
        if self._built_for is not None and self._wanted() != self._built_for:
            self._redraw()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.refresh()  # the focus's background: render_line builds the lines again

    # -- what is shown ----------------------------------------------------------------
    def show_message(self, text: Text) -> None:
        """No account: only a message (the empty queue)."""
        self._owed = self._why = self._history = None
        self._texts = {name: Text() for name in PARTS}
        self._texts["title"] = text
        self._redraw()

    def show(self, view: AccountView, me: Collector, now: datetime) -> None:
        """The account ``view``; its history is built only when drawn here (a wide screen
        has a column for it)."""
        loc = me.locale
        self._texts["title"] = title_text(view, me)
        self._why = why_parts(view, loc)
        self._texts["call"] = call_text(view, me, now)
        self._owed = (owed_head(view, loc), view.owed, loc)
        self._texts["invoices"] = invoices_text(view, loc)
        self._texts["promises"] = promises_text(view, loc)
        self._texts["history-inline"] = Text()
        self._history = lambda: history_text(view.timeline, me, view.currency)
        self.scroll_to(y=0, animate=False, immediate=True)
        self._redraw()

    def show_call(self, view: AccountView, me: Collector, now: datetime) -> None:
        """Whom to call, their clock, and whether and when they may be called: redrawn
        alone when the clock moves (the rest of the account does not change)."""
        text = call_text(view, me, now)
        if text.plain == self._texts["call"].plain and text.spans == self._texts["call"].spans:
            return
        self._texts["call"] = text
        self._redraw()
