"""The team board (issue 9, item 1): the lead's start screen, live.

One row per collector of the lead's team: online since, the account held now and since
when, ready / waiting / review, today's attempts, contacts, right-party contacts,
promises (count, amount), promises broken, collected, accounts untouched for 14+ days,
open balance. Under the table, the row under the cursor in full (the open balance by
aging bucket per currency, the open disputes and how many are overdue), and the accounts
no collector of the board can serve, by language. Narrow terminals (< 130 columns) keep
who, what they are on since when, ready, waiting, review, attempts, promises and
untouched; the rest is in the row's detail. Each column is as wide as its widest cell,
set when the rows are drawn (not left to DataTable's widening at its next idle moment):
the drawing is the same whichever of the live tier and the book is read first.

Live: every second a thread worker asks whether anything was committed since the last
read (PRAGMA data_version: one call) and only then reads the live tier again
(queue/board_desk.py); the book (untouched, buckets, languages) is read in its own
worker when the screen opens and every ``board.BOOK_EVERY`` seconds (ctrl+r: now). The
cursor stays on the same collector across refreshes.

Keys: Enter opens the collector's account list (tui/screens/accounts.py when this build
has it), ``o`` the account they are on, read-only (its history, as the review queue
opens one), ``w`` the lead's own queue (``T`` there comes back), ``R`` / ``D`` the
review queue and the disputes.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, cast

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from dunning.clock import to_iso
from dunning.i18n import N_, _
from dunning.queue import board
from dunning.queue.board_desk import BoardDesk
from dunning.tui import fmt
from dunning.tui.keys import translate_bindings
from dunning.tui.widgets.shown import Shown

if TYPE_CHECKING:
    from dunning.queue.session import WorkSession

BOARD_NAME = "board"  # installed screens: they stay alive while the other is shown
WORK_NAME = "work"
TICK = 1.0  # seconds between two "anything committed?" checks
WIDE = 130  # columns from which every figure has a column (the app's -wide breakpoint)

# (key, label, shown when narrow)
COLUMNS: list[tuple[str, str, bool]] = [
    ("who", N_("Collector"), True),
    ("online", N_("Online"), False),
    ("now", N_("Now working"), True),
    ("since", N_("Since"), True),
    ("ready", N_("Ready"), True),
    ("waiting", N_("Wait"), True),
    ("review", N_("Rev."), True),
    ("attempts", N_("Att."), True),
    ("contacts", N_("Cont."), False),
    ("rpc", N_("RPC"), False),
    ("promises", N_("Prom."), True),
    ("promised", N_("Promised"), False),
    ("broken", N_("Broken"), False),
    ("collected", N_("Collected"), False),
    ("untouched", N_("14d+"), True),
    ("disputes", N_("Disputes (late)"), False),
    ("open", N_("Open balance"), False),
]
BUCKET_NAMES = [N_("current"), "1-30", "31-60", "61-90", "91-120", "120+"]


class BoardScreen(Screen[None]):
    BINDINGS = [
        Binding("enter", "accounts", N_("Accounts"), id="board.accounts"),
        Binding("o", "open_working", N_("Open now"), id="board.open"),
        Binding("w", "work", N_("My queue"), id="board.work"),
        Binding("R", "review_queue", N_("Review"), id="board.review", show=False),
        Binding("D", "disputes", N_("Disputes"), id="board.disputes", show=False),
        Binding("ctrl+r", "reload", N_("Reload"), id="board.reload", show=False),
        Binding("question_mark", "help", N_("Help"), id="board.help"),
        Binding("escape", "back", N_("Back"), id="board.back", show=False),
        Binding("q", "quit", N_("Quit"), id="board.quit"),
        Binding("j", "cursor_down", show=False),
        Binding("k", "cursor_up", show=False),
    ]

    def __init__(self, session: WorkSession, desk: BoardDesk | None = None) -> None:
        super().__init__()
        translate_bindings(self)
        self.session = session
        self.desk = desk or BoardDesk(
            session.db_path, session.collector, session.settings, session.clock
        )
        self.board: board.Board | None = None
        self.book: board.Book | None = None
        self._book_at = float("-inf")
        self._live_busy = False
        self._book_busy = False
        self._wide: bool | None = None
        self._keys: list[str] = []
        # both tiers are on the screen (the live rows with the book's figures), drawn in
        # full: what a test waits for before it looks
        self.drawn = False

    def compose(self) -> ComposeResult:
        yield Shown(_("Team board"), id="board-title")
        yield Shown("", id="board-status")
        yield DataTable(id="board-table", cursor_type="row", zebra_stripes=True)
        yield Shown("", id="board-detail")
        yield Shown("", id="board-unserved")
        yield Footer()

    def on_mount(self) -> None:
        self._columns()
        self.query_one(DataTable).focus()
        self._read_live(force=True)
        self._read_book()
        self.set_interval(TICK, self._tick)

    def on_unmount(self) -> None:
        self.desk.close()

    def on_screen_resume(self) -> None:
        if self.board is not None:
            self._read_live()

    def on_resize(self) -> None:
        if self._wide != (self.size.width >= WIDE):
            self._columns()
            self._fill()

    # -- reading -----------------------------------------------------------------------
    def _tick(self) -> None:
        if not self.is_current:
            return  # the work screen (or a dialog) is shown: read again when back
        self._read_live()
        if time.monotonic() - self._book_at >= board.BOOK_EVERY:
            self._read_book()

    def _read_live(self, *, force: bool = False) -> None:
        if self._live_busy:
            return
        self._live_busy = True

        def job() -> None:
            try:
                found = self.desk.live(force=force)
            except Exception as exc:  # noqa: BLE001 - said on screen, never a crash
                self.app.call_from_thread(self._failed, str(exc))
                return
            self.app.call_from_thread(self._show_live, found)

        self.run_worker(job, thread=True, group="board-live", exit_on_error=False)

    def _read_book(self) -> None:
        if self._book_busy:
            return
        self._book_busy = True
        self._book_at = time.monotonic()

        def job() -> None:
            try:
                book = self.desk.book()
            except Exception as exc:  # noqa: BLE001
                self.app.call_from_thread(self._failed, str(exc))
                return
            self.app.call_from_thread(self._show_book, book)

        self.run_worker(job, thread=True, group="board-book", exit_on_error=False)

    def _failed(self, message: str) -> None:
        self._live_busy = self._book_busy = False
        self.query_one("#board-status", Shown).update(Text(message, style="red"))

    def _show_live(self, found: board.Board | None) -> None:
        self._live_busy = False
        if found is None:
            return  # nothing committed since the last read
        if self.book is not None:
            board.attach_book(found, self.book)
        self.board = found
        self._fill()

    def _show_book(self, book: board.Book) -> None:
        self._book_busy = False
        self.book = book
        if self.board is not None:
            board.attach_book(self.board, book)
            self._fill()

    # -- drawing -----------------------------------------------------------------------
    def _columns(self, widths: list[int] | None = None) -> None:
        self._wide = self.size.width >= WIDE
        table = self.query_one(DataTable)
        table.clear(columns=True)
        self._keys = [key for key, _label, narrow in COLUMNS if self._wide or narrow]
        labels = {key: _(label) for key, label, _narrow in COLUMNS}
        if widths is None or len(widths) != len(self._keys):
            widths = [cell_len(labels[k]) for k in self._keys]
        for key, width in zip(self._keys, widths, strict=True):
            table.add_column(labels[key], key=key, width=width)

    def _widths(self, rows: list[dict[str, Text]]) -> list[int]:
        """Each shown column's width: its label's or its widest cell's."""
        labels = {key: _(label) for key, label, _narrow in COLUMNS}
        return [max([cell_len(labels[k]), *(c[k].cell_len for c in rows)]) for k in self._keys]

    def _cells(self, r: board.BoardRow, now: object) -> dict[str, Text]:
        loc = self.session.collector.locale
        num = lambda n: Text(str(n), justify="right")  # noqa: E731
        untouched = "…" if r.untouched is None else str(r.untouched)
        opened = ""
        if r.buckets:
            first = sorted(r.buckets.items(), key=lambda kv: -sum(kv[1]))
            cur, values = first[0]
            opened = fmt.money(sum(values), cur, loc) + (
                f" +{len(first) - 1}" if len(first) > 1 else ""
            )
        return {
            "who": cast(Text, fmt.safe(Text(r.username))),
            "online": Text(board.since_text(r.online_since, now) if r.online_since else "—"),  # type: ignore[arg-type]
            "now": cast(Text, fmt.safe(Text(r.working_on or "—"))),
            "since": Text(board.since_text(r.working_since, now)),  # type: ignore[arg-type]
            "ready": num(r.ready),
            "waiting": num(r.waiting),
            "review": num(r.review),
            "attempts": num(r.attempts),
            "contacts": num(r.contacts),
            "rpc": num(r.rpc),
            "promises": num(r.promises),
            "promised": Text(_money(r.promised, loc), justify="right"),
            "broken": num(r.broken),
            "collected": Text(_money(r.collected, loc), justify="right"),
            "untouched": Text(untouched, justify="right"),
            "disputes": Text.assemble(
                "…" if r.disputes is None else str(r.disputes),
                (f" ({r.overdue})" if r.overdue else "", "red"),
                justify="right",
            ),
            "open": Text(opened, justify="right"),
        }

    def _fill(self) -> None:
        found = self.board
        if found is None:
            return
        table = self.query_one(DataTable)
        names = [r.username for r in found.rows]
        current = self._current()
        keep = current.username if current else None
        rows = [self._cells(r, found.at) for r in found.rows]
        widths = self._widths(rows)
        same = [c.width for c in table.columns.values()] == widths
        if same and names == [str(k.value) for k in table.rows]:
            for r, cells in zip(found.rows, rows, strict=True):
                for key in self._keys:
                    table.update_cell(r.username, key, cells[key])
        else:
            # each column as wide as its widest cell, set here: the same drawing whichever
            # tier came first (DataTable's own widening waits for an idle moment)
            self._columns(widths)
            for r, cells in zip(found.rows, rows, strict=True):
                table.add_row(*(cells[k] for k in self._keys), key=r.username)
            if keep in names:
                table.move_cursor(row=names.index(keep))
        team = found.team if found.team is not None else _("all teams")
        title = _("Team board: {team}, {day}").format(
            team=team or "—", day=fmt.day(found.day.isoformat(), self.session.collector.locale)
        )
        self.query_one("#board-title", Shown).update(title)
        online = sum(1 for r in found.rows if r.online_since)
        status = _("{n} collector(s), {online} online; refreshed {time}").format(
            n=len(found.rows),
            online=online,
            time=fmt.local_dt(to_iso(found.at), self.session.collector.locale),
        )
        if not found.rows:
            status = _("no active collector in this team")
        self.query_one("#board-status", Shown).update(Text(status, style="dim"))
        self._detail()
        self._unserved()
        self.drawn = found.book is not None

    def _detail(self) -> None:
        r = self._current()
        out = Text()
        if r is not None and self.board is not None:
            now = self.board.at
            loc = self.session.collector.locale
            out.append(r.username, style="bold")
            out.append(f" ({r.display_name}) ")
            out.append(
                _("online for {since}").format(since=board.since_text(r.online_since, now))
                if r.online_since
                else _("offline")
            )
            if r.working_on:
                out.append(" · ")
                out.append(
                    _("on {ref} {name} for {since}").format(
                        ref=r.working_on,
                        name=r.working_name,
                        since=board.since_text(r.working_since, now) or "?",
                    )  # fmt: skip
                )
            out.append("\n")
            out.append(
                _(
                    "today: {attempts} attempts, {contacts} contacts, {rpc} RPC · {promises} "
                    "promises ({promised}) · {broken} broken · collected {collected}"
                ).format(
                    attempts=r.attempts,
                    contacts=r.contacts,
                    rpc=r.rpc,
                    promises=r.promises,
                    promised=_money(r.promised, loc),
                    broken=r.broken,
                    collected=_money(r.collected, loc),
                )  # fmt: skip
            )
            out.append("\n")
            if r.disputes is None:
                out.append(_("open disputes: reading…"), style="dim")
            elif r.disputes:
                late = _("{n} overdue").format(n=r.overdue)
                out.append(_("open disputes: {n}").format(n=r.disputes) + ", ")
                out.append(late, style="red" if r.overdue else "")
            else:
                out.append(_("no open dispute"), style="dim")
            if r.buckets is None:
                out.append("\n" + _("open balance by bucket: reading…"), style="dim")
            shown = sorted(
                ((c, v) for c, v in (r.buckets or {}).items() if any(v)), key=lambda cv: -sum(cv[1])
            )  # the largest first (the panel has room for two); nothing open: no line
            if r.buckets is not None and not shown:
                out.append("\n" + _("nothing open in the aging buckets"), style="dim")
            for cur, values in shown[:2]:
                out.append(f"\n{cur} ", style="bold")
                out.append(
                    "  ".join(
                        f"{_(name)} {fmt.money(v, cur, loc)}"
                        for name, v in zip(BUCKET_NAMES, values, strict=True)
                    )
                )
        self.query_one("#board-detail", Shown).update(fmt.safe(out))

    def _unserved(self) -> None:
        book = self.book
        if book is None:
            text = Text(_("reading the book (untouched, balances, languages)…"), style="dim")
        elif book.unserved:
            parts = ", ".join(f"{lang} {n}" for lang, n in book.unserved.items())
            text = Text(
                _("accounts no active collector can serve (language): {parts}").format(parts=parts),
                style="yellow",
            )
        else:
            text = Text(_("every account's language is spoken by an active collector"), style="dim")
        self.query_one("#board-unserved", Shown).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail()

    def _current(self) -> board.BoardRow | None:
        if self.board is None:
            return None
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        try:
            key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        except Exception:  # noqa: BLE001 - no row under the cursor
            return None
        return next((r for r in self.board.rows if r.username == key), None)

    # -- keys --------------------------------------------------------------------------
    def action_cursor_down(self) -> None:
        self.query_one(DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one(DataTable).action_cursor_up()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_accounts()

    def action_accounts(self) -> None:
        r = self._current()
        if r is None:
            return
        from dunning.tui.screens.accounts import AccountListScreen

        self.app.push_screen(AccountListScreen(self.session, where=f"collector={r.username}"))

    def action_open_working(self) -> None:
        r = self._current()
        if r is None:
            return
        if r.working_id is None:
            self.notify(_("{name} is on no account now").format(name=r.username))
            return
        from dunning.tui.screens.account_view import open_read_only

        open_read_only(self.app, self.session, r.working_id)  # who holds it, since when

    def action_work(self) -> None:
        """The lead's own queue: back to the work screen under the board, else the
        installed one (made the first time), in the board's place (both stay alive)."""
        from dunning.tui.screens.work import WorkScreen

        app = self.app
        stack = app.screen_stack
        if len(stack) > 1 and isinstance(stack[-2], WorkScreen):
            app.pop_screen()
            return
        if not app.is_screen_installed(WORK_NAME):
            app.install_screen(WorkScreen(self.session), WORK_NAME)
        app.switch_screen(WORK_NAME)

    def action_back(self) -> None:
        from dunning.tui.screens.work import WorkScreen

        stack = self.app.screen_stack
        if len(stack) > 1 and isinstance(stack[-2], WorkScreen):  # opened from it
            self.app.pop_screen()

    def action_review_queue(self) -> None:
        if not self.session.may("review"):
            return
        from dunning.tui.screens.review import ReviewScreen

        self.app.push_screen(ReviewScreen(self.session))

    def action_disputes(self) -> None:
        if not self.session.may("disputes"):
            return
        from dunning.tui.screens.disputes import DisputesScreen

        self.app.push_screen(DisputesScreen(self.session))

    def action_reload(self) -> None:
        self._read_live(force=True)
        self._read_book()

    def action_help(self) -> None:
        from dunning.tui.screens.help import HelpScreen

        self.app.push_screen(HelpScreen(self, True))

    def action_quit(self) -> None:
        self.app.action_quit()


def _money(amounts: dict[str, int], locale: str) -> str:
    return ", ".join(fmt.money(v, c, locale) for c, v in sorted(amounts.items())) or "—"


def show_board(app: object, session: WorkSession) -> None:
    """Open the board from the work screen (``T``): in its place when the work screen is
    the lead's installed one (the board is beside it), else on top of it."""
    from textual.app import App

    assert isinstance(app, App)
    if not app.is_screen_installed(BOARD_NAME):
        app.install_screen(BoardScreen(session), BOARD_NAME)
    if app.is_screen_installed(WORK_NAME) and app.screen is app.get_screen(WORK_NAME):
        app.switch_screen(BOARD_NAME)
    else:
        app.push_screen(BOARD_NAME)
