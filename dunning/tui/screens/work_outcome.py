"""The work screen's outcome keys: refused on someone else's account, a lead's reason asked
first, the outcome's dialog, then the outcome saved once the note is complete."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.widgets import Static, TextArea

from dunning.i18n import _
from dunning.queue.outcomes import OutcomeInput
from dunning.tui.messages import AccountLoaded
from dunning.tui.quiet_gc import LONGEST_HOLD, QuietCollections
from dunning.tui.widgets.account import AccountPane

if TYPE_CHECKING:
    from dunning.queue.access import Access
    from dunning.queue.account_view import AccountView
    from dunning.queue.session import WorkSession


class OutcomeMixin:
    """Mixed into WorkScreen (a Screen): uses its session, view, access, status line and
    _work."""

    session: WorkSession
    view: AccountView | None
    access: Access | None
    busy: bool
    lead_reason: str
    last_message: str
    _logged_note: str | None
    app: Any
    _work: Callable[[Callable[[], object]], None]
    _now: Callable[[], datetime]
    account_read_only: bool  # WorkScreen's property
    query_one: Callable[..., Any]
    set_timer: Callable[..., Any]
    _quiet_gc: QuietCollections | None = None
    _last_code: str | None  # TopbarMixin's
    _prepare_outcome: Callable[[str | None], None]

    def _collections(self) -> QuietCollections:
        """Garbage collection paused from an outcome's save to the next account drawn
        (tui/quiet_gc.py): the real app only (``App.quiet_gc``)."""
        if self._quiet_gc is None:
            self._quiet_gc = QuietCollections(bool(getattr(self.app, "quiet_gc", False)))
        return self._quiet_gc

    def _hold_collections(self) -> None:
        quiet = self._collections()
        number = quiet.hold()
        if number is not None:
            self.set_timer(LONGEST_HOLD, lambda: quiet.release_late(number))

    def _resume_collections(self, *, frame: bool = True) -> None:
        """The work an outcome key started is on screen (or failed: ``frame=False``):
        collections resume once the frame drawing it is written, from the account pane's
        render (Textual's call_after_refresh may run before that frame is made)."""
        quiet = self._quiet_gc
        if quiet is None or not quiet.held:
            return
        if frame:
            self.query_one("#account", AccountPane).after_frame.append(quiet.release)
        else:
            quiet.release()

    def _refused(self, code: str) -> bool:
        """Someone else's account: the key is refused by queue/ (one line, audited), before
        any dialog; True when it was."""
        if not self.account_read_only:
            return False

        def job() -> AccountLoaded:
            self.session.refuse(code)  # raises the refusal: shown as a notification
            return AccountLoaded(self.session.reload())  # it became ours meanwhile

        self._work(job)
        return True

    def _ask_reason(self, then: Callable[[], None]) -> bool:
        """A lead's first outcome on an account that is not theirs: why, then ``then``.
        True when the question was asked (the outcome waits for the answer)."""
        if self.view is None or self.access is None or not self.access.needs_reason:
            return False
        if self.lead_reason:
            return False
        from dunning.tui.dialogs.reason import LeadReasonDialog  # see work_nav.DEFERRED

        def answered(reason: str | None) -> None:
            if not reason:
                self._cancelled()
                return
            self.lead_reason = reason
            then()

        self.app.push_screen(LeadReasonDialog(self.view.external_ref, self.access.owner), answered)
        return True

    def action_outcome(self, code: str) -> None:
        if self.view is None or self.busy:
            return
        if self._refused(code):
            return
        from dunning.tui.dialogs.outcome import DIALOGS  # see work_nav.DEFERRED

        make = DIALOGS.get(code)
        if code == "note" and not self.query_one("#note", TextArea).text.strip():
            self.query_one("#status", Static).update(
                Text(_("Type the note first (Tab), then Ctrl+S saves it."), style="yellow")
            )
            return
        if self._ask_reason(lambda: self.action_outcome(code)):
            return
        if make is None:
            self._log(OutcomeInput(code))
            return
        self.app.push_screen(make(self.view, self.session.collector, self._now()), self._log)

    def action_reschedule(self, code: str) -> None:
        if self.view is None or self.busy:
            return
        if self._refused(code) or self._ask_reason(lambda: self.action_reschedule(code)):
            return
        from dunning.tui.dialogs.outcome import next_action_dialog

        dialog = next_action_dialog(code, self.view, self.session.collector, self._now())
        self.app.push_screen(dialog, self._log)

    def _cancelled(self) -> None:
        """Esc on a dialog: nothing was saved, and the status line says so."""
        self.last_message = _("Cancelled: nothing saved")
        self.query_one("#status", Static).update(Text(self.last_message, style="yellow"))

    def _log(self, inp: OutcomeInput | None) -> None:
        if inp is None:
            self._cancelled()
            return
        if self.view is None:
            return
        self.busy = True  # no second outcome while this one is on its way
        # The outcome key is acted on as it is read; keys typed before it may still wait in
        # the note's queue. A callback queued there runs after them: the note is complete.
        self.query_one("#note", TextArea).call_later(self._save_outcome, inp)

    def _save_outcome(self, inp: OutcomeInput) -> None:
        if self.view is None:
            self.busy = False
            return
        note = inp.note = self.query_one("#note", TextArea).text
        if self.access is not None and self.access.needs_reason:
            inp.lead_reason = self.lead_reason
        if inp.phone_id is None and inp.outcome not in ("skip", "escalated", "note"):
            usable = self.view.usable_phones()
            inp.phone_id = usable[0].id if usable else None
        if inp.outcome == "skip" and inp.reason:
            inp.note = f"{_('Skipped')}: {inp.reason}\n{inp.note}".strip()
        exclude = frozenset({self.view.id})
        self._logged_note = note

        def job() -> AccountLoaded:
            logged = self.session.log(inp)
            return AccountLoaded(self.session.next_account(exclude), logged)

        self._hold_collections()
        self._work(job)
        if inp.outcome != self._last_code:  # not made ahead (work_topbar.py): while it saves
            self._prepare_outcome(inp.outcome)
