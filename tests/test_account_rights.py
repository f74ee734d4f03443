"""Issue 7, section 2: only the right person changes an account.

A collector changes only their own accounts; another collector's opens read-only and every
change to it is refused with one line, nothing changed, the refusal in the audit log. A
lead may act on any account with a recorded reason. The same rules for the CLI (here) and
the screen (test_tui_readonly.py): they live in dunning/queue/access.py.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from dunning.cli import main
from dunning.queue.access import AccountRefused, ClaimError
from dunning.queue.assign import reassign
from dunning.queue.claim import claim_account, renew
from dunning.queue.collectors import get_collector_by_id
from dunning.queue.drafts import save_draft
from dunning.queue.outcomes import OutcomeInput, log_outcome
from dunning.queue.void import VoidRefused, void_activity


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def team(ledger):
    """alice: C00001 (Big) and C00002 (Small); bruno: C00003; lead lena; C00004 nobody's."""
    alice = ledger.collector("alice")
    bruno = ledger.collector("bruno")
    lena = ledger.collector("lena", role="lead")
    ledger.customer("Big Co", collector=alice, invoices=[(5_000_000, "2026-06-01")])
    ledger.customer("Small Co", collector=alice, invoices=[(10_000, "2026-11-01")])
    ledger.customer("Bruno Co", collector=bruno, invoices=[(70_000, "2026-09-01")])
    ledger.customer("Orphan Co", invoices=[(30_000, "2026-09-01")])
    return alice, bruno, lena


@pytest.fixture
def run(db_path, team, clock, capsys):
    def go(*argv: str) -> tuple[int, str, str]:
        code = main(["--db", str(db_path), *argv], clock=clock)
        out, err = capsys.readouterr()
        return code, out, err

    return go


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    c = sqlite3.connect(db)
    try:
        return [tuple(r) for r in c.execute(sql, params)]
    finally:
        c.close()


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """Everything an outcome could change (the audit log is not: it grows on refusal)."""
    tables = ("activities", "customers", "queue", "promises", "disputes", "drafts", "voids")
    return {t: rows(db, f"SELECT * FROM {t} ORDER BY 1") for t in tables}


def audit_rows(db: Path, result: str = "refused") -> list[tuple]:
    return rows(
        db,
        "SELECT action, collector_id, target, result, detail FROM audit_log "
        "WHERE result = ? ORDER BY id",
        result,
    )


# -- the CLI: the reproductions ----------------------------------------------------


def test_escalating_another_collectors_unclaimed_account_is_refused(run, db_path, team):
    _alice, bruno, _lena = team
    before = snapshot(db_path)
    code, out, err = run("log", "C00001", "escalated", "--escalation", "agency", "--as", "bruno")
    assert code == 1 and out == ""
    assert err.strip() == "dunning: C00001 belongs to alice: ask a lead to reassign it"
    assert snapshot(db_path) == before  # not sent to an agency, nothing written
    [(action, who, target, result, detail)] = audit_rows(db_path)
    assert (action, who, target, result) == ("log", bruno, "C00001", "refused")
    assert json.loads(detail)["outcome"] == "escalated"
    assert json.loads(detail)["owner"] == "alice"


def test_parking_another_collectors_account_for_a_year_is_refused(run, db_path, team):
    before = snapshot(db_path)
    code, _, err = run("log", "C00001", "no_answer", "--next", "+365d", "--as", "bruno")
    assert code == 1 and "C00001 belongs to alice: ask a lead to reassign it" in err
    assert snapshot(db_path) == before
    assert len(audit_rows(db_path)) == 1


def test_refused_before_anything_else_is_read(run, db_path, team):
    """A refusal says whose account it is, even when the rest of the line is wrong too."""
    code, _, err = run("log", "C00001", "promise_to_pay", "--as", "bruno")
    assert code == 1 and "belongs to alice" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["paid", "--amount", "100", "--date", "-1d"],
        ["dispute", "--invoices", "1", "--reason", "pricing", "--department", "billing"],
        ["promise_to_pay", "--amount", "100", "--date", "+3d"],
        ["callback", "--at", "tomorrow 10:00"],
        ["note", "--note", "parked by a colleague"],
    ],
    ids=lambda a: a[0],
)
def test_every_outcome_on_anothers_account_is_refused(run, db_path, team, argv):
    """Payment reports, disputes, promises, callbacks and notes alike."""
    before = snapshot(db_path)
    code, _, err = run("log", "C00001", *argv, "--as", "bruno")
    assert code == 1 and "C00001 belongs to alice" in err
    assert snapshot(db_path) == before
    assert [r[0] for r in audit_rows(db_path)] == ["log"]


def test_an_account_of_nobody_is_refused_to_a_collector(run, db_path, team):
    code, _, err = run("log", "C00004", "no_answer", "--as", "bruno")
    assert code == 1 and "C00004 is assigned to nobody: ask a lead to assign it" in err
    assert rows(db_path, "SELECT COUNT(*) FROM activities") == [(0,)]


def test_own_free_account_is_claimed_and_released_by_log(run, db_path, team):
    code, out, err = run("log", "C00001", "no_answer", "--as", "alice")
    assert (code, err) == (0, "") and "no_answer logged" in out
    assert rows(db_path, "SELECT outcome, collector_id FROM activities") == [("no_answer", team[0])]
    # released in the same transaction: nobody holds it
    assert rows(db_path, "SELECT claimed_by FROM queue WHERE customer_id = 1") == [(None,)]
    assert audit_rows(db_path) == []


def test_an_account_claimed_by_someone_else_is_refused_and_audited(
    run, db_path, conn, clock, settings, team
):
    alice, _bruno, lena = team
    claim_account(conn, clock, settings, lena, 1)  # the lead has it open
    before = snapshot(db_path)
    code, _, err = run("log", "C00001", "no_answer", "--as", "alice")
    assert code == 1 and "C00001 is being worked by lena right now" in err
    assert snapshot(db_path) == before
    [(action, who, target, result, _detail)] = audit_rows(db_path)
    assert (action, who, target, result) == ("log", alice, "C00001", "refused")


def test_a_lead_acts_on_any_account_with_a_recorded_reason(run, db_path, team):
    _alice, _bruno, lena = team
    code, out, err = run(
        "log",
        "C00001",
        "escalated",
        "--escalation",
        "agency",
        "--reason",
        "alice is away; the customer asked for the agency",
        "--as",
        "lena",
    )
    assert (code, err) == (0, ""), err
    [(who, details)] = rows(db_path, "SELECT collector_id, details FROM activities")
    d = json.loads(details)
    assert who == lena and d["escalation"] == "agency"
    assert d["for"] == "alice"
    assert d["lead_reason"] == "alice is away; the customer asked for the agency"
    assert rows(db_path, "SELECT status FROM customers WHERE id = 1") == [("agency",)]
    [(action, by, target, result, detail)] = audit_rows(db_path, "done")[-1:]
    assert (action, by, target, result) == ("log", lena, "C00001", "done")
    assert json.loads(detail)["lead_reason"].startswith("alice is away")
    # the history says who, for whom and why
    code, out, _ = run("history", "C00001")
    line = next(x for x in out.splitlines() if "escalated" in x)
    assert "lena" in line and "for alice: alice is away; the customer asked" in line


def test_a_lead_without_a_reason_is_told_to_add_one(run, db_path, team):
    before = snapshot(db_path)
    code, _, err = run("log", "C00001", "no_answer", "--next", "+365d", "--as", "lena")
    assert code == 1
    assert "C00001 belongs to alice: add --reason TEXT to say why you act on it" in err
    assert snapshot(db_path) == before
    [(action, _who, target, result, _detail)] = audit_rows(db_path)
    assert (action, target, result) == ("log", "C00001", "refused")


def test_a_lead_on_an_account_of_nobody_says_why(run, db_path, team):
    code, _, err = run("log", "C00004", "no_answer", "--as", "lena")
    assert code == 1 and "C00004 is assigned to nobody: add --reason TEXT" in err
    code, _, err = run("log", "C00004", "no_answer", "--reason", "triage", "--as", "lena")
    assert code == 0, err
    [(details,)] = rows(db_path, "SELECT details FROM activities")
    assert json.loads(details) == {"for": "", "lead_reason": "triage"}


def test_a_lead_skipping_gives_why_apart_from_the_skip_reason(run, db_path, team):
    code, _, err = run("log", "C00001", "skip", "--reason", "in a meeting", "--as", "lena")
    assert code == 1 and "add --why TEXT" in err
    code, _, err = run(
        "log", "C00001", "skip", "--reason", "in a meeting", "--why", "cover", "--as", "lena"
    )
    assert code == 0, err
    [(details,)] = rows(db_path, "SELECT details FROM activities")
    d = json.loads(details)
    assert (d["reason"], d["lead_reason"], d["for"]) == ("in a meeting", "cover", "alice")


def test_on_ones_own_account_why_is_refused_and_reason_keeps_its_meaning(run, db_path, team):
    code, _, err = run("log", "C00001", "no_answer", "--why", "x", "--as", "alice")
    assert code == 2 and "--why is for a lead" in err
    code, _, err = run("log", "C00001", "no_answer", "--reason", "x", "--as", "alice")
    assert code == 2 and "--reason does not apply to no_answer" in err
    # a lead on their own account needs no reason: nothing "for" anyone recorded
    code, _, err = run("log", "C00003", "no_answer", "--as", "bruno")
    assert code == 0, err


# -- the same rules below the CLI: void, undo, drafts, claims --------------------------------


def test_a_collector_voids_nothing_on_an_account_that_is_no_longer_theirs(
    conn, clock, settings, db_path, team
):
    alice, bruno, lena = team
    logged = log_outcome(
        conn, clock, settings, collector_id=alice, customer_id=1, inp=OutcomeInput("no_answer")
    )
    me, lead = get_collector_by_id(conn, alice), get_collector_by_id(conn, lena)
    assert me is not None and lead is not None
    reassign(conn, clock, lead, [1], get_collector_by_id(conn, bruno), "cover")  # type: ignore[arg-type]
    before = snapshot(db_path)
    with pytest.raises(AccountRefused, match="C00001 belongs to bruno"):
        void_activity(
            conn, clock, settings, by=me, activity_id=logged.activity_id, reason="wrong one"
        )
    assert snapshot(db_path) == before
    [(action, who, target, result, _d)] = audit_rows(db_path)
    assert (action, who, target, result) == ("void", alice, "C00001", "refused")
    # the lead may, the void's reason recorded
    void_activity(conn, clock, settings, by=lead, activity_id=logged.activity_id, reason="mine")
    assert rows(db_path, "SELECT reason FROM voids") == [("mine",)]


def test_undo_is_refused_once_the_account_is_someone_elses(conn, clock, settings, db_path, team):
    from dunning.queue.void import undo_outcome

    alice, bruno, lena = team
    logged = log_outcome(
        conn, clock, settings, collector_id=alice, customer_id=1, inp=OutcomeInput("busy")
    )
    me, lead = get_collector_by_id(conn, alice), get_collector_by_id(conn, lena)
    assert me is not None and lead is not None
    reassign(conn, clock, lead, [1], get_collector_by_id(conn, bruno), "cover")  # type: ignore[arg-type]
    before = snapshot(db_path)
    with pytest.raises(AccountRefused, match="C00001 belongs to bruno"):
        undo_outcome(conn, clock, settings, by=me, activity_id=logged.activity_id)
    assert snapshot(db_path) == before
    assert [r[:4] for r in audit_rows(db_path)] == [("undo", alice, "C00001", "refused")]


def test_a_void_refused_for_rights_is_audited(conn, clock, settings, db_path, team):
    alice, bruno, _ = team
    logged = log_outcome(
        conn, clock, settings, collector_id=alice, customer_id=1, inp=OutcomeInput("busy")
    )
    other = get_collector_by_id(conn, bruno)
    assert other is not None
    with pytest.raises(VoidRefused, match="only a lead can void it"):
        void_activity(conn, clock, settings, by=other, activity_id=logged.activity_id, reason="x")
    assert [r[:4] for r in audit_rows(db_path)] == [("void", bruno, "C00001", "refused")]


def test_a_collector_cannot_claim_draft_or_renew_anothers_account(
    conn, clock, settings, db_path, team
):
    _alice, bruno, lena = team
    with pytest.raises(ClaimError, match="C00001 belongs to alice"):
        claim_account(conn, clock, settings, bruno, 1)
    with pytest.raises(AccountRefused, match="C00001 belongs to alice"):
        save_draft(conn, clock, bruno, 1, "I will just park this")
    assert renew(conn, clock, settings, bruno, 1) is False  # not taken by a renewal either
    assert rows(db_path, "SELECT claimed_by FROM queue WHERE customer_id = 1") == [(None,)]
    assert rows(db_path, "SELECT COUNT(*) FROM drafts") == [(0,)]
    # a lead may open it (the reason comes with the first outcome)
    assert claim_account(conn, clock, settings, lena, 1).customer_id == 1


def test_an_outcome_on_an_account_reassigned_during_the_call_still_saves(
    conn, clock, settings, team
):
    """alice holds the claim when the lead gives the account to bruno: her call's outcome
    is not lost (the claim was taken while the account was hers)."""
    alice, bruno, lena = team
    claim_account(conn, clock, settings, alice, 1)
    lead = get_collector_by_id(conn, lena)
    assert lead is not None
    reassign(conn, clock, lead, [1], get_collector_by_id(conn, bruno), "cover")  # type: ignore[arg-type]
    logged = log_outcome(
        conn, clock, settings, collector_id=alice, customer_id=1, inp=OutcomeInput("busy")
    )
    assert logged.outcome == "busy"
    # and then it is bruno's: alice's next try is refused
    with pytest.raises(AccountRefused, match="belongs to bruno"):
        log_outcome(
            conn, clock, settings, collector_id=alice, customer_id=1, inp=OutcomeInput("busy")
        )


def test_the_refusal_is_in_the_collectors_language(run, ledger, db_path, team):
    ledger.collector("remi", languages="fr,en", locale="fr_CA")
    code, _, err = run("log", "C00001", "no_answer", "--as", "remi")
    assert code == 1
    assert "C00001 appartient à alice : demandez à un chef d'équipe de le réassigner" in err
