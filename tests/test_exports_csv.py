"""The fast CSV writer writes exactly the bytes the old per-cell writer wrote."""

from __future__ import annotations

import csv
import io
import random
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from dunning.db import csvsafe, exports
from dunning.db.reports import BUCKETS, AgingReport, AgingRow
from dunning.money import to_major

CURRENCIES = ["USD", "JPY", "KWD", "EUR", "CLF", ""]
NAMES = ["Acme", "Acme, Inc.", 'The "Best" Co', "two\nlines", "cr\rlf", "Ünïcødé 株式会社", "",
         " leading space", "a,b,\"c\"\r\n", "=1+1", "-2+3", "+A1", "@SUM(A1)", "\tx", "-12.50",
         "-", "x=1"]  # fmt: skip


def _old_csv(cols: list[exports.Column], rows: list[exports.Line]) -> str:
    """The writer before the fast path: csv.writer over exact integer money text, each
    cell neutralized (dunning/db/csvsafe.py)."""
    buf = io.StringIO()
    out = csvsafe.writer(buf)
    out.writerow([c.name for c in cols])
    out.writerows(exports._texts(cols, rows, False))
    return buf.getvalue()


def _decimal_text(minor: int, currency: str) -> str:
    return str(to_major(minor, currency)) if currency else str(minor)


def _report(rng: random.Random, n: int, by: str = "customer") -> AgingReport:
    amounts = [0, 1, -1, 5, -5, 99, -99, 100, -100, 2**52 - 1, -(2**52) + 1, 2**52, -(2**52),
               10**20 + 7, -(10**20) - 7, 123456789]  # fmt: skip
    rows = []
    for i in range(n):

        def amount() -> int:
            return rng.choice(amounts) if rng.random() < 0.5 else rng.randint(-(10**9), 10**9)

        rows.append(
            AgingRow(
                key=rng.choice([f"C{i:07d}", *NAMES]),
                name=rng.choice(NAMES),
                collector=rng.choice(["carmen", "", "o'neil, j", 'say "hi"']),
                currency=rng.choice(CURRENCIES),
                buckets=[amount() for _ in BUCKETS],
                credits=-abs(amount()),
                disputed=amount(),
                customers=rng.randint(0, 10**6),
            )
        )
    totals = [AgingRow("TOTAL", "", "", c, [7] * len(BUCKETS)) for c in CURRENCIES]
    return AgingReport(date(2026, 11, 23), by, rows, totals)


def test_fast_csv_is_byte_identical_on_awkward_rows() -> None:
    rng = random.Random(3)
    for by in ("customer", "collector"):
        cols, rows = exports.aging_table(_report(rng, 3000, by))
        assert exports.to_string(cols, rows, "csv") == _old_csv(cols, rows)


def test_fast_csv_file_bytes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cols, rows = exports.aging_table(_report(random.Random(5), 500))
    new, old = tmp_path / "new.csv", tmp_path / "old.csv"
    exports.write(cols, iter(rows), "csv", new)  # a generator, as a caller may pass
    with old.open("w", newline="", encoding="utf-8") as fh:
        fh.write(_old_csv(cols, rows))
    assert new.read_bytes() == old.read_bytes()


def test_fast_csv_with_none_cells() -> None:
    cols, rows = exports.aging_table(_report(random.Random(7), 50))
    rows[3][1] = None  # a customer without a name
    rows[4][2] = None  # nor a collector
    rows[5][6] = None  # a missing amount: the exact path
    assert exports.to_string(cols, rows, "csv") == _old_csv(cols, rows)


@settings(max_examples=300)
@given(
    # the aging's money columns: six buckets, credits, net, disputed, total
    st.lists(st.integers(min_value=-(2**60), max_value=2**60), min_size=10, max_size=10),
    st.sampled_from(CURRENCIES),
    st.text(max_size=12),
)
def test_money_text_matches_decimal(amounts: list[int], currency: str, name: str) -> None:
    cols, rows = exports.aging_table(_report(random.Random(0), 0))
    rows = [["K", name, "c", currency, *amounts]]
    out = exports.to_string(cols, rows, "csv")
    assert out == _old_csv(cols, rows)
    parsed = list(csv.reader(io.StringIO(out, newline="")))[1]
    assert parsed[4:] == [_decimal_text(a, currency) for a in amounts]
