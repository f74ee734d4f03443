"""The write-offs table (m034_writeoffs, issue 9 item 7: queue/writeoffs.py writes it).

One row per invoice written off: the open amount forgiven (a credit note's is negative:
the whole account is written off net of its credits), in the invoice's currency; its kind
(``writeoff``: a write-off, of the whole account or of chosen invoices; ``settled``: the
rest of a settlement whose amount was paid); the collector's outcome it came from, the
lead's decision that approved it (NULL: within the policy, or the system), who (NULL: the
system) and when, and why. The invoice itself is closed (``open_minor`` 0) in the same
transaction, and an import keeps it closed (db/ledger/invoices.py).

Append-only but for ``voided_at``, set once when the outcome that wrote it off is voided
(the invoice is then open again, queue/void_restore.py): no other change, no delete.
"""

DDL = (
    """CREATE TABLE writeoffs (
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    invoice_id    INTEGER NOT NULL REFERENCES invoices(id),
    amount_minor  INTEGER NOT NULL CHECK (amount_minor != 0),
    currency      TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('writeoff', 'settled')),
    activity_id   INTEGER REFERENCES activities(id),
    decision_id   INTEGER REFERENCES review_decisions(id),
    at            TEXT NOT NULL,
    by_id         INTEGER REFERENCES collectors(id),
    reason        TEXT NOT NULL DEFAULT '',
    voided_at     TEXT
)""",
    "CREATE INDEX writeoffs_customer ON writeoffs(customer_id, at)",
    "CREATE INDEX writeoffs_invoice ON writeoffs(invoice_id) WHERE voided_at IS NULL",
    "CREATE INDEX writeoffs_at ON writeoffs(at)",
    "CREATE INDEX writeoffs_activity ON writeoffs(activity_id)",
    """CREATE TRIGGER writeoffs_no_delete BEFORE DELETE ON writeoffs
BEGIN SELECT RAISE(ABORT, 'append-only: writeoffs rows are never deleted'); END""",
    """CREATE TRIGGER writeoffs_only_voided BEFORE UPDATE ON writeoffs
WHEN OLD.voided_at IS NOT NULL OR NEW.voided_at IS NULL
  OR NEW.id IS NOT OLD.id OR NEW.customer_id IS NOT OLD.customer_id
  OR NEW.invoice_id IS NOT OLD.invoice_id OR NEW.amount_minor IS NOT OLD.amount_minor
  OR NEW.currency IS NOT OLD.currency OR NEW.kind IS NOT OLD.kind
  OR NEW.activity_id IS NOT OLD.activity_id OR NEW.decision_id IS NOT OLD.decision_id
  OR NEW.at IS NOT OLD.at OR NEW.by_id IS NOT OLD.by_id OR NEW.reason IS NOT OLD.reason
BEGIN SELECT RAISE(ABORT, 'append-only: a writeoffs row changes once, when voided'); END""",
    """CREATE TRIGGER writeoffs_no_replace BEFORE INSERT ON writeoffs
WHEN EXISTS (SELECT 1 FROM writeoffs WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'append-only: writeoffs rows are never replaced'); END""",
)
