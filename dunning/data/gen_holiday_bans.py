"""Generate ``holiday_bans.json`` (the days Ontario and Quebec forbid calls on, with their
English names) from the ``holidays`` package: ``python -m dunning.data.gen_holiday_bans``.

Run once per ``holidays`` upgrade; ``tests/test_holidays.py`` fails when the stored table no
longer matches the package. Importing the package and building Canada's first year costs
0.25-0.6 s, which the first claim of a process (start-up: process start -> first account)
paid whenever a Canadian consumer was a candidate; a claim reads this table instead.
Years outside ``YEARS`` still ask the package.
"""

from __future__ import annotations

import json
from pathlib import Path

OUT = Path(__file__).with_name("holiday_bans.json")
YEARS = range(2024, 2041)


def generate() -> dict[str, dict[str, str]]:
    """'CA-ON' -> ISO date -> the holiday's English name, for every banning subdivision."""
    from dunning.queue.holidays import HOLIDAY_BANS, package_ban_days

    out: dict[str, dict[str, str]] = {}
    for country, sub in sorted(HOLIDAY_BANS):
        days: dict[str, str] = {}
        for year in YEARS:
            for day, name in sorted(package_ban_days(country, sub, year).items()):
                days[day.isoformat()] = name
        out[f"{country}-{sub}"] = days
    return out


def main() -> None:
    OUT.write_text(
        json.dumps(generate(), indent=0, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
