"""Pilot: the account screen names the holiday that forbids the call and says when the
customer may be called again, in the collector's language."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from tui_helpers import make_app, part, search_results, settle, wait_until

from dunning.clock import FixedClock
from dunning.db.connection import connect
from dunning.db.schema import migrate
from dunning.queue.config import Settings

CANADA_DAY_NOON = datetime(2026, 7, 1, 16, 0, tzinfo=UTC)  # 12:00 in Toronto, a Wednesday


@pytest.fixture
def db(tmp_path: Path) -> Path:
    from conftest import Ledger

    path = tmp_path / "work.db"
    conn = connect(path)
    migrate(conn)
    led = Ledger(conn, FixedClock(CANADA_DAY_NOON), Settings())
    alice = led.collector("alice", locale="en_US")
    bruno = led.collector("bruno", languages="fr,en", locale="fr_CA")
    for who, name in ((alice, "Olivia Ontario"), (bruno, "Olivier Ontario")):
        led.customer(name, collector=who, country="CA", subdivision="ON", currency="CAD",
                     portfolio="consumer", phones=["+14165550123"])  # fmt: skip
    conn.close()
    return path


@pytest.mark.parametrize(
    ("user", "name", "expected"),
    [
        ("alice", "Olivia", "Canada Day: callable Thu 12:00"),  # 08:00 Toronto, 07:00 Kenora
        ("bruno", "Olivier", "Fête du Canada: appel permis jeu. 12 h 00"),
    ],
)
async def test_the_account_names_the_holiday_that_blocks_the_call(db, user, name, expected):
    app = make_app(db, FixedClock(CANADA_DAY_NOON), user)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        assert screen.view is None  # the holiday account is not dealt
        await pilot.press("slash", *name)
        await wait_until(pilot, lambda: search_results(pilot) > 0)
        await pilot.press("enter")
        screen = await settle(pilot)
        assert screen.view is not None and screen.view.holiday
        call = part(screen, "call")
        assert expected in call, call
