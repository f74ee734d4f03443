"""The app as ``python -m dunning``, with a per-key trace of where its time goes: a runner
for ``bench_pty.py --only-keys --runner bench/pty_trace.py`` (the trace goes to the file
named by ``DUNNING_TRACE``, one JSON line per outcome key).

Each line, times in ms from the key (the outcome action entered, on the main thread):
- ``frames``: every frame written to the terminal until the next key: [at, main-thread
  CPU spent since the key at that point]; the frame after the account is shown is the draw
- ``loaded``: the pane showing the account (AccountPane.show, in WorkScreen._loaded) [at, ms]
- ``layout``/``render``/``display``: main-thread ms in Textual's layout pass, compositor
  render and terminal write, each split [before the draw, after it]
- ``jobs``: the session's database work in any thread: [name, at, ms]
- ``gc``: collections [generation, at, ms]
- ``cpu``: the process's CPU (all threads) from this key to the next
- ``swapped``: the account drawn from the lines made ahead (the guess was right)
- ``stage``: the next account's lines made ahead (main thread) [at, ms]
- ``widgets``: before the draw, each widget rendered: [times, main-thread CPU ms]

A tool, not a test: it changes nothing the app does but add timers around calls.
``python bench/pty_trace.py --summary TRACE...``: one line of figures a trace.
"""

from __future__ import annotations

import gc
import json
import os
import runpy
import sys
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

OUT = os.environ.get("DUNNING_TRACE", "/tmp/dunning-trace.jsonl")
MAIN = threading.main_thread()


class Trace:
    def __init__(self) -> None:
        self.rec: dict[str, Any] | None = None
        self.t0 = 0.0
        self.cpu0 = 0.0
        self.main0 = 0.0
        self.drawn = False
        self.out = open(OUT, "w")  # noqa: SIM115 - open for the process's life

    def now(self) -> float:
        return (time.perf_counter() - self.t0) * 1000

    def key(self) -> None:
        self.flush()
        self.t0 = time.perf_counter()
        self.cpu0 = time.process_time()
        self.main0 = time.thread_time()
        self.drawn = False
        self.rec = {
            "frames": [],
            "loaded": None,
            "layout": [0.0, 0.0],
            "render": [0.0, 0.0],
            "display": [0.0, 0.0],
            "jobs": [],
            "gc": [],
            "stage": [],
            "widgets": {},
        }

    def flush(self) -> None:
        if self.rec is not None:
            self.rec["cpu"] = round((time.process_time() - self.cpu0) * 1000, 2)
            self.out.write(json.dumps(self.rec) + "\n")
            self.out.flush()
            self.rec = None

    def add(self, what: str, ms: float) -> None:
        if self.rec is not None:
            self.rec[what][1 if self.drawn else 0] += ms


T = Trace()


def timed(owner: Any, name: str, record: Callable[[float, float], None]) -> None:
    fn = getattr(owner, name)

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            record((start - T.t0) * 1000, (time.perf_counter() - start) * 1000)

    setattr(owner, name, wrapper)


def install() -> None:
    from textual._compositor import Compositor
    from textual.app import App
    from textual.screen import Screen

    from dunning.queue.session import WorkSession
    from dunning.tui.screens.work import WorkScreen

    fn = WorkScreen.action_outcome

    def action_outcome(self: Any, code: str) -> None:
        T.key()
        fn(self, code)

    WorkScreen.action_outcome = action_outcome  # type: ignore[method-assign]

    def on_loaded(at: float, ms: float) -> None:
        if T.rec is not None and T.rec["loaded"] is None:
            T.rec["loaded"] = [round(at, 2), round(ms, 2)]

    from dunning.tui.widgets.account import AccountPane

    # WorkScreen._loaded is registered by @on at class creation: its pane.show is timed
    timed(AccountPane, "show", on_loaded)
    show = AccountPane.show

    def show_swap(self: Any, *args: Any, **kwargs: Any) -> None:
        swaps = self.swaps
        show(self, *args, **kwargs)
        if T.rec is not None:  # drawn from the lines made ahead
            T.rec["swapped"] = self.swaps != swaps

    AccountPane.show = show_swap  # type: ignore[method-assign]
    timed(WorkScreen, "_stage", lambda at, ms: T.rec and T.rec["stage"].append([at, ms]))
    timed(Screen, "_refresh_layout", lambda at, ms: T.add("layout", ms))
    timed(Compositor, "render_update", lambda at, ms: T.add("render", ms))

    from textual._styles_cache import StylesCache

    render_widget = StylesCache.render_widget

    def _render_widget(self: Any, widget: Any, crop: Any) -> Any:
        start = time.thread_time()
        try:
            return render_widget(self, widget, crop)
        finally:
            if T.rec is not None and not T.drawn:
                name = widget.id or type(widget).__name__
                n, ms = T.rec["widgets"].get(name, (0, 0.0))
                T.rec["widgets"][name] = (n + 1, ms + (time.thread_time() - start) * 1000)

    StylesCache.render_widget = _render_widget  # type: ignore[method-assign]

    display = App._display

    def _display(self: Any, screen: Any, renderable: Any) -> None:
        start = time.perf_counter()
        display(self, screen, renderable)
        if renderable is None or T.rec is None:
            return
        T.add("display", (time.perf_counter() - start) * 1000)
        T.rec["frames"].append([round(T.now(), 2), round((time.thread_time() - T.main0) * 1000, 2)])
        if T.rec["loaded"] is not None:
            T.drawn = True

    App._display = _display  # type: ignore[method-assign]

    for name in ("log", "next_account", "peek_next", "counts", "checkpoint", "renew",
                 "data_version", "reload", "save_draft"):  # fmt: skip

        def rec(at: float, ms: float, name: str = name) -> None:
            if T.rec is not None:
                where = "" if threading.current_thread() is MAIN else "~"
                T.rec["jobs"].append([where + name, round(at, 2), round(ms, 2)])

        timed(WorkSession, name, rec)

    starts: dict[int, float] = {}

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            starts[info["generation"]] = time.perf_counter()
        elif T.rec is not None and info["generation"] in starts:
            s = starts.pop(info["generation"])
            T.rec["gc"].append(
                [info["generation"], round((s - T.t0) * 1000, 2),
                 round((time.perf_counter() - s) * 1000, 2)]
            )  # fmt: skip

    gc.callbacks.append(on_gc)


def summary(paths: list[str]) -> None:
    """One line a trace: the keys drawn from lines made ahead, the main thread's CPU from
    the key to the frame that draws the account (p50 / p99), the process's CPU a key, the
    collections before that frame, and the frame's widgets' render (CPU ms a key)."""
    import statistics

    def pct(xs: list[float], q: float) -> float:
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))] if xs else 0.0

    print("trace | keys | from lines made ahead | main CPU -> draw p50 / p99 | CPU/key p50 | "
          "GC before the draw (sum) | render")  # fmt: skip
    for path in paths:
        with open(path) as f:
            recs = [json.loads(line) for line in f][2:]  # the first keys: imports
        main, cpu, render, gcb, swaps = [], [], [], 0.0, 0
        for r in recs:
            cpu.append(r["cpu"])
            swaps += bool(r.get("swapped"))
            if r["loaded"] is None:
                continue
            shown = r["loaded"][0] + r["loaded"][1]
            frames = [x for x in r["frames"] if x[0] >= shown]
            if frames:
                main.append(frames[0][1])
                gcb += sum(g[2] for g in r["gc"] if g[1] < frames[0][0])
                render.append(sum(v[1] for v in r.get("widgets", {}).values()))
        print(
            f"{path} | {len(recs)} | {swaps} | {statistics.median(main):.1f} / "
            f"{pct(main, 99):.1f} | {statistics.median(cpu):.1f} | {gcb:.0f} ms | "
            f"{statistics.mean(render):.1f}"
        )


if __name__ == "__main__" and sys.argv[1:2] == ["--summary"]:
    summary(sys.argv[2:])
elif __name__ == "__main__":
    install()
    sys.argv[0] = "dunning"
    try:
        runpy.run_module("dunning", run_name="__main__", alter_sys=True)
    finally:
        T.flush()
