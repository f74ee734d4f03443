"""Payments: by reference, else oldest first, the rest unapplied; promises decided."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from test_ledger_support import count, dump, invoices_csv, load, write_csv

from dunning.clock import FixedClock, to_iso
from dunning.db import reports
from dunning.db.connection import write_tx

INVOICES = [
    ["C1", "Acme", "A", "2026-08-01", "2026-08-31", "100.00", ""],
    ["C1", "Acme", "B", "2026-09-01", "2026-09-30", "200.00", ""],
    ["C1", "Acme", "C", "2026-10-01", "2026-10-31", "300.00", ""],
    ["C2", "Bolt", "D", "2026-10-01", "2026-10-31", "50.00", ""],
]
PAY = ["customer_ref", "invoice", "amount", "paid_on", "payment_ref"]


def _ledger(conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock) -> None:
    r = load(conn, invoices_csv(tmp_path / "inv.csv", INVOICES), "invoices", clock,
             create_customers=True)  # fmt: skip
    assert r.created == 4


def _open(conn: sqlite3.Connection) -> dict[str, int]:
    return dict(conn.execute("SELECT number, open_minor FROM invoices"))


def test_by_reference_then_oldest_first_then_unapplied(
    conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock
) -> None:
    _ledger(conn, tmp_path, clock)
    rows = [
        PAY,
        ["C1", "C", "350.00", "2026-11-20", "P1"],  # C in full, 50 to the oldest (A)
        ["C1", "", "120.00", "2026-11-21", "P2"],  # oldest first: A's 50, then B
        ["", "D", "80.00", "2026-11-21", "P3"],  # customer from the invoice; 30 over
    ]
    r = load(conn, write_csv(tmp_path / "p.csv", rows), "payments", clock)
    assert (r.created, r.refused, r.payments) == (3, 0, 6)
    assert r.unapplied_minor == {"USD": 3000}
    assert _open(conn) == {"A": 0, "B": 13000, "C": 0, "D": 0}
    status = dict(conn.execute("SELECT number, status FROM invoices"))
    assert status == {"A": "paid", "B": "open", "C": "paid", "D": "paid"}
    how = conn.execute(
        "SELECT source_ref, applied_by, amount_minor FROM payments ORDER BY id"
    ).fetchall()
    assert [tuple(h) for h in how] == [
        ("ref:P1", "reference", 30000), ("ref:P1", "oldest_first", 5000),
        ("ref:P2", "oldest_first", 5000), ("ref:P2", "oldest_first", 7000),
        ("ref:P3", "reference", 5000), ("ref:P3", "unapplied", 3000),
    ]  # fmt: skip
    q = dict(conn.execute("SELECT c.external_ref, q.unapplied_minor FROM queue q "
                          "JOIN customers c ON c.id = q.customer_id"))  # fmt: skip
    assert q == {"C1": 0, "C2": -3000}  # unapplied cash visible on the account
    assert reports.ledger_total(conn) == {"USD": 13000 - 3000}
    before = dump(conn)
    again = load(conn, write_csv(tmp_path / "p.csv", rows), "payments", clock)
    assert (again.created, again.unchanged) == (0, 3)
    assert dump(conn) == before


def test_payments_without_ids_are_idempotent_and_disputed_invoices_are_skipped(
    conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock
) -> None:
    _ledger(conn, tmp_path, clock)
    with write_tx(conn):
        conn.execute("UPDATE invoices SET disputed = 1 WHERE number = 'A'")
    rows = [["customer_ref", "amount", "paid_on"], ["C1", "60", "2026-11-20"],
            ["C1", "60", "2026-11-20"]]  # fmt: skip
    path = write_csv(tmp_path / "p.csv", rows)
    r = load(conn, path, "payments", clock)
    assert r.created == 2
    assert _open(conn)["A"] == 10000 and _open(conn)["B"] == 8000
    before = dump(conn)
    assert load(conn, path, "payments", clock).unchanged == 2
    assert dump(conn) == before


def test_a_changed_amount_for_a_loaded_payment_is_refused(
    conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock
) -> None:
    _ledger(conn, tmp_path, clock)
    load(conn, write_csv(tmp_path / "p.csv", [PAY, ["C1", "", "10", "2026-11-20", "P1"]]),
         "payments", clock)  # fmt: skip
    r = load(conn, write_csv(tmp_path / "q.csv", [PAY, ["C1", "", "11", "2026-11-20", "P1"],
                                                 ["C1", "", "-5", "2026-11-20", "P2"],
                                                 ["C7", "", "5", "2026-11-20", "P3"],
                                                 ["C1", "", "5", "2026-11-20", "P1"]]),
             "payments", clock)  # fmt: skip
    reasons = [x.reason for _, x in r.seen]  # type: ignore[attr-defined]
    assert "another amount" in reasons[0] and "positive" in reasons[1]
    assert "no such customer" in reasons[2] and "also on line 2" in reasons[3]
    assert not r.written


def _promise(conn: sqlite3.Connection, cid: int, amount: int, due: str, promised_on: str) -> int:
    with write_tx(conn):
        cur = conn.execute(
            "INSERT INTO promises (customer_id, amount_minor, currency, promised_on, due_date, "
            "grace_days, created_at) VALUES (?,?,?,?,?,2,?)",
            (cid, amount, "USD", promised_on, due, to_iso(FixedClock().now())),
        )
    return int(cur.lastrowid or 0)


def test_promises_kept_partial_broken_at_the_grace_boundary(
    conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock
) -> None:
    _ledger(conn, tmp_path, clock)  # clock: 2026-11-23
    c1 = count(conn, "SELECT id FROM customers WHERE external_ref = 'C1'")
    c2 = count(conn, "SELECT id FROM customers WHERE external_ref = 'C2'")
    kept = _promise(conn, c1, 15000, "2026-11-19", "2026-11-10")  # grace ends 11-21
    partial = _promise(conn, c2, 5000, "2026-11-18", "2026-11-10")  # grace ends 11-20
    pending = _promise(conn, c1, 9000, "2026-11-22", "2026-11-20")  # grace ends 11-24
    rows = [PAY, ["C1", "", "150.00", "2026-11-21", "P1"],  # last grace day: counts
            ["C2", "", "20.00", "2026-11-20", "P2"],
            ["C2", "", "30.00", "2026-11-21", "P3"]]  # a day late: does not count  # fmt: skip
    r = load(conn, write_csv(tmp_path / "p.csv", rows), "payments", clock)
    assert r.promises_decided == 2
    got = dict(conn.execute("SELECT id, status || ':' || paid_minor FROM promises"))
    assert got == {kept: "kept:15000", partial: "partial:2000", pending: "pending:0"}
    broken = dict(conn.execute("SELECT c.external_ref, q.broken_promise FROM queue q "
                               "JOIN customers c ON c.id = q.customer_id"))  # fmt: skip
    assert broken == {"C1": 0, "C2": 1}


def test_an_overpayment_keeps_the_promise_and_leaves_cash_unapplied(
    conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock
) -> None:
    _ledger(conn, tmp_path, clock)
    c2 = count(conn, "SELECT id FROM customers WHERE external_ref = 'C2'")
    p = _promise(conn, c2, 5000, "2026-11-30", "2026-11-20")
    r = load(conn, write_csv(tmp_path / "p.csv", [PAY, ["C2", "D", "75", "2026-11-22", "X"]]),
             "payments", clock)  # fmt: skip
    assert r.unapplied_minor == {"USD": 2500} and r.promises_decided == 1
    assert conn.execute("SELECT status FROM promises WHERE id = ?", (p,)).fetchone()[0] == "kept"
    assert conn.execute("SELECT state FROM queue WHERE customer_id = ?", (c2,)).fetchone()[0] == (
        "closed"
    )


def test_promises_of_customers_the_file_does_not_name_are_decided_when_grace_ends(
    conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock
) -> None:
    _ledger(conn, tmp_path, clock)  # clock: 2026-11-23
    c2 = count(conn, "SELECT id FROM customers WHERE external_ref = 'C2'")
    lapsed = _promise(conn, c2, 5000, "2026-11-18", "2026-11-10")  # grace ended 11-20
    waiting = _promise(conn, c2, 5000, "2026-11-22", "2026-11-20")  # grace ends 11-24
    rows = [PAY, ["C1", "", "10.00", "2026-11-21", "P1"]]  # C2 paid nothing
    r = load(conn, write_csv(tmp_path / "p.csv", rows), "payments", clock)
    assert r.promises_decided == 1
    got = dict(conn.execute("SELECT id, status FROM promises"))
    assert got == {lapsed: "broken", waiting: "pending"}
    assert count(conn, "SELECT broken_promise FROM queue WHERE customer_id = ?", c2) == 1


def test_an_invoice_of_another_customer_is_applied_to_the_payer_with_a_warning(
    conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock
) -> None:
    _ledger(conn, tmp_path, clock)
    path = write_csv(tmp_path / "p.csv", [PAY, ["C1", "D", "20.00", "2026-11-21", "P1"]])
    r = load(conn, path, "payments", clock)
    assert (r.created, r.refused, r.warnings, r.written) == (1, 0, 1, True)
    where, warning = r.seen[0]  # type: ignore[attr-defined]
    assert where == f"{path}:2" and warning.warning and warning.column == "invoice"
    assert "invoice D belongs to customer C2: applied to C1's oldest" in warning.reason
    assert _open(conn) == {"A": 8000, "B": 20000, "C": 30000, "D": 5000}
