"""Every output of the aging report (rows, CSV bytes, table text, XLSX cells, a past
date, by customer and by collector) equals a slow, obviously correct reference computed
here in plain Python from the ledger's rows: a random ledger with partial payments,
credit notes, disputes, several currencies, unapplied cash, payments and invoices dated
after the as-of date, and balances the ERP changed without a payment after it."""

from __future__ import annotations

import io
import random
import sqlite3
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from openpyxl import load_workbook

from dunning.cli import main
from dunning.clock import FixedClock
from dunning.db import reports
from dunning.db import reports_past as past
from dunning.db.connection import write_tx
from dunning.db.csvsafe import writer as safe_writer
from dunning.db.exports import table_text

TODAY = date(2026, 11, 23)  # the test clock's day (conftest.T0)
BUCKET_NAMES = ("current", "1-30", "31-60", "61-90", "91-120", "120+")
DIGITS = {"USD": 2, "EUR": 2, "JPY": 0, "KWD": 3}
NAMES = ["Acme", "Bolt, Inc.", 'Say "hi"', "=1+1", "@SUM(A1)", "-12", "Gagné Ltée",
         "A name far longer than thirty-two characters, surely", "Esc\x1b[31mred",
         "Tab\tname", "O'Brien", "+33 Co", "Line\nbreak", "ＷＩＤＥ"]  # fmt: skip


def _iso(d: date) -> str:
    return d.isoformat()


def build(conn: sqlite3.Connection, seed: int, customers: int = 80) -> None:
    rng = random.Random(seed)
    now = "2026-11-23T15:00:00Z"
    with write_tx(conn):
        users = []
        for n in range(3):
            users.append(conn.execute(
                "INSERT INTO collectors (username, display_name, created_at) VALUES (?,?,?)",
                (f"col{n}", f"Collector {n}", now)).lastrowid)  # fmt: skip
        inv_n = pay_n = 0
        for c in range(1, customers + 1):
            cur = rng.choice(list(DIGITS))
            name = rng.choice(NAMES) + ("" if rng.random() < 0.5 else f" {c}")
            cid = conn.execute(
                "INSERT INTO customers (external_ref, name, country, currency, created_at, "
                "updated_at) VALUES (?,?,?,?,?,?)",
                (f"R{rng.randrange(1000):03d}-{c}", name, "US", cur, now, now),
            ).lastrowid
            if rng.random() < 0.9:
                who = rng.choice([*users, None])
                conn.execute(
                    "INSERT INTO queue (customer_id, collector_id, next_action_at, updated_at) "
                    "VALUES (?,?,?,?)",
                    (cid, who, now, now),
                )
            for _ in range(rng.randrange(0, 7)):
                inv_n += 1
                icur = cur if rng.random() < 0.85 else rng.choice(list(DIGITS))
                issue = TODAY - timedelta(days=rng.randrange(0, 260))
                due = issue + timedelta(days=rng.choice([0, 15, 30, 45]))
                amount = rng.randrange(1, 4_000_000) * (-1 if rng.random() < 0.12 else 1)
                if rng.random() < 0.05:
                    amount = rng.choice([1, -1, 10**13, 9_007_199_254_740_993])
                paid = []
                left = amount
                if amount > 0:
                    for _ in range(rng.randrange(0, 3)):
                        part = rng.randrange(1, amount + 1)
                        day = issue + timedelta(days=rng.randrange(-5, 90))
                        paid.append((part, min(day, TODAY)))
                        left -= part
                adjusted = rng.random() < 0.1  # the ERP changed the balance, no payment
                if adjusted:
                    left -= rng.randrange(0, abs(amount) + 1) * (1 if amount > 0 else -1)
                if left == 0:
                    status = "paid"
                else:
                    status = "open" if rng.random() < 0.97 else rng.choice(["paid", "closed"])
                upd = TODAY - timedelta(days=rng.randrange(0, 120)) if adjusted else issue
                iid = conn.execute(
                    "INSERT INTO invoices (customer_id, number, issue_date, due_date, "
                    "amount_minor, open_minor, currency, status, disputed, created_at, "
                    "updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (cid, f"I{inv_n}", _iso(issue), _iso(due), amount, left, icur, status,
                     int(rng.random() < 0.15), now, _iso(upd) + "T12:00:00Z"),
                ).lastrowid  # fmt: skip
                for part, day in paid:
                    pay_n += 1
                    conn.execute(
                        "INSERT INTO payments (customer_id, invoice_id, amount_minor, "
                        "currency, paid_on, created_at) VALUES (?,?,?,?,?,?)",
                        (cid, iid, part, icur, _iso(day), now),
                    )
            for _ in range(rng.choice([0, 0, 0, 1, 2])):  # unapplied cash
                pay_n += 1
                day = TODAY - timedelta(days=rng.randrange(0, 200))
                conn.execute(
                    "INSERT INTO payments (customer_id, invoice_id, amount_minor, currency, "
                    "paid_on, created_at) VALUES (?,NULL,?,?,?,?)",
                    (cid, rng.randrange(1, 500_000), rng.choice([cur, "EUR"]), _iso(day), now),
                )


# --- the reference --------------------------------------------------------------------


def reference_rows(conn: sqlite3.Connection, as_of: date, by: str) -> list[list[Any]]:
    """The report's rows then its TOTAL rows, as lists of the columns (money in minor
    units): read every row of the ledger and add it up in Python."""
    past = as_of < TODAY
    inv = {r[0]: r for r in conn.execute(
        "SELECT id, customer_id, currency, issue_date, due_date, amount_minor, open_minor, "
        "status, disputed, updated_at FROM invoices")}  # fmt: skip
    pays = conn.execute(
        "SELECT customer_id, invoice_id, amount_minor, currency, paid_on FROM payments"
    ).fetchall()
    cust = {r[0]: r[1:] for r in conn.execute("SELECT id, external_ref, name FROM customers")}
    users = dict(conn.execute("SELECT id, username FROM collectors").fetchall())
    queue = conn.execute("SELECT customer_id, collector_id FROM queue").fetchall()
    owner = {c: users.get(u) for c, u in queue}
    acc: dict[tuple[int, str], list[int]] = {}

    def add(cid: int, cur: str, slot: int, amount: int) -> None:
        acc.setdefault((cid, cur), [0] * 8)[slot] += amount

    for iid, cid, cur, issue, due, amount, open_, status, disputed, updated in inv.values():
        if past:
            if issue > as_of.isoformat():
                continue
            p_all = sum(p[2] for p in pays if p[1] == iid)
            p_after = sum(p[2] for p in pays if p[1] == iid and p[4] > as_of.isoformat())
            open_ = open_ + p_after
            if updated[:10] > as_of.isoformat():
                open_ += amount - (open_ - p_after) - p_all
        elif status != "open":
            continue
        if open_ == 0:
            continue
        if open_ < 0:
            add(cid, cur, 6, open_)
        elif disputed:
            add(cid, cur, 7, open_)
        else:
            days = (as_of - date.fromisoformat(due)).days
            slot = 0 if days <= 0 else min((days - 1) // 30 + 1, 5)
            add(cid, cur, slot, open_)
    for cid, iid, amount, cur, paid_on in pays:
        if past:
            if paid_on > as_of.isoformat():
                continue
            if iid is not None and inv[iid][3] <= as_of.isoformat():
                continue
        elif iid is not None:
            continue
        add(cid, cur, 6, -amount)
    out = []
    totals: dict[str, list[int]] = {}
    if by == "customer":
        for (cid, cur), v in acc.items():
            ref, name = cust[cid]
            who = owner.get(cid) or reports.UNASSIGNED
            out.append([ref, name, who, cur, *v])
        out.sort(key=lambda r: (-sum(r[4:]), r[0], r[3]))
    else:
        groups: dict[tuple[str, str], list[int]] = {}
        for (cid, cur), v in acc.items():
            g = groups.setdefault((owner.get(cid) or reports.UNASSIGNED, cur), [0] * 9)
            g[:8] = [a + b for a, b in zip(g[:8], v, strict=True)]
            g[8] += 1
        for (who, cur), g in groups.items():
            out.append([who, g[8], cur, *g[:8]])
        out.sort(key=lambda r: (r[0] == reports.UNASSIGNED, r[0], r[2]))
    for (_, cur), v in acc.items():
        t = totals.setdefault(cur, [0] * 9)
        t[:8] = [a + b for a, b in zip(t[:8], v, strict=True)]
        t[8] += 1
    lines = []
    for r in out:  # [head..., cur, b0..b5, credits, disputed] -> with net and total
        *head, b0, b1, b2, b3, b4, b5, cr, dp = r
        net = b0 + b1 + b2 + b3 + b4 + b5 + cr
        lines.append([*head, b0, b1, b2, b3, b4, b5, cr, net, dp, net + dp])
    for cur, t in sorted(totals.items()):
        net = sum(t[:7])
        head = ["TOTAL", "", ""] if by == "customer" else ["TOTAL", t[8]]
        lines.append([*head, cur, *t[:7], net, t[7], net + t[7]])
    return lines


def columns(by: str) -> list[str]:
    head = ["customer", "name", "collector"] if by == "customer" else ["collector", "customers"]
    return [*head, "currency", *BUCKET_NAMES, "credits", "net", "disputed", "total"]


def money(v: int, cur: str, grouped: bool) -> str:
    d = DIGITS.get(cur, 2)
    whole, frac = divmod(abs(v), 10**d)
    text = f"{whole:,}" if grouped else str(whole)
    return ("-" if v < 0 else "") + text + (f".{frac:0{d}d}" if d else "")


def texts(lines: list[list[Any]], by: str, grouped: bool) -> list[list[str]]:
    cur_at = 3 if by == "customer" else 2
    return [[str(v) if i <= cur_at else money(v, line[cur_at], grouped)
             for i, v in enumerate(line)] for line in lines]  # fmt: skip


def reference_csv(lines: list[list[Any]], by: str) -> bytes:
    buf = io.StringIO()
    out = safe_writer(buf)
    out.writerow(columns(by))
    out.writerows(texts(lines, by, False))
    return buf.getvalue().encode()


def reference_table(lines: list[list[Any]], by: str, title: str) -> str:
    names = columns(by)
    text_cols = 3 if by == "customer" else 1  # then an int column (by collector)
    cells = [names, *texts(lines, by, True)]
    for r in cells[1:]:
        for i in [*range(text_cols), names.index("currency")]:
            r[i] = table_text(r[i])
    widths = [max(len(r[i]) for r in cells) for i in range(len(names))]
    right = [n not in ("customer", "name", "collector", "currency") for n in names]
    out = [title]
    for n, r in enumerate(cells):
        cols = zip(r, widths, right, strict=True)
        out.append("  ".join(v.rjust(w) if ra else v.ljust(w) for v, w, ra in cols).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out) + "\n"


# --- the product -------------------------------------------------------------------------


def product_rows(conn: sqlite3.Connection, as_of: date, by: str) -> list[list[Any]]:
    report = reports.aging(conn, as_of, by=by, today=TODAY)
    out = []
    for r in [*report.rows, *report.totals]:
        head = [r.key, r.name, r.collector] if by == "customer" else [r.key, r.customers]
        out.append([*head, r.currency, *r.buckets, r.credits, r.net, r.disputed, r.total])
    return out


def run(db: Path, clock: FixedClock, *argv: str) -> None:
    assert main(["--db", str(db), "report", "aging", *argv], clock=clock) == 0


AS_OFS = [TODAY, TODAY + timedelta(days=40), date(2026, 10, 31), date(2026, 6, 30),
          date(2025, 1, 1)]  # fmt: skip


@pytest.mark.parametrize(("seed", "delta"), [(1, None), (2, None), (3, True), (4, False)])
def test_every_aging_output_equals_the_reference(
    conn: sqlite3.Connection,
    db_path: Path,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    seed: int,
    delta: bool | None,
) -> None:
    """``delta``: a past date through reports_past.DELTA_SQL (True), PAST_SQL (False), or
    whichever the date calls for (None)."""
    if delta is not None:
        monkeypatch.setattr(past, "use_delta", lambda conn, as_of: delta)
    build(conn, seed)
    for as_of in AS_OFS:
        for by in ("customer", "collector"):
            want = reference_rows(conn, as_of, by)
            assert product_rows(conn, as_of, by) == want, (as_of, by)
            argv = ["--by", by] + (["--as-of", as_of.isoformat()] if as_of != TODAY else [])
            out = tmp_path / f"a-{as_of}-{by}.csv"
            run(db_path, clock, *argv, "--format", "csv", "-o", str(out))
            assert out.read_bytes() == reference_csv(want, by), (as_of, by)
            out = tmp_path / f"a-{as_of}-{by}.txt"
            run(db_path, clock, *argv, "--format", "table", "-o", str(out))
            got = out.read_text(encoding="utf-8")
            assert got == reference_table(want, by, f"Aging as of {as_of}"), (as_of, by)
            if as_of in (TODAY, date(2026, 10, 31)):
                out = tmp_path / f"a-{as_of}-{by}.xlsx"
                run(db_path, clock, *argv, "--format", "xlsx", "-o", str(out))
                ws = load_workbook(out, read_only=True).worksheets[0]
                cells = [list(r) for r in ws.iter_rows(values_only=True)]
                assert cells[0] == columns(by)
                assert len(cells) == len(want) + 1
                cur_at = 3 if by == "customer" else 2
                for got_row, line in zip(cells[1:], want, strict=True):
                    if max(map(abs, line[cur_at + 1 :])) >= 2**50:
                        continue  # read back as a float: not exact
                    scale = 10 ** DIGITS[line[cur_at]]
                    assert [round(v * scale) for v in got_row[cur_at + 1 :]] == line[cur_at + 1 :]


def test_unsafe_cells_finds_each_cell_visible_would_change() -> None:
    from dunning.textsafe import is_safe, unsafe_cells

    cells = ["ok", "a\x1bb", "", "x\ny", "fine|bar", "\u202e", "tab\t", "plain"]
    assert unsafe_cells(cells) == [i for i, c in enumerate(cells) if not is_safe(c)]
    assert unsafe_cells(["a", "b"]) == []
    assert unsafe_cells([]) == []


@pytest.mark.parametrize("fmt", ["csv", "table"])
def test_an_interrupted_aging_leaves_no_file_and_a_written_one_is_private(
    conn: sqlite3.Connection,
    db_path: Path,
    clock: FixedClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    from dunning.db import aging_measure, aging_out

    build(conn, 5)
    monkeypatch.setattr(aging_out, "CHUNK", 7)  # many chunks: the file is written in parts
    out = tmp_path / "out" / f"aging.{fmt if fmt == 'csv' else 'txt'}"
    out.parent.mkdir()
    run(db_path, clock, "--format", fmt, "-o", str(out))
    assert out.stat().st_mode & 0o777 == 0o600
    whole = out.read_bytes()
    out.unlink()
    real = aging_measure.marshal.loads if fmt == "table" else aging_out._csv_batch
    calls = []

    def interrupted(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args)

    if fmt == "table":  # pass two, reading the spilled rows back
        fake = SimpleNamespace(dumps=aging_measure.marshal.dumps, loads=interrupted)
        monkeypatch.setattr(aging_measure, "marshal", fake)
    else:
        monkeypatch.setattr(aging_out, "_csv_batch", interrupted)
    with pytest.raises((KeyboardInterrupt, SystemExit)):
        code = main(["--db", str(db_path), "report", "aging", "--format", fmt, "-o", str(out)],
                    clock=clock)  # fmt: skip
        raise SystemExit(code)
    assert len(calls) == 3
    assert list(out.parent.iterdir()) == []  # neither the file nor a .partial
    monkeypatch.undo()
    run(db_path, clock, "--format", fmt, "-o", str(out))
    assert out.read_bytes() == whole
