"""A lead looks at an account a collector holds (issue 9, item 9): read-only, with who
holds it and since when; the hold is not broken (no claim, no lease written). From the
search and from the review queue; a lead of another team is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Input
from tui_helpers import build_portfolio, db_rows, make_app, settle, wait_until

from dunning.clock import FixedClock
from dunning.db.connection import connect
from dunning.queue import read_only
from dunning.queue.access import AccountRefused
from dunning.queue.collectors import get_collector
from dunning.queue.config import Settings
from dunning.queue.outcomes import OutcomeInput, log_outcome
from dunning.queue.session import WorkSession
from dunning.tui.screens.account_view import AccountViewScreen


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "look.db"
    build_portfolio(path, clock)
    return path


def claim_row(db: Path, name: str) -> tuple:
    sql = (
        "SELECT k.username, q.claim_expires_at, q.claim_pid FROM queue q "
        "JOIN customers c ON c.id = q.customer_id "
        "LEFT JOIN collectors k ON k.id = q.claimed_by WHERE c.name = ?"
    )
    r = db_rows(db, sql, (name,))
    return tuple(r[0])


def alice_holds_her_first(db: Path, clock: FixedClock) -> tuple[WorkSession, str]:
    conn = connect(db)
    alice = get_collector(conn, "alice")
    conn.close()
    session = WorkSession(db, alice, Settings(), clock)
    view = session.next_account()
    assert view is not None
    return session, view.name


def test_look_at_reads_the_holder_and_writes_nothing(db, clock):
    session, name = alice_holds_her_first(db, clock)
    before = claim_row(db, name)
    conn = connect(db)
    lena = get_collector(conn, "lena")
    cid = conn.execute("SELECT id FROM customers WHERE name = ?", (name,)).fetchone()[0]
    changes = conn.total_changes
    look = read_only.look_at(conn, clock, Settings(), lena, cid)
    assert conn.total_changes == changes  # nothing written
    assert look.owner == "alice" and look.view.name == name
    assert look.holder is not None and look.holder.username == "alice"
    assert claim_row(db, name) == before
    # alice herself: nobody else holds it
    assert read_only.look_at(conn, clock, Settings(), session.collector, cid).holder is None
    conn.close()
    session.close()


def test_a_lead_of_another_team_is_refused_and_it_is_audited(db, clock):
    conn = connect(db)
    conn.execute("UPDATE collectors SET team = 'East' WHERE username = 'alice'")
    conn.execute("UPDATE collectors SET team = 'West' WHERE username = 'lena'")
    lena = get_collector(conn, "lena")
    cid = conn.execute(
        "SELECT q.customer_id FROM queue q JOIN collectors k ON k.id = q.collector_id "
        "WHERE k.username = 'alice' LIMIT 1"
    ).fetchone()[0]
    with pytest.raises(AccountRefused, match=r"alice's account, of team East: not your team"):
        read_only.look_at(conn, clock, Settings(), lena, cid)
    refused = conn.execute(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'look' AND result = 'refused'"
    ).fetchone()[0]
    assert refused == 1
    conn.close()


async def test_a_lead_searches_a_held_account_and_sees_it_read_only(db, clock):
    session, name = alice_holds_her_first(db, clock)
    before = claim_row(db, name)
    app = make_app(db, clock, "lena")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await wait_until(pilot, lambda: bool(pilot.app.screen.query("#search-input")))
        pilot.app.screen.query_one("#search-input", Input).value = name.split()[0]
        await wait_until(
            pilot, lambda: pilot.app.screen.query_one("#search-results").option_count > 0
        )
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, AccountViewScreen))
        await wait_until(
            pilot, lambda: "held by" in str(pilot.app.screen.query_one("#look-holder").render())
        )
        holder = str(pilot.app.screen.query_one("#look-holder").render())
        assert "read-only" in holder and "alice's account" in holder
        assert "held by Alice (alice)" in holder
        assert name in str(pilot.app.screen.query_one("#look-title").render())
        await pilot.press("escape")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "WorkScreen")
    assert claim_row(db, name) == before  # alice's hold: the same claim, the same lease
    assert db_rows(db, "SELECT COUNT(*) FROM claim_releases")[0][0] == 0
    session.close()


async def test_o_in_the_review_queue_opens_the_account_read_only(db, clock):
    conn = connect(db)
    alice = conn.execute("SELECT id FROM collectors WHERE username = 'alice'").fetchone()[0]
    cid = conn.execute("SELECT id FROM customers WHERE name = 'Cogs Co'").fetchone()[0]
    log_outcome(conn, clock, Settings(), collector_id=alice, customer_id=cid,
                inp=OutcomeInput("refused", note="never"))  # fmt: skip
    conn.close()
    app = make_app(db, clock, "lena")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await wait_until(
            pilot,
            lambda: (
                bool(pilot.app.screen.query(DataTable))
                and pilot.app.screen.query_one(DataTable).row_count == 1
            ),
        )
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, AccountViewScreen))
        await wait_until(
            pilot,
            lambda: "nobody holds it" in str(pilot.app.screen.query_one("#look-holder").render()),
        )
        assert "Cogs" in str(pilot.app.screen.query_one("#look-title").render())
    assert db_rows(db, "SELECT claimed_by FROM queue WHERE customer_id = ?", (cid,))[0][0] is None


async def test_a_lead_records_an_opt_out_from_the_read_only_view(db, clock):
    """`o` on a collector's account the lead looks at: the dialog names the address, Enter
    records it (who: the lead; an audit row); the pane says so; `O` takes it back."""
    from dunning.tui.dialogs.opt_out import OptOutDialog
    from dunning.tui.screens.account_view import open_read_only
    from dunning.tui.widgets.account import AccountPane

    conn = connect(db)
    cid = conn.execute("SELECT id FROM customers WHERE name = 'Cogs Co'").fetchone()[0]
    conn.execute("UPDATE contacts SET email = 'ap@cogs.example' WHERE customer_id = ?", (cid,))
    conn.commit()
    conn.close()

    def opted() -> list[tuple]:
        sql = (
            "SELECT email_opt_out_at IS NOT NULL, email_opt_out_by FROM contacts WHERE email != ''"
        )
        return [tuple(r) for r in db_rows(db, sql)]

    def calls() -> str:
        return pilot.app.screen.query_one("#look-account", AccountPane).part_text("call")

    app = make_app(db, clock, "lena")
    async with app.run_test(size=(100, 40)) as pilot:
        work = await settle(pilot)
        open_read_only(pilot.app, work.session, cid)
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, AccountViewScreen))
        await wait_until(pilot, lambda: "ap@cogs.example" in calls())
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, OptOutDialog))
        shown = " ".join(str(w.render()) for w in pilot.app.screen.query("Shown"))
        assert "ap@cogs.example" in shown and opted() == [(0, None)]  # nothing before Enter
        await pilot.press("enter")
        await wait_until(pilot, lambda: opted() == [(1, "lena")])
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, AccountViewScreen))
        await wait_until(pilot, lambda: "e-mail opt-out" in calls() and "(lena)" in calls())
        await pilot.press("O")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, OptOutDialog))
        await pilot.press("enter")
        await wait_until(pilot, lambda: opted() == [(0, None)])
        await wait_until(pilot, lambda: "e-mail opt-out" not in calls())
    audit = db_rows(
        db, "SELECT action, target FROM audit_log WHERE action LIKE 'contacts.opt_%' ORDER BY id"
    )
    assert [tuple(r)[0] for r in audit] == ["contacts.opt_out", "contacts.opt_in"]
