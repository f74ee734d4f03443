"""Finding a customer by name, reference, phone (as typed) or invoice number."""

import pytest

from dunning.queue.search import search_customers


@pytest.fixture
def book(ledger):
    alice = ledger.collector("alice")
    acme = ledger.customer("Acme Anvils", collector=alice, phones=["+12125550100"])
    bolt = ledger.customer(
        "Bolt Brothers", phones=["+33142685300"], country="FR", subdivision=None, currency="EUR"
    )
    cogs = ledger.customer(
        "Cogs & Anvils Ltd",
        phones=["+447911123456"],
        country="GB",
        subdivision=None,
        currency="GBP",
    )
    return acme, bolt, cogs


def found(conn, text, **kw):
    return [(h.customer_id, h.matched) for h in search_customers(conn, text, **kw)]


def test_by_reference_exact_and_prefix_any_case(conn, book):
    acme, bolt, _ = book
    assert found(conn, "C00002") == [(bolt, "reference")]
    assert found(conn, "c00001") == [(acme, "reference")]
    assert {cid for cid, _ in found(conn, "C0000")} == set(book)


def test_by_name_prefix_then_substring(conn, book):
    acme, _, cogs = book
    assert found(conn, "acme") == [(acme, "name")]
    hits = found(conn, "anvils")
    assert [cid for cid, _ in hits] == [acme, cogs]
    assert found(conn, "x") == []  # one letter: no substring search


def test_by_phone_as_a_person_types_it(conn, book):
    acme, bolt, cogs = book
    assert found(conn, "(212) 555-0100") == [(acme, "phone")]
    assert found(conn, "212.555.0100") == [(acme, "phone")]
    assert found(conn, "+33 1 42 68 53 00") == [(bolt, "phone")]
    # a French number typed nationally by a collector dialling from France
    assert found(conn, "01 42 68 53 00", dial_region="FR") == [(bolt, "phone")]
    assert found(conn, "07911 123456", dial_region="GB") == [(cogs, "phone")]
    # the last digits are enough
    assert found(conn, "5550100") == [(acme, "phone")]


def test_by_invoice_number(conn, book):
    _, bolt, _ = book
    assert found(conn, f"INV-{bolt}-0") == [(bolt, "invoice")]
    assert found(conn, f"inv-{bolt}") == [(bolt, "invoice")]


def test_hit_carries_what_the_list_shows(conn, book):
    (hit,) = search_customers(conn, "Acme")
    assert (hit.external_ref, hit.name, hit.country, hit.currency) == (
        "C00001",
        "Acme Anvils",
        "US",
        "USD",
    )
    assert (hit.net_minor, hit.state, hit.assigned_to) == (100_000, "ready", "alice")


def test_empty_and_limit(conn, ledger):
    for n in range(30):
        ledger.customer(f"Widget {n:02d}")
    assert search_customers(conn, "   ") == []
    assert len(search_customers(conn, "widget", limit=7)) == 7
    assert len(search_customers(conn, "widget")) == 30
