"""Issue 8: the invoice parser's per-row shortcuts (rows.py: a date text parsed once per
file, a plain amount read inline, known customers by dict) give the same values and the
same refusals as parse_date / parse_amount cell by cell."""

from __future__ import annotations

import sqlite3

import pytest

from dunning.db.ledger.parse import parse_amount, parse_date
from dunning.db.ledger.rows import Context, RowError, invoice_parser

MAPPING = {"customer_ref": 0, "number": 1, "issue_date": 2, "due_date": 3, "amount": 4,
           "open_amount": 5, "currency": 6}  # fmt: skip
AMOUNTS = ["12.50", " 12.50 ", "12.5", "12", "-3.10", "12.505", "12.500", "0012.00", "1e5",
           "99999999999999999.00", "9" * 70, "1,234.50", "(12.50)", "\u0661\u0662.50", "",
           "12.50 CR", "abc", "-0.00", "12."]  # fmt: skip
DATES = ["2026-09-01", "2026-02-30", " 2026-09-01", "2026-9-1", "09/01/2026", "1 Sep 2026",
         "2026-09-01T10:00:00", "x", "2026-13-01"]  # fmt: skip


def _outcome(fn, *args):  # type: ignore[no-untyped-def]
    try:
        return fn(*args)
    except (ValueError, RowError) as exc:
        return ("refused", str(exc))


@pytest.fixture
def parse():  # type: ignore[no-untyped-def]
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE customers (external_ref, id, currency, country)")
    conn.execute("INSERT INTO customers VALUES ('K1', 7, 'EUR', 'FR')")
    ctx = Context(conn=conn, order="mdy", locale="en_US", currency="USD", country="US")
    ctx.preload()
    return invoice_parser(dict(MAPPING), ctx)


@pytest.mark.parametrize("value", AMOUNTS)
def test_an_amount_reads_as_parse_amount_reads_it(parse, value: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(2):  # the second time: nothing cached changes it
        got = _outcome(parse, 2, ["C1", "INV-1", "2026-09-01", "2026-10-01", value, "", "USD"])
        want = _outcome(parse_amount, value, "USD", "en_US")
        if isinstance(want, tuple):
            assert got == ("refused", want[1])
        else:
            assert got[0] == 2 and got[6] == want  # type: ignore[index]


@pytest.mark.parametrize("value", DATES)
def test_a_date_reads_as_parse_date_reads_it(parse, value: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(2):
        got = _outcome(parse, 2, ["C1", "INV-1", value, "2026-12-31", "1.00", "", "USD"])
        want = _outcome(parse_date, value, "mdy")
        if isinstance(want, tuple):
            assert got == ("refused", want[1])
        else:
            assert got[0] == 2 and got[4] == want  # type: ignore[index]


def test_known_and_new_customers_from_the_preloaded_ledger(parse) -> None:  # type: ignore[no-untyped-def]
    known = parse(2, ["K1", "INV-1", "2026-09-01", "2026-10-01", "1.00", "", ""])
    assert (known[8], known[12]) == ("EUR", 7)  # type: ignore[index]
    new = parse(3, ["N1", "INV-2", "2026-09-01", "2026-10-01", "1.00", "", ""])
    assert (new[8], new[12]) == ("USD", None)  # type: ignore[index]
    with pytest.raises(RowError, match="account is in EUR"):
        parse(4, ["K1", "INV-3", "2026-09-01", "2026-10-01", "1.00", "", "USD"])
