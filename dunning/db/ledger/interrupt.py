"""Ctrl-C around the commit of an import: held, so that the outcome is always known.

Python raises ``KeyboardInterrupt`` at the next bytecode after a signal, which may be just
after ``COMMIT`` returned: the import is then written, but the exception says nothing of
it and "nothing was written" would be a lie. ``HeldInterrupt.hold()`` (just before the
commit) records a SIGINT instead of raising it; ``release()`` (once the import's clean-up
is done) restores the handler and says whether one came, so the caller can report the
truth: written in full, or (when the commit did not happen) re-raise it.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any


class HeldInterrupt:
    def __init__(self) -> None:
        self.came = False
        self._previous: Any = None
        self._active = False

    def _record(self, signum: int, frame: FrameType | None) -> None:
        self.came = True

    def hold(self) -> None:
        """From now on a Ctrl-C is recorded, not raised (main thread only: signals are
        delivered there; elsewhere this does nothing)."""
        if self._active or threading.current_thread() is not threading.main_thread():
            return
        try:
            self._previous = signal.signal(signal.SIGINT, self._record)
        except ValueError:  # pragma: no cover - not the main interpreter
            return
        self._active = True

    def release(self) -> bool:
        """Restore the previous handler; True when a Ctrl-C came while held."""
        if self._active:
            previous = self._previous
            if previous is None:  # installed from C: Python's own is the sensible one
                previous = signal.default_int_handler
            signal.signal(signal.SIGINT, previous)
            self._active = False
        return self.came
