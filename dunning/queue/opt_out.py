"""A contact's opt-out of e-mail (Regulation F 12 CFR 1006.6(e); issue 10 item 4), and
the opt-in that takes it back: ``contacts.email_opt_out_at`` / ``email_opt_out_by``
(m037), each change with an audit row (who, when, which addresses).

Rights here, for the CLI and the screen alike: a collector on their own accounts, a lead
or admin on any (the host operator too). The writing rules (queue/writing_rules.py)
refuse an e-mail to an opted-out contact.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass

from dunning.clock import Clock, to_iso
from dunning.db.connection import write_tx
from dunning.i18n import _
from dunning.queue import audit
from dunning.queue.access import AccountRefused, audit_refusal, load_access
from dunning.queue.collectors import Collector
from dunning.queue.identity import Actor
from dunning.textsafe import clean

ADDRESS_MAX = 254


class OptOutError(ValueError):
    """Refused: no such account or address; nothing was written."""


@dataclass(frozen=True)
class OptChange:
    ref: str
    changed: tuple[str, ...]  # the addresses whose opt-out changed
    unchanged: tuple[str, ...]  # already as asked


def _shown(text: str) -> str:
    return " ".join(clean(text)[0].split())[:80]


def check_opt_rights(
    conn: sqlite3.Connection, clock: Clock, actor: Actor, ref: str, *, opt_out: bool = True
) -> int:
    """The account's id if ``actor`` may change its contacts' opt-out; else OptOutError (no
    such account) or AccountRefused (someone else's account: audited)."""
    row = conn.execute("SELECT id FROM customers WHERE external_ref = ?", (ref,)).fetchone()
    if row is None:
        raise OptOutError(_("no customer with reference {ref}").format(ref=_shown(ref)))
    cid = int(row[0])
    if actor.collector is not None:
        access = load_access(conn, to_iso(clock.now()), actor.collector, cid)
        assert access is not None
        if not (access.mine or access.lead):
            from dunning.queue.access import not_yours  # noqa: PLC0415

            action = "contacts.opt_out" if opt_out else "contacts.opt_in"
            error = AccountRefused(not_yours(ref, access.owner), ref=ref, owner=access.owner)
            audit_refusal(conn, clock, actor.collector, action=action, target=ref, error=error)
            raise error
    return cid


def set_email_opt_out(
    conn: sqlite3.Connection,
    clock: Clock,
    actor: Actor,
    ref: str,
    *,
    email: str | None = None,
    opt_out: bool = True,
) -> OptChange:
    """Opt the account's contacts out of e-mail (``opt_out=False``: back in): the one
    whose address is ``email``, else every contact with an address."""
    cid = check_opt_rights(conn, clock, actor, ref, opt_out=opt_out)
    action = "contacts.opt_out" if opt_out else "contacts.opt_in"
    address = (email or "").strip()
    if email is not None and (not address or len(address) > ADDRESS_MAX):
        raise OptOutError(_("not an e-mail address: {value!r}").format(value=_shown(email)))
    rows = conn.execute(
        "SELECT id, email, email_opt_out_at FROM contacts WHERE customer_id = ? "
        "AND COALESCE(trim(email), '') != '' "
        + ("AND lower(trim(email)) = lower(?) " if email is not None else "")
        + "ORDER BY id",
        (cid, address) if email is not None else (cid,),
    ).fetchall()
    if not rows:
        if email is not None:
            raise OptOutError(
                _("{ref}: no contact has the address {address}").format(
                    ref=ref, address=_shown(address)
                )
            )
        raise OptOutError(_("{ref}: no contact has an e-mail address").format(ref=ref))
    now_iso = to_iso(clock.now())
    changed = [r for r in rows if bool(r[2]) != opt_out]
    with write_tx(conn):
        for r in changed:
            conn.execute(
                "UPDATE contacts SET email_opt_out_at = ?, email_opt_out_by = ? WHERE id = ?",
                (now_iso if opt_out else None, actor.name if opt_out else None, r[0]),
            )
        audit.record(
            conn,
            clock,
            action=action,
            collector_id=actor.collector_id,
            target=ref,
            detail={
                "by": actor.name,
                "changed": [r[1] for r in changed],
                "unchanged": [r[1] for r in rows if r not in changed],
            },
        )
    return OptChange(
        ref,
        tuple(str(r[1]) for r in changed),
        tuple(str(r[1]) for r in rows if r not in changed),
    )


def screen_actor(collector: Collector) -> Actor:
    """The collector of a work session, as the CLI's identity names them (the screen's
    collector was found from os.getuid() when it started: queue/identity.py)."""
    return Actor(collector.username, os.getuid(), collector)


def change_addresses(
    conn: sqlite3.Connection,
    clock: Clock,
    actor: Actor,
    ref: str,
    addresses: tuple[str, ...] | None,
    *,
    opt_out: bool,
) -> OptChange:
    """The screen's opt-out (or opt-in) of the ``addresses`` picked (None: every contact
    with an address, one audit row), each one as ``set_email_opt_out`` does it."""
    if addresses is None:
        return set_email_opt_out(conn, clock, actor, ref, opt_out=opt_out)
    if not addresses:
        raise OptOutError(_("no address picked"))
    changed: list[str] = []
    unchanged: list[str] = []
    for address in dict.fromkeys(addresses):
        done = set_email_opt_out(conn, clock, actor, ref, email=address, opt_out=opt_out)
        changed += done.changed
        unchanged += done.unchanged
    return OptChange(ref, tuple(changed), tuple(unchanged))


def change_message(change: OptChange, *, opt_out: bool) -> str:
    """One line for the status bar: what changed, what already was as asked."""
    parts = []
    if change.changed:
        done = (
            _("{ref}: no more e-mail to {addresses} (opted out)")
            if opt_out
            else _("{ref}: {addresses} may be e-mailed again (opted in)")
        )
        parts.append(done.format(ref=change.ref, addresses=", ".join(change.changed)))
    if change.unchanged:
        parts.append(
            _("{ref}: {address} unchanged").format(
                ref=change.ref, address=", ".join(change.unchanged)
            )
        )
    return " · ".join(parts)
