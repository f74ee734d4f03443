"""The reference for bench/bench_pty.py: a bare Textual app that shows a customer-like
reference in a Static of an account's size and, on ``n``, swaps in the next one."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static

LINES = 24  # about what the account pane, the history and the status line hold


def page(n: int) -> str:
    ref = f"C{n:07d}"
    body = [f"Customer {n} Ltd  {ref}", f"US-TX · consumer · en · USD · ready · {n % 97}"]
    body += [f"{k:2d} invoice INV-{n:06d}-{k:02d}  2026-10-{k + 1:02d}  {k * 31 + n % 1000:>9}.00 $"
             for k in range(LINES - 2)]  # fmt: skip
    return "\n".join(body)


class Bare(App[None]):
    BINDINGS = [("n", "next", "Next"), ("q", "quit", "Quit")]

    def __init__(self) -> None:
        super().__init__()
        self.n = 1

    def compose(self) -> ComposeResult:
        yield Static(page(self.n), id="page")

    def action_next(self) -> None:
        self.n += 1
        self.query_one("#page", Static).update(page(self.n))


if __name__ == "__main__":
    Bare().run()
