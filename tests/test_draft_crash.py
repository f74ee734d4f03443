"""A note being typed survives kill -9 and a dropped SSH connection (SIGHUP).

The app runs as a real process on a pseudo-terminal, as it does over SSH.
"""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.widgets import TextArea
from tui_helpers import build_portfolio, db_rows, make_app, settle

from dunning.clock import FixedClock

pytestmark = pytest.mark.slow


class Terminal:
    """The app on a pty: keys in, screen bytes drained so it never blocks."""

    def __init__(self, db: Path) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", "LINES": "24"}
        env.pop("DUNNING_SERVICE_ACCOUNT", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dunning", "--db", str(db), "--as", "alice"],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.master = master
        self.output = bytearray()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        os.close(self.master)


def wait_for(check, timeout: float = 20.0, what: str = "") -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def live_db(tmp_path: Path) -> Path:
    path = tmp_path / "live.db"
    # due an hour ago, so the real clock of the child process finds work
    build_portfolio(path, FixedClock(datetime.now(UTC) - timedelta(hours=1)))
    return path


def claimed(db: Path) -> list[int]:
    return [r[0] for r in db_rows(db, "SELECT customer_id FROM queue WHERE claimed_by IS NOT NULL")]


def start_writing_a_note(term: Terminal, db: Path, text: str) -> None:
    """The first account is on screen and held; the collector starts typing a note."""
    # a process start on a machine running two suites at once has taken over 20 s: the
    # test is about the draft, not the start's speed (bench/bench_pty.py measures that)
    wait_for(lambda: b"Acme" in term.output, timeout=90, what="the first account on screen")
    wait_for(lambda: claimed(db), timeout=90, what="the claim")
    term.type("i")
    time.sleep(0.3)
    term.type(text)


def test_draft_survives_kill_9(live_db: Path) -> None:
    term = Terminal(live_db)
    try:
        start_writing_a_note(term, live_db, "Customer asked for a copy of INV 2")
        wait_for(
            lambda: (
                db_rows(live_db, "SELECT text FROM drafts")
                and db_rows(live_db, "SELECT text FROM drafts")[0][0].endswith("INV 2")
            ),
            timeout=30,
            what="the draft on disk",
        )
        term.proc.send_signal(signal.SIGKILL)
        term.proc.wait(timeout=5)
    finally:
        term.close()
    held = claimed(live_db)
    assert len(held) == 1  # the lease outlives the process until it expires

    async def comes_back() -> None:
        app = make_app(live_db, FixedClock(datetime.now(UTC)))
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await settle(pilot)
            assert screen.view is not None and screen.view.id == held[0]
            note = screen.query_one("#note", TextArea).text
            assert note == "Customer asked for a copy of INV 2"

    import asyncio

    asyncio.run(comes_back())


def test_hang_up_saves_the_draft_and_frees_the_account(live_db: Path) -> None:
    term = Terminal(live_db)
    try:
        start_writing_a_note(term, live_db, "halfway through a sentence")
        # hang up as soon as the text is on screen, inside the typing pause
        wait_for(lambda: b"sentence" in term.output, timeout=30, what="the typed note")
        term.proc.send_signal(signal.SIGHUP)
        term.proc.wait(timeout=10)
    finally:
        term.close()
    drafts = [r[0] for r in db_rows(live_db, "SELECT text FROM drafts")]
    assert drafts == ["halfway through a sentence"]
    assert claimed(live_db) == []
