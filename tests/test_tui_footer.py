"""The work screen's footer composes once for binding changes that come together
(tui/widgets/footer.py): Textual's recomposed it once per change."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widget import Widget
from tui_helpers import build_portfolio, make_app, settle

from dunning.clock import FixedClock


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "footer.db"
    build_portfolio(path, clock)
    return path


def _footer_keys(screen: Widget) -> list[str]:
    from textual.widgets._footer import FooterKey

    return [key.description for key in screen.query(FooterKey)]


async def test_binding_changes_together_recompose_the_footer_once(
    db: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.widgets import Footer

    runs: list[str] = []
    real = Widget.recompose

    async def counted(self: Widget) -> None:
        if isinstance(self, Footer):
            runs.append(self.id or "footer")
        await real(self)

    monkeypatch.setattr(Widget, "recompose", counted)
    app = make_app(db, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        await pilot.pause(0.2)
        keys = _footer_keys(screen)
        assert keys  # the outcome keys are shown
        before = len(runs)
        for _ in range(3):  # e.g. focus, the screen stack and an account, in one turn
            screen.refresh_bindings()
        await pilot.pause(0.2)
        assert len(runs) == before + 1
        assert _footer_keys(screen) == keys
        screen.refresh_bindings()  # a later change recomposes again
        await pilot.pause(0.2)
        assert len(runs) == before + 2


async def test_the_footer_follows_the_account_s_keys(db: Path, clock: FixedClock) -> None:
    """Coalesced, the footer still shows the keys of the last change: none of the
    outcome keys while nothing is on screen, all of them with an account."""
    app = make_app(db, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        await pilot.pause(0.2)
        with_account = _footer_keys(screen)
        view, screen.view = screen.view, None
        screen.refresh_bindings()
        screen.refresh_bindings()
        await pilot.pause(0.2)
        without = _footer_keys(screen)
        assert len(without) < len(with_account)
        screen.view = view
        screen.refresh_bindings()
        await pilot.pause(0.2)
        assert _footer_keys(screen) == with_account
