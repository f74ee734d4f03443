"""[letters] in the configuration: who writes (the remit-to details every letter carries),
where a host's own templates are, and the dates a final demand and a pre-legal notice
give. A leaf module (standard library only): dunning/queue/config.py reads the table
through :func:`letters_from_table`."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

TEXT_MAX = 2000  # characters of one [letters] value (an address, payment instructions)
TEXT_KEYS = (
    "company_name",
    "address",
    "phone",
    "email",
    "website",
    "payment_instructions",
    "opt_out",
)


@dataclass(frozen=True)
class LetterSettings:
    """The remit-to details (``address`` and ``payment_instructions`` may hold several
    lines), ``opt_out``: how a consumer stops e-mails (Regulation F 1006.6(e); empty: "reply
    STOP to this e-mail or write to ``email``"), ``templates``: a folder whose files
    override the built-in templates (docs/LETTERS.md), ``final_demand_days`` and
    ``pre_legal_days``: the days a level-3 and a level-4 letter give to pay."""

    company_name: str = "Your Company"
    address: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""
    payment_instructions: str = ""
    opt_out: str = ""
    templates: str = ""
    outbox: str = ""  # where the compose view writes .eml files (Ctrl+E); ~/dunning-outbox
    final_demand_days: int = 10
    pre_legal_days: int = 10

    @property
    def templates_dir(self) -> Path | None:
        return Path(self.templates).expanduser() if self.templates else None


def letters_from_table(source: str, table: dict[str, Any]) -> LetterSettings:
    """[letters] checked: ValueError names the file and the key."""
    out = LetterSettings()
    for key, value in table.items():
        name = f"[letters] {key}"
        if key in TEXT_KEYS or key in ("templates", "outbox"):
            if not isinstance(value, str) or len(value) > TEXT_MAX or "\x00" in value:
                raise ValueError(f"{source}: {name} must be text of at most {TEXT_MAX} characters")
            out = replace(out, **{key: value})
        elif key in ("final_demand_days", "pre_legal_days"):
            if type(value) is not int or not 1 <= value <= 90:
                raise ValueError(f"{source}: {name} must be a whole number from 1 to 90")
            out = replace(out, **{key: value})
        else:
            raise ValueError(f"{source}: [letters] unknown key {key!r}")
    return out
