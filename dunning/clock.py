"""Clocks. Every rule takes a clock so tests can travel in time; nothing deep inside
calls ``datetime.now()``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that stands still until moved; for tests and benchmarks."""

    at: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 15, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.at

    def advance(self, **kwargs: float) -> None:
        self.at = self.at + timedelta(**kwargs)


def to_iso(dt: datetime) -> str:
    """UTC ISO-8601 text as stored in the database (second precision, trailing Z)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def today(clock: Clock) -> date:
    return clock.now().date()
