"""The search index (dunning/db/search_index.py): names folded for accents, case and
punctuation, short queries, phones by their last digits, and an index kept in step by
the import, the demo build and the migration of an existing database."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils
from test_ledger_support import load, write_csv

from dunning.cli import main
from dunning.db import search_index
from dunning.db.connection import connect, write_tx
from dunning.db.schema import migrate, migrations
from dunning.db.search_index import PHONE_KEY, fold, phone_key
from dunning.queue.search import search_customers

NAMES = [
    "Gagné Ltée",
    "O'Brien & Sons",
    "Épicerie Côté",
    "Saint-Jean Plomberie",
    "Dépanneur St-Jean",
    "Peña Hnos. S.A.",
    "Muñoz y Núñez S.L.",
    "Œuvres Boréales",
    "ACME Anvils",
]


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("Gagné", "gagne"),
        ("GAGNE", "gagne"),
        ("O'Brien", "obrien"),
        ("O’Brien", "obrien"),  # a typographic apostrophe
        ("o brien", "obrien"),
        ("Épicerie Côté", "epiceriecote"),
        ("Saint-Jean-sur-Richelieu", "saintjeansurrichelieu"),
        ("Peña", "pena"),
        ("Muñoz y Núñez, S.L.", "munozynunezsl"),
        ("Œuvres", "oeuvres"),
        ("Straße", "strasse"),
        ("Łódź", "lodz"),
        ("  -.,' ", ""),
        ("北京", "北京"),
    ],
)
def test_fold_drops_case_accents_and_punctuation(typed: str, folded: str) -> None:
    assert fold(typed) == folded


@pytest.fixture(params=["indexed", "stale"])
def names(request, conn, ledger) -> dict[str, int]:
    """The same customers, found through the index (synced, as after an import or a build)
    or not yet synced (written by something that did not sync): search answers alike."""
    ids = {n: ledger.customer(n, phones=[f"+1212555{i:04d}"]) for i, n in enumerate(NAMES)}
    if request.param == "indexed":
        with write_tx(conn):
            search_index.sync(conn)
        assert conn.execute("SELECT COUNT(*) FROM search_stale").fetchone()[0] == 0
    else:
        assert len(search_index.stale_names(conn)) == len(NAMES)
    return ids


def hits(conn: sqlite3.Connection, text: str, **kw: object) -> list[tuple[int, str]]:
    return [(h.customer_id, h.matched) for h in search_customers(conn, text, **kw)]


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("gagne", "Gagné Ltée"),
        ("GAGNÉ", "Gagné Ltée"),
        ("obrien", "O'Brien & Sons"),
        ("o'brien", "O'Brien & Sons"),
        ("cote", "Épicerie Côté"),
        ("epicerie cote", "Épicerie Côté"),
        ("pena", "Peña Hnos. S.A."),
        ("nunez", "Muñoz y Núñez S.L."),
        ("munoz y", "Muñoz y Núñez S.L."),
        ("oeuvres", "Œuvres Boréales"),
        ("boreal", "Œuvres Boréales"),
        ("acme-anvils", "ACME Anvils"),
    ],
)
def test_a_name_is_found_whatever_its_accents_case_and_punctuation(
    conn, names, typed: str, name: str
) -> None:
    assert hits(conn, typed) == [(names[name], "name")]


def test_saint_and_st_find_each_other(conn, names) -> None:
    both = sorted([names["Saint-Jean Plomberie"], names["Dépanneur St-Jean"]])
    assert sorted(cid for cid, _ in hits(conn, "saint jean")) == both
    assert sorted(cid for cid, _ in hits(conn, "st-jean")) == both
    assert sorted(cid for cid, _ in hits(conn, "St Jean")) == both


def test_prefixes_come_before_substrings(conn, names, ledger) -> None:
    inner = ledger.customer("Les Épiceries Gagnon")
    with write_tx(conn):
        search_index.sync(conn)
    found = [cid for cid, _ in hits(conn, "EPICERIE")]
    assert found == [names["Épicerie Côté"], inner]


def test_short_query_matches_name_prefixes_only(conn, names) -> None:
    assert hits(conn, "ga") == [(names["Gagné Ltée"], "name")]
    assert hits(conn, "GÂ") == [(names["Gagné Ltée"], "name")]
    assert hits(conn, "ag") == []  # inside a name: 3 folded characters are needed
    assert hits(conn, "œ") == [(names["Œuvres Boréales"], "name")]
    assert hits(conn, "'") == []  # nothing left once folded: no name pass at all


def test_phone_found_by_its_last_digits_through_an_index(conn, names) -> None:
    assert hits(conn, "555 0001") == [(names["O'Brien & Sons"], "phone")]
    assert hits(conn, "2125550002") == [(names["Épicerie Côté"], "phone")]
    assert hits(conn, "(999) 555-0001") == []  # unknown number
    assert hits(conn, "9990001") == []
    assert phone_key("2125550002") == "550002" + "5212"
    assert phone_key("142685300") == "685300" + "241"


def test_phone_found_by_more_digits_than_the_index_key_holds(conn, ledger) -> None:
    paris = ledger.customer("Bolt", phones=["+33142685300"], country="FR", subdivision=None)
    other = ledger.customer("Volt", phones=["+34142685300"], country="ES", subdivision=None)
    assert hits(conn, "142685300") == [(paris, "phone"), (other, "phone")]
    # 11 digits: not a number in the collector's region, so its end is searched
    assert hits(conn, "33142685300") == [(paris, "phone")]
    assert hits(conn, "4142685300") == [(other, "phone")]
    plan = conn.execute(
        f"EXPLAIN QUERY PLAN SELECT customer_id FROM phones WHERE {PHONE_KEY} >= ? "
        f"AND {PHONE_KEY} < ?",
        ("5500015", "5500015:"),
    ).fetchall()
    assert any("phones_tail" in row[-1] for row in plan), plan


def test_an_exact_reference_needs_no_name_pass(conn, ledger) -> None:
    first = ledger.customer("Anvil Works")  # C00001
    ledger.customer("C00001 Holdings")
    with write_tx(conn):
        search_index.sync(conn)
    assert hits(conn, "C00001") == [(first, "reference")]


def test_the_limit_holds_on_the_index(conn, ledger) -> None:
    for n in range(30):
        ledger.customer(f"Widget Gagné {n:02d}")
    with write_tx(conn):
        search_index.sync(conn)
    assert len(hits(conn, "gagne", limit=7)) == 7
    assert len(hits(conn, "widget gagne")) == 30
    assert len(hits(conn, "dget")) == 30


HEADER = ["customer_ref", "name", "country", "subdivision", "currency"]


def test_an_import_that_renames_a_customer_keeps_the_index_in_step(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    rows = [HEADER, ["C1", "Gagné Ltée", "CA", "QC", "CAD"], ["C2", "Bolt", "US", "NY", "USD"]]
    load(conn, write_csv(tmp_path / "a.csv", rows), "customers")
    assert conn.execute("SELECT COUNT(*) FROM search_stale").fetchone()[0] == 0
    (c1,) = conn.execute("SELECT id FROM customers WHERE external_ref = 'C1'").fetchone()
    assert hits(conn, "gagne") == [(c1, "name")]

    renamed = [["customer_ref", "name"], ["C1", "Tremblay O'Neil Inc."]]
    r = load(conn, write_csv(tmp_path / "b.csv", renamed), "customers")
    assert r.updated == 1
    assert conn.execute("SELECT COUNT(*) FROM search_stale").fetchone()[0] == 0
    assert hits(conn, "gagne") == []
    assert hits(conn, "oneil") == [(c1, "name")]
    indexed = conn.execute(
        "SELECT rowid FROM search_names_fts WHERE search_names_fts MATCH '\"oneil\"'"
    ).fetchall()
    assert [r[0] for r in indexed] == [c1]  # in the index itself, not matched as stale


def test_a_dry_run_import_leaves_the_index_as_it_was(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    rows = [HEADER, ["C1", "Gagné Ltée", "CA", "QC", "CAD"]]
    load(conn, write_csv(tmp_path / "a.csv", rows), "customers", dry_run=True)
    assert conn.execute("SELECT COUNT(*) FROM search_names").fetchone()[0] == 0
    assert hits(conn, "gagne") == []


def test_migrating_an_existing_database_indexes_its_customers(tmp_path: Path) -> None:
    conn = connect(tmp_path / "old.db")
    with write_tx(conn):
        migrations.apply(sqlite_utils.Database(conn), stop_before="m014_search")
        for i, name in enumerate(NAMES, start=1):
            conn.execute(
                "INSERT INTO customers (id, external_ref, name, country, currency, created_at,"
                " updated_at) VALUES (?, ?, ?, 'CA', 'CAD', 'x', 'x')",
                (i, f"C{i}", name),
            )
            conn.execute(
                "INSERT INTO phones (customer_id, e164, created_at) VALUES (?, ?, 'x')",
                (i, f"+1514555{i:04d}"),
            )
    assert migrate(conn)[0] == "m014_search"
    assert conn.execute("SELECT COUNT(*) FROM search_names").fetchone()[0] == len(NAMES)
    assert conn.execute("SELECT COUNT(*) FROM search_stale").fetchone()[0] == 0
    assert hits(conn, "gagne") == [(1, "name")]
    assert hits(conn, "obrien") == [(2, "name")]
    assert hits(conn, "5550003") == [(3, "phone")]
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    fts_ok = "INSERT INTO search_names_fts (search_names_fts) VALUES ('integrity-check')"
    conn.execute(fts_ok)  # raises when the full-text index and its content differ


def test_a_name_changed_outside_dunning_is_still_found(conn, names) -> None:
    """The sqlite3 shell (no Python) renames a customer: the trigger marks it stale and
    search matches it by its new name, not its old one, until the next sync."""
    cid = names["Gagné Ltée"]
    with write_tx(conn):
        search_index.sync(conn)
        conn.execute("UPDATE customers SET name = 'Brûlé Frères' WHERE id = ?", (cid,))
    assert hits(conn, "gagne") == []
    assert hits(conn, "brule") == [(cid, "name")]
    assert hits(conn, "freres") == [(cid, "name")]
    with write_tx(conn):
        assert search_index.sync(conn) == 1
    assert hits(conn, "gagne") == []
    assert hits(conn, "freres") == [(cid, "name")]


def test_cli_search_folds_and_says_what_matched(db_path, ledger, clock, capsys) -> None:
    gagne = ledger.customer("Gagné Ltée")
    with write_tx(ledger.conn):
        search_index.sync(ledger.conn)
    assert main(["--db", str(db_path), "search", "GAGNE", "--json"], clock=clock) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(h["customer_id"], h["name"], h["matched"]) for h in out] == [
        (gagne, "Gagné Ltée", "name")
    ]
    assert main(["--db", str(db_path), "search", "gagné ltee"], clock=clock) == 0
    line = capsys.readouterr().out
    assert "Gagné Ltée" in line and "(name)" in line


def test_sync_folds_new_and_renamed_customers_into_the_index(conn, ledger) -> None:
    for n in range(12):
        ledger.customer(f"Old Name {n}")
    with write_tx(conn):
        assert search_index.sync(conn) == 12  # a first load: rebuilt
    late = ledger.customer("Boulangerie Lévesque")
    with write_tx(conn):
        conn.execute("UPDATE customers SET name = 'Ébénisterie Roy' WHERE id = 1")
        assert search_index.sync(conn) == 2  # one new, one renamed: not a rebuild
        assert search_index.sync(conn) == 0
    assert search_index.stale_names(conn) == []
    assert conn.execute("SELECT COUNT(*) FROM search_names").fetchone()[0] == 13
    conn.execute("INSERT INTO search_names_fts (search_names_fts) VALUES ('integrity-check')")
    assert hits(conn, "levesque") == [(late, "name")]
    assert hits(conn, "ebenisterie") == [(1, "name")]
    assert sorted(cid for cid, _ in hits(conn, "old name")) == list(range(2, 13))
