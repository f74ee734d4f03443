"""ERP layouts at their edges: Xero contacts named "Total ...", its rejects file, QuickBooks
unapplied payments without a Num, Odoo instalment lines. The aging must equal the ERP's."""

from __future__ import annotations

import csv
import sqlite3
from datetime import date
from pathlib import Path

from test_ledger_support import cli, count, dump, load, write_csv

from dunning.clock import FixedClock
from dunning.db import reports
from dunning.db.connection import connect

XERO_HEAD = [["Aged Receivables Detail"], ["Invoice Date", "Invoice Number", "Due Date",
             "Total", "Due"]]  # fmt: skip


def _owners(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(
        conn.execute(
            "SELECT i.number, c.name FROM invoices i JOIN customers c ON c.id = i.customer_id"
        )
    )


def test_xero_a_contact_named_total_is_a_contact(conn: sqlite3.Connection, tmp_path: Path) -> None:
    rows = [
        *XERO_HEAD,
        ["Bayside Club", "", "", "", ""],
        ["15 Oct 2026", "INV-0041", "14 Nov 2026", "1,500.00", "1,000.00"],
        ["Total Bayside Club", "", "", "1,500.00", "1,000.00"],
        ["Total Fitness Ltd", "", "", "", ""],
        ["20 Sep 2026", "INV-0050", "20 Oct 2026", "2,000.00", "2,000.00"],
        ["Total Total Fitness Ltd", "", "", "2,000.00", "2,000.00"],
        ["Total for Total Fitness Ltd"],  # a bare label total: still a total
        ["Total", "", "", "3,500.00", "3,000.00"],
    ]
    r = load(conn, write_csv(tmp_path / "xero.csv", rows), "invoices", profile="xero")
    assert (r.created, r.refused, r.customers_created) == (2, 0, 2)
    assert _owners(conn) == {"INV-0041": "Bayside Club", "INV-0050": "Total Fitness Ltd"}


def test_xero_rejects_file_carries_the_contact_and_reimports(tmp_path: Path) -> None:
    rows = [
        ["Aged Receivables Detail"],
        ["Invoice Date", "Invoice Number", "Invoice Reference", "Due Date", "Total", "Due"],
        ["Bayside Club"],
        ["15 Oct 2026", "INV-0041", "P/O 9921", "14 Nov 2026", "1,500.00", "1,000.00"],
        ["01/11/2026", "INV-0045", "", "31/11/2026", "234.00", "234.00"],
        ["Total Bayside Club", "", "", "", "1,734.00", "1,234.00"],
        ["City Limousines"],
        ["20 Sep 2026", "INV-0032", "", "20 Oct 2026", "2,000.00", "2,000.00"],
    ]
    db = tmp_path / "d.db"
    path = write_csv(tmp_path / "xero.csv", rows)
    assert cli(db, "import", "invoices", str(path), "--profile", "xero", "--skip-invalid") == 0
    rejects = tmp_path / "xero.rejects.csv"
    with rejects.open(newline="") as fh:
        got = list(csv.reader(fh))
    assert got[0][-1] == "Contact" and got[1][-1] == "Bayside Club" and got[1][0] == "5"
    fixed = [got[0], [*got[1][:5], "30/11/2026", *got[1][6:]]]
    write_csv(rejects, fixed)
    assert cli(db, "import", "invoices", str(rejects), "--profile", "xero") == 0
    conn = connect(db)
    try:
        assert _owners(conn) == {"INV-0041": "Bayside Club", "INV-0045": "Bayside Club",
                                 "INV-0032": "City Limousines"}  # fmt: skip
        assert count(conn, "SELECT due_date FROM invoices WHERE number = 'INV-0045'") == (
            "2026-11-30"
        )
    finally:
        conn.close()


QB = [
    ["Craig's Design and Landscaping Services"],
    ["A/R Aging Detail"],
    [],
    ["", "Date", "Transaction Type", "Num", "Customer", "Due Date", "Past Due", "Amount",
     "Open Balance"],
    ["1 - 30 days past due", "", "", "", "", "", "", "", ""],
    ["", "10/15/2026", "Invoice", "1037", "Amy's Bird Sanctuary", "11/14/2026", "17",
     "$2,000.00", "$1,500.00"],
    ["", "10/25/2026", "Payment", "", "Cool Cars", "10/25/2026", "37", "-$300.00", "-$300.00"],
    ["", "10/26/2026", "Payment", "", "Cool Cars", "10/26/2026", "36", "-$50.00", "-$50.00"],
    ["", "10/26/2026", "Payment", "", "Cool Cars", "10/26/2026", "36", "-$50.00", "-$50.00"],
    ["Total for 1 - 30 days past due", "", "", "", "", "", "", "", "$1,100.00"],
    ["91 or more days past due", "", "", "", "", "", "", "", ""],
    ["", "06/01/2026", "Invoice", "1001", "Cool Cars", "07/01/2026", "153", "4,000.00",
     "4,000.00"],
    ["TOTAL", "", "", "", "", "", "", "", "$5,100.00"],
]  # fmt: skip


def test_quickbooks_unapplied_payments_are_credits_keyed_by_type_date_customer_amount(
    conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock
) -> None:
    path = write_csv(tmp_path / "qb.csv", QB)
    r = load(conn, path, "invoices", clock, profile="quickbooks", snapshot=True)
    assert (r.created, r.refused) == (5, 0)
    got = dict(conn.execute("SELECT number, open_minor FROM invoices WHERE amount_minor < 0"))
    assert got == {
        "Payment 2026-10-25 Cool Cars -300.00": -30000,
        "Payment 2026-10-26 Cool Cars -50.00": -5000,
        "Payment 2026-10-26 Cool Cars -50.00 #2": -5000,  # two identical lines, two credits
    }
    # the aging's total is QuickBooks' TOTAL row, to the cent
    assert [t.total for t in reports.aging(conn, date(2026, 12, 1)).totals] == [510000]
    before = dump(conn)
    again = load(conn, path, "invoices", clock, profile="quickbooks", snapshot=True)
    assert (again.created, again.updated, again.unchanged, again.closed) == (0, 0, 5, 0)
    assert dump(conn) == before


def test_quickbooks_an_invoice_without_num_is_still_refused(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    rows = [*QB[:4], ["", "10/15/2026", "Invoice", "", "Amy's Bird Sanctuary", "11/14/2026",
                      "17", "$2,000.00", "$1,500.00"]]  # fmt: skip
    r = load(conn, write_csv(tmp_path / "qb.csv", rows), "invoices", profile="quickbooks")
    assert r.refused == 1 and not r.written
    assert "the invoice number is required" in r.seen[0][1].reason  # type: ignore[attr-defined]


ODOO = ["Date", "Journal Entry", "Partner", "Due Date", "Balance", "Residual Amount", "Currency"]


def test_odoo_instalments_are_invoices_of_their_own_due_dates(
    conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock
) -> None:
    rows = [
        ODOO,
        ["2026-10-01", "INV/2026/00030", "Gemini Furniture", "2026-10-31", "300.0", "300.0",
         "USD"],
        ["2026-10-01", "INV/2026/00030", "Gemini Furniture", "2026-12-30", "700.0", "700.0",
         "USD"],
        ["2026-10-05", "INV/2026/00031", "Gemini Furniture", "2026-11-04", "50.0", "50.0", "USD"],
    ]  # fmt: skip
    path = write_csv(tmp_path / "odoo.csv", rows)
    r = load(conn, path, "invoices", clock, profile="odoo")
    assert (r.created, r.refused) == (3, 0)
    assert dict(conn.execute("SELECT number, due_date FROM invoices")) == {
        "INV/2026/00030@2026-10-31": "2026-10-31",
        "INV/2026/00030@2026-12-30": "2026-12-30",
        "INV/2026/00031": "2026-11-04",
    }
    (row,) = reports.aging(conn, date(2026, 11, 23)).rows
    assert row.buckets[:2] == [70000, 30000 + 5000] and row.total == 105000  # current, 1-30
    assert load(conn, path, "invoices", clock, profile="odoo").unchanged == 3
    # the first instalment is paid: the next extract has the second line only
    later = write_csv(tmp_path / "later.csv", [ODOO, rows[2], rows[3]])
    r = load(conn, later, "invoices", clock, profile="odoo", snapshot=True)
    assert (r.created, r.unchanged, r.closed) == (0, 2, 1)
    assert count(conn, "SELECT status FROM invoices WHERE number = ?",
                 "INV/2026/00030@2026-10-31") == "closed"  # fmt: skip


def test_a_payment_naming_an_odoo_move_goes_to_its_earliest_open_instalment(
    conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock
) -> None:
    rows = [
        ODOO,
        ["2026-10-01", "INV/2026/00030", "Gemini", "2026-10-31", "300.0", "300.0", "USD"],
        ["2026-10-01", "INV/2026/00030", "Gemini", "2026-12-30", "700.0", "700.0", "USD"],
    ]
    load(conn, write_csv(tmp_path / "o.csv", rows), "invoices", clock, profile="odoo")
    pay = [["invoice", "amount", "paid_on"], ["INV/2026/00030", "300", "2026-11-20"]]
    r = load(conn, write_csv(tmp_path / "p.csv", pay), "payments", clock)
    assert (r.created, r.refused) == (1, 0)
    assert dict(conn.execute("SELECT number, open_minor FROM invoices")) == {
        "INV/2026/00030@2026-10-31": 0,
        "INV/2026/00030@2026-12-30": 70000,
    }


def test_xero_rejects_fill_a_blank_contact_column_from_its_heading(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    rows = [
        ["Contact", "Invoice Date", "Invoice Number", "Due Date", "Total", "Due"],
        ["Bayside Club", "", "", "", "", ""],
        ["", "15 Oct 2026", "INV-0041", "14 Nov 2026", "1,500.00", "1,000.00"],
        ["", "01/11/2026", "INV-0045", "31/11/2026", "234.00", "234.00"],
    ]
    r = load(conn, write_csv(tmp_path / "x.csv", rows), "invoices", profile="xero",
             skip_invalid=True)  # fmt: skip
    assert (r.created, r.refused) == (1, 1) and r.rejects is not None
    with r.rejects.open(newline="") as fh:
        got = list(csv.reader(fh))
    assert got[0][2:] == rows[0] and got[1][2:4] == ["Bayside Club", "01/11/2026"]
