"""The screen as a user sees it: the real app on a real pseudo-terminal, beside a bare
Textual app on the same harness, in the same run (issue 8's two screen rows).

    python bench/bench_pty.py --db /tmp/copy.db [--as dave] [--passes 5] [--n 40] [--starts 2]

A verdict that survives a noisy machine: ``--passes`` passes, each with ``--starts`` starts of
the app and of the bare app interleaved, then ``--n`` keys of each (which goes first
alternates). Each pass gives its own ratios; the verdict is their median, printed with
their spread (min-max). p99 is over every pass's keys. Defaults: ~2-3 minutes.

- outcome key -> next account drawn: the no-answer key (``n``) is written to the
  terminal as a user types it; the clock stops when the next account's customer reference
  (``C0000123``, a new one) has been written AND the output has then been quiet for
  ``--quiet`` ms: the time of the last byte of that burst (nothing subtracted). The bare
  app swaps a Static's text of the account's size (a new reference in it) on the same key.
  Between keys the user "reads" for ``--think`` s. While they read, the screen makes the
  lines of the account most likely next (tui/screens/work_stage.py); a key pressed before
  they are made (``--think 0``) measures the screen making them after the key.
- process start -> first account: spawn to the first reference written, then quiet.
- also printed: the app's CPU (user + system) per outcome, from /proc: a figure a busy
  machine disturbs less than wall time.

Logs real 'no_answer' outcomes: run it on a copy of a benchmark database.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import contextlib

from common import pct, summary_ms, table  # noqa: E402

REF = re.compile(rb"C\d{7}")
COLS, ROWS = 100, 30
LOST_AFTER = 10.0  # seconds without the next account: counted lost, then Esc

BARE_APP = Path(__file__).with_name("bare_app.py")

# Bytecode: an installed dunning has its .pyc files (pip compiles them at install), and a
# source checkout writes them on its first run; with PYTHONDONTWRITEBYTECODE set (as in
# some sandboxes) every start would compile all of dunning again (~0.2 s CPU), which no
# user sees. So both apps, the real one and the bare one, run with their bytecode cached
# in a private directory, after one untimed start of each (--compile-every-start: not).
EXTRA_ENV: dict[str, str] = {}
DROP_ENV: list[str] = []


class Terminal:
    """A process on a pseudo-terminal of a fixed size; every byte it writes, timed."""

    def __init__(self, cmd: list[str], cols: int = COLS, rows: int = ROWS) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        env.update(TERM="xterm-256color", LANG="C.UTF-8", **EXTRA_ENV)
        for name in DROP_ENV:
            env.pop(name, None)
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.master = master
        self.buf = bytearray()
        self.last = self.t0  # time of the last chunk read
        self.cond = threading.Condition()
        self.closed = False
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                chunk = b""
            now = time.perf_counter()
            with self.cond:
                if not chunk:
                    self.closed = True
                    self.cond.notify_all()
                    return
                self.buf += chunk
                self.last = now
                self.cond.notify_all()

    def mark(self) -> int:
        with self.cond:
            return len(self.buf)

    def send(self, data: bytes) -> float:
        t = time.perf_counter()
        os.write(self.master, data)
        return t

    def drawn(self, since: int, old: bytes | None, quiet: float, timeout: float) -> bytes | None:
        """Wait for a reference other than ``old`` written after offset ``since``, then for
        ``quiet`` seconds without output; the reference, or None after ``timeout``."""
        deadline = time.perf_counter() + timeout
        found: bytes | None = None
        with self.cond:
            while found is None:
                for m in REF.finditer(self.buf, max(since - 8, 0)):
                    if m.group() != old and m.start() >= since - 8:
                        found = m.group()
                        break
                if found is not None:
                    break
                left = deadline - time.perf_counter()
                if left <= 0 or self.closed:
                    return None
                self.cond.wait(left)
            while True:
                idle = time.perf_counter() - self.last
                if idle >= quiet or self.closed:
                    return found
                self.cond.wait(quiet - idle)

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        os.close(self.master)


START_CPU: dict[str, list[float]] = {}  # the process's CPU seconds at each start's draw


def start_once(cmd: list[str], quiet: float) -> float:
    """Spawn -> first reference drawn (then quiet), in seconds; the process's CPU (all its
    threads) at that moment goes to START_CPU under the command's last word: a figure a
    busy machine disturbs less than wall time."""
    term = Terminal(cmd)
    try:
        if term.drawn(0, None, quiet, 60.0) is None:
            raise SystemExit(f"{cmd}: no reference on screen in 60 s: {bytes(term.buf[-500:])!r}")
        START_CPU.setdefault(cmd[-1], []).append(term.cpu_seconds())
        return term.last - term.t0
    finally:
        term.close()


FIRST_KEYS: dict[str, list[float]] = {}  # the untimed first key of each run, by command


def outcomes(
    cmd: list[str], n: int, think: float, quiet: float, warm: int = 0
) -> tuple[list[float], float, int]:
    """Key -> next reference drawn, n times; (samples, CPU seconds per outcome, lost).

    ``warm`` keys first, neither in the samples nor in the CPU (the first key imports
    what the first outcome needs): their times go to FIRST_KEYS. A run of many passes
    would otherwise put one first key in every 40 samples, past the p99."""
    term = Terminal(cmd)
    samples: list[float] = []
    lost = 0
    try:
        ref = term.drawn(0, None, quiet, 60.0)
        if ref is None:
            raise SystemExit(f"{cmd}: nothing drawn: {bytes(term.buf[-500:])!r}")
        time.sleep(max(think, 0.5))  # the first frame's after-work (workers, gc.freeze)
        for _ in range(warm):
            since = term.mark()
            t0 = term.send(b"n")
            new = term.drawn(since, ref, quiet, LOST_AFTER)
            if new is not None:
                FIRST_KEYS.setdefault(cmd[-1], []).append(term.last - t0)
                ref = new
            time.sleep(max(think, 0.5))
        cpu0 = term.cpu_seconds()
        for _ in range(n):
            since = term.mark()
            t0 = term.send(b"n")
            new = term.drawn(since, ref, quiet, LOST_AFTER)
            if new is None:
                lost += 1
                term.send(b"\x1b")
                time.sleep(0.5)
                continue
            samples.append(term.last - t0)
            ref = new
            time.sleep(think)
        cpu = (term.cpu_seconds() - cpu0) / max(len(samples), 1)
        term.send(b"q")
        with contextlib.suppress(subprocess.TimeoutExpired):
            term.proc.wait(10)
    finally:
        term.close()
    return samples, cpu, lost


def catch_up_queue(db: str) -> None:
    from bench_tui import catch_up_queue as catch_up

    catch_up(db)


def ratio(a: list[float], b: list[float], p: float) -> str:
    if not a or not b:
        return "-"
    x = statistics.median(a) if p == 50 else pct(a, p)
    y = statistics.median(b) if p == 50 else pct(b, p)
    return f"{x / y:.2f}x"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--as", dest="who", default="dave")
    ap.add_argument("--passes", type=int, default=5, help="passes, app and bare in each")
    ap.add_argument("--n", type=int, default=40, help="outcome keys a pass (app and bare)")
    ap.add_argument("--starts", type=int, default=2, help="starts a pass (app and bare)")
    ap.add_argument("--think", type=float, default=0.3)
    ap.add_argument("--quiet", type=float, default=10.0, help="ms of silence = drawn")
    ap.add_argument("--no-catch-up", action="store_true")
    ap.add_argument("--profile", help="cProfile the app's outcomes into this file")
    ap.add_argument("--only-keys", action="store_true", help="the app's outcomes alone")
    ap.add_argument("--runner", help="a script run instead of -m dunning (same arguments)")
    ap.add_argument(
        "--compile-every-start",
        action="store_true",
        help="keep PYTHONDONTWRITEBYTECODE as it is set: no bytecode cache",
    )
    ap.add_argument(
        "--only-starts", action="store_true", help="the start row alone (app and bare, alternated)"
    )
    args = ap.parse_args()
    quiet = args.quiet / 1000
    if not args.no_catch_up:
        catch_up_queue(args.db)
    app = [sys.executable, "-m", "dunning", "--db", args.db, "--as", args.who]
    bare = [sys.executable, str(BARE_APP)]
    pycache = None
    if not args.compile_every_start:
        pycache = tempfile.TemporaryDirectory(prefix="dunning-bench-pyc-")
        EXTRA_ENV["PYTHONPYCACHEPREFIX"] = pycache.name
        DROP_ENV.append("PYTHONDONTWRITEBYTECODE")
        start_once(app, quiet)  # untimed: writes the bytecode of both
        start_once(bare, quiet)
    bytecode = "compiled on every start" if pycache is None else "cached (as installed)"
    load0 = os.getloadavg()[0]
    if args.profile or args.only_keys:
        prof = ["-m", "cProfile", "-o", args.profile] if args.profile else []
        run = [args.runner] if args.runner else app[1:3]
        cmd = [sys.executable, *prof, *run, *app[3:]]
        keys, cpu, lost = outcomes(cmd, args.n, args.think, quiet)
        print(f"{summary_ms(keys)} CPU {cpu * 1000:.1f} ms/key, lost {lost}")
        return

    START_CPU.clear()  # the untimed starts above
    passes = [
        run_pass(i, app, bare, args, quiet, keys=not args.only_starts) for i in range(args.passes)
    ]
    load1 = os.getloadavg()[0]
    print(f"database: {args.db}; collector: {args.who}; terminal {COLS}x{ROWS}")
    print(f"load average {load0:.2f} before, {load1:.2f} after; quiet {args.quiet:g} ms")
    print(f"bytecode: {bytecode}")
    print(report(passes, not args.only_starts, (app[-1], bare[-1])))
    print(start_cpu(app, bare))


class Pass:
    """One pass: starts of both apps interleaved, then the keys of each (order alternated
    from pass to pass), so a pass's ratios compare the two apps on the same minute."""

    def __init__(self) -> None:
        self.starts: list[float] = []
        self.bare_starts: list[float] = []
        self.keys: list[float] = []
        self.bare_keys: list[float] = []
        self.cpu = self.bare_cpu = 0.0
        self.lost = self.bare_lost = 0
        self.load = 0.0


def run_pass(
    i: int, app: list[str], bare: list[str], args: argparse.Namespace, quiet: float, keys: bool
) -> Pass:
    p = Pass()
    for k in range(args.starts):  # interleaved, the first one alternated
        for cmd, into in ((app, p.starts), (bare, p.bare_starts))[:: 1 if (i + k) % 2 == 0 else -1]:
            into.append(start_once(cmd, quiet))
    if keys:
        if i % 2 == 0:
            p.keys, p.cpu, p.lost = outcomes(app, args.n, args.think, quiet, 1)
            p.bare_keys, p.bare_cpu, p.bare_lost = outcomes(bare, args.n, args.think, quiet, 1)
        else:
            p.bare_keys, p.bare_cpu, p.bare_lost = outcomes(bare, args.n, args.think, quiet, 1)
            p.keys, p.cpu, p.lost = outcomes(app, args.n, args.think, quiet, 1)
    p.load = os.getloadavg()[0]
    return p


def _x(a: list[float], b: list[float]) -> float:
    return statistics.median(a) / statistics.median(b) if a and b else float("nan")


def _spread(values: list[float]) -> str:
    """median (min-max) of per-pass ratios: the verdict and how far one pass may stray."""
    ok = [v for v in values if v == v]
    if not ok:
        return "-"
    return f"{statistics.median(ok):.2f}x ({min(ok):.2f}-{max(ok):.2f}x)"


def report(passes: list[Pass], keys: bool, names: tuple[str, str]) -> str:
    every = lambda attr: [s for p in passes for s in getattr(p, attr)]  # noqa: E731
    starts, bare_starts = every("starts"), every("bare_starts")
    out = []
    rows = [
        [
            str(n + 1),
            f"{p.load:.2f}",
            f"{_x(p.starts, p.bare_starts):.2f}x",
            *(
                (
                    f"{statistics.median(p.keys) * 1000:.1f}" if p.keys else "-",
                    f"{statistics.median(p.bare_keys) * 1000:.1f}" if p.bare_keys else "-",
                    f"{_x(p.keys, p.bare_keys):.2f}x",
                    f"{pct(p.keys, 99) * 1000:.1f}",
                    f"{p.cpu * 1000:.1f} / {p.bare_cpu * 1000:.1f}",
                    f"{p.lost} / {p.bare_lost}",
                )
                if keys
                else ()
            ),
        ]
        for n, p in enumerate(passes)
    ]
    head = ["pass", "load", "start x bare"]
    if keys:
        head += ["key p50", "bare p50", "key x bare", "key p99", "CPU ms/key (bare)", "lost"]
    out.append(table(head, rows))
    pooled = [
        ("process start -> first account drawn", *summary_ms(starts)),
        ("  bare Textual app: start -> text drawn", *summary_ms(bare_starts)),
    ]
    start_x = [_x(p.starts, p.bare_starts) for p in passes]
    ok = statistics.median(start_x) <= 2
    verdict = [("start p50 <= 2x bare (median of passes)", _spread(start_x), _ok(ok))]
    if keys:
        all_keys, all_bare = every("keys"), every("bare_keys")
        pooled[:0] = [
            ("outcome key -> next account drawn", *summary_ms(all_keys)),
            ("  bare Textual app: key -> text drawn", *summary_ms(all_bare)),
            ("first key of each run (not above)", *summary_ms(FIRST_KEYS.get(names[0], []))),
            ("  bare Textual app: first key", *summary_ms(FIRST_KEYS.get(names[1], []))),
        ]
        key_x = [_x(p.keys, p.bare_keys) for p in passes]
        p99 = pct(all_keys, 99) * 1000
        cpu_x = [p.cpu / p.bare_cpu for p in passes if p.bare_cpu]
        verdict[:0] = [
            ("key p50 <= 2x bare (median of passes)", _spread(key_x),
             _ok(statistics.median(key_x) <= 2)),
            ("key p99 <= 50 ms (every pass's keys)", f"{p99:.1f} ms", _ok(p99 <= 50)),
            ("key CPU x bare (median of passes)", _spread(cpu_x), ""),
        ]  # fmt: skip
    out.append(table(["every pass together", "p50 ms", "p99 ms", "max ms", "n"], pooled))
    out.append(table(["goal", "measured", "ok"], verdict))
    return "\n".join(out)


def start_cpu(app: list[str], bare: list[str]) -> str:
    a, b = START_CPU.get(app[-1], []), START_CPU.get(bare[-1], [])
    if not a or not b:
        return "start CPU: -"
    ma, mb = statistics.median(a), statistics.median(b)
    return (
        f"start CPU p50 (the process, at the draw): {ma * 1000:.0f} ms, "
        f"bare {mb * 1000:.0f} ms ({ma / mb:.2f}x)"
    )


def _ok(flag: bool) -> str:
    return "yes" if flag else "NO"


if __name__ == "__main__":
    main()
