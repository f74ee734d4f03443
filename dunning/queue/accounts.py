"""Keep each account's queue row in step with its ledger, contacts and history.

``refresh_accounts`` recomputes balances, eligibility state and priority for some or
all customers. Call it inside a write transaction (``write_tx``) after any change that
affects them: an import, a payment, an outcome, a reassignment.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from dunning.clock import Clock, from_iso, to_iso
from dunning.money import minor_digits
from dunning.queue.config import Settings
from dunning.queue.priority import Scorer
from dunning.queue.standing import Stander

CHUNK = 900  # stays under SQLite's default 999 host parameters

HOLD_STATUSES = {"legal", "agency", "cease"}
CLOSED_STATUSES = {"write_off", "closed"}
# next actions that take an account out of the collector's queue until a person acts
REVIEW_ACTIONS = {"lead_review"}
# Nothing is dealt for which no money is past due (net of credits), unless one of these is
# due: the customer asked to be called back, or a promise is to be checked. Otherwise the
# next action waits for the day money falls due: AWAIT_DUE, "call when due".
DUE_ANYWAY = {"callback", "promise_check", "instalment_check"}
AWAIT_DUE = "await_due"


@dataclass(frozen=True)
class Balances:
    open_minor: int = 0  # open, undisputed, positive invoices
    disputed_minor: int = 0
    credits_minor: int = 0  # open credit notes + unapplied cash (<= 0)
    oldest_due: str | None = None
    usable_phones: int = 0
    # the first day some money is past due net of credits (the day after the due date
    # that tips it): exact when in the future, some day <= today when money is past due;
    # None when nothing undisputed is owed
    due_from: str | None = None


def first_past_due(dues: Iterable[tuple[str, int]], credits_minor: int) -> str | None:
    """The day after the due date at which the open, undisputed invoices, oldest first,
    exceed the credits (``credits_minor`` <= 0): from then on money is past due."""
    left = credits_minor
    for due, amount in sorted(dues):
        left += amount
        if left > 0:
            return (date.fromisoformat(due) + timedelta(days=1)).isoformat()
    return None


# Money falls due on the customer's date: the day after the due date has begun wherever a
# customer may be (00:00 at UTC-11, American Samoa, the westernmost inhabited US zone) by
# 11:00 UTC. Before it, an invoice due "yesterday" in UTC may still be due today for the
# customer (19:00 in New York, 14:00 in Hawaii): nothing is dealt for it yet.
DUE_DAY_STARTS = "T11:00:00Z"


def due_instant(due_from: str) -> str:
    """When the day ``due_from`` (the first past-due day) has begun for every customer."""
    return f"{due_from}{DUE_DAY_STARTS}"


def await_due(
    next_action: str, next_action_at: str, due_from: str | None, now_iso: str
) -> tuple[str, str]:
    """The next action once "nothing is dealt with nothing past due" is applied: a call
    (or payment check) before any money is past due for the customer waits, as
    ``await_due``, for the day money falls due to have begun everywhere
    (``due_instant``); an ``await_due`` whose time came is a call again."""
    if next_action == AWAIT_DUE:
        if due_from is None or due_instant(due_from) <= now_iso:
            return "call", min(next_action_at, now_iso)
        return AWAIT_DUE, due_instant(due_from)
    if next_action in DUE_ANYWAY or next_action in REVIEW_ACTIONS:
        return next_action, next_action_at
    if next_action in ("call", "verify_payment") and due_from is not None:
        wake = due_instant(due_from)
        if wake > now_iso and wake > next_action_at:
            return AWAIT_DUE, wake
    return next_action, next_action_at


def derive_state(
    *,
    customer_status: str,
    balances: Balances,
    next_action: str,
    next_action_at: str,
    now_iso: str,
) -> str:
    """Where an account stands; only 'ready' accounts can be claimed.

    Written out inline, for speed, in ``RowMaker.rows`` and the demo's ``QueueMaker.row``:
    a change here goes there too (tests/test_refresh_same.py and tests/test_demo.py
    compare their rows)."""
    if customer_status in CLOSED_STATUSES:
        return "closed"
    if customer_status in HOLD_STATUSES:
        return "hold"
    net = balances.open_minor + balances.credits_minor
    if net <= 0:
        return "disputed" if balances.disputed_minor > 0 else "closed"
    if next_action in REVIEW_ACTIONS:
        return "review"
    if balances.usable_phones == 0:
        return "no_phone"
    return "ready" if next_action_at <= now_iso else "waiting"


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


# what a refresh reads of a queue row, and compares with what it would write
_OLD = (
    "customer_id, state, priority, reasons, next_action, next_action_at, open_minor, "
    "disputed_minor, unapplied_minor, oldest_due, last_contact_at, broken_promise, "
    "pclass, pkey, restand_on"
)
# (customer_id, state, priority, reasons, next_action, next_action_at, open_minor,
#  disputed_minor, unapplied_minor, oldest_due, pclass, pkey, restand_on): a new row, in
# the order of _OLD (its first ten), then the standing (queue/standing.py; old[12:15])
NewRow = tuple[int, str, int, str, str, str, int, int, int, str | None, int, int, str | None]


class RowMaker:
    """Queue rows from set-based reads of the ledger: four grouped queries (open
    invoices, unapplied cash, usable phones, and the exact due day for the few accounts
    with nothing past due yet) and two plain ones (customers, queue), each over the same
    customers -- an IN list or an id range, read in id order through covering indexes.
    Per account only the arithmetic of ``derive_state``, ``await_due`` and ``score`` is
    left (``Scorer`` keeps what depends on the day)."""

    def __init__(self, now_iso: str, today: date, settings: Settings) -> None:
        self.now_iso = now_iso
        self.today = today
        self.today_iso = today.isoformat()
        self.scorer = Scorer(today, settings)
        self.stander = Stander(today, settings)
        # the nightly refresh (refresh_rows.changes_where) does not write a row whose
        # standing, state, next action and balances are unchanged: for such a row its
        # stored priority and reasons are kept, not worked out again (True there only:
        # refresh_accounts writes every row, and a reason's day count can move while
        # the standing does not, past a cap)
        self.keep_unchanged = False
        self._digits: dict[str, int] = {}
        self._days: dict[str, date] = {}

    def _day(self, iso: str) -> date:
        d = self._days.get(iso)
        if d is None:
            d = self._days[iso] = date.fromisoformat(iso)
        return d

    def rows(
        self, conn: sqlite3.Connection, where: str, params: list[int]
    ) -> Iterator[tuple[NewRow, tuple | None]]:
        """(new row, the queue row as it is or None) for every customer ``where`` picks
        (``where`` names ``customer_id``; the customers table's ``id`` is put in)."""
        conn = conn.cursor()  # type: ignore[assignment]
        conn.row_factory = None  # plain tuples: compared with the new rows as they are
        inv = {
            r[0]: r
            for r in conn.execute(
                f"""SELECT customer_id,
                   SUM(CASE WHEN open_minor > 0 AND disputed = 0 THEN open_minor ELSE 0 END),
                   SUM(CASE WHEN open_minor > 0 AND disputed = 1 THEN open_minor ELSE 0 END),
                   SUM(CASE WHEN open_minor < 0 THEN open_minor ELSE 0 END),
                   MIN(CASE WHEN open_minor > 0 AND disputed = 0 THEN due_date END),
                   SUM(CASE WHEN open_minor > 0 AND disputed = 0 AND due_date < ?
                            THEN open_minor ELSE 0 END)
                FROM invoices WHERE status = 'open' AND {where}
                GROUP BY customer_id""",
                [self.today_iso, *params],
            )
        }
        cash = dict(
            conn.execute(
                f"""SELECT customer_id, SUM(amount_minor) FROM payments
                    WHERE invoice_id IS NULL AND {where} GROUP BY customer_id""",
                params,
            ).fetchall()
        )
        phones = dict(
            conn.execute(
                f"""SELECT customer_id, COUNT(*) FROM phones
                    WHERE bad = 0 AND do_not_call = 0 AND {where} GROUP BY customer_id""",
                params,
            ).fetchall()
        )
        old = {r[0]: r for r in conn.execute(f"SELECT {_OLD} FROM queue WHERE {where}", params)}
        customers = conn.execute(
            f"""SELECT id, status, currency, risk_score FROM customers
                WHERE {where.replace("customer_id", "id")} ORDER BY id""",
            params,
        ).fetchall()
        # when money is (or will be) past due net of credits: at once for most accounts,
        # from their invoices' due dates for the few with nothing past due yet
        due_from: dict[int, str | None] = {}
        exact: list[int] = []
        for cid, row in inv.items():
            credits = (row[3] or 0) - int(cash.get(cid) or 0)
            oldest = row[4]
            if oldest is None or (row[1] or 0) + credits <= 0:
                continue
            if (row[5] or 0) + credits > 0:
                due_from[cid] = (self._day(oldest) + timedelta(days=1)).isoformat()
            else:
                exact.append(cid)
        for i in range(0, len(exact), CHUNK):
            part = exact[i : i + CHUNK]
            dues: dict[int, list[tuple[str, int]]] = {c: [] for c in part}
            for r in conn.execute(
                f"""SELECT customer_id, due_date, SUM(open_minor) FROM invoices
                    WHERE status = 'open' AND open_minor > 0 AND disputed = 0
                    AND customer_id IN ({",".join("?" * len(part))})
                    GROUP BY customer_id, due_date""",
                part,
            ):
                dues[r[0]].append((r[1], r[2]))
            for cid in part:
                credits = (inv[cid][3] or 0) - int(cash.get(cid) or 0)
                due_from[cid] = first_past_due(dues[cid], credits)
        now_iso = self.now_iso
        json_reasons = self.scorer.json_reasons
        stand = self.stander.stored
        keep = self.keep_unchanged
        days = self._days
        day = self._day
        digits_of = self._digits
        no_row = (None, 0, 0, 0, None)
        for cid, status, currency, risk in customers:
            _, open_minor, disputed_minor, credits, oldest = inv.get(cid, no_row)[:5]
            open_minor = open_minor or 0
            disputed_minor = disputed_minor or 0
            credits = credits or 0
            if cid in cash:
                credits = int(credits) - int(cash[cid] or 0)
            q = old.get(cid)
            if q is not None:
                next_action, next_action_at, last_contact, broken = q[4], q[5], q[10], q[11]
            else:
                next_action, next_action_at, last_contact, broken = "call", now_iso, None, 0
            next_action, next_action_at = await_due(
                next_action, next_action_at, due_from.get(cid), now_iso
            )
            # derive_state, inline
            if status in CLOSED_STATUSES:
                state = "closed"
            elif status in HOLD_STATUSES:
                state = "hold"
            elif open_minor + credits <= 0:
                state = "disputed" if disputed_minor > 0 else "closed"
            elif next_action in REVIEW_ACTIONS:
                state = "review"
            elif not phones.get(cid, 0):
                state = "no_phone"
            else:
                state = "ready" if next_action_at <= now_iso else "waiting"
            digits = digits_of.get(currency)
            if digits is None:
                digits = digits_of[currency] = minor_digits(currency)
            if last_contact is None:
                contact_day = None
            elif len(last_contact) == 20 and last_contact[19] == "Z":
                contact_day = days.get(last_contact[:10]) or day(last_contact[:10])
            else:
                contact_day = from_iso(last_contact).date()
            oldest_day = (days.get(oldest) or day(oldest)) if oldest else None
            owed = open_minor + credits if open_minor + credits > 0 else 0
            pclass, pkey, restand = stand(
                oldest_day, contact_day, owed, currency, digits, bool(broken), next_action, risk
            )
            if (
                keep
                and q is not None
                and q[13] == pkey
                and q[12] == pclass
                and q[14] == restand
                and q[1] == state
                and q[4:10]
                == (next_action, next_action_at, open_minor, disputed_minor, credits, oldest)
            ):
                # nothing the collector sees or the claim orders by changed: the stored
                # priority and reasons (as of the day the row was written, read by no one)
                # are kept, not worked out again for nothing
                prio, reasons = q[2], q[3]
            else:
                prio, reasons = json_reasons(
                    oldest_day, owed, currency, digits, bool(broken), next_action, contact_day,
                    risk,
                )  # fmt: skip
            yield (
                (cid, state, prio, reasons, next_action, next_action_at, open_minor,
                 disputed_minor, credits, oldest, pclass, pkey, restand),
                q,
            )  # fmt: skip


UPSERT = """INSERT INTO queue (customer_id, state, priority, reasons, next_action,
           next_action_at, open_minor, disputed_minor, unapplied_minor, oldest_due,
           pclass, pkey, restand_on, updated_at)
       VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
       ON CONFLICT(customer_id) DO UPDATE SET
           state=excluded.state, priority=excluded.priority, reasons=excluded.reasons,
           next_action=excluded.next_action, next_action_at=excluded.next_action_at,
           open_minor=excluded.open_minor, disputed_minor=excluded.disputed_minor,
           unapplied_minor=excluded.unapplied_minor, oldest_due=excluded.oldest_due,
           pclass=excluded.pclass, pkey=excluded.pkey, restand_on=excluded.restand_on,
           updated_at=excluded.updated_at"""


def refresh_accounts(
    conn: sqlite3.Connection,
    clock: Clock,
    settings: Settings,
    customer_ids: Iterable[int] | None = None,
) -> int:
    """Recompute queue rows (creating missing ones); returns how many were written.

    Must run inside a write transaction. Claims and assignment are left as they are.
    Every row is written (``updated_at`` is now); the nightly refresh of every account,
    which skips unchanged rows, is queue/refresh.py.
    """
    now = clock.now()
    now_iso = to_iso(now)
    if customer_ids is None:
        ids = [r[0] for r in conn.execute("SELECT id FROM customers ORDER BY id")]
    else:
        ids = sorted(set(customer_ids))
    maker = RowMaker(now_iso, now.date(), settings)
    written = 0
    for chunk in _chunks(ids):
        where = f"customer_id IN ({','.join('?' * len(chunk))})"
        rows = [(*new, now_iso) for new, _ in maker.rows(conn, where, chunk)]
        conn.executemany(UPSERT, rows)
        written += len(rows)
    return written
