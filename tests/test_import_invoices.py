"""Invoice imports: round trips, idempotence, updates, snapshots, real-world files."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from test_ledger_support import (
    IBM,
    count,
    dump,
    invoices_csv,
    load,
    write_csv,
)

from dunning.clock import FixedClock
from dunning.db import reports

ROWS = [
    ["C1", "Acme", "INV-1", "2026-09-01", "2026-10-01", "1,200.00", "1,200.00"],
    ["C1", "Acme", "INV-2", "2026-10-15", "2026-11-14", "300.50", "100.50"],
    ["C1", "Acme", "CN-1", "2026-10-20", "", "-50.00", "-50.00"],
    ["C2", "Bolt", "INV-3", "2026-11-01", "2026-12-01", "99.99", "99.99"],
]


def test_generic_round_trip_creates_customers_invoices_and_queue_rows(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    r = load(conn, invoices_csv(tmp_path / "inv.csv", ROWS), "invoices", create_customers=True)
    assert (r.created, r.updated, r.unchanged, r.refused, r.customers_created) == (4, 0, 0, 0, 2)
    assert r.written
    got = conn.execute(
        "SELECT number, issue_date, due_date, amount_minor, open_minor, status, currency "
        "FROM invoices ORDER BY number"
    ).fetchall()
    assert [tuple(g) for g in got] == [
        ("CN-1", "2026-10-20", "2026-10-20", -5000, -5000, "open", "USD"),
        ("INV-1", "2026-09-01", "2026-10-01", 120000, 120000, "open", "USD"),
        ("INV-2", "2026-10-15", "2026-11-14", 30050, 10050, "open", "USD"),
        ("INV-3", "2026-11-01", "2026-12-01", 9999, 9999, "open", "USD"),
    ]
    q = conn.execute(
        "SELECT c.external_ref, q.open_minor, q.unapplied_minor, q.collector_id FROM queue q "
        "JOIN customers c ON c.id = q.customer_id ORDER BY 1"
    ).fetchall()
    assert [tuple(x) for x in q] == [("C1", 130050, -5000, None), ("C2", 9999, 0, None)]


def test_reimporting_the_same_file_changes_nothing(
    conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock
) -> None:
    path = invoices_csv(tmp_path / "inv.csv", ROWS)
    load(conn, path, "invoices", clock, create_customers=True)
    before = dump(conn)
    clock.advance(days=1)
    r = load(conn, path, "invoices", clock, create_customers=True, snapshot=True)
    assert (r.created, r.updated, r.unchanged, r.closed) == (0, 0, 4, 0)
    assert dump(conn) == before
    assert count(conn, "SELECT COUNT(*) FROM import_runs") == 1


def test_a_newer_file_updates_by_number_and_snapshot_closes_missing(
    conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock
) -> None:
    load(conn, invoices_csv(tmp_path / "a.csv", ROWS), "invoices", clock, create_customers=True)
    newer = [
        ["C1", "Acme", "INV-1", "2026-09-01", "2026-10-01", "1,200.00", "200.00"],  # part paid
        ["C1", "Acme", "INV-2", "2026-10-15", "2026-11-14", "300.50", "100.50"],
        ["C2", "Bolt", "INV-3", "2026-11-01", "2026-12-01", "99.99", "0"],  # paid
        ["C2", "Bolt", "INV-4", "2026-11-10", "2026-12-10", "10", "10"],  # new
    ]
    clock.advance(days=1)
    r = load(conn, invoices_csv(tmp_path / "b.csv", newer), "invoices", clock, snapshot=True)
    assert (r.created, r.updated, r.unchanged, r.closed) == (1, 2, 1, 1)
    status = dict(conn.execute("SELECT number, status || ':' || open_minor FROM invoices"))
    assert status == {
        "INV-1": "open:20000", "INV-2": "open:10050", "INV-3": "paid:0",
        "INV-4": "open:1000", "CN-1": "closed:0",
    }  # fmt: skip
    assert reports.ledger_total(conn) == {"USD": 20000 + 10050 + 1000}


def test_without_create_customers_unknown_customers_are_refused(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    r = load(conn, invoices_csv(tmp_path / "inv.csv", ROWS), "invoices")
    assert r.refused == 4 and not r.written
    where, refusal = r.seen[0]  # type: ignore[attr-defined]
    assert where.endswith("inv.csv:2") and refusal.column == "customer_ref"
    assert "no such customer" in refusal.reason
    assert count(conn, "SELECT COUNT(*) FROM invoices") == 0


def test_ibm_sample_as_of_a_date(conn: sqlite3.Connection) -> None:
    if not IBM.exists():
        pytest.skip("../shared/data is absent")
    r = load(conn, IBM, "invoices", profile="ibm", as_of=date(2013, 6, 30))
    assert r.refused == 0 and r.written
    assert r.rows == 2466 and r.skipped + r.created == 2466
    # open on the as-of date = issued by then and settled after it
    import csv

    with IBM.open(newline="") as fh:
        rows = list(csv.DictReader(fh))

    def iso(us: str) -> str:
        m, d, y = us.split("/")
        return f"{y}-{int(m):02d}-{int(d):02d}"

    open_rows = [x for x in rows if iso(x["InvoiceDate"]) <= "2013-06-30" < iso(x["SettledDate"])]
    expected = sum(round(float(x["InvoiceAmount"]) * 100) for x in open_rows)
    assert count(conn, "SELECT COUNT(*) FROM invoices WHERE status = 'open'") == len(open_rows)
    report = reports.aging(conn, date(2013, 6, 30))
    assert [t.total for t in report.totals] == [expected]
    assert reports.ledger_total(conn) == {"USD": expected}
    assert count(conn, "SELECT COUNT(*) FROM customers") == 100
    # settled by the as-of date: a payment applied to the invoice, on its settled date
    assert count(conn, "SELECT COUNT(*) FROM payments WHERE applied_by = 'settled'") == (
        r.created - len(open_rows)
    )
    again = load(conn, IBM, "invoices", profile="ibm", as_of=date(2013, 6, 30))
    assert (again.created, again.updated, again.payments) == (0, 0, 0)
    later = load(conn, IBM, "invoices", profile="ibm", as_of=date(2013, 9, 30))
    assert later.updated > 0 and later.payments > 0


QB = [
    ["Acme Corp"],
    ["A/R Aging Detail"],
    ["As of November 23, 2026"],
    [],
    ["", "Date", "Transaction Type", "Num", "Customer", "Due Date", "Past Due", "Amount",
     "Open Balance"],
    ["Current", "", "", "", "", "", "", "", ""],
    ["", "11/15/2026", "Invoice", "1045", "Jones Ltd", "12/15/2026", "-22", "1,200.00",
     "1,200.00"],
    ["Total for Current", "", "", "", "", "", "", "", "$1,200.00"],
    ["31 - 60 days past due", "", "", "", "", "", "", "", ""],
    ["", "09/01/2026", "Invoice", "1001", "Smith & Co", "10/01/2026", "53", "$500.00",
     "$250.00"],
    ["", "09/20/2026", "Credit Memo", "CM-7", "Smith & Co", "09/20/2026", "", "-40.00",
     "-40.00"],
    ["Total for 31 - 60 days past due", "", "", "", "", "", "", "", "$210.00"],
    ["TOTAL", "", "", "", "", "", "", "", "$1,410.00"],
    [],
]  # fmt: skip


def test_quickbooks_aging_detail(conn: sqlite3.Connection, tmp_path: Path) -> None:
    r = load(conn, write_csv(tmp_path / "qb.csv", QB), "invoices", profile="quickbooks")
    assert (r.created, r.refused, r.customers_created, r.header_line) == (3, 0, 2, 5)
    assert dict(conn.execute("SELECT number, open_minor FROM invoices")) == {
        "1045": 120000, "1001": 25000, "CM-7": -4000,
    }  # fmt: skip
    assert reports.ledger_total(conn) == {"USD": 141000}


def test_sap_fbl5n_semicolons_cp1252_and_trailing_minus(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    rows = [
        ["Customer", "Name 1", "Document Number", "Document Date", "Net due date",
         "Amount in local currency", "Local Currency"],
        ["100234", "Müller GmbH", "1800000012", "03.10.2026", "02.11.2026", "1.234,56", "EUR"],
        ["100234", "Müller GmbH", "1400000007", "15.10.2026", "15.10.2026", "200,00-", "EUR"],
        ["", "", "", "", "", "", ""],
    ]  # fmt: skip
    path = write_csv(tmp_path / "fbl5n.csv", rows, delimiter=";", encoding="cp1252")
    r = load(conn, path, "invoices", profile="sap_fbl5n", country="DE", currency="EUR")
    assert (r.created, r.refused, r.encoding, r.delimiter) == (2, 0, "cp1252", ";")
    assert conn.execute("SELECT name, country, currency FROM customers").fetchone()[:] == (
        "Müller GmbH", "DE", "EUR",
    )  # fmt: skip
    assert reports.ledger_total(conn) == {"EUR": 123456 - 20000}


def test_odoo_journal_items_technical_names(conn: sqlite3.Connection, tmp_path: Path) -> None:
    rows = [
        ["partner_id", "move_id", "date", "date_maturity", "balance", "amount_residual",
         "currency_id"],
        ["Azure Interior", "INV/2026/00012", "2026-10-01", "2026-10-31", "1500.0", "750.0",
         "USD"],
    ]  # fmt: skip
    r = load(conn, write_csv(tmp_path / "odoo.csv", rows), "invoices", profile="odoo")
    assert (r.created, r.refused) == (1, 0)
    assert conn.execute("SELECT amount_minor, open_minor FROM invoices").fetchone()[:] == (
        150000, 75000,
    )  # fmt: skip


def test_xero_contact_heads_its_group(conn: sqlite3.Connection, tmp_path: Path) -> None:
    rows = [
        ["Aged Receivables Detail"],
        ["Invoice Date", "Invoice Number", "Due Date", "Total", "Due"],
        ["Bayside Club"],
        ["05 Oct 2026", "INV-0042", "04 Nov 2026", "2,300.00", "2,300.00"],
        ["12 Oct 2026", "INV-0043", "11 Nov 2026", "500.00", "125.00"],
        ["Total Bayside Club", "", "", "2,800.00", "2,425.00"],
        ["City Agency"],
        ["01 Nov 2026", "INV-0050", "01 Dec 2026", "80.00", "80.00"],
    ]
    r = load(conn, write_csv(tmp_path / "xero.csv", rows), "invoices", profile="xero")
    assert (r.created, r.refused, r.customers_created) == (3, 0, 2)
    owners = dict(
        conn.execute(
            "SELECT i.number, c.name FROM invoices i JOIN customers c ON c.id = i.customer_id"
        )
    )
    assert owners == {"INV-0042": "Bayside Club", "INV-0043": "Bayside Club",
                      "INV-0050": "City Agency"}  # fmt: skip


def test_xlsx_with_typed_cells_and_a_bom_csv_give_the_same_ledger(
    tmp_path: Path, conn: sqlite3.Connection
) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["Customer Ref", "Number", "Issue Date", "Due Date", "Amount"])
    ws.append(["C9", "X-1", date(2026, 9, 1), date(2026, 10, 1), 1234.5])
    ws.append(["C9", "X-2", "2026-09-02", "2026-10-02", "10"])
    ws.append([None, None, None, None, None])
    wb.save(tmp_path / "inv.xlsx")
    r = load(conn, tmp_path / "inv.xlsx", "invoices", create_customers=True)
    assert (r.created, r.refused, r.ignored) == (2, 0, 0) or (r.created, r.refused) == (2, 0)
    bom = tmp_path / "bom.csv"
    bom.write_bytes(
        "\ufeffcustomer_ref\tnumber\tissue_date\tdue_date\tamount\r\n"
        "C9\tX-1\t9/1/2026\t10/1/2026\t1234.50\r\nC9\tX-2\t9/2/2026\t10/2/2026\t10\r\n\t\t\t\t\r\n".encode()
    )
    again = load(conn, bom, "invoices", create_customers=True)
    assert (again.created, again.updated, again.unchanged, again.delimiter) == (0, 0, 2, "\t")
