"""What a start imports and parses before the first account (issue 8, start -> first
account): opening an up-to-date database does not import sqlite-utils; `dunning` with
only the global options parses them as the whole parser does, without the subcommands.
bench/bench_pty.py times the start; these tests prove the behaviour is the same."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils

from dunning.cli import _glue_dashed_values, build_parser, parse_args
from dunning.db.connection import connect
from dunning.db.schema import migrate, migrations, pending_names

ROOT = Path(__file__).resolve().parent.parent


def _run(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_pending_names_agree_with_sqlite_utils(tmp_path: Path) -> None:
    conn = connect(tmp_path / "a.db")
    names = migrations.names
    assert pending_names(conn) == names  # no migrations table yet
    db = sqlite_utils.Database(conn)
    for stop in names[1:]:
        migrations.apply(db, stop_before=stop)
        assert pending_names(conn) == [m.name for m in migrations.pending(db)]
        assert pending_names(conn)[0] == stop
    migrate(conn)
    assert pending_names(conn) == []
    assert migrate(conn) == []


def test_another_set_in_the_migrations_table_is_not_ours(tmp_path: Path) -> None:
    conn = connect(tmp_path / "a.db")
    migrate(conn)
    other = sqlite_utils.Database(conn)
    with conn:
        other["_sqlite_migrations"].insert(
            {"migration_set": "plugin", "name": "m999_x", "applied_at": "now"}
        )
        conn.execute(
            "DELETE FROM _sqlite_migrations WHERE migration_set = 'dunning' AND name = ?",
            (migrations.names[-1],),
        )
    assert pending_names(conn) == [migrations.names[-1]]


def test_opening_an_up_to_date_database_imports_no_sqlite_utils(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    conn = connect(path)
    migrate(conn)
    conn.close()
    out = _run(
        "import sys; from dunning.db.connection import open_db; "
        f"open_db({str(path)!r}); print('sqlite_utils' in sys.modules, 'click' in sys.modules)"
    )
    assert out == "False False"


def test_a_pending_migration_still_runs(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    conn = connect(path)
    migrations.apply(sqlite_utils.Database(conn), stop_before=migrations.names[-1])
    conn.close()
    out = _run(
        "from dunning.db.connection import open_db; from dunning.db.schema import pending_names;"
        f" c = open_db({str(path)!r}); print(pending_names(c))"
    )
    assert out == "[]"
    assert sqlite3.connect(path).execute(
        "SELECT count(*) FROM _sqlite_migrations WHERE migration_set = 'dunning'"
    ).fetchone()[0] == len(migrations.names)


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--db", "x.db"],
        ["--db=x.db", "--as", "dave"],
        ["--config", "c.toml", "--db", "d.db", "--as=erin"],
        ["--db", ""],
        ["--as", "dave", "--as", "erin"],
        ["--db", "-1d"],  # glued: --db=-1d
    ],
)
def test_the_app_path_parses_as_the_whole_parser(argv: list[str]) -> None:
    fast = vars(parse_args(list(argv)))
    whole = vars(build_parser().parse_args(_glue_dashed_values(list(argv))))
    assert fast == whole
    assert fast["command"] is None


@pytest.mark.parametrize(
    "argv",
    [
        ["--db"],  # a value missing
        ["--db", "x", "--bogus"],
        ["--as", "--db", "x"],
        ["--d", "x"],  # an abbreviation: the whole parser decides
        ["--db", "x", "queue"],
    ],
)
def test_anything_else_goes_to_the_whole_parser(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    def outcome(parse: object) -> tuple[object, str]:
        try:
            result: object = vars(parse())  # type: ignore[operator]
        except SystemExit as exc:
            result = exc.code
        return result, capsys.readouterr().err

    fast = outcome(lambda: parse_args(list(argv)))
    whole = outcome(lambda: build_parser().parse_args(_glue_dashed_values(list(argv))))
    assert fast == whole


def test_the_app_path_imports_no_subcommand_module() -> None:
    out = _run(
        "import sys; from dunning.cli import parse_args; parse_args(['--db', 'x', '--as', 'y']);"
        " print(sorted(m for m in ('dunning.cli_work', 'dunning.cli_init', 'dunning.cli_log',"
        " 'dunning.ledger_cli', 'sqlite_utils', 'click') if m in sys.modules))"
    )
    assert out == "[]"


def test_opening_the_app_imports_no_command_it_does_not_run() -> None:
    """The modules the start imports (the CLI, the session, the screen) leave the void,
    the reassignment, the bulk changes and the search to their first use."""
    out = _run(
        "import sys, dunning.cli, dunning.cli_open, dunning.queue.session, dunning.tui.app, "
        "dunning.tui.screens.work; print(sorted(m for m in ('dunning.queue.assign', "
        "'dunning.queue.void', 'dunning.queue.bulk', 'dunning.queue.search') "
        "if m in sys.modules))"
    )
    assert out == "[]"


def test_an_error_of_a_module_imported_late_still_ends_as_its_message() -> None:
    """The CLI's handlers look those errors up when they are raised: the same exit code
    and message as before."""
    from dunning.cli import EXIT_ERROR, _loaded
    from dunning.queue.assign import AssignError
    from dunning.queue.bulk import Interrupted
    from dunning.queue.void import VoidRefused

    assert _loaded(
        ("dunning.queue.assign", "AssignError"), ("dunning.queue.void", "VoidRefused")
    ) == (
        AssignError,
        VoidRefused,
    )
    assert _loaded(("dunning.queue.bulk", "Interrupted")) == (Interrupted,)
    assert _loaded(("dunning.no_such_module", "X")) == ()
    assert EXIT_ERROR != 0


def test_the_start_imports_neither_phonenumbers_nor_the_migrations_modules() -> None:
    """A number's place and formats come stored with it (m028_places); the migrations'
    modules (aging_order, aging_widths, search_index) only when a migration runs."""
    out = _run(
        "import sys, dunning.cli, dunning.cli_open, dunning.queue.session, dunning.tui.app, "
        "dunning.tui.screens.work; print(sorted(m for m in ('phonenumbers', "
        "'dunning.db.aging_order', 'dunning.db.aging_widths', 'dunning.db.search_index') "
        "if m in sys.modules))"
    )
    assert out == "[]"
