"""The rules that apply to writing too (issue 10 item 4): each refusal with its code and
its reason, in the collector's language."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from dunning.clock import to_iso
from dunning.db.connection import write_tx
from dunning.i18n import set_language
from dunning.queue.config import Settings
from dunning.queue.contact_rules import check_callable
from dunning.queue.writing_rules import check_write

NOON_NY = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # Monday 12:00 New York, 12:00 Toronto


def email(conn: sqlite3.Connection, cid: int, address: str = "ap@example.com") -> None:
    with write_tx(conn):
        conn.execute("UPDATE contacts SET email = ? WHERE customer_id = ?", (address, cid))


def postal(conn: sqlite3.Connection, cid: int) -> None:
    """The account's postal address (m039), which a letter on paper needs."""
    with write_tx(conn):
        conn.execute(
            "UPDATE customers SET address_line1 = '1 Main St', city = 'Albany', "
            "postal_code = '12207' WHERE id = ?",
            (cid,),
        )


def add_activity(
    conn: sqlite3.Connection, cid: int, at: datetime, outcome: str, contact: int = 0
) -> None:
    with write_tx(conn):
        conn.execute(
            "INSERT INTO activities (customer_id, at, outcome, attempt, contact, rpc) "
            "VALUES (?,?,?,?,?,?)",
            (cid, to_iso(at), outcome, 1 if contact else 0, contact, contact),
        )


def check(conn, cid, when=NOON_NY, *, kind="reminder_1", channel="email", **kw):
    return check_write(conn, when, Settings(), cid, channel=channel, kind=kind, **kw)


def test_an_overdue_account_with_an_address_may_be_written_to(conn, ledger):
    cid = ledger.customer("Acme", portfolio="consumer")
    email(conn, cid)
    c = check(conn, cid)
    assert (c.ok, c.code, c.reason) == (True, "ok", "")


@pytest.mark.parametrize("status", ["cease", "legal", "agency"])
@pytest.mark.parametrize("channel", ["email", "letter"])
def test_cease_legal_agency_are_never_written_to(conn, ledger, status, channel):
    cid = ledger.customer("Jane", portfolio="consumer", status=status)
    email(conn, cid)
    c = check(conn, cid, channel=channel, kind="statement")
    assert (c.ok, c.code) == (False, f"status_{status}")
    assert c.reason


def test_cease_is_refused_in_the_collectors_language(conn, ledger):
    cid = ledger.customer("Jane", portfolio="consumer", status="cease")
    email(conn, cid)
    set_language("fr")
    c = check(conn, cid)
    assert c.code == "status_cease"
    assert "cease" not in c.reason.split(":")[1]  # translated past the code word
    assert c.reason != "cease contact: no message after the customer's cease request"


def test_no_address_is_refused_but_a_paper_letter_is_not(conn, ledger):
    cid = ledger.customer("Acme")
    c = check(conn, cid)
    assert (c.ok, c.code) == (False, "no_address")
    c = check(conn, cid, channel="letter")
    assert (c.ok, c.code) == (False, "no_postal_address")
    assert c.reason == "no postal address for this account: import it with the customers file"
    postal(conn, cid)
    assert check(conn, cid, channel="letter").ok


def test_an_opted_out_contact_is_refused(conn, ledger):
    cid = ledger.customer("Jane", portfolio="consumer")
    email(conn, cid, "Jane@Example.com")
    with write_tx(conn):
        conn.execute(
            "UPDATE contacts SET email_opt_out_at = ?, email_opt_out_by = 'alice' "
            "WHERE customer_id = ?",
            (to_iso(NOON_NY - timedelta(days=1)), cid),
        )
    c = check(conn, cid)
    assert (c.ok, c.code) == (False, "no_email")
    assert "Jane@Example.com" in c.reason and "1006.6(e)" in c.reason
    # the same address typed in another case is the same contact
    c = check(conn, cid, recipient=" jane@example.COM ")
    assert c.code == "no_email"
    # a paper letter still goes
    postal(conn, cid)
    assert check(conn, cid, channel="letter").ok


def test_an_address_of_no_contact_is_refused(conn, ledger):
    cid = ledger.customer("Acme")
    email(conn, cid)
    c = check(conn, cid, recipient="someone@elsewhere.example")
    assert (c.ok, c.code) == (False, "unknown_recipient")
    assert "someone@elsewhere.example" in c.reason


def test_a_disputed_only_account_gets_no_reminder_but_a_statement(conn, ledger):
    cid = ledger.customer("Acme", invoices=[(50_000, "2026-09-01"), (20_000, "2026-12-30")])
    email(conn, cid)
    with write_tx(conn):
        conn.execute(
            "UPDATE invoices SET disputed = 1 WHERE customer_id = ? AND due_date < '2026-11'",
            (cid,),
        )
    for level in range(1, 5):
        c = check(conn, cid, kind=f"reminder_{level}")
        assert (c.ok, c.code) == (False, "nothing_overdue")
    assert check(conn, cid, kind="statement").ok


def test_a_consumer_email_outside_the_window_is_refused_with_when_it_opens(conn, ledger):
    cid = ledger.customer("Jane", portfolio="consumer", phones=["+12125550100"])
    email(conn, cid)
    night = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 22:00 New York
    c = check(conn, cid, night)
    assert (c.ok, c.code) == (False, "outside_window")
    assert "FDCPA" in c.reason
    assert c.opens_at == datetime(2026, 11, 24, 13, 0, tzinfo=UTC)  # 08:00 New York
    # a paper letter is not bound by the hour; a business is not bound at all
    postal(conn, cid)
    assert check(conn, cid, night, channel="letter").ok
    b2b = ledger.customer("Acme", portfolio="b2b")
    email(conn, b2b)
    assert check(conn, b2b, night).ok


def test_a_consumer_email_on_a_banned_holiday_is_refused(conn, ledger):
    cid = ledger.customer(
        "Jean", portfolio="consumer", country="CA", subdivision="ON", phones=["+14165550100"]
    )
    email(conn, cid)
    christmas = datetime(2026, 12, 25, 17, 0, tzinfo=UTC)  # 12:00 Toronto, Christmas Day
    c = check(conn, cid, christmas)
    assert (c.ok, c.code) == (False, "holiday")
    assert c.opens_at is not None and c.opens_at > christmas


def test_ontario_fourth_contact_after_three_emails_or_calls_is_refused(conn, ledger):
    cid = ledger.customer(
        "Jean", portfolio="consumer", country="CA", subdivision="ON", phones=["+14165550100"]
    )
    email(conn, cid)
    add_activity(conn, cid, NOON_NY - timedelta(days=1), "email_sent")
    add_activity(conn, cid, NOON_NY - timedelta(days=2), "email_sent")
    add_activity(conn, cid, NOON_NY - timedelta(days=8), "email_sent")  # too old
    add_activity(conn, cid, NOON_NY - timedelta(days=3), "no_answer")  # not a contact
    assert check(conn, cid).ok
    add_activity(conn, cid, NOON_NY - timedelta(days=3), "callback", contact=1)
    c = check(conn, cid)
    assert (c.ok, c.code) == (False, "ontario_cap")
    # the third-latest contact (3 days ago) leaves the week in 4 days
    assert c.opens_at == NOON_NY + timedelta(days=4)
    # and the e-mails count for a call too (the claim's and the account's verdict)
    v = check_callable(
        conn,
        NOON_NY,
        Settings(),
        customer_id=cid,
        portfolio="consumer",
        country="CA",
        subdivision="ON",
        zones=("America/Toronto",),
    )
    assert (v.ok, v.code) == (False, "ontario_cap")
    # a paper letter is no contact Ontario's cap stops here
    postal(conn, cid)
    assert check(conn, cid, channel="letter").ok


def test_ontario_counts_no_voided_email(conn, ledger):
    cid = ledger.customer(
        "Jean", portfolio="consumer", country="CA", subdivision="ON", phones=["+14165550100"]
    )
    email(conn, cid)
    for k in range(3):
        add_activity(conn, cid, NOON_NY - timedelta(days=k + 1), "email_sent")
    assert check(conn, cid).code == "ontario_cap"
    last = conn.execute("SELECT MAX(id) FROM activities").fetchone()[0]
    lead = ledger.collector("lena", role="lead")
    with write_tx(conn):
        conn.execute(
            "INSERT INTO voids (activity_id, customer_id, voided_at, voided_by, reason) "
            "VALUES (?, ?, ?, ?, 'wrong account')",
            (last, cid, to_iso(NOON_NY), lead),
        )
    assert check(conn, cid).ok
