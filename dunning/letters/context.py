"""What a letter says about an account, read from the database: the context a template
is rendered with (the names are documented in docs/LETTERS.md; a template may use any of
them, and an undefined one fails).

Every text from the ERP is hostile: each one-line field (a name, an invoice number, a
reference) is made one line here and loses its control, bidi and invisible characters;
the renderer cleans every value again on the way out and escapes it in HTML.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from dunning.address import address_lines
from dunning.aging import BUCKETS, bucket_for
from dunning.letters.render import locale_for
from dunning.letters.settings import LetterSettings
from dunning.textsafe import clean

MAX_LINES = 200  # invoice lines listed in one letter; the rest are counted ("and 12 more")
# what each kind needs the account to have
NEEDS = {
    "promise_confirmation": "promise",
    "payment_plan": "plan",
    "dispute_acknowledgement": "dispute",
}


class NoSuchAccount(LookupError):
    pass


class NothingToWrite(ValueError):
    """The kind needs what the account does not have (a promise, a plan, a dispute)."""


def _one_line(value: object) -> str:
    return clean("" if value is None else str(value))[0].strip()


def company_of(settings: LetterSettings) -> dict[str, str]:
    """The remit-to details as templates see them (a fresh dict: a template could change
    the one it is given)."""
    return dict(_company(settings))


@lru_cache(maxsize=8)
def _company(settings: LetterSettings) -> tuple[tuple[str, str], ...]:
    # once per settings in a process (dataclasses.asdict was 0.1 ms of every letter)
    values = asdict(settings)
    out = {
        k: clean(str(values[k]), lines=True)[0].strip()
        for k in ("address", "payment_instructions", "opt_out")
    }
    for key in ("company_name", "phone", "email", "website"):
        out[key] = _one_line(values[key])
    out["name"] = out.pop("company_name")
    return tuple(out.items())


def build_context(
    conn: sqlite3.Connection,
    ref: str,
    *,
    as_of: date,
    settings: LetterSettings,
    kind: str | None = None,
    collector: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """``(locale, context)`` for the account ``ref`` (its ERP reference) as of ``as_of``.

    ``kind``: refuse (NothingToWrite) when the account lacks what the kind confirms.
    ``collector``: the name that signs; default the account's collector."""
    row = conn.execute(
        "SELECT c.id, c.external_ref, c.name, c.country, c.subdivision, c.language, "
        "c.currency, c.portfolio, c.status, co.display_name, "
        "c.address_line1, c.address_line2, c.city, c.postal_code "
        "FROM customers c LEFT JOIN queue q ON q.customer_id = c.id "
        "LEFT JOIN collectors co ON co.id = q.collector_id WHERE c.external_ref = ?",
        (ref,),
    ).fetchone()
    if row is None:
        raise NoSuchAccount(ref)
    cid, ext, name, country, subdivision, language, currency, portfolio, status, owner = row[:10]
    contact = _contact(conn, cid)
    lang = (contact or {}).get("language") or language or "en"
    locale = locale_for(lang, country or "US")
    items, unapplied = _items(conn, cid, as_of)
    context: dict[str, Any] = {
        "today": as_of,
        # the dates a final demand (reminder_3) and a pre-legal notice (reminder_4) give
        "deadlines": {
            "final_demand": as_of + timedelta(days=settings.final_demand_days),
            "pre_legal": as_of + timedelta(days=settings.pre_legal_days),
        },
        "company": company_of(settings),
        "customer": {
            "ref": _one_line(ext),
            "name": _one_line(name),
            "country": _one_line(country),
            "subdivision": _one_line(subdivision),
            # the postal address, one line each (as company.address): "" when none
            "address": "\n".join(postal_lines(country, subdivision, row[10:], locale)),
            "currency": currency,
            "portfolio": portfolio,
            "consumer": portfolio == "consumer",
            "status": status,
        },
        "contact": contact,
        "collector": {"name": _one_line(collector or owner or settings.company_name)},
        "items": items[:MAX_LINES],
        "items_more": max(0, len(items) - MAX_LINES),
        "unapplied": unapplied,
        "promise": _promise(conn, cid),
        "plan": _plan(conn, cid),
        "dispute": _dispute(conn, cid),
        "note": "",
    }
    overdue = [i for i in items if not i["disputed"] and i["open"] > 0 and i["days_past_due"] > 0]
    context["overdue"] = overdue[:MAX_LINES]
    context["overdue_more"] = max(0, len(overdue) - MAX_LINES)
    context["disputed_items"] = [i for i in items if i["disputed"]][:MAX_LINES]
    context["totals"] = _totals(items, unapplied, overdue)
    context["aging"] = _aging(items, unapplied)
    needed = NEEDS.get(kind or "")
    if needed is not None and context[needed] is None:
        raise NothingToWrite(needed)
    if (kind or "").startswith("reminder_") and not overdue:
        raise NothingToWrite("overdue")
    return locale, context


@lru_cache(maxsize=1024)
def country_name(code: str, locale: str) -> str:
    """``code``'s name in ``locale`` (babel's CLDR names: 'Canada', 'Mexique'), else it;
    remembered (a letter run names the same few countries 100,000 times)."""
    from babel import Locale

    if not code:
        return ""
    return str(Locale.parse(locale).territories.get(code.upper(), code))


def postal_lines(
    country: str | None, subdivision: str | None, parts: Sequence[str | None], locale: str
) -> list[str]:
    """The customer's postal address as the post reads it (dunning/address.py), each line
    one line without control characters, then the country's name in ``locale``; [] when
    the ledger has no street nor city (a letter on paper is refused then)."""
    line1, line2, city, postal = (_one_line(p) for p in parts)
    lines = address_lines(country or "", line1, line2, city, _one_line(subdivision), postal)
    return [*lines, country_name(country or "", locale)] if lines and country else lines


def _contact(conn: sqlite3.Connection, cid: int) -> dict[str, str] | None:
    row = conn.execute(
        "SELECT name, title, language, email FROM contacts WHERE customer_id = ? "
        "ORDER BY is_primary DESC, id LIMIT 1",
        (cid,),
    ).fetchone()
    if row is None:
        return None
    name, title, language, email = row
    return {
        "name": _one_line(name),
        "title": _one_line(title),
        "language": _one_line(language).lower(),
        "email": _one_line(email),
    }


def _items(
    conn: sqlite3.Connection, cid: int, as_of: date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    items = []
    for number, issued, due, amount, open_minor, currency, disputed in conn.execute(
        "SELECT number, issue_date, due_date, amount_minor, open_minor, currency, disputed "
        "FROM invoices WHERE customer_id = ? AND status = 'open' AND open_minor != 0 "
        "ORDER BY due_date, number",
        (cid,),
    ):
        due_day = date.fromisoformat(due[:10])
        days = (as_of - due_day).days
        items.append(
            {
                "number": _one_line(number),
                "issue_date": date.fromisoformat(issued[:10]),
                "due_date": due_day,
                "amount": amount,
                "open": open_minor,
                "currency": currency,
                "days_past_due": max(days, 0),
                "bucket": bucket_for(days),
                "credit": open_minor < 0,
                "disputed": bool(disputed),
            }
        )
    unapplied = [
        {
            "date": date.fromisoformat(paid_on[:10]),
            "reference": _one_line(reference),
            "amount": -abs(amount),
            "currency": currency,
        }
        for paid_on, reference, amount, currency in conn.execute(
            "SELECT paid_on, reference, amount_minor, currency FROM payments "
            "WHERE customer_id = ? AND invoice_id IS NULL ORDER BY paid_on, id",
            (cid,),
        )
    ]
    return items, unapplied


def _totals(
    items: list[dict[str, Any]], unapplied: list[dict[str, Any]], overdue: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per currency: ``overdue`` (undisputed, past due), ``balance`` (every undisputed open
    item, credits and unapplied cash taken off), ``disputed``."""
    sums: dict[str, dict[str, int]] = defaultdict(
        lambda: {"overdue": 0, "balance": 0, "disputed": 0}
    )
    for i in items:
        sums[i["currency"]]["disputed" if i["disputed"] else "balance"] += i["open"]
    for u in unapplied:
        sums[u["currency"]]["balance"] += u["amount"]
    for i in overdue:
        sums[i["currency"]]["overdue"] += i["open"]
    return [{"currency": c, **v} for c, v in sorted(sums.items())]


def _aging(items: list[dict[str, Any]], unapplied: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per currency, the undisputed open amount in each bucket (credits and unapplied cash
    in ``current``, as the aging report does not spread them)."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(BUCKETS, 0))
    for i in items:
        if not i["disputed"]:
            out[i["currency"]]["current" if i["credit"] else i["bucket"]] += i["open"]
    for u in unapplied:
        out[u["currency"]]["current"] += u["amount"]
    return [
        {
            "currency": c,
            "buckets": [{"name": b, "amount": v[b]} for b in BUCKETS],
            "total": sum(v.values()),
        }
        for c, v in sorted(out.items())
    ]


def _promise(conn: sqlite3.Connection, cid: int) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT amount_minor, currency, promised_on, due_date, grace_days, status "
        "FROM promises WHERE customer_id = ? AND plan_ref IS NULL AND status != 'cancelled' "
        "ORDER BY created_at DESC, id DESC LIMIT 1",
        (cid,),
    ).fetchone()
    if row is None:
        return None
    amount, currency, promised_on, due, grace, status = row
    return {
        "amount": amount,
        "currency": currency,
        "promised_on": date.fromisoformat(promised_on[:10]),
        "due_date": date.fromisoformat(due[:10]),
        "grace_days": grace,
        "status": status,
    }


def _plan(conn: sqlite3.Connection, cid: int) -> dict[str, Any] | None:
    ref = conn.execute(
        "SELECT plan_ref FROM promises WHERE customer_id = ? AND plan_ref IS NOT NULL "
        "AND status != 'cancelled' ORDER BY created_at DESC, id DESC LIMIT 1",
        (cid,),
    ).fetchone()
    if ref is None:
        return None
    rows = conn.execute(
        "SELECT instalment, amount_minor, currency, due_date, status, paid_minor "
        "FROM promises WHERE customer_id = ? AND plan_ref = ? ORDER BY due_date, instalment",
        (cid, ref[0]),
    ).fetchall()
    instalments = [
        {
            "number": n if n is not None else k + 1,
            "amount": amount,
            "currency": currency,
            "due_date": date.fromisoformat(due[:10]),
            "status": status,
            "paid": paid,
        }
        for k, (n, amount, currency, due, status, paid) in enumerate(rows)
    ]
    totals: dict[str, int] = defaultdict(int)
    for i in instalments:
        totals[i["currency"]] += i["amount"]
    return {
        "ref": _one_line(ref[0]),
        "instalments": instalments,
        "count": len(instalments),
        "first_due": instalments[0]["due_date"],
        "last_due": instalments[-1]["due_date"],
        "totals": [{"currency": c, "amount": a} for c, a in sorted(totals.items())],
    }


def _dispute(conn: sqlite3.Connection, cid: int) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT id, reason, department, amount_minor, currency, status, created_at "
        "FROM disputes WHERE customer_id = ? AND status != 'voided' "
        "ORDER BY created_at DESC, id DESC LIMIT 1",
        (cid,),
    ).fetchone()
    if row is None:
        return None
    did, reason, department, amount, currency, status, created = row
    numbers = [
        _one_line(n)
        for (n,) in conn.execute(
            "SELECT i.number FROM dispute_invoices d JOIN invoices i ON i.id = d.invoice_id "
            "WHERE d.dispute_id = ? ORDER BY i.number",
            (did,),
        )
    ]
    return {
        "id": did,
        "reason": reason,
        "department": department,
        "amount": amount,
        "currency": currency,
        "status": status,
        "opened": date.fromisoformat(created[:10]),
        "invoices": numbers,
    }
