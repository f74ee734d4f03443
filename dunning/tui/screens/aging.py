"""`A`: the team's aging by collector and currency, as of today (the same numbers as
`dunning report aging --by collector`). A collector, who may not run reports, sees the
aging of their own accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from dunning.aging import BUCKETS
from dunning.i18n import N_, _
from dunning.tui import fmt
from dunning.tui.keys import translate_bindings
from dunning.tui.widgets.shown import Shown

if TYPE_CHECKING:
    from dunning.db.reports import AgingReport, AgingRow
    from dunning.queue.session import WorkSession


class AgingScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,q,A", "app.pop_screen", N_("Back"), id="aging.back"),
        Binding("j", "cursor_down", show=False),
        Binding("k", "cursor_up", show=False),
    ]

    def __init__(self, session: WorkSession) -> None:
        super().__init__()
        translate_bindings(self)
        self.session = session

    def compose(self) -> ComposeResult:
        title = (
            _("Aging by collector, as of today (open amounts)")
            if self.session.may("report")
            else _("Aging of your accounts, as of today (open amounts)")
        )
        yield Shown(title, id="aging-title")
        yield DataTable(id="aging-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.loading = True
        session = self.session

        def job() -> None:
            try:
                report = session.aging_by_collector()
            except Exception as exc:  # noqa: BLE001 - shown, never a crash
                self.app.call_from_thread(self.notify, str(exc), severity="error")
                return
            self.app.call_from_thread(self._show, report)

        self.run_worker(job, thread=True, group="aging", exit_on_error=False)

    def _show(self, report: AgingReport) -> None:
        loc = self.session.collector.locale
        table = self.query_one(DataTable)
        table.loading = False
        table.add_columns(
            _("Collector"), _("Accounts"),
            *(fmt.label(fmt.BUCKET_LABELS, b) for b in BUCKETS),
            _("Credits"), _("Net"), _("Disputed"), _("Total"),
        )  # fmt: skip

        def cells(row: AgingRow, bold: bool) -> list[Text]:
            style = "bold" if bold else ""
            # dunning/owed.py: net = buckets + credits, total = net + disputed
            amounts = (*row.buckets, row.credits, row.net, row.disputed, row.total)
            return [
                fmt.safe(Text(row.key, style=style)),  # a collector's name: data
                Text(str(row.customers), justify="right"),
                *(
                    Text(
                        fmt.money(v, row.currency, loc) if v else "·", style=style, justify="right"
                    )
                    for v in amounts
                ),
            ]

        for row in report.rows:
            table.add_row(*cells(row, False))
        for row in report.totals:
            table.add_row(*cells(row, True))
        table.focus()
