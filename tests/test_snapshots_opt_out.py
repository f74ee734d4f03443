"""Snapshots of the e-mail opt-out (`o`, issue 10 item 4) at 80x24 and 160x48: the work
screen with a contact who opted out, the confirmation, and the compose view's refusal.

Update after an intended change with:
pytest tests/test_snapshots_opt_out.py --snapshot-update
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_compose import compose_app, compose_portfolio, compose_settings
from test_tui_opt_out import acme_ref, press_o
from tui_helpers import settle, wait_until

from dunning.clock import FixedClock
from dunning.db.connection import connect
from dunning.queue.collectors import get_collector
from dunning.queue.opt_out import screen_actor, set_email_opt_out
from dunning.tui.screens.compose import ComposeScreen

SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])


def opted_out(path: Path, clock: FixedClock) -> Path:
    """The compose portfolio; Acme's contact opted out of e-mail an hour ago (alice)."""
    compose_portfolio(path, clock)
    conn = connect(path)
    alice = get_collector(conn, "alice")
    assert alice is not None
    clock.advance(minutes=-60)
    set_email_opt_out(conn, clock, screen_actor(alice), acme_ref(path))
    clock.advance(minutes=60)
    conn.close()
    return path


@SIZES
def test_work_screen_opted_out(snap_compare, tmp_path: Path, clock: FixedClock, size):
    path = opted_out(tmp_path / "snap.db", clock)
    app = compose_app(path, clock, compose_settings(Path("/nonexistent")))
    assert snap_compare(app, terminal_size=size, run_before=settle)


@SIZES
def test_opt_out_dialog(snap_compare, tmp_path: Path, clock: FixedClock, size):
    path = tmp_path / "snap.db"
    compose_portfolio(path, clock)
    app = compose_app(path, clock, compose_settings(Path("/nonexistent")))
    assert snap_compare(app, terminal_size=size, run_before=press_o)


@SIZES
def test_compose_opted_out(snap_compare, tmp_path: Path, clock: FixedClock, size):
    path = opted_out(tmp_path / "snap.db", clock)
    app = compose_app(path, clock, compose_settings(Path("/nonexistent")))

    async def run_before(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("m")
        await wait_until(
            pilot,
            lambda: isinstance(pilot.app.screen, ComposeScreen) and pilot.app.screen.refusal,
        )

    assert snap_compare(app, terminal_size=size, run_before=run_before)
