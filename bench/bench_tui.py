"""What the collector feels: start-up, outcome key to next account drawn, memory.

    python bench/bench_tui.py --db /tmp/dunning-bench.db [--n 300] [--starts 5]

- start: a real process on a pseudo-terminal (as over SSH), from spawn to the first
  account's "Why next" line on screen; beside it a bare Textual app's first frame.
- key -> next account drawn: in-process with Textual's Pilot driver: the 'n' key event
  is sent, and the clock stops when the next account has been drawn (after refresh).
  Between outcomes the collector "reads" for --think seconds (default 0.3 s, faster than
  anyone reads an account); --think 0 measures keys pressed back to back.
- RSS: the collector's process after start-up and after logging --n outcomes by key.
The start-up marker is English ("Why next"): use a collector whose locale is English (dave,
the default, or lena; not bruno, fr_CA, or carmen, es_MX).
Logs real 'no_answer' outcomes: run it on a benchmark copy.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import summary_ms, table  # noqa: E402

BARE_APP = """
from textual.app import App
from textual.widgets import Static
class A(App):
    def compose(self):
        yield Static("Why next: ready")
A().run()
"""


def first_frame(cmd: list[str], marker: bytes, timeout: float = 30.0) -> tuple[float, int]:
    """Seconds from spawn until ``marker`` is on the terminal; and the RSS then (kB)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    out = bytearray()
    done = threading.Event()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            out.extend(chunk)
            if marker in out:
                done.set()

    threading.Thread(target=drain, daemon=True).start()
    ok = done.wait(timeout)
    elapsed = time.perf_counter() - t0
    time.sleep(0.3)
    rss = rss_kb(proc.pid)
    proc.kill()
    proc.wait()
    os.close(master)
    if not ok:
        raise SystemExit(f"marker {marker!r} not seen in {timeout}s")
    return elapsed, rss


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


LOST_AFTER = 10.0


async def key_to_drawn(db: str, who: str, n: int, think: float) -> tuple[list[float], int]:
    from textual import events

    from dunning.db.connection import connect
    from dunning.queue.collectors import get_collector
    from dunning.queue.config import Settings
    from dunning.queue.session import WorkSession
    from dunning.tui.app import DunningApp
    from dunning.tui.screens.work import WorkScreen

    conn = connect(db)
    me = get_collector(conn, who)
    conn.close()
    assert me is not None
    app = DunningApp(WorkSession(db, me, Settings()), freeze_gc=True)  # as run_app does
    samples: list[float] = []
    lost: list[str] = []  # keys after which nothing was drawn within LOST_AFTER seconds
    async with app.run_test(size=(80, 24)) as pilot:
        while not (isinstance(app.screen, WorkScreen) and app.screen.view is not None):
            await pilot.pause(0.01)
        screen = app.screen
        assert isinstance(screen, WorkScreen)
        drawn = asyncio.Event()
        screen.drawn_hook = drawn.set
        for _ in range(n):
            drawn.clear()
            t0 = time.perf_counter()
            driver = app._driver  # noqa: SLF001 - inject the key as the terminal would
            assert driver is not None
            before = screen.view
            driver.send_message(events.Key("n", "n"))
            try:
                await asyncio.wait_for(drawn.wait(), LOST_AFTER)
            except TimeoutError:  # say so rather than wait forever
                status = screen.query_one("#status")
                said = getattr(status, "renderable", None) or getattr(status, "content", "")
                lost.append(f"{before.external_ref if before else '-'}: {str(said)[:120]!r}")
                screen.drawn_hook = None
                await pilot.press("escape")
                await pilot.pause(0.5)
                screen.drawn_hook = drawn.set
                continue
            samples.append(time.perf_counter() - t0)
            if screen.view is None:
                break
            await asyncio.sleep(think)
        rss = rss_kb(os.getpid())
    if lost:
        print(f"{len(lost)} keys drew nothing in {LOST_AFTER:g} s: {', '.join(lost)}")
    return samples, rss


def catch_up_queue(db: str) -> None:
    """The benchmark database is built as of 2026-11-23 (a fixed clock): bring its queue up
    to today first, as the nightly `dunning queue refresh` would (see bench_work.py)."""
    from dunning.clock import SystemClock
    from dunning.db.connection import connect
    from dunning.queue.claim import catch_up
    from dunning.queue.config import Settings

    conn = connect(db)
    t0 = time.perf_counter()
    woken, decided = catch_up(conn, SystemClock(), Settings())
    conn.close()
    print(
        f"catch-up (untimed): {woken:,} accounts woken, {decided:,} promises decided "
        f"in {time.perf_counter() - t0:.1f} s",
        file=sys.stderr,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--db", default="/tmp/dunning-bench.db")
    ap.add_argument("--as", dest="who", default="dave")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--think", type=float, default=0.3)
    args = ap.parse_args()
    catch_up_queue(args.db)
    starts, bare, rss_start = [], [], []
    cmd = [sys.executable, "-m", "dunning", "--db", args.db, "--as", args.who]
    for _ in range(args.starts):
        t, rss = first_frame(cmd, b"Why next")
        starts.append(t)
        rss_start.append(rss)
        bare.append(first_frame([sys.executable, "-c", BARE_APP], b"Why next")[0])
    samples, rss_after = asyncio.run(key_to_drawn(args.db, args.who, args.n, args.think))
    print(f"database: {args.db}; collector: {args.who}")
    print(
        table(
            ["work", "p50 ms", "p99 ms", "max ms", "n", "goal"],
            [
                ("process start -> first account on screen", *summary_ms(starts), "<= 1500"),
                ("  bare Textual app -> first frame", *summary_ms(bare), ""),
                (
                    f"outcome key -> next account drawn (Pilot, think {args.think:g} s)",
                    *summary_ms(samples),
                    "p99 <= 50",
                ),
            ],
        )
    )
    print(
        table(
            ["memory", "RSS MB", "goal"],
            [
                (
                    "collector process after start-up (max of runs)",
                    f"{max(rss_start) / 1024:.0f}",
                    "<= 150",
                ),
                (
                    f"in-process app after {len(samples)} outcomes",
                    f"{rss_after / 1024:.0f}",
                    "<= 150",
                ),
            ],
        )
    )


if __name__ == "__main__":
    main()
