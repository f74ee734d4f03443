"""The frame after an outcome key copies lines made ahead (issue 8): while the collector
reads an account, the next one's first screen as a frame draws it (padding, background,
filters: Page.finished), its scrollbar, and the status line and top bar the outcome used
last will show (Shown.prepare, tui/screens/work_topbar.py). What is drawn is what Textual
draws when it makes them itself; anything else (another outcome, another text, another
size) is drawn as always."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text
from textual.geometry import Region
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar
from textual.widget import Widget
from tui_helpers import build_portfolio, db_rows, make_app, part, settle, wait_until

from dunning.clock import FixedClock
from dunning.tui.widgets.account import AccountPane
from dunning.tui.widgets.shown import Shown


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "ahead.db"
    build_portfolio(path, clock)
    return path


def segments(strips: list) -> list[list[object]]:  # noqa: ANN001
    return [list(strip) for strip in strips]


def textual_lines(widget: Widget) -> list[list[object]]:
    """The widget's lines as Textual renders them, made now (nothing made ahead): a
    Shown's content lines, the others' lines as the frame takes them."""
    whole = Region(0, 0, widget.region.width, widget.region.height)
    widget._styles_cache.clear()
    if isinstance(widget, AccountPane):
        widget._page.finished = None
        return segments(ScrollView.render_lines(widget, whole))
    if isinstance(widget, ScrollBar):
        return segments(ScrollBar.render_lines(widget, whole))
    assert isinstance(widget, Shown)
    Widget._render_content(widget)
    return segments(widget._render_cache.lines)


async def test_the_next_account_is_drawn_from_lines_made_ahead_as_textual_draws_it(
    db: Path, clock: FixedClock
) -> None:
    app = make_app(db, clock)
    async with app.run_test(size=(100, 12)) as pilot:  # short: the accounts scroll
        screen = await settle(pilot)
        pane = screen.query_one("#account", AccountPane)
        status = screen.query_one("#status", Shown)
        topbar = screen.query_one("#topbar", Shown)
        bar = pane.vertical_scrollbar
        await wait_until(pilot, lambda: screen._staged is not None)
        await pilot.press("n")  # the first outcome: nothing known of it yet
        screen = await settle(pilot)
        assert "Bolt Brothers" in part(screen, "title")
        await wait_until(pilot, lambda: screen._staged is not None)
        staged = screen._staged
        assert staged is not None and staged[1].finished is not None
        assert status._prepared is not None and topbar._prepared is not None
        assert bar.made_ahead >= 1

        copied = (pane.copied, status.copied, topbar.copied, bar.reused)
        await pilot.press("n")  # the same outcome on the account made ahead
        screen = await settle(pilot)
        assert "Cogs Co" in part(screen, "title")
        assert "Saved: No answer on C00002" in str(status.render())
        assert "C00003" in str(topbar.render())
        assert pane.copied > copied[0] and status.copied > copied[1]
        assert topbar.copied > copied[2] and bar.reused > copied[3]

        whole = Region(0, 0, pane.region.width, pane.region.height)
        drawn = segments(pane.render_lines(whole))
        assert drawn == textual_lines(pane)
        for widget in (status, topbar):
            made = segments(widget._render_cache.lines)
            assert made == textual_lines(widget)
        bar_whole = Region(0, 0, bar.size.width, bar.size.height)
        assert segments(bar.render_lines(bar_whole)) == textual_lines(bar)
        rows = db_rows(db, "SELECT outcome FROM activities WHERE outcome = 'no_answer'")
        assert len(rows) == 2


async def test_lines_made_for_another_text_or_size_are_not_drawn(
    db: Path, clock: FixedClock
) -> None:
    app = make_app(db, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        status = screen.query_one("#status", Shown)
        status.prepare(Text("Saved: one thing", style="green"))
        status.update(Text("Saved: another", style="green"))
        await pilot.pause(0.1)
        assert "another" in str(status.render()) and status.copied == 0
        assert any("another" in strip.text for strip in status._render_cache.lines)

        status.prepare(Text("Saved: ready", style="green"))
        status.update(Text("Saved: ready", style="green"))
        await pilot.pause(0.1)
        assert status.copied == 1
        assert any("Saved: ready" in strip.text for strip in status._render_cache.lines)

        status.prepare(Text("a\nb\nc\nd\ne\nf"))  # made at 3 lines; shown at 6
        status.update(Text("a\nb\nc\nd\ne\nf"))
        await pilot.pause(0.1)
        assert status.size.height == 6 and status.copied == 1
        assert [strip.text.strip() for strip in status._render_cache.lines] == list("abcdef")


async def test_a_wide_screen_makes_the_history_column_ahead_at_its_new_height(
    db: Path, clock: FixedClock
) -> None:
    from dunning.tui.widgets.account import history_text

    app = make_app(db, clock)
    async with app.run_test(size=(140, 30)) as pilot:  # wide: the history has a column
        screen = await settle(pilot)
        pane = screen.query_one("#account", AccountPane)
        assert not pane.history_inline_shown
        wide = screen.query_one("#history-wide", Shown)
        await wait_until(pilot, lambda: screen._staged is not None)
        nxt = screen._staged[0]
        me = screen.session.collector
        made = history_text(nxt.timeline, me, nxt.currency, limit=40)
        assert wide._prepared is not None and wide._prepared[0].plain == made.plain

        # a history of another height (height: auto): made at the height it will get
        longer = Text("\n".join(f"2026-0{n} call" for n in range(1, 8)))
        wide.prepare(longer)
        wide.update(longer)
        await pilot.pause(0.1)
        assert wide.size.height == 7 and wide.copied == 1
        assert segments(wide._render_cache.lines) == textual_lines(wide)
