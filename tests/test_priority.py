"""The explainable priority score: each term, weights from configuration, ordering."""

import json
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dunning.db.connection import write_tx
from dunning.queue.accounts import refresh_accounts
from dunning.queue.claim import claim_next
from dunning.queue.config import Settings, settings_from_dict
from dunning.queue.priority import PriorityInputs, Scorer, score

TODAY = date(2026, 11, 23)


def inputs(**kw) -> PriorityInputs:
    base = dict(
        today=TODAY,
        oldest_due=None,
        open_minor=0,
        currency="USD",
        minor_digits=2,
        broken_promise=False,
        next_action="call",
        last_contact=TODAY,  # contacted today: no since_contact points
        risk_score=0,
    )
    base.update(kw)
    return PriorityInputs(**base)


def terms(inp: PriorityInputs, settings: Settings | None = None) -> dict[str, float]:
    _, reasons = score(inp, settings or Settings())
    return {code: pts for code, pts, _ in reasons}


def test_nothing_to_say_scores_zero():
    assert score(inputs(), Settings()) == (0, [])


def test_days_past_due_per_30_days_capped():
    assert terms(inputs(oldest_due=date(2026, 10, 24))) == {"days_past_due": 10.0}  # 30 days
    assert terms(inputs(oldest_due=date(2026, 9, 24)))["days_past_due"] == 20.0  # 60 days
    # capped at 180 days: 400 days past due scores like 180
    assert terms(inputs(oldest_due=date(2025, 10, 19)))["days_past_due"] == 60.0
    # not yet due: no points
    assert terms(inputs(oldest_due=date(2026, 12, 1))) == {}
    _, reasons = score(inputs(oldest_due=date(2026, 9, 24)), Settings())
    assert reasons[0][2] == {"days": 60}


def test_balance_per_power_of_ten_in_base_currency():
    # $100,000.00 -> 10 * log10(100000) = 50
    assert terms(inputs(open_minor=10_000_000))["balance"] == 50.0
    # JPY has no minor unit: 1,000,000 yen x 0.0066 = 6,600 base -> 38.2
    jpy = inputs(open_minor=1_000_000, currency="JPY", minor_digits=0)
    assert terms(jpy)["balance"] == 38.2
    # a balance under one base unit earns nothing
    assert "balance" not in terms(inputs(open_minor=50))
    _, reasons = score(inputs(open_minor=10_000_000), Settings())
    assert reasons[0][2] == {"minor": 10_000_000, "currency": "USD"}


def test_broken_promise_callback_and_promise_check():
    assert terms(inputs(broken_promise=True)) == {"broken_promise": 200.0}
    assert terms(inputs(next_action="callback")) == {"callback_due": 300.0}
    assert terms(inputs(next_action="promise_check")) == {"promise_check": 15.0}
    assert terms(inputs(next_action="instalment_check")) == {"promise_check": 15.0}
    assert terms(inputs(next_action="verify_payment")) == {}


def test_since_contact_per_week_capped_and_never_contacted():
    assert terms(inputs(last_contact=date(2026, 11, 9)))["since_contact"] == 10.0  # 14 days
    assert terms(inputs(last_contact=date(2026, 1, 1)))["since_contact"] == 25.0  # capped 35
    _, reasons = score(inputs(last_contact=None), Settings())
    assert reasons == [("since_contact", 25.0, {"days": None})]


def test_risk():
    assert terms(inputs(risk_score=50)) == {"risk": 10.0}
    assert terms(inputs(risk_score=100)) == {"risk": 20.0}


def test_total_is_the_sum_x100_and_reasons_are_sorted():
    inp = inputs(
        oldest_due=date(2026, 9, 24),
        open_minor=10_000_000,
        broken_promise=True,
        last_contact=date(2026, 11, 9),
        risk_score=50,
    )
    total, reasons = score(inp, Settings())
    assert [r[0] for r in reasons] == [
        "broken_promise",
        "balance",
        "days_past_due",
        "since_contact",
        "risk",
    ]
    assert total == int(round((200 + 50 + 20 + 10 + 10) * 100))


def test_weights_come_from_configuration():
    settings = settings_from_dict(
        {"weights": {"broken_promise": 100, "risk": 0, "days_past_due_cap": 60}}
    )
    assert terms(inputs(broken_promise=True), settings) == {"broken_promise": 100.0}
    assert "risk" not in terms(inputs(risk_score=100), settings)
    assert terms(inputs(oldest_due=date(2025, 1, 1)), settings)["days_past_due"] == 20.0


def test_fx_rates_from_configuration_only_order_balances():
    settings = settings_from_dict({"fx_to_base": {"eur": 2.0}})
    assert settings.fx_to_base["EUR"] == 2.0 and settings.fx_to_base["USD"] == 1.0
    eur = inputs(open_minor=5_000_000, currency="EUR")  # 50,000 EUR x 2 = 100,000
    assert terms(eur, settings)["balance"] == 50.0


def test_unknown_configuration_keys_are_refused():
    with pytest.raises(ValueError, match="unknown key 'weight'"):
        settings_from_dict({"weight": {}})
    with pytest.raises(ValueError, match=r"\[weights\] unknown key 'nope'"):
        settings_from_dict({"weights": {"nope": 1}})


def test_queue_orders_accounts_by_score(conn, clock, settings, ledger):
    alice = ledger.collector("alice")
    small = ledger.customer("Small", collector=alice, invoices=[(10_000, "2026-11-01")])
    old = ledger.customer("Old", collector=alice, invoices=[(10_000, "2026-08-25")])
    big = ledger.customer("Big", collector=alice, invoices=[(90_000_000, "2026-11-01")])
    rows = conn.execute(
        "SELECT customer_id, priority, reasons FROM queue ORDER BY priority DESC"
    ).fetchall()
    assert [r["customer_id"] for r in rows] == [big, old, small]
    assert json.loads(rows[0]["reasons"])[0][0] == "balance"
    assert json.loads(rows[1]["reasons"])[0][0] == "days_past_due"
    claims = [claim_next(conn, clock, settings, alice, resume=False) for _ in range(3)]
    assert [c.customer_id for c in claims if c] == [big, old, small]


def test_reweighting_reorders_the_queue(conn, clock, settings, ledger):
    alice = ledger.collector("alice")
    old = ledger.customer("Old", collector=alice, invoices=[(10_000, "2026-08-25")])
    big = ledger.customer("Big", collector=alice, invoices=[(90_000_000, "2026-11-01")])
    top = conn.execute("SELECT customer_id FROM queue ORDER BY priority DESC").fetchone()[0]
    assert top == big
    heavy_age = settings_from_dict({"weights": {"days_past_due": 40, "balance": 1}})
    with write_tx(conn):
        refresh_accounts(conn, clock, heavy_age)
    top = conn.execute("SELECT customer_id FROM queue ORDER BY priority DESC").fetchone()[0]
    assert top == old


def test_broken_promise_and_credits_change_the_score(conn, clock, settings, ledger):
    alice = ledger.collector("alice")
    cid = ledger.customer("Acme", collector=alice, invoices=[(1_000_000, "2026-10-01")])
    before = ledger.queue_row(cid)["priority"]
    with write_tx(conn):
        conn.execute("UPDATE queue SET broken_promise = 1 WHERE customer_id = ?", (cid,))
        refresh_accounts(conn, clock, settings, [cid])
    assert ledger.queue_row(cid)["priority"] == before + 20_000
    # unapplied cash lowers the balance at risk
    with write_tx(conn):
        conn.execute(
            "INSERT INTO payments (customer_id, amount_minor, currency, paid_on, created_at) "
            "VALUES (?, 900000, 'USD', '2026-11-20', '2026-11-20T00:00:00Z')",
            (cid,),
        )
        refresh_accounts(conn, clock, settings, [cid])
    row = ledger.queue_row(cid)
    reasons = {r[0]: r for r in json.loads(row["reasons"])}
    assert reasons["balance"][2]["minor"] == 100_000
    assert row["unapplied_minor"] == -900_000


def test_a_broken_promise_outranks_every_account_without_one(conn, clock, settings, ledger):
    """DOMAIN.md: a broken promise sends the account back to the top of its queue; only a
    callback due (an appointment with the customer) comes before it."""
    alice = ledger.collector("alice")
    huge = ledger.customer(
        "Huge", collector=alice, invoices=[(900_000_000, "2025-01-01")], risk=100
    )
    broke = ledger.customer("Broke", collector=alice, invoices=[(10_000, "2026-11-01")])
    callback = ledger.customer("Callback", collector=alice, invoices=[(10_000, "2026-11-01")])
    with write_tx(conn):
        conn.execute("UPDATE queue SET broken_promise = 1 WHERE customer_id = ?", (broke,))
        conn.execute("UPDATE queue SET next_action = 'callback' WHERE customer_id = ?", (callback,))
        refresh_accounts(conn, clock, settings)
    order = [r[0] for r in conn.execute("SELECT customer_id FROM queue ORDER BY priority DESC")]
    assert order == [callback, broke, huge]


@given(
    oldest=st.none() | st.dates(date(2025, 1, 1), date(2027, 1, 1)),
    open_minor=st.integers(-10, 10**12),
    currency=st.sampled_from(["USD", "CAD", "MXN", "EUR", "GBP", "JPY", "XXX"]),
    digits=st.sampled_from([0, 2, 3]),
    broken=st.booleans(),
    action=st.sampled_from(["call", "callback", "promise_check", "instalment_check", "x"]),
    contact=st.none() | st.dates(date(2026, 1, 1), date(2026, 12, 31)),
    risk=st.integers(0, 100),
    zero_weights=st.booleans(),
)
def test_the_nightly_scorer_says_what_score_says(
    oldest, open_minor, currency, digits, broken, action, contact, risk, zero_weights
):
    """Scorer (the refresh's cached score) gives score()'s priority and json.dumps of its
    reasons, to the character, whatever the inputs and weights."""
    cfg = settings_from_dict({"weights": {"risk": 0, "balance": 0}}) if zero_weights else Settings()
    scorer = Scorer(TODAY, cfg)
    for _ in range(2):  # the second time from its caches
        prio, reasons = score(
            inputs(
                oldest_due=oldest,
                open_minor=open_minor,
                currency=currency,
                minor_digits=digits,
                broken_promise=broken,
                next_action=action,
                last_contact=contact,
                risk_score=risk,
            ),
            cfg,
        )
        got = scorer.json_reasons(
            oldest, open_minor, currency, digits, broken, action, contact, risk
        )
        assert got == (prio, json.dumps(reasons))
