"""`l` in the history: the letters sent to the account, read back from the archive
(read-only): the list, newest first; the highlighted one's subject, recipient and text
below it (queue/letters_sent.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, OptionList
from textual.widgets.option_list import Option

from dunning.i18n import N_, _
from dunning.queue.letters_sent import ArchivedLetter, kind_label, letter_text
from dunning.tui import fmt
from dunning.tui.keys import translate_bindings
from dunning.tui.widgets.shown import Shown

if TYPE_CHECKING:
    from dunning.queue.session import WorkSession


class LettersScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q,l", "app.pop_screen", N_("Back"), id="letters.back"),
    ]

    def __init__(self, session: WorkSession, customer_id: int, name: str) -> None:
        super().__init__()
        translate_bindings(self)
        self.session = session
        self.customer_id = customer_id
        self.name_text = name
        self.letters: list[ArchivedLetter] = []

    def compose(self) -> ComposeResult:
        yield Shown(_("Letters sent to {name}").format(name=self.name_text), id="letters-title")
        yield OptionList(id="letters-list")
        with VerticalScroll(id="letters-body"):
            yield Shown(id="letters-text")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#letters-list").loading = True

        def job() -> None:
            try:
                letters = self.session.letters(self.customer_id)
            except Exception as exc:  # noqa: BLE001 - shown, never a crash
                self.app.call_from_thread(self.notify, str(exc), severity="error")
                return
            self.app.call_from_thread(self._show, letters)

        self.run_worker(job, thread=True, group="letters", exit_on_error=False)

    def _show(self, letters: list[ArchivedLetter]) -> None:
        self.letters = letters
        box = self.query_one("#letters-list", OptionList)
        box.loading = False
        box.clear_options()
        if not letters:
            self.query_one("#letters-text", Shown).update(
                Text(_("No letter has been sent to this account."), style="dim")
            )
            return
        me = self.session.collector
        box.add_options(
            Option(
                fmt.safe(f"{fmt.local_dt(x.at, me.locale)}  {kind_label(x.kind)}  {x.subject}"),
                id=str(i),
            )
            for i, x in enumerate(letters)
        )
        box.highlighted = 0
        box.focus()

    @on(OptionList.OptionHighlighted, "#letters-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        index = int(event.option.id or 0)
        if 0 <= index < len(self.letters):
            self.query_one("#letters-text", Shown).update(letter_text(self.letters[index]))
            self.query_one("#letters-body", VerticalScroll).scroll_home(animate=False)
