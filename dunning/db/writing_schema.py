"""The schema of writing's rules and dunning levels (issue 10, items 4 and 5).

m037_email_opt_out: a contact who opted out of e-mail (Regulation F 1006.6(e)): when
(``email_opt_out_at``, UTC; NULL: they receive e-mail) and who recorded it
(``email_opt_out_by``: the collector's login or the OS user); queue/opt_out.py writes
them, with an audit row each time (opt-out and opt-in alike).

m038_dunning_levels: each invoice's dunning level reached (queue/levels.py): one row
per invoice and level, never twice (the primary key), with when and the archived letter
(``letters_sent.id``; NULL for a call task, which sends no letter). Append-only: a level
reached is history.
"""

M037 = (
    "ALTER TABLE contacts ADD COLUMN email_opt_out_at TEXT",
    "ALTER TABLE contacts ADD COLUMN email_opt_out_by TEXT",
)

M038 = (
    """CREATE TABLE dunning_levels (
    invoice_id    INTEGER NOT NULL REFERENCES invoices(id),
    level         INTEGER NOT NULL CHECK (level BETWEEN 1 AND 9),
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    at            TEXT NOT NULL,
    letter_id     INTEGER,
    channel       TEXT NOT NULL CHECK (channel IN ('email', 'letter', 'call')),
    PRIMARY KEY (invoice_id, level)
) WITHOUT ROWID""",
    "CREATE INDEX dunning_levels_customer ON dunning_levels(customer_id, at)",
    "CREATE INDEX dunning_levels_letter ON dunning_levels(letter_id) WHERE letter_id IS NOT NULL",
    """CREATE TRIGGER dunning_levels_no_delete BEFORE DELETE ON dunning_levels
BEGIN SELECT RAISE(ABORT, 'append-only: dunning_levels rows are never deleted'); END""",
    """CREATE TRIGGER dunning_levels_no_update BEFORE UPDATE ON dunning_levels
BEGIN SELECT RAISE(ABORT, 'append-only: dunning_levels rows are never changed'); END""",
)
