"""Aging buckets by days past due (DOMAIN.md). A leaf module for every layer."""

from __future__ import annotations

from datetime import date

BUCKETS: tuple[str, ...] = ("current", "1-30", "31-60", "61-90", "91-120", "120+")


def days_past_due(as_of: date, due: date) -> int:
    return (as_of - due).days


def bucket_for(days: int) -> str:
    if days <= 0:
        return "current"
    if days <= 30:
        return "1-30"
    if days <= 60:
        return "31-60"
    if days <= 90:
        return "61-90"
    if days <= 120:
        return "91-120"
    return "120+"
