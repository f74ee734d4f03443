"""m032_review_disputes (issue 9, items 5 and 6): the review queue's and the open
disputes' partial indexes, in their lists' order (db/list_schema.py ``REVIEW_DISPUTES_DDL``;
queue/review_list.py, queue/disputes_list.py). Registered after schema.py's migrations
(schema.py imports this module last)."""

from __future__ import annotations

import sqlite_utils

from dunning.db.schema import _each, migrations


@migrations()
def m032_review_disputes(db: sqlite_utils.Database) -> None:
    from dunning.db.list_schema import REVIEW_DISPUTES_DDL

    _each(db, REVIEW_DISPUTES_DDL)
