"""Collection metrics of a period (DOMAIN.md), in two parts that never share a row.

Money (:class:`Metrics`), per collector (the account's current owner) and currency, then
``TEAM`` per currency: credit sales, receivables at the start and end, DSO, BPDSO, ADD,
CEI, collected, promised, written off (queue/writeoffs.py). Amounts are never summed across
currencies.

Activity (:class:`ActivityMetrics`), per collector and once for the team, whatever the
currency: promises that came due and were kept, call attempts, contacts, right-party
contacts and contacts per hour. A call has no currency, so these figures cannot sit on a
currency's row.

Receivables at a date are rebuilt from the ledger, as the aging of a past date rebuilds
them (dunning/db/reports_past.py): invoices issued by then, less the payments dated by
then, less what left an invoice without a payment (an ERP adjustment or a ``--snapshot``
close, dated by the import that recorded it), less the cash received by then that is not
applied to an invoice issued by then.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from dunning.clock import from_iso, to_iso
from dunning.db.reports import UNASSIGNED

METRICS_LEDGER_SQL = """
WITH pay AS (
    SELECT invoice_id,
           SUM(CASE WHEN paid_on <= :end THEN amount_minor ELSE 0 END) AS p_end,
           SUM(CASE WHEN paid_on <= :before THEN amount_minor ELSE 0 END) AS p_before,
           SUM(amount_minor) AS p_all
    FROM payments WHERE invoice_id IS NOT NULL GROUP BY invoice_id
), inv AS (
    SELECT i.customer_id, i.currency, i.issue_date, i.due_date, i.amount_minor AS amt,
           COALESCE(p.p_end, 0) AS p_end, COALESCE(p.p_before, 0) AS p_before,
           -- what left the invoice without a payment (ERP adjustment, --snapshot close),
           -- dated by the import that recorded it
           i.amount_minor - i.open_minor - COALESCE(p.p_all, 0) AS adj,
           date(i.updated_at, :adj_shift) AS adj_on
    FROM invoices i LEFT JOIN pay p ON p.invoice_id = i.id
    WHERE i.issue_date <= :end
)
SELECT q.collector_id, inv.currency,
       SUM(CASE WHEN issue_date >= :start THEN amt ELSE 0 END),
       SUM(amt - p_end - CASE WHEN adj_on <= :end THEN adj ELSE 0 END),
       SUM(CASE WHEN due_date >= :end
                THEN amt - p_end - CASE WHEN adj_on <= :end THEN adj ELSE 0 END
                ELSE 0 END),
       SUM(CASE WHEN issue_date <= :before
                THEN amt - p_before - CASE WHEN adj_on <= :before THEN adj ELSE 0 END
                ELSE 0 END)
FROM inv LEFT JOIN queue q ON q.customer_id = inv.customer_id
GROUP BY q.collector_id, inv.currency
"""
# Cash on hand at a date: received by then and not applied to an invoice issued by then
# (an invoice issued later is not in the receivables of that date; its payment was still
# unapplied cash then).
METRICS_CASH_SQL = """
SELECT q.collector_id, p.currency,
       SUM(CASE WHEN p.paid_on <= :end AND (p.invoice_id IS NULL OR i.issue_date > :end)
                THEN p.amount_minor END),
       SUM(CASE WHEN p.paid_on <= :before
                     AND (p.invoice_id IS NULL OR i.issue_date > :before)
                THEN p.amount_minor END),
       SUM(CASE WHEN p.paid_on BETWEEN :start AND :end THEN p.amount_minor END)
FROM payments p LEFT JOIN invoices i ON i.id = p.invoice_id
LEFT JOIN queue q ON q.customer_id = p.customer_id
GROUP BY q.collector_id, p.currency
"""
# Promised: the amount of the promises made in the period (money, per currency); one
# superseded by a renegotiation (cancelled) is not counted twice.
METRICS_PROMISED_SQL = """
SELECT created_by, currency, SUM(amount_minor)
FROM promises WHERE promised_on BETWEEN :start AND :end
AND status != 'cancelled'  -- voided, superseded: never promised, or counted in the new one
GROUP BY created_by, currency
"""
# Written off: what was forgiven in the period (queue/writeoffs.py: write-offs and the
# rest of a settlement paid), per owner and currency; a voided one was never forgiven.
METRICS_WRITTEN_OFF_SQL = """
SELECT q.collector_id, w.currency, SUM(w.amount_minor)
FROM writeoffs w LEFT JOIN queue q ON q.customer_id = w.customer_id
WHERE w.at >= :start_at AND w.at < :end_at AND w.voided_at IS NULL
GROUP BY q.collector_id, w.currency
"""
# Kept rate: the promises that came due in the period and were decided. A promise comes
# due at its deadline, due date + grace days (``decide_after``), the day after which
# dunning/queue/promises.py decides it broken or partial; kept ones count at their
# deadline too, even when paid early.
METRICS_PROMISES_SQL = """
SELECT created_by, SUM(status = 'kept'), SUM(status IN ('kept', 'partial', 'broken'))
FROM promises WHERE decide_after BETWEEN :start AND :end
GROUP BY created_by
"""
# Calls per collector and quarter hour (UTC): every zone's offset is a whole number of
# quarter hours, so each quarter lies in one day of the team's zone; Python adds the
# quarters up into the team's days (first-to-last activity span per day).
METRICS_CALLS_SQL = """
SELECT collector_id,
       substr(at, 1, 14) || printf('%02d', CAST(substr(at, 15, 2) AS INTEGER) / 15 * 15),
       SUM(attempt), SUM(contact), SUM(rpc), MIN(at), MAX(at)
FROM activities a WHERE at >= :start_at AND at < :end_at AND collector_id IS NOT NULL
AND NOT EXISTS (SELECT 1 FROM voids v WHERE v.activity_id = a.id)  -- taken back
GROUP BY 1, 2
"""


def _ratio(num: float, den: float, scale: float = 1.0) -> float | None:
    return round(num / den * scale, 2) if den else None


def _days_of(amount: int, credit_sales: int, days: int) -> float | None:
    """Days of credit sales an amount stands for, unrounded; None without positive
    credit sales (credit notes only would give a negative figure)."""
    return amount * days / credit_sales if credit_sales > 0 else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


@dataclass
class Metrics:
    """Money metrics of one collector (or ``TEAM``) in one currency."""

    collector: str
    currency: str
    days: int
    credit_sales: int = 0
    receivables_begin: int = 0
    receivables_end: int = 0
    current_end: int = 0
    collected: int = 0
    promised: int = 0
    written_off: int = 0

    def add(self, o: Metrics) -> None:
        for name in ("credit_sales", "receivables_begin", "receivables_end", "current_end",
                     "collected", "promised", "written_off"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(o, name))

    @property
    def dso(self) -> float | None:
        """Blank without positive credit sales (credit notes only give a negative DSO)."""
        return _round(_days_of(self.receivables_end, self.credit_sales, self.days))

    @property
    def bpdso(self) -> float | None:
        return _round(_days_of(self.current_end, self.credit_sales, self.days))

    @property
    def add_days(self) -> float | None:
        """Average days delinquent = DSO - BPDSO, from the unrounded figures (rounded
        once, at the end: the difference of two rounded figures can be 0.01 off)."""
        dso = _days_of(self.receivables_end, self.credit_sales, self.days)
        bpdso = _days_of(self.current_end, self.credit_sales, self.days)
        if dso is None or bpdso is None:
            return None
        return round(dso - bpdso, 2)

    @property
    def cei(self) -> float | None:
        base = self.receivables_begin + self.credit_sales
        return _ratio(base - self.receivables_end, base - self.current_end, 100)


@dataclass
class ActivityMetrics:
    """Promise and call figures of one collector (or ``TEAM``), in no currency."""

    collector: str
    promises_due: int = 0
    promises_kept: int = 0
    attempts: int = 0
    contacts: int = 0
    rpc: int = 0
    hours: float = 0.0  # each day's first-to-last activity span, summed

    def add(self, o: ActivityMetrics) -> None:
        for f in fields(self):
            if f.name != "collector":
                setattr(self, f.name, getattr(self, f.name) + getattr(o, f.name))

    @property
    def kept_rate(self) -> float | None:
        return _ratio(self.promises_kept, self.promises_due, 100)

    @property
    def rpc_rate(self) -> float | None:
        return _ratio(self.rpc, self.attempts, 100)

    @property
    def contacts_per_hour(self) -> float | None:
        return _ratio(self.contacts, self.hours) if self.hours >= 0.25 else None


@dataclass
class MetricsReport:
    start: date
    end: date
    days: int
    money: list[Metrics] = field(default_factory=list)  # per collector and currency, TEAM
    activity: list[ActivityMetrics] = field(default_factory=list)  # per collector, TEAM


def day_start(day: date, tz: tzinfo) -> str:
    """00:00 of ``day`` in the team's zone, as stored instants compare ('' before
    every instant, '~' after every one, when out of range)."""
    try:
        return to_iso(datetime.combine(day, time(0, 0), tzinfo=tz))
    except (OverflowError, ValueError):
        return "" if day.year < 2 else "~"


def _params(start: date, end: date, tz: tzinfo) -> dict[str, str]:
    """Dates as SQL compares them; a day before 0001-01-01 is '' (before every date) and
    the instant after 9999-12-31 is '~' (after every timestamp). Instants (activities,
    imports) are bounded by the team's midnights, not UTC's."""
    try:
        before = (start - timedelta(days=1)).isoformat()
    except OverflowError:
        before = ""
    try:
        end_at = day_start(end + timedelta(days=1), tz)
    except OverflowError:
        end_at = "~"
    try:  # an import's instant -> the team's date (the offset at the end of the period)
        offset = datetime.combine(end, time(12, 0), tzinfo=tz).utcoffset() or timedelta(0)
    except (OverflowError, ValueError):
        offset = timedelta(0)
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "before": before,
        "start_at": day_start(start, tz),
        "end_at": end_at,
        "adj_shift": f"{int(offset.total_seconds() // 60):+d} minutes",
    }


def _order(name: str) -> tuple[bool, str]:
    return name == UNASSIGNED, name


def metrics(conn: sqlite3.Connection, start: date, end: date, tz: tzinfo = UTC) -> MetricsReport:
    """The metrics of [start, end] (inclusive), days of the team's zone ``tz`` (the
    ``team_tz`` setting). Ledger metrics follow DOMAIN.md."""
    if end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    names = {r[0]: r[1] for r in conn.execute("SELECT id, username FROM collectors")}
    days = (end - start).days + 1
    p = _params(start, end, tz)
    money: dict[tuple[str, str], Metrics] = {}

    def who(cid: int | None) -> str:
        return names.get(cid, UNASSIGNED) if cid is not None else UNASSIGNED

    def get(cid: int | None, currency: str) -> Metrics:
        m = money.get((who(cid), currency))
        if m is None:
            m = money[(who(cid), currency)] = Metrics(who(cid), currency, days)
        return m

    for cid, cur, sales, end_r, current, begin_r in conn.execute(METRICS_LEDGER_SQL, p):
        m = get(cid, cur)
        m.credit_sales += sales or 0
        m.receivables_end += end_r or 0
        m.current_end += current or 0
        m.receivables_begin += begin_r or 0
    for cid, cur, cash_end, cash_before, collected in conn.execute(METRICS_CASH_SQL, p):
        m = get(cid, cur)
        m.receivables_end -= cash_end or 0
        m.receivables_begin -= cash_before or 0
        m.collected += collected or 0
    for cid, cur, promised in conn.execute(METRICS_PROMISED_SQL, p):
        get(cid, cur).promised += promised or 0
    for cid, cur, forgiven in conn.execute(METRICS_WRITTEN_OFF_SQL, p):
        get(cid, cur).written_off += forgiven or 0

    activity: dict[str, ActivityMetrics] = defaultdict(lambda: ActivityMetrics(""))
    for m in money.values():
        activity[m.collector].collector = m.collector  # owners of accounts, even idle
    for cid, kept, due in conn.execute(METRICS_PROMISES_SQL, p):
        a = activity[who(cid)]
        a.collector = who(cid)
        a.promises_kept += kept or 0
        a.promises_due += due or 0
    spans: dict[tuple[int, date], list[str]] = {}
    for cid, quarter, attempts, contacts, rpc, first, last in conn.execute(METRICS_CALLS_SQL, p):
        a = activity[who(cid)]
        a.collector = who(cid)
        a.attempts += attempts or 0
        a.contacts += contacts or 0
        a.rpc += rpc or 0
        day = from_iso(f"{quarter}:00Z").astimezone(tz).date()
        span = spans.setdefault((cid, day), [first, last])
        span[0], span[1] = min(span[0], first), max(span[1], last)
    for (cid, _day), (first, last) in spans.items():  # whole seconds, as stored
        activity[who(cid)].hours += (from_iso(last) - from_iso(first)).total_seconds() / 3600

    rows = sorted(money.values(), key=lambda m: (*_order(m.collector), m.currency))
    team: dict[str, Metrics] = {}
    for m in rows:
        team.setdefault(m.currency, Metrics("TEAM", m.currency, days)).add(m)
    people = sorted(activity.values(), key=lambda a: _order(a.collector))
    total = ActivityMetrics("TEAM")
    for a in people:
        total.add(a)  # the team's rates are totals over totals: rpc / attempts...
    return MetricsReport(start, end, days, rows + [team[c] for c in sorted(team)], [*people, total])
