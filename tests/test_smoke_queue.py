from datetime import date

from dunning.queue.account_view import load_account
from dunning.queue.claim import claim_next
from dunning.queue.outcomes import OutcomeInput, log_outcome


def test_claim_log_next(conn, clock, settings, ledger):
    alice = ledger.collector("alice")
    big = ledger.customer("Big Co", collector=alice, invoices=[(5_000_000, "2026-06-01")])
    small = ledger.customer("Small Co", collector=alice, invoices=[(10_000, "2026-11-01")])
    claim = claim_next(conn, clock, settings, alice)
    assert claim is not None and claim.customer_id == big
    view = load_account(conn, clock, settings, big, alice)
    assert view is not None and view.reasons[0][0] in ("days_past_due", "balance")
    logged = log_outcome(
        conn,
        clock,
        settings,
        collector_id=alice,
        customer_id=big,
        inp=OutcomeInput(
            "promise_to_pay", note="will pay", amount_minor=100_000, on_date=date(2026, 11, 30)
        ),
    )
    assert logged.state == "waiting"
    claim2 = claim_next(conn, clock, settings, alice)
    assert claim2 is not None and claim2.customer_id == small
