"""The archive of letters sent (m036_letters_sent, issue 10 item 3: queue/sending.py
writes it; the history shows it).

One row per e-mail or paper letter sent: to whom (the customer, the recipient's address,
or '' for a letter on paper), by whom (``collector_id`` NULL: the system, the nightly
letter run) and when (UTC), what (kind, channel, language and locale it was written in,
the subject, the text and HTML bodies exactly as sent, the Message-ID), the collector's
added line (``note``), the file written (an .eml or a letter for printing, '' when it
went through the relay), the dunning level and the invoices it dunned (set by the letter
run; a JSON list of invoice ids). The activity (``email_sent`` / ``letter_sent``) it was
recorded with is written in the same transaction.

Append-only: no UPDATE, no DELETE, no INSERT over an existing row (an audit archive).
Sizes bounded by CHECKs (a body of 1 MiB, a subject of 1,000 characters).
"""

DDL = (
    """CREATE TABLE letters_sent (
    id            INTEGER PRIMARY KEY,
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    activity_id   INTEGER REFERENCES activities(id),
    collector_id  INTEGER REFERENCES collectors(id),
    at            TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (length(kind) <= 40),
    channel       TEXT NOT NULL CHECK (channel IN ('email', 'letter')),
    language      TEXT NOT NULL CHECK (length(language) <= 10),
    locale        TEXT NOT NULL CHECK (length(locale) <= 20),
    recipient     TEXT NOT NULL DEFAULT '' CHECK (length(recipient) <= 254),
    subject       TEXT NOT NULL CHECK (length(subject) <= 1000),
    body_text     TEXT NOT NULL CHECK (length(body_text) <= 1048576),
    body_html     TEXT NOT NULL DEFAULT '' CHECK (length(body_html) <= 1048576),
    message_id    TEXT NOT NULL DEFAULT '' CHECK (length(message_id) <= 300),
    note          TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
    path          TEXT NOT NULL DEFAULT '' CHECK (length(path) <= 4096),
    level         INTEGER CHECK (level IS NULL OR level BETWEEN 1 AND 9),
    invoices      TEXT NOT NULL DEFAULT '[]' CHECK (length(invoices) <= 100000)
)""",
    "CREATE INDEX letters_sent_customer ON letters_sent(customer_id, at)",
    "CREATE INDEX letters_sent_kind ON letters_sent(kind, at)",
    "CREATE INDEX letters_sent_activity ON letters_sent(activity_id)",
    """CREATE TRIGGER letters_sent_no_delete BEFORE DELETE ON letters_sent
BEGIN SELECT RAISE(ABORT, 'append-only: letters_sent rows are never deleted'); END""",
    """CREATE TRIGGER letters_sent_no_update BEFORE UPDATE ON letters_sent
BEGIN SELECT RAISE(ABORT, 'append-only: letters_sent rows are never changed'); END""",
    """CREATE TRIGGER letters_sent_no_replace BEFORE INSERT ON letters_sent
WHEN EXISTS (SELECT 1 FROM letters_sent WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'append-only: letters_sent rows are never replaced'); END""",
)
