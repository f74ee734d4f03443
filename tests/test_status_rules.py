"""Statuses the law or the customer set, and numbers marked do-not-call (issue 6, part 4):
the same refusals in queue/, the CLI and the screen."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.widgets import Static
from tui_helpers import build_portfolio, db_rows, make_app, part, search_results, settle, wait_until

from dunning.cli import main
from dunning.clock import FixedClock
from dunning.db.connection import connect, write_tx
from dunning.queue.account_view import load_account
from dunning.queue.outcomes import OUTCOMES, OutcomeInput, log_outcome
from dunning.queue.status_rules import NO_CALL_STATUSES, StatusRefused

ATTEMPTS = [o for o, f in OUTCOMES.items() if f.attempt]


def log(ledger, who, cid, outcome, **kw):
    return log_outcome(
        ledger.conn,
        ledger.clock,
        ledger.settings,
        collector_id=who,
        customer_id=cid,
        inp=OutcomeInput(outcome, **kw),
    )


def count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


@pytest.mark.parametrize("status", sorted(NO_CALL_STATUSES))
def test_no_attempt_on_a_status_that_forbids_calls(conn, ledger, status):
    alice = ledger.collector("alice")
    cid = ledger.customer("Held", collector=alice, status=status, portfolio="consumer")
    phone = conn.execute("SELECT id FROM phones WHERE customer_id = ?", (cid,)).fetchone()[0]
    for outcome in ATTEMPTS:
        with pytest.raises(StatusRefused, match="C00001 is not called"):
            log(ledger, alice, cid, outcome, phone_id=phone)
    assert count(conn, "activities") == 0
    # a note is still written; nothing else changes
    logged = log(ledger, alice, cid, "note", note="letter from the lawyer received")
    assert logged.outcome == "note"
    assert count(conn, "activities") == 1


def test_cease_can_go_to_legal_but_not_back_to_credit_hold(conn, ledger):
    lena = ledger.collector("lena", role="lead")
    cid = ledger.customer("Cease", collector=lena, status="cease", portfolio="consumer")
    with pytest.raises(StatusRefused, match="legal, an agency or a lead"):
        log(ledger, lena, cid, "escalated", escalation="credit_hold")
    assert conn.execute("SELECT status FROM customers").fetchone()[0] == "cease"
    log(ledger, lena, cid, "escalated", escalation="legal")
    assert conn.execute("SELECT status FROM customers").fetchone()[0] == "legal"


def test_credit_hold_blocks_orders_not_calls(conn, ledger):
    alice = ledger.collector("alice")
    cid = ledger.customer("Hold", collector=alice, status="credit_hold")
    assert log(ledger, alice, cid, "no_answer").outcome == "no_answer"


def test_the_account_view_says_why_not_callable(conn, clock, settings, ledger):
    alice = ledger.collector("alice")
    cid = ledger.customer("Cease", collector=alice, status="cease", portfolio="consumer")
    view = load_account(conn, clock, settings, cid, alice)
    assert view is not None
    assert not view.callable.ok and view.callable.code == "status_cease"
    assert "cease contact" in view.callable.detail
    assert view.calls_forbidden
    active = ledger.customer("Open", collector=alice, portfolio="consumer")
    view = load_account(conn, clock, settings, active, alice)
    assert view is not None and view.callable.ok and not view.calls_forbidden


def test_no_attempt_on_a_do_not_call_or_bad_number(conn, ledger):
    alice = ledger.collector("alice")
    cid = ledger.customer(
        "Two", collector=alice, phones=["+12125550100", "+12125550101", "+12125550102"]
    )
    sql = "SELECT id FROM phones WHERE customer_id = ? ORDER BY id"
    ok, dnc, bad = (r[0] for r in conn.execute(sql, (cid,)))
    with write_tx(conn):
        conn.execute("UPDATE phones SET do_not_call = 1 WHERE id = ?", (dnc,))
        conn.execute("UPDATE phones SET bad = 1 WHERE id = ?", (bad,))
    with pytest.raises(StatusRefused, match=r"\+12125550101 is marked do not call"):
        log(ledger, alice, cid, "no_answer", phone_id=dnc)
    with pytest.raises(StatusRefused, match=r"\+12125550102 is marked as a wrong number"):
        log(ledger, alice, cid, "left_message", phone_id=bad)
    assert count(conn, "activities") == 0
    assert log(ledger, alice, cid, "no_answer", phone_id=ok).outcome == "no_answer"


# -- the CLI ----------------------------------------------------------------------------


@pytest.fixture
def cli_db(db_path, ledger):
    alice = ledger.collector("alice")
    ledger.customer("Cease Co", collector=alice, status="cease", portfolio="consumer")
    ledger.customer("Open Co", collector=alice, phones=["+12125550100", "+12125550101"])
    with write_tx(ledger.conn):
        ledger.conn.execute("UPDATE phones SET do_not_call = 1 WHERE e164 = '+12125550101'")
    return db_path


def run(db: Path, clock: FixedClock, capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["--db", str(db), "--as", "alice", *argv], clock=clock)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_log_on_a_cease_account_is_refused(cli_db, clock, capsys, monkeypatch):
    monkeypatch.delenv("DUNNING_CONFIG", raising=False)
    code, _out, err = run(cli_db, clock, capsys, "log", "C00001", "no_answer")
    assert code == 1
    assert "C00001 is not called (cease contact" in err
    assert "Traceback" not in err
    code, _out, err = run(cli_db, clock, capsys, "log", "C00001", "note", "--note", "letter")
    assert code == 0, err
    conn = connect(cli_db)
    assert [r[0] for r in conn.execute("SELECT outcome FROM activities")] == ["note"]
    conn.close()


def test_cli_phone_marked_do_not_call_is_refused(cli_db, clock, capsys):
    code, _out, err = run(
        cli_db, clock, capsys, "log", "C00002", "no_answer", "--phone", "+1 212 555 0101"
    )
    assert code == 1 and "+12125550101 is marked do not call" in err
    code, _out, err = run(
        cli_db, clock, capsys, "log", "C00002", "no_answer", "--phone", "+1 212 555 0100"
    )
    assert code == 0, err


# -- the screen -------------------------------------------------------------------------


@pytest.fixture
def tui_db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "work.db"
    build_portfolio(path, clock)
    conn = connect(path)
    with write_tx(conn):
        conn.execute("UPDATE customers SET status = 'cease' WHERE name = 'Cogs Co'")
    conn.close()
    return path


async def test_a_cease_account_opened_by_search_is_read_only_for_calls(tui_db, clock):
    app = make_app(tui_db, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"cogs")
        await wait_until(pilot, lambda: search_results(pilot) > 0)
        await pilot.press("enter")
        screen = await settle(pilot)
        assert "Cogs Co" in part(screen, "title")
        call = part(screen, "call")
        assert "no calls: cease contact" in call
        assert "callable" not in call.replace("not callable", "")
        status = str(screen.query_one("#status", Static).render())
        assert "No calls on this account" in status
        await pilot.press("n")  # no answer: off on this account
        await settle(pilot)
        assert db_rows(tui_db, "SELECT * FROM activities") == []
        assert screen.check_action("outcome", ("no_answer",)) is None
        assert screen.check_action("outcome", ("note",)) is True


# -- property: whatever the status, outcome and number, the rule holds ---------------------

STATUSES = ["active", "credit_hold", *sorted(NO_CALL_STATUSES)]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    status=st.sampled_from(STATUSES),
    outcome=st.sampled_from(ATTEMPTS + ["note", "skip"]),
    phone_flag=st.sampled_from(["", "do_not_call", "bad"]),
)
def test_no_attempt_is_ever_logged_where_calls_are_forbidden(
    conn, ledger, status, outcome, phone_flag
):
    alice = ledger.collector(f"c{ledger._n}")
    cid = ledger.customer("P", collector=alice, status=status, portfolio="consumer")
    phone = conn.execute("SELECT id FROM phones WHERE customer_id = ?", (cid,)).fetchone()[0]
    if phone_flag:
        with write_tx(conn):
            conn.execute(f"UPDATE phones SET {phone_flag} = 1 WHERE id = ?", (phone,))
    kw: dict[str, object] = {"phone_id": phone}
    kw.update(SAMPLE_INPUT.get(outcome, {}))
    if outcome == "dispute":
        sql = "SELECT id FROM invoices WHERE customer_id = ?"
        kw["invoice_ids"] = [conn.execute(sql, (cid,)).fetchone()[0]]
    before = count(conn, "activities")
    forbidden = OUTCOMES[outcome].attempt and (status in NO_CALL_STATUSES or phone_flag)
    try:
        log(ledger, alice, cid, outcome, **kw)
    except StatusRefused:
        assert forbidden
        assert count(conn, "activities") == before
    else:
        assert not forbidden
        assert count(conn, "activities") == before + 1
    # and never dealt: nobody's queue offers it when its status forbids calls
    if status in NO_CALL_STATUSES:
        assert ledger.queue_row(cid)["state"] in ("hold", "closed")


SAMPLE_INPUT: dict[str, dict[str, object]] = {
    "promise_to_pay": {"amount_minor": 10_000, "on_date": date(2026, 11, 30)},
    "payment_plan": {"instalments": [(5_000, date(2026, 11, 30)), (5_000, date(2026, 12, 30))]},
    "paid": {"amount_minor": 10_000, "on_date": date(2026, 11, 20)},
    "dispute": {"reason": "pricing", "department": "sales"},
    "callback": {"callback_at": datetime(2026, 11, 24, 15, 0, tzinfo=UTC)},
    "skip": {"reason": "later"},
}


async def test_a_note_is_still_saved_on_a_cease_account(tui_db, clock):
    app = make_app(tui_db, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"cogs")
        await wait_until(pilot, lambda: search_results(pilot) > 0)
        await pilot.press("enter")
        screen = await settle(pilot)
        await pilot.press("ctrl+s")  # nothing typed: nothing saved, and says why
        await settle(pilot)
        assert "Type the note first" in str(screen.query_one("#status", Static).render())
        assert db_rows(tui_db, "SELECT * FROM activities") == []
        await pilot.press("tab", *"Lawyer's letter received", "ctrl+s")
        await settle(pilot)
        rows = db_rows(
            tui_db,
            "SELECT a.outcome, a.note, a.attempt, c.name FROM activities a "
            "JOIN customers c ON c.id = a.customer_id",
        )
        assert [tuple(r) for r in rows] == [("note", "Lawyer's letter received", 0, "Cogs Co")]


def test_dunning_next_deals_neither_a_cease_account_nor_one_not_yet_due(
    db_path, ledger, clock, capsys
):
    alice = ledger.collector("alice")
    ledger.customer("Cease", collector=alice, status="cease", portfolio="consumer")
    ledger.customer("Current", collector=alice, invoices=[(100_000, "2026-12-10")])
    code, out, _err = run(db_path, clock, capsys, "next", "--json")
    assert code == 3, out  # nothing can be called now
    clock.at = clock.at.replace(month=12, day=11)  # the current invoice is now past due
    code, out, _err = run(db_path, clock, capsys, "next", "--json")
    assert code == 0 and "Current" in out
