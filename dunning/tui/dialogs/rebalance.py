"""The lead's rebalance dialog (`M` on the work screen): whose accounts (blank: the whole
team's), to whom (blank: the team), by count or balance, until when (a loan), why. Enter
shows the preview (per collector what they would get, and what no one can take, by
language); Enter again, with nothing changed, moves it in a worker and closes with how
many moved. Any change to a field asks for a new preview first. The rules (rights,
routing by language, the chunked move, loans) are in queue/rebalance.py."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, RadioButton, RadioSet

from dunning.i18n import _
from dunning.queue.rebalance import BY, BY_NAMES, Plan
from dunning.queue.rebalance_desk import RebalanceDesk
from dunning.tui import fmt
from dunning.tui.dialogs.base import Choices, Dialog, radio_value
from dunning.tui.widgets.shown import Shown

Fields = tuple[str, tuple[str, ...], str, str, str]


def preview_text(plan: Plan, locale: str) -> Text:
    """The preview table as aligned text (names made safe: dunning/textsafe.py)."""
    out = Text()
    out.append(f"{_('collector'):<14} {_('accounts'):>9}  {_('balance')}\n", style="bold")
    for s in plan.shares:
        money = ", ".join(
            fmt.money(v, k, locale) for k, v in sorted(s.open_minor.items())
        ) or "-"  # fmt: skip
        out.append_text(fmt.safe(Text(f"{s.collector.username:<14} {s.accounts:>9,}  {money}\n")))
    for lang, n in sorted(plan.left.items(), key=lambda x: -x[1]):
        out.append(
            _("{n:,} account(s) in {lang} stay: no target speaks it ({money})").format(
                n=n, lang=lang or "?",
                money=", ".join(fmt.money(v, k, locale)
                                for k, v in sorted(plan.left_minor.get(lang, {}).items())),
            ) + "\n",
            style="yellow",
        )  # fmt: skip
    return out


class RebalanceDialog(Dialog[int | None]):
    def __init__(self, desk: RebalanceDesk, source: str = "") -> None:
        super().__init__()
        self.desk = desk
        self.source = source
        self.plan: Plan | None = None
        self.planned: Fields | None = None
        self.working = False

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="rebalance-dialog"):
            yield Shown(_("Rebalance accounts"), id="dialog-title")
            with Horizontal(classes="field-row"):
                yield Label(_("From"), classes="field-label")
                yield Input(self.source, placeholder=_("a collector (blank: the whole team)"),
                            id="f-from", compact=True)  # fmt: skip
            with Horizontal(classes="field-row"):
                yield Label(_("To"), classes="field-label")
                yield Input(placeholder=_("a,b,c (blank: the team)"), id="f-to", compact=True)
            yield Label(_("By"), classes="field-label")
            with Choices(id="f-by"):
                for n, by in enumerate(BY):
                    yield RadioButton(_(BY_NAMES[by]), value=n == 0, name=by)
            with Horizontal(classes="field-row"):
                yield Label(_("Until"), classes="field-label")
                yield Input(placeholder=_("a date: lent, then given back (blank: for good)"),
                            id="f-until", compact=True)  # fmt: skip
            with Horizontal(classes="field-row"):
                yield Label(_("Why"), classes="field-label")
                yield Input(placeholder=_("e.g. dave is off sick"), id="f-reason", compact=True)
            yield Shown("", id="rebalance-preview")
            yield Label("", id="dialog-error")
            yield Shown(_("Enter shows the preview · Enter again moves · Esc cancels"),
                        id="dialog-hint")  # fmt: skip

    def on_mount(self) -> None:
        super().on_mount()
        self.set_focus(self.query_one("#f-from", Input))

    def _fields(self) -> Fields:
        def val(name: str) -> str:
            return self.query_one(f"#{name}", Input).value.strip()

        targets = tuple(t.strip() for t in val("f-to").split(",") if t.strip())
        by = radio_value(self.query_one("#f-by", RadioSet)) or "count"
        return (val("f-from"), targets, by, val("f-until"), val("f-reason"))

    def submit(self) -> None:
        if self.working:
            return
        fields = self._fields()
        self.show_error("")
        self.working = True
        if self.plan is not None and fields == self.planned:
            plan = self.plan
            self.query_one("#dialog-hint", Shown).update(
                _("moving {n:,} account(s)…").format(n=plan.moving)
            )
            self.run_worker(lambda: self._commit(plan), thread=True, exit_on_error=False)
        else:
            self.run_worker(lambda: self._preview(fields), thread=True, exit_on_error=False)

    def _preview(self, fields: Fields) -> None:
        source, targets, by, until, reason = fields
        try:
            plan = self.desk.plan(source=source, targets=list(targets), by=by, until=until,
                                  reason=reason)  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - a refusal or bad value: shown, no crash
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.app.call_from_thread(self._planned, plan, fields)

    def _planned(self, plan: Plan, fields: Fields) -> None:
        self.working = False
        self.plan, self.planned = plan, fields
        self.query_one("#rebalance-preview", Shown).update(
            preview_text(plan, self.desk.collector.locale)
        )
        hint = (
            _("Enter moves {n:,} account(s) · Esc cancels").format(n=plan.moving)
            if plan.moving
            else _("nothing to move · Esc closes")
        )
        self.query_one("#dialog-hint", Shown).update(hint)

    def _commit(self, plan: Plan) -> None:
        if not plan.moving:
            self.app.call_from_thread(self.close, 0)
            return
        try:
            moved = self.desk.commit(plan)
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.app.call_from_thread(self.close, moved)

    def _failed(self, message: str) -> None:
        self.working = False
        self.plan = self.planned = None
        self.show_error(message)
