"""The SQL text of migrations m010 and m011 (dunning/db/schema.py runs it; what each one is
for is said there). Never edit it: a database migrated once keeps what it ran."""

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
