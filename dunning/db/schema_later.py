"""Migrations registered after schema.py reached its 500 lines (imported at its end, so
they follow m029 in order). Same rules as there: never edit one that has shipped."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dunning.db.schema import _each, migrations

if TYPE_CHECKING:
    import sqlite_utils


# --- m030_past_sums (issue 8, round 8): open sums per collector, currency, issue and due
# date, the base of a past date's aging by collector (db/past_sums.py), filled by the
# refresh with the aging snapshot; triggers on queue record a collector change.


@migrations()
def m030_past_sums(db: sqlite_utils.Database) -> None:
    from dunning.db.past_sums import DDL

    _each(db, DDL)


# --- m031_list_indexes (round 8, issues 8 and 9): the account lists' indexes without
# collector_id nor state, the worklist carrying the lists' keys (db/list_schema.py): a
# lead's move and a night's refresh of waiting accounts maintain no list index.


@migrations()
def m031_list_indexes(db: sqlite_utils.Database) -> None:
    from dunning.db.list_schema import M031

    _each(db, M031)


# --- m032_review_disputes (issue 9, items 5 and 6): the review queue's and the open
# disputes' partial indexes, in their lists' order (db/list_schema.py
# ``REVIEW_DISPUTES_DDL``; queue/review_list.py, queue/disputes_list.py).


@migrations()
def m032_review_disputes(db: sqlite_utils.Database) -> None:
    from dunning.db.list_schema import REVIEW_DISPUTES_DDL

    _each(db, REVIEW_DISPUTES_DDL)


# --- m033_moves (issue 9): who gave each account moved (assignments.from_collector_id), so
# that the board recounts only a move's givers and takers; the open disputes by customer
# (the board's disputes); the customers' currencies (a balance sort's check) (db/moves_schema.py).


@migrations()
def m033_moves(db: sqlite_utils.Database) -> None:
    from dunning.db.moves_schema import DDL

    _each(db, DDL)


# --- m034_writeoffs (issue 9, item 7): what was written off, invoice by invoice: a
# write-off (the whole account or chosen invoices) and a settlement's remainder once its
# amount is paid (queue/writeoffs.py; db/writeoffs_schema.py).


@migrations()
def m034_writeoffs(db: sqlite_utils.Database) -> None:
    from dunning.db.writeoffs_schema import DDL

    _each(db, DDL)


# --- m035_aging_csv (issue 8, round 8): aging_order.csv_plain, whether the CSV writes a row's
# reference and name as they are, so its CSV line is one printf (db/aging_csv.py).


@migrations()
def m035_aging_csv(db: sqlite_utils.Database) -> None:
    from dunning.db import aging_order

    aging_order.add_csv_plain(db.conn)


# --- m036_letters_sent (issue 10, item 3): the archive of every e-mail and letter sent,
# with its rendered text, append-only (db/letters_schema.py; queue/sending.py writes it).


@migrations()
def m036_letters_sent(db: sqlite_utils.Database) -> None:
    from dunning.db.letters_schema import DDL

    _each(db, DDL)


# --- m037_email_opt_out (issue 10, item 4): a contact's opt-out of e-mail, when and by
# whom (db/writing_schema.py; queue/opt_out.py).


@migrations()
def m037_email_opt_out(db: sqlite_utils.Database) -> None:
    from dunning.db.writing_schema import M037

    _each(db, M037)


# --- m038_dunning_levels (issue 10, item 5): each invoice's dunning level reached, once
# per level, with the letter that dunned it (db/writing_schema.py; queue/levels.py).


@migrations()
def m038_dunning_levels(db: sqlite_utils.Database) -> None:
    from dunning.db.writing_schema import M038

    _each(db, M038)


# --- m039_customer_address (issue 10, round 10): the customer's postal address (street
# lines, city, postal code; the region is ``subdivision``) (db/address_schema.py).


@migrations()
def m039_customer_address(db: sqlite_utils.Database) -> None:
    from dunning.db.address_schema import M039

    _each(db, M039)
