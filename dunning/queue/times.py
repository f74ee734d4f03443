"""Times a collector types for an account, read on the right clock.

A callback is a time the customer asked for: "call me tomorrow at 9" is 9:00 where the
customer is, whatever the server's or the collector's zone. So times chosen for an
account (the callback, the next action) are read in the customer's time by default; a
trailing ``me`` (``moi``, ``yo``) reads them on the collector's own clock instead
("tomorrow 15:00 me"). Relative times (+2h, +30m) are the same on both clocks.

For the portfolios the contact rules bind (consumer), such a time must fall inside the
calling window of every zone the customer may be in; a refusal says when it opens.
:func:`check_chosen_time` is the one place that decides it, for the screen and the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from babel.dates import format_datetime

from dunning.clock import zone_label
from dunning.i18n import _
from dunning.places import Jurisdiction
from dunning.queue.calendar import customer_tz
from dunning.queue.contact_rules import jurisdictions_of, rule_for
from dunning.queue.windows import (
    Rule,
    Window,
    allowed_at,
    closed_reason,
    opens_at,
    rule_text,
)
from dunning.when import parse_when

# a last word that means "on my own clock, not the customer's"
OWN_CLOCK_WORDS = frozenset({"me", "moi", "yo", "mine"})


class OutsideWindowError(ValueError):
    """A chosen time the calling window forbids; the message says when it opens."""


@dataclass(frozen=True)
class TypedTime:
    at: datetime  # the instant, in UTC
    clock: tzinfo  # the clock it was read on
    own_clock: bool  # read on the collector's clock (asked for, or the customer's unknown)


def customer_zone(zones: tuple[str, ...]) -> tzinfo | None:
    """The customer's clock (the first zone of the account); None when none is known."""
    return customer_tz(zones) if zones else None


def split_own_clock(text: str) -> tuple[str, bool]:
    """'tomorrow 9:00 me' -> ('tomorrow 9:00', True)."""
    words = text.strip().split()
    if len(words) > 1 and words[-1].lower() in OWN_CLOCK_WORDS:
        return " ".join(words[:-1]), True
    return text.strip(), False


def read_time(text: str, now: datetime, *, customer: tzinfo | None, collector: tzinfo) -> TypedTime:
    """A typed date and time for an account: in the customer's time unless it ends in
    ``me`` (or the customer's zone is unknown). ValueError naming the value."""
    body, own = split_own_clock(text)
    own = own or customer is None
    clock = collector if own or customer is None else customer
    at = parse_when(body, now.astimezone(clock))
    return TypedTime(at.astimezone(UTC), clock, own)


def _short(dt: datetime, locale: str, *, day: bool = True) -> str:
    return format_datetime(dt, "EEE d MMM H:mm" if day else "H:mm", locale=locale)


def _weekday_time(dt: datetime, locale: str) -> str:
    return format_datetime(dt, "EEE H:mm", locale=locale)


def both_clocks(at: datetime, *, customer: tzinfo | None, collector: tzinfo, locale: str) -> str:
    """'Tue 24 Nov 9:00 New York = 15:00 for you' (the collector's day when it differs)."""
    mine_local = at.astimezone(collector)
    if customer is None:
        return _("{mine} for you (the customer's time zone is unknown)").format(
            mine=_short(mine_local, locale)
        )
    theirs_local = at.astimezone(customer)
    same_day = theirs_local.date() == mine_local.date()
    return _("{theirs} {zone} = {mine} for you").format(
        theirs=_short(theirs_local, locale),
        zone=zone_label(customer),
        mine=_short(mine_local, locale, day=False)
        if same_day
        else _weekday_time(mine_local, locale),
    )


def next_opening(at: datetime, zones: tuple[str, ...], window: Window | Rule) -> datetime | None:
    """The first instant from ``at`` on when a call is allowed in every zone (the calling
    windows' own arithmetic, days a jurisdiction shuts included); None when no zone is
    known or nothing opens within the look-ahead."""
    if not zones:
        return None
    rule = window if isinstance(window, Rule) else Rule(window)
    return opens_at(at.astimezone(UTC), zones, rule)


def check_chosen_time(
    at: datetime,
    *,
    rules: bool,
    country: str,
    subdivision: str | None,
    zones: tuple[str, ...],
    collector: tzinfo,
    locale: str,
    jurisdictions: tuple[Jurisdiction, ...] = (),
) -> None:
    """Refuse (OutsideWindowError) a callback or next action outside the calling window
    of every zone the customer may be in, or on a day their rules shut (a holiday in
    Ontario or Quebec), when the contact rules bind the account (``rules``: its portfolio
    is in ``Settings.contact_rules_portfolios``)."""
    if not rules:
        return
    rule = rule_for(jurisdictions or jurisdictions_of(country, subdivision))
    window = rule.window
    if allowed_at(at.astimezone(UTC), zones, rule):
        return
    if not zones:
        raise OutsideWindowError(
            _("no time zone is known for this customer, so no time is inside the calling window")
        )
    customer = customer_zone(zones) or collector
    when = f"{_short(at.astimezone(customer), locale)} {zone_label(customer)}"
    opens = next_opening(at, zones, rule)
    holiday = closed_reason(at.astimezone(UTC), zones, rule)  # "Christmas Day (the law)"
    if opens is None:
        if holiday:
            raise OutsideWindowError(
                _("{when} is a holiday where the customer is: {holiday}").format(
                    when=when, holiday=holiday
                )
            )
        raise OutsideWindowError(
            _("{when} is outside the calling window ({rule})").format(
                when=when, rule=rule_text(window.rule)
            )
        )
    theirs, mine = opens.astimezone(customer), opens.astimezone(collector)
    opens_text = f"{_short(theirs, locale)} {zone_label(customer)}"
    mine_text = (
        _short(mine, locale, day=False)
        if mine.date() == theirs.date()
        else _weekday_time(mine, locale)
    )
    if holiday:
        raise OutsideWindowError(
            _(
                "{when} is a holiday where the customer is: {holiday}; it opens {opens} "
                "({mine} for you)"
            ).format(when=when, holiday=holiday, opens=opens_text, mine=mine_text)
        )
    raise OutsideWindowError(
        _(
            "{when} is outside the calling window ({rule}); it opens {opens} ({mine} for you)"
        ).format(when=when, rule=rule_text(window.rule), opens=opens_text, mine=mine_text)
    )


# outcomes whose next action is a check of money, not a call: no calling window
NOT_A_CALL = frozenset({"promise_to_pay", "payment_plan", "paid"})


def check_outcome_times(
    outcome: str,
    callback_at: datetime | None,
    next_action_at: datetime | None,
    *,
    rules: bool,
    country: str,
    subdivision: str | None,
    zones: tuple[str, ...],
    collector: tzinfo,
    locale: str,
    jurisdictions: tuple[Jurisdiction, ...] = (),
) -> None:
    """The times an outcome chooses for the next call (its callback, the next action the
    collector picked) must be legal ones: :func:`check_chosen_time` on each. The dialog
    runs it before it closes, ``log_outcome`` before it writes."""
    chosen = [callback_at]
    if outcome not in NOT_A_CALL:
        chosen.append(next_action_at)
    for at in chosen:
        if at is not None:
            check_chosen_time(
                at,
                rules=rules,
                country=country,
                subdivision=subdivision,
                zones=zones,
                collector=collector,
                locale=locale,
                jurisdictions=jurisdictions,
            )
