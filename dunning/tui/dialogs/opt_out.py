"""`o` on the work screen: the customer says "stop e-mailing me" on the phone (Regulation F
1006.6(e)), or asks for e-mail again (`O`, or `o` when every address already opted out).

The dialog names the address(es) it changes. One address: Enter confirms, Esc cancels.
Several: a list, every one ticked ("all"); space unticks. The rights and the recording
are queue/opt_out.py's (through WorkSession.email_opt), never this dialog's.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import SelectionList

from dunning.i18n import _
from dunning.queue.account_view import AccountView, ContactView
from dunning.tui import fmt
from dunning.tui.dialogs.base import Dialog
from dunning.tui.widgets.account_text import opted_out_text
from dunning.tui.widgets.shown import Shown, ShownLabel

# (opt out: True, opt in: False; the addresses picked)
OptResult = tuple[bool, tuple[str, ...]]


def email_contacts(view: AccountView, *, opted_out: bool) -> list[ContactView]:
    """The account's contacts with an address that are (``opted_out``) or are not opted out
    of e-mail, one per address (addresses compare without case)."""
    seen: dict[str, ContactView] = {}
    for ct in view.contacts:
        address = ct.email.strip()
        if address and bool(ct.email_opt_out_at) == opted_out:
            seen.setdefault(address.lower(), ct)
    return list(seen.values())


def opt_direction(view: AccountView) -> bool | None:
    """What `o` offers: the opt-out while an address still receives e-mail (True), else the
    opt-in (False); None: no contact has an address."""
    if email_contacts(view, opted_out=False):
        return True
    if email_contacts(view, opted_out=True):
        return False
    return None


def opt_in_direction(view: AccountView) -> bool | None:
    """What `O` offers: the opt-in (False) when an address opted out; None: none did."""
    return False if email_contacts(view, opted_out=True) else None


def nothing_to_change(ref: str, *, asked_in: bool) -> str:
    """What `o` (`O`: ``asked_in``) says when no address can be changed that way."""
    if asked_in:
        return _("{ref}: no address opted out of e-mail").format(ref=ref)
    return _("{ref}: no contact has an e-mail address").format(ref=ref)


class OptOutDialog(Dialog[OptResult | None]):
    def __init__(self, view: AccountView, *, opt_out: bool, locale: str) -> None:
        super().__init__()
        self.view = view
        self.opt_out = opt_out
        self.locale = locale
        self.offered = email_contacts(view, opted_out=not opt_out)

    def _line(self, ct: ContactView) -> Text:
        line = Text(ct.email.strip(), style="bold")
        if ct.name:
            line.append(f"  {ct.name}")
        if ct.email_opt_out_at:
            line.append("  " + opted_out_text(ct.email_opt_out_at, ct.email_opt_out_by,
                                              self.locale), style="dim")  # fmt: skip
        return line

    def compose(self) -> ComposeResult:
        name = self.view.name
        if self.opt_out:
            title = _("{name}: the customer asks for no more e-mail").format(name=name)
            ask = _("Record the opt-out of e-mail (Regulation F 1006.6(e)) for:")
        else:
            title = _("{name}: the customer asks for e-mail again").format(name=name)
            ask = _("Record the opt-in: e-mail may be sent again to:")
        with Vertical(id="dialog"):
            yield Shown(fmt.safe(title), id="dialog-title")
            yield Shown(ask, id="opt-ask")
            if len(self.offered) == 1:
                yield Shown(fmt.safe(self._line(self.offered[0])), id="opt-address")
            else:
                sel: SelectionList[str] = SelectionList(id="f-addresses")
                for ct in self.offered:
                    sel.add_option((fmt.safe(self._line(ct)), ct.email.strip(), True))
                yield sel
            yield ShownLabel("", id="dialog-error")
            if len(self.offered) > 1:
                hint = _("Space ticks or unticks · Enter confirms · Esc cancels")
            else:
                hint = _("Enter confirms · Esc cancels")
            yield Shown(hint, id="dialog-hint")

    def on_mount(self) -> None:
        super().on_mount()
        if len(self.offered) > 1:
            self.set_focus(self.query_one("#f-addresses", SelectionList))

    def submit(self) -> None:
        """The addresses named (never "every contact": one added since is not changed)."""
        if len(self.offered) == 1:
            self.close((self.opt_out, (self.offered[0].email.strip(),)))
            return
        picked = tuple(self.query_one("#f-addresses", SelectionList).selected)
        if not picked:
            raise ValueError(_("tick at least one address (space), or Esc"))
        self.close((self.opt_out, picked))
