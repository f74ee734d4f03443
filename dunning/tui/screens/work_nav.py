"""The work screen's ways out of the account on screen: search, reassign (leads), its
history, the aging report, reload, help and quit."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import Static, TextArea

from dunning.i18n import _
from dunning.tui.messages import AccountLoaded
from dunning.tui.screens.help import HelpScreen

# The screens and dialogs a key opens are imported when first used, not before the first
# account is drawn: WorkScreen imports them in a worker once it is (deferred_imports).

if TYPE_CHECKING:
    from dunning.queue.account_view import AccountView
    from dunning.queue.session import WorkSession


class NavigationMixin:
    """Mixed into WorkScreen (a Screen): uses its session, view, status line and _work."""

    session: WorkSession
    view: AccountView | None
    busy: bool
    app: Any
    _work: Callable[..., None]
    _cancelled: Callable[[], None]
    save_draft_now: Callable[[], None]
    query_one: Callable[..., Any]
    run_worker: Callable[..., Any]

    def action_search(self) -> None:
        from dunning.tui.screens.search import SearchScreen

        def opened(customer_id: int | None) -> None:
            if customer_id is None:
                return
            if self.session.may("act_on_any"):  # a lead: held by someone? look, never break
                self._open_or_look(customer_id)
                return
            self._work(lambda: AccountLoaded(self.session.open_account(customer_id)))

        self.app.push_screen(SearchScreen(self.session), opened)

    def _open_or_look(self, customer_id: int) -> None:
        """A lead's search: an account a collector holds now opens read-only (the hold is
        kept: tui/screens/account_view.py); any other is opened as before."""
        from dunning.queue.lead_desk import LeadDesk
        from dunning.tui.screens.account_view import open_read_only

        s = self.session

        def job() -> None:
            desk = LeadDesk(s.db_path, s.collector, s.settings, s.clock)
            try:
                held = desk.held_by_other(customer_id)
            except Exception:  # noqa: BLE001 - then the open says what is wrong
                held = None
            finally:
                desk.close()
            if held is not None:
                self.app.call_from_thread(open_read_only, self.app, s, customer_id)
            else:
                self.app.call_from_thread(
                    self._work, lambda: AccountLoaded(s.open_account(customer_id))
                )

        self.run_worker(job, thread=True, group="look", exit_on_error=False)

    def action_reassign(self) -> None:
        if self.view is None or not self.session.may("assign") or self.busy:
            return
        view = self.view
        from dunning.tui.dialogs.outcome import ReassignDialog

        def chosen(result: tuple[str, str] | None) -> None:
            if result is None:
                self._cancelled()
                return
            to, reason = result
            self._work(lambda: AccountLoaded(self.session.reassign(view.id, to, reason)))
            self.query_one("#status", Static).update(
                Text(_("Reassigned to {name}").format(name=to), style="green")
            )

        def ask() -> None:
            collectors = self.session.collectors()
            self.app.call_from_thread(
                self.app.push_screen,
                ReassignDialog(view, collectors, routed=self.session.settings.routing.by_language),
                chosen,
            )

        self.run_worker(ask, thread=True, group="db", exit_on_error=False)

    def action_history(self) -> None:
        from dunning.tui.screens.history import HistoryScreen

        if self.view is not None:
            self.app.push_screen(
                HistoryScreen(
                    self.session,
                    self.view.id,
                    self.view.name,
                    self.view.currency,
                    changed=self.action_reload,
                )
            )

    def action_compose(self) -> None:
        """`m`: the compose view on the account on screen (tui/screens/compose.py). Back
        with nothing done, nothing changes (the note stays as it is); after a send, the
        status line says so and the history shows it."""
        if self.view is None:
            return
        from dunning.tui.screens.compose import ComposeScreen

        def done(said: str | None) -> None:
            if said is None:
                return
            self.query_one("#status", Static).update(Text(said, style="green"))
            self.action_reload()

        self.app.push_screen(ComposeScreen(self.session, self.view.id), done)

    def action_aging(self) -> None:
        from dunning.tui.screens.aging import AgingScreen

        self.app.push_screen(AgingScreen(self.session))

    def action_review_queue(self) -> None:
        if not self.session.may("review"):
            return
        from dunning.tui.screens.review import ReviewScreen

        self.app.push_screen(ReviewScreen(self.session))

    def action_board(self) -> None:
        if not self.session.may("board"):
            return
        from dunning.tui.screens.board import show_board

        show_board(self.app, self.session)

    def action_disputes(self) -> None:
        if not self.session.may("disputes"):
            return
        from dunning.tui.screens.disputes import DisputesScreen

        self.app.push_screen(DisputesScreen(self.session))

    def action_rebalance(self) -> None:
        """`M` (leads): the rebalance dialog (dialogs/rebalance.py), its own connection."""
        if not self.session.may("rebalance"):
            return
        from dunning.queue.rebalance_desk import RebalanceDesk
        from dunning.tui.dialogs.rebalance import RebalanceDialog

        s = self.session
        desk = RebalanceDesk(s.db_path, s.collector, s.settings, s.clock)

        def done(moved: int | None) -> None:
            desk.close()
            if moved is None:
                self._cancelled()
                return
            self.query_one("#status", Static).update(
                Text(_("{n:,} account(s) moved").format(n=moved), style="green")
            )
            self.action_reload()

        self.app.push_screen(RebalanceDialog(desk), done)

    def action_accounts(self) -> None:
        if not self.session.may("accounts"):
            return
        from dunning.tui.screens.accounts import AccountListScreen

        self.app.push_screen(AccountListScreen(self.session))

    def action_reload(self) -> None:
        self._work(lambda: AccountLoaded(self.session.reload(), None), counts=True)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self, self.session.may("assign")))

    def action_quit(self) -> None:
        # after the keys still queued for the note (typed before q), like _log
        self.query_one("#note", TextArea).call_later(self._quit)

    def _quit(self) -> None:
        self.save_draft_now()
        self.session.release()
        self.app.exit()


DEFERRED = (
    "dunning.tui.dialogs.outcome",
    "dunning.tui.dialogs.reason",
    "dunning.tui.screens.search",
    "dunning.tui.screens.history",
    "dunning.tui.screens.aging",
    "dunning.db.reports",
)


def deferred_imports() -> None:
    """What the first frame does not need (dialogs, search, history, aging): imported in a
    worker after it is drawn, so that the first key that opens one does not wait."""
    import importlib

    for name in DEFERRED:
        importlib.import_module(name)
