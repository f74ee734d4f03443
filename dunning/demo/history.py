"""The demo account's main event, its ledger rows and its queue row (see demo_account).

Events mirror what ``queue.outcomes.log_outcome`` writes (details JSON keys, next
actions) and what ``queue.promises.evaluate_promises`` decides (status, system
activity, broken-promise flag), so demo history reads like history the app made.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from dunning.clock import to_iso
from dunning.demo import data as D
from dunning.money import minor_digits
from dunning.queue.accounts import (
    CLOSED_STATUSES,
    HOLD_STATUSES,
    REVIEW_ACTIONS,
    await_due,
    first_past_due,
)
from dunning.queue.config import Settings
from dunning.queue.outcomes import OUTCOMES
from dunning.queue.priority import Scorer
from dunning.queue.standing import Stander

if TYPE_CHECKING:
    from dunning.demo.account import _History
    from dunning.demo.gen import Generator

Row = tuple[object, ...]

# invoice fields (lists, edited in place until emitted)
ISSUE, DUE, AMOUNT, OPEN, STATUS, DISPUTED, PAID_DAY, PAID, ID, PROMISE_DUE = range(10)
GRACE = 2
FLAGS = {
    k: (int(f.attempt), int(f.contact), int(f.rpc), int(f.worked)) for k, f in OUTCOMES.items()
}
DEPARTMENT = {"pricing": "sales", "not_received": "customer_service",
              "damaged": "customer_service", "quality": "customer_service",
              "billing_error": "billing", "duplicate": "billing", "other": "sales"}  # fmt: skip


def event(
    g: Generator,
    h: _History,
    cid: int,
    scen: str,
    ev: int,
    ago: int,
    region: D.Region,
    lang: str,
    cur: str,
    coll: int,
    inv: list[list],
    target: list | None,
    usable: list[int],
    kept: list | None,
) -> None:
    """The account's last collector activity and what it created."""
    rr = g.rng.random
    o0 = g.o0
    iso = g.iso
    out = g.out
    n = g.n
    sec = g.call_second(region)
    at = g.ts(ev, sec)
    aid = n["activity"] + 1
    phone = usable[int(rr() * len(usable))] if usable else None
    oc = scen
    # the details' JSON is written as json.dumps writes it (same keys, order, separators;
    # every value is ASCII without quotes): a quarter of event()'s CPU was json.dumps
    details: str | None = None
    rpc: int | None = None
    decided: tuple[str, int, str] | None = None  # promise status, paid, decided_at
    open_then = [x for x in inv if x[STATUS] == "open" and x[OPEN] > 0 and x[ISSUE] <= ev]
    total = sum(x[OPEN] for x in open_then)
    if scen == "callback":
        day = max(ev + 1, g.t + (0, 0, 0, 1, 1, 2)[int(rr() * 6)])
        h.na, h.nat = "callback", g.ts(day, g.call_second(region))
        details = f'{{"callback_at": "{h.nat}"}}'
        rpc = int(rr() < 0.3)
    elif scen.startswith("ptp_"):
        assert target is not None
        oc = "promise_to_pay"
        if kept is not None:
            amount, due = kept[AMOUNT], kept[PROMISE_DUE]
        elif scen == "ptp_pending":
            due = max(ev, g.t - 2 + int(rr() * 16))
            amount = target[OPEN] if rr() < 0.6 else total
        else:  # broken or partial: the grace period ended at least two days ago
            due = ev + 1 + int(rr() * min(10, ago - 4))
            amount = target[OPEN] if scen == "ptp_partial" or rr() < 0.6 else total
        details = f'{{"amount_minor": {amount}, "date": "{iso[due - o0]}"}}'
        h.na, h.nat = "promise_check", g.ts0[due + GRACE - o0]
        if kept is not None:
            decided = ("kept", amount, g.ts6[kept[PAID_DAY] + 1 - o0])
        elif scen == "ptp_broken":
            decided = ("broken", 0, g.ts6[due + GRACE + 1 - o0])
        elif scen == "ptp_partial":
            paid = max(1, int(amount * (0.3 + 0.4 * rr())))
            target[OPEN] -= paid
            target[PAID], target[PAID_DAY] = paid, ev + int(rr() * (due - ev + 1))
            decided = ("partial", paid, g.ts6[due + GRACE + 1 - o0])
        n["promise"] += 1
        out["promises"].extend(
            (n["promise"], cid, aid, None, None, amount, cur, iso[ev - o0], iso[due - o0],
             GRACE, decided[0] if decided else "pending", decided[1] if decided else 0,
             decided[2] if decided else None, at, coll, g.ts0[due + GRACE + 1 - o0])
        )  # fmt: skip
    elif scen == "plan":
        oc = "payment_plan"
        first = max(ev, g.t - 2 + int(rr() * 12))
        days = (first, first + 30, first + 61)
        part = total // 3
        amounts = (part, part, total - 2 * part)
        parts = ", ".join(f'[{a}, "{iso[d - o0]}"]' for a, d in zip(amounts, days, strict=True))
        details = f'{{"instalments": [{parts}]}}'
        for i, (a, d) in enumerate(zip(amounts, days, strict=True), start=1):
            n["promise"] += 1
            out["promises"].extend(
                (n["promise"], cid, aid, f"plan-{aid}", i, a, cur, iso[ev - o0],
                 iso[d - o0], GRACE, "pending", 0, None, at, coll, g.ts0[d + GRACE + 1 - o0])
            )  # fmt: skip
        h.na, h.nat = "instalment_check", g.ts0[first + GRACE - o0]
    elif scen == "paid_claim":
        assert target is not None
        oc = "paid"
        amount = target[OPEN] if rr() < 0.7 else total
        paid_on = iso[ev - int(rr() * 5) - o0]
        refs = g.langs[lang].refs
        ref = f"{refs[int(rr() * len(refs))]} {100000 + int(rr() * 900000)}"
        details = f'{{"amount_minor": {amount}, "date": "{paid_on}", "reference": "{ref}"}}'
        n["report"] += 1
        out["payment_reports"].extend((n["report"], cid, aid, amount, cur, paid_on, ref, at, coll))
        h.na, h.nat = "verify_payment", g.ts(g.add_business_days(ev, 3), sec)
    elif scen in ("dispute", "dispute_all"):
        assert target is not None
        oc = "dispute"
        if scen == "dispute_all":
            chosen = open_then
        else:
            chosen = [target]
            others = [x for x in open_then if x is not target]
            if others and rr() < 0.4:
                chosen.append(others[int(rr() * len(others))])
        reason = D.DISPUTE_REASONS[int(rr() * len(D.DISPUTE_REASONS))]
        dept = DEPARTMENT[reason]
        ids = sorted(x[ID] for x in chosen)
        for x in chosen:
            x[DISPUTED] = 1
        n["dispute"] += 1
        out["disputes"].extend(
            (n["dispute"], cid, aid, reason, dept, sum(x[OPEN] for x in chosen), cur, "open",
             at, coll, None, None)
        )  # fmt: skip
        for i in ids:
            out["dispute_invoices"].extend((n["dispute"], i))
        details = (
            f'{{"invoice_ids": [{", ".join(map(str, ids))}], "reason": "{reason}", '
            f'"department": "{dept}"}}'
        )
        h.na, h.nat = "call", g.ts(g.add_business_days(ev, 1), sec)
    elif scen == "refused":
        h.na, h.nat = "lead_review", at
    elif scen in ("credit_hold", "legal", "agency"):
        oc, phone = "escalated", None
        details = f'{{"escalation": "{scen}"}}'
        if scen == "credit_hold":
            h.na, h.nat = "call", g.ts(g.add_business_days(ev, 1), sec)
        else:
            h.na, h.nat = scen, at
    else:  # cease: a written request, noted; the account is on hold
        oc, phone = "note", None
    flags = FLAGS[oc]
    if rpc is not None:
        flags = (flags[0], flags[1], rpc, flags[3])
    notes = g.langs[lang].notes["cease" if scen == "cease" else oc]
    n["activity"] += 1
    out["activities"].extend(
        (aid, cid, coll, at, oc, *flags, phone, notes[int(rr() * len(notes))], h.na, h.nat,
         details)
    )  # fmt: skip
    h.saw(flags, at, ev)
    if decided is not None:  # what evaluate_promises wrote when it decided
        status, paid, when = decided
        n["activity"] += 1
        out["activities"].extend(
            (n["activity"], cid, None, when, "system", 0, 0, 0, 0, None, f"promise {status}",
             None, None,
             f'{{"promise_id":{n["promise"]},"status":"{status}","from":"pending",'
             f'"paid_minor":{paid}}}')
        )  # fmt: skip
        h.na, h.nat = "call", when
        h.broken = int(status != "kept")


def emit_ledger(
    g: Generator,
    cid: int,
    cur: str,
    inv: list[list],
    base: float,
    created_day: int,
    pay_before: int,
) -> int:
    """Invoice and payment rows, plus a few credit notes and unapplied cash.

    Returns the account's credits (open credit notes + unapplied cash, <= 0)."""
    rr = g.rng.random
    o0, t = g.o0, g.t
    iso, ts5, ts6 = g.iso, g.ts5, g.ts6
    n = g.n
    invoices, payments = g.out["invoices"], g.out["payments"]
    for x in inv:
        iid = x[ID]
        # printf-style: half the CPU of an f-string's {:07d}, and 8 of these a customer
        number = "INV-%07d" % iid  # noqa: UP031
        created = ts5[x[ISSUE] - o0]
        if x[PAID]:
            day = x[PAID_DAY] - o0
            n["payment"] += 1
            pid = n["payment"]
            ref = "PAY-%07d" % pid  # noqa: UP031
            payments.extend((pid, cid, iid, ref, x[PAID], cur, iso[day], number, ts6[day]))
            updated = ts6[day]
        else:
            updated = created
        invoices.extend(
            (iid, cid, number, iso[x[ISSUE] - o0], iso[x[DUE] - o0], x[AMOUNT], x[OPEN], cur,
             x[STATUS], x[DISPUTED], created, updated)
        )  # fmt: skip
    credits = 0
    if rr() < 0.04:  # a credit note not yet applied
        day = t - 3 - int(rr() * 50) - o0
        amount = -(int(base * (0.05 + 0.25 * rr())) + 100)
        n["invoice"] += 1
        iid = n["invoice"]
        invoices.extend(
            (iid, cid, f"CN-{iid:07d}", iso[day], iso[day], amount, amount, cur, "open", 0,
             ts5[day], ts5[day])
        )  # fmt: skip
        credits += amount
    if rr() < 0.03:  # cash received that names no invoice
        hi = min(t, pay_before) - 1
        lo = max(created_day + 1, t - 120)
        if hi >= lo:
            day = lo + int(rr() * (hi - lo + 1)) - o0
            amount = int(base * (0.1 + 0.4 * rr())) + 100
            n["payment"] += 1
            pid = n["payment"]
            payments.extend((pid, cid, None, f"PAY-{pid:07d}", amount, cur, iso[day], "", ts6[day]))
            credits -= amount
    return credits


def queue_input(
    g: Generator,
    h: _History,
    cid: int,
    coll: int,
    status: str,
    cur: str,
    risk: int,
    inv: list[list],
    credits: int,
    usable: int,
) -> None:
    """What the account's queue row is computed from (see QueueMaker), or, on the slow
    path, the values refresh_accounts starts from."""
    if not g.cfg.direct_queue:
        g.out["queue_seed"].append(
            (cid, coll, h.last_contact, h.last_attempt, h.na, h.nat, h.broken)
        )
        return
    open_minor = disputed = overdue = 0
    oldest = 0
    for x in inv:
        if x[STATUS] == "open" and x[OPEN] > 0:
            if x[DISPUTED]:
                disputed += x[OPEN]
            else:
                open_minor += x[OPEN]
                if x[DUE] < g.t:
                    overdue += x[OPEN]
                if not oldest or x[DUE] < oldest:
                    oldest = x[DUE]
    # as accounts._balances: the first day money is past due net of credits
    due_from = None
    if oldest and open_minor + credits > 0:
        if overdue + credits > 0:
            due_from = g.iso[oldest + 1 - g.o0]
        else:
            due_from = first_past_due(
                ((g.iso[x[DUE] - g.o0], x[OPEN]) for x in inv
                 if x[STATUS] == "open" and x[OPEN] > 0 and not x[DISPUTED]),
                credits,
            )  # fmt: skip
    g.out["queue_input"].append(
        (cid, coll, status, cur, risk, open_minor, disputed, credits, oldest, usable, h.na,
         h.nat, h.last_contact, h.contact_day, h.last_attempt, h.broken, due_from)
    )  # fmt: skip


class QueueMaker:
    """Queue rows exactly as refresh_accounts would write them: ``derive_state`` (here
    inline, as in ``accounts.RowMaker``) and ``priority.Scorer`` (``score`` with its
    reasons as JSON, cached by day); tests/test_demo.py checks both paths agree."""

    def __init__(self, now: datetime, settings: Settings) -> None:
        self.now_iso = to_iso(now)
        self.today = now.date()
        self.settings = settings
        self.digits = {c: minor_digits(c) for c in D.FX_PER_USD}
        self.scorer = Scorer(self.today, settings)
        self.stander = Stander(self.today, settings)
        self._days: dict[int, date] = {}
        self._iso: dict[int, str] = {}

    def rows(self, inputs: list[Row]) -> list[object]:
        """Queue rows for ``inputs``, flat (row after row), as the loader takes them."""
        out: list[object] = []
        row = self.row
        for q in inputs:
            out.extend(row(q))
        return out

    def _day(self, ordinal: int) -> date:
        d = self._days.get(ordinal)
        if d is None:
            d = self._days[ordinal] = date.fromordinal(ordinal)
        return d

    def row(self, q: Row) -> Row:
        (cid, coll, status, cur, risk, open_minor, disputed, credits, oldest, usable, na, nat,
         last_contact, contact_day, last_attempt, broken, due_from) = q  # fmt: skip
        now_iso = self.now_iso
        if oldest:
            oldest_due: date | None = self._day(oldest)
            oldest_iso = self._iso.get(oldest)
            if oldest_iso is None:
                oldest_iso = self._iso[oldest] = oldest_due.isoformat()  # type: ignore[union-attr]
        else:
            oldest_due = oldest_iso = None
        na, nat = await_due(na, nat, due_from, now_iso)
        # derive_state
        if status in CLOSED_STATUSES:
            state = "closed"
        elif status in HOLD_STATUSES:
            state = "hold"
        elif open_minor + credits <= 0:
            state = "disputed" if disputed > 0 else "closed"
        elif na in REVIEW_ACTIONS:
            state = "review"
        elif usable == 0:
            state = "no_phone"
        else:
            state = "ready" if nat <= now_iso else "waiting"
        digits = self.digits.get(cur)
        if digits is None:
            digits = minor_digits(cur)
        owed = open_minor + credits if open_minor + credits > 0 else 0
        contact = self._day(contact_day) if last_contact else None
        prio, reasons = self.scorer.json_reasons(
            oldest_due, owed, cur, digits, bool(broken), na, contact, risk
        )
        pclass, pkey, restand = self.stander.stored(
            oldest_due, contact, owed, cur, digits, bool(broken), na, risk
        )
        return (cid, coll, state, prio, reasons, na, nat, open_minor, disputed,
                credits, oldest_iso, last_contact, last_attempt, broken, None, None,
                now_iso, pclass, pkey, restand)  # fmt: skip
