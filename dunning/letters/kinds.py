"""The kinds of letter (DOMAIN.md "Written collections") and their languages."""

from __future__ import annotations

from dunning.i18n import N_

# kind -> what it is (a label for `dunning templates list`)
KINDS: dict[str, str] = {
    "reminder_1": N_("reminder, level 1: friendly, just past due"),
    "reminder_2": N_("reminder, level 2: firm"),
    "reminder_3": N_("reminder, level 3: final demand with a date"),
    "reminder_4": N_("reminder, level 4: pre-legal notice"),
    "statement": N_("statement of account (cover text)"),
    "promise_confirmation": N_("promise to pay confirmation"),
    "payment_plan": N_("payment plan schedule"),
    "dispute_acknowledgement": N_("dispute acknowledgement"),
}
LANGUAGES = ("en", "fr", "es")
# the three files of a kind in a language folder: the subject line, the plain-text body
# and the HTML body (the only one autoescaped)
PARTS = ("subject", "txt", "html")
# the locale a language is shown in when the customer's country has none of its own
DEFAULT_LOCALE = {"en": "en_US", "fr": "fr_FR", "es": "es_ES"}


def file_name(kind: str, part: str) -> str:
    """``reminder_1.subject``, ``reminder_1.txt``, ``reminder_1.html``."""
    return f"{kind}.{part}"
