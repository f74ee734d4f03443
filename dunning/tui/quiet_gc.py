"""No garbage collection between an outcome key and the next account drawn (issue 8).

Traced on a real pseudo-terminal (bench/pty_trace.py, docs/ROUND4_r5.md), the slow keys
(the p99) were full collections: one key in ~20 ran a generation-2 collection of 55-76 ms
between the key and the frame, because the save, the claim and the frame allocate most of
what the process allocates, so the allocation that trips Python's threshold is almost
always one of theirs. The screen freezes what is alive at its first frame (work.py), but
what each key leaves alive afterwards (caches of lines and styles, the next account made
ahead) grows the generation a full collection walks.

So the collector is paused while an outcome is saved and the next account claimed and
drawn, and resumed once that frame is written: a collection that falls due meanwhile
runs on the first allocation after the frame, in the collector's think time, where its
cost is the same and nobody waits for it. Nothing is skipped: the collections are moved,
not dropped (Python counts the allocations while paused).
"""

from __future__ import annotations

import gc

# a pause never outlives this (a frame that never comes: another screen on top, the file
# gone): collections resume anyway
LONGEST_HOLD = 2.0


class QuietCollections:
    """``hold()`` when a key starts the work, ``release()`` once the frame it leads to is
    written (or the work failed). Off (both do nothing) unless ``on``: the real app only,
    never a test process's collector."""

    def __init__(self, on: bool) -> None:
        self.on = on
        self.held = False
        self.holds = 0  # how many pauses began (a late timer releases only its own)

    def hold(self) -> int | None:
        """Pause collections; the pause's number (for release_late), None if not paused."""
        # someone else's pause (db/reports.py paused_gc) is left to its owner
        if self.on and not self.held and gc.isenabled():
            gc.disable()
            self.held = True
            self.holds += 1
            return self.holds
        return None

    def release(self) -> None:
        if self.held:
            self.held = False
            gc.enable()

    def release_late(self, number: int) -> None:
        """The LONGEST_HOLD timer of pause ``number``: released if it is still that one."""
        if self.held and self.holds == number:
            self.release()
