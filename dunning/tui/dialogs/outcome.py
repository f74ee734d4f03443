"""Small dialogs for the outcomes that need data. Each returns an OutcomeInput, or None
when cancelled. Bad input shows a message naming the field and value; nothing is saved."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, RadioButton, RadioSet, SelectionList, Static

from dunning.clock import zone_label
from dunning.i18n import N_, _
from dunning.money import parse_amount
from dunning.queue import routing
from dunning.queue.account_view import AccountView
from dunning.queue.collectors import Collector
from dunning.queue.outcomes import (
    DEPARTMENTS,
    DISPUTE_REASONS,
    ESCALATIONS,
    OutcomeInput,
    check_input,
)
from dunning.queue.times import both_clocks, check_outcome_times, customer_zone, read_time
from dunning.tui import fmt
from dunning.tui.dialogs.base import Choices, Dialog, radio_value
from dunning.tui.widgets.shown import Shown, ShownLabel
from dunning.when import parse_day


@dataclass
class Field:
    key: str
    label: str
    kind: str  # text, amount, date, past_date, when, choice, invoices, phone
    default: str = ""
    placeholder: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    required: bool = True
    shown_for: tuple[str, ...] = ()  # shown only while the dialog's choice is one of these


Builder = Callable[[dict[str, object]], OutcomeInput]


class OutcomeDialog(Dialog[OutcomeInput | None]):
    def __init__(
        self,
        title: str,
        fields: list[Field],
        build: Builder,
        view: AccountView,
        me: Collector,
        now: datetime,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.build = build
        self.view = view
        self.me = me
        self.now = now

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Shown(self.title_text, id="dialog-title")
            row: list[Field] = []
            for f in self.fields:
                if f.kind == "choice":
                    row.append(f)
                    continue
                if f.shown_for:
                    with Vertical(id=f"for-{f.key}", classes="shown-for"):
                        yield from self._field(f)
                    continue
                yield from self._field(f)
            if row:
                with Horizontal(id="choices"):
                    for f in row:
                        with Vertical(classes="choice"):
                            yield from self._field(f)
            yield ShownLabel("", id="dialog-error")
            yield Shown(_("Enter saves · Esc cancels · Tab next field"), id="dialog-hint")

    def _field(self, f: Field) -> ComposeResult:
        if f.kind not in ("choice", "invoices", "phone"):
            with Horizontal(classes="field-row when-row" if f.kind == "when" else "field-row"):
                yield Label(_(f.label), classes="field-label")
                yield Input(
                    value=f.default, placeholder=_(f.placeholder), id=f"f-{f.key}", compact=True
                )
            if f.kind == "when":  # both clocks, live as the time is typed
                yield Shown(self._clocks(f.default), id=f"clocks-{f.key}", classes="clocks")
            return
        yield Label(_(f.label), classes="field-label")
        if f.kind in ("choice", "phone"):  # one of them: radio buttons
            with Choices(id=f"f-{f.key}"):
                for n, (value, label) in enumerate(f.choices):
                    yield RadioButton(  # a phone's contact is data: literal, visible
                        fmt.safe(_(label) if f.kind == "choice" else label),
                        value=(value == f.default or (not f.default and n == 0)),
                        name=value,
                    )
        else:  # invoices: any number of them
            sel: SelectionList[str] = SelectionList(id=f"f-{f.key}")
            for value, label in f.choices:
                sel.add_option((fmt.safe(label), value, value == f.default))
            yield sel

    def on_mount(self) -> None:
        super().on_mount()
        first = self.fields[0] if self.fields else None
        if first is not None and first.kind == "choice":  # the choice is asked first (e)
            self.set_focus(self.query_one(f"#f-{first.key}"))
        self._show_for()

    def on_radio_set_changed(self, _event: RadioSet.Changed) -> None:
        self._show_for()

    def _show_for(self) -> None:
        """A choice's own fields (e: a settlement's amount, a write-off's invoices)."""
        choice = next((f for f in self.fields if f.kind == "choice"), None)
        if choice is None or not any(f.shown_for for f in self.fields):
            return
        value = radio_value(self.query_one(f"#f-{choice.key}", RadioSet))
        for f in self.fields:
            if f.shown_for:
                self.query_one(f"#for-{f.key}").display = value in f.shown_for

    def on_input_changed(self, event: Input.Changed) -> None:
        key = (event.input.id or "").removeprefix("f-")
        if any(f.key == key and f.kind == "when" for f in self.fields):
            self.query_one(f"#clocks-{key}", Static).update(self._clocks(event.value))

    @property
    def customer_zone(self) -> tzinfo | None:
        return customer_zone(self.view.zones)

    def _read_time(self, text: str) -> datetime:
        """A time for this account: the customer's time; the collector's with ' me'."""
        return read_time(text, self.now, customer=self.customer_zone, collector=self.me.zone).at

    def _clocks(self, text: str) -> str:
        """'Tue 24 Nov 9:00 New York = 15:00 for you', or which clock a time is read on."""
        theirs = self.customer_zone
        if text.strip():
            try:
                at = self._read_time(text)
            except (ValueError, OverflowError):
                pass
            else:
                return both_clocks(
                    at, customer=theirs, collector=self.me.zone, locale=self.me.locale
                )
        if theirs is None:
            return _("Your time (the customer's time zone is unknown)")
        return _("The customer's time ({zone}); end with “me” for yours").format(
            zone=zone_label(theirs)
        )

    def _value(self, f: Field) -> object:
        widget = self.query_one(f"#f-{f.key}")
        if isinstance(widget, RadioSet):
            return radio_value(widget)
        if isinstance(widget, SelectionList):
            return list(widget.selected)
        assert isinstance(widget, Input)
        text = widget.value.strip()
        if not text:
            if f.required:
                raise ValueError(_("{label} is required").format(label=_(f.label)))
            return None
        try:
            if f.kind == "amount":
                return parse_amount(text, self.view.currency, self.me.locale)
            if f.kind == "date":  # on the collector's calendar
                return parse_day(text, self.now.astimezone(self.me.zone).date())
            if f.kind == "past_date":  # "paid on mon": the last Monday
                return parse_day(text, self.now.astimezone(self.me.zone).date(), past=True)
            if f.kind == "when":  # a time for the account: the customer's
                return self._read_time(text)
        except (ValueError, OverflowError) as exc:
            raise ValueError(_("{label}: {error}").format(label=_(f.label), error=exc)) from exc
        return text

    def submit(self) -> None:
        values = {f.key: self._value(f) for f in self.fields}
        for f in self.fields:
            if f.kind in ("invoices", "phone") and f.required and not values[f.key]:
                raise ValueError(_("choose at least one: {label}").format(label=_(f.label)))
        result = self.build(values)
        check_input(result, self.now, self.me.zone)
        self._check_window(result)
        self.close(result)

    def _check_window(self, result: OutcomeInput) -> None:
        """A callback or next call outside the calling window is refused here, as
        log_outcome would, with when it opens."""
        check_outcome_times(
            result.outcome,
            result.callback_at,
            result.next_action_at,
            rules=self.view.window_rules,
            country=self.view.country,
            subdivision=self.view.subdivision,
            zones=self.view.zones,
            collector=self.me.zone,
            locale=self.me.locale,
            jurisdictions=self.view.jurisdictions,
        )


def _next_field(default_hint: str) -> Field:
    return Field(
        "next",
        N_("Next action (blank = default)"),
        "when",
        "",
        placeholder=default_hint,
        required=False,
    )


def _next(values: dict[str, object]) -> datetime | None:
    v = values.get("next")
    return v if isinstance(v, datetime) else None


def promise_dialog(view: AccountView, me: Collector, now: datetime) -> OutcomeDialog:
    owed = view.owed.due_now  # past due less credits (dunning/owed.py), as the pane says
    default = fmt.money(owed, view.currency, me.locale) if owed else ""
    fields = [
        Field("amount", N_("Amount"), "amount", _strip_symbol(default)),
        Field("date", N_("Pay by"), "date", "", placeholder=N_("2026-12-01, +7d, fri")),
        Field("grace", N_("Grace days"), "text", "2"),
    ]

    def build(v: dict[str, object]) -> OutcomeInput:
        grace = str(v["grace"])
        if not grace.isdigit():
            raise ValueError(_("Grace days: {value!r} is not a number").format(value=grace))
        return OutcomeInput(
            "promise_to_pay",
            amount_minor=int(v["amount"]),  # type: ignore[call-overload]
            on_date=v["date"],
            grace_days=int(grace),
        )  # type: ignore[arg-type]

    return OutcomeDialog(_("Promise to pay"), fields, build, view, me, now)


def _strip_symbol(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit() or ch in ".,  \u202f-").strip()


def paid_dialog(view: AccountView, me: Collector, now: datetime) -> OutcomeDialog:
    fields = [
        Field("amount", N_("Amount paid"), "amount"),
        Field("date", N_("Paid on"), "past_date", _("today")),
        Field(
            "reference", N_("Reference"), "text", placeholder=N_("cheque, transfer"), required=False
        ),
    ]

    def build(v: dict[str, object]) -> OutcomeInput:
        return OutcomeInput(
            "paid",
            amount_minor=int(v["amount"]),  # type: ignore[call-overload]
            on_date=v["date"],
            reference=str(v["reference"] or ""),
        )  # type: ignore[arg-type]

    return OutcomeDialog(_("Customer says it is paid"), fields, build, view, me, now)


def callback_dialog(view: AccountView, me: Collector, now: datetime) -> OutcomeDialog:
    fields = [Field("at", N_("Call back at"), "when", placeholder=N_("tomorrow 9:00, 14:30, +2h"))]

    def build(v: dict[str, object]) -> OutcomeInput:
        return OutcomeInput("callback", callback_at=v["at"])  # type: ignore[arg-type]

    return OutcomeDialog(_("Callback"), fields, build, view, me, now)


def _owed_invoices(view: AccountView, me: Collector) -> list[tuple[str, str]]:
    """The open, undisputed invoices with something owed: (id, number amount days)."""
    return [
        (
            str(i.id),
            f"{i.number}  {fmt.money(i.open_minor, view.currency, me.locale)}  "
            + _("{days} days").format(days=i.days_past_due),
        )
        for i in view.invoices
        if i.open_minor > 0 and not i.disputed
    ]


def dispute_dialog(view: AccountView, me: Collector, now: datetime) -> OutcomeDialog:
    choices = _owed_invoices(view, me)
    fields = [
        Field("invoices", N_("Invoices disputed (space to tick)"), "invoices", choices=choices),
        Field(
            "reason",
            N_("Reason"),
            "choice",
            "pricing",
            choices=[(r, fmt.REASON_LABELS.get(r, r)) for r in DISPUTE_REASONS],
        ),
        Field(
            "department",
            N_("Department"),
            "choice",
            "billing",
            choices=[(d, fmt.DEPARTMENT_LABELS.get(d, d)) for d in DEPARTMENTS],
        ),
    ]

    def build(v: dict[str, object]) -> OutcomeInput:
        ids = [int(x) for x in v["invoices"]]  # type: ignore[attr-defined]
        return OutcomeInput(
            "dispute", invoice_ids=ids, reason=str(v["reason"]), department=str(v["department"])
        )

    return OutcomeDialog(_("Dispute"), fields, build, view, me, now)


def escalate_dialog(view: AccountView, me: Collector, now: datetime) -> OutcomeDialog:
    fields = [
        Field(
            "to",
            N_("Escalate to"),
            "choice",
            "lead_review",
            choices=[(e, fmt.ESCALATION_LABELS.get(e, e)) for e in ESCALATIONS],
        ),
        Field("amount", N_("Settlement amount"), "amount", required=False,
              shown_for=("settlement",)),
        Field("date", N_("Settlement pay by"), "date", placeholder=N_("+14d"), required=False,
              shown_for=("settlement",)),
        Field(
            "invoices", N_("Only these invoices (space ticks; none: the whole account)"),
            "invoices", choices=_owed_invoices(view, me), required=False,
            shown_for=("writeoff",),
        ),
    ]  # fmt: skip

    def build(v: dict[str, object]) -> OutcomeInput:
        to = str(v["to"])
        ids = [int(x) for x in v["invoices"]] if to == "writeoff" else []  # type: ignore[attr-defined]
        if to != "settlement":
            return OutcomeInput("escalated", escalation=to, invoice_ids=ids)
        if v["amount"] is None or v["date"] is None:
            raise ValueError(_("a settlement needs the amount agreed and the date it is paid by"))
        return OutcomeInput(
            "escalated",
            escalation=to,
            amount_minor=int(v["amount"]),
            on_date=v["date"],  # type: ignore[call-overload,arg-type]
        )

    return OutcomeDialog(_("Escalate"), fields, build, view, me, now)


def plan_dialog(view: AccountView, me: Collector, now: datetime) -> OutcomeDialog:
    """A payment plan: N instalments of an amount, one every M months from a first date.
    Outside the policy ([approvals]) it waits for a lead (queue/approvals.py)."""
    fields = [
        Field("count", N_("Instalments"), "text", "3"),
        Field("amount", N_("Amount each"), "amount"),
        Field("first", N_("First payment"), "date", placeholder=N_("2026-12-01, +7d, fri")),
        Field("every", N_("Every (months)"), "text", "1"),
    ]

    def build(v: dict[str, object]) -> OutcomeInput:
        from dunning.queue.approvals import add_months

        count, every = str(v["count"]), str(v["every"])
        if not count.isdigit() or not 2 <= int(count) <= 60:
            raise ValueError(_("Instalments: {value!r} is not a number from 2 to 60").format(
                value=count))  # fmt: skip
        if not every.isdigit() or not 1 <= int(every) <= 12:
            raise ValueError(_("Every (months): {value!r} is not a number from 1 to 12").format(
                value=every))  # fmt: skip
        first = v["first"]
        assert isinstance(first, date)
        amount = int(v["amount"])  # type: ignore[call-overload]
        plan = [(amount, add_months(first, k * int(every))) for k in range(int(count))]
        return OutcomeInput("payment_plan", instalments=plan)

    return OutcomeDialog(_("Payment plan"), fields, build, view, me, now)


def wrong_number_dialog(view: AccountView, me: Collector, now: datetime) -> OutcomeDialog:
    usable = view.usable_phones()
    choices = [(str(p.id), f"{fmt.dial(p.e164, me.dial_region)}  {p.contact}") for p in usable]
    fields = [
        Field(
            "phone",
            N_("Which number is wrong"),
            "phone",
            default=choices[0][0] if choices else "",
            choices=choices,
        )
    ]

    def build(v: dict[str, object]) -> OutcomeInput:
        picked = str(v["phone"] or "")
        if not picked:
            raise ValueError(_("choose the wrong number"))
        return OutcomeInput("wrong_number", phone_id=int(picked))

    return OutcomeDialog(_("Wrong number"), fields, build, view, me, now)


def skip_dialog(view: AccountView, me: Collector, now: datetime) -> OutcomeDialog:
    fields = [Field("reason", N_("Why skip it"), "text", placeholder=_("e.g. customer closed"))]

    def build(v: dict[str, object]) -> OutcomeInput:
        return OutcomeInput("skip", reason=str(v["reason"]))

    return OutcomeDialog(_("Skip this account"), fields, build, view, me, now)


def next_action_dialog(code: str, view: AccountView, me: Collector, now: datetime) -> OutcomeDialog:
    """Shift+key: the same outcome with a next action chosen by the collector."""
    fields = [_next_field(_("e.g. tomorrow 9:00, +2h, fri 10:00"))]

    def build(v: dict[str, object]) -> OutcomeInput:
        return OutcomeInput(code, next_action_at=_next(v))

    label = _(fmt.OUTCOME_LABELS.get(code, code))
    return OutcomeDialog(f"{label}: {_('next action')}", fields, build, view, me, now)


DIALOGS: dict[str, Callable[[AccountView, Collector, datetime], OutcomeDialog]] = {
    "promise_to_pay": promise_dialog,
    "paid": paid_dialog,
    "callback": callback_dialog,
    "dispute": dispute_dialog,
    "escalated": escalate_dialog,
    "payment_plan": plan_dialog,
    "wrong_number": wrong_number_dialog,
    "skip": skip_dialog,
}


class ReassignDialog(Dialog[tuple[str, str] | None]):
    """A lead gives the account on screen to another collector (who speaks the language)."""

    def __init__(
        self, view: AccountView, collectors: list[Collector], *, routed: bool = False
    ) -> None:
        super().__init__()
        self.view = view
        others = [c for c in collectors if c.username != view.assigned_to]
        # routing by language (queue/routing.py): who speaks it first, the others after,
        # marked; with routing on, choosing one of them is refused here and in queue/
        speaks = routing.who_speaks(others, view.language)
        self.collectors = speaks + [c for c in others if c not in speaks]
        self.speakers = {c.username for c in speaks}
        self.routed = routed

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Shown(_("Reassign {name}").format(name=self.view.name), id="dialog-title")
            yield Label(_("To"), classes="field-label")
            with Choices(id="f-to"):
                lang = routing.language_of(self.view.language)
                for n, c in enumerate(self.collectors):
                    if c.username in self.speakers:
                        mark = " ✓"
                    else:
                        mark = " ✗ " + _("does not speak {lang}").format(lang=lang)
                    yield RadioButton(
                        fmt.safe(f"{c.display_name} ({c.username}) {','.join(c.languages)}{mark}"),
                        value=n == 0,
                        name=c.username,
                        classes="" if c.username in self.speakers else "not-speaker",
                    )
            with Horizontal(classes="field-row"):
                yield Label(_("Why"), classes="field-label")
                yield Input(placeholder=_("e.g. speaks French"), id="f-reason", compact=True)
            yield ShownLabel("", id="dialog-error")
            yield Shown(_("Enter saves · Esc cancels · Tab next field"), id="dialog-hint")

    def submit(self) -> None:
        to = radio_value(self.query_one("#f-to", RadioSet))
        reason = self.query_one("#f-reason", Input).value.strip()
        if not to:
            raise ValueError(_("choose a collector"))
        if self.routed and to not in self.speakers:
            chosen = next(c for c in self.collectors if c.username == to)
            raise ValueError(routing.refusal(chosen, self.view.language))
        self.close((to, reason))
