"""Settings that a team tunes: priority weights, leases, calling windows, caps.

Read from a TOML file (``--config PATH``, ``$DUNNING_CONFIG``, else
``~/.config/dunning/config.toml``); every key is optional and falls back to the
defaults below. See README "Configuration".
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import tzinfo
from pathlib import Path
from typing import Any

from dunning.clock import person_zone, zone_named


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

    @property
    def team_zone(self) -> tzinfo:
        return person_zone(self.team_tz)


def _coerce(base: Any, key: str, value: Any) -> Any:
    current = getattr(base, key)
    if isinstance(current, tuple):
        return tuple(value)
    return value


def load_settings(path: str | Path | None = None) -> Settings:
    """Settings from TOML; a missing default file gives the defaults."""
    if path is None:
        env = os.environ.get("DUNNING_CONFIG")
        path = Path(env) if env else Path.home() / ".config" / "dunning" / "config.toml"
        if not path.exists():
            return Settings()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ValueError(f"{path}: config file not found") from exc
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
            for wk, wv in value.items():
                if wk not in w_known:
                    raise ValueError(f"{source}: [weights] unknown key {wk!r}")
                weights = replace(weights, **{wk: type(getattr(weights, wk))(wv)})
        elif key == "fx_to_base":
            changes[key] = {**DEFAULT_FX, **{k.upper(): float(v) for k, v in value.items()}}
        elif key == "team_tz":
            try:
                zone_named(str(value)) if value else None
            except ValueError as exc:
                raise ValueError(f"{source}: team_tz: {exc}") from exc
            changes[key] = str(value)
        elif key == "file_group":
            if not isinstance(value, str):
                raise ValueError(f"{source}: file_group must be a group name, not {value!r}")
            if value:
                from dunning.db.private import group_id

                group_id(value)  # the group exists on this host
            changes[key] = value
        elif key in known:
            changes[key] = _coerce(settings, key, value)
        else:
            raise ValueError(f"{source}: unknown key {key!r}")
    return replace(settings, weights=weights, **changes)
