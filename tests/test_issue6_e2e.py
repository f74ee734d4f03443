"""Issue 6, end to end as a new user meets it: one-customer consumer ledgers loaded from
small CSV files with `dunning import`, then `dunning next` / `log` / `void` / `report` with
the clock moved. Each case is a "Seen:" line of the issue."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dunning.cli import main
from dunning.clock import FixedClock


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TZ", "UTC")


class Book:
    """A database loaded through the CLI, and the CLI at a moved clock."""

    def __init__(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.dir = tmp_path
        self.db = tmp_path / "book.db"
        self.clock = FixedClock(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
        self.capsys = capsys

    def at(self, iso: str) -> Book:
        self.clock.at = datetime.fromisoformat(iso).replace(tzinfo=UTC)
        return self

    def run(self, *argv: str) -> tuple[int, str, str]:
        code = main(["--db", str(self.db), *argv], clock=self.clock)
        out, err = self.capsys.readouterr()
        return code, out, err

    def load(self, kind: str, text: str) -> None:
        path = self.dir / f"{kind}.csv"
        path.write_text(text.strip() + "\n", encoding="utf-8")
        code, _out, err = self.run("import", kind, str(path), "-q")
        assert code == 0, err

    def sql(self, query: str) -> list[tuple]:
        conn = sqlite3.connect(self.db)
        try:
            return conn.execute(query).fetchall()
        finally:
            conn.close()

    def dealt(self) -> dict | None:
        code, out, err = self.run("next", "--as", "alice", "--json")
        assert code in (0, 3), err
        account = json.loads(out)["account"]
        if account is not None:  # give it back: the next check starts from the queue
            conn = sqlite3.connect(self.db)
            conn.execute("UPDATE queue SET claimed_by = NULL, claim_expires_at = NULL")
            conn.commit()
            conn.close()
        return account


def consumer(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    *,
    country: str = "US",
    subdivision: str = "NY",
    phone: str = "+12125550100",
    status: str = "active",
    due: str = "2026-09-01",
) -> Book:
    """A new user's first ledger: customers first (it creates the file), then the team, then
    the owner, the invoice."""
    book = Book(tmp_path, capsys)
    currency = {"US": "USD", "CA": "CAD", "MX": "MXN"}[country]
    head = "customer_ref,name,country,subdivision,currency,portfolio,status,phone"
    row = f"C1,Jane Roe,{country},{subdivision},{currency},consumer,{status},{phone}"
    book.load("customers", f"{head}\n{row}")
    assert book.run("collectors", "add", "lena", "--role", "admin")[0] == 0  # the owner
    assert book.run("collectors", "add", "alice", "--as", "lena")[0] == 0
    book.load("customers", "customer_ref,name,collector\nC1,Jane Roe,alice")
    book.load(
        "invoices",
        f"customer_ref,number,issue_date,due_date,amount\nC1,INV-1,2026-06-01,{due},500.00",
    )
    return book


# -- 1. calling windows ------------------------------------------------------------------

WINDOWS = [
    # (subdivision, number, UTC instant, dealt)
    ("NY", "+12135550100", "2026-11-24T02:30:00", False),  # 21:30 New York, LA number
    ("NY", "+12135550100", "2026-11-24T01:30:00", True),  # 20:30 New York
    ("CA", "+12125550100", "2026-11-23T13:30:00", False),  # 05:30 Pacific, NY number
    ("HI", "+18002345678", "2026-11-23T16:00:00", False),  # 06:00 Hawaii, toll-free
    ("HI", "+18002345678", "2026-11-23T18:30:00", True),  # 08:30 Hawaii
    ("AZ", "+19288710000", "2026-07-01T14:30:00", False),  # 07:30 Phoenix, 08:30 Denver
    ("AZ", "+19288710000", "2026-07-02T03:30:00", False),  # 20:30 Phoenix, 21:30 Denver
    ("AZ", "+19288710000", "2026-07-01T15:00:00", True),  # 08:00 Phoenix, 09:00 Denver
]


@pytest.mark.parametrize(("sub", "phone", "when", "dealt"), WINDOWS)
def test_the_window_holds_in_every_zone_the_consumer_may_be_in(
    tmp_path, capsys, sub, phone, when, dealt
):
    book = consumer(tmp_path, capsys, subdivision=sub, phone=phone)
    assert (book.at(when).dealt() is not None) is dealt


# -- 2. holidays ---------------------------------------------------------------------------

HOLIDAYS = [
    ("ON", "+14165550123", "2026-07-01T18:00:00", False),  # Canada Day, 14:00 Toronto
    ("QC", "+15145550123", "2026-07-01T18:00:00", False),
    ("ON", "+14165550123", "2026-04-03T18:00:00", False),  # Good Friday
    ("QC", "+15145550123", "2026-04-03T18:00:00", False),
    ("QC", "+15145550123", "2026-06-24T18:00:00", False),  # Saint-Jean-Baptiste
    ("ON", "+14165550123", "2026-06-24T18:00:00", True),  # not Ontario's
    ("ON", "+14165550123", "2026-12-25T19:00:00", False),  # Christmas
    ("QC", "+15145550123", "2026-12-25T19:00:00", False),
    ("ON", "+14165550123", "2026-07-02T18:00:00", True),
]


@pytest.mark.parametrize(("sub", "phone", "when", "dealt"), HOLIDAYS)
def test_ontario_and_quebec_are_not_dealt_on_their_holidays(
    tmp_path, capsys, sub, phone, when, dealt
):
    book = consumer(tmp_path, capsys, country="CA", subdivision=sub, phone=phone)
    assert (book.at(when).dealt() is not None) is dealt


RETRIES = [("ON", "+14165550123", "2026-12-29"), ("QC", "+15145550123", "2026-12-28")]


@pytest.mark.parametrize(("sub", "phone", "retry"), RETRIES)
def test_no_answer_on_christmas_eve_retries_after_the_holidays(tmp_path, capsys, sub, phone, retry):
    """Ontario also keeps Boxing Day (observed Monday 28); Quebec does not."""
    book = consumer(tmp_path, capsys, country="CA", subdivision=sub, phone=phone)
    book.at("2026-12-24T15:00:00")
    assert book.dealt() is not None
    assert book.run("log", "C1", "no_answer", "--as", "alice")[0] == 0
    assert book.sql("SELECT next_action_at FROM queue")[0][0].startswith(retry)


# -- 3. addresses said differently -------------------------------------------------------


@pytest.mark.parametrize("written", ["Quebec", "Québec", "CA-QC", "PQ", "Que."])
def test_quebec_however_written_gets_the_quebec_rules(tmp_path, capsys, written):
    book = consumer(tmp_path, capsys, country="CA", subdivision=written, phone="+14165550123")
    assert book.sql("SELECT subdivision FROM customers") == [("QC",)]
    assert book.at("2026-11-29T19:00:00").dealt() is None  # Sunday 14:00: no calls in Quebec
    assert book.at("2026-11-30T19:00:00").dealt() is not None


def test_no_province_and_a_montreal_number_gets_the_quebec_rules(tmp_path, capsys):
    book = consumer(tmp_path, capsys, country="CA", subdivision="", phone="+15145550123")
    assert book.at("2026-11-29T19:00:00").dealt() is None  # Ontario would allow Sunday 14:00


# -- 4. statuses ------------------------------------------------------------------------------


def test_a_cease_account_takes_a_note_but_no_call_and_a_void_keeps_it_cease(tmp_path, capsys):
    book = consumer(tmp_path, capsys, status="cease").at("2026-11-24T15:00:00")
    assert book.dealt() is None
    code, _out, err = book.run("log", "C1", "no_answer", "--as", "alice")
    assert code == 1 and "cease" in err
    code, out, _err = book.run("log", "C1", "note", "--note", "wrote to us", "--as", "alice")
    assert code == 0 and "next" not in out
    # escalated to legal by mistake, then voided: cease again, never callable
    assert book.run("log", "C1", "escalated", "--escalation", "legal", "--as", "alice")[0] == 0
    escalation = book.sql("SELECT MAX(id) FROM activities")[0][0]
    assert book.run("void", str(escalation), "--reason", "wrong account", "--as", "lena")[0] == 0
    assert book.sql("SELECT status FROM customers") == [("cease",)]
    assert book.dealt() is None


# -- 5. promises --------------------------------------------------------------------------


def test_promises_decided_on_the_customers_date_and_payments_loaded_late(tmp_path, capsys):
    book = consumer(tmp_path, capsys).at("2026-11-24T15:00:00")
    args = ("--amount", "200", "--date", "2026-11-27", "--as", "alice")
    assert book.run("log", "C1", "promise_to_pay", *args)[0] == 0
    book.at("2026-11-30T00:30:00")  # 19:30 in New York on the last grace day
    assert book.run("queue", "refresh", "--as", "lena")[0] == 0
    assert book.sql("SELECT status FROM promises") == [("pending",)]
    book.at("2026-11-30T05:01:00")  # the day after, where the customer is
    assert book.run("queue", "refresh", "--as", "lena")[0] == 0
    assert book.sql("SELECT status FROM promises") == [("broken",)]
    book.load("payments", "customer_ref,amount,paid_on,payment_ref\nC1,200.00,2026-11-28,P1")
    assert book.sql("SELECT status FROM promises") == [("kept",)]
    assert book.sql("SELECT broken_promise FROM queue") == [(0,)]


def test_a_renegotiated_promise_cancels_the_old_one(tmp_path, capsys):
    book = consumer(tmp_path, capsys).at("2026-11-24T15:00:00")
    book.run(
        "log", "C1", "promise_to_pay", "--amount", "200", "--date", "2026-11-27", "--as", "alice"
    )
    book.at("2026-11-26T15:00:00")
    book.run(
        "log", "C1", "promise_to_pay", "--amount", "200", "--date", "2026-12-10", "--as", "alice"
    )
    book.at("2026-12-02T15:00:00").run("queue", "refresh", "--as", "lena")
    assert book.sql("SELECT status, superseded_by FROM promises ORDER BY id") == [
        ("cancelled", 2),
        ("pending", None),
    ]


def test_an_invoice_the_erp_closes_counts_for_the_promise(tmp_path, capsys):
    book = consumer(tmp_path, capsys).at("2026-11-24T15:00:00")
    book.run(
        "log", "C1", "promise_to_pay", "--amount", "500", "--date", "2026-11-27", "--as", "alice"
    )
    book.at("2026-11-26T12:00:00")
    book.load(
        "invoices",
        "customer_ref,number,issue_date,due_date,amount,open_amount\n"
        "C1,INV-1,2026-06-01,2026-09-01,500.00,0",
    )
    assert book.sql("SELECT status FROM promises") == [("kept",)]


def test_nothing_past_due_is_not_dealt(tmp_path, capsys):
    book = consumer(tmp_path, capsys, due="2026-12-20").at("2026-11-24T15:00:00")
    assert book.dealt() is None
    assert book.at("2026-12-21T15:00:00").dealt() is not None


# -- 6. times in the customer's clock ------------------------------------------------------


def test_a_callback_at_9_is_9_in_new_york_and_7_is_refused(tmp_path, capsys):
    book = consumer(tmp_path, capsys).at("2026-11-24T15:00:00")
    code, _out, err = book.run("log", "C1", "callback", "--at", "tomorrow 7:00", "--as", "alice")
    assert code == 2 and "it opens Wed 25 Nov 8:00 New York (13:00 for you)" in err
    assert book.run("log", "C1", "callback", "--at", "tomorrow 9:00", "--as", "alice")[0] == 0
    assert book.sql("SELECT next_action_at FROM queue") == [("2026-11-25T14:00:00Z",)]


# -- 7. one figure -----------------------------------------------------------------------------


def test_owed_is_one_figure_in_next_and_the_aging(tmp_path, capsys):
    book = consumer(tmp_path, capsys).at("2026-11-24T15:00:00")
    book.load(
        "invoices",
        "customer_ref,number,issue_date,due_date,amount\n"
        "C1,INV-2,2026-11-20,2026-12-20,100.00\nC1,CN-1,2026-08-15,2026-10-15,-50.00",
    )
    owed = book.dealt()["owed"]  # type: ignore[index]
    code, out, _err = book.run("report", "aging", "--format", "json")
    row = json.loads(out)["rows"][0]
    assert code == 0
    for key in ("net_minor", "credits_minor", "current_minor", "61-90_minor"):
        assert owed[key] == row[key], key
    assert (owed["net_minor"], owed["due_now_minor"], owed["credits_minor"]) == (
        55_000,
        45_000,
        -5_000,
    )


# -- 8. an outcome taken back ---------------------------------------------------------------


def test_void_cancels_what_the_outcome_created_and_history_strikes_it(tmp_path, capsys):
    book = consumer(tmp_path, capsys).at("2026-11-24T15:00:00")
    book.run("log", "C1", "promise_to_pay", "--amount", "200", "--date", "+3d", "--as", "alice")
    code, _out, err = book.run("void", "1", "--reason", "wrong account", "--as", "lena")
    assert code == 0, err
    assert book.sql("SELECT status FROM promises") == [("cancelled",)]
    assert book.sql("SELECT next_action, state FROM queue") == [("call", "ready")]
    _code, out, _err = book.run("history", "C1", "--as", "alice")
    assert "~~promise_to_pay~~" in out and "voided by lena" in out
