"""A Shown widget's update asks for no whole-screen layout when its height stays
(dunning/tui/widgets/shown.py), and for one when it changes; the account pane (one
Line-API widget, dunning/tui/widgets/account.py) draws every line of every part."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text
from tui_helpers import build_portfolio, make_app, settle

from dunning.clock import FixedClock
from dunning.tui.widgets.shown import Shown


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "redraw.db"
    build_portfolio(path, clock)
    return path


async def test_same_height_text_needs_no_layout_and_more_lines_get_room(
    db: Path, clock: FixedClock
) -> None:
    app = make_app(db, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        await pilot.pause(0.1)
        title = screen.query_one("#status", Shown)  # height: auto, 3 to 8 lines
        title.update(Text("one\ntwo\nthree"))
        await pilot.pause(0.1)
        lines = title.size.height
        assert lines >= 2
        assert not screen._layout_required

        title.update(Text("\n".join(f"line {n}" for n in range(lines))))  # as many lines
        assert not screen._layout_required and not title._layout_required
        await pilot.pause(0.1)
        assert title.size.height == lines
        assert "line 0" in str(title.render())

        title.update(Text("\n".join(f"line {n}" for n in range(lines + 3))))  # more lines
        assert title._layout_required  # room is made for them
        await pilot.pause(0.1)
        assert title.size.height == lines + 3

        title.update(Text("x" * 100))  # one line that wraps: measured, not counted
        await pilot.pause(0.1)
        assert title.size.height == -(-100 // title.content_region.width)


async def test_outcomes_keep_every_line_of_the_next_account(db: Path, clock: FixedClock) -> None:
    """Accounts of different heights one after the other: the pane holds every line of
    every part, a blank line after each (no line cut, no stale line), and the next account
    asks for no layout of the screen."""
    from textual.visual import visualize

    from dunning.tui.widgets.account import PARTS, AccountPane

    app = make_app(db, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        pane = screen.query_one("#account", AccountPane)
        heights = set()
        for _ in range(4):
            await pilot.pause(0.1)
            if screen.view is None:
                break
            width = pane.scrollable_content_region.width
            want = 0
            for name in PARTS:
                visual = visualize(pane, pane.part(name), markup=False)
                want += visual.get_height(pane.styles, width) + 1
            assert pane.lines_drawn == want
            assert pane.virtual_size.height == want
            drawn = pane.drawn_text()
            for name in ("title", "call", "invoices"):
                for line in pane.part_text(name).split("\n"):
                    assert line.rstrip() in drawn
            heights.add(want)
            await pilot.press("n")
            await settle(pilot)
        assert len(heights) > 1  # accounts of different heights were drawn


async def test_the_same_text_again_draws_nothing_and_a_new_style_is_drawn(
    db: Path, clock: FixedClock
) -> None:
    """An update with what is already shown costs nothing; the same characters in another
    style (Rich's Text == ignores the base style) are drawn; so is a Text changed in place."""
    app = make_app(db, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        await pilot.pause(0.1)
        title = screen.query_one("#status", Shown)
        title.update(Text("Same", style="bold"))
        await pilot.pause(0.1)
        visual = title.visual
        title.update(Text("Same", style="bold"))
        assert title.visual is visual and not title._repaint_required

        title.update(Text("Same", style="red"))
        assert title.visual is not visual
        await pilot.pause(0.1)
        assert title.render_line(0).text.startswith("Same")
        assert any(s.style and s.style.color for s in title.render_line(0))

        changed = Text("Before")
        title.update(changed)
        changed.plain = "After!"  # the same object, changed: drawn again
        title.update(changed)
        await pilot.pause(0.1)
        assert "After!" in str(title.render())


async def test_the_history_column_is_filled_when_the_screen_is_made_wide(
    db: Path, clock: FixedClock
) -> None:
    """On a narrow screen the pane shows the history and the hidden column is not filled
    at each account; made wide, the column shows the account's history, and narrow again
    the pane does."""
    from textual.widgets import Static
    from tui_helpers import part

    app = make_app(db, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        await pilot.press("n")
        screen = await settle(pilot)
        column = screen.query_one("#history-wide", Static)
        assert "History" in part(screen, "history-inline")
        assert str(column.render()) == ""
        name = screen.view.name
        await pilot.resize_terminal(160, 48)
        await pilot.pause(0.3)
        assert "History" in str(column.render())
        assert screen.view.name == name
        await pilot.resize_terminal(100, 30)
        await pilot.pause(0.3)
        assert "History" in part(screen, "history-inline")
        assert any("History" in line for line in screen.query_one("#account").drawn_text())


async def test_the_pane_scrollbar_reuses_its_lines_only_for_the_same_geometry(
    db: Path, clock: FixedClock
) -> None:
    """The account pane's scrollbar (dunning/tui/widgets/pane_scrollbar.py) keeps the lines
    made for a geometry: the same geometry again draws the same lines without making them;
    a scrolled pane moves the thumb (new lines), and they are what Textual draws."""
    from textual.geometry import Region
    from textual.scrollbar import ScrollBar

    from dunning.tui.widgets.account import AccountPane
    from dunning.tui.widgets.pane_scrollbar import PaneScrollBar

    app = make_app(db, clock)
    async with app.run_test(size=(100, 12)) as pilot:  # short: the account scrolls
        screen = await settle(pilot)
        pane = screen.query_one("#account", AccountPane)
        bar = pane.vertical_scrollbar
        assert isinstance(bar, PaneScrollBar) and bar.display
        whole = Region(0, 0, bar.size.width, bar.size.height)

        def textual_lines() -> list[list[object]]:
            bar._styles_cache.clear()
            return [list(s) for s in ScrollBar.render_lines(bar, whole)]

        top = [list(s) for s in bar.render_lines(whole)]
        reused = bar.reused
        assert [list(s) for s in bar.render_lines(whole)] == top == textual_lines()
        assert bar.reused == reused + 1
        await pilot.press("j", "j", "j", "j")
        await pilot.pause()
        assert pane.scroll_offset.y == 4
        moved = [list(s) for s in bar.render_lines(whole)]
        assert moved != top and moved == textual_lines()
        await pilot.press("g")
        await pilot.pause()
        assert [list(s) for s in bar.render_lines(whole)] == top
