"""The aging buckets fit the account pane: aligned rows when wide, wrapped items when not."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.cells import cell_len

from dunning.clock import FixedClock
from dunning.owed import Owed
from dunning.tui.widgets.account import aging_lines

# a credit note is never in a bucket: it is in credits, after the buckets
AGING = Owed("USD", (0, 0, 300_000, 0, 0, 2_500_000), credits=-20_000)


def test_wide_pane_gets_two_aligned_rows() -> None:
    lines = aging_lines(AGING, "en_US", 70).plain.strip("\n").split("\n")
    assert len(lines) == 2
    heads = ["current", "1-30", "31-60", "61-90", "91-120", "120+", "credits"]
    assert lines[0].split() == heads
    assert lines[1].split() == ["·", "·", "$3,000.00", "·", "·", "$25,000.00", "-$200.00"]
    assert len(lines[0]) == len(lines[1]) <= 70  # right-aligned


def test_narrow_pane_lists_only_owed_buckets_and_never_splits_one() -> None:
    text = aging_lines(AGING, "en_US", 40).plain.strip("\n")
    lines = text.split("\n")
    assert all(cell_len(line) <= 40 for line in lines)
    assert "current" not in text and "61-90" not in text and "1-30" not in text
    assert "credits -$200.00" in text and "31-60 $3,000.00" in text and "120+ $25,000.00" in text


def test_reasons_break_between_items_never_inside_a_french_amount() -> None:
    from dunning.tui.widgets.account import fit_items

    items = ["rappel à faire (+300)", "doit 2\u00a0624,44 $ (+32.8)", "38 jours sans contact (+25)"]
    text = fit_items(items, 60, first=len("Priorité : "))  # 58 cells, then 27 more
    assert text.split("\n") == [
        "rappel à faire (+300) · doit 2\u00a0624,44 $ (+32.8)",
        "38 jours sans contact (+25)",
    ]
    assert fit_items(items, 0) == " · ".join(items)  # no width known yet: one line


@pytest.mark.parametrize("size", [(80, 24), (160, 48), (100, 30)])
async def test_lines_fitted_to_the_width_drawn_and_as_tall_as_they_are(
    tmp_path: Path, clock: FixedClock, size: tuple[int, int]
) -> None:
    """The pane is laid out once narrow, then wide (the history column appears): the
    reasons and buckets are refitted, and every fitted line is drawn as it is (the last
    reason was cut at 160x48 about one run in two)."""
    from tui_helpers import build_portfolio, make_app, settle

    from dunning.tui.widgets.account import AccountPane

    path = tmp_path / "fit.db"
    build_portfolio(path, clock)
    app = make_app(path, clock)
    async with app.run_test(size=size) as pilot:
        screen = await settle(pilot)
        pane = screen.query_one("#account", AccountPane)
        width = pane.scrollable_content_region.width
        drawn = pane.drawn_text()
        for name in ("why", "aging"):
            lines = pane.part_text(name).split("\n")
            fitted = lines[1:] if name == "aging" else lines  # the owed line wraps as text
            assert all(cell_len(line) <= width for line in fitted), (name, lines)
            if all(cell_len(line) <= width for line in lines):
                start = drawn.index(lines[0].rstrip())
                assert drawn[start : start + len(lines)] == [x.rstrip() for x in lines]
        assert "risk 40 (+8)" in pane.part_text("why")
