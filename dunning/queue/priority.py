"""The explainable priority score.

Each term yields points and a reason the collector sees ("61 days past due", "broken
promise"...). The score is the sum; it is stored x100 as an integer so the worklist
index orders it exactly. Weights live in configuration (queue/config.py).
"""

from __future__ import annotations

import json
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


class Scorer:
    """``score`` for many accounts on one day, with its reasons as JSON text.

    The nightly refresh scores every account: the terms that depend on one small number
    (days past due, days since contact, risk) and the constant ones are worked out once
    with the very arithmetic of ``score`` and kept with their JSON, so that an account
    costs a few dictionary look-ups, its balance term, a sort of a few tuples and a join.
    ``json_reasons`` returns what ``score`` and ``json.dumps`` of its reasons return
    (tests/test_priority.py compares them).

    A term is kept as (-points, place, JSON): sorting the tuples orders the terms by
    points, highest first, ties in ``score``'s order (its sort is stable), and the sum of
    the negated points is exactly the negated sum (IEEE rounding is symmetric)."""

    def __init__(self, today: date, settings: Settings) -> None:
        self.today = today
        self.settings = settings
        w = settings.weights
        self._w = w
        self._dpd: dict[int, Term | None] = {}
        self._contact: dict[int | None, Term | None] = {}
        self._risk: dict[int, Term | None] = {}
        self._cur: dict[str, tuple[int, float, str]] = {}
        self._broken = _term(2, "broken_promise", w.broken_promise, {})
        self._callback = _term(3, "callback_due", w.callback_due, {})
        self._check = _term(3, "promise_check", w.promise_check, {})

    def json_reasons(
        self,
        oldest_due: date | None,
        open_minor: int,
        currency: str,
        digits: int,
        broken_promise: bool,
        next_action: str,
        last_contact: date | None,
        risk_score: int,
    ) -> tuple[int, str]:
        """(priority x100, JSON of the reasons) for these ``PriorityInputs`` fields."""
        w = self._w
        terms: list[Term] = []
        if oldest_due is not None:
            dpd = (self.today - oldest_due).days
            try:
                t = self._dpd[dpd]
            except KeyError:
                t = None
                if dpd > 0:
                    pts = w.days_past_due * min(dpd, w.days_past_due_cap) / 30
                    t = _term(0, "days_past_due", round(pts, 1), {"days": dpd})
                self._dpd[dpd] = t
            if t is not None:
                terms.append(t)
        if open_minor > 0:
            cur = self._cur.get(currency)
            if cur is None or cur[0] != digits:
                fx = self.settings.fx_to_base.get(currency, 1.0)
                cur = self._cur[currency] = (digits, fx, json.dumps(currency))
            base = open_minor / (10**digits) * cur[1]
            pts = w.balance * math.log10(max(base, 1.0))
            if pts > 0:
                r = round(pts, 1)
                if r != 0:
                    params = f'{{"minor": {open_minor}, "currency": {cur[2]}}}'
                    terms.append((-r, 1, f'["balance", {r!r}, {params}]'))
        if broken_promise and self._broken is not None:
            terms.append(self._broken)
        if next_action == "callback":
            if self._callback is not None:
                terms.append(self._callback)
        elif next_action in ("promise_check", "instalment_check") and self._check is not None:
            terms.append(self._check)
        days = None if last_contact is None else (self.today - last_contact).days
        try:
            t = self._contact[days]
        except KeyError:
            if days is None:
                pts = w.since_contact * w.since_contact_cap / 7
            else:
                pts = w.since_contact * min(max(days, 0), w.since_contact_cap) / 7
            t = _term(4, "since_contact", round(pts, 1), {"days": days}) if pts > 0 else None
            self._contact[days] = t
        if t is not None:
            terms.append(t)
        if risk_score > 0:
            try:
                t = self._risk[risk_score]
            except KeyError:
                t = self._risk[risk_score] = _term(
                    5, "risk", round(w.risk * risk_score / 100, 1), {"score": risk_score}
                )
            if t is not None:
                terms.append(t)
        if not terms:
            return 0, "[]"
        terms.sort()
        total = 0.0
        for t in terms:
            total += t[0]
        return int(round(-total * 100)), "[" + ", ".join([t[2] for t in terms]) + "]"


Term = tuple[float, int, str]


def _term(place: int, code: str, pts: float, params: dict[str, object]) -> Term | None:
    """A reason as Scorer keeps it; None for a term weighted 0 (no reason)."""
    if pts == 0:
        return None
    return -pts, place, json.dumps([code, pts, params])
