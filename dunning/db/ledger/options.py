"""The options of one import, and their check before any file is read.

``validate_options`` is what the CLI calls up front (and ``import_file`` calls again): an
unknown kind, profile, locale, country, currency, date order or encoding, or ``--snapshot``
on a file that is not an invoice extract, is one ``LedgerImportError`` naming the option,
the value and what would be right.
"""

from __future__ import annotations

import codecs
import dataclasses
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.numbers import is_currency

from dunning.db.ledger.parse import DATE_ORDERS
from dunning.db.ledger.profiles import KINDS, PROFILES

NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})  # CLDR regions


class LedgerImportError(Exception):
    """The file cannot be imported at all (unreadable, no header, unknown profile)."""


@dataclass
class ImportOptions:
    kind: str
    profile: str = "generic"
    mapping: dict[str, str] = field(default_factory=dict)  # column -> field
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    dates: str | None = None  # auto, ymd, mdy, dmy (None: the profile's)
    locale: str | None = None  # None: the profile's
    snapshot: bool = False
    skip_invalid: bool = False
    rejects: Path | None = None
    as_of: date | None = None
    country: str = "US"
    currency: str = "USD"
    create_customers: bool | None = None  # None: the profile's
    dry_run: bool = False
    # who runs it (issue 7): an assignment column needs may_assign; the assignments it
    # makes record assigned_by (the importer's collector id; None: the host operator,
    # named in assign_reason)
    may_assign: bool = True
    assigned_by: int | None = None
    assign_reason: str = "import"


@lru_cache(maxsize=1)
def countries() -> frozenset[str]:
    """ISO 3166 alpha-2 codes (babel's territories less CLDR's non-country regions)."""
    return (
        frozenset(k for k in Locale("en").territories if len(k) == 2 and k.isalpha())
        - NOT_COUNTRIES
    )


@lru_cache(maxsize=512)
def currency_ok(code: str) -> bool:
    return len(code) == 3 and is_currency(code)


def check_locale(locale: str) -> str:
    """The locale in babel's spelling (fr-FR -> fr_FR); LedgerImportError if unknown."""
    name = locale.strip().replace("-", "_")
    try:
        Locale.parse(name)
    except (UnknownLocaleError, ValueError, TypeError):
        raise LedgerImportError(
            f"--locale {locale!r}: not a locale babel knows; write language_TERRITORY, "
            "e.g. en_US, en_GB, fr_FR, de_DE"
        ) from None
    return name


def validate_options(options: ImportOptions) -> ImportOptions:
    """The options checked and normalized (codes upper-case, locale in babel's form);
    LedgerImportError with a one-line reason for the first that cannot be right."""
    if options.kind not in KINDS:
        raise LedgerImportError(f"unknown kind {options.kind!r}; one of {', '.join(KINDS)}")
    profile = PROFILES.get(options.profile)
    if profile is None:
        raise LedgerImportError(
            f"unknown profile {options.profile!r}; one of {', '.join(PROFILES)}"
        )
    if options.kind not in profile.kinds:
        raise LedgerImportError(
            f"profile {profile.name!r} reads {', '.join(profile.kinds)} files, not {options.kind}"
        )
    if options.snapshot and options.kind != "invoices":
        raise LedgerImportError(
            f"--snapshot applies to invoices (a full open-items extract closes the open "
            f"invoices it lacks); it means nothing for {options.kind}: leave it out"
        )
    if options.dates is not None and options.dates not in DATE_ORDERS:
        raise LedgerImportError(f"--dates {options.dates!r}: one of {', '.join(DATE_ORDERS)}")
    locale = check_locale(options.locale) if options.locale else None
    country = options.country.strip().upper()
    if country not in countries():
        raise LedgerImportError(
            f"--country {options.country!r}: not an ISO 3166 alpha-2 country code "
            "(US, CA, GB, FR, DE, ...)"
        )
    currency = options.currency.strip().upper()
    if not currency_ok(currency):
        raise LedgerImportError(
            f"--currency {options.currency!r}: not an ISO 4217 currency code (USD, EUR, ...)"
        )
    if options.encoding:
        try:
            # base64, hex, zlib, rot13...: codecs that are not text (a traceback before)
            if not codecs.lookup(options.encoding)._is_text_encoding:
                raise LookupError(options.encoding)
        except LookupError:
            raise LedgerImportError(
                f"--encoding {options.encoding!r}: unknown encoding (utf-8, cp1252, utf-16, "
                "latin-1, ...)"
            ) from None
    return dataclasses.replace(options, locale=locale, country=country, currency=currency)
