"""The collector's screen: the account to call, its history, the note; outcome keys."""

from __future__ import annotations

import gc
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Label, Static, TextArea

from dunning import startup
from dunning.db.connection import FileReplaced
from dunning.i18n import N_, _
from dunning.queue.access import Access
from dunning.queue.account_view import AccountView
from dunning.queue.holidays import warm
from dunning.queue.outcomes import OUTCOMES, cleaned_message
from dunning.textsafe import clean, is_safe
from dunning.tui import fmt
from dunning.tui.keys import translate_bindings
from dunning.tui.messages import AccountLoaded, FileGone, LockWaiting, WorkFailed
from dunning.tui.screens.file_gone import FileGoneMixin
from dunning.tui.screens.help import keys_by_id
from dunning.tui.screens.undo import UndoMixin, saved_message
from dunning.tui.screens.work_first import first_if_done
from dunning.tui.screens.work_jobs import JobsMixin
from dunning.tui.screens.work_keys import CORNER_IDS, NOTE_ACTIONS, work_bindings
from dunning.tui.screens.work_nav import NavigationMixin, deferred_imports
from dunning.tui.screens.work_opt_out import OptOutMixin
from dunning.tui.screens.work_outcome import OutcomeMixin
from dunning.tui.screens.work_stage import (
    STAGE_DELAY,
    STAGE_DELAY_FIRST,
    WIDE_HISTORY,
    StageMixin,
)
from dunning.tui.screens.work_topbar import TopbarMixin, counted, outcome_label
from dunning.tui.widgets.account import AccountPane, history_text
from dunning.tui.widgets.footer import OneFooter
from dunning.tui.widgets.shown import Shown
from dunning.tui.window_watch import WindowWatch

if TYPE_CHECKING:
    from dunning.queue.session import WorkSession

DRAFT_DELAY = 0.15  # seconds of quiet typing before the draft is written
RENEW_EVERY = 60.0
POLL_EVERY = 2.0
COUNTS_EVERY = 20.0
CHECKPOINT_EVERY = 10.0  # the session's connection never checkpoints on a commit


class WorkScreen(
    FileGoneMixin,
    UndoMixin,
    NavigationMixin,
    OptOutMixin,
    OutcomeMixin,
    StageMixin,
    TopbarMixin,
    JobsMixin,
    Screen[None],
):
    BINDINGS = work_bindings()
    AUTO_FOCUS = "#account"  # never the note: a stray outcome key must not become text

    def __init__(self, session: WorkSession) -> None:
        super().__init__()
        translate_bindings(self)
        self.session = session
        self.view: AccountView | None = None
        self.busy = False
        self.drawn_hook: Callable[[], None] | None = None  # benchmarks: called once drawn
        self._gc_frozen = False
        self._first_loaded = False
        self._holidays_warm = False
        self._note_saved = ""  # the note text as last loaded or saved
        self._logged_note: str | None = None  # the note of the outcome being saved
        self._draft_timer: object | None = None
        self._data_version = -1
        self._counts: dict[str, int] = {}
        self._empty_shown = False  # "Nothing to call right now" is on screen
        self.last_message = ""
        self.window_watch = WindowWatch(self)
        self._calls_forbidden = False  # the account on screen may not be called (status)
        self.access: Access | None = None  # whose account is on screen (queue/access.py)
        self.lead_reason = ""  # a lead's reason for acting on the account on screen
        self._staged = None  # the next account's lines, made ahead (work_stage.py)
        self._staged_after: int | None = None  # the account they were last made after
        self._wide_history: AccountView | None = None  # not yet in the hidden column
        self._init_undo()

    # -- layout ---------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Shown(id="topbar")
        with Horizontal(id="body"):
            yield AccountPane(id="account")
            with VerticalScroll(id="history-col"):
                yield Shown(id="history-wide", classes="history")
            with Vertical(id="side"):
                yield Label(_("Note") + " · tab/i · esc", id="note-label")
                yield TextArea(id="note", soft_wrap=True, tab_behavior="focus")
                yield Shown(id="status")
        with Horizontal(id="footer-row"):
            yield OneFooter(show_command_palette=False, compact=True)
            yield Shown(id="footer-corner")

    def on_mount(self) -> None:
        self.query_one("#account").focus()
        self._footer_corner()
        self._topbar()
        self.query_one("#status", Static).update(Text(_("Loading…"), style="dim"))
        done, first = first_if_done(self.session)  # claimed while Textual imported
        if done:
            self._loaded(AccountLoaded(first, None))  # in the first frame (work_first.py)
            self._refresh_counts()
        else:
            self._work(lambda: AccountLoaded(self.session.next_account(), None), counts=True)
        self._watch_lock()
        self.set_interval(RENEW_EVERY, self._renew)
        self.set_interval(POLL_EVERY, self._poll)
        self.set_interval(COUNTS_EVERY, self._refresh_counts)
        self.set_interval(CHECKPOINT_EVERY, self._checkpoint)
        self._start_beats()
        self.window_watch.start()

    # -- workers --------------------------------------------------------------------
    def _work(self, job: Callable[[], object], *, counts: bool = False) -> None:
        """Run database work off the event loop; errors become a message on screen.
        ``counts``: then, in the same worker, the header's counts: a read that grows with
        the collector's book (35 ms at 300,000 accounts), never before the account."""

        def run() -> None:
            try:
                msg = job()
            except FileReplaced as exc:  # nothing can be saved any more: block, keep the note
                self.post_message(FileGone(str(exc)))
                return
            except Exception as exc:  # noqa: BLE001 - every failure is shown, none crashes
                self.post_message(WorkFailed(str(exc) or exc.__class__.__name__))
                return
            if msg is not None:
                self.post_message(msg)  # type: ignore[arg-type]
            if counts:
                self._counts_job()

        self.busy = True
        self.run_worker(run, thread=True, group="db", exit_on_error=False)

    def _set_counts(self, counts: dict[str, int]) -> None:
        self._counts = counts
        self._topbar()
        if self.view is None and self._empty_shown:
            self._show_empty()  # "N accounts are waiting": N has come

    def _poll(self) -> None:
        """Another process committed (a reassignment, an import): refresh what we show."""

        def check() -> None:
            try:
                self.session.check_file()  # one stat: the file replaced under us is told now
            except FileReplaced as exc:
                if self.gone is None:
                    self.post_message(FileGone(str(exc)))
                return
            try:
                version = self.session.data_version()
            except Exception:  # noqa: BLE001
                return
            if self._data_version not in (-1, version) and self.view is not None:
                view = self.session.reload()
                self.post_message(AccountLoaded(view, None, refresh=True))
                self._counts_job()
            self._data_version = version

        self.run_worker(check, thread=True, group="poll", exclusive=True, exit_on_error=False)

    # -- showing --------------------------------------------------------------------
    @on(AccountLoaded)
    def _loaded(self, message: AccountLoaded) -> None:
        if not self._first_loaded:  # the start is over: usual collections after this frame
            self._first_loaded = True
            self.call_after_refresh(startup.resume_collections)
        if self.gone is not None:  # the file is gone: what is shown stays the message
            return
        if message.refresh and (self.busy or message.view is None):
            return  # our own work in flight brings a fresher view; an empty one is its gap
        self._resume_collections()  # once this account's frame is written
        self.busy = False
        pane = self.query_one("#account", AccountPane)
        if message.counts is not None:
            self._counts = message.counts
        if message.logged is not None:
            code = message.logged.outcome
            what = {
                "outcome": outcome_label(code),
                "ref": self.view.external_ref if self.view else message.logged.customer_id,
            }
            self.last_message = saved_message(what)
            if message.logged.cleaned:  # saved without them: said, as the CLI does
                self.last_message += " · " + cleaned_message(message.logged.cleaned)
            if message.logged.approval:  # the policy sent it to a lead (queue/approvals.py)
                self.last_message += " · " + message.logged.waiting_text
            self._start_undo(what)
            # our own outcome moved one account: counted here, in the same frame
            self._counts = counted(self._counts, message.logged.state)
            self._outcome_done(code, message.logged.state)
        same = (
            self.view is not None and message.view is not None and self.view.id == message.view.id
        )
        had_view = self.view is not None
        typed = self._typed_while_saving() if message.logged is not None else ""
        self.view = message.view
        self.access = self.session.access(message.view) if message.view is not None else None
        if not same:
            self.lead_reason = ""  # asked again on each account opened
        note_area = self.query_one("#note", TextArea)
        note_area.read_only = self.account_read_only  # nothing is typed on someone else's account
        forbidden = message.view is not None and message.view.calls_forbidden
        if had_view != (message.view is not None) or forbidden != self._calls_forbidden:
            self._calls_forbidden = forbidden
            self.refresh_bindings()  # outcome keys come or go (the footer is rebuilt: slow)
        self._topbar()
        if message.view is None:
            self._show_empty()
            if self._undo_pending and message.logged is not None:
                self.action_undo()
            return
        self._empty_shown = False
        pane.show(message.view, self.session.collector, self._now(), self._take_staged(message))
        self.window_watch.arm()
        if not self._holidays_warm:  # the first outcome then saves without the 0.2 s import
            self._holidays_warm = True  # (in the "db" group: tests settle after it)
            where = (message.view.country, message.view.subdivision, self._now().year)
            # once the account is drawn: a worker importing beside the first frame held the
            # GIL it needed (start -> first account drawn)
            self.call_after_refresh(self._warm_up, where)
        if getattr(self.app, "freeze_gc", False) and not self._gc_frozen:
            self._gc_frozen = True
            self.call_after_refresh(gc.freeze)
        # the history column: filled now when shown; on a narrow screen (hidden, the pane
        # shows the history) only if the screen is made wide (on_resize)
        self._wide_history = message.view
        if not pane.history_inline_shown:
            self._fill_wide_history()
        if message.logged is None and not message.refresh:
            # another account opened (search, reload, undo): the status line is its own;
            # `u` still works until the time is up, without the countdown drawn over it
            self._stop_undo()
        if message.undone is not None:
            code = message.undone.outcome
            self.last_message = _("Undone: {outcome} on {ref}; its note is back").format(
                outcome=_(fmt.OUTCOME_LABELS.get(code, code)), ref=message.undone.external_ref
            )
            self.query_one("#status", Static).update(Text(self.last_message, style="green"))
        if not same:
            self._load_note(message.view.draft, typed)
            status = self.query_one("#status", Static)
            if message.undone is not None:
                pass  # the status says what was undone
            elif self.account_read_only:
                status.update(
                    Text(
                        _("{mark}: history only; ask a lead to reassign it.").format(
                            mark=self._marker()
                        ),
                        style="bold yellow",
                    )
                )
            elif message.view.calls_forbidden and message.logged is None:
                status.update(
                    Text(
                        _(
                            "No calls on this account ({why}): a note (Ctrl+S) or an "
                            "escalation only."
                        ).format(why=message.view.callable.detail),
                        style="bold yellow",
                    )
                )
            elif message.view.draft and message.logged is None:
                status.update(Text(_("Your unsaved note came back."), style="yellow"))
            elif message.logged is None:
                status.update("")
        if self.drawn_hook is not None:
            self.call_after_refresh(self.drawn_hook)
        if not message.refresh or not same:
            first = self._staged_after is None
            self._staged_after = message.view.id
            self.set_timer(STAGE_DELAY_FIRST if first else STAGE_DELAY, self._stage_next)
        if self._undo_pending and message.logged is not None:
            self.action_undo()

    def _fill_wide_history(self) -> None:
        view, self._wide_history = self._wide_history, None
        if view is not None:
            self.query_one("#history-wide", Static).update(
                history_text(
                    view.timeline, self.session.collector, view.currency, limit=WIDE_HISTORY
                )
            )

    def on_resize(self) -> None:
        if self._wide_history is not None:  # after the breakpoint's class is applied
            self.call_after_refresh(self._wide_history_if_shown)

    def _wide_history_if_shown(self) -> None:
        if not self.query_one("#account", AccountPane).history_inline_shown:
            self._fill_wide_history()

    def _warm_up(self, where: tuple[str, str | None, int]) -> None:
        def job() -> None:
            warm(*where)
            deferred_imports()

        self.run_worker(job, thread=True, group="db", exit_on_error=False)

    def _typed_while_saving(self) -> str:
        """What was typed into the note after the outcome key, while the outcome was being
        saved: it is meant for the account that comes next, so it is kept for that one."""
        logged, self._logged_note = self._logged_note, None
        if logged is None:
            return ""
        text = self.query_one("#note", TextArea).text
        return (text[len(logged) :] if text.startswith(logged) else text).strip()

    def _load_note(self, draft: str, typed: str = "") -> None:
        self._note_saved = draft
        text = f"{draft}\n{typed}" if draft and typed else draft or typed
        note = self.query_one("#note", TextArea)
        if note.text != text:  # an unchanged TextArea costs nothing to redraw
            note.load_text(text)  # typed text differs from the draft: saved as a draft

    @on(FileGone)
    def _gone_message(self, message: FileGone) -> None:
        self._logged_note = None  # nothing was saved: the whole note stays where it is
        self._undo_pending = False
        self._resume_collections(frame=False)
        self._file_gone(message)

    @on(LockWaiting)
    def _lock_message(self, message: LockWaiting) -> None:
        self._lock_waiting(message)

    @on(WorkFailed)
    def _failed(self, message: WorkFailed) -> None:
        self.busy = False
        self._resume_collections(frame=False)
        self._logged_note = None  # nothing was saved: the whole note stays where it is
        self._stop_undo()  # the countdown would draw over the message (`u` still works)
        self._undo_pending = False
        self.query_one("#status", Static).update(Text(message.text, style="bold red"))
        self.notify(message.text, severity="error", timeout=6)

    def _show_empty(self) -> None:
        self._empty_shown = True
        pane = self.query_one("#account", AccountPane)
        waiting = self._counts.get("waiting", 0)
        text = Text(_("Nothing to call right now.") + "\n\n", style="bold")
        text.append(_("{n} accounts are waiting for their next action.").format(n=waiting))
        text.append("\n" + _("Press / to find a customer, q to quit."))
        pane.show_message(text)
        self._wide_history = None
        self.query_one("#history-wide", Static).update("")
        self._load_note("")
        status = self.query_one("#status", Static)
        if str(status.content) == _("Loading…"):  # the first load found nothing
            status.update("")

    def _footer_corner(self) -> None:
        """? and q, as bound now (a keymap may move them), right of the footer."""
        keys = keys_by_id(self)
        corner = Text()
        for bid, label in zip(CORNER_IDS, (N_("Help"), N_("Quit")), strict=True):
            if bid in keys:
                corner.append(f" {keys[bid]} ", style="bold")
                corner.append(_(label) + " ")
        self.query_one("#footer-corner", Static).update(corner)

    @property
    def account_read_only(self) -> bool:
        """Another collector's account opened from search: shown, never changed."""
        return self.view is not None and self.session.read_only

    def _marker(self) -> str:
        """ "read-only: bruno's account" (a lead: "bruno's account: ... your reason")."""
        if self.access is None:
            return ""
        if self.account_read_only or self.access.needs_reason:
            return self.access.marker()
        return ""

    def _now(self) -> datetime:
        return self.session.clock.now()

    # -- the note -------------------------------------------------------------------
    @on(TextArea.Changed, "#note")
    def _note_changed(self) -> None:
        note = self.query_one("#note", TextArea)
        if not is_safe(note.text, lines=True):  # pasted: the pane would send ESC as it is
            note.load_text(clean(note.text, lines=True)[0])
            note.move_cursor(note.document.end)
            return  # load_text changes it again
        if self.gone is not None:  # kept in the recovery file as it changes
            if self._draft_timer is None:
                self._draft_timer = self.set_timer(DRAFT_DELAY, self._flush_draft)
            return
        if self.view is None or note.text == self._note_saved:
            return
        if self._draft_timer is None:
            self._draft_timer = self.set_timer(DRAFT_DELAY, self._flush_draft)

    def _flush_draft(self) -> None:
        self._draft_timer = None
        if self.gone is not None:
            self.keep_note()
            return
        if self.view is None:
            return
        if self._logged_note is not None:  # an outcome is being saved: not for that account
            self._draft_timer = self.set_timer(DRAFT_DELAY, self._flush_draft)
            return
        cid, text = self.view.id, self.query_one("#note", TextArea).text
        self._note_saved = text
        self.run_worker(
            self._guarded(lambda: self.session.save_draft(cid, text)),
            thread=True,
            group="draft",
            exit_on_error=False,
        )

    def save_draft_now(self) -> None:
        """On hang-up or quit: write the note synchronously, whatever is pending."""
        if self.gone is not None:
            self.keep_note()
            return
        if self.view is not None:
            self.session.save_draft(self.view.id, self.query_one("#note", TextArea).text)

    # Screen.set_focus, not Widget.focus(): focus() moves it later, after the keys typed
    # behind this one were routed to the old widget.
    def action_edit_note(self) -> None:
        self.set_focus(self.query_one("#note", TextArea))

    def action_leave_note(self) -> None:
        self.set_focus(self.query_one("#account"))

    # -- outcomes -------------------------------------------------------------------
    def _in_note(self) -> bool:
        return self.focused is not None and self.focused.id == "note"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.gone is not None:
            return self.gone_allows(action)
        if self._in_note():
            if action == "outcome" and parameters == ("note",):
                return self.view is not None
            return True if action in NOTE_ACTIONS else None  # None: shown, off
        if action == "leave_note":
            return False
        if action in ("outcome", "reschedule") and self.view is not None:
            code = str(parameters[0]) if parameters else ""
            if self.view.calls_forbidden and code in OUTCOMES and OUTCOMES[code].attempt:
                return None  # shown, off: the account's status forbids calls
            return True
        if action == "undo":
            return True
        if action in ("outcome", "reschedule", "history", "compose", "opt_out", "opt_in"):
            return self.view is not None
        if action == "reassign":  # leads only: hidden, not silently ignored, for others
            return self.session.may("assign") and self.view is not None
        if action == "review_queue":  # leads only, as "reassign"
            return self.session.may("review")
        if action == "disputes":
            return self.session.may("disputes")
        if action == "rebalance":
            return self.session.may("rebalance")
        if action == "board":  # leads only
            return self.session.may("board")
        if action == "accounts":  # the account lists by filter (leads)
            return self.session.may("accounts")
        return True
