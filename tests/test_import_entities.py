"""Customers and contacts: queue rows, assignment by collector username, phones in E.164."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from test_ledger_support import count, dump, load, write_csv

from dunning.clock import FixedClock, to_iso
from dunning.db.connection import write_tx

HEADER = ["customer_ref", "name", "country", "subdivision", "currency", "collector", "phone",
          "email", "contact_name", "status"]  # fmt: skip


def _collector(conn: sqlite3.Connection, username: str) -> int:
    with write_tx(conn):
        cur = conn.execute(
            "INSERT INTO collectors (username, display_name, created_at) VALUES (?,?,?)",
            (username, username.title(), to_iso(FixedClock().now())),
        )
    return int(cur.lastrowid or 0)


def test_customers_get_queue_rows_and_only_named_collectors(
    conn: sqlite3.Connection, tmp_path: Path, clock: FixedClock
) -> None:
    ana = _collector(conn, "ana")
    rows = [
        HEADER,
        ["C1", "Acme", "CA", "QC", "CAD", "ana", "514 555 0123", "ap@acme.test", "Jo", ""],
        ["C2", "Bolt", "US", "NY", "USD", "", "(212) 555-0100", "", "", "credit_hold"],
        ["C3", "Cube", "FR", "", "EUR", "", "01 42 68 53 00", "", "", ""],
    ]
    path = write_csv(tmp_path / "c.csv", rows)
    r = load(conn, path, "customers", clock)
    assert (r.created, r.refused, r.warnings, r.assigned) == (3, 0, 0, 1)
    q = conn.execute(
        "SELECT c.external_ref, q.collector_id, c.status FROM queue q "
        "JOIN customers c ON c.id = q.customer_id ORDER BY 1"
    ).fetchall()
    assert [tuple(x) for x in q] == [("C1", ana, "active"), ("C2", None, "credit_hold"),
                                      ("C3", None, "active")]  # fmt: skip
    phones = dict(conn.execute("SELECT c.external_ref, p.e164 FROM phones p "
                               "JOIN customers c ON c.id = p.customer_id"))  # fmt: skip
    assert phones == {"C1": "+15145550123", "C2": "+12125550100", "C3": "+33142685300"}
    assert count(conn, "SELECT COUNT(*) FROM contacts WHERE name = 'Jo' AND email = "
                       "'ap@acme.test'") == 1  # fmt: skip
    assert count(conn, "SELECT COUNT(*) FROM assignments WHERE collector_id = ?", ana) == 1
    before = dump(conn)
    clock.advance(hours=5)
    again = load(conn, path, "customers", clock)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert dump(conn) == before


def test_bad_phone_is_reported_not_stored_and_unknown_collector_refused(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    rows = [
        HEADER,
        ["C1", "Acme", "US", "NY", "USD", "", "555-01", "", "", ""],
        ["C2", "Bolt", "US", "NY", "USD", "nobody", "", "", "", ""],
        ["C3", "Cube", "XX", "", "USD", "", "", "", "", ""],
        ["C4", "Dune", "US", "", "usd", "", "", "", "", "sleeping"],
    ]
    r = load(conn, write_csv(tmp_path / "c.csv", rows), "customers")
    found = {(x.line, x.column, x.warning) for _, x in r.seen}  # type: ignore[attr-defined]
    assert found == {(2, "phone", True), (3, "collector", False), (4, "country", False),
                     (5, "status", False)}  # fmt: skip
    assert not r.written
    ok = load(conn, write_csv(tmp_path / "d.csv", rows[:2]), "customers")
    assert (ok.created, ok.warnings, ok.written) == (1, 1, True)
    assert count(conn, "SELECT COUNT(*) FROM phones") == 0
    assert conn.execute("SELECT state FROM queue").fetchone()[0] == "closed"  # nothing owed


def test_a_partial_file_updates_only_its_columns(conn: sqlite3.Connection, tmp_path: Path) -> None:
    load(conn, write_csv(tmp_path / "a.csv", [HEADER, ["C1", "Acme", "CA", "ON", "CAD", "",
                                                      "", "", "", ""]]), "customers")  # fmt: skip
    partial = [["customer_ref", "name", "risk_score"], ["C1", "Acme Inc", "70"]]
    r = load(conn, write_csv(tmp_path / "b.csv", partial), "customers")
    assert (r.updated, r.unchanged) == (1, 0)
    got = conn.execute("SELECT name, country, subdivision, currency, risk_score FROM customers")
    assert tuple(got.fetchone()) == ("Acme Inc", "CA", "ON", "CAD", 70)


def test_contacts_attach_numbers_with_do_not_call(conn: sqlite3.Connection, tmp_path: Path) -> None:
    load(conn, write_csv(tmp_path / "c.csv", [HEADER, ["C1", "Acme", "CA", "QC", "CAD", "",
                                                      "", "", "", ""]]), "customers")  # fmt: skip
    rows = [
        ["customer_ref", "name", "title", "email", "phone", "mobile", "do_not_call"],
        ["C1", "Marie Roy", "AP clerk", "m@acme.test", "+1 514 555 0199", "438-555-0100", "no"],
        ["C1", "Paul Roy", "", "", "514 555 0142", "", "oui"],
        ["C9", "Nobody", "", "", "", "", ""],
    ]
    r = load(conn, write_csv(tmp_path / "k.csv", rows), "contacts")
    assert r.refused == 1 and "no such customer" in r.seen[0][1].reason  # type: ignore[attr-defined]
    r = load(conn, write_csv(tmp_path / "k2.csv", rows[:3]), "contacts")
    assert (r.created, r.refused) == (2, 0)
    got = conn.execute(
        "SELECT k.name, p.e164, p.do_not_call FROM phones p JOIN contacts k ON k.id = p.contact_id "
        "ORDER BY p.e164"
    ).fetchall()
    assert sorted(tuple(x) for x in got) == [
        ("Marie Roy", "+14385550100", 0), ("Marie Roy", "+15145550199", 0),
        ("Paul Roy", "+15145550142", 1),
    ]  # fmt: skip
    again = load(conn, write_csv(tmp_path / "k3.csv", rows[:3]), "contacts")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
