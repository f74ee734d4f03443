"""`R` (leads): the review queue. Every account a collector refused or escalated to lead
review, oldest first, with why, who sent it, the terms proposed (a plan, a settlement, a
write-off, a credit-hold release: queue/approvals.py) and their note; Enter opens its
history, and a key decides (a short dialog asks why): back to its collector, to another
collector, legal, agency, y approves / n declines what it came for, w / W write-off
approved or declined. The list is read again after each
decision. Paged (``PAGE`` rows; ] and [), keyboard only. The rules: queue/review.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from dunning.i18n import N_, _
from dunning.queue.approvals import APPROVALS
from dunning.queue.lead_desk import LeadDesk
from dunning.queue.review import DECISIONS
from dunning.tui import fmt
from dunning.tui.keys import translate_bindings
from dunning.tui.widgets.shown import Shown

if TYPE_CHECKING:
    from dunning.queue.review import ReviewItem
    from dunning.queue.session import WorkSession

PAGE = 100


class ReviewScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q,R", "close", N_("Back"), id="review.back"),
        Binding("enter", "open", N_("History"), id="review.open"),
        Binding("o", "look", N_("Account"), id="review.look", show=False),
        Binding("b", "decide('back')", N_("To collector"), id="review.back_to"),
        Binding("c", "decide('collector')", N_("Other"), id="review.collector"),
        Binding("l", "decide('legal')", N_("Legal"), id="review.legal"),
        Binding("a", "decide('agency')", N_("Agency"), id="review.agency"),
        Binding("y", "approve(True)", N_("Approve"), id="review.approve"),
        Binding("n", "approve(False)", N_("Decline"), id="review.decline_request"),
        Binding(
            "w", "decide('writeoff_approved')", N_("Write off"), id="review.writeoff", show=False
        ),  # fmt: skip
        Binding(
            "W",
            "decide('writeoff_declined')",
            N_("Decline w/o"),
            id="review.decline",
            show=False,
        ),  # fmt: skip
        Binding("right_square_bracket", "page(1)", N_("Next page"), id="review.next", show=False),
        Binding("left_square_bracket", "page(-1)", N_("Prev page"), id="review.prev", show=False),
        Binding("j", "cursor_down", show=False),
        Binding("k", "cursor_up", show=False),
    ]

    def __init__(self, session: WorkSession, desk: LeadDesk | None = None) -> None:
        super().__init__()
        translate_bindings(self)
        self.session = session
        self.desk = desk or LeadDesk(
            session.db_path, session.collector, session.settings, session.clock
        )
        self.items: list[ReviewItem] = []
        self.total = 0
        self.page_at = 0
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Shown(_("Review queue"), id="review-title")
        yield Shown("", id="review-status")
        yield DataTable(id="review-table", cursor_type="row", zebra_stripes=True)
        yield Shown("", id="review-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(
            _("Since"), _("Account"), _("Customer"), _("Collector"), _("Why"), _("Owed"),
            _("Terms"), _("Note"),
        )  # fmt: skip
        self._load()

    def on_unmount(self) -> None:
        self.desk.close()

    def _load(self, status: Text | None = None) -> None:
        self.query_one(DataTable).loading = True
        offset = self.page_at

        def job() -> None:
            try:
                items, total = self.desk.review_page(offset, PAGE)
            except Exception as exc:  # noqa: BLE001 - shown, never a crash
                self.app.call_from_thread(self._failed, str(exc))
                return
            self.app.call_from_thread(self._show, items, total, status)

        self.run_worker(job, thread=True, group="review", exit_on_error=False)

    def _failed(self, message: str) -> None:
        self.query_one(DataTable).loading = False
        self.busy = False
        self.query_one("#review-status", Shown).update(Text(message, style="red"))

    def _show(self, items: list[ReviewItem], total: int, status: Text | None) -> None:
        self.busy = False
        if not items and total and self.page_at:  # the last page emptied: one back
            self.page_at = max(0, self.page_at - PAGE)
            self._load(status)
            return
        self.items, self.total = items, total
        loc = self.session.collector.locale
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.loading = False
        table.clear()
        for i in items:
            table.add_row(
                fmt.local_dt(i.since, loc),
                fmt.safe(Text(i.ref)),
                fmt.safe(Text(i.name)),
                fmt.safe(Text(i.collector or "—")),
                i.came_for_text,
                Text(fmt.money(i.owed_minor, i.currency, loc), justify="right"),
                Text(i.terms[:60]),
                fmt.safe(Text(i.note.replace("\n", " ")[:60])),
            )
        if items:
            table.move_cursor(row=min(row, len(items) - 1))
        self._detail()
        last = min(self.page_at + len(items), total)
        title = _("Review queue: {n} account(s)").format(n=total)
        if total > PAGE:
            title += "  " + _("({first}-{last}; ] next page, [ previous)").format(
                first=self.page_at + 1, last=last
            )
        self.query_one("#review-title", Shown).update(title)
        if status is None and not total:
            status = Text(_("no account is waiting for review"), style="dim")
        self.query_one("#review-status", Shown).update(status or "")
        table.focus()

    def _current(self) -> ReviewItem | None:
        table = self.query_one(DataTable)
        if not self.items or not 0 <= table.cursor_row < len(self.items):
            return None
        return self.items[table.cursor_row]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail()

    def _detail(self) -> None:
        """The row under the cursor in full: why, the proposed terms, the note."""
        item = self._current()
        text = Text()
        if item is not None:
            text.append(item.came_for_text, style="bold")
            if item.terms:
                text.append(": " + item.terms)
            if item.note:
                text.append(" · ")
                text.append(fmt.safe(Text(item.note.replace("\n", " "))))
            if item.came_for in APPROVALS:
                text.append("  " + _("y approves · n declines"), style="dim")
        self.query_one("#review-detail", Shown).update(text)

    def action_approve(self, yes: bool) -> None:
        """y / n: approve or decline what the account came for (a plan, a settlement, a
        write-off, a credit-hold release)."""
        item = self._current()
        if item is None or self.busy:
            return
        pair = APPROVALS.get(item.came_for)
        if pair is None:
            self.query_one("#review-status", Shown).update(
                Text(
                    _("{ref} came for {why}: nothing to approve (b, c, l, a decide)").format(
                        ref=item.ref, why=item.came_for_text
                    ),
                    style="yellow",
                )
            )
            return
        self.action_decide(pair[0] if yes else pair[1])

    def action_cursor_down(self) -> None:
        self.query_one(DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one(DataTable).action_cursor_up()

    def action_close(self) -> None:
        self.app.pop_screen()

    def action_page(self, step: int) -> None:
        new = self.page_at + step * PAGE
        if self.busy or new < 0 or new >= self.total:
            return
        self.page_at = new
        self._load()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()  # Enter on a row: the table takes the key, the screen opens the row
        self.action_open()

    def action_open(self) -> None:
        item = self._current()
        if item is None:
            return
        from dunning.tui.screens.history import HistoryScreen

        self.app.push_screen(
            HistoryScreen(self.session, item.customer_id, item.name, item.currency)
        )

    def action_look(self) -> None:
        """o: the account read-only, with who holds it (never breaking the hold)."""
        item = self._current()
        if item is None:
            return
        from dunning.tui.screens.account_view import open_read_only

        open_read_only(self.app, self.session, item.customer_id)

    def action_decide(self, decision: str) -> None:
        item = self._current()
        if item is None or self.busy:
            return
        from dunning.tui.dialogs.decision import DecisionDialog

        title = _("{ref} {name}: {what}").format(
            ref=item.ref, name=item.name, what=_(DECISIONS[decision])
        )

        def chosen(result: tuple[str | None, str] | None) -> None:
            if result is None:
                self.query_one("#review-status", Shown).update(
                    Text(_("Cancelled: nothing changed"), style="dim")
                )
                return
            to, reason = result
            self.busy = True

            def job() -> None:
                try:
                    done = self.desk.decide(item.customer_id, decision, reason, to)
                except Exception as exc:  # noqa: BLE001 - a refusal: one line, no crash
                    self.app.call_from_thread(self._failed, str(exc))
                    return
                self.app.call_from_thread(self._load, Text(done.text(), style="green"))

            self.run_worker(job, thread=True, group="review", exit_on_error=False)

        if decision != "collector":
            self.app.push_screen(DecisionDialog(title), chosen)
            return

        def ask() -> None:
            others = [c for c in self.desk.collectors() if c.username != item.collector]
            self.app.call_from_thread(self.app.push_screen, DecisionDialog(title, others), chosen)

        self.run_worker(ask, thread=True, group="review", exit_on_error=False)
