"""Migrations from m031 on, registered with db/schema.py's ``migrations`` (which imports
this module last: schema.py is at the 500 lines a module may have)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dunning.db.schema import _each, migrations

if TYPE_CHECKING:
    import sqlite_utils


# --- m031_list_indexes (round 8, issues 8 and 9): the account lists' indexes without
# collector_id nor state, the worklist carrying the lists' keys (db/list_schema.py): a
# lead's move and a night's refresh of waiting accounts maintain no list index.


@migrations()
def m031_list_indexes(db: sqlite_utils.Database) -> None:
    from dunning.db.list_schema import M031

    _each(db, M031)
