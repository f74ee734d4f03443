"""Every writer of existing invoices or payments keeps the aging snapshot exact.

The snapshot (dunning/db/aging_snapshot.py) knows new invoices and payments by their ids;
a change to an existing one is known only when its writer calls ``aging_snapshot.touch``
in the same transaction. This test reads the package's source: a module that updates,
deletes or replaces invoice or payment rows must call it, or be listed here with the
caller that does. A new writer (a dispute resolved from the lead's desk, a correction)
that forgets it fails here instead of making the aging silently wrong.
"""

from __future__ import annotations

import re
from pathlib import Path

import dunning

PACKAGE = Path(dunning.__file__).parent
WRITES = re.compile(
    r"\b(UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+(main\.)?(invoices|payments)\b", re.I
)
CALLS = "aging_snapshot.touch("
# module -> the module that calls touch for the customers it changes
TOUCHED_BY_CALLER = {
    "db/ledger/invoices.py": "db/ledger/importer.py",  # importer._merge: touch(affected)
    "db/ledger/payments.py": "db/ledger/importer.py",
}
EXEMPT = {
    "db/aging_snapshot.py",  # the snapshot itself
}


def _writers() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel not in EXEMPT and WRITES.search(path.read_text(encoding="utf-8")):
            found.append(rel)
    return found


def test_every_writer_of_existing_ledger_rows_touches_the_snapshot() -> None:
    writers = _writers()
    assert writers, "the pattern finds the known writers (outcomes, void, the import)"
    missing = []
    for rel in writers:
        caller = TOUCHED_BY_CALLER.get(rel, rel)
        if CALLS not in (PACKAGE / caller).read_text(encoding="utf-8"):
            missing.append(rel)
    assert not missing, (
        f"{missing} change existing invoices or payments without aging_snapshot.touch: "
        "call it in the same transaction (db/aging_snapshot.py) or list the caller here"
    )


def test_the_pattern_sees_a_writer() -> None:
    assert WRITES.search('conn.execute("UPDATE invoices SET disputed = 0 WHERE id = ?")')
    assert WRITES.search("DELETE FROM payments WHERE id = ?")
    assert not WRITES.search("UPDATE invoice_closures SET x = 1")
    assert not WRITES.search("SELECT * FROM invoices")
