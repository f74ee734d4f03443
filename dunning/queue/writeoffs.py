"""Write-offs, invoice by invoice (issue 9, item 7; m034 ``writeoffs``,
db/writeoffs_schema.py).

What is forgiven leaves collection: each invoice written off is closed (``open_minor`` 0,
status ``closed``) and its open amount recorded in ``writeoffs`` with its kind, the
outcome it came from, the decision that approved it, who, when and why; a system
activity says it in the account's history and an audit row (``writeoff``) holds the
amount and the invoices. The reports' money figures have it per collector and currency
(db/metrics.py ``written_off``); an import keeps a written-off invoice closed
(db/ledger/invoices.py).

Three ways in:

- a **write-off of the whole account** (``escalated`` to ``writeoff``, no invoice chosen):
  every open invoice, credit notes included (the balance net of credits), and the
  account's status ``write_off`` (as before);
- a **partial write-off** (``--invoices`` / the invoices ticked in the dialog): the
  invoices chosen, whole (an invoice is what the ERP books a credit note against; an
  amount spread over invoices would leave the ledger to guess which), each open, owed
  and not under dispute; the account stays in collection for the rest;
- a **settlement paid** (queue/promises.py calls :func:`settle` when a settlement's
  promise is kept): the rest of the invoices the settlement covered (those the ledger held
  when the settlement took effect), kind ``settled``, by the system.

A void of the outcome that wrote invoices off alone opens them again
(:func:`reopen`; queue/void_restore.py) and marks its rows ``voided_at``.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from dunning.clock import FixedClock, from_iso, to_iso
from dunning.db import aging_snapshot
from dunning.i18n import _
from dunning.money import format_money
from dunning.queue import audit
from dunning.queue.outcome_rules import OutcomeError

WRITEOFF, SETTLED = "writeoff", "settled"


@dataclass(frozen=True)
class WrittenOff:
    amount_minor: int  # the open amount forgiven, net of credit notes
    currency: str
    numbers: list[str]  # the invoices


def chosen_amount(
    conn: sqlite3.Connection, customer_id: int, ref: str, ids: list[int]
) -> tuple[int, list[str]]:
    """What a partial write-off of invoices ``ids`` forgives, and their numbers: each must
    be an open invoice of the account with something owed on it and no open dispute;
    OutcomeError naming the invoice otherwise."""
    chosen = sorted(set(ids))
    marks = ",".join("?" * len(chosen))
    rows = {
        int(r[0]): r
        for r in conn.execute(
            f"""SELECT id, number, status, open_minor, disputed FROM invoices
                WHERE customer_id = ? AND id IN ({marks})""",
            [customer_id, *chosen],
        )
    }
    total, numbers = 0, []
    for i in chosen:
        r = rows.get(i)
        if r is None:
            raise OutcomeError(_("invoice {id} is not an invoice of {ref}").format(id=i, ref=ref))
        if r[2] != "open" or r[3] <= 0:
            raise OutcomeError(
                _("invoice {number} of {ref} is not open: nothing on it to write off").format(
                    number=r[1], ref=ref
                )
            )
        if r[4]:
            raise OutcomeError(
                _("invoice {number} of {ref} is under dispute: end the dispute first").format(
                    number=r[1], ref=ref
                )
            )
        total += int(r[3])
        numbers.append(str(r[1]))
    return total, numbers


def write_off(
    conn: sqlite3.Connection,
    now: datetime,
    customer_id: int,
    *,
    kind: str = WRITEOFF,
    invoice_ids: list[int] | None = None,
    covered_until: str | None = None,
    activity_id: int | None,
    decision_id: int | None = None,
    by_id: int | None,
    reason: str = "",
) -> WrittenOff:
    """Write off the account's open invoices (``invoice_ids``: those only, each owed;
    ``covered_until``: those the ledger held by then) inside the caller's transaction;
    see the module's note. The caller refreshes the queue row."""
    now_iso = to_iso(now)
    cust = conn.execute(
        "SELECT external_ref, currency FROM customers WHERE id = ?", (customer_id,)
    ).fetchone()
    sql = """SELECT id, number, open_minor, currency FROM invoices
             WHERE customer_id = ? AND status = 'open' AND open_minor != 0"""
    params: list[object] = [customer_id]
    if invoice_ids:
        sql += f" AND open_minor > 0 AND id IN ({','.join('?' * len(invoice_ids))})"
        params += sorted(set(invoice_ids))
    if covered_until is not None:
        sql += " AND created_at <= ?"
        params.append(covered_until)
    rows = conn.execute(sql + " ORDER BY due_date, id", params).fetchall()
    currency = str(cust[1])
    if not rows:
        return WrittenOff(0, currency, [])
    conn.executemany(
        """INSERT INTO writeoffs (customer_id, invoice_id, amount_minor, currency, kind,
               activity_id, decision_id, at, by_id, reason) VALUES (?,?,?,?,?,?,?,?,?,?)""",
        [
            (customer_id, r[0], r[2], r[3], kind, activity_id, decision_id, now_iso, by_id, reason)
            for r in rows
        ],
    )
    ids = [int(r[0]) for r in rows]
    conn.execute(
        f"""UPDATE invoices SET open_minor = 0, status = 'closed', updated_at = ?
            WHERE id IN ({",".join("?" * len(ids))})""",
        [now_iso, *ids],
    )
    aging_snapshot.touch(conn, [customer_id])
    done = WrittenOff(sum(int(r[2]) for r in rows), currency, [str(r[1]) for r in rows])
    detail = {
        "kind": kind,
        "amount_minor": done.amount_minor,
        "currency": currency,
        "invoices": done.numbers,
        "activity_id": activity_id,
        "decision_id": decision_id,
        "reason": reason,
    }
    amount = format_money(done.amount_minor, currency, "en_US")
    note = (
        f"settled: {amount} forgiven" if kind == SETTLED else f"written off: {amount}"
    ) + f" ({', '.join(done.numbers)})"
    conn.execute(
        """INSERT INTO activities (customer_id, collector_id, at, outcome, note, details)
           VALUES (?, ?, ?, 'system', ?, ?)""",
        (customer_id, by_id, now_iso, note, json.dumps({"writeoff": detail})),
    )
    audit.record(conn, FixedClock(now), action="writeoff", collector_id=by_id,
                 target=str(cust[0]), detail=detail)  # fmt: skip
    return done


def settle(conn: sqlite3.Connection, promise: sqlite3.Row, now_iso: str) -> WrittenOff | None:
    """A promise kept: when it is a settlement's (its outcome escalated to ``settlement``),
    the rest of the invoices the settlement covered is forgiven (kind ``settled``). Once
    per settlement."""
    act = conn.execute(
        "SELECT id, details FROM activities WHERE id = ? AND outcome = 'escalated'",
        (promise["activity_id"],),
    ).fetchone()
    if act is None or json.loads(act[1] or "{}").get("escalation") != "settlement":
        return None
    done = conn.execute(
        "SELECT 1 FROM writeoffs WHERE activity_id = ? AND kind = ? AND voided_at IS NULL",
        (act[0], SETTLED),
    ).fetchone()
    if done is not None:
        return None
    decision = conn.execute(
        """SELECT MAX(id) FROM review_decisions
           WHERE activity_id = ? AND decision = 'settlement_approved'""",
        (act[0],),
    ).fetchone()[0]
    paid = format_money(int(promise["amount_minor"]), str(promise["currency"]), "en_US")
    return write_off(
        conn, from_iso(now_iso), int(promise["customer_id"]), kind=SETTLED,
        covered_until=str(promise["created_at"]), activity_id=int(act[0]),
        decision_id=decision, by_id=None,
        reason=f"settlement of {paid} paid (promise {promise['id']})",
    )  # fmt: skip


def reopen(conn: sqlite3.Connection, activity_id: int, now_iso: str) -> int:
    """A voided outcome's write-offs: each invoice open again with the amount written off
    (when nothing closed it since), the rows marked ``voided_at``. Returns how many."""
    rows = conn.execute(
        """UPDATE writeoffs SET voided_at = ? WHERE activity_id = ? AND voided_at IS NULL
           RETURNING customer_id, invoice_id, amount_minor""",
        (now_iso, activity_id),
    ).fetchall()
    for _cid, inv, amount in rows:
        conn.execute(
            """UPDATE invoices SET open_minor = ?, status = 'open', updated_at = ?
               WHERE id = ? AND status = 'closed' AND open_minor = 0""",
            (amount, now_iso, inv),
        )
    if rows:
        aging_snapshot.touch(conn, {r[0] for r in rows})
    return len(rows)
