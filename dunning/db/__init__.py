"""Storage: connection factory, migrations, queries, import/export. Never imports Textual."""

from dunning.db.connection import connect, default_db_path, open_db, write_tx

__all__ = ["connect", "default_db_path", "open_db", "write_tx"]
