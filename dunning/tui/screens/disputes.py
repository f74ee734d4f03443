"""`D` (leads): open disputes, oldest first, by department and age in the customer's
business days against the service level ([disputes] service_days), overdue ones marked.
Enter opens the account's history; `v` resolves valid (the invoices stay out of
collection until the ERP brings the credit), `i` invalid (back into collection, a call
now); a short dialog asks why. `t` cycles the department shown, `o` only the overdue.
Paged (``PAGE`` rows; ] and [). The rules: queue/disputes.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from dunning.i18n import N_, _
from dunning.queue.disputes import DEPARTMENT_NAMES
from dunning.queue.lead_desk import LeadDesk
from dunning.queue.outcome_rules import DEPARTMENTS
from dunning.tui import fmt
from dunning.tui.keys import translate_bindings
from dunning.tui.widgets.shown import Shown

if TYPE_CHECKING:
    from dunning.queue.disputes import DisputeItem
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
        Binding("right_square_bracket", "page(1)", N_("Next page"), id="disputes.next", show=False),
        Binding("left_square_bracket", "page(-1)", N_("Prev page"), id="disputes.prev", show=False),
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
        self.found: list[DisputeItem] = []
        self.page_at = 0
        self.dept_index = 0  # index in FILTERS
        self.overdue_only = False
        self.busy = False

    @property
    def items(self) -> list[DisputeItem]:
        return self.found[self.page_at : self.page_at + PAGE]

    def compose(self) -> ComposeResult:
        yield Shown(_("Open disputes"), id="disputes-title")
        yield Shown("", id="disputes-status")
        yield DataTable(id="disputes-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(
            _("Opened"), _("Account"), _("Customer"), _("Department"), _("Age"), "",
            _("Amount"), _("Reason"), _("Invoices"),
        )  # fmt: skip
        self._load()

    def on_unmount(self) -> None:
        self.desk.close()

    def _load(self, status: Text | None = None) -> None:
        self.query_one(DataTable).loading = True
        department, overdue = FILTERS[self.dept_index], self.overdue_only

        def job() -> None:
            try:
                items = self.desk.disputes(department, overdue)
            except Exception as exc:  # noqa: BLE001 - shown, never a crash
                self.app.call_from_thread(self._failed, str(exc))
                return
            self.app.call_from_thread(self._show, items, status)

        self.run_worker(job, thread=True, group="disputes", exit_on_error=False)

    def _failed(self, message: str) -> None:
        self.busy = False
        self.query_one(DataTable).loading = False
        self.query_one("#disputes-status", Shown).update(Text(message, style="red"))

    def _show(self, items: list[DisputeItem], status: Text | None) -> None:
        self.busy = False
        self.found = items
        if self.page_at >= len(items):
            self.page_at = max(0, (len(items) - 1) // PAGE * PAGE)
        loc = self.session.collector.locale
        days = self.session.settings.disputes.service_days
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.loading = False
        table.clear()
        for d in self.items:
            table.add_row(
                fmt.day(d.opened_at, loc),
                fmt.safe(Text(d.ref)),
                fmt.safe(Text(d.name)),
                _(DEPARTMENT_NAMES[d.department]),
                Text(f"{d.age_days}/{days}", justify="right"),
                Text(_("overdue"), style="bold red") if d.overdue else Text(""),
                Text(fmt.money(d.amount_minor, d.currency, loc), justify="right"),
                d.reason,
                fmt.safe(Text(", ".join(d.invoices))),
            )
        if self.items:
            table.move_cursor(row=min(row, len(self.items) - 1))
        overdue = sum(1 for d in items if d.overdue)
        title = _("Open disputes: {n}, {overdue} overdue (service level {days} business days)")
        title = title.format(n=len(items), overdue=overdue, days=days)
        department = FILTERS[self.dept_index]
        if department is not None:
            title += " · " + _(DEPARTMENT_NAMES[department])
        if self.overdue_only:
            title += " · " + _("overdue only")
        if len(items) > PAGE:
            title += "  " + _("({first}-{last}; ] next page, [ previous)").format(
                first=self.page_at + 1, last=min(self.page_at + PAGE, len(items))
            )
        self.query_one("#disputes-title", Shown).update(title)
        if status is None and not items:
            status = Text(_("no open dispute"), style="dim")
        self.query_one("#disputes-status", Shown).update(status or "")
        table.focus()

    def _current(self) -> DisputeItem | None:
        table = self.query_one(DataTable)
        page = self.items
        if not page or not 0 <= table.cursor_row < len(page):
            return None
        return page[table.cursor_row]

    def action_cursor_down(self) -> None:
        self.query_one(DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one(DataTable).action_cursor_up()

    def action_close(self) -> None:
        self.app.pop_screen()

    def action_page(self, step: int) -> None:
        new = self.page_at + step * PAGE
        if new < 0 or new >= len(self.found):
            return
        self.page_at = new
        self._show(self.found, None)

    def action_department(self) -> None:
        self.dept_index = (self.dept_index + 1) % len(FILTERS)
        self.page_at = 0
        self._load()

    def action_overdue(self) -> None:
        self.overdue_only = not self.overdue_only
        self.page_at = 0
        self._load()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
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
                self.app.call_from_thread(self._load, Text(done.text(), style="green"))

            self.run_worker(job, thread=True, group="disputes", exit_on_error=False)

        self.app.push_screen(DecisionDialog(title), chosen)
