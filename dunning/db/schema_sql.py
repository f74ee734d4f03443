"""The SQL text of migrations m001, m002, m008, m010, m011 and m024 (dunning/db/schema.py
runs it; what each one is for is said there). Never edit it: a database migrated once keeps
what it ran."""

# m001: the first schema

# Conventions: money is INTEGER minor units + ISO 4217 `currency`; instants are UTC
# ISO-8601 text ("2026-11-23T15:00:00Z"); calendar dates are ISO dates ("2026-11-23").
# History tables (activities, promises, disputes, assignments, payment_reports) are
# append-only: a correction is a new row. Rows a person creates carry who and when.

M001 = """
CREATE TABLE collectors (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'collector'
                  CHECK (role IN ('collector', 'lead', 'admin')),
    languages     TEXT NOT NULL DEFAULT 'en',      -- comma-separated ISO 639-1, e.g. 'en,fr'
    locale        TEXT NOT NULL DEFAULT 'en_US',   -- UI locale for money and dates (babel)
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL
);

CREATE TABLE customers (
    id            INTEGER PRIMARY KEY,
    external_ref  TEXT NOT NULL UNIQUE,            -- the ERP's customer number
    name          TEXT NOT NULL,
    country       TEXT NOT NULL,                   -- ISO 3166-1 alpha-2
    subdivision   TEXT,                            -- ISO 3166-2 suffix, e.g. 'ON', 'QC', 'CA'
    language      TEXT NOT NULL DEFAULT 'en',
    currency      TEXT NOT NULL,                   -- ISO 4217
    portfolio     TEXT NOT NULL DEFAULT 'b2b' CHECK (portfolio IN ('b2b', 'consumer')),
    status        TEXT NOT NULL DEFAULT 'active'
                  CHECK (status IN ('active', 'credit_hold', 'legal', 'agency', 'cease',
                                    'write_off', 'closed')),
    risk_score    INTEGER NOT NULL DEFAULT 0 CHECK (risk_score BETWEEN 0 AND 100),
    credit_limit_minor INTEGER,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX customers_name ON customers(name COLLATE NOCASE);

CREATE TABLE contacts (
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    name          TEXT NOT NULL,
    title         TEXT,
    language      TEXT,
    email         TEXT,
    is_primary    INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);
CREATE INDEX contacts_customer ON contacts(customer_id);

CREATE TABLE phones (
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    contact_id    INTEGER REFERENCES contacts(id),
    e164          TEXT NOT NULL,                   -- '+15145550123'
    type          TEXT NOT NULL DEFAULT 'unknown', -- mobile, fixed_line, toll_free, voip, unknown
    do_not_call   INTEGER NOT NULL DEFAULT 0,
    bad           INTEGER NOT NULL DEFAULT 0,      -- marked wrong number
    bad_at        TEXT,
    bad_by        INTEGER REFERENCES collectors(id),
    created_at    TEXT NOT NULL
);
CREATE INDEX phones_customer ON phones(customer_id);
CREATE INDEX phones_e164 ON phones(e164);

CREATE TABLE invoices (
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    number        TEXT NOT NULL UNIQUE,
    issue_date    TEXT NOT NULL,
    due_date      TEXT NOT NULL,
    amount_minor  INTEGER NOT NULL,                -- negative for a credit note
    open_minor    INTEGER NOT NULL,                -- what is still owed on it
    currency      TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'closed')),
    disputed      INTEGER NOT NULL DEFAULT 0,      -- under an open dispute
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX invoices_customer ON invoices(customer_id, due_date);
CREATE INDEX invoices_open ON invoices(due_date) WHERE status = 'open';

CREATE TABLE payments (
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    invoice_id    INTEGER REFERENCES invoices(id),  -- NULL: unapplied cash
    external_ref  TEXT UNIQUE,
    amount_minor  INTEGER NOT NULL,
    currency      TEXT NOT NULL,
    paid_on       TEXT NOT NULL,
    reference     TEXT,
    created_at    TEXT NOT NULL
);
CREATE INDEX payments_customer ON payments(customer_id, paid_on);

CREATE TABLE activities (
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    collector_id  INTEGER REFERENCES collectors(id),   -- NULL: the system
    at            TEXT NOT NULL,
    outcome       TEXT NOT NULL,                   -- DOMAIN.md codes + skip, assign, system
    attempt       INTEGER NOT NULL DEFAULT 0,
    contact       INTEGER NOT NULL DEFAULT 0,
    rpc           INTEGER NOT NULL DEFAULT 0,
    worked        INTEGER NOT NULL DEFAULT 0,
    phone_id      INTEGER REFERENCES phones(id),
    note          TEXT NOT NULL DEFAULT '',
    next_action   TEXT,
    next_action_at TEXT,
    details       TEXT                             -- JSON: what the outcome carried
);
CREATE INDEX activities_customer ON activities(customer_id, at);
CREATE INDEX activities_collector ON activities(collector_id, at);

CREATE TABLE promises (
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    activity_id   INTEGER REFERENCES activities(id),
    plan_ref      TEXT,                            -- instalments of one plan share it
    instalment    INTEGER,
    amount_minor  INTEGER NOT NULL CHECK (amount_minor > 0),
    currency      TEXT NOT NULL,
    promised_on   TEXT NOT NULL,                   -- date the promise was made
    due_date      TEXT NOT NULL,
    grace_days    INTEGER NOT NULL DEFAULT 2,
    status        TEXT NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'kept', 'partial', 'broken', 'cancelled')),
    paid_minor    INTEGER NOT NULL DEFAULT 0,
    decided_at    TEXT,                            -- set once by the system when decided
    created_at    TEXT NOT NULL,
    created_by    INTEGER REFERENCES collectors(id)
);
CREATE INDEX promises_customer ON promises(customer_id);
CREATE INDEX promises_pending ON promises(due_date) WHERE status = 'pending';

CREATE TABLE disputes (
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    activity_id   INTEGER REFERENCES activities(id),
    reason        TEXT NOT NULL CHECK (reason IN ('pricing', 'not_received', 'damaged',
                  'quality', 'billing_error', 'duplicate', 'other')),
    department    TEXT NOT NULL CHECK (department IN ('sales', 'customer_service',
                  'billing', 'legal')),
    amount_minor  INTEGER NOT NULL,
    currency      TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'open'
                  CHECK (status IN ('open', 'resolved_valid', 'resolved_invalid')),
    created_at    TEXT NOT NULL,
    created_by    INTEGER REFERENCES collectors(id),
    resolved_at   TEXT,
    resolved_by   INTEGER REFERENCES collectors(id)
);
CREATE INDEX disputes_customer ON disputes(customer_id);

CREATE TABLE dispute_invoices (
    dispute_id    INTEGER NOT NULL REFERENCES disputes(id),
    invoice_id    INTEGER NOT NULL REFERENCES invoices(id),
    PRIMARY KEY (dispute_id, invoice_id)
);

CREATE TABLE payment_reports (                  -- "it is paid", said by the customer
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    activity_id   INTEGER REFERENCES activities(id),
    amount_minor  INTEGER NOT NULL,
    currency      TEXT NOT NULL,
    paid_on       TEXT NOT NULL,
    reference     TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    created_by    INTEGER REFERENCES collectors(id)
);
CREATE INDEX payment_reports_customer ON payment_reports(customer_id);

CREATE TABLE assignments (                      -- history; current owner is queue.collector_id
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    collector_id  INTEGER REFERENCES collectors(id),
    assigned_at   TEXT NOT NULL,
    assigned_by   INTEGER REFERENCES collectors(id),   -- NULL: the system (import, demo)
    reason        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX assignments_customer ON assignments(customer_id, assigned_at);

-- One row per customer account: where it stands in the queue. Derived state, kept in
-- step by queue/ in the same transaction as every change that affects it.
CREATE TABLE queue (
    customer_id   INTEGER PRIMARY KEY REFERENCES customers(id),
    collector_id  INTEGER REFERENCES collectors(id),
    state         TEXT NOT NULL DEFAULT 'ready'
                  CHECK (state IN ('ready', 'waiting', 'hold', 'disputed', 'no_phone',
                                   'review', 'closed')),
    priority      INTEGER NOT NULL DEFAULT 0,      -- score x 100, higher first
    reasons       TEXT NOT NULL DEFAULT '[]',      -- JSON [[code, points, {params}], ...]
    next_action   TEXT NOT NULL DEFAULT 'call',
    next_action_at TEXT NOT NULL,
    open_minor    INTEGER NOT NULL DEFAULT 0,      -- open balance, customer currency
    disputed_minor INTEGER NOT NULL DEFAULT 0,
    unapplied_minor INTEGER NOT NULL DEFAULT 0,    -- credits and unapplied cash (<= 0)
    oldest_due    TEXT,                            -- oldest open undisputed due date
    last_contact_at TEXT,
    last_attempt_at TEXT,
    broken_promise INTEGER NOT NULL DEFAULT 0,
    claimed_by    INTEGER REFERENCES collectors(id),
    claim_expires_at TEXT,
    updated_at    TEXT NOT NULL
);
CREATE INDEX queue_worklist ON queue(collector_id, state, priority DESC);
CREATE INDEX queue_waiting ON queue(next_action_at) WHERE state = 'waiting';

CREATE TABLE drafts (                           -- the note being typed, saved as typed
    collector_id  INTEGER NOT NULL REFERENCES collectors(id),
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    text          TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (collector_id, customer_id)
);
"""


# m010: voiding an outcome (dunning/queue/void.py)

M010 = """
CREATE TABLE voids (
    id            INTEGER PRIMARY KEY,
    activity_id   INTEGER NOT NULL UNIQUE REFERENCES activities(id),
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    voided_at     TEXT NOT NULL,
    voided_by     INTEGER NOT NULL REFERENCES collectors(id),
    reason        TEXT NOT NULL,
    undo          INTEGER NOT NULL DEFAULT 0,      -- the collector's `u` within seconds
    details       TEXT                             -- JSON: what was cancelled or restored
);
CREATE INDEX voids_customer ON voids(customer_id);

CREATE TABLE disputes_m010 AS SELECT * FROM disputes;
DROP TABLE disputes;
CREATE TABLE disputes (
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    activity_id   INTEGER REFERENCES activities(id),
    reason        TEXT NOT NULL CHECK (reason IN ('pricing', 'not_received', 'damaged',
                  'quality', 'billing_error', 'duplicate', 'other')),
    department    TEXT NOT NULL CHECK (department IN ('sales', 'customer_service',
                  'billing', 'legal')),
    amount_minor  INTEGER NOT NULL,
    currency      TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'open'
                  CHECK (status IN ('open', 'resolved_valid', 'resolved_invalid', 'voided')),
    created_at    TEXT NOT NULL,
    created_by    INTEGER REFERENCES collectors(id),
    resolved_at   TEXT,
    resolved_by   INTEGER REFERENCES collectors(id)
);
INSERT INTO disputes SELECT * FROM disputes_m010;
DROP TABLE disputes_m010;
CREATE INDEX disputes_customer ON disputes(customer_id);
"""

# m011: the host's facts and the audit log (dunning/queue/audit.py, issue 7)
M011 = """
CREATE TABLE meta (
    key           TEXT PRIMARY KEY,
    value         TEXT NOT NULL,
    set_at        TEXT NOT NULL,
    set_by        TEXT NOT NULL                    -- the OS user who set it
);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    os_user       TEXT NOT NULL,
    os_uid        INTEGER NOT NULL,
    collector_id  INTEGER REFERENCES collectors(id),   -- whom it acted as; NULL: none
    action        TEXT NOT NULL,                   -- import, export, backup, assign, ...
    target        TEXT NOT NULL DEFAULT '',        -- account ref, file, collector name
    result        TEXT NOT NULL DEFAULT 'done' CHECK (result IN ('done', 'refused',
                  'interrupted', 'failed')),
    detail        TEXT NOT NULL DEFAULT '{}'       -- JSON: what it did, or why refused
);
CREATE INDEX audit_log_at ON audit_log(at);
"""


# m002: ledger import (dunning/db/ledger, docs/IMPORT.md)

M002 = """
-- One ERP payment may be split over several invoices (by reference, then oldest first,
-- the rest unapplied): its rows share source_ref, the key re-imports are matched on.
ALTER TABLE payments ADD COLUMN source_ref TEXT;
-- applied_by: reference, oldest_first, unapplied, settled (an --as-of import)
ALTER TABLE payments ADD COLUMN applied_by TEXT;
CREATE INDEX payments_source ON payments(source_ref) WHERE source_ref IS NOT NULL;
CREATE INDEX payments_invoice ON payments(invoice_id) WHERE invoice_id IS NOT NULL;

-- Every import run, for audit: what was loaded, when, and what it did.
CREATE TABLE import_runs (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL,                   -- customers, contacts, invoices, payments
    file          TEXT NOT NULL,
    profile       TEXT NOT NULL,
    options       TEXT NOT NULL DEFAULT '{}',      -- JSON: as_of, snapshot, skip_invalid...
    started_at    TEXT NOT NULL,
    finished_at   TEXT NOT NULL,
    rows          INTEGER NOT NULL DEFAULT 0,
    created       INTEGER NOT NULL DEFAULT 0,
    updated       INTEGER NOT NULL DEFAULT 0,
    unchanged     INTEGER NOT NULL DEFAULT 0,
    closed        INTEGER NOT NULL DEFAULT 0,
    refused       INTEGER NOT NULL DEFAULT 0,
    skipped       INTEGER NOT NULL DEFAULT 0
);
"""


# m008: promises decided right (dunning/queue/promises.py)

M008 = """
-- The instant from which a pending promise is decided: the start of the customer's day
-- after due date + grace days (00:00 where the customer is, in UTC), set when the promise
-- is made. Rows made before carry the latest start of that day anywhere in the Americas
-- and the Pacific (12:00 UTC): never decided before the customer's day ended.
ALTER TABLE promises ADD COLUMN decide_at TEXT;
UPDATE promises SET decide_at = date(due_date, '+' || (grace_days + 1) || ' days')
    || 'T12:00:00Z';
CREATE INDEX promises_decide_at ON promises(decide_at) WHERE status = 'pending';
-- A promise or plan made while another was pending cancels it: the new one's id.
ALTER TABLE promises ADD COLUMN superseded_by INTEGER REFERENCES promises(id);
-- Money the ERP took off an invoice without a payment row (a snapshot closed the
-- invoice, or its open amount went to zero): it counts toward a promise like a payment.
CREATE TABLE invoice_closures (
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    invoice_id    INTEGER NOT NULL REFERENCES invoices(id),
    amount_minor  INTEGER NOT NULL,
    currency      TEXT NOT NULL,
    closed_on     TEXT NOT NULL,                   -- the day the import saw it closed
    how           TEXT NOT NULL,                   -- snapshot, zeroed
    created_at    TEXT NOT NULL
);
CREATE INDEX invoice_closures_customer ON invoice_closures(customer_id, closed_on);
"""


# m024_review: the lead's decisions on the review queue and on disputes (issue 9)

M024 = [
    """CREATE TABLE review_decisions (
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    decided_at    TEXT NOT NULL,
    decided_by    INTEGER NOT NULL REFERENCES collectors(id),
    came_for      TEXT NOT NULL,                   -- why it was in review (an open code list)
    activity_id   INTEGER REFERENCES activities(id),  -- the outcome that sent it there
    decision      TEXT NOT NULL,                   -- back, collector, legal, agency, writeoff_*
    to_collector  INTEGER REFERENCES collectors(id),
    next_action_at TEXT,
    status_before TEXT NOT NULL,
    status_after  TEXT NOT NULL,
    reason        TEXT NOT NULL
)""",
    "CREATE INDEX review_decisions_customer ON review_decisions(customer_id, decided_at)",
    """CREATE TABLE dispute_decisions (
    id            INTEGER PRIMARY KEY,
    dispute_id    INTEGER NOT NULL REFERENCES disputes(id),
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    decided_at    TEXT NOT NULL,
    decided_by    INTEGER REFERENCES collectors(id),   -- NULL: the ERP (an import)
    outcome       TEXT NOT NULL CHECK (outcome IN ('valid', 'invalid', 'erp')),
    next_action_at TEXT,
    reason        TEXT NOT NULL
)""",
    "CREATE INDEX dispute_decisions_dispute ON dispute_decisions(dispute_id)",
    "CREATE INDEX dispute_invoices_invoice ON dispute_invoices(invoice_id)",
]
for _table in ("review_decisions", "dispute_decisions"):
    M024 += [
        f"""CREATE TRIGGER {_table}_no_update BEFORE UPDATE ON {_table}
BEGIN SELECT RAISE(ABORT, 'append-only: {_table} rows are never changed'); END""",
        f"""CREATE TRIGGER {_table}_no_delete BEFORE DELETE ON {_table}
BEGIN SELECT RAISE(ABORT, 'append-only: {_table} rows are never deleted'); END""",
    ]
