"""Everything the account screen shows, read in one go (a few indexed queries).

Raw values only (minor units, ISO text); formatting for a locale happens on screen.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field, replace
from datetime import date, datetime, tzinfo

from dunning.address import address_lines
from dunning.aging import bucket_for
from dunning.clock import Clock, from_iso
from dunning.db.reports import customer_owed
from dunning.i18n import current_language, language_of
from dunning.money import minor_digits
from dunning.owed import Owed
from dunning.phones import time_zones
from dunning.places import Jurisdiction, known, reach
from dunning.queue.account_parts import (
    ContactView,
    DisputeView,
    InvoiceView,
    PhoneView,
    PromiseView,
)
from dunning.queue.config import Settings
from dunning.queue.contact_rules import Callable, check_callable, rule_for
from dunning.queue.drafts import load_draft
from dunning.queue.holiday_view import holiday_block
from dunning.queue.priority import PriorityInputs, Reason, score
from dunning.queue.status_rules import status_verdict
from dunning.queue.windows import CallWindow, call_window, host_zone


@dataclass(frozen=True)
class TimelineEntry:
    at: str
    kind: str  # activity, payment, payment_report, assignment
    code: str  # outcome code, 'payment', ...
    who: str
    note: str
    details: dict[str, object] = field(default_factory=dict)
    id: int | None = None  # the activity's id (what `dunning void` takes); None otherwise
    voided: dict[str, str] | None = None  # {at, by, reason} when the outcome was voided


@dataclass(frozen=True)
class AccountView:
    id: int
    external_ref: str
    name: str
    country: str
    subdivision: str | None
    language: str
    currency: str
    portfolio: str
    status: str
    risk_score: int
    state: str
    priority: int
    reasons: list[tuple[str, float, dict[str, object]]]
    next_action: str
    next_action_at: str
    broken_promise: bool
    assigned_to: str | None
    owed: Owed  # what is owed, as every screen, the CLI and the reports say (owed.py)
    contacts: list[ContactView]
    phones: list[PhoneView]
    invoices: list[InvoiceView]
    promises: list[PromiseView]
    disputes: list[DisputeView]
    timeline: list[TimelineEntry]
    draft: str
    zones: tuple[str, ...]
    callable: Callable
    jurisdictions: tuple[Jurisdiction, ...] = ()
    window: CallWindow | None = None  # consumer rules only: today's window, viewer's clock
    holiday: str = ""  # the holiday that forbids calling now, in the collector's language
    callable_at: str = ""  # then: when the customer may be called again (UTC ISO), or ''
    # the calling window binds the times chosen for this account (consumer portfolios)
    window_rules: bool = False
    address: tuple[str, ...] = ()  # the postal address's lines, country left out (m039)

    @property
    def net_minor(self) -> int:
        return self.owed.net

    @property
    def disputed_minor(self) -> int:
        return self.owed.disputed

    @property
    def credits_minor(self) -> int:
        return self.owed.credits

    def usable_phones(self) -> list[PhoneView]:
        return [p for p in self.phones if p.usable]

    @property
    def calls_forbidden(self) -> bool:
        """The account's status forbids calls: the screen is read-only for them."""
        return self.callable.code.startswith("status_")


def timeline(
    conn: sqlite3.Connection, customer_id: int, limit: int | None = 100
) -> list[TimelineEntry]:
    """The account's history, newest first: activities (a collector's "paid" report is
    the ``paid`` activity), payments loaded from the ERP, assignments. Entries of the
    same second keep the order they were written in."""
    lim = -1 if limit is None else limit
    rows = conn.execute(
        """SELECT * FROM (
             SELECT a.at AS at, 'activity' AS kind, a.outcome AS code,
                    COALESCE(k.username, 'system') AS who, a.note AS note, a.details AS details,
                    a.next_action AS next_action, a.next_action_at AS next_action_at,
                    p.e164 AS phone, a.id AS seq,
                    v.voided_at AS voided_at, vb.username AS voided_by, v.reason AS void_reason
             FROM activities a LEFT JOIN collectors k ON k.id = a.collector_id
             LEFT JOIN phones p ON p.id = a.phone_id
             LEFT JOIN voids v ON v.activity_id = a.id
             LEFT JOIN collectors vb ON vb.id = v.voided_by
             WHERE a.customer_id = :c
             UNION ALL
             SELECT y.paid_on || 'T00:00:00Z', 'payment', 'payment', 'erp',
                    COALESCE(y.reference, ''),
                    json_object('amount_minor', y.amount_minor, 'currency', y.currency,
                                'invoice', i.number),
                    NULL, NULL, NULL, y.id, NULL, NULL, NULL
             FROM payments y LEFT JOIN invoices i ON i.id = y.invoice_id
             WHERE y.customer_id = :c
             UNION ALL
             SELECT s.assigned_at, 'assignment', 'assign', COALESCE(b.username, 'system'),
                    s.reason, json_object('to', k.username), NULL, NULL, NULL, s.id,
                    NULL, NULL, NULL
             FROM assignments s LEFT JOIN collectors k ON k.id = s.collector_id
             LEFT JOIN collectors b ON b.id = s.assigned_by
             WHERE s.customer_id = :c
           ) ORDER BY at DESC, seq DESC LIMIT :lim""",
        {"c": customer_id, "lim": lim},
    ).fetchall()
    out = []
    for r in rows:
        details = json.loads(r["details"]) if r["details"] else {}
        if r["next_action"]:
            details["next_action"] = r["next_action"]
            details["next_action_at"] = r["next_action_at"]
        if r["phone"]:
            details["phone"] = r["phone"]
        activity = r["kind"] == "activity"
        voided = (
            {"at": r["voided_at"], "by": r["voided_by"] or "", "reason": r["void_reason"]}
            if r["voided_at"]
            else None
        )
        out.append(
            TimelineEntry(
                r["at"],
                r["kind"],
                r["code"],
                r["who"],
                r["note"],
                details,
                id=r["seq"] if activity else None,
                voided=voided,
            )
        )
    return out


def _zones_of(r: sqlite3.Row, country: str, subdivision: str | None) -> tuple[str, ...]:
    known(r["e164"], r["stored_place"])  # its stored place first: no parse (m028_places)
    return time_zones(r["e164"], country, subdivision)


def load_account(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    customer_id: int,
    collector_id: int | None = None,
    *,
    history_limit: int = 60,
    viewer_tz: tzinfo | None = None,
) -> AccountView | None:
    """``viewer_tz``: the collector's time zone for the calling window (default: the
    host's)."""
    now = clock.now()
    today = now.date()
    c = conn.execute(
        """SELECT c.*, q.state, q.next_action, q.next_action_at, q.broken_promise,
                  q.oldest_due, q.open_minor + q.unapplied_minor AS owed, q.last_contact_at,
                  q.customer_id AS queued, k.username AS assigned_to
           FROM customers c LEFT JOIN queue q ON q.customer_id = c.id
           LEFT JOIN collectors k ON k.id = q.collector_id WHERE c.id = ?""",
        (customer_id,),
    ).fetchone()
    if c is None:
        return None
    contacts = [
        ContactView.of(r)
        for r in conn.execute(
            "SELECT * FROM contacts WHERE customer_id = ? ORDER BY is_primary DESC, id",
            (customer_id,),
        )
    ]
    names = {ct.id: ct.name for ct in contacts}
    phones = [
        PhoneView(
            r["id"],
            r["e164"],
            r["type"],
            bool(r["do_not_call"]),
            bool(r["bad"]),
            names.get(r["contact_id"], ""),
            _zones_of(r, c["country"], c["subdivision"]),
        )
        for r in conn.execute(
            """SELECT p.*, pp.place AS stored_place FROM phones p
               LEFT JOIN contacts ct ON ct.id = p.contact_id
               LEFT JOIN phone_places pp ON pp.e164 = p.e164
               WHERE p.customer_id = ? ORDER BY p.bad, p.do_not_call, ct.is_primary DESC, p.id""",
            (customer_id,),
        )
    ]
    invoices = []
    for r in conn.execute(
        """SELECT * FROM invoices WHERE customer_id = ? AND status = 'open'
           ORDER BY due_date, id""",
        (customer_id,),
    ):
        dpd = (today - date.fromisoformat(r["due_date"])).days
        bucket = "credits" if r["open_minor"] < 0 else bucket_for(dpd)
        invoices.append(
            InvoiceView(
                r["id"],
                r["number"],
                r["issue_date"],
                r["due_date"],
                r["amount_minor"],
                r["open_minor"],
                dpd,
                bucket,
                bool(r["disputed"]),
            )
        )
    promises = [
        PromiseView(
            r["id"],
            r["amount_minor"],
            r["promised_on"],
            r["due_date"],
            r["grace_days"],
            r["status"],
            r["paid_minor"],
            r["plan_ref"],
            r["instalment"],
        )
        for r in conn.execute(
            """SELECT * FROM promises WHERE customer_id = ?
               ORDER BY status != 'pending', due_date DESC LIMIT 12""",
            (customer_id,),
        )
    ]
    disputes = [
        DisputeView(
            r["id"],
            r["reason"],
            r["department"],
            r["amount_minor"],
            r["status"],
            r["created_at"],
            tuple((r["numbers"] or "").split(",")),
        )
        for r in conn.execute(
            """SELECT d.*, (SELECT group_concat(i.number) FROM dispute_invoices di
                            JOIN invoices i ON i.id = di.invoice_id
                            WHERE di.dispute_id = d.id) AS numbers
               FROM disputes d WHERE d.customer_id = ?
               ORDER BY d.status != 'open', d.created_at DESC LIMIT 10""",
            (customer_id,),
        )
    ]
    where = reach(c["country"], c["subdivision"], tuple(p.e164 for p in phones if p.usable))
    zones = where.zones
    verdict, window = callability(
        conn,
        now,
        settings,
        customer_id,
        c["portfolio"],
        c["country"],
        c["subdivision"],
        where.zones,
        where.jurisdictions,
        viewer_tz,
        status=c["status"],
    )
    holiday = callable_at = ""
    if verdict.code == "holiday":
        locale = "en"
        if collector_id is not None:
            row = conn.execute(
                "SELECT locale FROM collectors WHERE id = ?", (collector_id,)
            ).fetchone()
            locale = (row[0] if row else "") or "en"
        holiday, callable_at = holiday_block(
            now, zones, c["country"], c["subdivision"], language_of(locale), where.jurisdictions
        )
    priority, reasons = _why_now(c, today, settings)
    return AccountView(
        id=c["id"],
        external_ref=c["external_ref"],
        name=c["name"],
        country=c["country"],
        subdivision=c["subdivision"],
        language=c["language"],
        currency=c["currency"],
        portfolio=c["portfolio"],
        status=c["status"],
        risk_score=c["risk_score"],
        state=c["state"] or "closed",
        priority=priority,
        reasons=reasons,
        next_action=c["next_action"] or "call",
        next_action_at=c["next_action_at"] or "",
        broken_promise=bool(c["broken_promise"]),
        assigned_to=c["assigned_to"],
        owed=customer_owed(conn, customer_id, today),
        contacts=contacts,
        phones=phones,
        invoices=invoices,
        promises=promises,
        disputes=disputes,
        timeline=timeline(conn, customer_id, history_limit),
        draft=load_draft(conn, collector_id, customer_id) if collector_id else "",
        zones=zones,
        callable=verdict,
        jurisdictions=where.jurisdictions,
        window=window,
        holiday=holiday,
        callable_at=callable_at,
        window_rules=c["portfolio"] in settings.contact_rules_portfolios,
        address=tuple(
            address_lines(
                c["country"],
                c["address_line1"],
                c["address_line2"],
                c["city"],
                c["subdivision"],
                c["postal_code"],
            )  # fmt: skip
        ),
    )


def callability(
    conn: sqlite3.Connection,
    now: datetime,
    settings: Settings,
    customer_id: int,
    portfolio: str,
    country: str,
    subdivision: str | None,
    zones: tuple[str, ...],
    jurisdictions: tuple[Jurisdiction, ...],
    viewer_tz: tzinfo | None = None,
    *,
    status: str = "active",
) -> tuple[Callable, CallWindow | None]:
    """The verdict now, and (consumer rules only) today's window in the viewer's clock. A
    status that forbids calls (cease, legal...) decides before any window or cap."""
    forbidden = status_verdict(status)
    if forbidden is not None:
        return forbidden, None
    verdict = check_callable(
        conn,
        now,
        settings,
        customer_id=customer_id,
        portfolio=portfolio,
        country=country,
        subdivision=subdivision,
        zones=zones,
        jurisdictions=jurisdictions,
    )
    window = None
    if portfolio in settings.contact_rules_portfolios and zones:
        window = call_window(now, zones, rule_for(jurisdictions), viewer_tz or host_zone())
    return verdict, window


def recheck(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    view: AccountView,
    viewer_tz: tzinfo | None = None,
) -> AccountView:
    """The same account with its verdict and window for the clock's instant now (the
    screen asks as time passes: a green account turns red at 21:00 with no commit)."""
    verdict, window = callability(
        conn,
        clock.now(),
        settings,
        view.id,
        view.portfolio,
        view.country,
        view.subdivision,
        view.zones,
        view.jurisdictions,
        viewer_tz,
        status=view.status,
    )
    holiday = callable_at = ""
    if verdict.code == "holiday":
        holiday, callable_at = holiday_block(
            clock.now(),
            view.zones,
            view.country,
            view.subdivision,
            current_language(),
            view.jurisdictions,
        )
    return replace(view, callable=verdict, window=window, holiday=holiday, callable_at=callable_at)


def _why_now(c: sqlite3.Row, today: date, settings: Settings) -> tuple[int, list[Reason]]:
    """The priority and its reasons today, from what the queue row stores (the day counts
    are today's; the stored standing orders the worklist, queue/standing.py)."""
    if c["queued"] is None:
        return 0, []
    contact = c["last_contact_at"]
    return score(
        PriorityInputs(
            today=today,
            oldest_due=date.fromisoformat(c["oldest_due"]) if c["oldest_due"] else None,
            open_minor=max(int(c["owed"]), 0),
            currency=c["currency"],
            minor_digits=minor_digits(c["currency"]),
            broken_promise=bool(c["broken_promise"]),
            next_action=c["next_action"],
            last_contact=from_iso(contact).date() if contact else None,
            risk_score=int(c["risk_score"] or 0),
        ),
        settings,
    )
