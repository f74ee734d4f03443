"""`dunning assign --where FILTER --limit N [--sort KEY]`: at most N of the matching
accounts move, the first in the list's order; `--dry-run` says how many of how many and
shows the first rows. Through the CLI, as a lead types it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from test_assign_where import clean_env, owners, run, team  # noqa: F401 (fixtures)
from test_filters import book  # noqa: F401 (the fixture)


def moved(conn: sqlite3.Connection, reason: str) -> list[tuple[str, str, str]]:
    """(customer, from, to) of the history rows a move wrote."""
    return [
        tuple(r)
        for r in conn.execute(
            """SELECT c.name, COALESCE(f.username, '-'), k.username FROM assignments a
               JOIN customers c ON c.id = a.customer_id
               LEFT JOIN collectors f ON f.id = a.from_collector_id
               JOIN collectors k ON k.id = a.collector_id
               WHERE a.reason = ? ORDER BY c.name""",
            (reason,),
        )
    ]


def test_a_dry_run_with_a_limit_says_how_many_of_how_many(conn, run, team) -> None:  # noqa: ANN001, F811
    before = owners(conn)
    # bucket>=61: Anvil (due 1 Sep), Cogs (1 Jun), Ecru (20 Aug); the 2 oldest: Cogs, Ecru
    code, out, err = run("assign", "--where", "bucket>=61", "--to", "carmen", "--limit", "2",
                         "--sort", "due", "--dry-run", "--as", "lena")  # fmt: skip
    assert code == 0, err
    assert "dry run: 2 account(s) would move to carmen; nothing changed" in out
    assert "--limit: the first 2 of 3 matching, by due" in out
    assert "from: bruno 1, dave 1" in out
    assert "by bucket: 91-120 1, 120+ 1" in out
    assert "refused without --any-language: carmen does not speak fr 1" in out  # Ecru
    lines = [line.split()[0] for line in out.splitlines() if line.startswith("  C0")]
    assert lines == ["C00003", "C00005"]
    assert "and" not in out.split("C00005")[1]  # no "... and N more": these are all
    assert owners(conn) == before
    assert conn.execute("SELECT COUNT(*) FROM assignments").fetchone()[0] == 0


def test_a_move_with_a_limit_moves_the_first_in_the_lists_order(conn, run, team) -> None:  # noqa: ANN001, F811
    # lang=en,es by due date: Cogs (Jun), Anvil (Sep), Fuji (Oct), Bolt (Nov)
    code, out, err = run("assign", "--where", "lang=en,es", "--to", "carmen", "--limit", "2",
                         "--sort", "due", "--reason", "the two oldest", "--as", "lena")  # fmt: skip
    assert code == 0, err
    assert "2 account(s) assigned to carmen (lang=en,es)" in out
    assert moved(conn, "the two oldest") == [
        ("Anvil", "alice", "carmen"),
        ("Cogs", "dave", "carmen"),
    ]
    after = owners(conn)
    assert (after["Bolt"], after["Fuji"]) == ("dave", "alice")  # the rest stay
    detail = json.loads(conn.execute(
        "SELECT detail FROM audit_log WHERE action = 'assign' ORDER BY id DESC LIMIT 1"
    ).fetchone()[0])  # fmt: skip
    assert (detail["limit"], detail["sort"], detail["moved"]) == (2, "due", 2)
    # again: the next two (Anvil and Cogs are carmen's now, not counted)
    code, out, err = run("assign", "--where", "lang=en,es", "--to", "carmen", "--limit", "2",
                         "--sort", "due", "--reason", "the next two", "--as", "lena")  # fmt: skip
    assert code == 0, err
    assert moved(conn, "the next two") == [("Bolt", "dave", "carmen"), ("Fuji", "alice", "carmen")]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--limit", "0"], "dunning: --limit '0' is not a number of accounts (1 or more)"),
        (["--limit", "many"], "dunning: --limit 'many' is not a number of accounts"),
        (["--sort", "due"], "dunning: --sort goes with --limit N"),
        (["--limit", "2", "--sort", "size"], "dunning: --sort: 'size' is not a sort key"),
        (  # the largest of several currencies: refused (--sort balance is the default)
            ["--limit", "2"],
            "dunning: --sort: balance: amounts in different currencies are not compared; add "
            "currency=... to the filter (CAD, EUR, JPY, MXN, USD), or sort by another key",
        ),
    ],
)
def test_a_bad_limit_or_sort_is_named_and_nothing_changes(conn, run, team, argv, message) -> None:  # noqa: ANN001, F811
    before = owners(conn)
    code, out, err = run("assign", "--where", "lang=es", "--to", "carmen", "--reason", "x",
                         *argv, "--as", "lena")  # fmt: skip
    assert (code, out) == (2, "")
    assert err.startswith(message) and err.count("\n") == 1
    assert owners(conn) == before


def test_the_real_entry_point_with_a_limit(conn, db_path: Path, team) -> None:  # noqa: ANN001, F811
    import os
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    out = subprocess.run(
        [sys.executable, "-m", "dunning", "--db", str(db_path), "assign", "--where", "lang=es",
         "--to", "carmen", "--limit", "1", "--sort", "due", "--reason", "one", "--as", "lena"],
        capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "1 account(s) assigned to carmen" in out.stdout
    assert len(moved(conn, "one")) == 1


def test_the_largest_of_one_currency(conn, run, team) -> None:  # noqa: ANN001, F811
    # MXN: Cogs MX$20,000 and Bolt MX$500 (dave's); the largest one moves
    code, out, err = run("assign", "--where", "currency=MXN", "--to", "carmen", "--limit", "1",
                         "--reason", "the largest", "--as", "lena")  # fmt: skip
    assert code == 0, err
    assert moved(conn, "the largest") == [("Cogs", "dave", "carmen")]
