"""The lead's account list (`F`): filter typed and applied, a bad term named in place,
pages turned by keyset, sort, space and `*` selection, then a bulk reassignment with a
reason; the database and the screen asserted. Collectors never see it."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input
from tui_helpers import build_portfolio, make_app, settle, wait_until

from dunning.clock import FixedClock
from dunning.db.connection import connect, write_tx
from dunning.queue.accounts import refresh_accounts
from dunning.queue.config import Settings
from dunning.tui.screens.accounts import AccountListScreen
from dunning.tui.widgets.paged_list import PagedList

EXTRA = 230  # customers added beside the portfolio's four: three pages of 100


def accounts_portfolio(path: Path, clock: FixedClock) -> None:
    """The Pilot portfolio (alice's four accounts) and EXTRA more: even ones dave's
    (English), odd ones carmen's (Spanish)."""
    build_portfolio(path, clock)
    conn = connect(path)
    now = "2026-11-23T15:00:00Z"
    with write_tx(conn):
        for name, langs in (("dave", "en"), ("carmen", "es,en")):
            conn.execute(
                "INSERT INTO collectors (username, display_name, role, languages, locale, "
                "created_at) VALUES (?, ?, 'collector', ?, 'en_US', ?)",
                (name, name.title(), langs, now),
            )
        conn.executemany(
            "INSERT INTO customers (external_ref, name, country, currency, language, "
            "created_at, updated_at) VALUES (?, ?, 'US', 'USD', ?, ?, ?)",
            [(f"X{i:04d}", f"Extra {i:04d}", "es" if i % 2 else "en", now, now)
             for i in range(EXTRA)],
        )  # fmt: skip
        ids = [r[0] for r in conn.execute("SELECT id FROM customers WHERE external_ref LIKE 'X%'")]
        refresh_accounts(conn, clock, Settings(), ids)
        conn.execute(
            "UPDATE queue SET collector_id = (SELECT id FROM collectors WHERE username = "
            "CASE WHEN customer_id % 2 THEN 'carmen' ELSE 'dave' END), "
            "open_minor = customer_id * 100 WHERE customer_id IN "
            "(SELECT id FROM customers WHERE external_ref LIKE 'X%')"
        )
    conn.close()


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "accounts.db"
    accounts_portfolio(path, clock)
    return path


def table(pilot) -> PagedList:  # noqa: ANN001
    return pilot.app.screen.query_one(PagedList)


def title(pilot) -> str:  # noqa: ANN001
    return str(pilot.app.screen.query_one("#accounts-title").render())


def status(pilot) -> str:  # noqa: ANN001
    return str(pilot.app.screen.query_one("#accounts-status").render())


def refs(pilot) -> list[str]:  # noqa: ANN001
    return [r.ref for r in table(pilot).rows_shown]


async def open_accounts(pilot, expect: int) -> None:  # noqa: ANN001
    await settle(pilot)
    await pilot.press("F")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, AccountListScreen))
    await wait_until(pilot, lambda: table(pilot).row_count == expect and not table(pilot).busy)


async def apply_filter(pilot, text: str) -> None:  # noqa: ANN001
    await pilot.press("f")
    box = pilot.app.screen.query_one("#accounts-filter", Input)
    box.value = text
    await pilot.press("enter")


async def test_a_lead_filters_pages_and_moves_every_matching_account(db, clock):
    app = make_app(db, clock, "lena")
    async with app.run_test(size=(160, 48)) as pilot:
        await open_accounts(pilot, 100)
        await wait_until(pilot, lambda: "235 matching" in title(pilot))
        assert "rows 1-100" in title(pilot)
        # USD, CAD and MXN accounts: by oldest due, and the header says why
        assert "sorted by oldest due ↑ (balance needs currency=…)" in title(pilot)
        await apply_filter(pilot, "lang=es bucket>=45")
        await wait_until(pilot, lambda: "filter term 2 'bucket>=45'" in status(pilot))
        assert table(pilot).row_count == 100  # the list as it was
        await apply_filter(pilot, "lang=es collector=carmen currency=USD")
        await wait_until(pilot, lambda: "115 matching" in title(pilot))
        assert "sorted by balance ↓" in title(pilot)  # one currency
        first = refs(pilot)
        assert len(first) == 100 and first[0] == "X0229"  # highest balance first
        await pilot.press("end")
        await wait_until(pilot, lambda: table(pilot).row_count == 100 and refs(pilot) != first)
        assert refs(pilot)[-1] == "X0001"
        await pilot.press("home")
        await wait_until(pilot, lambda: refs(pilot) == first)
        await pilot.press("right_square_bracket")
        await wait_until(pilot, lambda: table(pilot).row_count == 15)
        assert "rows 101-115" in title(pilot)
        await pilot.press("left_square_bracket")
        await wait_until(pilot, lambda: refs(pilot) == first)
        await pilot.press("asterisk")
        await wait_until(pilot, lambda: "all matching selected" in title(pilot))
        await pilot.press("a")
        await wait_until(pilot, lambda: bool(pilot.app.screen.query("#f-reason")))
        pilot.app.screen.query_one("#f-reason", Input).value = "Spanish desk moves"
        for button in pilot.app.screen.query("RadioButton"):  # lena speaks Spanish
            button.value = button.name == "lena"
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(pilot.app.screen.query("#move-preview")))
        preview = str(pilot.app.screen.query_one("#move-preview").render())
        assert "115 account(s) would move to lena" in preview and "from: carmen 115" in preview
        await pilot.press("enter")
        await wait_until(pilot, lambda: "115 account(s) reassigned to lena" in status(pilot))
        await wait_until(pilot, lambda: "0 matching" in title(pilot))  # read again: none left
        assert table(pilot).row_count == 0
    conn = connect(db)
    moved = conn.execute(
        "SELECT k.username, b.username, a.reason, COUNT(*) FROM assignments a JOIN collectors k "
        "ON k.id = a.collector_id JOIN collectors b ON b.id = a.assigned_by GROUP BY 1, 2, 3"
    ).fetchall()
    assert [tuple(r) for r in moved] == [("lena", "lena", "Spanish desk moves", 115)]
    target = "lena"
    assert (
        conn.execute(
            "SELECT COUNT(*) FROM queue q JOIN collectors k ON k.id = q.collector_id "
            "JOIN customers c ON c.id = q.customer_id WHERE c.language = 'es' AND k.username = ?",
            (target,),
        ).fetchone()[0]
        == 115
    )
    conn.close()


async def test_space_selects_and_a_refusal_for_language_moves_nothing(db, clock):
    app = make_app(db, clock, "lena")
    async with app.run_test(size=(160, 48)) as pilot:
        await open_accounts(pilot, 100)
        await apply_filter(pilot, "collector=carmen")
        await wait_until(pilot, lambda: "115 matching" in title(pilot))
        await pilot.press("space", "space")  # two accounts, the cursor moves down
        await wait_until(pilot, lambda: "2 selected" in title(pilot))
        picked = refs(pilot)[:2]
        await pilot.press("a")
        await wait_until(pilot, lambda: bool(pilot.app.screen.query("#f-reason")))
        screen = pilot.app.screen
        pilot.app.screen.query_one("#f-reason", Input).value = "cover"
        # choose dave (English only): the radio button named dave
        for button in screen.query("RadioButton"):
            button.value = button.name == "dave"
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(pilot.app.screen.query("#move-preview")))
        assert not pilot.app.screen.query(Checkbox)  # a picked list: checked when it moves
        await pilot.press("enter")
        await wait_until(pilot, lambda: "dave does not speak" in status(pilot))
        assert "es (2)" in status(pilot)
    conn = connect(db)
    assert conn.execute("SELECT COUNT(*) FROM assignments").fetchone()[0] == 0
    owners = conn.execute(
        "SELECT k.username FROM queue q JOIN customers c ON c.id = q.customer_id "
        f"JOIN collectors k ON k.id = q.collector_id WHERE c.external_ref IN {tuple(picked)}"
    ).fetchall()
    assert [o[0] for o in owners] == ["carmen", "carmen"]
    conn.close()


async def test_sort_keys_and_collectors_never_see_it(db, clock):
    app = make_app(db, clock, "lena")
    async with app.run_test(size=(160, 48)) as pilot:
        await open_accounts(pilot, 100)  # balance asked, several currencies: oldest due
        await wait_until(pilot, lambda: "sorted by oldest due ↑ (balance needs" in title(pilot))
        await pilot.press("s")  # the key after the one shown
        await wait_until(pilot, lambda: "sorted by last contact ↑" in title(pilot))
        await pilot.press("s", "s")  # name, collector
        await wait_until(pilot, lambda: "sorted by collector ↑" in title(pilot))
        await wait_until(pilot, lambda: table(pilot).rows_shown[0].collector == "alice")
        await pilot.press("S")
        await wait_until(pilot, lambda: "sorted by collector ↓" in title(pilot))
        await wait_until(pilot, lambda: table(pilot).rows_shown[0].collector == "dave")
        await pilot.press("escape")
        await settle(pilot)
    app = make_app(db, clock, "alice")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("F")
        await pilot.pause(0.2)
        assert not isinstance(pilot.app.screen, AccountListScreen)
