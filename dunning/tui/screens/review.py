"""`R` (leads): the review queue. Every account a collector refused or escalated to lead
review, oldest first, with why, who sent it, the terms proposed (a plan, a settlement, a
write-off, a credit-hold release: queue/approvals.py) and their note; Enter opens its
history, and a key decides (a short dialog asks why): back to its collector, to another
collector, legal, agency, y approves / n declines what it came for, w / W write-off
approved or declined. The page is read again after each decision (the cursor stays on its
row number). Keyset pages of 100 (widgets/paged_list.py: down on the last row, ] and [,
Home, End), read in a worker, the count after them; a lead sees their team's accounts, an
admin every one (``T`` cycles the teams). The rules: queue/review.py, review_list.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer

from dunning.i18n import N_, _
from dunning.queue.approvals import APPROVALS
from dunning.queue.lead_desk import LeadDesk
from dunning.queue.review import DECISIONS
from dunning.tui import fmt
from dunning.tui.keys import translate_bindings
from dunning.tui.widgets.paged_list import PagedList
from dunning.tui.widgets.shown import Shown

if TYPE_CHECKING:
    from dunning.queue.review import ReviewItem
    from dunning.queue.review_list import ReviewPage
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
        Binding("T", "team", N_("Team"), id="review.team", show=False),
    ]

    def __init__(self, session: WorkSession, desk: LeadDesk | None = None) -> None:
        super().__init__()
        translate_bindings(self)
        self.session = session
        self.desk = desk or LeadDesk(
            session.db_path, session.collector, session.settings, session.clock
        )
        self.total: int | None = None
        self.team: str | None = None  # an admin's team filter (None: every account)
        self.teams: list[str] = []
        self.busy = False

    @property
    def items(self) -> list[ReviewItem]:
        return list(self.query_one(PagedList).rows_shown)

    def compose(self) -> ComposeResult:
        yield Shown(_("Review queue"), id="review-title")
        yield Shown("", id="review-status")
        yield PagedList(self._fetch, self._cells, lambda i: i.customer_id, id="review-table")
        yield Shown("", id="review-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(PagedList)
        table.add_columns(
            _("Since"), _("Account"), _("Customer"), _("Collector"), _("Why"), _("Owed"),
            _("Terms"), _("Note"),
        )  # fmt: skip
        table.loading = True
        self._reload()

    def on_unmount(self) -> None:
        self.desk.close()

    def _fetch(self, where: str, cursor: object) -> ReviewPage:
        return self.desk.review_fetch(where, cursor, self.team)

    def _cells(self, i: ReviewItem) -> list[object]:
        loc = self.session.collector.locale
        return [
            fmt.local_dt(i.since, loc),
            fmt.safe(Text(i.ref)),
            fmt.safe(Text(i.name)),
            fmt.safe(Text(i.collector or "—")),
            i.came_for_text,
            Text(fmt.money(i.owed_minor, i.currency, loc), justify="right"),
            Text(i.terms[:60]),
            fmt.safe(Text(i.note.replace("\n", " ")[:60])),
        ]

    def _reload(self, status: Text | None = None, again: bool = False) -> None:
        """The list read again (from the top, or ``again``: the page shown), then the count."""
        table = self.query_one(PagedList)
        self.pending = status
        if again:
            table.reread()
        else:
            table.reload()
        team = self.team

        def count() -> None:
            try:
                n = self.desk.review_count(team)
            except Exception:  # noqa: BLE001 - the count is a nicety; the page says why
                return
            self.app.call_from_thread(self._counted, team, n)

        self.run_worker(count, thread=True, group="review-count", exit_on_error=False)

    def _counted(self, team: str | None, n: int) -> None:
        if team == self.team:
            self.total = n
            self._title()

    def _failed(self, message: str) -> None:
        self.busy = False
        self.query_one(PagedList).loading = False
        self.query_one("#review-status", Shown).update(Text(message, style="red"))

    def on_paged_list_loaded(self, event: PagedList.Loaded) -> None:
        self.busy = False
        table = event.table
        table.loading = False
        if event.error:
            self._failed(event.error)
            return
        self._detail()
        self._title()
        status = self.pending
        self.pending = None
        if status is None and not table.rows_shown:
            status = Text(_("no account is waiting for review"), style="dim")
        self.query_one("#review-status", Shown).update(status or "")
        table.focus()

    def _title(self) -> None:
        table = self.query_one(PagedList)
        shown = len(table.rows_shown)
        title = _("Review queue: {n} account(s)").format(
            n=f"{self.total:,}" if self.total is not None else "…"
        )
        if self.team is not None:
            title += " · " + _("team {team}").format(team=self.team)
        page = table.page
        if page is not None and shown and (page.more_after or page.more_before):
            first = table.start + 1
            title += "  " + _("({first}-{last}; ] next page, [ previous)").format(
                first=f"{first:,}" if table.known else "…",
                last=f"{first + shown - 1:,}" if table.known else "…",
            )
        self.query_one("#review-title", Shown).update(title)

    def _current(self) -> ReviewItem | None:
        item: ReviewItem | None = self.query_one(PagedList).current()
        return item

    def on_data_table_row_highlighted(self, event: PagedList.RowHighlighted) -> None:
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

    def action_close(self) -> None:
        self.app.pop_screen()

    def action_team(self) -> None:
        """T (an admin, or a lead without a team): the next team's accounts, then all."""
        if self.session.collector.role != "admin" and self.session.collector.team:
            return  # a lead with a team sees theirs
        if not self.teams:
            self.run_worker(self._read_teams, thread=True, group="review", exit_on_error=False)
            return
        order: list[str | None] = [None, *self.teams]
        self.team = order[(order.index(self.team) + 1) % len(order)]
        self.total = None
        self._reload()

    def _read_teams(self) -> None:
        teams = self.desk.teams()
        if teams:
            self.app.call_from_thread(self._got_teams, teams)

    def _got_teams(self, teams: list[str]) -> None:
        self.teams = teams
        self.action_team()

    def on_data_table_row_selected(self, event: PagedList.RowSelected) -> None:
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
                self.app.call_from_thread(self._reload, Text(done.text(), style="green"), True)

            self.run_worker(job, thread=True, group="review", exit_on_error=False)

        if decision != "collector":
            self.app.push_screen(DecisionDialog(title), chosen)
            return

        def ask() -> None:
            others = [c for c in self.desk.collectors() if c.username != item.collector]
            self.app.call_from_thread(self.app.push_screen, DecisionDialog(title, others), chosen)

        self.run_worker(ask, thread=True, group="review", exit_on_error=False)
