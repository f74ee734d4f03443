"""The parts of an account the account screen shows (queue/account_view.py): raw values
(minor units, ISO text); formatting for a locale happens on screen."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class PhoneView:
    id: int
    e164: str
    type: str
    do_not_call: bool
    bad: bool
    contact: str
    zones: tuple[str, ...]

    @property
    def usable(self) -> bool:
        return not (self.bad or self.do_not_call)


@dataclass(frozen=True)
class ContactView:
    id: int
    name: str
    title: str
    language: str
    email: str
    is_primary: bool
    email_opt_out_at: str | None = None  # opted out of e-mail (UTC; queue/opt_out.py)
    email_opt_out_by: str = ""  # who recorded it

    @classmethod
    def of(cls, r: sqlite3.Row) -> ContactView:
        out = r["id"], r["name"], r["title"] or "", r["language"] or "", r["email"] or ""
        return cls(*out, bool(r["is_primary"]), r["email_opt_out_at"], r["email_opt_out_by"] or "")


@dataclass(frozen=True)
class InvoiceView:
    id: int
    number: str
    issue_date: str
    due_date: str
    amount_minor: int
    open_minor: int
    days_past_due: int
    bucket: str
    disputed: bool


@dataclass(frozen=True)
class PromiseView:
    id: int
    amount_minor: int
    promised_on: str
    due_date: str
    grace_days: int
    status: str
    paid_minor: int
    plan_ref: str | None
    instalment: int | None


@dataclass(frozen=True)
class DisputeView:
    id: int
    reason: str
    department: str
    amount_minor: int
    status: str
    created_at: str
    invoices: tuple[str, ...]
