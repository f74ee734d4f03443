"""The demo portfolio's mix, to compare two builds (e.g. main's and a new generator's).

    .venv/bin/python bench/bench_build_mix.py A.db [B.db ...]

Prints, per database, the share of customers (or rows) by queue state, aging bucket of
open invoices, language, country, currency, portfolio, status, and the promises,
disputes, payment reports and activities by kind, side by side. Read-only.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

BUCKETS = (
    "CASE WHEN julianday('2026-11-23') - julianday(due_date) <= 0 THEN '0 current' "
    "WHEN julianday('2026-11-23') - julianday(due_date) <= 30 THEN '1-30' "
    "WHEN julianday('2026-11-23') - julianday(due_date) <= 60 THEN '31-60' "
    "WHEN julianday('2026-11-23') - julianday(due_date) <= 90 THEN '61-90' "
    "WHEN julianday('2026-11-23') - julianday(due_date) <= 120 THEN '91-120' ELSE '121+' END"
)

MIXES = {
    "queue state": "SELECT state, COUNT(*) FROM queue GROUP BY 1",
    "next action": "SELECT next_action, COUNT(*) FROM queue GROUP BY 1",
    "language": "SELECT language, COUNT(*) FROM customers GROUP BY 1",
    "country": "SELECT country, COUNT(*) FROM customers GROUP BY 1",
    "currency": "SELECT currency, COUNT(*) FROM customers GROUP BY 1",
    "portfolio": "SELECT portfolio, COUNT(*) FROM customers GROUP BY 1",
    "status": "SELECT status, COUNT(*) FROM customers GROUP BY 1",
    "open invoices by bucket (open_minor > 0)": (
        f"SELECT {BUCKETS}, COUNT(*) FROM invoices WHERE status = 'open' AND open_minor > 0 "
        "GROUP BY 1"
    ),
    "invoices by status": "SELECT status, COUNT(*) FROM invoices GROUP BY 1",
    "promises by status": "SELECT status || CASE WHEN plan_ref IS NULL THEN '' ELSE ' (plan)' "
    "END, COUNT(*) FROM promises GROUP BY 1",
    "disputes by reason": "SELECT reason, COUNT(*) FROM disputes GROUP BY 1",
    "activities by outcome": "SELECT outcome, COUNT(*) FROM activities GROUP BY 1",
    "phones by type": "SELECT type || CASE WHEN bad THEN ' bad' ELSE '' END || "
    "CASE WHEN do_not_call THEN ' dnc' ELSE '' END, COUNT(*) FROM phones GROUP BY 1",
    "accounts sharing a number (max, mean)": "SELECT 'max', MAX(n) FROM (SELECT COUNT(DISTINCT "
    "customer_id) n FROM phones GROUP BY e164) UNION ALL SELECT 'numbers', COUNT(DISTINCT e164) "
    "FROM phones",
    "distinct customer names": "SELECT 'names', COUNT(DISTINCT name) FROM customers",
}


def main() -> None:
    paths = [Path(p) for p in sys.argv[1:]]
    conns = [sqlite3.connect(f"file:{p}?mode=ro", uri=True) for p in paths]
    print("(buckets as of 2026-11-23, FixedClock's day: bench_build.py's builds)")
    print(f"{'':<44}" + "".join(f"{p.name:>24}" for p in paths))
    for title, sql in MIXES.items():
        results = [dict(c.execute(sql).fetchall()) for c in conns]
        totals = [sum(r.values()) or 1 for r in results]
        print(f"{title}")
        for key in sorted({k for r in results for k in r}, key=str):
            cells = "".join(
                f"{r.get(key, 0):>14,} {100 * r.get(key, 0) / t:7.2f}%"
                for r, t in zip(results, totals, strict=True)
            )
            print(f"  {key!s:<42}{cells}")


if __name__ == "__main__":
    main()
