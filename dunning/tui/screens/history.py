"""`h`: the account's whole history, newest first (the account screen shows the latest)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from dunning.i18n import N_, _
from dunning.tui import fmt
from dunning.tui.dialogs.void import VoidDialog
from dunning.tui.keys import translate_bindings
from dunning.tui.widgets.account import history_text
from dunning.tui.widgets.shown import Shown

if TYPE_CHECKING:
    from dunning.queue.account_view import TimelineEntry
    from dunning.queue.session import WorkSession


class HistoryScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q,h", "app.pop_screen", N_("Back"), id="history.back"),
        Binding("v", "void", N_("Void"), id="history.void"),
        Binding("l", "letters", N_("Letters sent"), id="history.letters"),
        Binding("j,down", "scroll('down')", show=False),
        Binding("k,up", "scroll('up')", show=False),
        Binding("g,home", "scroll('home')", show=False),
        Binding("G,end", "scroll('end')", show=False),
    ]

    def __init__(
        self,
        session: WorkSession,
        customer_id: int,
        name: str,
        currency: str,
        changed: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        translate_bindings(self)
        self.session = session
        self.customer_id = customer_id
        self.name_text = name
        self.currency = currency
        self.changed = changed  # called after a void (the account screen reloads)
        self.entries: list[TimelineEntry] = []

    def compose(self) -> ComposeResult:
        yield Shown(_("History of {name}").format(name=self.name_text), id="history-title")
        yield Shown(id="history-status")
        with VerticalScroll(id="history-full"):
            yield Shown(id="history-all", classes="history")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#history-full").loading = True
        self._load()

    def _load(self) -> None:
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
        self.entries = entries
        self.query_one("#history-all", Static).update(
            history_text(
                entries, self.session.collector, self.currency, limit=len(entries), ids=True
            )
        )
        box.focus()

    def action_letters(self) -> None:
        """The letters sent to the account, read back from the archive (read-only)."""
        from dunning.tui.screens.letters import LettersScreen  # noqa: PLC0415 - when asked

        self.app.push_screen(LettersScreen(self.session, self.customer_id, self.name_text))

    # -- void -------------------------------------------------------------------------
    def action_void(self) -> None:
        """Void an outcome: the newest that stands is proposed; queue/void.py decides."""
        newest = next(
            (
                e.id
                for e in self.entries
                if e.id is not None
                and e.voided is None
                and e.code not in ("system", "assign", "email_sent", "letter_sent")
            ),
            None,
        )
        self.app.push_screen(VoidDialog(self.name_text, newest), self._void)

    def _void(self, result: tuple[int, str] | None) -> None:
        status = self.query_one("#history-status", Static)
        if result is None:
            status.update(Text(_("Cancelled."), style="dim"))
            return
        activity_id, reason = result

        def job() -> None:
            try:
                voided = self.session.void(activity_id, reason)
            except Exception as exc:  # noqa: BLE001 - a refusal is one line on screen
                self.app.call_from_thread(self._said, Text(str(exc), style="bold red"))
                return
            code = voided.outcome
            line = _("Voided: {outcome} on {ref}").format(
                outcome=_(fmt.OUTCOME_LABELS.get(code, code)), ref=voided.external_ref
            )
            self.app.call_from_thread(self._said, Text(line, style="green"))
            self.app.call_from_thread(self._load)
            if self.changed is not None:
                self.app.call_from_thread(self.changed)

        self.run_worker(job, thread=True, group="history", exit_on_error=False)

    def _said(self, text: Text) -> None:
        self.query_one("#history-status", Static).update(text)

    def action_scroll(self, where: str) -> None:
        box = self.query_one("#history-full", VerticalScroll)
        {
            "down": box.scroll_down,
            "up": box.scroll_up,
            "home": box.scroll_home,
            "end": box.scroll_end,
        }[where]()
