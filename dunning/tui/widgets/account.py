"""The account on screen: Static widgets only, so the next account draws on the fast path
(no DataTable to clear and refill)."""

from __future__ import annotations

from datetime import datetime

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from dunning.aging import BUCKETS
from dunning.i18n import N_, _
from dunning.queue.account_view import AccountView, TimelineEntry
from dunning.queue.collectors import Collector
from dunning.tui import fmt
from dunning.tui.keys import translate_bindings

MAX_INVOICES = 12


class AccountPane(VerticalScroll, can_focus=True):
    """Why next, whom to call, what is owed, invoices, promises and disputes."""

    BINDINGS = [
        Binding("j,down", "scroll_down", N_("Down"), show=False),
        Binding("k,up", "scroll_up", N_("Up"), show=False),
        Binding("g,home", "scroll_home", N_("Top"), show=False),
        Binding("G,end", "scroll_end", N_("Bottom"), show=False),
    ]

    _owed: tuple[Text, dict[str, int], str, str] | None = None
    _why: tuple[list[str], str] | None = None

    def on_mount(self) -> None:
        translate_bindings(self)

    # A line per key, at once: Textual's scroll_down waits for a refresh before it moves,
    # so "jjj" arriving in one read scrolled one line, not three.
    def action_scroll_down(self) -> None:
        self.scroll_to(y=self.scroll_target_y + 1, animate=False, immediate=True)

    def action_scroll_up(self) -> None:
        self.scroll_to(y=self.scroll_target_y - 1, animate=False, immediate=True)

    def on_resize(self) -> None:
        # After the layout that resized the pane: a layout asked for while the resize is
        # being handled is lost (Textual 8), and the lines would keep the old height.
        self.call_after_refresh(self._refit)

    def _refit(self) -> None:
        if self._owed is not None:
            self._draw_aging()
        if self._why is not None:
            self._draw_why()

    def _text_width(self) -> int:
        """The cells a line may take: the pane minus padding and the scrollbar gutter
        (reserved by ``scrollbar-gutter: stable``, so it does not change with the scrollbar)."""
        return self.scrollable_content_region.width

    def _draw_why(self) -> None:
        """The reasons, a line broken between two reasons, never inside one: Rich would
        break "2 624,44 $" at its no-break space (it wraps at every Unicode space)."""
        assert self._why is not None
        parts, tail = self._why
        head = _("Why next: ")
        why = Text(head, style="bold")
        why.append(fit_items(parts, self._text_width(), cell_len(head)) or "—")
        if tail:
            why.append(tail, style="cyan")
        self.query_one("#why", Static).update(why)

    def show_message(self, text: Text) -> None:
        """No account: only a message (the empty queue)."""
        self._owed = self._why = None
        self.query_one("#title", Static).update(text)
        for wid in ("#why", "#call", "#aging", "#invoices", "#promises", "#history-inline"):
            self.query_one(wid, Static).update("")

    def _draw_aging(self) -> None:
        """The owed line, then the buckets laid out for the pane's width."""
        assert self._owed is not None
        head, aging, cur, loc = self._owed
        text = head.copy()
        text.append_text(aging_lines(aging, cur, loc, self._text_width()))
        self.query_one("#aging", Static).update(text)

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        yield Static(id="why")
        yield Static(id="call")
        yield Static(id="aging")
        yield Static(id="invoices")
        yield Static(id="promises")
        yield Static(id="history-inline", classes="history")

    def show(self, view: AccountView, me: Collector, now: datetime) -> None:
        loc = me.locale
        cur = view.currency
        title = Text()
        title.append(view.name, style="bold")
        title.append(f"  {view.external_ref}", style="dim")
        region = f"{view.country}-{view.subdivision}" if view.subdivision else view.country
        title.append(f"\n{region} · {view.portfolio} · {view.language} · {cur}")
        title.append(f" · {_(fmt.STATE_LABELS.get(view.state, view.state))}")
        if view.status != "active":
            title.append(
                f" · {fmt.label(fmt.CUSTOMER_STATUS_LABELS, view.status)}", style="bold red"
            )
        if view.assigned_to and view.assigned_to != me.username:
            title.append(f" · {_('assigned to')} {view.assigned_to}", style="yellow")
        self.query_one("#title", Static).update(title)

        parts = [
            f"{fmt.reason_label(code, params, loc)} (+{points:g})"
            for code, points, params in view.reasons
        ]
        tail = ""
        if view.next_action not in ("call",):
            action = _(fmt.NEXT_ACTION_LABELS.get(view.next_action, view.next_action))
            tail = f"\n{_('Next action')}: {action} {fmt.local_dt(view.next_action_at, loc)}"
        self._why = (parts, tail)
        self._draw_why()

        call = Text(_("Call "), style="bold")
        call.append(fmt.local_times(view.zones, now, loc))
        if not view.callable.ok:
            call.append(f"  ⛔ {_('not callable now')}: {view.callable.detail}", style="bold red")
        elif view.callable.code == "after_hours":
            call.append(f"  {_('outside business hours')}", style="yellow")
        first = next((p.id for p in view.phones if p.usable), None)
        for p in view.phones:
            # ▸ the number an outcome is logged against unless the collector picks another
            call.append("\n ▸ " if p.id == first else "\n   ", style="bold")
            style = "strike dim" if not p.usable else ("bold" if p.id == first else "")
            call.append(fmt.dial(p.e164, me.dial_region), style=style)
            call.append(f"  {fmt.label(fmt.PHONE_TYPE_LABELS, p.type)}", style="dim")
            if p.contact:
                call.append(f"  {p.contact}")
            if p.bad:
                call.append(f"  {_('wrong number')}", style="red")
            if p.do_not_call:
                call.append(f"  {_('do not call')}", style="red")
        if view.contacts:
            primary = view.contacts[0]
            if primary.title or primary.email:
                call.append(f"\n {primary.title} {primary.email}".rstrip(), style="dim")
        self.query_one("#call", Static).update(call)

        # Plain Text in columns: a Rich Table costs ~10x more to lay out on every account.
        owed = Text(_("Owed "), style="bold")
        owed.append(fmt.money(view.net_minor, cur, loc), style="bold")
        if view.disputed_minor:
            owed.append(
                f"  {_('disputed')} {fmt.money(view.disputed_minor, cur, loc)}", style="magenta"
            )
        if view.credits_minor:
            owed.append(
                f"  {_('credits & unapplied cash')} {fmt.money(view.credits_minor, cur, loc)}",
                style="bold green",
            )
        self._owed = (owed, view.aging, cur, loc)
        self._draw_aging()

        shown = view.invoices[:MAX_INVOICES]
        cols = [
            [_("Invoice"), *(i.number for i in shown)],
            [_("Due"), *(fmt.day(i.due_date, loc) for i in shown)],
            [_("Days"), *(str(i.days_past_due) for i in shown)],
            [
                _("Open"),
                *(
                    fmt.money(i.open_minor, cur, loc) + (f" {_('disputed')}" if i.disputed else "")
                    for i in shown
                ),
            ],
        ]
        w = [max(cell_len(c) for c in col) for col in cols]
        right = (False, False, True, True)

        def row(k: int) -> str:
            return " ".join(
                col[k].rjust(w[n]) if right[n] else col[k].ljust(w[n]) for n, col in enumerate(cols)
            )

        inv = Text(row(0), style="dim")
        for k, i in enumerate(shown, start=1):
            style = "magenta" if i.disputed else ("green" if i.open_minor < 0 else "")
            inv.append("\n")
            inv.append(row(k), style=style)
        if len(view.invoices) > MAX_INVOICES:
            inv.append(f"\n+{len(view.invoices) - MAX_INVOICES} {_('more')}", style="dim")
        self.query_one("#invoices", Static).update(inv)

        lines = Text()
        for p in view.promises[:6]:
            style = {"broken": "bold red", "kept": "green", "partial": "yellow"}.get(p.status, "")
            label = _("Plan") + f" #{p.instalment}" if p.plan_ref else _("Promise")
            lines.append(
                f"{label} {fmt.money(p.amount_minor, cur, loc)} {_('by')} "
                f"{fmt.day(p.due_date, loc)}: {fmt.label(fmt.PROMISE_STATUS_LABELS, p.status)}\n",
                style=style,
            )
        for d in view.disputes[:4]:
            lines.append(
                f"{_('Dispute')} {fmt.money(d.amount_minor, cur, loc)} "
                f"{fmt.label(fmt.REASON_LABELS, d.reason)} → "
                f"{fmt.label(fmt.DEPARTMENT_LABELS, d.department)}: "
                f"{fmt.label(fmt.DISPUTE_STATUS_LABELS, d.status)} ({', '.join(d.invoices)})\n",
                style="magenta" if d.status == "open" else "dim",
            )
        lines.rstrip()  # in place
        self.query_one("#promises", Static).update(lines)
        self.query_one("#history-inline", Static).update(
            history_text(view.timeline, me, view.currency)
        )
        self.scroll_home(animate=False)


def fit_items(items: list[str], width: int, first: int = 0, sep: str = " · ") -> str:
    """``items`` joined by ``sep``, with a line break instead of ``sep`` wherever the next
    item would not fit in ``width`` (``first``: cells already used on the first line)."""
    if width <= 0:
        return sep.join(items)
    out, line = "", first
    for n, item in enumerate(items):
        size = cell_len(item)
        if n and line + cell_len(sep) + size > width:
            out, line = out + "\n", 0
        elif n:
            out, line = out + sep, line + cell_len(sep)
        out, line = out + item, line + size
    return out


def aging_lines(aging: dict[str, int], currency: str, locale: str, width: int) -> Text:
    """The buckets as two aligned rows when they fit the width, else only the non-empty
    buckets as "label amount" items, wrapped between items (never inside one)."""
    amounts = [fmt.money(aging[b], currency, locale) if aging[b] else "·" for b in BUCKETS]
    heads = [fmt.label(fmt.BUCKET_LABELS, b) for b in BUCKETS]
    widths = [max(cell_len(h), cell_len(a)) for h, a in zip(heads, amounts, strict=True)]
    out = Text("\n")
    if width <= 0 or sum(widths) + len(widths) - 1 <= width:
        out.append(" ".join(h.rjust(w) for h, w in zip(heads, widths, strict=True)), style="dim")
        out.append("\n" + " ".join(a.rjust(w) for a, w in zip(amounts, widths, strict=True)))
        return out
    line = 0
    items = [(h, a) for h, a, b in zip(heads, amounts, BUCKETS, strict=True) if aging[b]]
    for n, (head, amount) in enumerate(items):
        size = cell_len(head) + 1 + cell_len(amount)
        if n and line + 3 + size > width:
            out.append("\n")
            line = 0
        elif n:
            out.append(" · ", style="dim")
            line += 3
        out.append(head, style="dim")
        out.append(" " + amount)
        line += size
    return out


def history_text(
    entries: list[TimelineEntry], me: Collector, currency: str, limit: int = 10
) -> Text:
    out = Text(_("History") + "\n", style="bold")
    if not entries:
        out.append(_("no earlier contact"), style="dim")
    for e in entries[:limit]:
        out.append(fmt.local_dt(e.at, me.locale), style="dim")
        label = _(fmt.OUTCOME_LABELS.get(e.code, e.code))
        out.append(f" {label}", style="bold")
        out.append(f" {e.who}", style="dim")
        amount = e.details.get("amount_minor")
        if isinstance(amount, int):
            cur = str(e.details.get("currency", currency))
            out.append(f" {fmt.money(amount, cur, me.locale)}")
        if e.details.get("date"):
            out.append(f" → {fmt.day(str(e.details['date']), me.locale)}")
        if e.note:
            out.append(f"\n  {e.note}")
        out.append("\n")
    return out
