"""Small helpers shared by the benchmarks: percentiles and a plain-text table."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def pct(samples: Sequence[float], p: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary_ms(samples: Sequence[float]) -> tuple[str, str, str, str]:
    """(p50, p99, max, n) of samples given in seconds, formatted in ms."""
    if not samples:
        return ("-", "-", "-", "0")
    return (
        f"{statistics.median(samples) * 1000:.2f}",
        f"{pct(samples, 99) * 1000:.2f}",
        f"{max(samples) * 1000:.2f}",
        str(len(samples)),
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
        for r in rows
    ]
    return "\n".join([line, sep, *body])
