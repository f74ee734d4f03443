"""The lead's review queue (issue 9, item 5): accounts refused or escalated to lead review
are listed with why, by whom and since when, and a lead decides (back to a queue, another
collector, legal, agency, write-off approved or declined) in one transaction recorded
with who/when/why; a collector is refused. Through queue/review.py and `dunning review`."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from dunning.cli import main
from dunning.clock import FixedClock, to_iso
from dunning.queue import review
from dunning.queue.collectors import get_collector
from dunning.queue.outcomes import OutcomeInput, log_outcome
from dunning.queue.rights import RightsError

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
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
def team(ledger) -> dict[str, int]:  # noqa: ANN001
    ids = {name: ledger.collector(name) for name in ("alice", "bruno")}
    ids["lena"] = ledger.collector("lena", role="lead")
    return ids


def sent_to_review(ledger, team, *, escalate: bool = False) -> int:  # noqa: ANN001
    cid = ledger.customer("Acme", collector=team["alice"])
    inp = (
        OutcomeInput("escalated", escalation="lead_review", note="wants to talk to a boss")
        if escalate
        else OutcomeInput("refused", note="will never pay")
    )
    log_outcome(ledger.conn, ledger.clock, ledger.settings, collector_id=team["alice"],
                customer_id=cid, inp=inp)  # fmt: skip
    assert ledger.queue_row(cid)["state"] == "review"
    return cid


def lead(conn: sqlite3.Connection, name: str = "lena"):  # noqa: ANN201
    return get_collector(conn, name)


def test_the_list_says_why_who_and_since_when(conn, ledger, team, clock):
    refused = sent_to_review(ledger, team)
    clock.advance(minutes=5)
    escalated = sent_to_review(ledger, team, escalate=True)
    items = review.list_review(conn, clock, lead(conn))
    assert [(i.customer_id, i.came_for, i.sent_by, i.collector) for i in items] == [
        (refused, "refused", "alice", "alice"),
        (escalated, "lead_review", "alice", "alice"),
    ]
    assert items[0].note == "will never pay"
    assert items[0].came_for_text == "refused to pay"
    assert items[1].since > items[0].since
    assert review.count_review(conn) == 2


def test_back_to_the_collector_with_a_next_action_in_one_recorded_transaction(
    conn, ledger, team, clock, settings
):
    cid = sent_to_review(ledger, team)
    when = clock.now() + timedelta(days=2)
    done = review.decide(conn, clock, settings, lead(conn), cid, "back", "call her CFO",
                         next_at=when)  # fmt: skip
    assert done.to == "alice"
    q = ledger.queue_row(cid)
    assert (q["state"], q["next_action"], q["next_action_at"]) == ("waiting", "call", to_iso(when))
    d = conn.execute("SELECT * FROM review_decisions").fetchone()
    assert (d["decision"], d["came_for"], d["reason"], d["decided_by"]) == (
        "back", "refused", "call her CFO", team["lena"],
    )  # fmt: skip
    assert d["status_before"] == d["status_after"] == "active"
    history = conn.execute(
        "SELECT outcome, collector_id, note FROM activities WHERE customer_id = ? "
        "ORDER BY id DESC LIMIT 1",
        (cid,),
    ).fetchone()
    assert tuple(history) == ("system", team["lena"], "review: back: call her CFO")
    audit = conn.execute("SELECT result FROM audit_log WHERE action = 'review.decide'").fetchall()
    assert [a[0] for a in audit] == ["done"]
    assert review.list_review(conn, clock, lead(conn)) == []


def test_to_another_collector_moves_the_account(conn, ledger, team, clock, settings):
    cid = sent_to_review(ledger, team)
    review.decide(conn, clock, settings, lead(conn), cid, "collector", "fresh eyes",
                  to=lead(conn, "bruno"))  # fmt: skip
    q = ledger.queue_row(cid)
    assert (q["collector_id"], q["state"]) == (team["bruno"], "ready")
    a = conn.execute("SELECT collector_id, assigned_by, reason FROM assignments").fetchone()
    assert tuple(a) == (team["bruno"], team["lena"], "fresh eyes")


@pytest.mark.parametrize(
    ("decision", "status", "state"),
    [
        ("legal", "legal", "hold"),
        ("agency", "agency", "hold"),
        ("writeoff_approved", "write_off", "closed"),
        ("writeoff_declined", "active", "ready"),
    ],
)
def test_legal_agency_and_write_off_set_the_status(
    conn, ledger, team, clock, settings, decision, status, state
):
    cid = sent_to_review(ledger, team)
    review.decide(conn, clock, settings, lead(conn), cid, decision, "the lead says so")
    c = conn.execute("SELECT status FROM customers WHERE id = ?", (cid,)).fetchone()
    assert (c[0], ledger.queue_row(cid)["state"]) == (status, state)
    d = conn.execute("SELECT status_before, status_after FROM review_decisions").fetchone()
    assert tuple(d) == ("active", status)


def test_a_collector_is_refused_and_nothing_changes(conn, ledger, team, clock, settings):
    cid = sent_to_review(ledger, team)
    alice = lead(conn, "alice")
    with pytest.raises(RightsError, match=r"alice \(collector\) may not decide accounts in review"):
        review.decide(conn, clock, settings, alice, cid, "back", "mine")
    with pytest.raises(RightsError):
        review.list_review(conn, clock, alice)
    assert ledger.queue_row(cid)["state"] == "review"
    assert conn.execute("SELECT COUNT(*) FROM review_decisions").fetchone()[0] == 0
    refusals = conn.execute(
        "SELECT COUNT(*) FROM audit_log WHERE result = 'refused' AND action = 'review'"
    ).fetchone()[0]
    assert refusals == 2


def test_bad_decisions_are_named_and_change_nothing(conn, ledger, team, clock, settings):
    cid = sent_to_review(ledger, team)
    other = ledger.customer("Not in review", collector=team["alice"])
    by = lead(conn)
    with pytest.raises(review.ReviewError, match="say why"):
        review.decide(conn, clock, settings, by, cid, "back", "   ")
    with pytest.raises(review.ReviewError, match=r"C00002 is not in review \(its queue state"):
        review.decide(conn, clock, settings, by, other, "back", "why not")
    with pytest.raises(review.ReviewError, match="in the past"):
        review.decide(conn, clock, settings, by, cid, "back", "x",
                      next_at=clock.now() - timedelta(days=1))  # fmt: skip
    with pytest.raises(review.ReviewError, match="next action goes with"):
        review.decide(conn, clock, settings, by, cid, "legal", "x", next_at=clock.now())
    with pytest.raises(review.ReviewError, match="'sideways'"):
        review.parse_decision("sideways")
    assert ledger.queue_row(cid)["state"] == "review"
    assert conn.execute("SELECT COUNT(*) FROM review_decisions").fetchone()[0] == 0


def test_decisions_are_append_only(conn, ledger, team, clock, settings):
    cid = sent_to_review(ledger, team)
    review.decide(conn, clock, settings, lead(conn), cid, "back", "ok")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE review_decisions SET reason = 'edited'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM review_decisions")


def test_cli_list_and_decide(run, conn, ledger, team):
    cid = sent_to_review(ledger, team)
    code, out, err = run("review", "list", "--as", "lena")
    assert code == 0, err
    assert "C00001" in out and "refused to pay" in out and "will never pay" in out
    code, out, _err = run("review", "list", "--json", "--as", "lena")
    assert json.loads(out)[0]["came_for"] == "refused"
    code, out, err = run("review", "decide", "C00001", "--to", "collector:bruno",
                         "--reason", "fresh eyes", "--next", "+2d", "--as", "lena")  # fmt: skip
    assert code == 0, err
    assert "C00001" in out and "bruno" in out
    q = ledger.queue_row(cid)
    assert (q["collector_id"], q["state"]) == (team["bruno"], "waiting")


def test_cli_refusals_are_one_line(run, conn, ledger, team):
    sent_to_review(ledger, team)
    code, out, err = run("review", "decide", "C00001", "--to", "back", "--reason", "x",
                         "--as", "alice")  # fmt: skip
    assert code == 1
    assert err.strip() == "dunning: alice (collector) may not decide accounts in review: that " \
        "needs the lead or admin role"  # fmt: skip
    code, _out, err = run("review", "decide", "C00001", "--to", "sideways", "--reason", "x",
                          "--as", "lena")  # fmt: skip
    assert code == 2 and "'sideways'" in err and "Traceback" not in err
    code, _out, err = run("review", "decide", "C00001", "--to", "collector:nobody",
                          "--reason", "x", "--as", "lena")  # fmt: skip
    assert code == 2 and "'nobody'" in err
    code, _out, err = run("review", "decide", "C00001", "--to", "back", "--reason", "x",
                          "--next", "garbage", "--as", "lena")  # fmt: skip
    assert code == 2 and "--next" in err
    assert ledger.queue_row(1)["state"] == "review"


def test_a_french_lead_reads_french(run, conn, ledger, team):
    ledger.collector("bea", role="collector", locale="fr_CA")
    sent_to_review(ledger, team)
    code, _out, err = run("review", "list", "--as", "bea")
    assert code == 1
    assert "bea (agent) ne peut pas statuer sur les comptes en révision" in err
