"""The lead's rebalance dialog (`M`) on screen: keys pressed, the preview asserted on the
screen, Enter again moves it (in a worker), then the database asserted; refused and hidden
for a collector; snapshots of the preview at 80x24 and 160x48."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input
from tui_helpers import build_portfolio, db_rows, make_app, settle, wait_until

from dunning.clock import FixedClock
from dunning.db.connection import connect

SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    """The Pilot portfolio (alice: 4 accounts, bruno: 1), Dynamo in Spanish: nobody but
    the lead speaks it."""
    path = tmp_path / "rebalance.db"
    build_portfolio(path, clock)
    conn = connect(path)
    with conn:
        conn.execute("UPDATE customers SET language = 'es' WHERE name LIKE 'Dynamo%'")
    conn.close()
    return path


def text(pilot, selector: str) -> str:  # noqa: ANN001
    found = pilot.app.screen.query(selector)
    return str(found.first().render()) if found else ""


async def open_preview(pilot, source: str, to: str = "", until: str = "") -> None:  # noqa: ANN001
    await settle(pilot)
    await pilot.press("M")
    await wait_until(pilot, lambda: bool(pilot.app.screen.query("#f-from")))
    screen = pilot.app.screen
    screen.query_one("#f-from", Input).value = source
    screen.query_one("#f-to", Input).value = to
    screen.query_one("#f-until", Input).value = until
    screen.query_one("#f-reason", Input).value = "alice is off sick"
    await pilot.press("enter")
    await wait_until(pilot, lambda: "collector" in text(pilot, "#rebalance-preview"))


def owners(db: Path) -> dict[str, int]:
    return {
        r[0]: r[1]
        for r in db_rows(
            db,
            "SELECT k.username, COUNT(*) FROM queue q JOIN collectors k ON k.id = q.collector_id "
            "GROUP BY 1",
        )
    }


async def test_a_lead_previews_then_lends_alices_book(db, clock):  # noqa: ANN001
    app = make_app(db, clock, "lena")
    async with app.run_test(size=(160, 48)) as pilot:
        await open_preview(pilot, "alice", to="bruno", until="tomorrow")
        preview = text(pilot, "#rebalance-preview")
        assert "bruno" in preview and "3" in preview
        assert "1 account(s) in es stay: no target speaks it (MX$40,000.00)" in preview
        assert "Enter moves 3 account(s)" in text(pilot, "#dialog-hint")
        assert owners(db) == {"alice": 4, "bruno": 1}  # the preview moves nothing
        await pilot.press("enter")
        await wait_until(pilot, lambda: "3 account(s) moved" in text(pilot, "#status"))
    assert owners(db) == {"alice": 1, "bruno": 4}
    loans = db_rows(db, "SELECT COUNT(*), MIN(until), MIN(reason) FROM loans")
    assert tuple(loans[0]) == (3, "2026-11-24", "alice is off sick")
    moves = db_rows(
        db,
        "SELECT COUNT(*) FROM assignments a JOIN collectors k ON k.id = a.assigned_by "
        "WHERE k.username = 'lena' AND a.reason = 'alice is off sick'",
    )
    assert moves[0][0] == 3


async def test_a_changed_field_asks_for_a_new_preview_and_bad_input_is_named(db, clock):  # noqa: ANN001
    app = make_app(db, clock, "lena")
    async with app.run_test(size=(160, 48)) as pilot:
        await open_preview(pilot, "alice", to="bruno")
        pilot.app.screen.query_one("#f-until", Input).value = "2026-01-01"
        await pilot.press("enter")  # not a move: the fields changed since the preview
        await wait_until(pilot, lambda: "that day is over" in text(pilot, "#dialog-error"))
        assert "--until 2026-01-01: that day is over (today is 2026-11-23)" in text(
            pilot, "#dialog-error"
        )
        await pilot.press("escape")
        await settle(pilot)
    assert owners(db) == {"alice": 4, "bruno": 1}


async def test_a_collector_has_no_rebalance(db, clock):  # noqa: ANN001
    app = make_app(db, clock, "alice")
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await settle(pilot)
        assert screen.check_action("rebalance", ()) is False
        await pilot.press("M")
        await pilot.pause(0.1)
        assert not pilot.app.screen.query("#f-from")


def previewed(source: str, to: str):  # noqa: ANN201
    async def run_before(pilot) -> None:  # noqa: ANN001
        await open_preview(pilot, source, to=to)

    return run_before


@SIZES
def test_rebalance_preview_snapshot(snap_compare, db, clock, size):  # noqa: ANN001
    app = make_app(db, clock, "lena")
    assert snap_compare(app, terminal_size=size, run_before=previewed("alice", "bruno"))
