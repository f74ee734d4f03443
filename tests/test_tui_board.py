"""The team board on screen (issue 9, item 1): keys pressed, then the database and the
screen asserted."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable
from tui_helpers import build_portfolio, db_rows, settle, wait_until

from dunning.cli import main
from dunning.clock import FixedClock
from dunning.db.connection import connect
from dunning.queue.collectors import get_collector
from dunning.queue.config import Settings
from dunning.queue.session import WorkSession
from dunning.tui.app import DunningApp
from dunning.tui.screens.account_view import AccountViewScreen
from dunning.tui.screens.accounts import AccountListScreen
from dunning.tui.screens.board import BoardScreen
from dunning.tui.screens.work import WorkScreen


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "board.db"
    build_portfolio(path, clock)  # alice: Acme, Bolt, Cogs, Dynamo; bruno: Épicerie
    return path


def board_app(db: Path, clock: FixedClock, user: str = "lena") -> DunningApp:
    conn = connect(db)
    me = get_collector(conn, user)
    conn.close()
    assert me is not None
    return DunningApp(WorkSession(db, me, Settings(), clock), Settings(), start="board")


def cell(pilot, who: str, column: str) -> str:  # noqa: ANN001
    table = pilot.app.screen.query_one("#board-table", DataTable)
    return str(table.get_cell(who, column))


def cursor_on(pilot) -> str:  # noqa: ANN001
    table = pilot.app.screen.query_one("#board-table", DataTable)
    return str(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)


def text(pilot, wid: str) -> str:  # noqa: ANN001
    return str(pilot.app.screen.query_one(wid).render())


async def on_board(pilot, n: int = 2) -> None:  # noqa: ANN001
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, BoardScreen))
    await wait_until(pilot, lambda: pilot.app.screen.book is not None)
    await wait_until(pilot, lambda: pilot.app.screen.query_one(DataTable).row_count == n)


async def test_a_collectors_commit_shows_on_the_board_cursor_kept(db, clock, capsys):
    app = board_app(db, clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await on_board(pilot)
        assert cell(pilot, "alice", "ready") == "4" and cell(pilot, "alice", "attempts") == "0"
        assert cell(pilot, "alice", "untouched") == "4"
        await pilot.press("j")  # on bruno
        assert cursor_on(pilot) == "bruno"
        assert "bruno (Bruno) offline" in text(pilot, "#board-detail")
        # alice logs a promise on Acme in another connection (her process)
        acme = db_rows(db, "SELECT external_ref FROM customers WHERE name LIKE 'Acme%'")[0][0]
        code = main(["--db", str(db), "log", acme, "promise_to_pay", "--as", "alice",
                     "--amount", "250", "--date", "+5d"], clock=clock)  # fmt: skip
        assert code == 0, capsys.readouterr().err
        assert db_rows(db, "SELECT COUNT(*) FROM promises")[0][0] == 1
        await wait_until(pilot, lambda: cell(pilot, "alice", "attempts") == "1", timeout=3)
        assert cell(pilot, "alice", "promises") == "1"
        assert cell(pilot, "alice", "promised") == "$250.00"
        assert (cell(pilot, "alice", "ready"), cell(pilot, "alice", "waiting")) == ("3", "1")
        assert cursor_on(pilot) == "bruno"  # the cursor stayed on the same collector
        await pilot.press("k")
        await wait_until(pilot, lambda: "1 promises ($250.00)" in text(pilot, "#board-detail"))
        assert "USD current" in text(pilot, "#board-detail")


async def test_keys_work_queue_and_back_open_now_accounts(db, clock, capsys):
    cogs = db_rows(db, "SELECT external_ref FROM customers WHERE name = 'Cogs Co'")[0][0]
    code = main(["--db", str(db), "assign", cogs, "--to", "lena", "--as", "lena", "--reason",
                 "mine"], clock=clock)  # fmt: skip
    assert code == 0, capsys.readouterr().err
    conn = connect(db)
    me = get_collector(conn, "alice")
    conn.close()
    assert me is not None
    alice = WorkSession(db, me, Settings(), clock)
    view = alice.next_account()
    assert view is not None and alice.beat()
    app = board_app(db, clock)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await on_board(pilot, 3)  # lena too: she has an account of her own
            assert cell(pilot, "alice", "now") == view.external_ref
            assert "online for 0 min" in text(pilot, "#board-detail")
            await pilot.press("o")  # alice's account, read-only: who holds it, since when
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, AccountViewScreen))
            assert pilot.app.screen.customer_id == view.id
            await wait_until(pilot, lambda: "held by" in text(pilot, "#look-holder"))
            assert "alice" in text(pilot, "#look-holder")
            await pilot.press("escape")
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, BoardScreen))
            await pilot.press("enter")  # alice's account list
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, AccountListScreen))
            assert pilot.app.screen.query_one("#accounts-filter").value == "collector=alice"
            await pilot.press("escape")
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, BoardScreen))
            # no account claimed by the lead until she opens her own queue
            held = "SELECT COUNT(*) FROM queue q JOIN collectors k ON k.id = q.claimed_by "
            held += "WHERE k.username = 'lena'"
            assert db_rows(db, held)[0][0] == 0
            await pilot.press("w")
            work = await settle(pilot)
            assert isinstance(work, WorkScreen) and work.view is not None
            assert db_rows(db, held)[0][0] == 1
            await pilot.press("T")  # back to the board; the work screen stays alive
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, BoardScreen))
            await pilot.press("w")
            await wait_until(pilot, lambda: pilot.app.screen is work)
            assert len(pilot.app.screen_stack) == 2
    finally:
        alice.close()


async def test_a_collector_never_sees_the_board(db, clock):
    app = board_app(db, clock, "alice")  # asked for, refused: the work screen
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        assert isinstance(screen, WorkScreen)
        assert screen.check_action("board", ()) is False
        await pilot.press("T")
        await pilot.pause(0.2)
        assert isinstance(pilot.app.screen, WorkScreen)


async def test_the_board_in_french_narrow(db, clock):
    app = board_app(db, clock)
    conn = connect(db)
    conn.execute("UPDATE collectors SET locale = 'fr_CA' WHERE username = 'lena'")
    conn.execute("UPDATE customers SET language = 'de' WHERE name = 'Cogs Co'")
    conn.close()
    app = board_app(db, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await on_board(pilot)
        assert "Tableau de l'équipe" in text(pilot, "#board-title")
        table = pilot.app.screen.query_one(DataTable)
        keys = [str(c.value) for c in table.columns]
        assert "collected" not in keys and {"who", "now", "ready", "untouched"} <= set(keys)
        assert "de 1" in text(pilot, "#board-unserved")


async def test_the_palette_and_the_help_know_the_board(db, clock):
    from test_tui_palette import open_palette, palette_hits
    from tui_helpers import make_app

    from dunning.tui.screens.help import HelpScreen

    app = make_app(db, clock, "lena")  # started on her queue (nothing to call)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_palette(pilot, "team board")
        assert palette_hits(app)[0].startswith("Team board")
        await pilot.press("enter")
        await on_board(pilot)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
        from test_tui_lead_desk import help_text

        shown = help_text(pilot)
        assert "their account now, read-only" in shown and "Outcomes" not in shown
        await pilot.press("escape")
        await open_palette(pilot, "my queue")
        assert palette_hits(app)[0].startswith("My queue")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, WorkScreen))
        assert len(pilot.app.screen_stack) == 2  # the board was on top of it: gone back
