"""Letters (issue 10): render N reminders from the demo, the first figure of the nightly
letter run (goal, for the whole run later: 100,000 e-mails rendered and written as .eml in
<= 60 s on 2 cores).

    python bench/bench_letters.py [--db PATH] [--n 10000] [--customers 20000]
                                  [--eml DIR [--eml-api message|mime]]

Without --db, a demo of --customers accounts is built in a temporary folder. The database
is only read (opened read-only: the 1M bench file can be used as it is). The accounts are
those the run would write to: active, an undisputed invoice past due (queue.oldest_due),
in customer order; the level by the oldest invoice's days past due (7, 30, 60, 90 days:
levels 1-4). Per account: the context read from the database (letters.context), the three
parts rendered (letters.render), and with --eml a multipart text + HTML message written
as a .eml file (the e-mail part of the issue will own that; here it prices it).

Prints rows per second for each phase and the whole, and the process's peak resident
memory (ru_maxrss) before and after.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import date, timedelta
from email.header import Header
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import SMTP
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import table  # noqa: E402

from dunning.clock import FixedClock, today  # noqa: E402
from dunning.letters.context import NothingToWrite, build_context  # noqa: E402
from dunning.letters.render import Rendered, templates  # noqa: E402
from dunning.letters.settings import LetterSettings  # noqa: E402

COMPANY = LetterSettings(
    company_name="Northwind Supply Co.",
    address="100 King Street West\nToronto ON  M5X 1A9",
    phone="+1 416 555 0100",
    email="ar@northwind.example",
    payment_instructions="Bank transfer: account 0012-3456789",
)
LEVELS = ((90, 4), (60, 3), (30, 2), (7, 1))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def level_of(days: int) -> int:
    return next((lvl for at, lvl in LEVELS if days >= at), 0)


def _message(to: str, out: Rendered) -> bytes:
    """email.message.EmailMessage (the modern API, policy SMTP)."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = COMPANY.email
    msg["To"] = to
    msg["Subject"] = out.subject
    msg.set_content(out.text)
    msg.add_alternative(out.html, subtype="html")
    return bytes(msg)


def _mime(to: str, out: Rendered) -> bytes:
    """email.mime (the compat32 API): the same message, built with less machinery."""
    msg = MIMEMultipart("alternative")
    msg["From"] = COMPANY.email
    msg["To"] = to
    msg["Subject"] = Header(out.subject, "utf-8")
    msg.attach(MIMEText(out.text, "plain", "utf-8"))
    msg.attach(MIMEText(out.html, "html", "utf-8"))
    return msg.as_bytes()


MESSAGE = {"message": _message, "mime": _mime}


def run(db: Path, n: int, as_of: date, eml: Path | None, api: str = "message") -> None:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    t0 = time.perf_counter()
    rows = conn.execute(
        "SELECT c.external_ref, q.oldest_due FROM customers c JOIN queue q "
        "ON q.customer_id = c.id WHERE c.status = 'active' AND q.oldest_due IS NOT NULL "
        "AND q.oldest_due <= ? ORDER BY c.id LIMIT ?",
        ((as_of - timedelta(days=7)).isoformat(), n),
    ).fetchall()
    select_s = time.perf_counter() - t0
    t = templates("")
    context_s = render_s = write_s = 0.0
    cpu = {"context": 0.0, "render": 0.0, "write": 0.0}
    by_level: dict[int, int] = {}
    chars = 0
    for ref, oldest in rows:
        level = level_of((as_of - date.fromisoformat(oldest[:10])).days)
        kind = f"reminder_{level}"
        a, ca = time.perf_counter(), time.process_time()
        try:
            locale, ctx = build_context(conn, ref, as_of=as_of, settings=COMPANY, kind=kind)
        except NothingToWrite:  # its overdue invoices are all credits: no reminder
            continue
        b, cb = time.perf_counter(), time.process_time()
        out = t.render(kind, locale, ctx)
        c, cc = time.perf_counter(), time.process_time()
        context_s += b - a
        render_s += c - b
        cpu["context"] += cb - ca
        cpu["render"] += cc - cb
        by_level[level] = by_level.get(level, 0) + 1
        chars += len(out.text) + len(out.html)
        if eml is not None:
            to = (ctx["contact"] or {}).get("email") or "unknown@invalid"
            (eml / f"{ref}-{kind}.eml").write_bytes(MESSAGE[api](to, out))
            write_s += time.perf_counter() - c
            cpu["write"] += time.process_time() - cc
    conn.close()
    total = select_s + context_s + render_s + write_s
    count = sum(by_level.values())

    def rate(seconds: float) -> str:
        return f"{count / seconds:,.0f}" if seconds else "-"

    print(
        f"{count:,} reminders (by level: {dict(sorted(by_level.items()))}), as of {as_of}, "
        f"{chars / max(count, 1) / 1024:.1f} KiB text + HTML each"
    )
    cpu_total = sum(cpu.values())

    def ms(seconds: float) -> str:
        return f"{seconds / max(count, 1) * 1000:.2f}"

    body = [
        ["select the accounts", f"{select_s:.2f}", "-", "-", "-"],
        [
            "context (database)",
            f"{context_s:.2f}",
            rate(context_s),
            ms(cpu["context"]),
            rate(cpu["context"]),
        ],
        [
            "render (3 parts)",
            f"{render_s:.2f}",
            rate(render_s),
            ms(cpu["render"]),
            rate(cpu["render"]),
        ],
    ]
    if eml is not None:
        body.append(
            ["write .eml", f"{write_s:.2f}", rate(write_s), ms(cpu["write"]), rate(cpu["write"])]
        )
    body.append(["total", f"{total:.2f}", rate(total), ms(cpu_total), rate(cpu_total)])
    print(table(["phase", "wall s", "rows/s (wall)", "CPU ms/row", "rows/s (CPU)"], body))
    print(f"peak resident memory: {peak_mb():.0f} MB")
    if count:
        goal = 100_000 / (count / total)
        print(f"at this rate, 100,000 letters on one core: {goal:.0f} s (goal 60 s on two)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, help="a demo database (read only); default: build one")
    ap.add_argument("--customers", type=int, default=20_000, help="demo size without --db")
    ap.add_argument("--n", type=int, default=10_000, help="reminders to render")
    ap.add_argument("--as-of", type=date.fromisoformat, help="default: the demo's day")
    ap.add_argument("--eml", type=Path, help="also write each as a .eml file in this folder")
    ap.add_argument(
        "--eml-api", choices=sorted(MESSAGE), default="message", help="how the .eml is built"
    )
    args = ap.parse_args()
    print(f"peak resident memory at start: {peak_mb():.0f} MB")
    as_of = args.as_of or today(FixedClock())
    if args.eml is not None:
        args.eml.mkdir(parents=True, exist_ok=True)
    if args.db is not None:
        run(args.db, args.n, as_of, args.eml, args.eml_api)
        return
    from dunning.demo.build import build_demo

    with tempfile.TemporaryDirectory(prefix="bench-letters-") as tmp:
        path = Path(tmp) / "demo.db"
        t = time.perf_counter()
        build_demo(path, customers=args.customers, clock=FixedClock())
        print(f"demo of {args.customers:,} built in {time.perf_counter() - t:.1f} s")
        run(path, args.n, as_of, args.eml, args.eml_api)


if __name__ == "__main__":
    main()
