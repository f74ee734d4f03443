"""m032_disputes_open (issue 9, item 6): the open disputes' partial indexes, in the
disputes list's order (db/list_schema.py ``DISPUTES_DDL``; queue/disputes_list.py).
Registered after schema.py's migrations (schema.py imports this module last)."""

from __future__ import annotations

import sqlite_utils

from dunning.db.schema import _each, migrations


@migrations()
def m032_disputes_open(db: sqlite_utils.Database) -> None:
    from dunning.db.list_schema import DISPUTES_DDL

    _each(db, DISPUTES_DDL)
