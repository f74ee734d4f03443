"""The Textual app: thin. Screens, dialogs and widgets live beside it."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import Provider
from textual.screen import Screen
from textual.theme import Theme

from dunning import startup
from dunning.i18n import N_, set_language
from dunning.queue.collectors import Collector
from dunning.queue.config import Settings
from dunning.queue.session import WorkSession, start_session
from dunning.textsafe import visible
from dunning.tui.keys import translate_bindings
from dunning.tui.screens.work import WorkScreen


def _work_commands() -> type[Provider]:
    """The work screen's actions in the palette, imported when it first opens."""
    from dunning.tui.palette import WorkCommands

    return WorkCommands


THEME_SAVE_DELAY = 1.0  # the picker previews each theme it passes: save the one kept


class DunningApp(App[None]):
    COMMANDS = App.COMMANDS | {_work_commands}
    CSS_PATH = "dunning.tcss"
    TITLE = "dunning"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (130, "-wide")]
    BINDINGS = [Binding("ctrl+c", "quit", N_("Quit"), show=False, priority=True)]

    def __init__(
        self,
        session: WorkSession,
        settings: Settings | None = None,
        *,
        freeze_gc: bool = False,
        start: str = "work",
    ) -> None:
        super().__init__()
        self.session = session
        # "board": a lead's start (run_app), the team board; "work": the next account
        self.start = "board" if start == "board" and session.may("board") else "work"
        # After the first account is drawn, move everything alive then (Textual, the
        # widgets, the catalogs) out of the collector's reach: full collections then take
        # 3-15 ms instead of 25-60 ms, and stop landing between a key and the next account.
        self.freeze_gc = freeze_gc
        # ... and no collection between an outcome key and the next account drawn
        # (tui/quiet_gc.py): the real app only, like the freeze.
        self.quiet_gc = freeze_gc
        set_language(session.collector.locale)
        translate_bindings(self)
        if settings and settings.keys:
            self.set_keymap(dict(settings.keys))
        # the theme this collector picked last time, read with their row (no extra read)
        self._theme_saved = session.collector.theme
        self._theme_timer: Any = None
        if self._theme_saved and self._theme_saved in self.available_themes:
            self.theme = self._theme_saved

    def notify(self, message: str, *, title: str = "", markup: bool = True, **kw: Any) -> None:
        """Every notification (a screen's notify comes here) shows its message literally:
        it may quote a name or a value, so no markup is read and control characters are
        made visible (dunning/textsafe.py)."""
        del markup
        super().notify(
            visible(message, lines=True), title=visible(title, lines=True), markup=False, **kw
        )

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's command palette, without "Screenshot": it wrote the account on screen
        (name, phones, balance, notes) to ~/Downloads with the umask's mode (issue 7, 4)."""
        return [c for c in super().get_system_commands(screen) if c.title != "Screenshot"]

    def deliver_screenshot(
        self, filename: str | None = None, path: str | None = None, time_format: str | None = None
    ) -> str | None:
        """No screenshot files (see get_system_commands), whatever calls for one."""
        return None

    def on_mount(self) -> None:
        if self.start == "board":
            self._start_on_board()
        else:
            self._start_on_work()
        self.theme_changed_signal.subscribe(self, self._theme_picked)
        warning = self.session.file_warning()
        if warning:
            self.notify(warning, severity="warning", timeout=20)
        try:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGHUP, signal.SIGTERM):
                loop.add_signal_handler(sig, self._hang_up)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread (tests) or no signals on this platform

    def _start_on_board(self) -> None:
        """A lead's start: the team board (tui/screens/board.py); ``w`` there opens their
        own queue. No account is claimed until they do."""
        from dunning.tui.screens.board import BOARD_NAME, BoardScreen

        self.install_screen(BoardScreen(self.session), BOARD_NAME)
        self.push_screen(BOARD_NAME)
        self.set_timer(2, startup.resume_collections)

    def _start_on_work(self) -> None:
        screen = WorkScreen(self.session)
        # the width's breakpoint class given now, as the screen's first resize would give
        # it: that resize then changes no class, and the whole screen is not styled twice
        # before its first frame (start -> first account)
        marks = {name: False for _, name in self.HORIZONTAL_BREAKPOINTS}
        for name in screen._get_breakpoint_classes(self.size.width, self.HORIZONTAL_BREAKPOINTS):  # noqa: SLF001
            marks[name] = True
        screen.update_classes(marks, update=False)
        self.push_screen(screen)
        self.set_timer(10, startup.resume_collections)  # if no account ever comes

    def _theme_picked(self, theme: Theme) -> None:
        """Remember the theme picked (Textual's picker, ctrl+p "theme") for next time."""
        if self._theme_timer is not None:
            self._theme_timer.stop()
        self._theme_timer = self.set_timer(THEME_SAVE_DELAY, self._save_theme)

    def _save_theme(self, *, wait: bool = False) -> None:
        self._theme_timer = None
        name = self.theme
        if name == self._theme_saved:
            return
        self._theme_saved = name

        def job() -> None:
            try:
                self.session.save_theme(name)
            except Exception as exc:  # noqa: BLE001 - said, never a crash
                if not wait:
                    self.call_from_thread(self.notify, str(exc), severity="warning")

        if wait:
            job()
        else:
            self.run_worker(job, thread=True, group="theme", exit_on_error=False)

    def _hang_up(self) -> None:
        """SSH dropped or the host shuts down: keep the note, free the account."""
        self._save_and_release()
        self.exit()

    def exit(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        if self._theme_timer is not None:  # a theme picked just before quitting
            self._theme_timer.stop()
            with contextlib.suppress(Exception):
                self._save_theme(wait=True)
        super().exit(*args, **kwargs)

    def _save_and_release(self) -> None:
        # the work screen may be under another (a lead's board) or installed beside it
        screen = next((s for s in reversed(self.screen_stack) if isinstance(s, WorkScreen)), None)
        if screen is None and self.is_screen_installed("work"):
            screen = self.get_screen("work")
        if isinstance(screen, WorkScreen) and screen.is_mounted:
            try:
                screen.save_draft_now()
                self.session.release()
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass

    def action_quit(self) -> None:  # type: ignore[override]
        self._save_and_release()
        self.exit()


def run_app(
    db_path: Path, collector: Collector, settings: Settings, session: WorkSession | None = None
) -> int:
    """``session``: one already opened by :func:`start_session` (its first account may be
    on its way); closed here either way."""
    if session is None:
        session = start_session(db_path, collector, settings)
    try:
        start = "board" if collector.is_lead else "work"  # a lead starts on the team board
        DunningApp(session, settings, freeze_gc=True, start=start).run()
    finally:
        session.close()
    return 0
