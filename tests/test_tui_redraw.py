"""The next account is drawn without a whole-screen layout when no widget changes height
(dunning/tui/widgets/shown.py), and with one when a widget does: the screen still fits
every line."""

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
        title = screen.query_one("#title", Shown)
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

        title.update(Text("x" * 300))  # one line that wraps: measured, not counted
        await pilot.pause(0.1)
        assert title.size.height == -(-300 // title.content_region.width)


async def test_outcomes_keep_every_line_of_the_next_account(db: Path, clock: FixedClock) -> None:
    """Accounts of different heights one after the other: each widget is as tall as its
    text (no line cut, no stale blank line)."""
    app = make_app(db, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        for _ in range(3):
            await pilot.press("n")
            await settle(pilot)
            await pilot.pause(0.1)
            if screen.view is None:
                break
            for wid in ("#title", "#why", "#call", "#aging", "#invoices"):
                widget = screen.query_one(wid, Shown)
                width = widget.content_region.width
                want = widget.visual.get_height(widget.styles, width)  # type: ignore[union-attr]
                assert widget.content_region.height == want, wid


async def test_the_same_text_again_draws_nothing_and_a_new_style_is_drawn(
    db: Path, clock: FixedClock
) -> None:
    """An update with what is already shown costs nothing; the same characters in another
    style (Rich's Text == ignores the base style) are drawn; so is a Text changed in place."""
    app = make_app(db, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        await pilot.pause(0.1)
        title = screen.query_one("#title", Shown)
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
