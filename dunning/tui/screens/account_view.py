"""An account read-only (issue 9, item 9): a lead looks at any account of their team, even
one a collector is on the phone with, without breaking the hold.

``open_read_only(app, session, customer_id)`` is the one call the lead's screens make (the
search on a held account, the review queue's ``o``, the team board's "now working"): it
pushes :class:`AccountViewScreen`, which reads through a connection of its own
(queue/lead_desk.py; never the work session's) and writes nothing: no claim, no lease, no
draft (queue/read_only.py). The top lines say whose account it is and who holds it now,
since when and until when; below is the account as the work screen shows it (what is
owed, invoices, promises, disputes, the latest history). ``h`` the whole history,
``ctrl+r`` read again, ``esc`` back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Footer

from dunning.clock import to_iso
from dunning.i18n import N_, _
from dunning.queue.lead_desk import LeadDesk
from dunning.textsafe import visible
from dunning.tui import fmt
from dunning.tui.keys import translate_bindings
from dunning.tui.widgets.account import AccountPane
from dunning.tui.widgets.shown import Shown

if TYPE_CHECKING:
    from dunning.queue.read_only import ReadOnlyAccount
    from dunning.queue.session import WorkSession


def open_read_only(app: Any, session: WorkSession, customer_id: int) -> None:
    """Show the account read-only over the current screen (call on the app's thread)."""
    app.push_screen(AccountViewScreen(session, customer_id))


def holder_text(look: ReadOnlyAccount, locale: str) -> Text:
    """ "read-only · alice's account · held by Alice (alice) since 15:02, lease until 15:17" """
    text = Text(_("read-only"), style="bold yellow")
    if look.owner:
        text.append(" · " + _("{owner}'s account").format(owner=look.owner))
    else:
        text.append(" · " + _("assigned to nobody"))
    h = look.holder
    if h is None:
        text.append(" · " + _("nobody holds it now"), style="dim")
        return text
    until = fmt.local_dt(to_iso(h.until), locale)
    if h.since is not None:
        held = _("held by {name} ({user}) since {since}, lease until {until}").format(
            name=h.display_name, user=h.username, since=fmt.local_dt(to_iso(h.since), locale),
            until=until,
        )  # fmt: skip
    else:
        held = _("held by {name} ({user}), lease until {until}").format(
            name=h.display_name, user=h.username, until=until
        )
    text.append(" · ")
    text.append(fmt.safe(Text(held, style="bold")))
    if h.stale:
        text.append(" " + _("(no screen of theirs is on it: stale)"), style="dim")
    return text


class AccountViewScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "app.pop_screen", N_("Back"), id="look.back"),
        Binding("h", "history", N_("History"), id="look.history"),
        Binding("ctrl+r", "reload", N_("Reload"), id="look.reload"),
        Binding("m", "compose", N_("Compose"), id="look.compose"),
        # the customer tells the lead "stop e-mailing me" (or asks for e-mail again)
        Binding("o", "opt_out", N_("No e-mail"), id="look.opt_out", show=False),
        Binding("O", "opt_in", N_("E-mail again"), id="look.opt_in", show=False),
    ]

    def __init__(self, session: WorkSession, customer_id: int) -> None:
        super().__init__()
        translate_bindings(self)
        self.session = session
        self.customer_id = customer_id
        self.desk = LeadDesk(session.db_path, session.collector, session.settings, session.clock)
        self.look: ReadOnlyAccount | None = None

    def compose(self) -> ComposeResult:
        yield Shown("", id="look-title")
        yield Shown("", id="look-holder")
        yield AccountPane(id="look-account")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#look-account").focus()
        self.action_reload()

    def on_unmount(self) -> None:
        self.desk.close()

    def action_reload(self) -> None:
        def job() -> None:
            try:
                look = self.desk.look(self.customer_id)
            except Exception as exc:  # noqa: BLE001 - a refusal: one line, never a crash
                self.app.call_from_thread(self._failed, str(exc))
                return
            self.app.call_from_thread(self._show, look)

        self.run_worker(job, thread=True, group="look", exit_on_error=False)

    def _failed(self, message: str) -> None:
        self.query_one("#look-holder", Shown).update(Text(message, style="red"))

    def _show(self, look: ReadOnlyAccount) -> None:
        self.look = look
        me = self.session.collector
        v = look.view
        self.query_one("#look-title", Shown).update(
            fmt.safe(Text(f"{v.external_ref}  {v.name}", style="bold"))
        )
        self.query_one("#look-holder", Shown).update(holder_text(look, me.locale))
        self.query_one("#look-account", AccountPane).show(v, me, self.session.clock.now())

    def action_compose(self) -> None:
        """`m`: the compose view (tui/screens/compose.py); a lead writes on any account,
        the rights are the sender's (queue/sending.py)."""
        from dunning.tui.screens.compose import ComposeScreen

        def done(said: str | None) -> None:
            if said is not None:
                self.notify(said)
                self.action_reload()

        self.app.push_screen(ComposeScreen(self.session, self.customer_id), done)

    def action_opt_out(self) -> None:
        """`o`: the e-mail opt-out of the account's addresses (every one opted out: the
        opt-in), as on the work screen (tui/screens/work_opt_out.py): the rights are
        checked first (queue/opt_out.py: a lead may on any account), then a dialog names
        the addresses; recorded with an audit row, the account read again."""
        from dunning.tui.dialogs.opt_out import opt_direction

        if self.look is not None:
            self._ask_opt(opt_direction(self.look.view))

    def action_opt_in(self) -> None:
        """`O`: the opt-in of the addresses that opted out."""
        from dunning.tui.dialogs.opt_out import opt_in_direction

        if self.look is not None:
            self._ask_opt(opt_in_direction(self.look.view), True)

    def _ask_opt(self, opt_out: bool | None, asked_in: bool = False) -> None:
        from dunning.tui.dialogs.opt_out import OptOutDialog, nothing_to_change

        assert self.look is not None
        view = self.look.view
        if opt_out is None:
            self._said(nothing_to_change(view.external_ref, asked_in=asked_in), "warning")
            return
        session = self.session

        def chosen(result: tuple[bool, tuple[str, ...]] | None) -> None:
            if result is not None:
                self.run_worker(
                    lambda: record(*result), thread=True, group="opt", exit_on_error=False
                )

        def check() -> None:
            try:  # refused: audited, said, no dialog
                session.email_opt(view.external_ref, None, opt_out=opt_out, check=True)
            except Exception as exc:  # noqa: BLE001 - a refusal: one line, never a crash
                self.app.call_from_thread(self._said, str(exc), "error")
                return
            dialog = OptOutDialog(view, opt_out=opt_out, locale=session.collector.locale)
            self.app.call_from_thread(self.app.push_screen, dialog, chosen)

        def record(out: bool, picked: tuple[str, ...]) -> None:
            from dunning.queue.opt_out import change_message

            try:
                change = session.email_opt(view.external_ref, picked, opt_out=out)
            except Exception as exc:  # noqa: BLE001 - a refusal: one line, never a crash
                self.app.call_from_thread(self._said, str(exc), "error")
                return
            assert change is not None
            said = change_message(change, opt_out=out)
            self.app.call_from_thread(self._said, said, "information")
            self.app.call_from_thread(self.action_reload)

        self.run_worker(check, thread=True, group="opt", exit_on_error=False)

    def _said(self, text: str, severity: SeverityLevel) -> None:
        """One line, as typed (no markup), without a control character from the data."""
        self.notify(visible(text), severity=severity, timeout=6, markup=False)

    def action_history(self) -> None:
        if self.look is None:
            return
        from dunning.tui.screens.history import HistoryScreen

        v = self.look.view
        self.app.push_screen(HistoryScreen(self.session, v.id, v.name, v.currency))
