"""Issue 7 §4: every file dunning creates is private (0600, or 0640 in file_group),
whatever the umask, and an exposed database is reported once with the command that fixes
it. Real files, real `dunning` processes started under umask 000 and 022."""

from __future__ import annotations

import grp
import os
import shlex
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from test_ledger_support import write_csv

from dunning.cli import main
from dunning.clock import FixedClock
from dunning.db import private
from dunning.db.connection import connect
from dunning.demo.build import build_demo

UMASKS = (0o000, 0o022)
PROBE = """
import os, sys
from dunning.db.connection import connect
conn = connect(sys.argv[1])
conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
conn.execute("INSERT INTO t VALUES (1)")
for suffix in ("", "-wal", "-shm"):
    print(oct(os.stat(sys.argv[1] + suffix).st_mode & 0o777))
"""


@pytest.fixture(autouse=True)
def _fresh_policy() -> None:
    private.reset_for_tests()
    yield
    private.reset_for_tests()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def dunning(*argv: str, umask: int, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUNNING_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    return subprocess.run(
        [sys.executable, "-m", "dunning", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        umask=umask,
        cwd=cwd,
    )


def probe(db: Path, umask: int) -> list[int]:
    """Open ``db`` read-write in a process under ``umask``; the modes of the database, its
    -wal and -shm while that process holds them."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(db)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        umask=umask,
        check=True,
    ).stdout
    return [int(line, 8) for line in out.split()]


def other_group() -> grp.struct_group | None:
    """A group this process may give its files to, other than its own primary group."""
    if os.geteuid() == 0:
        mine = {os.getgid()}
        groups = [g for g in grp.getgrall() if g.gr_gid not in mine]
    else:
        groups = [grp.getgrgid(g) for g in os.getgroups() if g != os.getgid()]
    return groups[0] if groups else None


@pytest.mark.parametrize("umask", UMASKS)
def test_a_new_database_and_its_wal_and_shm_are_0600(tmp_path: Path, umask: int) -> None:
    db = tmp_path / "new" / "deeper" / "live.db"
    assert probe(db, umask) == [0o600, 0o600, 0o600]
    assert mode(tmp_path / "new") == mode(tmp_path / "new" / "deeper") == 0o700


@pytest.mark.parametrize("umask", UMASKS)
def test_every_file_the_cli_writes_is_0600(tmp_path: Path, umask: int) -> None:
    db = tmp_path / "ledger.db"
    rows: list[list[object]] = [["customer_ref", "customer_name"], ["C1", "Acme"], ["", "x"]]
    csv_in = write_csv(tmp_path / "customers.csv", rows)
    # an import creates the database; --skip-invalid writes the rejects file
    done = dunning("--db", str(db), "import", "customers", str(csv_in), "--skip-invalid",
                   "-q", umask=umask)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert mode(db) == 0o600
    assert mode(tmp_path / "customers.rejects.csv") == 0o600
    outputs = {
        "aging.csv": ["report", "aging", "-o"],
        "aging.xlsx": ["report", "aging", "-o"],
        "aging.json": ["report", "aging", "-o"],
        "activities.csv": ["export", "activities", "-o"],
        "backup.db": ["backup"],
    }
    for name, argv in outputs.items():
        done = dunning("--db", str(db), *argv, str(tmp_path / name), umask=umask)
        assert done.returncode == 0, (name, done.stderr)
        assert mode(tmp_path / name) == 0o600, name
    done = dunning("--db", str(db), "backup", str(tmp_path), umask=umask)
    assert done.returncode == 0, done.stderr
    (stamped,) = tmp_path.glob("dunning-*.db")
    assert mode(stamped) == 0o600
    assert not list(tmp_path.glob("*.partial"))
    # the database opened again by another process: its -wal and -shm follow its mode
    assert probe(db, umask) == [0o600, 0o600, 0o600]


@pytest.mark.parametrize("umask", UMASKS)
def test_the_demo_database_and_its_directory_are_private(tmp_path: Path, umask: int) -> None:
    db = tmp_path / "data" / "demo.db"
    done = dunning("--db", str(db), "demo", "--customers", "20", "--no-open", umask=umask)
    assert done.returncode == 0, done.stderr
    assert mode(db) == 0o600
    assert mode(db.parent) == 0o700


def test_an_existing_file_is_replaced_by_a_private_one(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    build_demo(db, customers=5, seed=1)
    out = tmp_path / "aging.csv"
    out.write_text("old\n")
    out.chmod(0o644)
    assert main(["--db", str(db), "report", "aging", "-o", str(out)], clock=FixedClock()) == 0
    assert mode(out) == 0o600 and "old" not in out.read_text()


@pytest.mark.parametrize("umask", UMASKS)
def test_with_file_group_files_are_0640_in_that_group(tmp_path: Path, umask: int) -> None:
    group = other_group()
    if group is None:
        pytest.skip("this user belongs to no second group")
    config = tmp_path / "config.toml"
    config.write_text(f'file_group = "{group.gr_name}"\n')
    db = tmp_path / "team" / "ledger.db"
    common = ["--db", str(db), "--config", str(config)]
    done = dunning(*common, "demo", "--customers", "10", "--no-open", umask=umask)
    assert done.returncode == 0, done.stderr
    made = [db, db.parent]
    for name, argv in {
        "aging.csv": ["report", "aging", "-o"],
        "aging.xlsx": ["report", "aging", "-o"],
        "backup.db": ["backup"],
    }.items():
        done = dunning(*common, *argv, str(tmp_path / name), umask=umask)
        assert done.returncode == 0, (name, done.stderr)
        made.append(tmp_path / name)
    # the database (and its directory) are the team's to write: 0660 in a setgid 2770
    # directory; what the group only reads (reports, backups) is 0640
    expected = {db: 0o660, db.parent: 0o2770}
    for path in made:
        assert path.stat().st_gid == group.gr_gid, path
        assert mode(path) == expected.get(path, 0o640), path
    assert "other users" not in done.stderr  # 0660 in the team's group is as configured


def test_an_unknown_file_group_is_refused_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('file_group = "no-such-group-here"\n')
    db = tmp_path / "x.db"
    done = dunning("--db", str(db), "--config", str(config), "backup", str(tmp_path / "b.db"),
                   umask=0o022)  # fmt: skip
    assert done.returncode == 2
    assert "file_group" in done.stderr and "no-such-group-here" in done.stderr
    assert "Traceback" not in done.stderr and not db.exists()


def test_an_exposed_database_is_reported_once_with_the_fix(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    build_demo(db, customers=5, seed=1)
    conn = sqlite3.connect(db)  # holds -wal and -shm open, as a collector's screen does
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("SELECT COUNT(*) FROM customers").fetchone()
    for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        p.chmod(0o644)
    try:
        done = dunning("--db", str(db), "report", "aging", umask=0o022)
        assert done.returncode == 0, done.stderr
        fix = f"chmod 600 {db} {db}-wal {db}-shm"
        assert done.stderr.count("other users on this machine can read") == 1
        assert fix in done.stderr
        # the command it gives does fix it: no warning afterwards
        subprocess.run(shlex.split(fix), check=True)
        done = dunning("--db", str(db), "report", "aging", umask=0o022)
        assert done.returncode == 0 and done.stderr == ""
    finally:
        conn.close()


def test_the_warning_is_given_once_per_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "live.db"
    build_demo(db, customers=5, seed=1)
    db.chmod(0o604)  # readable by everyone
    for _ in range(3):
        assert main(["--db", str(db), "report", "aging"], clock=FixedClock()) == 0
    err = capsys.readouterr().err
    assert err.count("other users on this machine can read") == 1
    # SQLite made the -wal and -shm with the database's mode: they are named too
    assert f"dunning: {db}, {db}-wal, {db}-shm: other users" in err
    assert f"chmod 600 {db} {db}-wal {db}-shm" in err
    assert mode(db) == 0o604  # said, not changed behind the owner's back


async def test_the_screen_shows_the_warning_as_a_notification(tmp_path: Path) -> None:
    from dunning.queue.collectors import get_collector
    from dunning.queue.config import Settings
    from dunning.queue.session import WorkSession
    from dunning.tui.app import DunningApp

    db = tmp_path / "live.db"
    build_demo(db, customers=5, seed=1)
    db.chmod(0o664)
    conn = connect(db)
    collector = get_collector(conn, conn.execute("SELECT username FROM collectors").fetchone()[0])
    conn.close()
    assert collector is not None
    session = WorkSession(db, collector, Settings(), clock=FixedClock())
    app = DunningApp(session)
    try:
        async with app.run_test() as pilot:
            await pilot.pause()
            shown = [n.message for n in app._notifications]  # noqa: SLF001
            assert any(f"chmod 600 {db}" in m for m in shown), shown
    finally:
        session.close()
    assert session.file_warning() is None  # once per process
