"""Issue 7, section 2 on the screen: `/` opens another collector's account read-only for a
collector (history shown, every outcome key refused by queue/ with one line, nothing
changed); a lead is asked why before the first outcome, and the reason is recorded."""

from __future__ import annotations

import json

import pytest
from textual.widgets import Static, TextArea
from tui_helpers import build_portfolio, db_rows, make_app, part, search_results, settle, wait_until

from dunning.db.connection import connect
from dunning.queue.config import Settings
from dunning.queue.outcomes import OutcomeInput, log_outcome
from dunning.tui.dialogs.reason import LeadReasonDialog


@pytest.fixture
def db(tmp_path, clock):
    path = tmp_path / "t.db"
    build_portfolio(path, clock)
    conn = connect(path)
    bruno, gagnon = conn.execute(
        "SELECT collector_id, customer_id FROM queue JOIN customers c ON c.id = customer_id "
        "WHERE c.name = 'Épicerie Gagnon'"
    ).fetchone()
    log_outcome(  # bruno's own call: the history a colleague may read
        conn,
        clock,
        Settings(),
        collector_id=bruno,
        customer_id=gagnon,
        inp=OutcomeInput("left_message", note="spoke to the reception"),
    )
    conn.close()
    clock.advance(minutes=5)
    return path


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def changes(path) -> dict[str, list[tuple]]:
    tables = ("activities", "customers", "queue", "promises", "disputes", "drafts", "voids")
    out = {}
    for t in tables:
        rows = db_rows(path, f"SELECT * FROM {t} ORDER BY 1")
        out[t] = [tuple(r) for r in rows]
    # who holds what is not a change of the account: alice's own claim comes and goes
    out["queue"] = [r[:1] + r[2:] for r in out["queue"]]
    return out


def gagnon(path) -> tuple[int, str]:
    row = db_rows(path, "SELECT id, external_ref FROM customers WHERE name = 'Épicerie Gagnon'")
    return int(row[0][0]), str(row[0][1])


def notes(app) -> list[str]:
    return [str(n.message) for n in app._notifications]  # noqa: SLF001


async def open_gagnon(pilot):
    await pilot.press("slash", *"gagnon")
    await wait_until(pilot, lambda: search_results(pilot) > 0)
    await pilot.press("enter")
    return await settle(pilot)


async def test_a_collector_opens_someone_elses_account_read_only(db, clock):
    cid, ref = gagnon(db)
    app = make_app(db, clock, "alice")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = await open_gagnon(pilot)
        assert screen.view is not None and screen.view.id == cid
        assert "read-only: bruno's account" in text_of(screen, "#topbar")
        assert "spoke to the reception" in part(screen, "history-inline")  # history shown
        assert screen.query_one("#note", TextArea).read_only
        # opened, not claimed: bruno may still work it; alice's own account was let go
        assert db_rows(db, "SELECT COUNT(*) FROM queue WHERE claimed_by IS NOT NULL")[0][0] == 0
        before = changes(db)
        for key in ("e", "n", "p", "N", "ctrl+s"):
            await pilot.press(key)
            screen = await settle(pilot)
            assert app.screen is screen  # no dialog opened
        message = f"{ref} belongs to bruno: ask a lead to reassign it"
        assert notes(app).count(message) == 5
        assert message in text_of(screen, "#status")
        assert changes(db) == before  # nothing changed: no escalation, nothing parked
    refused = db_rows(
        db, "SELECT action, target, detail FROM audit_log WHERE result = 'refused' ORDER BY id"
    )
    assert [(r[0], r[1]) for r in refused] == [("log", ref)] * 5
    assert [json.loads(r[2])["outcome"] for r in refused] == [
        "escalated",
        "no_answer",
        "promise_to_pay",
        "no_answer",
        "note",
    ]
    assert db_rows(db, "SELECT COUNT(*) FROM drafts")[0][0] == 0  # quitting saved no draft


async def test_the_refusal_is_in_the_collectors_language(db, clock):
    """bruno (French) opens alice's Acme: the one line is French."""
    app = make_app(db, clock, "bruno")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"acme")
        await wait_until(pilot, lambda: search_results(pilot) > 0)
        await pilot.press("enter")
        screen = await settle(pilot)
        assert "lecture seule" in text_of(screen, "#topbar")
        await pilot.press("n")
        await settle(pilot)
        assert any("appartient à alice" in n for n in notes(app)), notes(app)


async def test_a_lead_is_asked_why_and_the_outcome_is_recorded_with_it(db, clock):
    cid, ref = gagnon(db)
    app = make_app(db, clock, "lena")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = await open_gagnon(pilot)
        assert "bruno's account: an outcome needs your reason" in text_of(screen, "#topbar")
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, LeadReasonDialog))
        await pilot.press("escape")  # no reason: nothing saved
        screen = await settle(pilot)
        assert "Cancelled" in text_of(screen, "#status")
        assert db_rows(db, "SELECT COUNT(*) FROM activities WHERE outcome = 'no_answer'")[0][0] == 0
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, LeadReasonDialog))
        await pilot.press(*"bruno is off today", "enter")
        await settle(pilot)
    rows = db_rows(
        db,
        "SELECT k.username, a.details FROM activities a JOIN collectors k "
        "ON k.id = a.collector_id WHERE a.customer_id = ? AND a.outcome = 'no_answer'",
        (cid,),
    )
    assert len(rows) == 1 and rows[0][0] == "lena"
    details = json.loads(rows[0][1])
    assert (details["for"], details["lead_reason"]) == ("bruno", "bruno is off today")
    done = db_rows(db, "SELECT action, target, detail FROM audit_log WHERE result = 'done'")
    assert [(r[0], r[1]) for r in done] == [("log", ref)]
    assert json.loads(done[0][2])["lead_reason"] == "bruno is off today"
