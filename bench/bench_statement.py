"""The statement of account PDF (issue 10, item 2): one 200-invoice account, N times
(goal: <= 0.5 s a statement).

    python bench/bench_statement.py [--n 50] [--invoices 200] [--customers 300]
                                    [--db PATH --ref REF]

Without --db, a demo of --customers accounts is built in a temporary folder and its first
account gets --invoices open invoices (its own closed), one disputed, one credit note and
an unapplied payment. With --db the database is opened read-only and --ref's statement is
made as it is (the 1M bench file can be used without a copy).

Prints, beside each other: the statement PDF (statement_pdf: context, layout, fonts,
output), the context alone (build_context: the reference, what every letter reads) and
the statement letter's text + HTML (render), p50/p99/max wall seconds and p50 CPU; the
first PDF of the process (fpdf2 and babel imported, fonts parsed); its size and pages; the
peak resident memory before and after.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import pct, table  # noqa: E402

from dunning.clock import FixedClock, today  # noqa: E402
from dunning.letters.settings import LetterSettings  # noqa: E402

COMPANY = LetterSettings(
    company_name="Northwind Supply Co.",
    address="100 King Street West\nToronto ON  M5X 1A9",
    phone="+1 416 555 0100",
    email="ar@northwind.example",
    payment_instructions="Bank transfer: account 0012-3456789",
)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def big_account(path: Path, invoices: int, as_of: date) -> str:
    """The first customer of the demo at ``path`` with ``invoices`` open invoices."""
    conn = sqlite3.connect(path)
    cid, ref, currency = conn.execute(
        "SELECT id, external_ref, currency FROM customers ORDER BY id LIMIT 1"
    ).fetchone()
    conn.execute(
        "UPDATE invoices SET status = 'paid', open_minor = 0 WHERE customer_id = ?", (cid,)
    )
    stamp = "2026-01-01T00:00:00Z"
    for k in range(invoices):
        due = (as_of - timedelta(days=400 - 2 * k)).isoformat()
        amount = -5_000 if k == 1 else 1_000 + 137 * k
        conn.execute(
            "INSERT INTO invoices (customer_id, number, issue_date, due_date, amount_minor, "
            "open_minor, currency, disputed, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (cid, f"BIG-{k:04d}", due, due, amount, amount, currency, int(k == 2), stamp, stamp),
        )
    conn.execute(
        "INSERT INTO payments (customer_id, paid_on, amount_minor, currency, reference, "
        "created_at) VALUES (?,?,?,?,?,?)",
        (cid, as_of.isoformat(), 12_345, currency, "WIRE-1", stamp),
    )
    conn.commit()
    conn.close()
    return ref


def timed(fn, n: int) -> tuple[list[float], list[float]]:  # noqa: ANN001
    """Wall and CPU seconds of each of ``n`` calls (CPU: what a busy machine's wall hides)."""
    wall, cpu = [], []
    for _ in range(n):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--invoices", type=int, default=200)
    ap.add_argument("--customers", type=int, default=300)
    ap.add_argument("--db", type=Path)
    ap.add_argument("--ref")
    args = ap.parse_args()
    before = peak_mb()
    with tempfile.TemporaryDirectory(prefix="bench-statement-") as tmp:
        if args.db is not None:
            if not args.ref:
                ap.error("--db needs --ref")
            conn = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
            as_of, ref = date.today(), args.ref
        else:
            from dunning.demo.build import build_demo

            path = Path(tmp) / "demo.db"
            clock = FixedClock()
            build_demo(path, customers=args.customers, clock=clock)
            as_of = today(clock)
            ref = big_account(path, args.invoices, as_of)
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        built = peak_mb()
        t = time.perf_counter()
        from dunning.letters.context import build_context
        from dunning.letters.pdf import statement_pdf
        from dunning.letters.render import render

        first = statement_pdf(conn, ref, as_of=as_of, settings=COMPANY)
        cold = time.perf_counter() - t

        def pdf() -> None:
            statement_pdf(conn, ref, as_of=as_of, settings=COMPANY)

        def context() -> None:
            build_context(conn, ref, as_of=as_of, settings=COMPANY, kind="statement")

        def letter() -> None:
            locale, ctx = build_context(conn, ref, as_of=as_of, settings=COMPANY, kind="statement")
            render("statement", locale, ctx)

        rows = []
        for name, fn in (
            ("statement PDF", pdf),
            ("context alone (reference)", context),
            ("statement letter, text + HTML", letter),
        ):
            s, cpu = timed(fn, args.n)
            rows.append(
                [name, f"{pct(s, 50):.3f}", f"{pct(s, 99):.3f}", f"{max(s):.3f}",
                 f"{pct(cpu, 50):.3f}"]
            )  # fmt: skip
        conn.close()
    print(
        f"account {ref}: {args.invoices if args.db is None else '?'} invoices, "
        f"{first.pages} pages, {len(first.data) / 1024:.0f} KiB, locale {first.locale}; "
        f"n = {args.n}"
    )
    print(table(["what", "p50 s", "p99 s", "max s", "CPU p50 s"], rows))
    print(f"first PDF of the process (imports, fonts): {cold:.3f} s")
    print(
        f"peak resident memory: {before:.0f} MB at start, {built:.0f} MB after the demo, "
        f"{peak_mb():.0f} MB at the end"
    )
    verdict = "met" if float(rows[0][2]) <= 0.5 else "NOT met"
    print(f"goal <= 0.5 s a statement (p99): {verdict}; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
