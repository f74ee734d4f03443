"""When a consumer may be called: the instants the rule allows in every zone they may be in.

The allowed periods are computed once per (zones, rule, UTC day) as UTC intervals (each
zone's local hours on each local day, intersected across zones) and memoized, so deciding
one account in a claim is a dictionary look-up and a bisection. The same intervals give
the next instant an account opens and the window to show the collector in their own clock.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache

from dunning.clock import host_zone as host_zone  # the viewer's clock by default
from dunning.i18n import _
from dunning.phones import zone

# A day on which a jurisdiction forbids calls: the reason (a holiday's name), else None.
Closed = Callable[[date], "str | None"]


@dataclass(frozen=True)
class Window:
    """Allowed local hours [start, end) per weekday (0=Monday); None = no calls that day."""

    days: tuple[tuple[int, int] | None, ...]
    rule: str  # which law, shown to the collector

    def __and__(self, other: Window) -> Window:
        """Only the hours both allow."""
        days: list[tuple[int, int] | None] = []
        for a, b in zip(self.days, other.days, strict=True):
            if a is None or b is None or max(a[0], b[0]) >= min(a[1], b[1]):
                days.append(None)
            else:
                days.append((max(a[0], b[0]), min(a[1], b[1])))
        rule = self.rule if other.rule == self.rule else f"{self.rule}; {other.rule}"
        return Window(tuple(days), rule)


def rule_text(rule: str) -> str:
    """A window's rule (several joined by '; ' when windows were intersected) in the
    reader's language."""
    return "; ".join(_(part) for part in rule.split("; "))


@dataclass(frozen=True, eq=False)  # identity hash: rules are made once per jurisdiction set
class Rule:
    """When a consumer may be called: the window and the days it is shut."""

    window: Window
    closed: Closed | None = None


SPAN_DAYS = 8  # one memoized block: a UTC day and the week after it
LOOK_AHEAD = 5  # blocks searched for the next opening (40 days)

Span = tuple[float, float]  # [start, end) in POSIX seconds


def _local(d: date, hour: int, tz: tzinfo) -> float:
    if hour >= 24:
        return datetime.combine(d + timedelta(days=1), time(0), tz).timestamp()
    return datetime.combine(d, time(hour), tz).timestamp()


def _own(name: str, rule: Rule, lo: float, hi: float, first: date, last: date) -> list[Span]:
    """One zone's allowed periods between lo and hi (its local days first..last)."""
    tz = zone(name)
    out: list[Span] = []
    d = first
    while d <= last:
        hours = rule.window.days[d.weekday()]
        if hours is not None and not (rule.closed is not None and rule.closed(d)):
            s, e = _local(d, hours[0], tz), _local(d, hours[1], tz)
            if e > lo and s < hi:
                out.append((max(s, lo), min(e, hi)))
        d += timedelta(days=1)
    return out


def _intersect(a: list[Span], b: list[Span]) -> list[Span]:
    out: list[Span] = []
    i = j = 0
    while i < len(a) and j < len(b):
        s, e = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if s < e:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


@lru_cache(maxsize=8192)
def spans(zones: tuple[str, ...], rule: Rule, day: date) -> tuple[Span, ...]:
    """The periods from ``day`` 00:00 UTC through SPAN_DAYS days later when the rule allows
    a call in every zone (none when no zone is known)."""
    if not zones:
        return ()
    lo = datetime.combine(day, time(0), UTC).timestamp()
    hi = lo + SPAN_DAYS * 86400
    first, last = day - timedelta(days=1), day + timedelta(days=SPAN_DAYS + 1)
    acc: list[Span] | None = None
    for name in zones:
        own = _own(name, rule, lo, hi, first, last)
        acc = own if acc is None else _intersect(acc, own)
        if not acc:
            break
    return tuple(acc or ())


@lru_cache(maxsize=8192)
def _starts(zones: tuple[str, ...], rule: Rule, day: date) -> tuple[float, ...]:
    return tuple(s for s, _e in spans(zones, rule, day))


def allowed_at(now: datetime, zones: tuple[str, ...], rule: Rule) -> bool:
    day = now.astimezone(UTC).date()
    t = now.timestamp()
    k = bisect_right(_starts(zones, rule, day), t) - 1
    return k >= 0 and t < spans(zones, rule, day)[k][1]


def opens_at(now: datetime, zones: tuple[str, ...], rule: Rule) -> datetime | None:
    """The first instant at or after ``now`` the rule allows (None: not within 40 days)."""
    t = now.timestamp()
    day = now.astimezone(UTC).date()
    for block in range(LOOK_AHEAD):
        for s, e in spans(zones, rule, day + timedelta(days=block * SPAN_DAYS)):
            if e > t:
                return datetime.fromtimestamp(max(s, t), UTC)
    return None


def closed_reason(now: datetime, zones: tuple[str, ...], rule: Rule) -> str | None:
    """The holiday (or other day of rest) that shuts the consumer's day, if one does."""
    if rule.closed is None:
        return None
    for name in zones:
        why = rule.closed(now.astimezone(zone(name)).date())
        if why:
            return why
    return None


def _at(t: float, tz: tzinfo) -> datetime:
    return datetime.fromtimestamp(t, UTC).astimezone(tz)


@dataclass(frozen=True)
class CallWindow:
    """The window as the collector sees it, in their own time zone."""

    periods: tuple[tuple[datetime, datetime], ...]  # periods that touch today, viewer's zone
    current: tuple[datetime, datetime] | None  # the one open now, else the next one today
    opens_from: tuple[str, ...]  # the zones whose local hours open the shown period last
    closes_in: tuple[str, ...]  # ... and close it first
    open_now: bool
    next_open: datetime | None  # now when open; else the next opening (viewer's zone)
    holiday: str | None  # a day of rest that shuts today, if any
    viewer: tzinfo = UTC  # the zone the periods are expressed in

    @property
    def bounds(self) -> tuple[str, ...]:
        """The zones that bound the shown period, each once, opening zone first."""
        return tuple(dict.fromkeys(self.opens_from + self.closes_in))


@lru_cache(maxsize=4096)
def _bounds(
    zones: tuple[str, ...], rule: Rule, start: float, end: float
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The zones whose own local hours open the period [start, end) and close it."""
    lo, hi = start - 86400, end + 86400
    first = datetime.fromtimestamp(lo, UTC).date() - timedelta(days=1)
    last = datetime.fromtimestamp(hi, UTC).date() + timedelta(days=1)
    opens_from: list[str] = []
    closes_in: list[str] = []
    for name in zones:
        for s, e in _own(name, rule, lo, hi, first, last):
            if s == start:
                opens_from.append(name)
            if e == end:
                closes_in.append(name)
    return tuple(opens_from), tuple(closes_in)


def call_window(now: datetime, zones: tuple[str, ...], rule: Rule, viewer: tzinfo) -> CallWindow:
    """Today's allowed periods in ``viewer``'s zone, and which of the consumer's zones bound
    them (the last to open, the first to close): "10:00-17:00 your time: Los Angeles and
    New York"."""
    local_now = now.astimezone(viewer)
    today = local_now.date()
    day_lo = datetime.combine(today, time(0), viewer).timestamp()
    day_hi = datetime.combine(today + timedelta(days=1), time(0), viewer).timestamp()
    utc_day = datetime.fromtimestamp(day_lo, UTC).date()
    # one block from the day before holds the whole of the viewer's day
    block = spans(zones, rule, utc_day - timedelta(days=1))
    merged = [(s, e) for s, e in block if e > day_lo and s < day_hi]
    periods = tuple((_at(s, viewer), _at(e, viewer)) for s, e in merged)
    t = now.timestamp()
    shown = next((p for p in merged if p[1] > t), None)
    opens_from, closes_in = _bounds(zones, rule, *shown) if shown else ((), ())
    nxt = opens_at(now, zones, rule)
    return CallWindow(
        periods=periods,
        current=(_at(shown[0], viewer), _at(shown[1], viewer)) if shown else None,
        opens_from=opens_from,
        closes_in=closes_in,
        open_now=allowed_at(now, zones, rule),
        next_open=nxt.astimezone(viewer) if nxt else None,
        holiday=closed_reason(now, zones, rule),
        viewer=viewer,
    )
