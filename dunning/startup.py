"""Fewer garbage collections while the app starts (issue 8: start -> first account).

Importing Textual and dunning and mounting the screen allocate some hundreds of thousands
of objects and no cyclic garbage, yet with the default thresholds (700, 10, 10) Python ran
~160 collections before the first account was drawn: ~10% of the start. From the start
of ``dunning`` (the app only) until the first account is drawn, a collection waits for
50,000 allocations instead of 700; then the thresholds are put back (and the screen freezes
what is alive, dunning/tui/screens/work.py). Nothing else changes: a collection still runs,
only less often, if the first frame never comes.
"""

from __future__ import annotations

import gc

START_THRESHOLD = 50_000

_saved: tuple[int, int, int] | None = None


def defer_collections() -> None:
    """Raise the first generation's threshold (once; undone by resume_collections)."""
    global _saved
    if _saved is None:
        _saved = gc.get_threshold()
        gc.set_threshold(max(START_THRESHOLD, _saved[0]), _saved[1], _saved[2])


def resume_collections() -> None:
    """The thresholds as they were before defer_collections (nothing when not deferred)."""
    global _saved
    if _saved is not None:
        gc.set_threshold(*_saved)
        _saved = None
