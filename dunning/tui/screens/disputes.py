"""`D` (leads): open disputes, oldest first, by department and age in the customer's
business days against the service level ([disputes] service_days), overdue ones marked.
Enter opens the account's history; `v` resolves valid (the invoices stay out of
collection until the ERP brings the credit), `i` invalid (back into collection, a call
now); a short dialog asks why. `t` cycles the department shown, `o` only the overdue, `T`
(an admin) the team. Keyset pages of 100 (widgets/paged_list.py), read in a worker, the
counts after them; the page is read again after a resolution (the cursor stays on its row
number). The rules: queue/disputes.py, disputes_list.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer

from dunning.i18n import N_, _
from dunning.queue.disputes import DEPARTMENT_NAMES
from dunning.queue.lead_desk import LeadDesk
from dunning.queue.outcome_rules import DEPARTMENTS
from dunning.tui import fmt
from dunning.tui.keys import translate_bindings
from dunning.tui.widgets.paged_list import PagedList
from dunning.tui.widgets.shown import Shown

if TYPE_CHECKING:
    from dunning.queue.disputes import DisputeItem
    from dunning.queue.disputes_list import DisputePage, Listing
    from dunning.queue.session import WorkSession

PAGE = 100
FILTERS: tuple[str | None, ...] = (None, *DEPARTMENTS)


class DisputesScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q,D", "close", N_("Back"), id="disputes.back"),
        Binding("enter", "open", N_("History"), id="disputes.open"),
        Binding("v", "resolve(True)", N_("Valid"), id="disputes.valid"),
        Binding("i", "resolve(False)", N_("Invalid"), id="disputes.invalid"),
        Binding("t", "department", N_("Department"), id="disputes.department"),
        Binding("o", "overdue", N_("Overdue"), id="disputes.overdue"),
        Binding("T", "team", N_("Team"), id="disputes.team", show=False),
    ]

    def __init__(self, session: WorkSession, desk: LeadDesk | None = None) -> None:
        super().__init__()
        translate_bindings(self)
        self.session = session
        self.desk = desk or LeadDesk(
            session.db_path, session.collector, session.settings, session.clock
        )
        self.dept_index = 0  # index in FILTERS
        self.overdue_only = False
        self.team: str | None = None  # an admin's team filter (None: every account)
        self.teams: list[str] = []
        self.listing: Listing | None = None
        self.counts: tuple[int, int] | None = None  # (open, overdue)
        self.pending: Text | None = None
        self.busy = False

    @property
    def items(self) -> list[DisputeItem]:
        return list(self.query_one(PagedList).rows_shown)

    def compose(self) -> ComposeResult:
        yield Shown(_("Open disputes"), id="disputes-title")
        yield Shown("", id="disputes-status")
        yield PagedList(self._fetch, self._cells, lambda d: d.id, id="disputes-table")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(PagedList)
        table.add_columns(
            _("Opened"), _("Account"), _("Customer"), _("Department"), _("Age"), "",
            _("Amount"), _("Reason"), _("Invoices"),
        )  # fmt: skip
        table.loading = True
        self._load()

    def on_unmount(self) -> None:
        self.desk.close()

    def _fetch(self, where: str, cursor: object) -> DisputePage:
        assert self.listing is not None
        return self.desk.disputes_fetch(self.listing, where, cursor)

    def _cells(self, d: DisputeItem) -> list[object]:
        loc = self.session.collector.locale
        days = self.session.settings.disputes.service_days
        return [
            fmt.day(d.opened_at, loc),
            fmt.safe(Text(d.ref)),
            fmt.safe(Text(d.name)),
            _(DEPARTMENT_NAMES[d.department]),
            Text(f"{d.age_days}/{days}", justify="right"),
            Text(_("overdue"), style="bold red") if d.overdue else Text(""),
            Text(fmt.money(d.amount_minor, d.currency, loc), justify="right"),
            d.reason,
            fmt.safe(Text(", ".join(d.invoices))),
        ]

    def _load(self, status: Text | None = None, again: bool = False) -> None:
        """The list (a new filter: from the top; ``again``: the page shown), then its
        counts."""
        department, overdue, team = FILTERS[self.dept_index], self.overdue_only, self.team
        self.pending = status

        def job() -> None:
            try:
                lst = self.desk.disputes_listing(department, overdue, team)
            except Exception as exc:  # noqa: BLE001 - shown, never a crash
                self.app.call_from_thread(self._failed, str(exc))
                return
            self.app.call_from_thread(self._start, lst, again)

        self.run_worker(job, thread=True, group="disputes", exit_on_error=False)

    def _start(self, lst: Listing, again: bool) -> None:
        if lst != self.listing:
            self.counts = None
        self.listing = lst
        table = self.query_one(PagedList)
        if again:
            table.reread()
        else:
            table.reload()

        def count() -> None:
            try:
                n = self.desk.disputes_count(lst)
            except Exception:  # noqa: BLE001 - the count is a nicety; the page says why
                return
            self.app.call_from_thread(self._counted, lst, n)

        self.run_worker(count, thread=True, group="disputes-count", exit_on_error=False)

    def _counted(self, lst: Listing, n: tuple[int, int]) -> None:
        if lst == self.listing:
            self.counts = n
            self._title()

    def _failed(self, message: str) -> None:
        self.busy = False
        self.query_one(PagedList).loading = False
        self.query_one("#disputes-status", Shown).update(Text(message, style="red"))

    def on_paged_list_loaded(self, event: PagedList.Loaded) -> None:
        self.busy = False
        table = event.table
        table.loading = False
        if event.error:
            self._failed(event.error)
            return
        self._title()
        status = self.pending
        self.pending = None
        if status is None and not table.rows_shown:
            status = Text(_("no open dispute"), style="dim")
        self.query_one("#disputes-status", Shown).update(status or "")
        table.focus()

    def _title(self) -> None:
        days = self.session.settings.disputes.service_days
        n, overdue = (f"{c:,}" for c in self.counts) if self.counts else ("…", "…")
        title = _("Open disputes: {n}, {overdue} overdue (service level {days} business days)")
        title = title.format(n=n, overdue=overdue, days=days)
        department = FILTERS[self.dept_index]
        if department is not None:
            title += " · " + _(DEPARTMENT_NAMES[department])
        if self.overdue_only:
            title += " · " + _("overdue only")
        if self.team is not None:
            title += " · " + _("team {team}").format(team=self.team)
        table = self.query_one(PagedList)
        page, shown = table.page, len(table.rows_shown)
        if page is not None and shown and (page.more_after or page.more_before):
            first = table.start + 1
            title += "  " + _("({first}-{last}; ] next page, [ previous)").format(
                first=f"{first:,}" if table.known else "…",
                last=f"{first + shown - 1:,}" if table.known else "…",
            )
        self.query_one("#disputes-title", Shown).update(title)

    def _current(self) -> DisputeItem | None:
        item: DisputeItem | None = self.query_one(PagedList).current()
        return item

    def action_close(self) -> None:
        self.app.pop_screen()

    def action_department(self) -> None:
        self.dept_index = (self.dept_index + 1) % len(FILTERS)
        self._load()

    def action_overdue(self) -> None:
        self.overdue_only = not self.overdue_only
        self._load()

    def action_team(self) -> None:
        """T (an admin, or a lead without a team): the next team's disputes, then all."""
        if self.session.collector.role != "admin" and self.session.collector.team:
            return  # a lead with a team sees theirs
        if not self.teams:
            self.run_worker(self._read_teams, thread=True, group="disputes", exit_on_error=False)
            return
        order: list[str | None] = [None, *self.teams]
        self.team = order[(order.index(self.team) + 1) % len(order)]
        self._load()

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
        d = self._current()
        if d is None:
            return
        from dunning.tui.screens.history import HistoryScreen

        self.app.push_screen(HistoryScreen(self.session, d.customer_id, d.name, d.currency))

    def action_resolve(self, valid: bool) -> None:
        d = self._current()
        if d is None or self.busy:
            return
        from dunning.tui.dialogs.decision import DecisionDialog

        what = _("resolved valid") if valid else _("resolved invalid")
        title = _("Dispute {id} ({ref} {name}): {what}").format(
            id=d.id, ref=d.ref, name=d.name, what=what
        )

        def chosen(result: tuple[str | None, str] | None) -> None:
            if result is None:
                self.query_one("#disputes-status", Shown).update(
                    Text(_("Cancelled: nothing changed"), style="dim")
                )
                return
            reason = result[1]
            self.busy = True

            def job() -> None:
                try:
                    done = self.desk.resolve(d.id, valid, reason)
                except Exception as exc:  # noqa: BLE001 - a refusal: one line, no crash
                    self.app.call_from_thread(self._failed, str(exc))
                    return
                self.app.call_from_thread(self._load, Text(done.text(), style="green"), True)

            self.run_worker(job, thread=True, group="disputes", exit_on_error=False)

        self.app.push_screen(DecisionDialog(title), chosen)
