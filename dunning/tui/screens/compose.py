"""The compose view (issue 10, item 6): `m` on the account on screen.

Left (above, at 80 columns): the kind of letter (the one the account's dunning level calls
for; the list offers only the kinds the account can have), the recipient (the primary
contact's address, editable), the language and locale (the customer's; changeable) and a
one-line added note kept in the archive. Right (below): the preview, subject and plain
text, in the letter's language, rendered again in a worker whenever the kind, the language
or the note changes.

Enter or Ctrl+S sends, Ctrl+E writes an .eml file, Esc goes back to the account with
nothing changed (the collector's call note is the work screen's: this screen never touches
it). A refusal (the writing rules, a kind the account cannot have) is shown where the send
button is, and sending is off. The screen's database work goes through
:class:`dunning.queue.compose.ComposeDesk` (its own connection), always in a worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Select

from dunning.i18n import N_, _, current_language
from dunning.letters.kinds import KINDS
from dunning.queue.compose import NOTE_MAX, ComposeDesk, ComposeStart, Preview, check_recipient
from dunning.tui import fmt
from dunning.tui.keys import translate_bindings
from dunning.tui.widgets.shown import Shown

if TYPE_CHECKING:
    from dunning.queue.sending import SendResult
    from dunning.queue.session import WorkSession

NOTE_DELAY = 0.3  # seconds of quiet typing in the added line before the preview follows


def locale_label(locale: str) -> str:
    """``fr_CA · français (Canada)``: the code and its name in the collector's language."""
    from babel import Locale

    try:
        name = Locale.parse(locale).get_display_name(current_language()) or ""
    except (ValueError, TypeError):
        name = ""
    return f"{locale} · {name}" if name else locale


class ComposeScreen(Screen[str | None]):
    """Dismissed with what was done ("sent to x at 10:42") or None (nothing was)."""

    CSS_PATH = "../compose.tcss"
    BINDINGS = [
        Binding("escape", "back", N_("Back"), id="compose.back"),
        Binding("ctrl+s", "send", N_("Send"), id="compose.send", priority=True),
        Binding("enter", "send", N_("Send"), id="compose.enter", show=False),
        Binding("ctrl+e", "write_eml", N_("Write .eml"), id="compose.eml", priority=True),
        Binding("pageup", "scroll_preview(-1)", N_("Scroll"), id="compose.up", show=False),
        Binding("pagedown", "scroll_preview(1)", N_("Scroll"), id="compose.down", show=False),
    ]

    def __init__(self, session: WorkSession, customer_id: int) -> None:
        super().__init__()
        translate_bindings(self)
        self.session = session
        self.customer_id = customer_id
        self.desk = ComposeDesk(session.db_path, session.collector, session.settings, session.clock)
        self.start: ComposeStart | None = None
        self.preview: Preview | None = None
        self.refusal = ""  # why nothing can be sent now ("" when it can)
        self.busy = False  # a send or a write in flight
        self._seq = 0  # the preview asked last: an older one arriving late is dropped
        self._shown_seq = 0  # the preview on screen (a send waits until it is the last)
        self._asked: tuple[str, ...] = ()  # kind, locale, note, address of the last asked
        self._note_timer: Any = None

    def compose(self) -> ComposeResult:
        yield Shown("", id="compose-title")
        with Horizontal(id="compose-body"):
            with Vertical(id="compose-form"):
                with Horizontal(classes="compose-row"):
                    yield Label(_("Letter"), classes="compose-label")
                    yield Select[str]([], id="compose-kind", allow_blank=True, compact=True)
                with Horizontal(classes="compose-row"):
                    yield Label(_("To"), classes="compose-label")
                    yield Input(id="compose-to", max_length=254, compact=True)
                with Horizontal(classes="compose-row"):
                    yield Label(_("Language"), classes="compose-label")
                    yield Select[str]([], id="compose-locale", allow_blank=True, compact=True)
                with Horizontal(classes="compose-row"):
                    yield Label(_("Added line"), classes="compose-label")
                    yield Input(
                        id="compose-note",
                        max_length=NOTE_MAX,
                        compact=True,
                        placeholder=_("kept in the archive"),
                    )
                with Horizontal(id="compose-actions"):
                    yield Button(_("Send"), id="compose-send", compact=True, variant="primary")
                    yield Button(_("Write .eml"), id="compose-eml", compact=True)
                    yield Shown("", id="compose-verdict")
                yield Shown("", id="compose-message")
            with VerticalScroll(id="compose-preview"):
                yield Shown("", id="compose-subject")
                yield Shown("", id="compose-text")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#compose-title", Shown).update(Text(_("Loading…"), style="dim"))

        def job() -> None:
            try:
                start = self.desk.start(self.customer_id)
            except Exception as exc:  # noqa: BLE001 - said on screen, never a crash
                self.app.call_from_thread(self._say, str(exc), "bold red")
                return
            self.app.call_from_thread(self._started, start)

        self.run_worker(job, thread=True, group="compose", exit_on_error=False)

    def on_unmount(self) -> None:
        self.desk.close()

    # -- the form -----------------------------------------------------------------------
    def _started(self, start: ComposeStart) -> None:
        if not self.is_attached:
            return  # Esc before it was read
        self.start = start
        title = Text(_("Compose") + " · ", style="bold")
        title.append(f"{start.ref}  {start.name}")
        self.query_one("#compose-title", Shown).update(title)
        kind = self.query_one("#compose-kind", Select)
        # the letter the account's dunning level calls for is marked (queue/levels.py)
        mark = " · " + _("its level")
        kind.set_options(
            [(_(KINDS[k]) + (mark if k == start.level_kind else ""), k) for k in start.kinds]
        )
        kind.value = start.kind
        loc = self.query_one("#compose-locale", Select)
        loc.set_options([(locale_label(x), x) for x in start.locales])
        loc.value = start.locale
        self.query_one("#compose-to", Input).value = start.email
        if self.focused is None or self.focused is kind:
            self.set_focus(kind)
        self._refresh_preview()

    def _chosen(self, sel_id: str) -> str:
        value = self.query_one(sel_id, Select).value
        return value if isinstance(value, str) else ""

    @on(Select.Changed)
    def _select_changed(self) -> None:
        if self.start is not None:
            self._refresh_preview()

    @on(Input.Changed, "#compose-note")
    @on(Input.Changed, "#compose-to")
    def _field_changed(self) -> None:
        if self._note_timer is not None:
            self._note_timer.stop()
        self._note_timer = self.set_timer(NOTE_DELAY, self._refresh_preview)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_send()

    @on(Button.Pressed, "#compose-send")
    def _send_pressed(self) -> None:
        self.action_send()

    @on(Button.Pressed, "#compose-eml")
    def _eml_pressed(self) -> None:
        self.action_write_eml()

    # -- the preview --------------------------------------------------------------------
    def _refresh_preview(self) -> None:
        self._note_timer = None
        start = self.start
        if start is None:
            return
        kind, locale = self._chosen("#compose-kind"), self._chosen("#compose-locale")
        note = self.query_one("#compose-note", Input).value
        try:  # the rules look at the address written (an opted-out contact's is refused)
            to = check_recipient(self.query_one("#compose-to", Input).value)
        except ValueError:
            to = ""
        asked = (kind, locale, note, to)
        if asked == self._asked:
            return  # nothing that changes the letter or the verdict changed
        self._asked = asked
        self._seq += 1
        seq = self._seq

        def job() -> None:
            try:
                preview = self.desk.preview(start.ref, kind, locale, note)
                refusal = preview.problem or self.desk.refusal(start.customer_id, kind, to)
            except Exception as exc:  # noqa: BLE001 - said on screen, never a crash
                preview, refusal = Preview(kind, locale, "", "", "", str(exc)), str(exc)
            self.app.call_from_thread(self._previewed, seq, preview, refusal)

        self.run_worker(job, thread=True, group="compose", exit_on_error=False)

    def _previewed(self, seq: int, preview: Preview, refusal: str) -> None:
        if seq != self._seq or not self.is_attached:
            return  # the kind, language or note changed since (a newer one is coming), or Esc
        self._shown_seq = seq
        self.preview = preview
        self.refusal = refusal
        subject = Text(_("Subject") + ": ", style="bold")
        subject.append(preview.subject)
        if preview.kind == "statement":  # queue/sending.py attaches it (letters/pdf.py)
            subject.append("\n" + _("Attached: the statement of account (PDF)"), style="dim")
        self.query_one("#compose-subject", Shown).update(subject if preview.subject else "")
        self.query_one("#compose-text", Shown).update(preview.text)
        verdict = self.query_one("#compose-verdict", Shown)
        verdict.update(Text(refusal, style="bold red") if refusal else "")
        for button in ("#compose-send", "#compose-eml"):
            self.query_one(button, Button).display = not refusal
        self.refresh_bindings()

    def action_scroll_preview(self, direction: int) -> None:
        pane = self.query_one("#compose-preview", VerticalScroll)
        if direction < 0:
            pane.scroll_page_up()
        else:
            pane.scroll_page_down()

    # -- sending ------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("send", "write_eml"):
            return None if self.refusal or self.preview is None else True
        return True

    def action_send(self) -> None:
        self._deliver(eml=False)

    def action_write_eml(self) -> None:
        self._deliver(eml=True)

    def _deliver(self, *, eml: bool) -> None:
        start, preview = self.start, self.preview
        if start is None or preview is None or self.busy or self.refusal:
            return
        if self._shown_seq != self._seq:  # the kind or language just changed: not what is shown
            self._say(_("The preview is being rendered: send again in a moment."), "yellow")
            return
        to_field = self.query_one("#compose-to", Input)
        try:
            to = check_recipient(to_field.value)
        except ValueError as exc:
            self._say(str(exc), "bold red")
            self.set_focus(to_field)
            return
        kind, locale = preview.kind, preview.locale
        note = self.query_one("#compose-note", Input).value
        self.busy = True
        self._say(_("Writing…") if eml else _("Sending…"), "dim")

        def job() -> None:
            try:
                done = self.desk.deliver(start.ref, kind, locale, to=to, note=note, eml=eml)
            except Exception as exc:  # noqa: BLE001 - said on screen, never a crash
                self.app.call_from_thread(self._failed, str(exc))
                return
            self.app.call_from_thread(self._delivered, done)

        self.run_worker(job, thread=True, group="compose-send", exit_on_error=False)

    def _failed(self, message: str) -> None:
        self.busy = False
        self._say(message, "bold red")

    def _delivered(self, done: SendResult) -> None:
        self.busy = False
        if not done.sent:
            self._say(done.reason, "bold red")
            return
        if done.path is not None:
            said = _("written to {path}").format(path=done.path)
        else:
            at = fmt.local_time(self.session.clock.now(), self.session.collector.locale)
            said = _("sent to {to} at {time}").format(to=done.recipient, time=at)
        self.dismiss(said)

    def _say(self, message: str, style: str) -> None:
        self.query_one("#compose-message", Shown).update(Text(message, style=style))

    def action_back(self) -> None:
        if not self.busy:  # a send on its way finishes and says so
            self.dismiss(None)
