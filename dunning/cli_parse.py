"""Turning what a person types on the command line into ids, amounts and instants."""

from __future__ import annotations

import argparse
import re
import sqlite3
from collections.abc import Callable
from datetime import date, datetime, tzinfo

from dunning.bounds import INT64_MAX, clip, int64_or_none
from dunning.cli_base import EXIT_USAGE, CliError, Context
from dunning.clock import host_zone
from dunning.i18n import _
from dunning.money import parse_amount
from dunning.phones import parse_phone
from dunning.queue.times import customer_zone, read_time
from dunning.when import parse_day


def find_customer(conn: sqlite3.Connection, text: str) -> sqlite3.Row:
    """A customer by external reference (exact, then any case), else by numeric id."""
    t = text.strip()
    row = conn.execute("SELECT * FROM customers WHERE external_ref = ?", (t,)).fetchone()
    if row is None:
        row = conn.execute(
            "SELECT * FROM customers WHERE external_ref = ? COLLATE NOCASE LIMIT 1", (t,)
        ).fetchone()
    if row is None and (n := int64_or_none(t)) is not None:  # 2**63 is no id: no match
        row = conn.execute("SELECT * FROM customers WHERE id = ?", (n,)).fetchone()
    if row is None:
        raise CliError(
            _(
                "no customer {value!r} (give a customer reference or id; find one with "
                "`dunning search TEXT`)"
            ).format(value=text),
            EXIT_USAGE,
        )
    return row


def whole_number(low: int, high: int = INT64_MAX) -> Callable[[str], int]:
    """An argparse ``type``: a whole number from ``low`` to ``high`` (a usage error
    otherwise, never an OverflowError from SQLite for 2**63)."""

    def parse(text: str) -> int:
        try:
            n = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                _("{value!r} is not a whole number").format(value=clip(text, 40))
            ) from None
        if not low <= n <= high:
            raise argparse.ArgumentTypeError(
                _("{value} is not a whole number from {low} to {high}").format(
                    value=clip(text, 40), low=low, high=high
                )
            )
        return n

    parse.__name__ = "whole number"
    return parse


def local_now(ctx: Context, tz: tzinfo | None = None) -> datetime:
    """Now on the collector's clock (``tz``; None = this machine's local zone)."""
    return ctx.clock.now().astimezone(tz or host_zone())


def parse_account_when(
    option: str, text: str, ctx: Context, zones: tuple[str, ...], collector: tzinfo
) -> datetime:
    """A time chosen for an account (--at, --next) -> UTC: in the customer's time (the
    account's first zone), or on the collector's clock with a trailing ``me``."""
    try:
        typed = read_time(text, ctx.clock.now(), customer=customer_zone(zones), collector=collector)
    except (ValueError, OverflowError) as exc:
        msg = (
            str(exc)
            if isinstance(exc, ValueError)
            else _("{value!r} is out of range").format(value=text)
        )
        raise CliError(f"{option}: {msg}", EXIT_USAGE) from exc
    return typed.at


def parse_local_day(
    text: str, ctx: Context, tz: tzinfo | None = None, *, past: bool = False
) -> date:
    """A typed date, on the collector's calendar (``tz``; None = this machine's); with
    ``past``, a weekday is the last one ("paid on mon")."""
    return parse_day(text, local_now(ctx, tz).date(), past=past)


def parse_instalments(
    text: str, currency: str, locale: str, ctx: Context, tz: tzinfo | None = None
) -> list[tuple[int, date]]:
    """'500@2026-12-01,500@2027-01-01' (';' also separates; amounts may hold commas)."""
    parts = text.split("@")
    if len(parts) < 2:
        raise ValueError(
            _("instalments {value!r}: write AMOUNT@DATE,AMOUNT@DATE").format(value=text)
        )
    amounts = [parts[0]]
    dates: list[str] = []
    for middle in parts[1:-1]:
        m = re.match(r"\s*([^,;]+?)\s*[,;]\s*(.+)$", middle)
        if not m:
            raise ValueError(
                _("instalments {value!r}: write AMOUNT@DATE,AMOUNT@DATE").format(value=text)
            )
        dates.append(m.group(1))
        amounts.append(m.group(2))
    dates.append(parts[-1])
    out = []
    for amount, day in zip(amounts, dates, strict=True):
        out.append((parse_amount(amount, currency, locale), parse_local_day(day, ctx, tz)))
    return out


def resolve_phone(conn: sqlite3.Connection, customer: sqlite3.Row, text: str) -> int:
    t = text.strip()
    cid = customer["id"]
    if (n := int64_or_none(t)) is not None:
        row = conn.execute(
            "SELECT id FROM phones WHERE id = ? AND customer_id = ?", (n, cid)
        ).fetchone()
        if row:
            return int(row[0])
    try:
        e164 = parse_phone(t, customer["country"])
    except ValueError as exc:
        raise CliError(_("--phone: {error}").format(error=exc), EXIT_USAGE) from exc
    row = conn.execute(
        "SELECT id FROM phones WHERE e164 = ? AND customer_id = ? "
        "ORDER BY do_not_call, bad, id LIMIT 1",
        (e164, cid),
    ).fetchone()
    if row is None:
        raise CliError(
            _("--phone: {value} is not a number of {ref}").format(
                value=text, ref=customer["external_ref"]
            ),
            EXIT_USAGE,
        )
    return int(row[0])


def resolve_invoices(conn: sqlite3.Connection, customer: sqlite3.Row, text: str) -> list[int]:
    ids = []
    for item in (x.strip() for x in re.split(r"[,;\s]+", text)):
        if not item:
            continue
        row = conn.execute(
            "SELECT id FROM invoices WHERE number = ? AND customer_id = ?",
            (item, customer["id"]),
        ).fetchone()
        if row is None and (n := int64_or_none(item)) is not None:
            row = conn.execute(
                "SELECT id FROM invoices WHERE id = ? AND customer_id = ?",
                (n, customer["id"]),
            ).fetchone()
        if row is None:
            raise CliError(
                _("--invoices: {value!r} is not an invoice of {ref}").format(
                    value=item, ref=customer["external_ref"]
                ),
                EXIT_USAGE,
            )
        ids.append(int(row[0]))
    if not ids:
        raise CliError(_("--invoices: name at least one invoice"), EXIT_USAGE)
    return ids
