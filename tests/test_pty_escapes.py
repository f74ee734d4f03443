"""Issue 7, part 1, end to end: the bytes a real terminal receives.

`dunning history`, `search` and `next`, and the app itself, run in a pseudo-terminal on a
database whose customer name and note carry an attacker's OSC 52 (clipboard), OSC 0
(window title) and CSI H (cursor move) sequences, and C1 controls. The app's own escape
sequences are fine; the payload's must never arrive as sequences, only as visible text."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from dunning.clock import FixedClock
from dunning.db.connection import connect
from dunning.db.schema import migrate
from dunning.queue.config import Settings

PAYLOAD = "\x1b]52;c;aGk=\x07 \x1b]0;pwned\x1b\\ \x1b[5;5Hfake \x9b6;6Hc1fake \x9d0;c1pwned\x9c"
# what must never reach the terminal: the sequences the payload carries
MARKERS = [
    b"\x1b]52;",
    b"\x1b]0;pwned",
    b"\x1b[5;5Hfake",
    "\x9b".encode(),  # U+009B (CSI) in UTF-8
    "\x9d".encode(),  # U+009D (OSC)
    b"\x9b6;6H",  # raw 8-bit C1
]


@pytest.fixture
def hostile_db(tmp_path: Path, clock: FixedClock) -> Path:
    from conftest import Ledger

    path = tmp_path / "pty.db"
    conn = connect(path)
    migrate(conn)
    led = Ledger(conn, clock, Settings())
    alice = led.collector("alice")
    cid = led.customer("Hostile " + PAYLOAD, collector=alice)
    conn.close()
    raw = sqlite3.connect(path)
    with raw:
        raw.execute(
            """INSERT INTO activities (customer_id, collector_id, at, outcome, attempt, contact,
                   rpc, worked, note, next_action, next_action_at)
               VALUES (?, ?, '2026-11-22T15:00:00Z', 'note', 0, 0, 0, 0, ?, 'call',
                   '2026-11-23T15:00:00Z')""",
            (cid, alice, "note " + PAYLOAD),
        )
    raw.close()
    return path


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUNNING_") and k != "COLUMNS"}
    env.update(
        TERM="xterm-256color",
        HOME=str(tmp_path / "home"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        PYTHONPATH=str(Path(__file__).resolve().parents[1]),
        LANG="C.UTF-8",
        TZ="UTC",
    )
    return env


def run_in_pty(
    argv: list[str], env: dict[str, str], *, keys: list[bytes] | None = None,
    until: bytes = b"", timeout: float = 60.0,
) -> bytes:  # fmt: skip
    """Run ``python -m dunning ARGV`` with a pseudo-terminal as its stdin/stdout/stderr and
    return every byte it wrote. When ``until`` is seen, ``keys`` are typed, a second apart."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "dunning", *argv],
        stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
        start_new_session=True,
    )  # fmt: skip
    os.close(slave)
    out = bytearray()
    pending = list(keys or [])
    seen = not pending
    next_key = 0.0
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            if not seen and until in out:
                seen, next_key = True, time.monotonic() + 1.0
            if seen and pending and time.monotonic() >= next_key:
                os.write(master, pending.pop(0))
                next_key = time.monotonic() + 1.0
            if proc.poll() is not None and not ready:
                break
        else:
            pytest.fail(f"{argv} did not finish; it wrote {bytes(out[-2000:])!r}")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        os.close(master)
    return bytes(out)


def assert_no_payload(data: bytes) -> None:
    for marker in MARKERS:
        assert marker not in data, f"{marker!r} reached the terminal"


@pytest.mark.parametrize(
    "argv",
    [
        ["history", "C00001"],
        ["search", "Hostile"],
        ["--as", "alice", "next"],
        ["history", "C00001", "--json"],
        ["history", "C9\x1b]0;pwned\x07"],  # an error message quoting the argument
    ],
)
def test_cli_output_in_a_real_terminal(hostile_db: Path, tmp_path: Path, argv: list[str]) -> None:
    data = run_in_pty(["--db", str(hostile_db), *argv], _env(tmp_path))
    assert_no_payload(data)
    assert b"Traceback" not in data
    if argv[-1] != "--json" and "search" not in argv and "C9" not in argv[-1]:
        assert "␛]52;c;aGk=".encode() in data  # shown, visibly


def test_the_app_in_a_real_terminal(hostile_db: Path, tmp_path: Path) -> None:
    data = run_in_pty(
        ["--db", str(hostile_db), "--as", "alice"],
        _env(tmp_path),
        keys=[b"h", b"q", b"q"],  # the whole history too, back, quit
        until=b"]52;c;aGk",
    )
    assert_no_payload(data)
    assert "␛]52;c;aGk".encode() in data, data[-3000:]  # the app drew the account
