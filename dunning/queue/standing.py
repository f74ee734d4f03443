"""The priority in a form that does not move with the date (issue 8, round 4; the design
and what is left: docs/ROUND4_r3.md).

``priority.score`` is a sum of terms. Two of them move with the date, linearly until a
cap: days past due (``w.days_past_due`` points per 30 days, from 0 to
``days_past_due_cap`` days) and days since contact (``w.since_contact`` per 7 days, to
``since_contact_cap``). The others (balance, broken promise, callback or promise check,
risk) do not. An account's *standing* is

    (cls, key, until)

- ``cls``: which of the two day terms is on its slope (bit 1: days past due, bit 2: days
  since contact), so one of 4 classes;
- ``key``: the exact score less ``slope(cls) x (day - EPOCH)``: the same on every day of
  the class, so ordering a class by ``key`` is ordering it by today's score, every day;
- ``until``: the first day the class changes (a term reaches its cap, or money not yet
  past due starts to count), known in advance; None: never, while the inputs stay.

On any day ``d`` before ``until``: ``exact_on(standing, d) = key + slope(cls) x (d -
EPOCH)``, the score with the two day terms unrounded (``score`` rounds every term to 0.1:
the two differ by at most 0.05 points a day term; tests/test_standing.py).

So a stored (cls, key) changes only when the account's inputs change (the ledger, an
outcome, a promise) or on ``until``: a night rewrites those rows, not every row whose day
counts moved. A claim reads the head of each class, computes today's value of the four
and takes the best (ties: the lower customer id, as the worklist does today).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from dunning.queue.config import Settings

EPOCH = date(2000, 1, 1)
DPD = 1  # class bit: days past due on its slope
CONTACT = 2  # class bit: days since contact on its slope
CLASSES = (0, DPD, CONTACT, DPD | CONTACT)


@dataclass(frozen=True)
class Standing:
    cls: int
    key: float
    until: date | None


def slopes(settings: Settings) -> tuple[float, float]:
    """Points a day of (days past due, days since contact) while below their caps."""
    w = settings.weights
    return w.days_past_due / 30, w.since_contact / 7


def slope(cls: int, settings: Settings) -> float:
    a, b = slopes(settings)
    return (a if cls & DPD else 0.0) + (b if cls & CONTACT else 0.0)


def constant_points(
    open_minor: int,
    currency: str,
    digits: int,
    broken_promise: bool,
    next_action: str,
    risk_score: int,
    settings: Settings,
) -> float:
    """The terms of ``score`` that do not depend on the date, rounded as ``score`` rounds
    them (balance and risk to 0.1)."""
    w = settings.weights
    pts = 0.0
    if open_minor > 0:
        base = open_minor / (10**digits) * settings.fx_to_base.get(currency, 1.0)
        bal = w.balance * math.log10(max(base, 1.0))
        if bal > 0:
            pts += round(bal, 1)
    if broken_promise:
        pts += w.broken_promise
    if next_action == "callback":
        pts += w.callback_due
    elif next_action in ("promise_check", "instalment_check"):
        pts += w.promise_check
    if risk_score > 0:
        pts += round(w.risk * risk_score / 100, 1)
    return pts


def standing(
    today: date,
    oldest_due: date | None,
    last_contact: date | None,
    constant: float,
    settings: Settings,
) -> Standing:
    """The account's standing from ``today`` on (see the module's text)."""
    w = settings.weights
    a, b = slopes(settings)
    key = constant
    cls = 0
    until: date | None = None
    # days past due: 0 before the due date, a x days until the cap, the cap's points after
    if oldest_due is not None:
        dpd = (today - oldest_due).days
        cap = w.days_past_due_cap
        if dpd < 0:
            until = oldest_due
        elif dpd < cap and a != 0:
            cls |= DPD
            key -= a * (oldest_due - EPOCH).days
            until = oldest_due + timedelta(days=cap)
        else:
            key += a * cap if dpd >= cap else a * dpd
    # days since contact: never contacted counts as the cap
    cap = w.since_contact_cap
    if last_contact is None:
        key += b * cap
    else:
        days = (today - last_contact).days
        if days < 0:
            until = _first(until, last_contact)
        elif days < cap and b != 0:
            cls |= CONTACT
            key -= b * (last_contact - EPOCH).days
            until = _first(until, last_contact + timedelta(days=cap))
        else:
            key += b * cap if days >= cap else b * days
    return Standing(cls, key, until)


def exact_on(st: Standing, day: date, settings: Settings) -> float:
    """The score on ``day`` (before ``st.until``), the two day terms unrounded."""
    if st.cls == 0:
        return st.key
    return st.key + slope(st.cls, settings) * (day - EPOCH).days


def _first(a: date | None, b: date) -> date:
    return b if a is None or b < a else a
