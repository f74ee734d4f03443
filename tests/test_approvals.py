"""Approvals by policy (issue 9, item 7; queue/approvals.py): a payment plan outside the
policy, a settlement, a write-off request and a credit-hold release wait in the review
queue instead of taking effect; the lead's approval makes the terms take effect in the
decision's transaction (recorded who/when/why), a decline sends the account back; a
lead approves a write-off up to their role's limit, above it an admin."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from dunning.cli import main
from dunning.clock import FixedClock
from dunning.i18n import set_language
from dunning.queue import review
from dunning.queue.approvals import ApprovalRefused
from dunning.queue.collectors import get_collector
from dunning.queue.config import ApprovalSettings, Settings, settings_from_dict
from dunning.queue.outcomes import OutcomeError, OutcomeInput, log_outcome
from dunning.queue.rights import RightsError

Run = Callable[..., tuple[int, str, str]]
TODAY = date(2026, 11, 23)  # conftest's clock
POLICY = ApprovalSettings(
    plan_max_months=6,
    plan_min_instalment_pct=10.0,
    settlement_max_discount_pct=20.0,
    writeoff_limit={"*": {"collector": 0, "lead": 500, "admin": -1}},
    credit_hold_release="approval",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def settings() -> Settings:
    return replace(Settings(), approvals=POLICY)


@pytest.fixture
def team(ledger) -> dict[str, int]:  # noqa: ANN001
    ids = {"alice": ledger.collector("alice")}
    ids["lena"] = ledger.collector("lena", role="lead")
    ids["root"] = ledger.collector("root", role="admin")
    return ids


@pytest.fixture
def acct(ledger, team) -> int:  # noqa: ANN001
    """1,000.00 USD owed, alice's."""
    return ledger.customer("Acme", collector=team["alice"])


def log(ledger, team, cid, outcome, **kw):  # noqa: ANN001, ANN201
    return log_outcome(ledger.conn, ledger.clock, ledger.settings, collector_id=team["alice"],
                       customer_id=cid, inp=OutcomeInput(outcome, **kw))  # fmt: skip


def who(conn, name):  # noqa: ANN001, ANN201
    return get_collector(conn, name)


def monthly(n: int, amount: int, start: date = TODAY + timedelta(days=7)) -> list:
    from dunning.queue.approvals import add_months

    return [(amount, add_months(start, k)) for k in range(n)]


def count(conn, sql: str, *params) -> int:  # noqa: ANN001
    return int(conn.execute(sql, params).fetchone()[0])


def test_a_plan_within_policy_takes_effect_at_once(conn, ledger, team, acct):
    logged = log(ledger, team, acct, "payment_plan", instalments=monthly(4, 25_000))
    assert logged.approval == "" and logged.next_action == "instalment_check"
    assert count(conn, "SELECT COUNT(*) FROM promises WHERE customer_id = ?", acct) == 4


@pytest.mark.parametrize(
    ("plan", "outside"),
    [
        (monthly(10, 10_000), ["too_long"]),  # 10 months > 6
        (monthly(3, 5_000) + [(85_000, TODAY + timedelta(days=120))], ["instalment_too_small"]),
    ],
)
def test_a_plan_outside_policy_waits_for_a_lead_then_approved(
    conn, ledger, team, acct, clock, settings, plan, outside
):
    logged = log(ledger, team, acct, "payment_plan", instalments=plan, note="can pay slowly")
    assert (logged.approval, logged.state) == ("plan_outside_policy", "review")
    assert logged.waiting_text == "waiting for approval: payment plan outside policy"
    assert count(conn, "SELECT COUNT(*) FROM promises WHERE customer_id = ?", acct) == 0
    details = json.loads(
        conn.execute("SELECT details FROM activities WHERE id = ?", (logged.activity_id,))
        .fetchone()[0]
    )  # fmt: skip
    assert details["proposal"]["outside"] == outside
    [item] = review.list_review(conn, clock, who(conn, "lena"))
    assert item.came_for == "plan_outside_policy" and item.note == "can pay slowly"
    assert f"{len(plan)} instalments" in item.terms
    clock.advance(minutes=3)
    done = review.decide(conn, clock, settings, who(conn, "lena"), acct, "plan_approved",
                         "good customer")  # fmt: skip
    assert done.to == "alice"
    rows = conn.execute(
        "SELECT instalment, amount_minor, due_date, plan_ref, activity_id, created_by, status "
        "FROM promises WHERE customer_id = ? ORDER BY instalment",
        (acct,),
    ).fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (n, a, d.isoformat()) for n, (a, d) in enumerate(plan, start=1)
    ]
    assert {(r[3], r[4], r[5], r[6]) for r in rows} == {
        (f"plan-{logged.activity_id}", logged.activity_id, team["alice"], "pending")
    }
    q = ledger.queue_row(acct)
    assert (q["state"], q["next_action"]) == ("waiting", "instalment_check")
    d = conn.execute("SELECT * FROM review_decisions").fetchone()
    assert (d["decision"], d["came_for"], d["decided_by"], d["reason"], d["activity_id"]) == (
        "plan_approved", "plan_outside_policy", team["lena"], "good customer", logged.activity_id
    )  # fmt: skip
    assert d["decided_at"] == "2026-11-23T15:03:00Z"


def test_a_plan_declined_goes_back_without_promises(conn, ledger, team, acct, clock, settings):
    log(ledger, team, acct, "payment_plan", instalments=monthly(10, 10_000))
    review.decide(conn, clock, settings, who(conn, "lena"), acct, "plan_declined", "too long")
    assert count(conn, "SELECT COUNT(*) FROM promises") == 0
    q = ledger.queue_row(acct)
    assert (q["state"], q["collector_id"]) == ("ready", team["alice"])
    note = conn.execute(
        "SELECT note FROM activities WHERE outcome = 'system' ORDER BY id DESC"
    ).fetchone()[0]
    assert note == "review: plan_declined: too long"


def test_an_approval_must_match_why_it_came(conn, ledger, team, acct, clock, settings):
    log(ledger, team, acct, "refused")
    with pytest.raises(review.ReviewError, match="came for refused to pay, not for payment plan"):
        review.decide(conn, clock, settings, who(conn, "lena"), acct, "plan_approved", "x")
    assert count(conn, "SELECT COUNT(*) FROM review_decisions") == 0


def test_a_plan_whose_first_date_passed_is_refused(conn, ledger, team, acct, clock, settings):
    log(ledger, team, acct, "payment_plan", instalments=monthly(10, 10_000))
    clock.advance(days=9)
    with pytest.raises(ApprovalRefused, match="first payment was due"):
        review.decide(conn, clock, settings, who(conn, "lena"), acct, "plan_approved", "ok")
    assert ledger.queue_row(acct)["state"] == "review"
    assert count(conn, "SELECT COUNT(*) FROM promises") == 0


def test_settlements_within_and_above_the_discount(conn, ledger, team, clock, settings):
    small = ledger.customer("Small", collector=team["alice"])
    big = ledger.customer("Big", collector=team["alice"])
    pay_by = TODAY + timedelta(days=10)
    within = log(ledger, team, small, "escalated", escalation="settlement",
                 amount_minor=85_000, on_date=pay_by)  # fmt: skip  # 15% off
    assert (within.approval, within.next_action) == ("", "promise_check")
    assert count(conn, "SELECT COUNT(*) FROM promises WHERE customer_id = ?", small) == 1
    above = log(ledger, team, big, "escalated", escalation="settlement", amount_minor=60_000,
                on_date=pay_by)  # fmt: skip  # 40% off
    assert (above.approval, above.state) == ("settlement_request", "review")
    [item] = review.list_review(conn, clock, who(conn, "lena"))
    assert item.terms == "$600.00 by Dec 3, 2026 instead of $1,000.00 (40.0% off)"
    review.decide(conn, clock, settings, who(conn, "lena"), big, "settlement_approved", "ok")
    p = conn.execute(
        "SELECT amount_minor, due_date, status FROM promises WHERE customer_id = ?", (big,)
    ).fetchone()
    assert tuple(p) == (60_000, pay_by.isoformat(), "pending")
    assert ledger.queue_row(big)["next_action"] == "promise_check"


def test_bad_requests_are_named_and_change_nothing(conn, ledger, team, acct):
    with pytest.raises(
        OutcomeError, match=r"\$1,000.00 is not less than what is owed \(\$1,000.00\)"
    ):
        log(ledger, team, acct, "escalated", escalation="settlement", amount_minor=100_000,
            on_date=TODAY + timedelta(days=3))  # fmt: skip
    with pytest.raises(OutcomeError, match="needs the amount agreed"):
        log(ledger, team, acct, "escalated", escalation="settlement")
    with pytest.raises(OutcomeError, match=r"C00001 is not on credit hold \(its status is active"):
        log(ledger, team, acct, "escalated", escalation="hold_release")
    assert count(conn, "SELECT COUNT(*) FROM activities") == 0
    assert ledger.queue_row(acct)["state"] == "ready"


def test_write_off_limits_by_role(conn, ledger, team, clock, settings):
    small = ledger.customer("Small", collector=team["alice"], invoices=[(40_000, "2026-09-01")])
    big = ledger.customer("Big", collector=team["alice"])  # 1,000.00 > lena's 500
    for cid in (small, big):
        logged = log(ledger, team, cid, "escalated", escalation="writeoff", note="bankrupt")
        assert logged.approval == "writeoff_request"  # a collector's limit is 0
    lena, root = who(conn, "lena"), who(conn, "root")
    review.decide(conn, clock, settings, lena, small, "writeoff_approved", "within mine")
    assert ledger.queue_row(small)["state"] == "closed"
    msg = r"lena may write off up to \$500.00: \$1,000.00 is above it \(an admin decides\)"
    with pytest.raises(ApprovalRefused, match=msg):
        review.decide(conn, clock, settings, lena, big, "writeoff_approved", "mine too")
    assert ledger.queue_row(big)["state"] == "review"
    refused = conn.execute(
        "SELECT detail FROM audit_log WHERE action = 'review.decide' AND result = 'refused'"
    ).fetchone()
    assert refused is not None
    review.decide(conn, clock, settings, root, big, "writeoff_approved", "admin: ok")
    status = conn.execute("SELECT status FROM customers WHERE id = ?", (big,)).fetchone()[0]
    assert status == "write_off"
    assert count(conn, "SELECT COUNT(*) FROM review_decisions") == 2


def test_a_collector_with_a_limit_writes_off_alone(conn, ledger, team, acct, settings):
    ledger.settings = replace(
        settings, approvals=replace(POLICY, writeoff_limit={"*": {"collector": 2000, "lead": 5000}})
    )
    logged = log(ledger, team, acct, "escalated", escalation="writeoff")
    assert (logged.approval, logged.state) == ("", "closed")


def test_credit_hold_release_approval_and_free(conn, ledger, team, clock, settings):
    held = ledger.customer("Held", collector=team["alice"], status="credit_hold")
    logged = log(ledger, team, held, "escalated", escalation="hold_release", note="paid up")
    assert logged.approval == "hold_release_request"
    status = "SELECT status FROM customers WHERE id = ?"
    assert conn.execute(status, (held,)).fetchone()[0] == "credit_hold"
    review.decide(conn, clock, settings, who(conn, "lena"), held, "hold_release_approved", "ok")
    assert conn.execute(status, (held,)).fetchone()[0] == "active"
    d = conn.execute("SELECT status_before, status_after FROM review_decisions").fetchone()
    assert tuple(d) == ("credit_hold", "active")
    assert ledger.queue_row(held)["state"] == "ready"
    free = ledger.customer("Free", collector=team["alice"], status="credit_hold")
    ledger.settings = replace(settings, approvals=replace(POLICY, credit_hold_release="free"))
    logged = log(ledger, team, free, "escalated", escalation="hold_release")
    assert logged.approval == "" and conn.execute(status, (free,)).fetchone()[0] == "active"


def test_only_a_lead_or_admin_decides(conn, ledger, team, acct, clock, settings):
    log(ledger, team, acct, "payment_plan", instalments=monthly(10, 10_000))
    with pytest.raises(RightsError, match=r"alice \(collector\) may not decide"):
        review.decide(conn, clock, settings, who(conn, "alice"), acct, "plan_approved", "mine")
    assert count(conn, "SELECT COUNT(*) FROM promises") == 0


def test_the_policy_is_read_and_checked():
    s = settings_from_dict(
        {
            "approvals": {
                "plan_max_months": 3,
                "plan_min_instalment_pct": 12.5,
                "writeoff_limit": {"lead": 100},
                "credit_hold_release": "free",
            }
        }
    )
    assert s.approvals.plan_max_months == 3
    assert s.approvals.writeoff_limit == {"*": {"lead": 100}}  # replaces the defaults
    with pytest.raises(ValueError, match=r"\[approvals\] plan_max_months must be"):
        settings_from_dict({"approvals": {"plan_max_months": -1}})
    with pytest.raises(ValueError, match="credit_hold_release must be approval or free"):
        settings_from_dict({"approvals": {"credit_hold_release": "maybe"}})
    with pytest.raises(ValueError, match="unknown key 'plan_max'"):
        settings_from_dict({"approvals": {"plan_max": 1}})


# --- the command line, through the real entry point ------------------------------------


@pytest.fixture
def run(db_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str], tmp_path: Path):  # noqa: ANN201
    config = tmp_path / "config.toml"
    config.write_text(
        "[approvals]\nplan_max_months = 6\nsettlement_max_discount_pct = 20\n"
        "[approvals.writeoff_limit]\nlead = 500\n",
        encoding="utf-8",
    )

    def go(*argv: str) -> tuple[int, str, str]:
        code = main(["--db", str(db_path), "--config", str(config), *argv], clock=clock)
        out, err = capsys.readouterr()
        return code, out, err

    return go


def test_cli_plan_waits_then_lead_approves(run, conn, ledger, team, acct):
    code, out, err = run("log", "C00001", "payment_plan", "--instalments",
                         "100@2026-12-01,100@2027-01-01,800@2027-09-01",
                         "--note", "slow payer", "--as", "alice")  # fmt: skip
    assert code == 0, err
    assert "waiting for approval: payment plan outside policy" in out
    code, out, err = run("review", "list", "--as", "lena")
    assert "payment plan outside policy" in out and "slow payer" in out
    assert "3 instalments, $100.00 on Dec 1, 2026 … $800.00 on Sep 1, 2027" in out
    code, out, err = run("review", "decide", "C00001", "--to", "plan-approve", "--reason",
                         "known customer", "--as", "alice")  # fmt: skip
    assert code == 1 and "may not decide accounts in review" in err
    code, out, err = run("review", "decide", "C00001", "--to", "plan-approve", "--reason",
                         "known customer", "--as", "lena")  # fmt: skip
    assert code == 0, err
    assert "payment plan approved" in out
    assert count(conn, "SELECT COUNT(*) FROM promises WHERE plan_ref IS NOT NULL") == 3


def test_cli_write_off_above_the_lead_limit_is_refused_naming_the_amount(run, conn, ledger, team):
    ledger.customer("Big", collector=team["alice"])
    code, out, err = run("log", "C00001", "escalated", "--escalation", "writeoff",
                         "--as", "alice")  # fmt: skip
    assert code == 0 and "write-off request" in out
    code, out, err = run("review", "decide", "C00001", "--to", "writeoff-approve",
                         "--reason", "gone", "--as", "lena")  # fmt: skip
    assert code == 1
    assert err.strip() == (
        "dunning: lena may write off up to $500.00: $1,000.00 is above it (an admin decides)"
    )
    code, _out, err = run("review", "decide", "C00001", "--to", "plan-approve",
                          "--reason", "x", "--as", "lena")  # fmt: skip
    assert code == 2 and "came for write-off request, not for payment plan approved" in err
    code, out, err = run("review", "decide", "C00001", "--to", "sideways", "--reason", "x",
                         "--as", "lena")  # fmt: skip
    assert code == 2 and "'sideways'" in err


def test_cli_settlement_and_config_show(run, conn, ledger, team, acct):
    code, out, err = run("log", "C00001", "escalated", "--escalation", "settlement",
                         "--amount", "500", "--date", "+10d", "--as", "alice")  # fmt: skip
    assert code == 0, err
    assert "waiting for approval: settlement request" in out
    code, out, err = run("review", "list", "--json", "--as", "lena")
    [item] = json.loads(out)
    assert item["proposal"]["amount_minor"] == 50_000 and item["came_for"] == "settlement_request"
    code, out, err = run("config", "show")
    assert code == 0, err
    assert "[approvals]" in out and "plan_max_months = 6" in out and "lead = 500" in out


def test_french_waiting_and_refusal(conn, ledger, team, clock, settings):
    big = ledger.customer("Gros", collector=team["alice"])
    logged = log(ledger, team, big, "escalated", escalation="writeoff")
    set_language("fr")
    assert logged.waiting_text == "en attente d’approbation : demande de radiation"
    with pytest.raises(ApprovalRefused, match="lena peut radier jusqu’à"):
        review.decide(conn, clock, settings, who(conn, "lena"), big, "writeoff_approved", "x")


def test_a_request_voided_before_the_lead_decides_leaves_the_review_queue(
    conn, ledger, team, acct, clock, settings
):
    from dunning.queue.void import void_activity

    logged = log(ledger, team, acct, "payment_plan", instalments=monthly(10, 10_000))
    assert ledger.queue_row(acct)["state"] == "review"
    void_activity(conn, clock, settings, by=who(conn, "alice"), activity_id=logged.activity_id,
                  reason="typed the wrong months")  # fmt: skip
    assert ledger.queue_row(acct)["state"] == "ready"
    assert review.list_review(conn, clock, who(conn, "lena")) == []


def test_a_write_off_and_a_hold_release_taken_alone_are_voided_back(
    conn, ledger, team, clock, settings
):
    from dunning.queue.void import void_activity

    ledger.settings = replace(
        settings,
        approvals=replace(
            POLICY, writeoff_limit={"*": {"collector": 2000}}, credit_hold_release="free"
        ),
    )
    gone = ledger.customer("Gone", collector=team["alice"])
    held = ledger.customer("Held", collector=team["alice"], status="credit_hold")
    w = log(ledger, team, gone, "escalated", escalation="writeoff")
    h = log(ledger, team, held, "escalated", escalation="hold_release")
    status = "SELECT status FROM customers WHERE id = ?"
    assert [conn.execute(status, (c,)).fetchone()[0] for c in (gone, held)] == [
        "write_off", "active",
    ]  # fmt: skip
    for logged in (w, h):
        void_activity(conn, clock, ledger.settings, by=who(conn, "lena"),
                      activity_id=logged.activity_id, reason="not what was agreed")  # fmt: skip
    assert [conn.execute(status, (c,)).fetchone()[0] for c in (gone, held)] == [
        "active", "credit_hold",
    ]  # fmt: skip
    assert ledger.queue_row(gone)["state"] == "ready"
