"""Loading the ERP's ledger: customers, contacts, invoices and payments from CSV/XLSX.

See docs/IMPORT.md for the layouts, profiles and rules. Entry point: ``import_file``.
"""

from dunning.db.ledger.importer import (
    ImportOptions,
    ImportResult,
    LedgerImportError,
    Refusal,
    import_file,
)
from dunning.db.ledger.options import validate_options
from dunning.db.ledger.profiles import FIELDS, KINDS, PROFILES

__all__ = [
    "FIELDS",
    "KINDS",
    "PROFILES",
    "ImportOptions",
    "ImportResult",
    "LedgerImportError",
    "Refusal",
    "import_file",
    "validate_options",
]
