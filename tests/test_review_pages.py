"""The review queue and the open disputes a page at a time (issue 9, items 5 and 6): keyset
pages in their own order (review oldest first; disputes oldest first, by department,
overdue only), a lead's team's accounts only (an admin: all, or one team), the same rule
for the CLI (streamed rows, --limit, --json, --jsonl) and the screens (R, D: paging past
the first page, a decision on page 2, the cursor kept). Pages of 5 (``PAGE`` patched) so
that a dozen accounts make three pages."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Input
from tui_helpers import make_app, settle, wait_until

from dunning.cli import main
from dunning.clock import FixedClock
from dunning.db.connection import write_tx
from dunning.queue import disputes, disputes_list, review, review_list
from dunning.queue.collectors import get_collector
from dunning.queue.lead_scope import ScopeError
from dunning.queue.outcomes import OutcomeInput, log_outcome
from dunning.tui.widgets.paged_list import PagedList

Run = Callable[..., tuple[int, str, str]]
NORTH = 12  # alice's accounts in review (team north)
SOUTH = 3  # carl's (team south)


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(review_list, "PAGE", 5)
    monkeypatch.setattr(disputes_list, "PAGE", 5)
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def run(db_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]) -> Run:
    def go(*argv: str) -> tuple[int, str, str]:
        code = main(["--db", str(db_path), *argv], clock=clock)
        out, err = capsys.readouterr()
        return code, out, err

    return go


@pytest.fixture
def teams(ledger) -> dict[str, object]:  # noqa: ANN001
    """Two teams: north (alice, bruno; lena leads) and south (carl; sam leads), and ada an
    admin. Alice's 12 accounts and carl's 3 were refused one minute apart (review); the
    first 7 of alice's and 2 of carl's have a dispute opened too."""
    ids = {n: ledger.collector(n) for n in ("alice", "bruno", "carl")}
    ids["lena"] = ledger.collector("lena", role="lead")
    ids["sam"] = ledger.collector("sam", role="lead")
    ids["ada"] = ledger.collector("ada", role="admin")
    with write_tx(ledger.conn):
        for name, team in (("alice", "north"), ("bruno", "north"), ("lena", "north"),
                           ("carl", "south"), ("sam", "south")):  # fmt: skip
            ledger.conn.execute("UPDATE collectors SET team = ? WHERE username = ?", (team, name))
    order: dict[str, list[int]] = {"north": [], "south": []}
    for k in range(NORTH + SOUTH):
        owner, team = ("alice", "north") if k < NORTH else ("carl", "south")
        bills = [(10_000 + k, "2026-09-01"), (5_000, "2026-10-01")]
        cid = ledger.customer(f"{team.title()} {k:02d}", collector=ids[owner], invoices=bills)
        inv = ledger.conn.execute(
            "SELECT id FROM invoices WHERE customer_id = ? ORDER BY id", (cid,)
        ).fetchone()[0]
        if k < 7 or NORTH <= k < NORTH + 2:
            log_outcome(ledger.conn, ledger.clock, ledger.settings, collector_id=ids[owner],
                        customer_id=cid, inp=OutcomeInput("dispute", invoice_ids=[inv],
                        reason="pricing", department="billing" if k % 2 else "sales"))  # fmt: skip
        log_outcome(ledger.conn, ledger.clock, ledger.settings, collector_id=ids[owner],
                    customer_id=cid, inp=OutcomeInput("refused", note=f"no {k}"))  # fmt: skip
        order[team].append(cid)
        ledger.clock.advance(minutes=1)
    return {"ids": ids, "order": order}


def who(conn, name: str):  # noqa: ANN001, ANN201
    return get_collector(conn, name)


def test_review_pages_walk_forward_and_back_in_order(conn, teams, clock):
    ada = who(conn, "ada")
    everyone = teams["order"]["north"] + teams["order"]["south"]
    seen, page = [], review_list.review_page(conn, clock, ada)
    pages = [page]
    while True:
        seen += [i.customer_id for i in page.rows]
        if not page.more_after:
            break
        page = review_list.review_page(conn, clock, ada, after=page.last)
        pages.append(page)
    assert seen == everyone  # oldest first, each once
    assert [len(p.rows) for p in pages] == [5, 5, 5]
    assert not pages[0].more_before and pages[1].more_before
    back = review_list.review_page(conn, clock, ada, before=pages[2].first)
    assert [i.customer_id for i in back.rows] == [i.customer_id for i in pages[1].rows]
    last = review_list.review_page(conn, clock, ada, last=True)
    assert [i.customer_id for i in last.rows] == everyone[-5:]
    assert review_list.review_count(conn, clock, ada) == NORTH + SOUTH
    assert review.count_review(conn) == NORTH + SOUTH
    assert [i.customer_id for i in review.list_review(conn, clock, ada, limit=7)] == everyone[:7]


def test_a_lead_sees_and_decides_only_their_teams_accounts(conn, teams, clock, settings):
    lena, sam, ada = who(conn, "lena"), who(conn, "sam"), who(conn, "ada")
    north, south = teams["order"]["north"], teams["order"]["south"]
    assert [i.customer_id for i in review.list_review(conn, clock, lena)] == north
    assert [i.customer_id for i in review.list_review(conn, clock, sam)] == south
    assert [i.customer_id for i in review.list_review(conn, clock, ada, team="south")] == south
    assert review_list.review_count(conn, clock, lena) == NORTH
    with pytest.raises(ScopeError):
        review.list_review(conn, clock, lena, team="south")
    with pytest.raises(review.ReviewRefused):
        review.decide(conn, clock, settings, lena, south[0], "back", "not mine")
    assert conn.execute("SELECT COUNT(*) FROM review_decisions").fetchone()[0] == 0
    review.decide(conn, clock, settings, sam, south[0], "back", "call again")
    mine = disputes.list_disputes(conn, clock, settings, lena)
    assert {d.collector for d in mine} == {"alice"} and len(mine) == 7
    theirs = disputes.list_disputes(conn, clock, settings, sam)
    assert {d.collector for d in theirs} == {"carl"} and len(theirs) == 2
    with pytest.raises(disputes.DisputeRefused):
        disputes.resolve_dispute(conn, clock, settings, lena, theirs[0].id, valid=True,
                                 reason="not mine")  # fmt: skip
    assert conn.execute("SELECT COUNT(*) FROM disputes WHERE status = 'open'").fetchone()[0] == 9


def test_dispute_pages_by_department_and_overdue(conn, teams, clock, settings):
    ada = who(conn, "ada")
    lst = disputes_list.listing(conn, clock, ada)
    first = disputes_list.disputes_page(conn, clock, settings, lst)
    second = disputes_list.disputes_page(conn, clock, settings, lst, after=first.last)
    ids = [d.id for d in first.rows + second.rows]
    assert ids == sorted(ids) and len(ids) == 9 and not second.more_after
    assert disputes_list.disputes_count(conn, clock, settings, lst) == (9, 0)
    sales = disputes_list.listing(conn, clock, ada, department="sales")
    page = disputes_list.disputes_page(conn, clock, settings, sales)
    assert {d.department for d in page.rows} == {"sales"} and len(page.rows) == 5  # 4 + 1
    clock.advance(days=20)  # every one past 10 business days
    late = disputes_list.listing(conn, clock, ada, overdue_only=True)
    assert disputes_list.disputes_count(conn, clock, settings, late) == (9, 9)
    assert len(disputes_list.disputes_page(conn, clock, settings, late).rows) == 5


def test_cli_streams_pages_with_limit_and_team(run, conn, teams):
    code, out, err = run("review", "list", "--as", "lena")
    assert code == 0, err
    assert out.count("North") == NORTH and "South" not in out
    assert "12 account(s) in review" in out
    code, out, err = run("review", "list", "--as", "lena", "--limit", "7")
    assert code == 0, err
    assert out.count("North") == 7 and "the oldest 7 of 12 account(s) in review" in out
    code, out, _err = run("review", "list", "--as", "ada", "--json")
    rows = json.loads(out)
    assert [r["customer_id"] for r in rows] == teams["order"]["north"] + teams["order"]["south"]
    code, out, _err = run("review", "list", "--as", "ada", "--team", "south", "--jsonl")
    assert [json.loads(line)["customer_id"] for line in out.splitlines()] == (
        teams["order"]["south"]
    )
    code, out, err = run("review", "list", "--as", "lena", "--team", "south")
    assert code == 1 and "north" in err and out == ""
    code, out, _err = run("review", "list", "--as", "ada", "--json", "--team", "nowhere")
    assert code == 1
    code, out, err = run("disputes", "list", "--as", "sam", "--json")
    assert code == 0, err
    assert {r["collector"] for r in json.loads(out)} == {"carl"}
    code, out, err = run("disputes", "list", "--as", "lena", "--limit", "6")
    assert code == 0, err
    assert "the oldest 6 of 7 open dispute(s), 0 overdue" in out
    code, out, _err = run("disputes", "list", "--as", "ada", "--json", "--limit", "2")
    assert len(json.loads(out)) == 2
    code, out, _err = run("review", "list", "--as", "ada", "--json", "--team", "south",
                          "--limit", "1")  # fmt: skip
    assert json.loads(out)[0]["customer_id"] == teams["order"]["south"][0]


def table(pilot) -> PagedList:  # noqa: ANN001
    return pilot.app.screen.query_one(PagedList)


def names(pilot) -> list[str]:  # noqa: ANN001
    return [i.name for i in table(pilot).rows_shown]


async def test_a_lead_pages_the_review_queue_and_decides_on_page_two(db_path, teams, clock):
    app = make_app(db_path, clock, "lena")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await wait_until(pilot, lambda: bool(pilot.app.screen.query(PagedList))
                         and names(pilot) == [f"North {k:02d}" for k in range(5)])  # fmt: skip
        title = pilot.app.screen.query_one("#review-title")
        await wait_until(pilot, lambda: "12 account(s)" in str(title.render()))
        assert "South" not in " ".join(names(pilot))
        await pilot.press("right_square_bracket")
        await wait_until(pilot, lambda: names(pilot)[:1] == ["North 05"])
        assert "(6-10;" in str(title.render())
        await pilot.press("down", "down")
        assert table(pilot).current().name == "North 07"
        await pilot.press("b")
        await wait_until(pilot, lambda: bool(pilot.app.screen.query("#f-reason")))
        pilot.app.screen.query_one("#f-reason", Input).value = "call the owner"
        await pilot.press("enter")
        # page 2 read again: North 07 gone, the next one under the cursor, still page 2
        await wait_until(pilot, lambda: "North 07" not in names(pilot) and len(names(pilot)) == 5)
        assert names(pilot) == ["North 05", "North 06", "North 08", "North 09", "North 10"]
        assert table(pilot).current().name == "North 08"
        await wait_until(pilot, lambda: "11 account(s)" in str(title.render()))
        assert "back to the collector" in str(pilot.app.screen.query_one("#review-status").render())
        await pilot.press("right_square_bracket")
        await wait_until(pilot, lambda: names(pilot) == ["North 11"])
    decided = conn_rows(db_path, "SELECT c.name, r.decision, r.reason FROM review_decisions r "
                                 "JOIN customers c ON c.id = r.customer_id")  # fmt: skip
    assert decided == [("North 07", "back", "call the owner")]


async def test_a_lead_pages_the_disputes_and_resolves_on_page_two(db_path, teams, clock):
    app = make_app(db_path, clock, "lena")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("D")
        await wait_until(pilot, lambda: bool(pilot.app.screen.query(PagedList))
                         and len(names(pilot)) == 5)  # fmt: skip
        assert all(n.startswith("North") for n in names(pilot))
        title = pilot.app.screen.query_one("#disputes-title")
        await wait_until(pilot, lambda: "Open disputes: 7, 0 overdue" in str(title.render()))
        await pilot.press("right_square_bracket")
        await wait_until(pilot, lambda: names(pilot) == ["North 05", "North 06"])
        await pilot.press("down")
        await pilot.press("v")
        await wait_until(pilot, lambda: bool(pilot.app.screen.query("#f-reason")))
        pilot.app.screen.query_one("#f-reason", Input).value = "credit note due"
        await pilot.press("enter")
        await wait_until(pilot, lambda: names(pilot) == ["North 05"])
        await wait_until(pilot, lambda: "Open disputes: 6, 0 overdue" in str(title.render()))
        await pilot.press("t")  # sales only: North 00, 02, 04, 06 (06 resolved)
        await wait_until(pilot, lambda: names(pilot) == ["North 00", "North 02", "North 04"])
    resolved = conn_rows(db_path, "SELECT c.name, d.status FROM disputes d JOIN customers c "
                                  "ON c.id = d.customer_id WHERE d.status != 'open'")  # fmt: skip
    assert resolved == [("North 06", "resolved_valid")]


def conn_rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    from tui_helpers import db_rows

    return [tuple(r) for r in db_rows(path, sql)]


def test_the_overdue_count_is_the_rows_overdue_day_after_day(conn, teams, clock, settings):
    ada = who(conn, "ada")
    for _day in range(24):  # through the edge of the service level, a day at a time
        clock.advance(days=1)
        every = disputes.list_disputes(conn, clock, settings, ada)
        lst = disputes_list.listing(conn, clock, ada)
        assert disputes_list.disputes_count(conn, clock, settings, lst) == (
            len(every), sum(d.overdue for d in every))  # fmt: skip
        late = disputes.list_disputes(conn, clock, settings, ada, overdue_only=True)
        assert [d.id for d in late] == [d.id for d in every if d.overdue]


def test_business_days_from_running_counts_match_counting_one_by_one():
    import random
    from datetime import date, timedelta

    from dunning.queue.calendar import CustomerCalendar

    def between(start: date, end: date, cal: CustomerCalendar) -> int:
        return sum(cal.is_business_day(start + timedelta(days=k))
                   for k in range(1, (end - start).days + 1))  # fmt: skip

    rnd = random.Random(9)
    cals = [
        CustomerCalendar(),
        CustomerCalendar(country="US", subdivision="NY"),
        CustomerCalendar(country="CA", subdivision="QC"),
        CustomerCalendar(country="ES"),
    ]
    for _ in range(2000):
        cal = rnd.choice(cals)
        start = date(2019, 1, 1) + timedelta(days=rnd.randrange(4000))
        end = start + timedelta(days=rnd.randrange(-5, 400))
        assert disputes.business_days_between(start, end, cal) == max(0, between(start, end, cal))
        k = rnd.randrange(1, 30)
        due = disputes.service_end(start, k, cal)
        assert between(start, due, cal) == k and cal.is_business_day(due)
