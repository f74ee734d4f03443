"""Dunning levels (issue 10 item 5): the climb one level at a time, never twice, paused
by a promise in good standing and resumed when it breaks; the [levels] configuration and
its refusals."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta

import pytest

from dunning.clock import to_iso
from dunning.db.connection import write_tx
from dunning.queue.config import Settings, settings_from_dict
from dunning.queue.levels import due_in_range, kind_for_account, record_levels
from dunning.queue.levels_config import DEFAULT_LADDER
from dunning.queue.outcomes import OutcomeInput, log_outcome
from dunning.queue.promises import evaluate_promises

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def day(n: int) -> datetime:
    return NOW + timedelta(days=n)


def due(conn: sqlite3.Connection, when: datetime, settings: Settings | None = None):
    letters, paused = due_in_range(conn, when, settings or Settings(), 0, 1 << 40)
    return [(d.customer_id, d.level.number, len(d.invoice_ids)) for d in letters], paused


def reach(conn: sqlite3.Connection, when: datetime, settings: Settings | None = None) -> None:
    """What the run records once each letter is sent (without sending)."""
    letters, _ = due_in_range(conn, when, settings or Settings(), 0, 1 << 40)
    with write_tx(conn):
        for d in letters:
            record_levels(
                conn,
                to_iso(when),
                d.customer_id,
                d.level.number,
                d.level.channel,
                d.invoice_ids,
                None,
            )


def past_due(days: int) -> str:
    return (NOW.date() - timedelta(days=days)).isoformat()


def test_an_invoice_at_95_days_climbs_one_level_at_a_time(conn, ledger):
    cid = ledger.customer("Acme", invoices=[(10_000, past_due(95))])
    assert due(conn, NOW) == ([(cid, 1, 1)], {})
    reach(conn, NOW)
    # never the same level twice, and level 2 waits for the ladder's gap (30 - 7 days)
    assert due(conn, NOW) == ([], {})
    assert due(conn, day(22)) == ([], {})
    assert due(conn, day(23)) == ([(cid, 2, 1)], {})
    reach(conn, day(23))
    assert due(conn, day(23 + 29)) == ([], {})
    assert due(conn, day(23 + 30)) == ([(cid, 3, 1)], {})
    reach(conn, day(53))
    assert due(conn, day(83)) == ([(cid, 4, 1)], {})
    reach(conn, day(83))
    assert due(conn, day(400)) == ([], {})  # no level past the last
    levels = conn.execute("SELECT level FROM dunning_levels ORDER BY level").fetchall()
    assert [r[0] for r in levels] == [1, 2, 3, 4]


def test_one_letter_per_customer_and_level_listing_its_invoices(conn, ledger):
    cid = ledger.customer(
        "Acme",
        invoices=[(10_000, past_due(10)), (5_000, past_due(8)), (7_000, past_due(3))],
    )
    assert due(conn, NOW) == ([(cid, 1, 2)], {})  # the 3-day one is not due yet
    reach(conn, NOW)
    assert due(conn, day(4)) == ([(cid, 1, 1)], {})  # the third reaches level 1 alone


def test_disputed_paid_and_written_off_invoices_never_climb(conn, ledger):
    cid = ledger.customer(
        "Acme", invoices=[(10_000, past_due(40)), (5_000, past_due(40)), (3_000, past_due(40))]
    )
    ids = [r[0] for r in conn.execute("SELECT id FROM invoices WHERE customer_id = ?", (cid,))]
    with write_tx(conn):
        conn.execute("UPDATE invoices SET disputed = 1 WHERE id = ?", (ids[0],))
        conn.execute("UPDATE invoices SET status = 'paid', open_minor = 0 WHERE id = ?", (ids[1],))
        conn.execute(
            "UPDATE invoices SET status = 'closed', open_minor = 0 WHERE id = ?", (ids[2],)
        )
    assert due(conn, NOW) == ([], {})


def promise(ledger, cid, *instalments):
    """A promise (one instalment) or a plan (several), logged as a collector does."""
    alice = ledger.collector(f"alice{cid}")
    with write_tx(ledger.conn):
        ledger.conn.execute("UPDATE queue SET collector_id = ? WHERE customer_id = ?", (alice, cid))
    inp = (
        OutcomeInput("promise_to_pay", amount_minor=instalments[0][0], on_date=instalments[0][1])
        if len(instalments) == 1
        else OutcomeInput("payment_plan", instalments=list(instalments))
    )
    log_outcome(
        ledger.conn, ledger.clock, ledger.settings, collector_id=alice, customer_id=cid, inp=inp
    )


def decide(ledger, when: datetime) -> None:
    ledger.clock.at = when
    with write_tx(ledger.conn):
        evaluate_promises(ledger.conn, ledger.clock, ledger.settings)


def pay(conn, cid, amount, paid_on):
    with write_tx(conn):
        conn.execute(
            "INSERT INTO payments (customer_id, amount_minor, currency, paid_on, created_at) "
            "VALUES (?, ?, 'USD', ?, ?)",
            (cid, amount, paid_on, f"{paid_on}T12:00:00Z"),
        )


def test_a_promise_in_good_standing_pauses_the_climb_until_it_breaks(conn, ledger):
    cid = ledger.customer("Acme", invoices=[(10_000, past_due(40))])
    promise(ledger, cid, (5_000, date(2026, 11, 30)))
    assert due(conn, NOW) == ([], {cid: 1})
    decide(ledger, day(5))  # due 11-30 + 2 days' grace: still pending
    assert due(conn, day(5)) == ([], {cid: 1})
    decide(ledger, day(10))  # nothing paid: broken
    assert conn.execute("SELECT status FROM promises").fetchone()[0] == "broken"
    assert due(conn, day(10)) == ([(cid, 1, 1)], {})


def test_a_kept_promise_ends_the_pause(conn, ledger):
    cid = ledger.customer("Acme", invoices=[(10_000, past_due(40))])
    promise(ledger, cid, (5_000, date(2026, 11, 30)))
    pay(conn, cid, 5_000, "2026-11-29")
    decide(ledger, day(10))
    assert conn.execute("SELECT status FROM promises").fetchone()[0] == "kept"
    assert due(conn, day(10)) == ([(cid, 1, 1)], {})  # 5,000 still past due


def test_a_plan_pauses_while_in_good_standing(conn, ledger):
    cid = ledger.customer("Acme", invoices=[(10_000, past_due(40))])
    promise(ledger, cid, (4_000, date(2026, 11, 30)), (4_000, date(2026, 12, 30)))
    pay(conn, cid, 4_000, "2026-11-30")
    decide(ledger, day(10))  # the first instalment kept, the second pending
    assert due(conn, day(10)) == ([], {cid: 1})
    decide(ledger, day(45))  # the second broken: the plan is no longer in good standing
    assert due(conn, day(45)) == ([(cid, 1, 1)], {})


def test_the_ladder_comes_from_the_configuration(conn, ledger):
    settings = settings_from_dict(
        {
            "levels": {
                "b2b": {
                    "1": {"days": 15, "kind": "reminder_2", "channel": "letter"},
                    "2": {"days": 45, "kind": "reminder_4", "channel": "call"},
                }
            }
        }
    )
    assert settings.levels["consumer"] == DEFAULT_LADDER
    cid = ledger.customer("Acme", invoices=[(10_000, past_due(10))])
    assert due(conn, NOW, settings) == ([], {})
    assert kind_for_account(conn, NOW, settings, cid) is None
    assert due(conn, day(5), settings) == ([(cid, 1, 1)], {})
    assert kind_for_account(conn, day(5), settings, cid) == "reminder_2"
    reach(conn, day(5), settings)
    assert kind_for_account(conn, day(6), settings, cid) == "reminder_2"  # the level it is at
    assert kind_for_account(conn, day(35), settings, cid) == "reminder_4"


def test_kind_for_account(conn, ledger):
    s = Settings()
    fresh = ledger.customer("Fresh", invoices=[(10_000, past_due(2))])
    assert kind_for_account(conn, NOW, s, fresh) is None
    late = ledger.customer("Late", invoices=[(10_000, past_due(65))])
    assert kind_for_account(conn, NOW, s, late) == "reminder_1"  # one level at a time
    paused = ledger.customer("Paused", invoices=[(10_000, past_due(65))])
    promise(ledger, paused, (5_000, date(2026, 11, 30)))
    assert kind_for_account(conn, NOW, s, paused) == "reminder_1"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"commercial": {}}, "[levels.commercial]: unknown portfolio 'commercial'"),
        ({"b2b": {"1": {"days": 7, "kind": "reminder_1", "channel": "fax"}}}, "1.channel"),
        ({"b2b": {"1": {"days": -1, "kind": "reminder_1", "channel": "email"}}}, "1.days"),
        ({"b2b": {"1": {"days": 7, "kind": "nope", "channel": "email"}}}, "1.kind"),
        ({"b2b": {"1": {"days": 7, "kind": "reminder_1"}}}, "channel is missing"),
        ({"b2b": {"1": {"days": 7, "kind": "reminder_1", "channel": "email", "x": 1}}}, "'x'"),
        ({"b2b": {"2": {"days": 7, "kind": "reminder_1", "channel": "email"}}}, "none missing"),
        ({"b2b": {"one": {}}}, "level number"),
        (
            {
                "b2b": {
                    "1": {"days": 30, "kind": "reminder_1", "channel": "email"},
                    "2": {"days": 30, "kind": "reminder_2", "channel": "email"},
                }
            },
            "2.days (30) must be later than level 1's (30)",
        ),
        ({"b2b": "7,30"}, "[levels.b2b] must be a table"),
    ],
)
def test_config_refusals_name_the_file_and_key(table, message):
    with pytest.raises(ValueError) as exc:
        settings_from_dict({"levels": table}, source="/etc/dunning.toml")
    assert str(exc.value).startswith("/etc/dunning.toml: ")
    assert message in str(exc.value)
