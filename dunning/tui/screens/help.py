"""`?`: what each key does and what happens next, with the keys as bound right now.

Textual's own key panel lists every binding of every widget (scrolling, copy...) in a
column that squeezes an 80-column screen; a collector needs the outcome keys and what
each one does to the account, in their language.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from dunning.i18n import N_, _
from dunning.tui.keys import translate_bindings

# (binding id, label, what happens to the account): the defaults of shared/DOMAIN.md
OUTCOME_HELP: list[tuple[str, str, str]] = [
    (
        "outcome.promise_to_pay",
        N_("Promise to pay"),
        N_("amount, date; checked on that date + grace days"),
    ),
    ("outcome.left_message", N_("Left message"), N_("tried again in 2 business days")),
    ("outcome.no_answer", N_("No answer"), N_("tried again the next business day")),
    ("outcome.busy", N_("Busy"), N_("tried again in 2 hours")),
    (
        "outcome.wrong_number",
        N_("Wrong number"),
        N_("the number is marked bad; the next one is used"),
    ),
    ("outcome.dispute", N_("Dispute"), N_("the invoices ticked leave collection until resolved")),
    ("outcome.refused", N_("Refused"), N_("goes to the lead's review")),
    ("outcome.callback", N_("Callback"), N_("called again at the time given")),
    ("outcome.paid", N_("Says paid"), N_("amount, date, reference; verified in 3 business days")),
    ("outcome.escalated", N_("Escalate"), N_("lead review, legal, agency or credit hold")),
    ("outcome.skip", N_("Skip"), N_("with a reason; back in an hour, released to others")),
]
OTHER_HELP: list[tuple[str, str]] = [
    ("note.edit", N_("write the note (saved as you type); esc leaves it")),
    ("search", N_("find a customer: name, reference, phone, invoice")),
    ("history", N_("the account's whole history")),
    ("aging", N_("aging by collector")),
    ("lead.reassign", N_("give the account to another collector (leads)")),
    ("reload", N_("reload the account")),
    ("quit", N_("quit; the note is kept")),
]


def keys_by_id(screen: Screen) -> dict[str, str]:  # type: ignore[type-arg]
    """Binding id -> the keys bound to it now (after the user's keymap), as displayed."""
    found: dict[str, list[str]] = {}
    bindings_map = screen._bindings.copy()  # noqa: SLF001
    bindings_map.apply_keymap(screen.app._keymap)  # noqa: SLF001 - as Textual binds them
    for bindings in bindings_map.key_to_bindings.values():
        for b in bindings:
            if b.id:
                found.setdefault(b.id, []).append(screen.app.get_key_display(b))
    return {k: "/".join(dict.fromkeys(v)) for k, v in found.items()}


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "dismiss", N_("Close"), id="help.close")]

    def __init__(self, work: Screen, is_lead: bool) -> None:  # type: ignore[type-arg]
        super().__init__()
        translate_bindings(self)
        self.keys = keys_by_id(work)
        self.is_lead = is_lead

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(self._text(), id="help-text")

    def _text(self) -> Text:
        keys = self.keys
        width = max((len(k) for k in keys.values()), default=1)
        out = Text(_("Outcomes: one key, a dialog only when it needs data, then the next account"))
        out.stylize("bold")
        for bid, label, what in OUTCOME_HELP:
            if bid in keys:
                out.append(f"\n {keys[bid]:>{width}}  ", style="bold cyan")
                out.append(_(label), style="bold")
                out.append(f"  {_(what)}", style="dim")
        shifted = [
            keys[f"reschedule.{c}"]
            for c in ("left_message", "no_answer", "busy")
            if f"reschedule.{c}" in keys
        ]
        if shifted:
            out.append(f"\n {'/'.join(shifted):>{width}}  ", style="bold cyan")
            out.append(_("the same, then you pick when to try again"), style="dim")
        out.append("\n\n" + _("Everything else"), style="bold")
        for bid, what in OTHER_HELP:
            if bid in keys and (bid != "lead.reassign" or self.is_lead):
                out.append(f"\n {keys[bid]:>{width}}  ", style="bold cyan")
                out.append(_(what))
        out.append(f"\n {'j/k g/G':>{width}}  ", style="bold cyan")
        out.append(_("scroll the account"))
        out.append("\n\n" + _("Outcome keys are letters in the note: esc first."), style="dim")
        out.append("\n" + _("esc or ? closes this help"), style="dim")
        return out
