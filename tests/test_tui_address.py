"""The account's postal address on the account pane (m039): one dim line under the title,
in the order the post of the customer's country reads it; nothing when the ledger has
none. A collector confirms it on the phone ("is your address still ...?")."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_compose import compose_app, compose_portfolio, compose_settings
from tui_helpers import settle, wait_until

from dunning.clock import FixedClock
from dunning.db.connection import connect, write_tx
from dunning.tui.widgets.account import AccountPane


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "address.db"
    compose_portfolio(path, clock)  # Acme (alice's first account) is in Quebec
    return path


def _title(pilot) -> str:  # noqa: ANN001
    return pilot.app.screen.query_one("#account", AccountPane).part_text("title")


async def test_the_address_is_under_the_title(tmp_path: Path, db: Path, clock: FixedClock):
    conn = connect(db)
    with write_tx(conn):
        conn.execute(
            "UPDATE customers SET address_line1 = '1234 rue Sainte-Catherine O', "
            "address_line2 = 'Bureau 500', city = 'Montréal', postal_code = 'H3B 1A7' "
            "WHERE name = 'Acme Anvils Inc.'"
        )
    conn.close()
    app = compose_app(db, clock, compose_settings(tmp_path))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await wait_until(pilot, lambda: "Acme" in _title(pilot))
        lines = _title(pilot).splitlines()
        # Canada Post: the city, the province, two spaces, the postal code
        assert lines[-1] == "1234 rue Sainte-Catherine O, Bureau 500, Montréal QC  H3B 1A7"


async def test_no_address_no_line(tmp_path: Path, db: Path, clock: FixedClock):
    app = compose_app(db, clock, compose_settings(tmp_path))
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await wait_until(pilot, lambda: "Acme" in _title(pilot))
        assert len(_title(pilot).splitlines()) == 2  # the name, then region · portfolio ...
