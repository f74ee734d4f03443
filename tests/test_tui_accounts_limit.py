"""The account list's bulk move of every matching account (`*`, `a`) asks how many: empty
moves them all, a number the first that many in the list's order (as `assign --where
--limit`); a bad number is named in the dialog and nothing moves."""

from __future__ import annotations

from test_tui_accounts import apply_filter, db, open_accounts, status, title  # noqa: F401
from textual.widgets import Input
from tui_helpers import make_app, wait_until

from dunning.db.connection import connect


async def reassign_all_to_lena(pilot) -> None:  # noqa: ANN001
    await pilot.press("asterisk")
    await wait_until(pilot, lambda: "all matching selected" in title(pilot))
    await pilot.press("a")
    await wait_until(pilot, lambda: bool(pilot.app.screen.query("#f-reason")))
    pilot.app.screen.query_one("#f-reason", Input).value = "the largest to the lead"
    for button in pilot.app.screen.query("RadioButton"):
        button.value = button.name == "lena"
    await pilot.press("enter")
    await wait_until(pilot, lambda: bool(pilot.app.screen.query("#f-limit")))


async def test_the_first_n_in_the_lists_order_move(db, clock):  # noqa: F811
    app = make_app(db, clock, "lena")
    async with app.run_test(size=(160, 48)) as pilot:
        await open_accounts(pilot, 100)
        await apply_filter(pilot, "collector=carmen currency=USD")
        await wait_until(pilot, lambda: "115 matching" in title(pilot))
        await reassign_all_to_lena(pilot)
        box = pilot.app.screen.query_one("#f-limit", Input)
        hint = str(box.placeholder)
        assert "all 115" in hint and "sorted by balance ↓" in hint
        box.focus()
        await pilot.press("1", "0")
        assert box.value == "10"
        await pilot.press("enter")
        await wait_until(pilot, lambda: "10 account(s) reassigned to lena" in status(pilot))
        await wait_until(pilot, lambda: "105 matching" in title(pilot))  # read again
    conn = connect(db)
    got = [r[0] for r in conn.execute(
        "SELECT c.external_ref FROM assignments a JOIN customers c ON c.id = a.customer_id "
        "ORDER BY c.external_ref DESC"
    )]  # fmt: skip
    largest = [f"X{i:04d}" for i in range(229, 209, -2)]  # carmen's ten largest balances
    assert got == largest
    assert conn.execute(
        "SELECT COUNT(*) FROM assignments a JOIN collectors k ON k.id = a.from_collector_id "
        "WHERE k.username = 'carmen'"
    ).fetchone()[0] == 10  # fmt: skip
    conn.close()


async def test_a_bad_number_is_named_and_nothing_moves(db, clock):  # noqa: F811
    app = make_app(db, clock, "lena")
    async with app.run_test(size=(160, 48)) as pilot:
        await open_accounts(pilot, 100)
        await apply_filter(pilot, "collector=carmen currency=USD")
        await wait_until(pilot, lambda: "115 matching" in title(pilot))
        await reassign_all_to_lena(pilot)
        box = pilot.app.screen.query_one("#f-limit", Input)
        box.focus()
        await pilot.press("x", "0")  # only digits are taken
        assert box.value == "0"
        await pilot.press("enter")
        error = pilot.app.screen.query_one("#dialog-error")
        await wait_until(pilot, lambda: "1 or more" in str(error.render()))
        await pilot.press("escape")
        await wait_until(pilot, lambda: "Cancelled: nothing changed" in status(pilot))
    conn = connect(db)
    assert conn.execute("SELECT COUNT(*) FROM assignments").fetchone()[0] == 0
    conn.close()
