"""The lead's filter language (queue/filters.py) and keyset-paged account lists
(queue/account_list.py): what each term matches on a small exact portfolio, bound
parameters only, bad terms named with their position (in French too), rights by role and
team, and pages that never skip or repeat a row in either direction."""

from __future__ import annotations

import sqlite3

import pytest

from dunning.db.connection import write_tx
from dunning.i18n import set_language
from dunning.queue import account_list
from dunning.queue.collectors import get_collector
from dunning.queue.filters import FilterError, parse
from dunning.queue.rights import RightsError

# T0 = 2026-11-23 15:00 UTC (conftest)
PEOPLE = {
    # name: (collector, language, country, subdivision, currency, amount_minor, due, portfolio)
    "Anvil": ("alice", "en", "US", "NY", "USD", 100_000, "2026-09-01", "b2b"),  # 61-90
    "Bolt": ("dave", "es", "MX", "JAL", "MXN", 50_000, "2026-11-10", "b2b"),  # 1-30
    "Cogs": ("dave", "es", "MX", "CMX", "MXN", 2_000_000, "2026-06-01", "b2b"),  # 120+
    "Dube": (None, "fr", "CA", "QC", "CAD", 30_000, "2026-12-10", "consumer"),  # current
    "Ecru": ("bruno", "fr", "FR", None, "EUR", 150_000, "2026-08-20", "consumer"),  # 91-120
    "Fuji": ("alice", "en", "JP", None, "JPY", 2_000, "2026-10-01", "b2b"),  # 31-60, ¥2,000
}


@pytest.fixture
def book(conn, ledger):  # noqa: ANN001, ANN201
    ids = {u: ledger.collector(u) for u in ("alice", "bruno", "dave")}
    ledger.collector("lena", role="lead", languages="en,fr,es")
    ledger.collector("root", role="admin")
    out = {}
    for name, (who, lang, country, sub, cur, amount, due, portfolio) in PEOPLE.items():
        cid = ledger.customer(name, collector=ids.get(who or ""), country=country,
                              subdivision=sub, currency=cur, portfolio=portfolio,
                              invoices=[(amount, due)])  # fmt: skip
        with write_tx(conn):
            conn.execute("UPDATE customers SET language = ? WHERE id = ?", (lang, cid))
        out[name] = cid
    with write_tx(conn):
        conn.execute("UPDATE queue SET last_contact_at = '2026-11-20T10:00:00Z', "
                     "broken_promise = 1 WHERE customer_id = ?", (out["Anvil"],))  # fmt: skip
        conn.execute("UPDATE queue SET last_contact_at = '2026-09-01T10:00:00Z' "
                     "WHERE customer_id = ?", (out["Bolt"],))  # fmt: skip
        conn.execute("UPDATE queue SET state = 'review' WHERE customer_id = ?", (out["Cogs"],))
        conn.execute(
            "INSERT INTO disputes (customer_id, reason, department, amount_minor, currency, "
            "created_at) VALUES (?, 'pricing', 'sales', 100, 'EUR', '2026-11-01T00:00:00Z')",
            (out["Ecru"],),
        )
    return out


def names(conn: sqlite3.Connection, clock, settings, text: str, who: str = "lena") -> set[str]:  # noqa: ANN001
    lead = get_collector(conn, who)
    assert lead is not None
    lq = account_list.query(conn, clock, settings, lead, text)
    page = account_list.page(conn, clock, lq, size=50)
    assert account_list.count(conn, lq) == (len(page.rows), False)
    return {r.name for r in page.rows}


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("", set(PEOPLE)),
        ("lang=es", {"Bolt", "Cogs"}),
        ("language=ES,fr", {"Bolt", "Cogs", "Dube", "Ecru"}),
        ("lang!=en", {"Bolt", "Cogs", "Dube", "Ecru"}),
        ("country=mx subdivision=CMX", {"Cogs"}),
        ("subdivision=CA-QC", {"Dube"}),
        ("subdivision!=QC lang=fr", {"Ecru"}),
        ("portfolio=consumer", {"Dube", "Ecru"}),
        ("status=active", set(PEOPLE)),
        ("currency=jpy", {"Fuji"}),
        ("state=review", {"Cogs"}),
        ("state=ready,waiting lang=es", {"Bolt"}),
        ("collector=dave", {"Bolt", "Cogs"}),
        ("collector=none", {"Dube"}),
        ("collector=none,bruno", {"Dube", "Ecru"}),
        ("collector!=dave", {"Anvil", "Dube", "Ecru", "Fuji"}),
        ("bucket>=61", {"Anvil", "Cogs", "Ecru"}),
        ("bucket>=61-90", {"Anvil", "Cogs", "Ecru"}),
        ("bucket>61-90", {"Cogs", "Ecru"}),
        ("bucket=current", {"Dube"}),
        ("bucket=1-30,120+", {"Bolt", "Cogs"}),
        ("bucket!=current", {"Anvil", "Bolt", "Cogs", "Ecru", "Fuji"}),
        ("bucket<31", {"Bolt", "Dube"}),
        ("bucket<=31-60", {"Bolt", "Dube", "Fuji"}),
        ("bucket>120+", set()),
        ("balance>=1000", {"Anvil", "Cogs", "Ecru", "Fuji"}),  # ¥2,000 is 2000 yen
        ("balance>=1000 currency=USD", {"Anvil"}),
        ("balance<500.00", {"Dube"}),
        ("balance=1000", {"Anvil"}),
        ("balance>=2000.5 currency=JPY", set()),  # rounds up to ¥2,001
        ('balance<="1 000.00"', {"Anvil", "Bolt", "Dube"}),
        ("contact>30", {"Bolt", "Cogs", "Dube", "Ecru", "Fuji"}),
        ("contact<7", {"Anvil"}),
        ("contact=never", {"Cogs", "Dube", "Ecru", "Fuji"}),
        ("broken=yes", {"Anvil"}),
        ("broken=no lang=en", {"Fuji"}),
        ("dispute=yes", {"Ecru"}),
        ("dispute!=yes lang=fr", {"Dube"}),
        ("q=cog", {"Cogs"}),
        ("q=fu", {"Fuji"}),
        ("q=C0000", set(PEOPLE)),
        ('q="ube"', {"Dube"}),
    ],
)
def test_each_term_matches_what_it_says(conn, clock, settings, book, text, expect) -> None:  # noqa: ANN001
    assert names(conn, clock, settings, text) == expect


def test_values_are_bound_never_pasted(conn, clock, book) -> None:  # noqa: ANN001
    flt = parse(conn, "q=\"x'); DROP TABLE queue; --\" lang=es country=MX",
                today=clock.now().date(), now=clock.now())  # fmt: skip
    assert "DROP" not in flt.where and "'es'" not in flt.where and "MX" not in flt.where
    assert "es" in flt.params and "MX" in flt.params
    assert conn.execute("SELECT COUNT(*) FROM queue").fetchone()[0] == len(PEOPLE)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lang=es colour=red", "filter term 2 'colour=red': unknown key 'colour'"),
        ("bucket>=45", "filter term 1 'bucket>=45': '45' is not an aging bucket"),
        ("lang>es", "filter term 1 'lang>es': lang takes = or != only"),
        ("balance>=lots", "filter term 1 'balance>=lots': 'lots' is not an amount"),
        ("collector=zed", "filter term 1 'collector=zed': no collector 'zed'"),
        ("state=sleeping", "filter term 1 'state=sleeping': 'sleeping' is not one of ready"),
        ("contact>soon", "filter term 1 'contact>soon': 'soon' is not a number of days"),
        ("broken=maybe", "filter term 1 'broken=maybe': 'maybe' is not yes or no"),
        ("lang=es spanish", "filter term 2 'spanish': not key=value"),
        ('q="open', "the filter has an unclosed quote"),
        ("country=USA", "'USA' is not a country code"),
        ("lang=", "filter term 1 'lang=': an empty value"),
    ],
)
def test_a_bad_term_is_named_with_its_position(conn, clock, settings, book, text, message) -> None:  # noqa: ANN001
    lena = get_collector(conn, "lena")
    with pytest.raises(FilterError) as err:
        account_list.query(conn, clock, settings, lena, text)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_refusals_are_translated(conn, clock, settings, book) -> None:  # noqa: ANN001
    set_language("fr_CA")
    lena = get_collector(conn, "lena")
    with pytest.raises(FilterError) as err:
        account_list.query(conn, clock, settings, lena, "lang=es bucket>=45")
    assert "terme 2" in str(err.value) and "'bucket>=45'" in str(err.value)
    alice = get_collector(conn, "alice")
    with pytest.raises(RightsError) as refused:
        account_list.query(conn, clock, settings, alice, "lang=es")
    assert "alice" in str(refused.value) and "chef" in str(refused.value)


def test_a_collector_is_refused_and_a_lead_sees_their_team(conn, clock, settings, book) -> None:  # noqa: ANN001
    with pytest.raises(RightsError, match="alice \\(collector\\) may not list"):
        names(conn, clock, settings, "", who="alice")
    with write_tx(conn):
        conn.execute("UPDATE collectors SET team = 'East' WHERE username IN ('alice', 'lena')")
        conn.execute("UPDATE collectors SET team = 'West' WHERE username IN ('dave', 'bruno')")
    # alice's accounts and the unassigned one; never West's, whatever the filter says
    assert names(conn, clock, settings, "") == {"Anvil", "Fuji", "Dube"}
    assert names(conn, clock, settings, "collector=dave") == set()
    assert names(conn, clock, settings, "", who="root") == set(PEOPLE)  # an admin: all


@pytest.mark.parametrize("sort", sorted(account_list.SORTS))
@pytest.mark.parametrize("desc", [False, True])
def test_keyset_pages_walk_every_row_once_both_ways(
    conn, clock, settings, ledger, sort, desc
) -> None:  # noqa: ANN001, E501
    alice = ledger.collector("alice")
    ledger.collector("lena", role="lead")
    # ties on every key (same names, balances, dates) so that the id breaks them
    for i in range(23):
        ledger.customer(f"Same {i % 3}", collector=alice if i % 2 else None,
                        invoices=[(1000 * (i % 4) + 1, f"2026-0{1 + i % 5}-01")])  # fmt: skip
    lena = get_collector(conn, "lena")
    lq = account_list.query(conn, clock, settings, lena, "", sort=sort, desc=desc)
    everything = account_list.page(conn, clock, lq, size=100).rows
    assert len(everything) == 23
    keys = [(r.key, r.customer_id) for r in everything]
    if sort != "name":  # NOCASE: Python's order of the keys may differ; the ids suffice
        assert keys == sorted(keys, reverse=desc)
    seen, page = [], account_list.page(conn, clock, lq, size=5)
    while True:
        seen += [r.customer_id for r in page.rows]
        if not page.more_after:
            break
        page = account_list.page(conn, clock, lq, after=page.last, size=5)
    assert seen == [r.customer_id for r in everything]
    back, page = [], account_list.page(conn, clock, lq, last=True, size=5)
    assert [r.customer_id for r in page.rows] == seen[-5:]
    while True:
        back = [r.customer_id for r in page.rows] + back
        if not page.more_before:
            break
        page = account_list.page(conn, clock, lq, before=page.first, size=5)
    assert back == seen
    assert account_list.count(conn, lq, cap=10) == (10, True)


def test_a_balance_sort_compares_one_currency(conn, clock, settings, book) -> None:  # noqa: ANN001
    lena = get_collector(conn, "lena")
    # several currencies: never US$1,000 beside ¥2,000 by their digits; oldest due instead
    lq = account_list.query(conn, clock, settings, lena, "", sort="balance")
    assert (lq.sort, lq.desc) == ("due", False)
    assert lq.currencies == ("CAD", "EUR", "JPY", "MXN", "USD")
    order = [r.name for r in account_list.page(conn, clock, lq).rows]
    assert order == ["Cogs", "Ecru", "Anvil", "Fuji", "Bolt", "Dube"]
    with pytest.raises(ValueError, match=r"add currency=\.\.\. to the filter \(CAD, EUR, JPY"):
        account_list.query(conn, clock, settings, lena, "", sort="balance", strict=True)
    two = account_list.query(conn, clock, settings, lena, "currency=usd,mxn", sort="balance")
    assert two.sort == "due"  # two currencies named: still not compared
    one = account_list.query(conn, clock, settings, lena, "currency=mxn", sort="balance")
    assert (one.sort, one.currencies) == ("balance", ())
    assert [r.name for r in account_list.page(conn, clock, one).rows] == ["Cogs", "Bolt"]
    lq = account_list.query(conn, clock, settings, lena, "currency=MXN", sort="balance",
                            desc=False)  # fmt: skip
    assert [r.name for r in account_list.page(conn, clock, lq).rows] == ["Bolt", "Cogs"]


def test_an_unknown_sort_key_is_named(conn, clock, settings, book) -> None:  # noqa: ANN001
    lena = get_collector(conn, "lena")
    with pytest.raises(ValueError, match="'height' is not a sort key"):
        account_list.query(conn, clock, settings, lena, "", sort="height")


@pytest.mark.parametrize("sort", ["balance", "due", "contact"])
@pytest.mark.parametrize("desc", [False, True])
def test_a_state_read_through_the_worklist_pages_as_the_ranges_do(
    conn, clock, settings, ledger, sort, desc
) -> None:  # noqa: ANN001
    alice = ledger.collector("alice")
    ledger.collector("lena", role="lead")
    for i in range(17):
        cid = ledger.customer(f"S {i}", collector=alice if i % 3 else None,
                              invoices=[(500 * (i % 4) + 1, f"2026-0{1 + i % 5}-01")])  # fmt: skip
        if i % 4 == 0:
            with write_tx(conn):
                at = f"2026-11-0{1 + i % 3}T00:00:00Z"
                conn.execute("UPDATE queue SET state = 'review', last_contact_at = ? "
                             "WHERE customer_id = ?", (at, cid))  # fmt: skip
    lena = get_collector(conn, "lena")

    def walk(text: str) -> list[int]:
        lq = account_list.query(conn, clock, settings, lena, text, sort=sort, desc=desc)
        seen, page = [], account_list.page(conn, clock, lq, size=2)
        while True:
            seen += [r.customer_id for r in page.rows]
            if not page.more_after:
                return seen
            page = account_list.page(conn, clock, lq, after=page.last, size=2)

    fast = walk("state=review")  # through the worklist index (few accounts)
    assert len(fast) == 5
    assert fast == walk("state!=ready,waiting,hold,disputed,no_phone,closed")  # the ranges
