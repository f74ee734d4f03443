"""A module imported on first use of one of its names (the migrations' modules in
db/schema.py: only a database that needs those migrations uses them)."""

from __future__ import annotations

import importlib
from typing import Any


class OnUse:
    """``OnUse("dunning.db.aging_order").fill(...)`` imports the module at that call."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)
