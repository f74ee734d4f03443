"""`/`: find a customer by name, reference, phone or invoice number."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from dunning.i18n import N_, _
from dunning.tui import fmt
from dunning.tui.keys import translate_bindings
from dunning.tui.messages import SearchResults
from dunning.tui.typeahead import TypeAhead, focus_bindings
from dunning.tui.widgets.shown import Shown

if TYPE_CHECKING:
    from dunning.queue.session import WorkSession

SEARCH_DELAY = 0.12


class SearchScreen(TypeAhead, ModalScreen[int | None]):
    BINDINGS = [
        Binding("escape", "cancel", N_("Back"), id="search.cancel"),
        Binding("down", "to_results", show=False),
        *focus_bindings(),
    ]

    def __init__(self, session: WorkSession) -> None:
        super().__init__()
        translate_bindings(self)
        self.session = session
        self._timer: object | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="search-box"):
            yield Shown(
                _("Find a customer: name, reference, phone or invoice number"), id="search-title"
            )
            yield Input(placeholder=_("type to search"), id="search-input")
            yield OptionList(id="search-results")
            yield Shown(_("↓ results · Enter opens · Esc back"), id="search-hint")

    def on_mount(self) -> None:
        self.query_one("#search-input", Input).focus()

    @on(Input.Changed, "#search-input")
    def _changed(self) -> None:
        if self._timer is not None:
            self._timer.stop()  # type: ignore[attr-defined]
        self._timer = self.set_timer(SEARCH_DELAY, self._search)

    def _search(self) -> None:
        self._timer = None
        text = self.query_one("#search-input", Input).value

        def job() -> None:
            try:
                hits = self.session.search(text)
            except Exception as exc:  # noqa: BLE001 - shown, never a crash
                self.app.call_from_thread(self.notify, str(exc), severity="error")
                return
            self.post_message(SearchResults(text, hits))

        self.run_worker(job, thread=True, group="search", exclusive=True, exit_on_error=False)

    @on(SearchResults)
    def _results(self, message: SearchResults) -> None:
        if message.text != self.query_one("#search-input", Input).value:
            return  # stale
        results = self.query_one("#search-results", OptionList)
        results.clear_options()
        me = self.session.collector
        for h in message.hits:
            line = Text()
            line.append(f"{h.external_ref:<9} ", style="dim")
            line.append(h.name[:34], style="bold")
            line.append(f"  {h.country}  {fmt.money(h.net_minor, h.currency, me.locale)}")
            line.append(f"  {_(fmt.STATE_LABELS.get(h.state, h.state))}", style="dim")
            if h.assigned_to and h.assigned_to != me.username:
                line.append(f"  {h.assigned_to}", style="yellow")
            results.add_option(Option(fmt.safe(line), id=str(h.customer_id)))
        if not message.hits and message.text.strip():
            results.add_option(Option(Text(_("no match"), style="dim"), disabled=True))
        elif message.hits:
            results.highlighted = 0

    @on(Input.Submitted, "#search-input")
    def _submit(self) -> None:
        results = self.query_one("#search-results", OptionList)
        if results.option_count and results.highlighted is not None:
            option = results.get_option_at_index(results.highlighted)
            if option.id:
                self.dismiss(int(option.id))

    @on(OptionList.OptionSelected, "#search-results")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.dismiss(int(event.option.id))

    def action_to_results(self) -> None:
        self.query_one("#search-results", OptionList).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
