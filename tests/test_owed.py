"""One figure for what is owed (dunning/owed.py): the account screen, `dunning next` (text
and JSON), the promise dialog's default amount and the aging report say the same.

The account: an invoice 53 days past due (180.00), one not yet due (20.00), a disputed one
(500.00), a credit note past its due date (-100.00) and unapplied cash (-50.00). Before the
one definition the screen said "Owed 550", `dunning next` 200 and the promise dialog 50;
the credit note sat in the screen's 1-30 bucket and the unapplied cash in none.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from textual.widgets import Input
from tui_helpers import make_app, part, settle

from dunning.cli import main
from dunning.clock import FixedClock, to_iso
from dunning.db import exports, reports
from dunning.db.connection import connect, write_tx
from dunning.db.schema import migrate
from dunning.owed import FIELDS, Owed
from dunning.queue.accounts import refresh_accounts
from dunning.queue.config import Settings
from dunning.tui.dialogs.outcome import OutcomeDialog

# on 2026-11-23: current 20.00; 31-60: 180.00; credits -150.00; disputed 500.00
EXPECTED = {
    "current": 2_000,
    "1-30": 0,
    "31-60": 18_000,
    "61-90": 0,
    "91-120": 0,
    "120+": 0,
    "credits": -15_000,
    "net": 5_000,
    "disputed": 50_000,
    "total": 55_000,
    "overdue": 18_000,
    "due_now": 3_000,
}


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    from conftest import Ledger

    path = tmp_path / "owed.db"
    conn = connect(path)
    migrate(conn)
    led = Ledger(conn, clock, Settings())
    alice = led.collector("alice")
    cid = led.customer(
        "Mixed Ledger Ltd",
        collector=alice,
        invoices=[
            (18_000, "2026-10-01"),  # 53 days past due
            (2_000, "2026-12-10"),  # not yet due
            (50_000, "2026-09-01"),  # disputed below
            (-10_000, "2026-11-01"),  # a credit note past its due date
        ],
    )
    now = to_iso(clock.now())
    with write_tx(conn):
        conn.execute("UPDATE invoices SET disputed = 1 WHERE number = ?", (f"INV-{cid}-2",))
        conn.execute(
            "INSERT INTO payments (customer_id, invoice_id, amount_minor, currency, paid_on, "
            "created_at) VALUES (?, NULL, 5000, 'USD', '2026-11-20', ?)",
            (cid, now),
        )
        refresh_accounts(conn, clock, Settings(), [cid])
    conn.close()
    return path


def test_the_definition() -> None:
    owed = Owed("USD", (2_000, 0, 18_000, 0, 0, 0), credits=-15_000, disputed=50_000)
    assert owed.figures() == EXPECTED
    assert list(FIELDS) == list(EXPECTED)[:10]
    assert owed.as_json()["due_now_minor"] == 3_000 and owed.as_json()["currency"] == "USD"
    # in credit: net below zero, nothing due now
    assert Owed("USD", (0, 1_000, 0, 0, 0, 0), credits=-3_000).figures()["net"] == -2_000
    assert Owed("USD", (0, 1_000, 0, 0, 0, 0), credits=-3_000).due_now == 0


def _run(db: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["--db", str(db), *argv], clock=clock) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


async def test_screen_cli_promise_and_report_agree(
    db: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]
) -> None:
    # the screen: Owed (net), due now, disputed; buckets then credits
    app = make_app(db, clock)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await settle(pilot)
        aging = part(screen, "aging")
        assert "Owed $50.00  due now $30.00  disputed $500.00" in aging, aging
        heads, amounts = aging.split("\n")[1:3]
        assert heads.split() == ["current", "1-30", "31-60", "61-90", "91-120", "120+", "credits"]
        assert amounts.split() == ["$20.00", "·", "$180.00", "·", "·", "·", "-$150.00"]
        # the promise dialog proposes what is due now
        await pilot.press("p")
        await pilot.pause(0.1)
        assert isinstance(app.screen, OutcomeDialog)
        assert app.screen.query_one("#f-amount", Input).value == "30.00"
        await pilot.press("escape")
        await pilot.pause(0.1)

    # dunning next --json: the same figures, by the report's names
    data = json.loads(_run(db, clock, capsys, "next", "--as", "alice", "--json"))
    owed = data["account"]["owed"]
    assert owed == {"currency": "USD"} | {f"{k}_minor": v for k, v in EXPECTED.items()}
    # and as text
    text = _run(db, clock, capsys, "next", "--as", "alice")
    assert "owed    $50.00  due now $30.00  disputed $500.00" in text, text
    assert "aging   current: $20.00  31-60: $180.00  credits: -$150.00" in text, text

    # the aging report: rows, JSON, CSV, XLSX
    conn = connect(db)
    try:
        row = next(r for r in reports.aging(conn, clock.now().date()).rows)
        assert row.owed().figures() == EXPECTED
        assert (row.net, row.total) == (EXPECTED["net"], EXPECTED["total"])
    finally:
        conn.close()
    report = json.loads(_run(db, clock, capsys, "report", "aging", "--format", "json"))
    first = report["rows"][0]
    assert {k: first[f"{k}_minor"] for k in FIELDS} == {k: EXPECTED[k] for k in FIELDS}
    out = _run(db, clock, capsys, "report", "aging", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {k: rows[0][k] for k in FIELDS} == {k: f"{EXPECTED[k] / 100:.2f}" for k in FIELDS}
    xlsx = db.parent / "a.xlsx"
    _run(db, clock, capsys, "report", "aging", "-o", str(xlsx))
    ws = load_workbook(xlsx).worksheets[0]
    header = [c.value for c in ws[1]]
    got = {k: ws.cell(2, header.index(k) + 1).value for k in FIELDS}
    assert got == {k: EXPECTED[k] / 100 for k in FIELDS}
    table = _run(db, clock, capsys, "report", "aging")
    assert table.split("\n")[1].split()[-10:] == [
        "current", "1-30", "31-60", "61-90", "91-120", "120+",
        "credits", "net", "disputed", "total",
    ]  # fmt: skip


def test_aging_table_columns_follow_the_definition(db: Path, clock: FixedClock) -> None:
    conn = connect(db)
    try:
        cols, rows = exports.aging_table(reports.aging(conn, clock.now().date()))
    finally:
        conn.close()
    names = [c.name for c in cols]
    assert names[-10:] == list(FIELDS)
    assert dict(zip(names[-10:], rows[0][-10:], strict=True)) == {k: EXPECTED[k] for k in FIELDS}


def test_search_shows_the_same_net(db: Path) -> None:
    from dunning.queue.search import search_customers

    conn = connect(db)
    try:
        (hit,) = search_customers(conn, "Mixed")
    finally:
        conn.close()
    assert hit.net_minor == EXPECTED["net"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(-50_000, 100_000).filter(bool),  # open amount (< 0: a credit note)
            st.integers(-200, 200),  # days past due
            st.booleans(),  # disputed
        ),
        max_size=8,
    ),
    st.lists(st.integers(1, 30_000), max_size=2),  # unapplied cash
)
def test_the_sql_computes_the_definition(
    items: list[tuple[int, int, bool]], cash: list[int]
) -> None:
    """For any ledger of one account: the report's SQL (what the screen, the CLI and the
    promise read) gives the figures the definition names, and the queue row the same net
    and disputed amounts."""
    import tempfile

    from conftest import T0, Ledger

    from dunning.aging import bucket_for
    from dunning.queue.account_view import load_account

    clock = FixedClock(T0)
    today = T0.date()
    with tempfile.TemporaryDirectory() as tmp:
        conn = connect(Path(tmp) / "p.db")
        migrate(conn)
        led = Ledger(conn, clock, Settings())
        rows = [(a, (today - timedelta(days=d)).isoformat()) for a, d, _ in items]
        cid = led.customer("P", invoices=rows)
        with write_tx(conn):
            for k, (_, _, disputed) in enumerate(items):
                if disputed:
                    conn.execute("UPDATE invoices SET disputed = 1 WHERE number = ?",
                                 (f"INV-{cid}-{k}",))  # fmt: skip
            for amount in cash:
                conn.execute(
                    "INSERT INTO payments (customer_id, amount_minor, currency, paid_on, "
                    "created_at) VALUES (?, ?, 'USD', '2026-11-01', ?)",
                    (cid, amount, to_iso(T0)),
                )
            refresh_accounts(conn, clock, Settings(), [cid])
        if not items:  # the Ledger's default invoice
            items = [(100_000, (today - date(2026, 9, 1)).days, False)]
        buckets = dict.fromkeys(("current", "1-30", "31-60", "61-90", "91-120", "120+"), 0)
        for amount, days, disputed in items:
            if amount > 0 and not disputed:
                buckets[bucket_for(days)] += amount
        want = Owed(
            "USD",
            tuple(buckets.values()),
            credits=sum(a for a, _, _ in items if a < 0) - sum(cash),
            disputed=sum(a for a, _, d in items if a > 0 and d),
        )
        view = load_account(conn, clock, Settings(), cid)
        assert view is not None and view.owed == want
        q = conn.execute(
            "SELECT open_minor + unapplied_minor, disputed_minor FROM queue WHERE customer_id = ?",
            (cid,),
        ).fetchone()
        assert (q[0], q[1]) == (want.net, want.disputed)
        conn.close()
