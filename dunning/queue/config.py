"""Settings that a team tunes: priority weights, leases, calling windows, caps.

Read from a TOML file (``--config PATH``, ``$DUNNING_CONFIG``, else
``~/.config/dunning/config.toml``); every key is optional and falls back to the
defaults below. See README "Configuration".
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import tzinfo
from pathlib import Path
from typing import Any

from dunning.bounds import INT64_MAX, INT64_MIN
from dunning.clock import person_zone, zone_named
from dunning.letters.settings import LetterSettings, letters_from_table
from dunning.letters.smtp_settings import SmtpSettings, smtp_from_table
from dunning.queue.levels_config import DEFAULT_LEVELS, Level, levels_from_table


@dataclass(frozen=True)
class Weights:
    """Points per priority term (see queue/priority.py for each term's formula)."""

    days_past_due: float = 10.0  # per 30 days past due of the oldest open invoice, capped
    days_past_due_cap: int = 180
    balance: float = 10.0  # per power of ten of the open balance in the base currency
    # DOMAIN.md: a broken promise sends the account back to the top of the queue, and a
    # callback due is an appointment: both outweigh every other term together (~190)
    broken_promise: float = 200.0
    callback_due: float = 300.0
    promise_check: float = 15.0
    since_contact: float = 5.0  # per 7 days without contact, capped
    since_contact_cap: int = 35
    risk: float = 20.0  # at risk score 100


# Rough rates to compare balances across currencies for ordering only (never for money
# shown or stored). Overridable in config [fx_to_base].
DEFAULT_FX: dict[str, float] = {
    "USD": 1.0,
    "CAD": 0.72,
    "MXN": 0.055,
    "EUR": 1.08,
    "GBP": 1.27,
    "CHF": 1.12,
    "JPY": 0.0066,
}


@dataclass(frozen=True)
class DisputeSettings:
    """[disputes]: the service level of an open dispute (business days of the customer's
    calendar, after which it is overdue) and whether an import's ``disputed=no`` on a
    disputed invoice closes its dispute (off for an ERP that never carries disputes and
    writes "no" on every line)."""

    service_days: int = 10
    erp_closes: bool = True


WRITEOFF_UNLIMITED = -1
ANY_CURRENCY = "*"  # writeoff_limit's role keys given directly under [approvals.writeoff_limit]
ROLES = ("collector", "lead", "admin")
HOLD_RELEASE = ("approval", "free")


@dataclass(frozen=True)
class ApprovalSettings:
    """[approvals] (issue 9, item 7; queue/approvals.py): what a collector's outcome may
    do alone, and what waits for a lead in the review queue.

    - ``plan_max_months``: a payment plan whose last instalment falls more than N months
      after today (the collector's calendar) needs approval; 0: every plan does.
    - ``plan_min_instalment_pct``: every instalment but the last (the remainder) must be at
      least this percentage of what is owed (a percentage, so one rule fits every
      currency); 0: no minimum.
    - ``settlement_max_discount_pct``: a settlement (the customer pays less than what is
      owed, the rest forgiven) whose discount is above this percentage needs approval; 0:
      every settlement does.
    - ``writeoff_limit``: currency -> role -> the largest amount that role may write off
      alone, in whole units of that currency (``[approvals.writeoff_limit.USD] lead =
      5000``: 5,000.00 USD; ``[approvals.writeoff_limit.MXN] lead = 90000``); -1
      unlimited, 0 never alone. A role key directly under ``[approvals.writeoff_limit]``
      (round 7's form, stored under ``ANY_CURRENCY``) is the limit in every currency
      without a table of its own. A config that has ``writeoff_limit`` replaces the
      defaults: a currency (or a role) it does not name has no limit set (approvals.py
      refuses a lead's or admin's approval naming the setting; a collector's request
      waits for a lead). A collector's request above their limit waits for a lead; a
      lead approves up to theirs, above it an admin.
    - ``credit_hold_release``: ``approval`` (a release request waits for a lead) or
      ``free`` (the collector lifts the hold)."""

    plan_max_months: int = 12
    plan_min_instalment_pct: float = 0.0
    settlement_max_discount_pct: float = 0.0
    writeoff_limit: dict[str, dict[str, int]] = field(
        default_factory=lambda: {
            ANY_CURRENCY: {"collector": 0, "lead": 5000, "admin": WRITEOFF_UNLIMITED}
        }
    )
    credit_hold_release: str = "approval"
    source: str = "config"  # the file the policy was read from (refusals name it)


@dataclass(frozen=True)
class RoutingSettings:
    """[routing]: accounts are dealt (assigned, reassigned, rebalanced) only to collectors
    who speak the customer's language (queue/routing.py); ``by_language = false`` turns
    the rule off."""

    by_language: bool = True


@dataclass(frozen=True)
class Settings:
    weights: Weights = field(default_factory=Weights)
    fx_to_base: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_FX))
    lease_minutes: int = 15
    skip_minutes: int = 60
    grace_days: int = 2
    undo_seconds: int = 10  # how long `u` can take back the outcome just saved
    # Contact rules (DOMAIN.md) apply to these portfolios.
    contact_rules_portfolios: tuple[str, ...] = ("consumer",)
    # Outside the legal windows, B2B calls are still shown, flagged when outside these hours.
    business_hours: tuple[int, int] = (8, 18)
    keys: dict[str, str] = field(default_factory=dict)  # binding id -> keys (tui)
    # The team's time zone (IANA name): the days of report periods and "today" in
    # reports; '' = the host's zone.
    team_tz: str = ""
    # The OS group that may read the files dunning creates (database, -wal/-shm, backups,
    # exports, reports): they are then 0640 and in that group; '' = 0600, owner only.
    file_group: str = ""
    disputes: DisputeSettings = field(default_factory=DisputeSettings)
    routing: RoutingSettings = field(default_factory=RoutingSettings)
    approvals: ApprovalSettings = field(default_factory=ApprovalSettings)
    letters: LetterSettings = field(default_factory=LetterSettings)  # [letters]: letters/
    smtp: SmtpSettings | None = None  # [smtp]: the relay e-mails go through (queue/sending.py)
    # [levels.<portfolio>]: the dunning ladder (queue/levels_config.py, queue/levels.py)
    levels: dict[str, tuple[Level, ...]] = field(default_factory=lambda: dict(DEFAULT_LEVELS))

    @property
    def team_zone(self) -> tzinfo:
        return person_zone(self.team_tz)


# key -> (low, high) for whole numbers; every key of Settings is checked at load (type and
# range), so a typo fails at start naming the key and the file, never later as a
# TypeError, and a negative lease cannot silently turn exclusive claims off
INT_RANGES: dict[str, tuple[int, int]] = {
    "lease_minutes": (1, 240),
    "skip_minutes": (1, 7 * 24 * 60),
    "grace_days": (0, 30),  # as a promise's own grace (queue/outcome_rules.py)
    "undo_seconds": (0, 600),
}
MAX_CONFIG_BYTES = 1 << 20
WEIGHT_MAX = 10_000.0  # points of one priority term
CAP_RANGE = (0, 3650)  # the days caps of [weights]
FX_MAX = 1_000_000.0
PORTFOLIOS = ("consumer", "b2b")


def _bad(source: str, key: str, wanted: str, value: Any) -> ValueError:
    shown = repr(value) if not isinstance(value, str) or len(value) <= 80 else repr(value[:80])
    return ValueError(f"{source}: {key} must be {wanted}, got {shown}")


def _whole(source: str, key: str, value: Any, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise _bad(source, key, f"a whole number from {low} to {high}", value)
    return value


def _number(source: str, key: str, value: Any, low: float, high: float) -> float:
    if type(value) not in (int, float) or not math.isfinite(value) or not low <= value <= high:
        raise _bad(source, key, f"a number from {low:g} to {high:g}", value)
    return float(value)


def _table(source: str, key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(source, key, "a table ([" + key + "])", value)
    return value


def _check(source: str, key: str, value: Any, default: Any) -> Any:
    """``value`` of ``key`` once its type and range are checked (ValueError otherwise)."""
    if key in INT_RANGES:
        return _whole(source, key, value, *INT_RANGES[key])
    if key == "contact_rules_portfolios":
        if not isinstance(value, list) or not all(v in PORTFOLIOS for v in value):
            raise _bad(source, key, "a list of " + " and ".join(PORTFOLIOS), value)
        return tuple(value)
    if key == "business_hours":
        ok = (
            isinstance(value, list)
            and len(value) == 2
            and all(type(h) is int and 0 <= h <= 24 for h in value)
            and value[0] < value[1]
        )
        if not ok:
            raise _bad(source, key, "two hours [start, end] from 0 to 24, start first", value)
        return (value[0], value[1])
    if key == "keys":
        table = _table(source, key, value)
        for k, v in table.items():
            if not isinstance(v, str) or not v or len(v) > 100:
                raise _bad(source, f"[keys] {k}", 'keys as text, e.g. "n,0"', v)
        return dict(table)
    # a key without its own rule: the type of its default
    if isinstance(default, bool):
        if type(value) is not bool:
            raise _bad(source, key, "true or false", value)
    elif isinstance(default, int):
        return _whole(source, key, value, INT64_MIN, INT64_MAX)
    elif isinstance(default, float):
        return _number(source, key, value, -1e300, 1e300)
    elif isinstance(default, str):
        if not isinstance(value, str):
            raise _bad(source, key, "text", value)
    elif isinstance(default, tuple):
        if not isinstance(value, list):
            raise _bad(source, key, "a list", value)
        return tuple(value)
    elif isinstance(default, dict):
        return dict(_table(source, key, value))
    return value


def _disputes(source: str, table: dict[str, Any]) -> DisputeSettings:
    out = DisputeSettings()
    for k, v in table.items():
        if k == "service_days":
            out = replace(out, service_days=_whole(source, "[disputes] service_days", v, 1, 365))
        elif k == "erp_closes":
            if type(v) is not bool:
                raise _bad(source, "[disputes] erp_closes", "true or false", v)
            out = replace(out, erp_closes=v)
        else:
            raise ValueError(f"{source}: [disputes] unknown key {k!r}")
    return out


def _routing(source: str, table: dict[str, Any]) -> RoutingSettings:
    out = RoutingSettings()
    for k, v in table.items():
        if k != "by_language":
            raise ValueError(f"{source}: [routing] unknown key {k!r}")
        if type(v) is not bool:
            raise _bad(source, "[routing] by_language", "true or false", v)
        out = replace(out, by_language=v)
    return out


def _approvals(source: str, table: dict[str, Any]) -> ApprovalSettings:
    out = ApprovalSettings()
    for k, v in table.items():
        name = f"[approvals] {k}"
        if k == "plan_max_months":
            out = replace(out, plan_max_months=_whole(source, name, v, 0, 120))
        elif k in ("plan_min_instalment_pct", "settlement_max_discount_pct"):
            out = replace(out, **{k: _number(source, name, v, 0.0, 100.0)})
        elif k == "writeoff_limit":
            out = replace(out, writeoff_limit=_writeoff_limits(source, name, v))
        elif k == "credit_hold_release":
            if v not in HOLD_RELEASE:
                raise _bad(source, name, " or ".join(HOLD_RELEASE), v)
            out = replace(out, credit_hold_release=v)
        else:
            raise ValueError(f"{source}: [approvals] unknown key {k!r}")
    return replace(out, source=source)


def _writeoff_limits(source: str, name: str, value: Any) -> dict[str, dict[str, int]]:
    """[approvals.writeoff_limit]: a table per currency (``[approvals.writeoff_limit.USD]``
    with collector / lead / admin), and role keys directly under it for every other
    currency. Replaces the defaults: what it does not name has no limit set."""
    limits: dict[str, dict[str, int]] = {}
    for key, v in _table(source, name, value).items():
        if key in ROLES:
            limits.setdefault(ANY_CURRENCY, {})[key] = _whole(
                source, f"{name}.{key}", v, -1, 10**12
            )
        elif len(key) == 3 and key.isascii() and key.isalpha() and key.isupper():
            roles = limits.setdefault(key, {})
            for role, amount in _table(source, f"{name}.{key}", v).items():
                if role not in ROLES:
                    raise _bad(source, f"{name}.{key}", "keyed by collector, lead, admin", role)
                roles[role] = _whole(source, f"{name}.{key}.{role}", amount, -1, 10**12)
        else:
            raise _bad(
                source, name, "keyed by a currency code (USD) or collector, lead, admin", key
            )
    return limits


def load_settings(path: str | Path | None = None) -> Settings:
    """Settings from TOML; a missing default file gives the defaults. Every value is
    checked (type and range) here, at start: ValueError names the file and the key.
    Unknown keys are refused too (a misspelt key would otherwise be silently ignored)."""
    if path is None:
        env = os.environ.get("DUNNING_CONFIG")
        path = Path(env) if env else Path.home() / ".config" / "dunning" / "config.toml"
        if not path.exists():
            return Settings()
    path = Path(path)
    if path.exists() and not path.is_file():  # a FIFO would hang the read
        raise ValueError(f"{path}: not a regular file")
    if path.is_file() and path.stat().st_size > MAX_CONFIG_BYTES:
        raise ValueError(f"{path}: {path.stat().st_size:,} bytes is too large for a config file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ValueError(f"{path}: config file not found") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    return settings_from_dict(data, source=str(path))


def settings_from_dict(data: dict[str, Any], source: str = "config") -> Settings:
    settings = Settings()
    known = {f.name for f in fields(Settings)}
    weights = settings.weights
    w_known = {f.name for f in fields(Weights)}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key == "weights":
            for wk, wv in _table(source, key, value).items():
                if wk not in w_known:
                    raise ValueError(f"{source}: [weights] unknown key {wk!r}")
                name = f"[weights] {wk}"
                if isinstance(getattr(weights, wk), int):
                    checked: float = _whole(source, name, wv, *CAP_RANGE)
                else:
                    checked = _number(source, name, wv, 0.0, WEIGHT_MAX)
                weights = replace(weights, **{wk: checked})
        elif key == "fx_to_base":
            rates = {}
            for k, v in _table(source, key, value).items():
                if not (len(k) == 3 and k.isascii() and k.isalpha()):
                    raise _bad(source, "[fx_to_base]", "keyed by currency codes (EUR)", k)
                rates[k.upper()] = _number(source, f"[fx_to_base] {k}", v, 1e-9, FX_MAX)
            changes[key] = {**DEFAULT_FX, **rates}
        elif key == "disputes":
            changes[key] = _disputes(source, _table(source, key, value))
        elif key == "routing":
            changes[key] = _routing(source, _table(source, key, value))
        elif key == "approvals":
            changes[key] = _approvals(source, _table(source, key, value))
        elif key == "letters":
            changes[key] = letters_from_table(source, _table(source, key, value))
        elif key == "smtp":
            changes[key] = smtp_from_table(source, _table(source, key, value))
        elif key == "levels":
            changes[key] = levels_from_table(source, value)
        elif key == "team_tz":
            if not isinstance(value, str):
                raise _bad(source, key, 'a time zone name ("America/Toronto")', value)
            try:
                zone_named(value) if value else None
            except ValueError as exc:
                raise ValueError(f"{source}: team_tz: {exc}") from exc
            changes[key] = value
        elif key == "file_group":
            if not isinstance(value, str):
                raise ValueError(f"{source}: file_group must be a group name, not {value!r}")
            if value:
                from dunning.db.private import group_id

                group_id(value)  # the group exists on this host
            changes[key] = value
        elif key in known:
            changes[key] = _check(source, key, value, getattr(settings, key))
        else:
            raise ValueError(f"{source}: unknown key {key!r} (known: {', '.join(sorted(known))})")
    return replace(settings, weights=weights, **changes)
