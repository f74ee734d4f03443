"""The demo portfolio builder (dunning/demo/) on real SQLite files."""

from __future__ import annotations

import shutil
import sqlite3
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

import phonenumbers
import pytest

from dunning.clock import FixedClock
from dunning.db.connection import connect, write_tx
from dunning.demo.build import LOADED, build_demo, build_demo_report
from dunning.demo.data import COLLECTORS, NOTES, TOLL_FREE
from dunning.queue.claim import claim_next
from dunning.queue.config import Settings
from dunning.queue.outcomes import OUTCOMES
from dunning.queue.promises import evaluate_promises

N = 300
NOW = FixedClock().now()
TODAY = NOW.date()
TABLES = (*LOADED, "collectors")


def rows(path: Path, table: str) -> list[tuple]:
    c = sqlite3.connect(path)
    try:
        return c.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
    finally:
        c.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    lines: list[str] = []
    summary = build_demo(path, customers=N, seed=7, progress=lines.append)
    assert f"customers {N}/{N}" in lines
    return path, summary


@pytest.fixture(scope="module")
def db(built: tuple[Path, dict[str, int]]) -> sqlite3.Connection:
    conn = connect(built[0], readonly=True)
    yield conn
    conn.close()


def test_counts_team_and_schema(built, db):
    path, summary = built
    assert summary["customers"] == N == summary["queue"] == summary["assignments"]
    for table in TABLES:
        count = db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        assert count == summary[table] > 0, table
    assert 4 * N < summary["invoices"] < 6 * N
    team = {r["username"]: r for r in db.execute("SELECT * FROM collectors")}
    assert set(team) == {c[0] for c in COLLECTORS}
    assert team["alice"]["languages"] == "en,fr" and team["alice"]["locale"] == "en_CA"
    assert team["lena"]["role"] == "lead" and team["carmen"]["languages"] == "es,en"
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"  # CHECKs hold too
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    states = {k: v for k, v in summary.items() if k.startswith("queue_")}
    assert sum(states.values()) == N


def test_indexes_are_the_migrations(built, tmp_path):
    fresh = tmp_path / "fresh.db"
    from dunning.db.schema import migrate

    c = connect(fresh)
    migrate(c)
    c.close()
    query = "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
    assert rows_of(built[0], query) == rows_of(fresh, query)


def rows_of(path: Path, query: str) -> list[tuple]:
    c = sqlite3.connect(path)
    try:
        return c.execute(query).fetchall()
    finally:
        c.close()


def test_same_seed_same_rows_other_seed_other_rows(built, tmp_path):
    again = tmp_path / "again.db"
    build_demo(again, customers=N, seed=7)
    for table in TABLES:
        assert rows(again, table) == rows(built[0], table), table
    other = tmp_path / "other.db"
    build_demo(other, customers=N, seed=8)
    assert rows(other, "customers") != rows(built[0], "customers")


def test_every_path_gives_the_same_rows(tmp_path):
    """Queue via refresh_accounts == computed directly; helper processes == in process."""
    paths = []
    for i, (worker, direct) in enumerate(((False, False), (False, True), (True, True))):
        paths.append(tmp_path / f"{i}.db")
        build_demo_report(
            paths[-1], customers=200, seed=3, worker=worker, phone_pool=True, direct_queue=direct
        )
    for table in TABLES:
        first = rows(paths[0], table)
        assert rows(paths[1], table) == first, table
        assert rows(paths[2], table) == first, table


def test_customers_regions_languages(db):
    customers = db.execute("SELECT * FROM customers").fetchall()
    assert {c["country"] for c in customers} == {"US", "CA", "MX", "FR", "ES", "GB"}
    assert {"ON", "QC", "BC"} <= {c["subdivision"] for c in customers if c["country"] == "CA"}
    currency = {"US": "USD", "CA": "CAD", "MX": "MXN", "FR": "EUR", "ES": "EUR", "GB": "GBP"}
    for c in customers:
        assert c["currency"] == currency[c["country"]]
        assert c["external_ref"] == f"C{c['id']:07d}"
        assert 0 <= c["risk_score"] <= 100
        if c["country"] in ("MX", "ES"):
            assert c["language"] == "es"
        if c["country"] == "FR":
            assert c["language"] == "fr"
    quebec = [c["language"] for c in customers if c["subdivision"] == "QC"]
    assert quebec.count("fr") > len(quebec) / 2
    portfolios = Counter(c["portfolio"] for c in customers)
    assert 0.15 < portfolios["consumer"] / N < 0.35
    assert {"credit_hold", "legal", "agency", "cease"} & {c["status"] for c in customers}
    names = " ".join(c["name"] for c in customers)
    assert "S.A. de C.V." in names and ("LLC" in names or "Inc." in names)


def test_contacts(db):
    per = Counter()
    for c in db.execute("SELECT * FROM contacts"):
        per[c["customer_id"]] += c["is_primary"]
    assert set(per.values()) == {1} and len(per) == N


def test_phones_valid_e164_for_the_region(db):
    phones = db.execute(
        "SELECT p.*, c.country FROM phones p JOIN customers c ON c.id = p.customer_id"
    ).fetchall()
    types = {
        phonenumbers.PhoneNumberType.MOBILE: "mobile",
        phonenumbers.PhoneNumberType.FIXED_LINE: "fixed_line",
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line",
        phonenumbers.PhoneNumberType.TOLL_FREE: "toll_free",
        phonenumbers.PhoneNumberType.VOIP: "voip",
    }
    for p in phones:
        num = phonenumbers.parse(p["e164"], None)
        assert phonenumbers.is_valid_number(num), p["e164"]
        assert phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164) == p["e164"]
        region = "US" if p["e164"].startswith(TOLL_FREE) else p["country"]
        assert phonenumbers.region_code_for_number(num) == region, p["e164"]
        assert p["type"] == types.get(phonenumbers.number_type(num), "unknown")
    assert any(p["do_not_call"] for p in phones)
    bad = [p for p in phones if p["bad"]]
    assert bad
    for p in bad:  # marked by the collector who logged the wrong number
        act = db.execute(
            "SELECT * FROM activities WHERE phone_id = ? AND outcome = 'wrong_number'",
            (p["id"],),
        ).fetchone()
        assert act["at"] == p["bad_at"] and act["collector_id"] == p["bad_by"]


def _bucket(due: str) -> str:
    dpd = (TODAY - date.fromisoformat(due)).days
    for limit, name in ((0, "current"), (30, "1-30"), (60, "31-60"), (90, "61-90")):
        if dpd <= limit:
            return name
    return "91-120" if dpd <= 120 else "120+"


def test_ledger(db):
    invoices = db.execute(
        "SELECT i.*, c.currency AS cur FROM invoices i JOIN customers c ON c.id = i.customer_id"
    ).fetchall()
    open_ = [i for i in invoices if i["status"] == "open" and i["amount_minor"] > 0]
    assert {_bucket(i["due_date"]) for i in open_} == {
        "current", "1-30", "31-60", "61-90", "91-120", "120+"
    }  # fmt: skip
    assert all(i["currency"] == i["cur"] for i in invoices)
    assert all(0 < i["open_minor"] <= i["amount_minor"] for i in open_)
    assert any(i["open_minor"] < i["amount_minor"] for i in open_)  # partly paid
    credits = [i for i in invoices if i["amount_minor"] < 0]
    assert credits and all(i["open_minor"] == i["amount_minor"] for i in credits)
    assert {"paid", "closed"} <= {i["status"] for i in invoices}
    assert all(i["open_minor"] == 0 for i in invoices if i["status"] != "open")
    assert all(i["issue_date"] <= i["due_date"] for i in invoices)
    paid = defaultdict(int)
    for p in db.execute("SELECT * FROM payments"):
        assert p["amount_minor"] > 0 and p["paid_on"] <= TODAY.isoformat()
        if p["invoice_id"] is not None:
            paid[p["invoice_id"]] += p["amount_minor"]
    assert db.execute("SELECT COUNT(*) FROM payments WHERE invoice_id IS NULL").fetchone()[0]
    for i in invoices:
        if i["status"] == "paid":
            assert paid[i["id"]] == i["amount_minor"]
        elif i["status"] == "open" and i["amount_minor"] > 0:
            assert paid[i["id"]] == i["amount_minor"] - i["open_minor"]


def test_history(db):
    customers = {c["id"]: c for c in db.execute("SELECT * FROM customers")}
    texts = {lang: {t for ts in notes.values() for t in ts} for lang, notes in NOTES.items()}
    start = (NOW - timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%SZ")
    now = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    outcomes = Counter()
    for a in db.execute("SELECT * FROM activities"):
        assert start <= a["at"] <= now
        outcomes[a["outcome"]] += 1
        if a["outcome"] == "system":
            assert a["collector_id"] is None and a["note"].startswith("promise ")
            continue
        flags = OUTCOMES[a["outcome"]]
        assert (a["attempt"], a["contact"], a["worked"]) == (
            flags.attempt, flags.contact, flags.worked
        )  # fmt: skip
        assert a["note"] in texts[customers[a["customer_id"]]["language"]]
    for code in ("no_answer", "left_message", "callback", "promise_to_pay", "dispute", "paid"):
        assert outcomes[code], code
    reports = db.execute(
        """SELECT r.*, a.outcome FROM payment_reports r JOIN activities a
           ON a.id = r.activity_id"""
    ).fetchall()
    assert reports and all(r["outcome"] == "paid" for r in reports)


def test_promises_follow_the_payments(built, db, tmp_path):
    promises = db.execute("SELECT * FROM promises ORDER BY id").fetchall()
    assert {"pending", "kept", "broken"} <= {p["status"] for p in promises}
    assert any(p["plan_ref"] for p in promises)
    payments = defaultdict(list)
    for p in db.execute("SELECT customer_id, paid_on, amount_minor FROM payments"):
        payments[p[0]].append((p[1], p[2]))
    broken_accounts = set()
    for p in promises:
        end = (date.fromisoformat(p["due_date"]) + timedelta(days=p["grace_days"])).isoformat()
        paid = sum(a for d, a in payments[p["customer_id"]] if p["promised_on"] <= d <= end)
        closed = end < TODAY.isoformat()
        if p["status"] == "kept":
            assert paid >= p["amount_minor"] == p["paid_minor"] and p["decided_at"]
        elif p["status"] == "pending":
            assert not closed and paid < p["amount_minor"] and p["decided_at"] is None
        elif p["status"] == "broken":
            assert closed and paid == 0 == p["paid_minor"]
        else:
            assert p["status"] == "partial" and closed and 0 < paid == p["paid_minor"]
        if p["status"] in ("broken", "partial"):
            broken_accounts.add(p["customer_id"])
    flagged = {r[0] for r in db.execute("SELECT customer_id FROM queue WHERE broken_promise = 1")}
    assert flagged == broken_accounts
    # the app's own rule finds nothing to change
    copy = tmp_path / "copy.db"
    shutil.copy(built[0], copy)
    conn = connect(copy)
    with write_tx(conn):
        ids = [r[0] for r in conn.execute("SELECT id FROM customers")]
        assert evaluate_promises(conn, FixedClock(), Settings(), ids) == 0
        assert evaluate_promises(conn, FixedClock(), Settings()) == 0
    conn.close()


def test_disputes(db):
    disputes = db.execute("SELECT * FROM disputes").fetchall()
    assert disputes and all(d["status"] == "open" for d in disputes)
    disputed = set()
    for d in disputes:
        inv = db.execute(
            """SELECT i.* FROM dispute_invoices di JOIN invoices i ON i.id = di.invoice_id
               WHERE di.dispute_id = ?""",
            (d["id"],),
        ).fetchall()
        assert inv and all(i["disputed"] == 1 and i["customer_id"] == d["customer_id"] for i in inv)
        assert d["amount_minor"] == sum(i["open_minor"] for i in inv)
        disputed |= {i["id"] for i in inv}
    flagged = {r[0] for r in db.execute("SELECT id FROM invoices WHERE disputed = 1")}
    assert flagged == disputed


def test_queue(db):
    customers = {c["id"]: c for c in db.execute("SELECT * FROM customers")}
    team = {c["id"]: c["languages"].split(",") for c in db.execute("SELECT * FROM collectors")}
    queue = {q["customer_id"]: q for q in db.execute("SELECT * FROM queue")}
    assert set(queue) == set(customers)
    for a in db.execute("SELECT * FROM assignments"):
        q = queue[a["customer_id"]]
        assert a["assigned_by"] is None and a["reason"] == "demo"
        assert a["collector_id"] == q["collector_id"]
        assert customers[a["customer_id"]]["language"] in team[q["collector_id"]]
    states = Counter(q["state"] for q in queue.values())
    assert states["ready"] > 0.6 * N
    assert states["waiting"] and states["hold"] and states["disputed"]
    actions = Counter(q["next_action"] for q in queue.values())
    assert {"call", "callback", "promise_check", "verify_payment"} <= set(actions)
    assert any(q["next_action_at"] > NOW.strftime("%Y-%m-%dT%H:%M:%SZ") for q in queue.values())
    collectors = Counter(q["collector_id"] for q in queue.values())
    assert len(collectors) == len(COLLECTORS)


def test_refuses_a_database_with_customers(built, tmp_path):
    with pytest.raises(ValueError, match=str(built[0])):
        build_demo(built[0], customers=10)
    junk = tmp_path / "junk.db"
    junk.write_text("not a database, " * 100)
    with pytest.raises(ValueError, match="junk.db"):
        build_demo(junk, customers=10)
    with pytest.raises(ValueError, match="at least 1"):
        build_demo(tmp_path / "none.db", customers=0)


def test_an_empty_database_is_fine(tmp_path):
    path = tmp_path / "empty.db"
    from dunning.db.connection import open_db

    open_db(path).close()
    assert build_demo(path, customers=20)["customers"] == 20


def test_medium_build_with_helper_processes(tmp_path):
    """20,000 customers: generator and scorer processes, phone pools, direct queue rows."""
    path = tmp_path / "medium.db"
    summary, phases = build_demo_report(path, customers=20_000, seed=1)
    assert summary["customers"] == 20_000 and summary["queue"] == 20_000
    assert any("generator process" in p.name for p in phases)
    conn = connect(path, readonly=True)
    try:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        ready = conn.execute("SELECT COUNT(*) FROM queue WHERE state = 'ready'").fetchone()[0]
        assert ready > 0.6 * 20_000
        for (e164,) in conn.execute("SELECT DISTINCT e164 FROM phones LIMIT 500"):
            assert phonenumbers.is_valid_number(phonenumbers.parse(e164, None))
    finally:
        conn.close()


def test_nothing_is_dealt_with_nothing_past_due(built, tmp_path):
    """Issue 6: 17 of 383 accounts dealt had no money past due. Every account a collector
    can be dealt owes money past due net of credits, or has a callback or a promise check
    due; and every account `claim_next` deals, collector after collector, too."""
    copy = tmp_path / "copy.db"
    shutil.copy(built[0], copy)
    conn = connect(copy)
    today = TODAY.isoformat()

    def past_due(cid: int) -> bool:
        overdue = conn.execute(
            """SELECT COALESCE(SUM(open_minor), 0) FROM invoices WHERE customer_id = ?
               AND status = 'open' AND open_minor > 0 AND disputed = 0 AND due_date < ?""",
            (cid, today),
        ).fetchone()[0]
        credits = conn.execute("SELECT unapplied_minor FROM queue WHERE customer_id = ?", (cid,))
        return overdue + credits.fetchone()[0] > 0

    anyway = ("callback", "promise_check", "instalment_check")
    ready = conn.execute("SELECT customer_id, next_action FROM queue WHERE state = 'ready'")
    assert all(past_due(cid) or na in anyway for cid, na in ready.fetchall())
    waiting = conn.execute("SELECT COUNT(*) FROM queue WHERE next_action = 'await_due'")
    assert waiting.fetchone()[0] > 0  # the demo has such accounts: they wait
    dealt = 0
    for (coll,) in conn.execute("SELECT id FROM collectors").fetchall():
        seen: set[int] = set()
        while (claim := claim_next(conn, FixedClock(), Settings(), coll, resume=False,
                                   exclude=frozenset(seen))) is not None:  # fmt: skip
            seen.add(claim.customer_id)
            na = conn.execute(
                "SELECT next_action FROM queue WHERE customer_id = ?", (claim.customer_id,)
            ).fetchone()[0]
            assert past_due(claim.customer_id) or na in anyway, claim.customer_id
        dealt += len(seen)
    assert dealt > 0
    conn.close()


def test_every_customer_is_in_the_search_index(db):
    """The build folds every name for search (dunning/db/search_index.py): nothing is
    left for search to fold itself, and an accented name is found typed without accents."""
    from dunning.db.search_index import fold, stale_names
    from dunning.queue.search import search_customers

    assert db.execute("SELECT COUNT(*) FROM search_names").fetchone()[0] == N
    assert stale_names(db) == []
    cid, name = db.execute(
        "SELECT id, name FROM customers WHERE name GLOB '*[éèçñá]*' ORDER BY id LIMIT 1"
    ).fetchone()
    word = max(name.split(), key=len)
    assert cid in [h.customer_id for h in search_customers(db, fold(word), limit=500)]
