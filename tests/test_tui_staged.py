"""The next account's lines made ahead (tui/screens/work.py, _stage_next): while the
collector is on an account, the one most likely next is read (nothing claimed) and its
lines made; the outcome key claims as always, and the lines are swapped in only when the
account claimed is that one, unchanged. Whatever happens, what is drawn is what the claim
loaded, and the database holds what the key did."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from textual.widgets import Static, TextArea
from tui_helpers import build_portfolio, db_rows, make_app, part, settle, wait_until

from dunning.clock import FixedClock
from dunning.db.connection import connect
from dunning.tui.widgets.account import AccountPane


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "staged.db"
    build_portfolio(path, clock)
    return path


def fresh_lines(screen) -> list[str]:  # noqa: ANN001
    """The lines the pane draws for the account on screen when made now, not ahead."""
    pane = screen.query_one("#account", AccountPane)
    before = pane.drawn_text()
    pane.show(screen.view, screen.session.collector, screen._now())
    assert pane.drawn_text() == before
    return before


async def test_the_next_account_comes_from_lines_made_ahead_and_is_claimed(
    db: Path, clock: FixedClock
) -> None:
    app = make_app(db, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        pane = screen.query_one("#account", AccountPane)
        assert "Acme Anvils" in part(screen, "title")
        await wait_until(pilot, lambda: screen._staged is not None)
        assert screen._staged is not None and screen._staged[0].name == "Bolt Brothers"
        # nothing claimed by making the lines: only the account on screen is alice's
        claimed = db_rows(db, "SELECT customer_id FROM queue WHERE claimed_by IS NOT NULL")
        assert [r[0] for r in claimed] == [screen.view.id]

        await pilot.press("n")
        screen = await settle(pilot)
        assert pane.swaps == 1
        assert "Bolt Brothers" in part(screen, "title")
        assert "Saved: No answer on C00001" in str(screen.query_one("#status", Static).render())
        fresh_lines(screen)  # the same lines as made on the spot
        rows = db_rows(
            db,
            "SELECT c.name FROM activities a JOIN customers c ON c.id = a.customer_id "
            "WHERE a.outcome = 'no_answer'",
        )
        assert [r[0] for r in rows] == ["Acme Anvils Inc."]
        claimed = db_rows(db, "SELECT customer_id FROM queue WHERE claimed_by IS NOT NULL")
        assert [r[0] for r in claimed] == [screen.view.id]

        # and again from there: each account's lines made while on the one before
        await wait_until(pilot, lambda: screen._staged is not None)
        await pilot.press("n")
        screen = await settle(pilot)
        assert pane.swaps == 2 and "Cogs Co" in part(screen, "title")


async def test_an_account_changed_after_its_lines_were_made_is_drawn_as_it_is_now(
    db: Path, clock: FixedClock
) -> None:
    app = make_app(db, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        await wait_until(pilot, lambda: screen._staged is not None)
        conn = connect(db)
        with conn:  # another process renames it meanwhile
            conn.execute("UPDATE customers SET name = 'Bolt Renamed' WHERE name = 'Bolt Brothers'")
        conn.close()
        await pilot.press("n")
        screen = await settle(pilot)
        pane = screen.query_one("#account", AccountPane)
        assert pane.swaps == 0
        assert "Bolt Renamed" in part(screen, "title")
        assert "Bolt Renamed" in pane.drawn_text()[0]
        fresh_lines(screen)


async def test_an_account_someone_else_claimed_meanwhile_is_not_shown(
    db: Path, clock: FixedClock
) -> None:
    """The guess was claimed by another collector between the guess and the key: the
    claim passes it over, the screen shows the account actually claimed, and no account is
    held by two collectors."""
    app = make_app(db, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        await wait_until(pilot, lambda: screen._staged is not None)
        staged_id = screen._staged[0].id  # type: ignore[index]
        bruno = db_rows(db, "SELECT id FROM collectors WHERE username = 'bruno'")[0][0]
        conn = connect(db)
        with conn:
            conn.execute(
                "UPDATE queue SET claimed_by = ?, claim_expires_at = '2099-01-01T00:00:00Z' "
                "WHERE customer_id = ?",
                (bruno, staged_id),
            )
        conn.close()
        await pilot.press("n")
        screen = await settle(pilot)
        pane = screen.query_one("#account", AccountPane)
        assert pane.swaps == 0
        assert screen.view is not None and screen.view.id != staged_id
        assert "Cogs Co" in part(screen, "title")
        holders = db_rows(
            db, "SELECT customer_id, claimed_by FROM queue WHERE claimed_by IS NOT NULL"
        )
        assert sorted(tuple(r) for r in holders) == sorted(
            [(staged_id, bruno), (screen.view.id, screen.session.collector.id)]
        )


async def test_a_failed_commit_keeps_the_account_and_the_note_then_saves(
    db: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write lock held by someone else past the wait: the outcome is not saved, the
    screen says so and stays on the account with the note as typed, the lines made ahead
    are not shown; once the lock is free the same key saves it and the next account comes."""
    monkeypatch.setenv("DUNNING_LOCK_WAIT", "1")
    app = make_app(db, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        pane = screen.query_one("#account", AccountPane)
        await wait_until(pilot, lambda: screen._staged is not None)
        await pilot.press("i", *"left a message", "escape")
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            await pilot.press("n")
            status = screen.query_one("#status", Static)
            await wait_until(
                pilot, lambda: "Saved" not in str(status.render()) and not screen.busy, 10
            )
            await settle(pilot)
            shown = str(status.render())
            assert shown.strip() and "Saved" not in shown
            assert "Acme Anvils" in part(screen, "title") and pane.swaps == 0
            assert screen.query_one("#note", TextArea).text == "left a message"
            assert (
                db_rows(db, "SELECT COUNT(*) FROM activities WHERE outcome = 'no_answer'")[0][0]
                == 0
            )
        finally:
            other.execute("ROLLBACK")
            other.close()
        await pilot.press("n")
        screen = await settle(pilot)
        assert "Bolt Brothers" in part(screen, "title")
        rows = db_rows(db, "SELECT outcome, note FROM activities WHERE outcome = 'no_answer'")
        assert [tuple(r) for r in rows] == [("no_answer", "left a message")]


async def test_after_a_wrong_guess_no_lines_are_made_until_a_guess_comes_true(
    db: Path, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A guess that missed: the next guess is still read but its lines are not made
    (CPU for nothing at an hour when every guess misses); once a guess is the account the
    outcome claimed, lines are made ahead again. What is drawn is always what was claimed."""
    from dunning.queue.session import WorkSession

    peek = WorkSession.peek_next
    wrong: set[int] = set()  # the guess read on these accounts is wrong

    def guess(self: WorkSession, exclude: frozenset[int]):  # noqa: ANN202
        if not wrong & exclude:
            return peek(self, exclude)
        nxt = peek(self, exclude)
        return None if nxt is None else peek(self, exclude | {nxt.id})

    monkeypatch.setattr(WorkSession, "peek_next", guess)
    app = make_app(db, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        pane = screen.query_one("#account", AccountPane)
        assert screen.view is not None and "Acme" in screen.view.name
        wrong.add(screen.view.id)
        screen._staged = screen._guessed = None  # a guess read before: read again, wrong
        screen._stage_next()
        await wait_until(pilot, lambda: screen._staged is not None)  # made: no miss yet
        await pilot.press("n")  # claims Bolt Brothers; the guess was Cogs Co
        screen = await settle(pilot)
        assert pane.swaps == 0 and "Bolt Brothers" in part(screen, "title")
        assert screen._guess_right is False
        await wait_until(pilot, lambda: screen._guessed is not None)  # read, not made
        assert screen._staged is None  # read while the last guess was wrong: no lines
        await pilot.press("n")  # claims Cogs Co, the guess: lines made ahead again
        screen = await settle(pilot)
        assert "Cogs Co" in part(screen, "title") and pane.swaps == 0
        assert screen._guess_right is True
        await wait_until(pilot, lambda: screen._staged is not None)
        assert screen._staged is not None and screen._staged[0].name.startswith("Dynamo")
        fresh_lines(screen)
        rows = db_rows(db, "SELECT count(*) FROM activities WHERE outcome = 'no_answer'")
        assert rows[0][0] == 2
