"""`?`: what each key does and what happens next, with the keys as bound right now.

Textual's own key panel lists every binding of every widget (scrolling, copy...) in a
column that squeezes an 80-column screen; a collector needs the outcome keys and what
each one does to the account, in their language.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen

from dunning.i18n import N_, _
from dunning.tui.keys import translate_bindings
from dunning.tui.widgets.shown import Shown

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
    (
        "outcome.payment_plan",
        N_("Payment plan"),
        N_("monthly instalments; outside the policy, a lead approves it first"),
    ),
    ("outcome.skip", N_("Skip"), N_("with a reason; back in an hour, released to others")),
]
OTHER_HELP: list[tuple[str, str]] = [
    ("note.edit", N_("write the note (saved as you type); esc leaves it")),
    ("search", N_("find a customer: name, reference, phone, invoice")),
    ("undo", N_("take back the outcome just saved (a few seconds); its note comes back")),
    ("history", N_("the account's whole history")),
    ("compose", N_("compose a letter or e-mail in the customer's language; send or write .eml")),
    ("contacts.opt_out", N_("the customer asks for no more e-mail: record the opt-out")),
    ("contacts.opt_in", N_("the customer asks for e-mail again: record the opt-in")),
    ("aging", N_("aging by collector")),
    ("lead.reassign", N_("give the account to another collector (leads)")),
    ("lead.review", N_("the review queue: refused and escalated accounts to decide (leads)")),
    ("lead.disputes", N_("open disputes by department and age; resolve them (leads)")),
    ("lead.rebalance", N_("spread a collector's accounts or the team's, with a preview (leads)")),
    ("lead.board", N_("the team board: each collector's day, queue and balances (leads)")),
    # the board's own keys (tui/screens/board.py)
    ("board.accounts", N_("the collector's account list")),
    ("board.open", N_("their account now, read-only: who holds it, since when (h: history)")),
    ("board.work", N_("your own queue; T there comes back to the board")),
    ("board.review", N_("the review queue")),
    ("board.disputes", N_("open disputes")),
    ("board.reload", N_("read the board and the balances again now")),
    ("board.quit", N_("quit")),
    ("lead.accounts", N_("accounts by filter (lang=es bucket>=61...): select, reassign (leads)")),
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
            yield Shown(self._content(), id="help-text")

    def _content(self) -> Group:
        """Two grids (key | what it does), so a long line wraps under its own text."""
        keys = self.keys
        outcomes = _grid()
        for bid, label, what in OUTCOME_HELP:
            if bid in keys:
                line = Text(_(label), style="bold")
                line.append(f"  {_(what)}", style="dim")
                outcomes.add_row(keys[bid], line)
        shifted = [
            keys[f"reschedule.{c}"]
            for c in ("left_message", "no_answer", "busy")
            if f"reschedule.{c}" in keys
        ]
        if shifted:
            outcomes.add_row(
                "/".join(shifted), Text(_("the same, then you pick when to try again"), style="dim")
            )
        others = _grid()
        for bid, what in OTHER_HELP:
            if bid in keys and (not bid.startswith("lead.") or self.is_lead):
                others.add_row(keys[bid], _(what))
        if not outcomes.row_count:  # the team board: its own keys only
            others.add_row("j/k", _("move between collectors"))
            return Group(
                Text(_("Team board: one row per collector, live"), style="bold"),
                others,
                Text(""),
                Text(_("esc or ? closes this help"), style="dim"),
            )
        others.add_row("j/k g/G", _("scroll the account"))
        title = _("Outcomes: one key, a dialog only when it needs data, then the next account")
        foot = Text(_("Outcome keys are letters in the note: esc first."), style="dim")
        foot.append("\n" + _("esc or ? closes this help"), style="dim")
        return Group(
            Text(title, style="bold"),
            outcomes,
            Text("\n" + _("Everything else"), style="bold"),
            others,
            Text(""),
            foot,
        )


def _grid() -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(justify="right", style="bold cyan", no_wrap=True)
    grid.add_column()
    return grid
