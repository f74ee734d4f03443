"""The account's parts as text (Rich Text, styles kept): what the account pane draws
(tui/widgets/account.py), built apart from any widget so that they can be built ahead of
the frame and tested alone."""

from __future__ import annotations

from datetime import datetime

from rich.cells import cell_len
from rich.text import Text

from dunning.aging import BUCKETS
from dunning.i18n import N_, _
from dunning.owed import Owed
from dunning.queue.account_view import AccountView, TimelineEntry
from dunning.queue.collectors import Collector
from dunning.queue.letters_sent import sent_line
from dunning.tui import fmt

MAX_INVOICES = 12


def title_text(view: AccountView, me: Collector) -> Text:
    cur = view.currency
    title = Text()
    title.append(view.name, style="bold")
    title.append(f"  {view.external_ref}", style="dim")
    region = f"{view.country}-{view.subdivision}" if view.subdivision else view.country
    title.append(f"\n{region} · {view.portfolio} · {view.language} · {cur}")
    title.append(f" · {_(fmt.STATE_LABELS.get(view.state, view.state))}")
    if view.status != "active":
        title.append(f" · {fmt.label(fmt.CUSTOMER_STATUS_LABELS, view.status)}", style="bold red")
    if view.assigned_to and view.assigned_to != me.username:
        title.append(f" · {_('assigned to')} {view.assigned_to}", style="yellow")
    if view.address:  # the postal address on one line (a customer asked to confirm it)
        title.append(f"\n{', '.join(view.address)}", style="dim")
    return title


def why_parts(view: AccountView, locale: str) -> tuple[list[str], str]:
    """The reasons (fitted to the width when drawn: fit_items) and the next action line."""
    parts = [
        f"{fmt.reason_label(code, params, locale)} (+{points:g})"
        for code, points, params in view.reasons
    ]
    tail = ""
    if view.next_action not in ("call",):
        action = _(fmt.NEXT_ACTION_LABELS.get(view.next_action, view.next_action))
        tail = f"\n{_('Next action')}: {action} {fmt.local_dt(view.next_action_at, locale)}"
    return parts, tail


def why_text(parts: list[str], tail: str, width: int) -> Text:
    """The reasons, a line broken between two reasons, never inside one: Rich would break
    "2 624,44 $" at its no-break space (it wraps at every Unicode space)."""
    head = _("Why next: ")
    why = Text(head, style="bold")
    why.append(fit_items(parts, width, cell_len(head)) or "—")
    if tail:
        why.append(tail, style="cyan")
    return why


def owed_head(view: AccountView, locale: str) -> Text:
    """The owed line: the figures of dunning/owed.py, as the CLI, the promise dialog and
    the reports. Plain Text in columns: a Rich Table costs ~10x more to lay out."""
    o, cur = view.owed, view.currency
    owed = Text(_("Owed "), style="bold")
    owed.append(fmt.money(o.net, cur, locale), style="bold")
    owed.append(f"  {_('due now')} {fmt.money(o.due_now, cur, locale)}")
    if o.disputed:
        owed.append(f"  {_('disputed')} {fmt.money(o.disputed, cur, locale)}", style="magenta")
    return owed


def invoices_text(view: AccountView, locale: str) -> Text:
    cur = view.currency
    shown = view.invoices[:MAX_INVOICES]
    cols = [
        [_("Invoice"), *(i.number for i in shown)],
        [_("Due"), *(fmt.day(i.due_date, locale) for i in shown)],
        [_("Days"), *(str(i.days_past_due) for i in shown)],
        [
            _("Open"),
            *(
                fmt.money(i.open_minor, cur, locale) + (f" {_('disputed')}" if i.disputed else "")
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
    return inv


def promises_text(view: AccountView, locale: str) -> Text:
    cur = view.currency
    lines = Text()
    for p in view.promises[:6]:
        style = {
            "broken": "bold red",
            "kept": "green",
            "partial": "yellow",
            "cancelled": "dim strike",
        }.get(p.status, "")
        label = _("Plan") + f" #{p.instalment}" if p.plan_ref else _("Promise")
        lines.append(
            f"{label} {fmt.money(p.amount_minor, cur, locale)} {_('by')} "
            f"{fmt.day(p.due_date, locale)}: {fmt.label(fmt.PROMISE_STATUS_LABELS, p.status)}\n",
            style=style,
        )
    for d in view.disputes[:4]:
        lines.append(
            f"{_('Dispute')} {fmt.money(d.amount_minor, cur, locale)} "
            f"{fmt.label(fmt.REASON_LABELS, d.reason)} → "
            f"{fmt.label(fmt.DEPARTMENT_LABELS, d.department)}: "
            f"{fmt.label(fmt.DISPUTE_STATUS_LABELS, d.status)} ({', '.join(d.invoices)})\n",
            style="magenta" if d.status == "open" else "dim",
        )
    lines.rstrip()  # in place
    return lines


def call_text(view: AccountView, me: Collector, now: datetime) -> Text:
    """Whom to call, their clock, and whether and when they may be called."""
    loc = me.locale
    call = Text(_("Call "), style="bold")
    call.append(fmt.local_times(view.zones, now, loc))
    if view.holiday:  # "Canada Day: callable Thu 10:00", in the collector's language
        block = f"  ⛔ {view.holiday}: "
        if view.callable_at:
            block += _("callable {when}").format(when=fmt.weekday_time(view.callable_at, loc))
        else:
            block += _("not callable now")
        call.append(block, style="bold red")
    elif view.calls_forbidden:
        call.append(f"  ⛔ {_('no calls')}: {view.callable.detail}", style="bold red")
    elif not view.callable.ok:
        call.append(f"  ⛔ {_('not callable now')}: {block_reason(view)}", style="bold red")
    elif view.callable.code == "after_hours":
        call.append(f"  {_('outside business hours')}", style="yellow")
    window = Text() if view.holiday else window_text(view, now, loc)
    if window.plain:
        call.append("\n")
        call.append_text(window)
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
    for n, ct in enumerate(view.contacts):
        # the primary contact's title and address; another's only when it opted out
        if n == 0 and (ct.title or ct.email):
            call.append(f"\n {ct.title} {ct.email}".rstrip(), style="dim")
        elif n and ct.email and ct.email_opt_out_at:
            call.append(f"\n {ct.name} {ct.email}".rstrip(), style="dim")
        if ct.email and ct.email_opt_out_at:
            call.append("\n   " + opted_out_text(ct.email_opt_out_at, ct.email_opt_out_by, loc),
                        style="bold red")  # fmt: skip
    return call


def opted_out_text(at: str, by: str, locale: str) -> str:
    """ "e-mail opt-out 12/3/26, 10:02 AM (alice)": no e-mail to that address (Regulation
    F 1006.6(e)), since when, recorded by whom."""
    when = fmt.local_dt(at, locale)
    if by:
        return _("e-mail opt-out {when} ({who})").format(when=when, who=by)
    return _("e-mail opt-out {when}").format(when=when)


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


def aging_lines(owed: Owed, locale: str, width: int) -> Text:
    """The buckets, then credits (credit notes and unapplied cash, never in a bucket), as
    two aligned rows when they fit the width, else only the non-empty ones as "label
    amount" items, wrapped between items (never inside one)."""
    values = [*owed.buckets, owed.credits]
    amounts = [fmt.money(v, owed.currency, locale) if v else "·" for v in values]
    heads = [*(fmt.label(fmt.BUCKET_LABELS, b) for b in BUCKETS), _("credits")]
    widths = [max(cell_len(h), cell_len(a)) for h, a in zip(heads, amounts, strict=True)]
    credit = "bold green" if owed.credits else ""
    out = Text("\n")
    if width <= 0 or sum(widths) + len(widths) - 1 <= width:
        out.append(" ".join(h.rjust(w) for h, w in zip(heads, widths, strict=True)), style="dim")
        cells = [a.rjust(w) for a, w in zip(amounts, widths, strict=True)]
        out.append("\n" + " ".join(cells[:-1]))
        out.append(" " + cells[-1], style=credit)  # credits, green when there are some
        return out
    line = 0
    styles = [""] * len(BUCKETS) + [credit]
    items = [(h, a, st) for h, a, v, st in zip(heads, amounts, values, styles, strict=True) if v]
    for n, (head, amount, style) in enumerate(items):
        size = cell_len(head) + 1 + cell_len(amount)
        if n and line + 3 + size > width:
            out.append("\n")
            line = 0
        elif n:
            out.append(" · ", style="dim")
            line += 3
        out.append(head, style="dim")
        out.append(" " + amount, style=style)
        line += size
    return out


def history_text(
    entries: list[TimelineEntry],
    me: Collector,
    currency: str,
    limit: int = 10,
    *,
    ids: bool = False,
) -> Text:
    out = Text(_("History") + "\n", style="bold")
    if not entries:
        out.append(_("no earlier contact"), style="dim")
    for e in entries[:limit]:
        if ids:  # the whole history: the id a void names
            out.append(f"#{e.id} " if e.id is not None else "", style="cyan")
        out.append_text(history_entry(e, me, currency))
        out.append("\n")
    return out


CALL_BLOCK_LABELS: dict[str, str] = {
    "outside_window": N_("outside calling hours"),
    "cap_7_in_7": N_("7 call attempts in 7 days (Reg F)"),
    "recent_conversation": N_("a conversation in the last 7 days (Reg F)"),
    "ontario_cap": N_("3 contacts in 7 days (Ontario)"),
}


def block_reason(view: AccountView) -> str:
    """Why the account may not be called now, in the collector's language (a holiday is
    named as it is)."""
    label = CALL_BLOCK_LABELS.get(view.callable.code)
    return _(label) if label else view.callable.detail


def _names(zones: tuple[str, ...], locale: str, most: int = 3) -> str:
    cities = list(dict.fromkeys(fmt.city(z, locale) for z in zones))
    if not cities:
        return ""
    extra = len(cities) - most
    cities = cities[:most]
    if extra > 0:
        return ", ".join(cities) + f" +{extra}"
    if len(cities) == 1:
        return cities[0]
    return _("{first} and {last}").format(first=", ".join(cities[:-1]), last=cities[-1])


def window_text(view: AccountView, now: datetime, locale: str) -> Text:
    """'callable 11:00-21:00 your time: Los Angeles and New York'; when not callable, when
    it opens. Empty where no calling window applies (business-to-business)."""
    w = view.window
    out = Text()
    if w is None:
        return out
    hours = ""
    if w.current is not None:
        start, end = w.current
        hours = f"{fmt.clock_time(start, locale)}–{fmt.clock_time(end, locale)}"
    where = _names(w.bounds, locale)
    if view.callable.ok:
        if not hours:
            return out
        out.append(
            _("callable {hours} your time: {zones}").format(hours=hours, zones=where),
            style="green",
        )
        return out
    opens = view.callable.opens_at
    if opens is None:
        out.append(_("no calling hours in the next weeks"), style="red")
        return out
    local = opens.astimezone(w.viewer)
    other_day = local.date() != now.astimezone(w.viewer).date()
    when = fmt.clock_time(local, locale, weekday=other_day)
    if w.current is not None and w.current[0] == local:
        text = _("callable from {when} your time: {zones}").format(when=when, zones=where)
    else:
        text = _("callable from {when} your time").format(when=when)
    out.append(text, style="yellow")
    return out


def _promise_note(e: TimelineEntry) -> str:
    """A promise the system decided, decided again or cancelled, in the reader's words
    (the stored note is English, for the record)."""
    status = e.details.get("status")
    if e.code != "system" or "promise_id" not in e.details or not isinstance(status, str):
        return ""
    new = fmt.label(fmt.PROMISE_STATUS_LABELS, status)
    old = e.details.get("from")
    if isinstance(old, str) and old != "pending":
        old_label = fmt.label(fmt.PROMISE_STATUS_LABELS, old)
        return _("promise {old} → {new}").format(old=old_label, new=new)
    return _("promise {status}").format(status=new)


def history_entry(e: TimelineEntry, me: Collector, currency: str) -> Text:
    """One entry; a voided outcome is struck through, with who voided it and why."""
    struck = "strike" if e.voided else ""
    out = Text()
    out.append(fmt.local_dt(e.at, me.locale), style=f"dim {struck}")
    # a letter sent: "e-mail sent: <subject> (<kind>)"
    label = sent_line(e.code, e.details) or _(fmt.OUTCOME_LABELS.get(e.code, e.code))
    out.append(f" {label}", style=f"bold {struck}")
    out.append(f" {e.who}", style=f"dim {struck}")
    amount = e.details.get("amount_minor")
    if isinstance(amount, int):
        cur = str(e.details.get("currency", currency))
        out.append(f" {fmt.money(amount, cur, me.locale)}", style=struck)
    if e.details.get("date"):
        out.append(f" → {fmt.day(str(e.details['date']), me.locale)}", style=struck)
    if e.details.get("lead_reason"):  # a lead on someone else's account: for whom and why
        out.append(" ")
        out.append(
            _("for {owner}: {reason}").format(
                owner=e.details.get("for") or _("nobody"), reason=e.details["lead_reason"]
            ),
            style=f"italic {struck}",
        )
    if e.voided:
        from dunning.queue.void import UNDONE  # noqa: PLC0415 - not at start: a void's module

        out.append(" ")
        out.append(
            _("voided by {who}: {reason}").format(
                who=e.voided["by"],
                # the reason `u` records is a code: shown in the reader's words
                reason=_(N_("undone")) if e.voided["reason"] == UNDONE else e.voided["reason"],
            ),
            style="italic yellow",
        )
    note = _promise_note(e) or e.note
    if note:
        out.append(f"\n  {note}", style=struck)
    return out
