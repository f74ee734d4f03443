"""Clocks. Every rule takes a clock so tests can travel in time; nothing deep inside
calls ``datetime.now()``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


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


# -- time zones -------------------------------------------------------------------------


class HostZone(tzinfo):
    """The process's local zone (``$TZ`` or the system's) when it has no IANA name: the
    offset of each instant as the C library gives it, so daylight saving is right."""

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return _host_local(dt).utcoffset() or timedelta(0)

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str:
        return _host_local(dt).tzname() or ""

    def fromutc(self, dt: datetime) -> datetime:
        local = dt.replace(tzinfo=UTC).astimezone()
        return local.replace(tzinfo=self)

    def __repr__(self) -> str:
        return "HostZone()"


def _host_local(dt: datetime | None) -> datetime:
    if dt is None:
        return datetime.now().astimezone()
    return dt.replace(tzinfo=None).astimezone()  # a wall time read as the host's


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (America/Toronto); ValueError naming it when unknown."""
    text = name.strip()
    try:
        if not text or text.startswith(("/", ".")) or ".." in text:
            raise ValueError(text)
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(
            f"unknown time zone {name!r} (an IANA name, e.g. America/Toronto, Europe/Paris, UTC)"
        ) from exc


def host_zone() -> tzinfo:
    """The host's zone: ``$TZ`` when it is an IANA name, else the system's
    (/etc/localtime), else the C library's local time. Found once per value of ``$TZ``
    in a process (the nightly letter run asks once a letter)."""
    return _host_zone(os.environ.get("TZ", ""))


@lru_cache(maxsize=8)
def _host_zone(tz: str) -> tzinfo:
    candidates = [tz.lstrip(":")]
    if not candidates[0]:
        try:
            target = str(Path("/etc/localtime").resolve())
            candidates.append(target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else "")
        except OSError:
            pass
    for name in candidates:
        if name:
            try:
                return zone_named(name)
            except ValueError:
                continue
    return HostZone()


def person_zone(name: str | None) -> tzinfo:
    """A collector's (or the team's) zone from its stored name; the host's when none is
    set, or when the name is no longer known (names are checked when they are set)."""
    if name:
        try:
            return zone_named(name)
        except ValueError:
            pass
    return host_zone()


def zone_label(tz: tzinfo) -> str:
    """'New York' for America/New_York; 'UTC'; the host's abbreviation otherwise."""
    key = getattr(tz, "key", None)
    if key:
        return str(key).split("/")[-1].replace("_", " ")
    return tz.tzname(None) or "local"
