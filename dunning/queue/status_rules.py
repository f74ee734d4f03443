"""Statuses the law or the customer set: which outcomes they allow (DOMAIN.md).

A ``cease`` account (the consumer asked us to stop), one with ``legal`` or an
``agency``, one written off or closed is never called: call outcomes (attempts) on it
are refused, for the CLI and the screen alike, and the account view says why instead
of "callable". A note may still be written. Escalating stays open, so a lead can move a
cease account to legal or an agency, but never to ``credit_hold``, which would make it
callable again. ``credit_hold`` blocks orders, not calls.

A number marked do-not-call or wrong is never dialled: an attempt logged against it is
refused.
"""

from __future__ import annotations

import sqlite3

from dunning.i18n import N_, _
from dunning.queue.contact_rules import Callable

# status -> why no call is made (shown on the account and in the refusal)
NO_CALL_STATUSES: dict[str, str] = {
    "cease": N_("cease contact: the customer asked not to be called"),
    "legal": N_("with legal: contact goes through the lawyers"),
    "agency": N_("placed with an agency: the agency makes the calls"),
    "write_off": N_("written off: no more calls"),
    "closed": N_("closed: no more calls"),
}
# escalations that keep a no-call account uncallable (credit_hold would not)
ESCALATIONS_FROM_NO_CALL = ("legal", "agency", "lead_review")


class StatusRefused(ValueError):
    """An outcome the account's status or the number's marks forbid; nothing was written."""


def status_verdict(status: str) -> Callable | None:
    """The verdict for an account whose status forbids calls (code ``status_<status>``),
    None when the status allows them."""
    why = NO_CALL_STATUSES.get(status)
    if why is None:
        return None
    return Callable(False, f"status_{status}", _(why))


def calls_allowed(status: str) -> bool:
    return status not in NO_CALL_STATUSES


def check_status(
    ref: str, status: str, outcome: str, *, attempt: bool, escalation: str = ""
) -> None:
    """Refuse a call outcome on an account whose status forbids calls."""
    why = NO_CALL_STATUSES.get(status)
    if why is None:
        return
    if attempt:
        raise StatusRefused(
            _("{ref} is not called ({why}): only a note or an escalation can be logged").format(
                ref=ref, why=_(why)
            )
        )
    if outcome == "escalated" and escalation not in ESCALATIONS_FROM_NO_CALL:
        raise StatusRefused(
            _("{ref} is not called ({why}): it can only go to legal, an agency or a lead").format(
                ref=ref, why=_(why)
            )
        )


def check_phone(conn: sqlite3.Connection, customer_id: int, phone_id: int) -> None:
    """Refuse an attempt on a number marked do-not-call or wrong."""
    row = conn.execute(
        "SELECT e164, do_not_call, bad FROM phones WHERE id = ? AND customer_id = ?",
        (phone_id, customer_id),
    ).fetchone()
    if row is None:
        return  # the caller says the number is not the customer's
    if row["do_not_call"]:
        raise StatusRefused(_("{number} is marked do not call").format(number=row["e164"]))
    if row["bad"]:
        raise StatusRefused(_("{number} is marked as a wrong number").format(number=row["e164"]))
