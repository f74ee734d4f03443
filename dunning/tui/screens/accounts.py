"""A lead's account list (issue 9, item 2): the accounts a filter matches, a page at a
time (keyset pages: 100,000 matches cost what one page costs), sortable, with
multi-select and a bulk reassignment.

Keys: ``f`` or ``/`` the filter (the language of ``dunning assign --where``; Enter applies
it, a bad term is named in place and the list stays), ``s`` the next sort key, ``S`` the
other direction, space selects the account (again: unselects), ``*`` selects every
account the filter matches (kept as the filter, not as ids: 100,000 are fine), ``a``
reassigns the selection (or the account under the cursor): to whom and why, what would
move, then the move in a worker with its progress. Enter opens the account's history.
PgDn / PgUp / down on the last row / up on the first turn the page; Home / End the
first and last page. The rules: queue/filters.py, account_list.py, assign_where.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input

from dunning.i18n import N_, _
from dunning.queue.account_desk import AccountDesk
from dunning.queue.account_list import SORTS, AccountRow, ListQuery
from dunning.tui import fmt
from dunning.tui.keys import translate_bindings
from dunning.tui.widgets.paged_list import PagedList
from dunning.tui.widgets.shown import Shown

if TYPE_CHECKING:
    from dunning.queue.session import WorkSession

SORT_NAMES = {
    "balance": N_("balance"),
    "due": N_("oldest due"),
    "contact": N_("last contact"),
    "name": N_("name"),
    "collector": N_("collector"),
    "ref": N_("reference"),
}
SORT_ORDER = ("balance", "due", "contact", "name", "collector", "ref")


class AccountListScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q", "close", N_("Back"), id="accounts.back"),
        Binding("f,slash", "filter", N_("Filter"), id="accounts.filter"),
        Binding("s", "sort", N_("Sort"), id="accounts.sort"),
        Binding("S", "reverse", N_("Reverse"), id="accounts.reverse", show=False),
        Binding("space", "toggle", N_("Select"), id="accounts.select"),
        Binding("asterisk", "select_all", N_("All"), id="accounts.all"),
        Binding("a", "reassign", N_("Reassign"), id="accounts.reassign"),
        Binding("enter", "open", N_("History"), id="accounts.open", show=False),
    ]

    def __init__(
        self, session: WorkSession, where: str = "", desk: AccountDesk | None = None
    ) -> None:
        super().__init__()
        translate_bindings(self)
        self.session = session
        self.desk = desk or AccountDesk(
            session.db_path, session.collector, session.settings, session.clock
        )
        self.where = where
        self.sort = "balance"
        self.desc: bool | None = None
        self.lq: ListQuery | None = None
        self.selected: set[int] = set()
        self.all_matching = False
        self.total: tuple[int, bool] | None = None
        self.moving = False
        self.pending: Text | None = None

    # -- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Shown(_("Accounts"), id="accounts-title")
        yield Input(
            value=self.where,
            placeholder=_("filter, e.g. lang=es bucket>=61 collector=dave (Enter applies)"),
            id="accounts-filter",
            compact=True,
        )
        yield Shown("", id="accounts-status")
        yield PagedList(self._fetch, self._cells, lambda r: r.customer_id, id="accounts-table")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(PagedList)
        table.add_column(" ", key="mark", width=1)
        for label in (_("Account"), _("Customer"), _("Collector"), _("State"), _("Lang"),
                      _("Where"), _("Owed"), _("Oldest due"), _("Last contact")):  # fmt: skip
            table.add_column(label)
        self._apply(self.where)

    def on_unmount(self) -> None:
        self.desk.close()

    # -- reading ---------------------------------------------------------------------------

    def _fetch(self, where: str, cursor: object) -> Any:
        assert self.lq is not None
        return self.desk.page(self.lq, where, cursor)

    def _cells(self, row: AccountRow) -> list[object]:
        loc = self.session.collector.locale
        mark = "●" if self.all_matching or row.customer_id in self.selected else ""
        place = row.country + (f"-{row.subdivision}" if row.subdivision else "")
        owner = row.collector or "—"
        if row.held_by and row.held_by != row.collector:
            owner += " (" + _("on the phone: {who}").format(who=row.held_by) + ")"
        elif row.held_by:
            owner += " ☎"
        state = row.state + (" !" if row.broken else "") + (" ⚑" if row.dispute else "")
        return [
            Text(mark, style="bold green"),
            fmt.safe(Text(row.ref)),
            fmt.safe(Text(row.name[:40])),
            fmt.safe(Text(owner)),
            state,
            row.language,
            place,
            Text(fmt.money(row.open_minor, row.currency, loc), justify="right"),
            fmt.day(row.oldest_due, loc) if row.oldest_due else "—",
            fmt.local_dt(row.last_contact_at, loc) if row.last_contact_at else _("never"),
        ]

    def _status(self, text: str | Text, style: str = "") -> None:
        self.query_one("#accounts-status", Shown).update(
            Text(text, style=style) if isinstance(text, str) else text
        )

    def _apply(self, text: str) -> None:
        """A new filter (or sort): parsed in queue/ (a refusal shown in place, the list as
        it was), then the first page and, after it, the count."""
        sort, desc = self.sort, self.desc

        def job() -> None:
            try:
                lq = self.desk.query(text, sort, desc)
            except Exception as exc:  # noqa: BLE001 - FilterError, RightsError: one line
                self.app.call_from_thread(self._status, str(exc), "red")
                return
            self.app.call_from_thread(self._start, lq)

        self.run_worker(job, thread=True, group="accounts", exit_on_error=False)

    def _start(self, lq: ListQuery) -> None:
        changed = self.lq is None or self.lq.where != lq.where or self.lq.params != lq.params
        self.lq = lq
        self.where = lq.filter.text if lq.filter is not None else ""
        if changed:
            self.selected.clear()
            self.all_matching = False
        self.total = None
        self._title()
        self._status("")
        table = self.query_one(PagedList)
        table.reload()
        table.focus()

        def count() -> None:
            try:
                n = self.desk.count(lq)
            except Exception:  # noqa: BLE001 - the count is a nicety
                return
            self.app.call_from_thread(self._counted, lq, n)

        self.run_worker(count, thread=True, group="accounts-count", exit_on_error=False)

    def _counted(self, lq: ListQuery, n: tuple[int, bool]) -> None:
        if lq is self.lq:
            self.total = n
            self._title()

    def _order_text(self, lq: ListQuery | None) -> str:
        """'sorted by balance ↓' (the list's header; the bulk move's "first N")."""
        arrow = "↓" if (lq.desc if lq is not None else True) else "↑"
        key = lq.sort if lq is not None else self.sort
        text = _("sorted by {key} {arrow}").format(key=_(SORT_NAMES[key]), arrow=arrow)
        if lq is not None and lq.currencies:  # balance asked: amounts of several currencies
            text += " " + _("(balance needs currency=…)")
        return text

    def _title(self) -> None:
        parts = [_("Accounts")]
        if self.total is not None:
            n, capped = self.total
            parts.append(
                _("{n}+ matching").format(n=f"{n:,}") if capped
                else _("{n} matching").format(n=f"{n:,}")
            )  # fmt: skip
        table = self.query_one(PagedList)
        if table.page is not None and table.page.rows:
            first = table.start + 1
            span = f"{first:,}-{first + len(table.page.rows) - 1:,}" if table.known else "…"
            parts.append(_("rows {span}").format(span=span))
        parts.append(self._order_text(self.lq))
        if self.all_matching:
            parts.append(_("all matching selected"))
        elif self.selected:
            parts.append(_("{n} selected").format(n=len(self.selected)))
        self.query_one("#accounts-title", Shown).update(" · ".join(parts))

    def on_paged_list_loaded(self, event: PagedList.Loaded) -> None:
        if event.error:
            self._status(event.error, "red")
            return
        self._title()
        if self.pending is not None:  # what was just done, once the list is read again
            self._status(self.pending)
            self.pending = None
        elif not event.table.rows_shown:
            self._status(_("no account matches this filter"), "dim")

    # -- keys ------------------------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._apply(event.value)

    def action_close(self) -> None:
        if self.focused is self.query_one("#accounts-filter", Input):
            self.query_one(PagedList).focus()
            return
        self.app.pop_screen()

    def action_filter(self) -> None:
        self.query_one("#accounts-filter", Input).focus()

    def action_sort(self) -> None:
        shown = self.lq.sort if self.lq is not None else self.sort  # balance may show as due
        self.sort = SORT_ORDER[(SORT_ORDER.index(shown) + 1) % len(SORT_ORDER)]
        self.desc = None
        self._apply(self.where)

    def action_reverse(self) -> None:
        current = self.lq.desc if self.lq is not None else not SORTS[self.sort].asc
        self.desc = not current
        self._apply(self.where)

    def action_toggle(self) -> None:
        table = self.query_one(PagedList)
        row = table.current()
        if row is None:
            return
        if self.all_matching:  # from "all" to one by one: the page's others stay picked
            self.all_matching = False
            self.selected = {r.customer_id for r in table.rows_shown}
        self.selected ^= {row.customer_id}
        table.refill()
        self._title()
        table.action_down()

    def action_select_all(self) -> None:
        self.all_matching = not self.all_matching
        self.selected.clear()
        self.query_one(PagedList).refill()
        self._title()

    def on_data_table_row_selected(self, event: PagedList.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        row = self.query_one(PagedList).current()
        if row is None:
            return
        from dunning.tui.screens.history import HistoryScreen

        self.app.push_screen(HistoryScreen(self.session, row.customer_id, row.name, row.currency))

    # -- the bulk move ---------------------------------------------------------------------

    def action_reassign(self) -> None:
        table = self.query_one(PagedList)
        lq = self.lq
        if lq is None or self.moving:
            return
        ids: list[int] | None = None
        if not self.all_matching:
            ids = sorted(self.selected)
            if not ids:
                row = table.current()
                if row is None:
                    return
                ids = [row.customer_id]
        if self.all_matching:
            what = _("every account matching {where}").format(where=self.where or "*")
        else:
            what = _("{n} selected account(s)").format(n=len(ids or ()))
        from dunning.tui.dialogs.decision import DecisionDialog

        title = _("Reassign {what}").format(what=what)

        def chosen(result: tuple[str | None, str] | None) -> None:
            if result is None or result[0] is None:
                self._status(_("Cancelled: nothing changed"), "dim")
                return
            self._confirm(lq, ids, result[0], result[1])

        def ask() -> None:
            people = self.desk.collectors()
            self.app.call_from_thread(self.app.push_screen, DecisionDialog(title, people), chosen)

        self.run_worker(ask, thread=True, group="accounts", exit_on_error=False)

    def _confirm(self, lq: ListQuery, ids: list[int] | None, to: str, reason: str) -> None:
        """What would move (read in a worker), then the confirmation."""
        self._status(_("counting what would move…"), "dim")

        def job() -> None:
            try:
                if ids is None:
                    pv = self.desk.preview(lq, to)
                    lines = [_("{n} account(s) would move to {name}").format(
                        n=f"{pv.count:,}", name=to)]  # fmt: skip
                    if pv.already:
                        lines.append(_("{n} already assigned to {name}").format(
                            n=f"{pv.already:,}", name=to))  # fmt: skip
                    if pv.by_collector:
                        lines.append(_("from: {owners}").format(owners=", ".join(
                            f"{o or _('nobody')} {n:,}" for o, n in pv.by_collector)))  # fmt: skip
                    if pv.by_bucket:
                        lines.append(_("by bucket: {buckets}").format(
                            buckets=", ".join(f"{b} {n:,}" for b, n in pv.by_bucket)))  # fmt: skip
                    unspoken = ", ".join(f"{lang} {n:,}" for lang, n in pv.unspoken.items())
                    if unspoken:
                        lines.append(_("{name} does not speak: {langs}").format(
                            name=to, langs=unspoken))  # fmt: skip
                    count = pv.count
                else:
                    lines = [_("{n} account(s) would move to {name}").format(
                        n=f"{len(ids):,}", name=to)]  # fmt: skip
                    unspoken, count = "", len(ids)
            except Exception as exc:  # noqa: BLE001 - a refusal: one line
                self.app.call_from_thread(self._status, str(exc), "red")
                return
            self.app.call_from_thread(self._ask_confirm, lq, ids, to, reason, lines,
                                      bool(unspoken), count)  # fmt: skip

        self.run_worker(job, thread=True, group="accounts", exit_on_error=False)

    def _ask_confirm(self, lq: ListQuery, ids: list[int] | None, to: str, reason: str,
                     lines: list[str], unspoken: bool, count: int) -> None:  # fmt: skip
        from dunning.tui.dialogs.bulk_move import ConfirmMoveDialog, MoveChoice

        self._status("")
        if not count:
            self._status(_("nothing to move: every matching account is {name}'s already")
                         .format(name=to), "dim")  # fmt: skip
            return

        def go(choice: MoveChoice | None) -> None:
            if choice is None:
                self._status(_("Cancelled: nothing changed"), "dim")
                return
            self._move(lq, ids, to, reason, choice.anyway, choice.limit or count, choice.limit)

        order = self._order_text(lq)
        self.app.push_screen(ConfirmMoveDialog(_("Reassign to {name}?").format(name=to), lines,
                                               unspoken, None if ids else count, order),
                             go)  # fmt: skip

    def _move(self, lq: ListQuery, ids: list[int] | None, to: str, reason: str, anyway: bool,
              count: int, limit: int | None = None) -> None:  # fmt: skip
        self.moving = True
        self._status(_("moving {n} account(s) to {name}…").format(n=f"{count:,}", name=to))

        def progress(done: int) -> None:
            self.app.call_from_thread(self._status, _("moved {done} of {n}…").format(
                done=f"{done:,}", n=f"{count:,}"))  # fmt: skip

        def job() -> None:
            try:
                if ids is None:
                    moved = self.desk.move_where(lq, to, reason, any_language=anyway,
                                                 progress=progress, limit=limit)  # fmt: skip
                else:
                    moved = self.desk.move_ids(ids, to, reason, any_language=anyway)
            except Exception as exc:  # noqa: BLE001 - a refusal: one line, nothing moved
                self.app.call_from_thread(self._moved, None, str(exc), to)
                return
            self.app.call_from_thread(self._moved, moved, "", to)

        self.run_worker(job, thread=True, group="accounts-move", exit_on_error=False)

    def _moved(self, moved: int | None, error: str, to: str) -> None:
        self.moving = False
        if moved is None:
            self._status(error, "red")
            return
        self.selected.clear()
        self.all_matching = False
        assert self.lq is not None
        self._start(self.lq)  # the list and its count read again
        self.pending = Text(
            _("{n} account(s) reassigned to {name}").format(n=f"{moved:,}", name=to),
            style="green",
        )
        self._status(self.pending)
