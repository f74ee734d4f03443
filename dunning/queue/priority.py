"""The explainable priority score.

Each term yields points and a reason the collector sees ("61 days past due", "broken
promise"...). The score is the sum; it is stored x100 as an integer so the worklist
index orders it exactly. Weights live in configuration (queue/config.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from dunning.queue.config import Settings

# (code, points, params) -- params feed the translated label on screen
Reason = tuple[str, float, dict[str, object]]


@dataclass(frozen=True)
class PriorityInputs:
    today: date
    oldest_due: date | None  # oldest open, undisputed invoice due date
    open_minor: int  # open, undisputed balance (customer currency, minor units)
    currency: str
    minor_digits: int  # 2 for USD, 0 for JPY ...
    broken_promise: bool
    next_action: str  # call, callback, promise_check, verify_payment, ...
    last_contact: date | None
    risk_score: int  # 0..100


def score(inp: PriorityInputs, settings: Settings) -> tuple[int, list[Reason]]:
    w = settings.weights
    reasons: list[Reason] = []
    if inp.oldest_due is not None:
        dpd = (inp.today - inp.oldest_due).days
        if dpd > 0:
            pts = w.days_past_due * min(dpd, w.days_past_due_cap) / 30
            reasons.append(("days_past_due", round(pts, 1), {"days": dpd}))
    if inp.open_minor > 0:
        major = inp.open_minor / (10**inp.minor_digits)
        base = major * settings.fx_to_base.get(inp.currency, 1.0)
        pts = w.balance * math.log10(max(base, 1.0))
        if pts > 0:
            reasons.append(
                ("balance", round(pts, 1), {"minor": inp.open_minor, "currency": inp.currency})
            )
    if inp.broken_promise:
        reasons.append(("broken_promise", w.broken_promise, {}))
    if inp.next_action == "callback":
        reasons.append(("callback_due", w.callback_due, {}))
    elif inp.next_action in ("promise_check", "instalment_check"):
        reasons.append(("promise_check", w.promise_check, {}))
    if inp.last_contact is None:
        days = None
        pts = w.since_contact * w.since_contact_cap / 7
    else:
        days = (inp.today - inp.last_contact).days
        pts = w.since_contact * min(max(days, 0), w.since_contact_cap) / 7
    if pts > 0:
        reasons.append(("since_contact", round(pts, 1), {"days": days}))
    if inp.risk_score > 0:
        reasons.append(("risk", round(w.risk * inp.risk_score / 100, 1), {"score": inp.risk_score}))
    reasons = [r for r in reasons if r[1] != 0]  # a term weighted 0 is no reason
    reasons.sort(key=lambda r: -r[1])
    total = sum(r[1] for r in reasons)
    return int(round(total * 100)), reasons
