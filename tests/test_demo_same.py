"""The demo build makes the same rows after issue 8's speed work as before it.

The digests below were taken from the build as it was before issue 8 (same seed, same
clock, the big builds' path in one process: phone pools, queue rows scored directly).
A change that makes the build faster must leave every table's rows as they were.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from dunning.clock import FixedClock
from dunning.demo.build import LOADED, build_demo_report

BEFORE = {
    "customers": "3000:f4c26175d2f488ef",
    "contacts": "4559:ae3271928c667908",
    "phones": "4914:685c983238c892fb",
    "invoices": "15233:a23ea85cf3e49d2d",
    "payments": "8396:2294f1f93c907295",
    "activities": "7299:f9fcff816f34758b",
    "promises": "620:bfe668d8e705f6cb",
    "disputes": "144:b34be7e26dd3bcb5",
    "dispute_invoices": "193:0c38875292e4b6e9",
    "payment_reports": "101:6cf27d5263e0faac",
    "assignments": "3000:be6927224de8ab7f",
    "queue": "3000:1292643c708ce6b7",
}

LATER = {
    "queue": ("pclass", "pkey", "restand_on", "closed_from", "closed_until", "closed_why",
              "closed_mark"),
    "assignments": ("from_collector_id",),  # m033 (issue 9): who gave, after these digests
    "contacts": ("email_opt_out_at", "email_opt_out_by"),  # m037 (issue 10): opt-out of e-mail
    # m039 (round 10): the postal address, a function of the customer's id (demo/addresses.py)
    "customers": ("address_line1", "address_line2", "city", "postal_code"),
}  # fmt: skip


def digests(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        out = {}
        for table in (*LOADED, "queue"):
            h = hashlib.sha256()
            n = 0
            # the queue's standing (m022, after these digests) is not in them: its rows
            # are compared with the refresh's in tests/test_demo.py; nor the claim's memo
            # of closed windows (m023: empty after a build)
            cols = "*"
            if table in LATER:
                names = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
                cols = ", ".join(c for c in names if c not in LATER[table])
            for row in conn.execute(f"SELECT {cols} FROM {table} ORDER BY rowid"):
                h.update(repr(row).encode())
                n += 1
            out[table] = f"{n}:{h.hexdigest()[:16]}"
        return out
    finally:
        conn.close()


def test_the_big_builds_path_makes_the_rows_it_made_before(tmp_path):
    path = tmp_path / "demo.db"
    build_demo_report(
        path,
        customers=3000,
        seed=5,
        clock=FixedClock(),
        worker=False,
        phone_pool=True,
        direct_queue=True,
    )
    assert digests(path) == BEFORE


def test_the_search_index_made_during_the_load_is_the_one_rebuild_makes(tmp_path, monkeypatch):
    """The build folds names batch by batch while it loads (build._Names): the index must
    hold what search_index.rebuild makes from the finished table, FTS5 included."""
    from dunning.db import search_index
    from dunning.demo import build

    monkeypatch.setattr(build, "CHUNK", 700)  # several batches
    path = tmp_path / "demo.db"
    build_demo_report(
        path, customers=2000, clock=FixedClock(), worker=False, phone_pool=True, direct_queue=True
    )
    conn = sqlite3.connect(path)
    try:
        query = "SELECT customer_id, folded FROM search_names ORDER BY customer_id"
        trigram = "SELECT rowid FROM search_names_fts WHERE search_names_fts MATCH 'ard' ORDER BY 1"
        made, hits = conn.execute(query).fetchall(), conn.execute(trigram).fetchall()
        assert len(made) == 2000 and hits
        conn.execute("INSERT INTO search_names_fts (search_names_fts) VALUES ('integrity-check')")
        with conn:
            search_index.rebuild(conn)
        assert conn.execute(query).fetchall() == made
        assert conn.execute(trigram).fetchall() == hits
        indexes = "SELECT name FROM sqlite_master WHERE name = 'search_names_folded'"
        assert conn.execute(indexes).fetchall() == [("search_names_folded",)]
        assert conn.execute("SELECT COUNT(*) FROM search_stale").fetchone() == (0,)
    finally:
        conn.close()
