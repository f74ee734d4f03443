"""The aligned aging table's measuring pass (issue 8): when the widths are not kept beside
the rows (dunning/db/aging_widths.py: no snapshot, a past date, a shifted date), pass one
measures the rows (text cells; per currency and money column the largest and smallest
amount: a formatted amount is longest at one of them) and spills them to a private
temporary file (``marshal``, unlinked at once); pass two writes the lines from the spill
(aging_out.write_batches). Moved out of dunning/db/aging_out.py (its size)."""

from __future__ import annotations

import marshal
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from dunning.db import aging_out, reports
from dunning.db import exports as ex
from dunning.db.reports_parallel import Tuples

State = dict[str, Any]


def _table(
    cols: list[ex.Column],
    batches: Iterator[Tuples],
    names: dict[int, str],
    fh: IO[str],
    title: str,
) -> int:
    """Pass one: widths, extremes per currency and totals, the tuples spilled; pass two:
    the lines. Returns the number of customer rows."""
    with tempfile.TemporaryFile() as spill:  # unlinked: private, gone on any exit
        state = aging_out.measure(batches, names, spill)
        shape = aging_out.layout(cols, state)
        aging_out.write_head(shape, cols, fh, title)
        aging_out.write_lines(shape, spill, names, fh)
        aging_out.write_tail(shape, fh)
    return int(state["count"])


def measure(batches: Iterator[Tuples], names: dict[int, str], spill: IO[bytes]) -> State:
    """Pass one over ``batches``: the widths of the text columns, per currency the
    largest and smallest amount of each money column and the sums, the number of rows;
    the tuples spilled to ``spill`` (``marshal``). States of two halves merge (merged)."""
    widths = [0] * aging_out.HEAD
    high: dict[str, list[int]] = {}  # per currency: largest amount of each money column
    low: dict[str, list[int]] = {}
    sums: dict[str, list[int]] = {}
    who: dict[int | None, str] = {}  # collector id -> the cell shown
    count = 0
    for batch in batches:
        count += len(batch)
        tcols = list(zip(*batch, strict=True))
        for cid in set(tcols[12]) - who.keys():
            who[cid] = aging_out._cleaned([names.get(cid) or reports.UNASSIGNED])[0]  # type: ignore[arg-type]
        texts = (tcols[1], tcols[11], [who[c] for c in set(tcols[12])], tuple(set(tcols[2])))
        for i, column in zip((0, 1, 2, 3), texts, strict=True):
            widths[i] = max(widths[i], max(map(len, aging_out._cleaned(column))))
        for c, rows in aging_out._by_currency(batch).items():
            rc = list(zip(*rows, strict=True))
            t = sums.setdefault(c, [0] * 9)
            for n in range(8):
                t[n] += sum(rc[3 + n])
            t[8] += len(rows)
            net = [-k - dp for k, dp in zip(rc[0], rc[10], strict=True)]
            total = [-k for k in rc[0]]
            values = [*rc[3:10], net, rc[10], total]
            hi = [max(v) for v in values]
            lo = [min(v) for v in values]
            if c in high:
                hi = [max(a, b) for a, b in zip(hi, high[c], strict=True)]
                lo = [min(a, b) for a, b in zip(lo, low[c], strict=True)]
            high[c], low[c] = hi, lo
        blob = marshal.dumps(batch)
        spill.write(len(blob).to_bytes(8, "little"))
        spill.write(blob)
    return {"widths": widths, "high": high, "low": low, "sums": sums, "count": count}


def merged(a: State, b: State) -> State:
    """The state of pass one over both halves."""
    high, low, sums = dict(a["high"]), dict(a["low"]), {c: list(t) for c, t in a["sums"].items()}
    for c, hi in b["high"].items():
        high[c] = [max(x, y) for x, y in zip(hi, high[c], strict=True)] if c in high else hi
        lo = b["low"][c]
        low[c] = [min(x, y) for x, y in zip(lo, low[c], strict=True)] if c in low else lo
    for c, t in b["sums"].items():
        mine = sums.setdefault(c, [0] * 9)
        for i, v in enumerate(t):
            mine[i] += v
    widths = [max(x, y) for x, y in zip(a["widths"], b["widths"], strict=True)]
    return {"widths": widths, "high": high, "low": low, "sums": sums,
            "count": a["count"] + b["count"]}  # fmt: skip


def write_lines(
    shape: dict[str, Any], spill: IO[bytes], names: dict[int, str], fh: IO[str]
) -> None:
    """Pass two: the lines of the rows spilled by ``measure``."""
    spill.seek(0)
    blobs = iter(lambda: spill.read(int.from_bytes(spill.read(8) or b"\0", "little")), b"")
    aging_out.write_batches(shape, map(marshal.loads, blobs), names, fh)
