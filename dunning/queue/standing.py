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
import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta

from dunning.clock import from_iso
from dunning.money import minor_digits
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
    d_cls, d_add, d_until = dpd_term(today, oldest_due, settings)
    c_cls, c_add, c_until = contact_term(today, last_contact, settings)
    return Standing(d_cls | c_cls, constant + d_add + c_add, _first(d_until, c_until))


Term = tuple[int, float, "date | None"]


def dpd_term(today: date, oldest_due: date | None, settings: Settings) -> Term:
    """(class bit, what it adds to the key, the day it changes) of days past due: 0 before
    the due date, ``a`` a day until the cap, the cap's points after."""
    if oldest_due is None:
        return 0, 0.0, None
    a = slopes(settings)[0]
    cap = settings.weights.days_past_due_cap
    dpd = (today - oldest_due).days
    if dpd < 0:
        return 0, 0.0, oldest_due
    if dpd < cap and a != 0:
        return DPD, -(a * (oldest_due - EPOCH).days), oldest_due + timedelta(days=cap)
    return 0, a * cap if dpd >= cap else a * dpd, None


def contact_term(today: date, last_contact: date | None, settings: Settings) -> Term:
    """The same for days since contact (never contacted counts as the cap)."""
    b = slopes(settings)[1]
    cap = settings.weights.since_contact_cap
    if last_contact is None:
        return 0, b * cap, None
    days = (today - last_contact).days
    if days < 0:
        return 0, 0.0, last_contact
    if days < cap and b != 0:
        return CONTACT, -(b * (last_contact - EPOCH).days), last_contact + timedelta(days=cap)
    return 0, b * cap if days >= cap else b * days, None


def exact_on(st: Standing, day: date, settings: Settings) -> float:
    """The score on ``day`` (before ``st.until``), the two day terms unrounded."""
    if st.cls == 0:
        return st.key
    return st.key + slope(st.cls, settings) * (day - EPOCH).days


def _first(a: date | None, b: date | None) -> date | None:
    if a is None:
        return b
    return a if b is None or a <= b else b


# --- stored: (pclass, pkey, restand_on) on the queue row (m022) ------------------------
# pkey is the key in millionths of a point, an integer: ordered exactly by SQLite, and the
# same integer every night for the same inputs (so a row whose standing did not change
# compares equal and is not written).
MICRO = 1_000_000


def stored(st: Standing) -> tuple[int, int, str | None]:
    """(pclass, pkey, restand_on) as the queue row keeps them."""
    return st.cls, round(st.key * MICRO), st.until.isoformat() if st.until else None


def value_on(cls: int, pkey: int, day: date, settings: Settings) -> float:
    """Today's value of a stored standing, in millionths of a point (the claim's order
    across the four classes; within one class it is the order of ``pkey``)."""
    if cls == 0:
        return float(pkey)
    return pkey + slope(cls, settings) * MICRO * (day - EPOCH).days


class Stander:
    """``stored(standing(...))`` for many accounts on one day, the parts that depend on one
    date (days past due, days since contact) and on the risk worked out once and kept: an
    account costs its balance term and a few look-ups. The key is summed in ``standing``'s
    order (constant, then the days past due, then the contact), so it is the same float
    (tests/test_standing.py compares them)."""

    def __init__(self, today: date, settings: Settings) -> None:
        self.today = today
        self.settings = settings
        w = settings.weights
        self._dpd: dict[date | None, Term] = {}
        self._contact: dict[date | None, Term] = {}
        self._risk: dict[int, float] = {}
        self._fx: dict[str, float] = {}
        self._action = {"callback": w.callback_due}
        self._action["promise_check"] = self._action["instalment_check"] = w.promise_check

    def stored(
        self,
        oldest_due: date | None,
        last_contact: date | None,
        open_minor: int,
        currency: str,
        digits: int,
        broken_promise: bool,
        next_action: str,
        risk_score: int,
    ) -> tuple[int, int, str | None]:
        w = self.settings.weights
        pts = 0.0
        if open_minor > 0:
            fx = self._fx.get(currency)
            if fx is None:
                fx = self._fx[currency] = self.settings.fx_to_base.get(currency, 1.0)
            bal = w.balance * math.log10(max(open_minor / (10**digits) * fx, 1.0))
            if bal > 0:
                pts += round(bal, 1)
        if broken_promise:
            pts += w.broken_promise
        act = self._action.get(next_action)
        if act is not None:
            pts += act
        if risk_score > 0:
            r = self._risk.get(risk_score)
            if r is None:
                r = self._risk[risk_score] = round(w.risk * risk_score / 100, 1)
            pts += r
        d = self._dpd.get(oldest_due)
        if d is None:
            d = self._dpd[oldest_due] = dpd_term(self.today, oldest_due, self.settings)
        c = self._contact.get(last_contact)
        if c is None:
            c = self._contact[last_contact] = contact_term(self.today, last_contact, self.settings)
        until = _first(d[2], c[2])
        return d[0] | c[0], round((pts + d[1] + c[1]) * MICRO), until.isoformat() if until else None


FILL_CHUNK = 50_000


def fill(conn: sqlite3.Connection, settings: Settings) -> int:
    """Every queue row's standing from what it stores, as of the day it was last written
    (``updated_at``): m022 on an existing database, the demo build after its rows. A
    standing whose ``restand_on`` has come since is put right by the next refresh (the
    refresh compares standings). Inside the caller's transaction; returns rows filled."""
    done = 0
    last = 0
    digits: dict[str, int] = {}
    standers: dict[str, Stander] = {}
    while True:
        rows = conn.execute(
            """SELECT q.customer_id, q.oldest_due, q.open_minor + q.unapplied_minor,
                      q.broken_promise, q.next_action, q.last_contact_at,
                      substr(q.updated_at, 1, 10), c.currency, c.risk_score
               FROM queue q JOIN customers c ON c.id = q.customer_id
               WHERE q.customer_id > ? ORDER BY q.customer_id LIMIT ?""",
            (last, FILL_CHUNK),
        ).fetchall()
        if not rows:
            return done
        out = []
        for cid, oldest, owed, broken, action, contact, day, currency, risk in rows:
            d = digits.get(currency)
            if d is None:
                d = digits[currency] = minor_digits(currency)
            stander = standers.get(day)
            if stander is None:
                stander = standers[day] = Stander(date.fromisoformat(day), settings)
            out.append(
                (
                    *stander.stored(
                        date.fromisoformat(oldest) if oldest else None,
                        from_iso(contact).date() if contact else None,
                        owed if owed > 0 else 0,
                        currency,
                        d,
                        bool(broken),
                        action,
                        risk,
                    ),
                    cid,
                )
            )
        conn.executemany(
            "UPDATE queue SET pclass = ?, pkey = ?, restand_on = ? WHERE customer_id = ?", out
        )
        done += len(out)
        last = rows[-1][0]
