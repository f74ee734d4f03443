"""Small helpers shared by the benchmarks: percentiles, a plain-text table and how much of
a file the OS page cache holds."""

from __future__ import annotations

import statistics
import subprocess
from collections.abc import Sequence
from pathlib import Path


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


def resident(db: Path, digits: int = 1) -> str:
    """The share of ``db`` in the OS page cache (``fincore``), as a percentage, or '?'."""
    try:
        out = subprocess.run(
            ["fincore", "-b", "-n", "-o", "RES,SIZE", str(db)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        return f"{int(out[0]) / max(1, int(out[1])):.{digits}%}"
    except (OSError, subprocess.CalledProcessError, ValueError, IndexError):
        return "?"
