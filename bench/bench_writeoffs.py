"""What round 8's approvals work costs at a million accounts (issue 9, item 7/9):

1. a lead's search scoped to their team (queue/search_scope.py: the hits filtered by
   owner, asking the indexes for 4x more until the page is full, at most 2,000), beside
   the same query unscoped (an admin's), alternated query by query;
2. what an import does more (db/ledger/invoices.py: written-off invoices kept closed):
   one DELETE over the import's changed rows (``--changed``), with ``--writeoffs``
   standing write-offs;
3. the report's ``written_off`` figure (db/metrics.py) over one month.

    python bench/bench_writeoffs.py --db COPY.db [--n 200] [--team alice,lena]
                                    [--writeoffs 20000]

It WRITES to the database (teams set, write-offs made, migrations applied): run it on a
copy of the benchmark database.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import summary_ms, table  # noqa: E402

from dunning.db.connection import connect, write_tx  # noqa: E402
from dunning.db.ledger import invoices  # noqa: E402
from dunning.db.metrics import METRICS_WRITTEN_OFF_SQL, _params  # noqa: E402
from dunning.db.schema import migrate  # noqa: E402
from dunning.queue.collectors import get_collector  # noqa: E402
from dunning.queue.search_scope import search_for  # noqa: E402


def queries(conn: sqlite3.Connection, n: int, rnd: random.Random) -> list[tuple[str, str]]:
    """(kind, text): name prefixes of 3 and 5 letters, reference prefixes, exact refs."""
    top = conn.execute("SELECT MAX(id) FROM customers").fetchone()[0]
    out: list[tuple[str, str]] = []
    while len(out) < n:
        row = conn.execute(
            "SELECT name, external_ref FROM customers WHERE id = ?", (rnd.randint(1, top),)
        ).fetchone()
        if row is None:
            continue
        name, ref = str(row[0]), str(row[1])
        kind = ("name3", "name5", "ref_prefix", "ref")[len(out) % 4]
        text = {"name3": name[:3], "name5": name[:5], "ref_prefix": ref[:-2], "ref": ref}[kind]
        out.append((kind, text))
    return out


def bench_search(conn: sqlite3.Connection, args: argparse.Namespace) -> None:
    team = [u.strip() for u in args.team.split(",") if u.strip()]
    with write_tx(conn):
        conn.execute("UPDATE collectors SET team = 'East' WHERE role != 'lead'")
        marks = ",".join("?" * len(team))
        conn.execute(f"UPDATE collectors SET team = 'West' WHERE username IN ({marks})", team)
    lead = get_collector(conn, args.lead)
    assert lead is not None and lead.team == "West", "the lead must be in --team"
    share = conn.execute(
        """SELECT AVG(k.team = 'West') FROM queue q JOIN collectors k ON k.id = q.collector_id"""
    ).fetchone()[0]
    print(f"lead {lead.username}, team West = {', '.join(team)}: {share:.1%} of the accounts")
    rnd = random.Random(8)
    by_kind: dict[str, dict[str, list[float]]] = {}
    hits: dict[str, list[int]] = {}
    for kind, text in queries(conn, args.n, rnd):
        for who, viewer in (("admin", None), ("lead", lead)):
            t = time.perf_counter()
            found = search_for(conn, viewer, text, limit=50)
            by_kind.setdefault(kind, {}).setdefault(who, []).append(time.perf_counter() - t)
            hits.setdefault(f"{kind}/{who}", []).append(len(found))
    rows = []
    for kind, runs in by_kind.items():
        for who in ("admin", "lead"):
            p50, p99, mx, n = summary_ms(runs[who])
            got = hits[f"{kind}/{who}"]
            rows.append([kind, who, p50, p99, mx, n, f"{sum(got) / len(got):.1f}"])
    print(table(["query", "who", "p50 ms", "p99 ms", "max ms", "n", "hits"], rows))


def bench_ledger(conn: sqlite3.Connection, args: argparse.Namespace) -> None:
    rnd = random.Random(34)
    top = conn.execute("SELECT MAX(id) FROM invoices").fetchone()[0]
    now = "2026-11-20T12:00:00Z"
    made = conn.execute("SELECT COUNT(*) FROM writeoffs").fetchone()[0]
    with write_tx(conn):
        while made < args.writeoffs:
            ids = [rnd.randint(1, top) for _ in range(1000)]
            marks = ",".join("?" * len(ids))
            rows = conn.execute(
                f"""SELECT id, customer_id, open_minor, currency FROM invoices
                    WHERE id IN ({marks}) AND status = 'open' AND open_minor > 0""",
                ids,
            ).fetchall()
            rows = rows[: args.writeoffs - made]
            conn.executemany(
                """INSERT INTO writeoffs (customer_id, invoice_id, amount_minor, currency,
                       kind, at, reason) VALUES (?,?,?,?,'writeoff',?,'bench')""",
                [(r[1], r[0], r[2], r[3], now) for r in rows],
            )
            conn.executemany(
                "UPDATE invoices SET status = 'closed', open_minor = 0 WHERE id = ?",
                [(r[0],) for r in rows],
            )
            made += len(rows)
    # an import's changed rows (temp.resolved): --changed invoices, a tenth of them
    # written off, the ERP still showing them open
    standing = [r[0] for r in conn.execute("SELECT invoice_id FROM writeoffs LIMIT ?",
                                           (args.changed // 10,))]  # fmt: skip
    changed = standing + [rnd.randint(1, top) for _ in range(args.changed - len(standing))]
    times, month = [], []
    for _ in range(args.repeat):
        conn.execute("DROP TABLE IF EXISTS temp.resolved")
        conn.execute("CREATE TEMP TABLE resolved (inv_id INTEGER, status TEXT)")
        conn.executemany("INSERT INTO temp.resolved VALUES (?, 'open')", [(i,) for i in changed])
        t = time.perf_counter()
        conn.execute(invoices.KEEP_WRITTEN_OFF)
        times.append(time.perf_counter() - t)
        from datetime import UTC, date

        p = _params(date(2026, 11, 1), date(2026, 11, 30), UTC)
        t = time.perf_counter()
        conn.execute(METRICS_WRITTEN_OFF_SQL, p).fetchall()
        month.append(time.perf_counter() - t)
    rows = [
        [f"import of {args.changed:,} changed: keep {made:,} closed", *summary_ms(times)],
        ["metrics: written_off, one month", *summary_ms(month)],
    ]
    print(table(["statement", "p50 ms", "p99 ms", "max ms", "n"], rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--n", type=int, default=200, help="search queries (each run twice)")
    ap.add_argument("--lead", default="lena")
    ap.add_argument("--team", default="alice,lena", help="the lead's team (usernames)")
    ap.add_argument("--writeoffs", type=int, default=20_000)
    ap.add_argument("--changed", type=int, default=10_000, help="invoices an import changes")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--skip-search", action="store_true")
    args = ap.parse_args()
    conn = connect(args.db)
    t = time.perf_counter()
    applied = migrate(conn)
    if applied:
        print(f"migrated {', '.join(applied)} in {time.perf_counter() - t:.2f} s")
    if not args.skip_search:
        bench_search(conn, args)
    bench_ledger(conn, args)
    conn.close()


if __name__ == "__main__":
    main()
