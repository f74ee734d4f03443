"""dunning backup: a consistent copy while another process keeps writing."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_ledger_support import cli

from dunning.clock import FixedClock
from dunning.db.backup import BackupError, backup
from dunning.db.connection import connect, open_db

WRITER = """
import sys, time
from dunning.db.connection import connect, write_tx
conn = connect(sys.argv[1])
n = 0
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    with write_tx(conn):  # every transaction keeps the invariant: SUM(amount) = 0
        conn.execute("INSERT INTO t (amount) VALUES (5)")
        conn.execute("INSERT INTO t (amount) VALUES (-5)")
    n += 1
    if n == 50:
        print("ready", flush=True)
"""


def test_backup_is_consistent_while_another_process_writes(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    conn = open_db(db)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, amount INTEGER)")
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE,
                              text=True)  # fmt: skip
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        copies = []
        for n in range(3):
            copies.append(backup(conn, tmp_path / f"copy{n}.db", FixedClock()))
            time.sleep(0.05)
    finally:
        writer.kill()
        writer.wait()
    sizes = []
    for result in copies:
        copy = sqlite3.connect(result.path)
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        total, rows = copy.execute("SELECT SUM(amount), COUNT(*) FROM t").fetchone()
        assert total == 0 and rows % 2 == 0 and rows > 0
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        sizes.append(rows)
        copy.close()
    assert sizes == sorted(sizes)
    assert not list(tmp_path.glob("*.partial"))


def test_backup_refuses_to_overwrite_and_names_a_directory_target(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    open_db(db).close()
    conn = connect(db)
    target = tmp_path / "b.db"
    backup(conn, target, FixedClock())
    with pytest.raises(BackupError, match="already exists"):
        backup(conn, target, FixedClock())
    backup(conn, target, FixedClock(), force=True)
    made = backup(conn, tmp_path, FixedClock())
    assert made.path.name == "dunning-20261123T150000Z.db"
    with pytest.raises(BackupError, match="live database"):
        backup(conn, db, FixedClock(), force=True)


def test_backup_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "live.db"
    open_db(db).close()
    assert cli(db, "backup", str(tmp_path / "copy.db")) == 0
    assert "backup written to" in capsys.readouterr().out
    assert cli(db, "backup", str(tmp_path / "copy.db")) == 2
    assert "already exists" in capsys.readouterr().err
    assert cli(db, "backup", str(tmp_path / "nowhere" / "copy.db")) == 2
    assert "no such directory" in capsys.readouterr().err


def test_backup_to_a_place_it_cannot_write_names_the_destination_and_the_cause(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "live.db"
    open_db(db).close()
    assert cli(db, "backup", "/proc/x.db") == 2
    err = capsys.readouterr().err
    assert err.strip() == (
        "dunning: /proc/x.db: cannot write the backup there: No such file or directory"
    )
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        try:
            assert cli(db, "backup", str(locked / "b.db")) == 2
            err = capsys.readouterr().err
            assert f"{locked / 'b.db'}: cannot write the backup there: Permission denied" in err
            assert cli(db, "backup", str(locked)) == 2
            assert "cannot write the backup there: Permission denied" in capsys.readouterr().err
        finally:
            locked.chmod(0o700)
    assert not list(tmp_path.rglob("*.partial"))


def test_backup_of_a_missing_database_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "live.db"
    assert cli(missing, "backup", str(tmp_path / "copy.db")) == 1
    assert f"no database at {missing}" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == []
