"""Everything the account screen shows, read in one go (a few indexed queries).

Raw values only (minor units, ISO text); formatting for a locale happens on screen.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import date

from dunning.aging import BUCKETS, bucket_for
from dunning.clock import Clock
from dunning.phones import numbers_zones, time_zones
from dunning.queue.config import Settings
from dunning.queue.contact_rules import Callable, check_callable
from dunning.queue.drafts import load_draft


@dataclass(frozen=True)
class PhoneView:
    id: int
    e164: str
    type: str
    do_not_call: bool
    bad: bool
    contact: str
    zones: tuple[str, ...]

    @property
    def usable(self) -> bool:
        return not (self.bad or self.do_not_call)


@dataclass(frozen=True)
class ContactView:
    id: int
    name: str
    title: str
    language: str
    email: str
    is_primary: bool


@dataclass(frozen=True)
class InvoiceView:
    id: int
    number: str
    issue_date: str
    due_date: str
    amount_minor: int
    open_minor: int
    days_past_due: int
    bucket: str
    disputed: bool


@dataclass(frozen=True)
class PromiseView:
    id: int
    amount_minor: int
    promised_on: str
    due_date: str
    grace_days: int
    status: str
    paid_minor: int
    plan_ref: str | None
    instalment: int | None


@dataclass(frozen=True)
class DisputeView:
    id: int
    reason: str
    department: str
    amount_minor: int
    status: str
    created_at: str
    invoices: tuple[str, ...]


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
    open_minor: int
    disputed_minor: int
    credits_minor: int
    aging: dict[str, int]
    contacts: list[ContactView]
    phones: list[PhoneView]
    invoices: list[InvoiceView]
    promises: list[PromiseView]
    disputes: list[DisputeView]
    timeline: list[TimelineEntry]
    draft: str
    zones: tuple[str, ...]
    callable: Callable

    @property
    def net_minor(self) -> int:
        return self.open_minor + self.disputed_minor + self.credits_minor

    def usable_phones(self) -> list[PhoneView]:
        return [p for p in self.phones if p.usable]


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


def load_account(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    customer_id: int,
    collector_id: int | None = None,
    *,
    history_limit: int = 60,
) -> AccountView | None:
    now = clock.now()
    today = now.date()
    c = conn.execute(
        """SELECT c.*, q.state, q.priority, q.reasons, q.next_action, q.next_action_at,
                  q.broken_promise, q.open_minor, q.disputed_minor, q.unapplied_minor,
                  k.username AS assigned_to
           FROM customers c LEFT JOIN queue q ON q.customer_id = c.id
           LEFT JOIN collectors k ON k.id = q.collector_id WHERE c.id = ?""",
        (customer_id,),
    ).fetchone()
    if c is None:
        return None
    contacts = [
        ContactView(
            r["id"],
            r["name"],
            r["title"] or "",
            r["language"] or "",
            r["email"] or "",
            bool(r["is_primary"]),
        )
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
            time_zones(r["e164"], c["country"], c["subdivision"]),
        )
        for r in conn.execute(
            """SELECT p.* FROM phones p LEFT JOIN contacts ct ON ct.id = p.contact_id
               WHERE p.customer_id = ? ORDER BY p.bad, p.do_not_call, ct.is_primary DESC, p.id""",
            (customer_id,),
        )
    ]
    invoices = []
    aging = dict.fromkeys(BUCKETS, 0)
    for r in conn.execute(
        """SELECT * FROM invoices WHERE customer_id = ? AND status = 'open'
           ORDER BY due_date, id""",
        (customer_id,),
    ):
        dpd = (today - date.fromisoformat(r["due_date"])).days
        bucket = bucket_for(dpd)
        aging[bucket] += r["open_minor"]
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
    zones = numbers_zones((p.e164 for p in phones if p.usable), c["country"], c["subdivision"])
    verdict = check_callable(
        conn,
        now,
        settings,
        customer_id=customer_id,
        portfolio=c["portfolio"],
        country=c["country"],
        subdivision=c["subdivision"],
        zones=zones,
    )
    reasons = [tuple(x) for x in json.loads(c["reasons"] or "[]")]
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
        priority=c["priority"] or 0,
        reasons=reasons,  # type: ignore[arg-type]
        next_action=c["next_action"] or "call",
        next_action_at=c["next_action_at"] or "",
        broken_promise=bool(c["broken_promise"]),
        assigned_to=c["assigned_to"],
        open_minor=c["open_minor"] or 0,
        disputed_minor=c["disputed_minor"] or 0,
        credits_minor=c["unapplied_minor"] or 0,
        aging=aging,
        contacts=contacts,
        phones=phones,
        invoices=invoices,
        promises=promises,
        disputes=disputes,
        timeline=timeline(conn, customer_id, history_limit),
        draft=load_draft(conn, collector_id, customer_id) if collector_id else "",
        zones=zones,
        callable=verdict,
    )
