"""Helpers for Pilot tests: a small portfolio on a real file and a running app."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from dunning.clock import FixedClock
from dunning.db.connection import connect
from dunning.queue.collectors import get_collector
from dunning.queue.config import Settings
from dunning.queue.session import WorkSession
from dunning.tui.app import DunningApp
from dunning.tui.screens.work import WorkScreen


def build_portfolio(path: Path, clock: FixedClock) -> None:
    """Four accounts for alice, in a known priority order: Acme, Bolt, Cogs, Dynamo.

    Built once per instant of ``clock`` and process, then copied (conftest.cached_db)."""
    from conftest import cached_db

    cached_db(path, ("portfolio", clock.now()), lambda p: _build_portfolio(p, clock))


def _build_portfolio(path: Path, clock: FixedClock) -> None:
    from conftest import Ledger, migrated_db

    migrated_db(path)
    conn = connect(path)
    led = Ledger(conn, clock, Settings())
    alice = led.collector("alice", languages="en,fr", locale="en_US")
    bruno = led.collector("bruno", languages="fr,en", locale="fr_CA")
    led.collector("lena", role="lead", languages="en,fr,es", locale="en_US")
    led.customer(
        "Acme Anvils Inc.",
        collector=alice,
        invoices=[(2_500_000, "2026-05-01"), (300_000, "2026-10-01"), (-20_000, "2026-11-01")],
        phones=["+12125550100", "+12125550111"],
        risk=40,
    )
    led.customer(
        "Bolt Brothers",
        collector=alice,
        country="CA",
        subdivision="QC",
        currency="CAD",
        invoices=[(800_000, "2026-07-01")],
        phones=["+15145550123"],
    )
    led.customer(
        "Cogs Co", collector=alice, invoices=[(150_000, "2026-09-15")], phones=["+13125550199"]
    )
    led.customer(
        "Dynamo Distribución",
        collector=alice,
        country="MX",
        subdivision=None,
        currency="MXN",
        invoices=[(4_000_000, "2026-10-20")],
        phones=["+525512345678"],
    )
    led.customer(
        "Épicerie Gagnon",
        collector=bruno,
        country="CA",
        subdivision="QC",
        currency="CAD",
        invoices=[(1_234_550, "2026-08-15"), (99_900, "2026-11-10")],
        phones=["+14185550142"],
    )
    conn.close()


def make_app(path: Path, clock: FixedClock, user: str = "alice") -> DunningApp:
    conn = connect(path)
    me = get_collector(conn, user)
    conn.close()
    assert me is not None
    return DunningApp(WorkSession(path, me, Settings(), clock))


async def settle(pilot: Pilot[None], timeout: float = 15.0) -> WorkScreen:
    """Wait until the work screen has finished its database work and redrawn."""
    app = pilot.app
    waited = 0.0
    while waited < timeout:
        await pilot.pause(0.02)
        waited += 0.02
        screen = app.screen
        db_busy = any(w.group == "db" and not w.is_finished for w in app.workers)
        if isinstance(screen, WorkScreen) and not screen.busy and not db_busy:
            await pilot.pause(0.02)
            return screen
    raise AssertionError(f"the work screen did not settle (screen: {app.screen})")


def db_rows(path: Path, sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
    conn = connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


async def wait_until(pilot: Pilot[None], check, timeout: float = 15.0) -> None:  # noqa: ANN001
    waited = 0.0
    while waited < timeout:
        await pilot.pause(0.02)
        waited += 0.02
        if check():
            await pilot.pause(0.05)
            return
    raise AssertionError("condition not met in time")


def search_results(pilot: Pilot[None]) -> int:
    """Customers listed on the search screen. Not its "no match" line: that one may be
    what a prefix of the text typed found (shown while the last keys are still being
    searched), and Enter on it opens nothing (a flake on a loaded machine)."""
    from textual.widgets import OptionList

    try:
        found = pilot.app.screen.query_one("#search-results", OptionList)
    except Exception:  # noqa: BLE001 - not on the search screen yet
        return 0
    return sum(1 for i in range(found.option_count) if not found.get_option_at_index(i).disabled)


async def burst(pilot: Pilot[None], *keys: str) -> None:
    """Keys arriving in one read, as from a fast typist or one SSH packet.

    ``pilot.press`` waits for the app to go idle after every key, which hides the races a
    real terminal has; this hands them all to the app before it handles the first.
    """
    from textual import events
    from textual.keys import _character_to_key

    app = pilot.app
    for key in keys:
        name = _character_to_key(key) if len(key) == 1 and not key.isalnum() else key
        char = key if len(key) == 1 else {"space": " "}.get(key)
        event = events.Key(name, char)
        event.set_sender(app)
        app.post_message(event)
    await pilot.pause(0.05)


ACCOUNT_PARTS = ("title", "why", "call", "aging", "invoices", "promises", "history-inline")


def part(screen: Any, name: str) -> str:
    """What the account pane's part ``name`` shows (#title, #why...: one Line-API widget
    draws them all, dunning/tui/widgets/account.py)."""
    from dunning.tui.widgets.account import AccountPane

    return screen.query_one("#account", AccountPane).part_text(name.lstrip("#"))
