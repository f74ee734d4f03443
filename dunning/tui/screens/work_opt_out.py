"""The work screen's e-mail opt-out (issue 10 item 4, Regulation F 1006.6(e)): the customer
says "stop e-mailing me" on the phone and the collector records it in two keys.

`o` offers the opt-out of the account's addresses that still receive e-mail (every one
opted out: the opt-in), `O` the opt-in of those that opted out; a dialog names the
address(es) and asks to confirm (tui/dialogs/opt_out.py). Whether the collector may (their
own account; a lead any) is asked first, in a worker, so a refusal is one line before any
dialog; the change is recorded through WorkSession.email_opt (queue/opt_out.py: rights,
the contact's columns, an audit row), in a worker too, and the account is read again: the
pane says who opted out, when and by whom; the compose view `m` refuses them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import Static

from dunning.tui.messages import AccountLoaded

if TYPE_CHECKING:
    from dunning.queue.account_view import AccountView
    from dunning.queue.session import WorkSession


class OptOutMixin:
    """Mixed into WorkScreen (a Screen): uses its session, view, status line and _work."""

    session: WorkSession
    view: AccountView | None
    busy: bool
    app: Any
    _work: Callable[..., None]
    _cancelled: Callable[[], None]
    query_one: Callable[..., Any]
    run_worker: Callable[..., Any]
    notify: Callable[..., Any]

    def action_opt_out(self) -> None:
        """`o`: the opt-out, or the opt-in when every address already opted out."""
        from dunning.tui.dialogs.opt_out import opt_direction

        if self.view is not None:
            self._ask_opt(opt_direction(self.view))

    def action_opt_in(self) -> None:
        """`O`: the opt-in of the addresses that opted out."""
        from dunning.tui.dialogs.opt_out import opt_in_direction

        if self.view is not None:
            self._ask_opt(opt_in_direction(self.view), True)

    _opt_asking = False  # a rights check in flight: a second `o` opens no second dialog

    def _ask_opt(self, opt_out: bool | None, asked_in: bool = False) -> None:
        view = self.view
        if view is None or self.busy or self._opt_asking:
            return
        from dunning.tui.dialogs.opt_out import OptOutDialog, nothing_to_change

        if opt_out is None:
            self._opt_said(nothing_to_change(view.external_ref, asked_in=asked_in), "yellow")
            return

        def chosen(result: tuple[bool, tuple[str, ...]] | None) -> None:
            self._opt_asking = False
            if result is None:
                self._cancelled()
                return
            self._record_opt(view, *result)

        def check() -> None:
            try:  # refused (someone else's account): audited, said, no dialog
                self.session.email_opt(view.external_ref, None, opt_out=opt_out, check=True)
            except Exception as exc:  # noqa: BLE001 - a refusal: one line, never a crash
                self._opt_asking = False
                self.app.call_from_thread(self._opt_said, str(exc), "bold red", True)
                return
            locale = self.session.collector.locale
            dialog = OptOutDialog(view, opt_out=opt_out, locale=locale)
            self.app.call_from_thread(self.app.push_screen, dialog, chosen)

        self._opt_asking = True
        self.run_worker(check, thread=True, group="opt", exit_on_error=False)

    def _record_opt(self, view: AccountView, opt_out: bool, picked: tuple[str, ...]) -> None:
        from dunning.queue.opt_out import change_message

        ref = view.external_ref

        def job() -> AccountLoaded:
            change = self.session.email_opt(ref, picked, opt_out=opt_out)
            assert change is not None
            said = change_message(change, opt_out=opt_out)
            self.app.call_from_thread(self._opt_said, said, "green")
            return AccountLoaded(self.session.reload(), None)

        self._work(job)

    def _opt_said(self, text: str, style: str, error: bool = False) -> None:
        from dunning.tui import fmt

        self.query_one("#status", Static).update(fmt.safe(Text(text, style=style)))
        if error:
            self.notify(text, severity="error", timeout=6)
