"""[levels] in the configuration: the dunning ladder of each portfolio (issue 10 item 5;
DOMAIN.md "Written collections"). A leaf module (standard library and the kinds only):
dunning/queue/config.py reads the table through :func:`levels_from_table`.

```toml
[levels.b2b]
1 = { days = 7,  kind = "reminder_1", channel = "email" }
2 = { days = 30, kind = "reminder_2", channel = "email" }
3 = { days = 60, kind = "reminder_3", channel = "email" }
4 = { days = 90, kind = "reminder_4", channel = "letter" }
```

A portfolio's table replaces its default ladder whole. Levels are numbered from 1 with
none missing (at most 9), each later than the one before (``days`` past due strictly
increasing); ``channel``: ``email``, ``letter`` (on paper) or ``call`` (a call task: a
next action on the queue, no message); ``kind``: the template a letter is written with
(a reminder or the statement; a call level's letter when a collector writes one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PORTFOLIOS = ("b2b", "consumer")  # customers.portfolio's values
LEVEL_CHANNELS = ("email", "letter", "call")
LEVEL_KINDS = ("reminder_1", "reminder_2", "reminder_3", "reminder_4", "statement")
MAX_LEVELS = 9
MAX_DAYS = 3650


@dataclass(frozen=True)
class Level:
    number: int
    days: int  # days past due from which an invoice reaches this level
    kind: str
    channel: str


# DOMAIN.md's typical ladder: friendly (7 days), firm (30), final demand (60), pre-legal
# notice (90), the last on paper
DEFAULT_LADDER: tuple[Level, ...] = (
    Level(1, 7, "reminder_1", "email"),
    Level(2, 30, "reminder_2", "email"),
    Level(3, 60, "reminder_3", "email"),
    Level(4, 90, "reminder_4", "letter"),
)
DEFAULT_LEVELS: dict[str, tuple[Level, ...]] = dict.fromkeys(PORTFOLIOS, DEFAULT_LADDER)


def _refuse(source: str, key: str, wanted: str, value: Any) -> ValueError:
    shown = repr(value) if not isinstance(value, str) or len(value) <= 80 else repr(value[:80])
    return ValueError(f"{source}: {key} must be {wanted}, got {shown}")


def _level(source: str, portfolio: str, key: str, value: Any) -> Level:
    name = f"[levels.{portfolio}] {key}"
    if not isinstance(value, dict):
        raise _refuse(
            source, name, 'a table { days = 7, kind = "reminder_1", channel = ... }', value
        )
    for k in value:
        if k not in ("days", "kind", "channel"):
            raise ValueError(f"{source}: {name}: unknown key {k!r} (known: days, kind, channel)")
    for k in ("days", "kind", "channel"):
        if k not in value:
            raise ValueError(f"{source}: {name}: {k} is missing")
    days = value["days"]
    if type(days) is not int or not 0 <= days <= MAX_DAYS:
        raise _refuse(source, f"{name}.days", f"a whole number from 0 to {MAX_DAYS}", days)
    if value["kind"] not in LEVEL_KINDS:
        raise _refuse(source, f"{name}.kind", "one of " + ", ".join(LEVEL_KINDS), value["kind"])
    if value["channel"] not in LEVEL_CHANNELS:
        raise _refuse(
            source, f"{name}.channel", "one of " + ", ".join(LEVEL_CHANNELS), value["channel"]
        )
    return Level(int(key), days, value["kind"], value["channel"])


def ladder_from_table(source: str, portfolio: str, table: Any) -> tuple[Level, ...]:
    """One portfolio's ladder, checked: ValueError names the file and the key."""
    name = f"[levels.{portfolio}]"
    if not isinstance(table, dict) or not table:
        raise _refuse(source, name, "a table of levels 1 = {...}, 2 = {...}", table)
    numbers = []
    for key in table:
        if not (isinstance(key, str) and key.isdigit() and 1 <= int(key) <= MAX_LEVELS):
            raise _refuse(source, f"{name} key", f"a level number from 1 to {MAX_LEVELS}", key)
        numbers.append(int(key))
    if sorted(numbers) != list(range(1, len(numbers) + 1)):
        raise ValueError(
            f"{source}: {name}: levels must be numbered 1, 2, 3... with none missing, "
            f"got {', '.join(map(str, sorted(numbers)))}"
        )
    ladder = tuple(
        sorted(
            (_level(source, portfolio, k, v) for k, v in table.items()), key=lambda lv: lv.number
        )
    )
    for before, after in zip(ladder, ladder[1:], strict=False):
        if after.days <= before.days:
            raise ValueError(
                f"{source}: {name} {after.number}.days ({after.days}) must be later than "
                f"level {before.number}'s ({before.days})"
            )
    return ladder


def levels_from_table(source: str, table: Any) -> dict[str, tuple[Level, ...]]:
    """[levels]: a table per portfolio; the others keep the default ladder."""
    if not isinstance(table, dict):
        raise _refuse(source, "levels", "a table per portfolio ([levels.b2b])", table)
    out = dict(DEFAULT_LEVELS)
    for portfolio, ladder in table.items():
        if portfolio not in PORTFOLIOS:
            raise ValueError(
                f"{source}: [levels.{portfolio}]: unknown portfolio {portfolio!r} "
                f"(known: {', '.join(PORTFOLIOS)})"
            )
        out[portfolio] = ladder_from_table(source, portfolio, ladder)
    return out
