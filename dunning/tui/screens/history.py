"""`h`: the account's whole history, newest first (the account screen shows the latest)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from dunning.i18n import N_, _
from dunning.tui.keys import translate_bindings
from dunning.tui.widgets.account import history_text

if TYPE_CHECKING:
    from dunning.queue.account_view import TimelineEntry
    from dunning.queue.session import WorkSession


class HistoryScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q,h", "app.pop_screen", N_("Back"), id="history.back"),
        Binding("j,down", "scroll('down')", show=False),
        Binding("k,up", "scroll('up')", show=False),
        Binding("g,home", "scroll('home')", show=False),
        Binding("G,end", "scroll('end')", show=False),
    ]

    def __init__(self, session: WorkSession, customer_id: int, name: str, currency: str) -> None:
        super().__init__()
        translate_bindings(self)
        self.session = session
        self.customer_id = customer_id
        self.name_text = name
        self.currency = currency

    def compose(self) -> ComposeResult:
        yield Static(_("History of {name}").format(name=self.name_text), id="history-title")
        with VerticalScroll(id="history-full"):
            yield Static(id="history-all", classes="history")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#history-full").loading = True

        def job() -> None:
            try:
                entries = self.session.history(self.customer_id)
            except Exception as exc:  # noqa: BLE001 - shown, never a crash
                self.app.call_from_thread(self.notify, str(exc), severity="error")
                return
            self.app.call_from_thread(self._show, entries)

        self.run_worker(job, thread=True, group="history", exit_on_error=False)

    def _show(self, entries: list[TimelineEntry]) -> None:
        box = self.query_one("#history-full", VerticalScroll)
        box.loading = False
        self.query_one("#history-all", Static).update(
            history_text(entries, self.session.collector, self.currency, limit=len(entries))
        )
        box.focus()

    def action_scroll(self, where: str) -> None:
        box = self.query_one("#history-full", VerticalScroll)
        {
            "down": box.scroll_down,
            "up": box.scroll_up,
            "home": box.scroll_home,
            "end": box.scroll_end,
        }[where]()
