"""Never write into the void (issue 7, section 7): a database file replaced (`mv` of a
restore) or deleted under a running session, and another program's file given as --db.

Real processes: the file is moved and removed by `mv` and `rm`, the commands run as
`python -m dunning` subprocesses.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import Static, TextArea
from tui_helpers import build_portfolio, db_rows, make_app, part, settle, wait_until

from dunning.clock import FixedClock
from dunning.db.connection import FileReplaced, connect, write_tx
from dunning.queue.collectors import get_collector
from dunning.queue.config import Settings
from dunning.queue.outcomes import OutcomeInput
from dunning.queue.session import WorkSession

REPLACED = "was replaced or deleted while you worked; nothing was saved after"


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "work.db"
    build_portfolio(path, clock)
    return path


@pytest.fixture
def restore(db: Path, tmp_path: Path) -> Path:
    """Yesterday's backup of the database, about to be moved over it."""
    copy = tmp_path / "restore.db"
    shutil.copyfile(db, copy)
    return copy


def session(db: Path, clock: FixedClock) -> WorkSession:
    conn = connect(db)
    me = get_collector(conn, "alice")
    conn.close()
    assert me is not None
    return WorkSession(db, me, Settings(), clock)


def dunning(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DUNNING_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "dunning", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env=full_env,
    )


def activities(db: Path) -> int:
    return int(db_rows(db, "SELECT COUNT(*) FROM activities")[0][0])


# -- the file replaced or deleted under a session -----------------------------------------


def test_outcome_after_a_restore_moved_over_the_file_is_refused(db, restore, clock):
    s = session(db, clock)
    try:
        view = s.next_account()
        assert view is not None
        s.log(OutcomeInput("no_answer", note="first call"))  # saved: the file is the path's
        assert activities(db) == 1
        s.next_account()
        subprocess.run(["mv", str(restore), str(db)], check=True)  # the restore
        for attempt in range(5):  # five outcomes: none acknowledged
            with pytest.raises(FileReplaced, match=REPLACED) as err:
                s.log(OutcomeInput("left_message", note=f"outcome {attempt}"))
            assert str(db) in str(err.value) and "restart dunning" in str(err.value)
        with pytest.raises(FileReplaced):
            s.save_draft(view.id, "a draft")
        with pytest.raises(FileReplaced):
            s.renew()  # the lease renewal says it too
    finally:
        s.close()
    assert activities(db) == 0  # the restored file: untouched, as restored
    assert db_rows(db, "SELECT COUNT(*) FROM drafts")[0][0] == 0


def test_outcome_after_the_file_was_deleted_is_refused(db, clock):
    s = session(db, clock)
    try:
        assert s.next_account() is not None
        subprocess.run(["rm", "-f", str(db)], check=True)
        with pytest.raises(FileReplaced, match=REPLACED):
            s.log(OutcomeInput("no_answer"))
        with pytest.raises(FileReplaced):
            s.check_file()
    finally:
        s.close()


def test_renewal_without_a_claim_checks_the_file(db, restore, clock):
    s = session(db, clock)
    try:
        assert s.renew() is True
        subprocess.run(["mv", str(restore), str(db)], check=True)
        with pytest.raises(FileReplaced):
            s.renew()
    finally:
        s.close()


def test_write_tx_rolls_back_and_refuses_on_a_replaced_file(tmp_path):
    path = tmp_path / "x.db"
    conn = connect(path)
    conn.execute("CREATE TABLE t (x INTEGER)")
    other = tmp_path / "other.db"
    shutil.copyfile(path, other)
    os.replace(other, path)
    with pytest.raises(FileReplaced), write_tx(conn):
        conn.execute("INSERT INTO t VALUES (1)")
    assert not conn.in_transaction
    conn.close()


async def test_screen_blocks_and_keeps_the_note_when_the_file_is_replaced(
    db, restore, clock, tmp_path, monkeypatch
):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    app = make_app(db, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        await pilot.press("i", *"promised friday", "escape")
        subprocess.run(["mv", str(restore), str(db)], check=True)
        await pilot.press("n")  # an outcome: refused, not "Saved"
        await wait_until(pilot, lambda: screen.gone is not None)
        status = str(screen.query_one("#status", Static).render())
        assert REPLACED in status and "Saved" not in status
        title = part(screen, "title")
        assert "Nothing more can be saved" in title and "note pane" in title
        assert screen.query_one("#note", TextArea).text == "promised friday"  # kept
        kept = screen.kept_note
        assert kept is not None and kept.parent == tmp_path / "data" / "dunning" / "recovered"
        assert "promised friday" in kept.read_text()
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
        await pilot.press("b")  # every outcome key is off now
        await pilot.pause(0.2)
        assert screen.query_one("#note", TextArea).text == "promised friday"
        await pilot.press("i", *" at 3pm", "escape")  # the note can still be edited...
        await wait_until(pilot, lambda: "at 3pm" in kept.read_text())  # ...and is kept
    assert activities(db) == 0


async def test_screen_notices_a_deleted_file_without_a_key(db, clock, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    app = make_app(db, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        subprocess.run(["rm", "-f", str(db)], check=True)
        await wait_until(pilot, lambda: screen.gone is not None, timeout=8)  # the 2 s poll
        assert REPLACED in str(screen.query_one("#status", Static).render())


# -- another program's file is never migrated into a dunning one ---------------------------


@pytest.fixture
def foreign(tmp_path: Path) -> Path:
    path = tmp_path / "firefox-places.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    conn.execute("INSERT INTO moz_places (url) VALUES ('https://example.com')")
    conn.commit()
    conn.close()
    return path


def invoices_file(tmp_path: Path) -> Path:
    path = tmp_path / "inv.csv"
    path.write_text(
        "customer_ref,customer_name,number,issue_date,due_date,amount,open_amount\n"
        "C1,Acme,INV-1,2026-10-01,2026-10-31,100.00,100.00\n"
    )
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ["import", "invoices", "{csv}"],
        ["report", "aging"],
        ["report", "metrics", "--from", "2026-11-01", "--to", "2026-11-30"],
        ["export", "activities", "-o", "{out}"],
        ["backup", "{out}.db"],
        ["next", "--as", "alice"],
        [],  # the screen: refused before it opens
    ],
    ids=["import", "aging", "metrics", "export", "backup", "next", "screen"],
)
@pytest.mark.parametrize("kind", ["foreign", "empty"])
def test_commands_refuse_a_file_that_is_not_a_dunning_database(tmp_path, foreign, argv, kind):
    target = foreign if kind == "foreign" else tmp_path / "empty.db"
    if kind == "empty":
        target.write_bytes(b"")
    before = target.read_bytes()
    csv = invoices_file(tmp_path)
    args = [a.format(csv=csv, out=tmp_path / "out.csv") for a in argv]
    p = dunning("--db", str(target), *args)
    assert p.returncode in (1, 2), p.stderr
    assert "not a dunning database" in p.stderr or "an empty database" in p.stderr
    assert "Traceback" not in p.stderr
    assert target.read_bytes() == before  # untouched, byte for byte
    assert not Path(f"{target}-wal").exists()
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "out.csv.db").exists()


def test_import_into_a_new_path_creates_the_database(tmp_path):
    target = tmp_path / "new" / "dunning.db"
    p = dunning(
        "--db",
        str(target),
        "import",
        "invoices",
        str(invoices_file(tmp_path)),
        "-q",
        "--create-customers",
    )
    assert p.returncode == 0, p.stderr
    assert db_rows(target, "SELECT COUNT(*) FROM invoices")[0][0] == 1
    again = dunning(
        "--db",
        str(target),
        "import",
        "invoices",
        str(invoices_file(tmp_path)),
        "-q",
        "--create-customers",
    )
    assert again.returncode == 0, again.stderr  # a dunning database: imported into


def test_cli_import_whose_database_is_replaced_mid_run_exits_with_the_message(
    db, restore, tmp_path
):
    """`dunning import` opens the database, then reads a big file; a restore is moved over
    the database meanwhile: the import is refused at its commit, nothing is acknowledged."""
    big = tmp_path / "big.csv"
    with big.open("w") as fh:
        fh.write("customer_ref,customer_name,number,issue_date,due_date,amount,open_amount\n")
        for n in range(150_000):
            fh.write(f"R{n % 5000},Customer {n % 5000},INV-{n},2026-10-01,2026-10-31,10.00,10.00\n")
    p = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dunning",
            "--db",
            str(db),
            "import",
            "invoices",
            str(big),
            "-q",
            "--create-customers",
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("DUNNING_")},
    )
    fds = Path(f"/proc/{p.pid}/fd")
    try:
        for _ in range(3000):  # until the import has the database open (Linux: /proc)
            opened = set()
            for fd in fds.iterdir() if fds.exists() else ():
                with contextlib.suppress(OSError):
                    opened.add(os.readlink(fd))
            if str(db) in opened or p.poll() is not None:
                break
            subprocess.run(["sleep", "0.01"])
        subprocess.run(["sleep", "0.5"])  # past the foreign-file check: the import's own
        assert p.poll() is None, "the import ended before the restore"
        subprocess.run(["mv", str(restore), str(db)], check=True)
        out, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 2, (out, err)
    assert REPLACED in err and "restart dunning" in err and "Traceback" not in err
    assert "written" not in out
    assert db_rows(db, "SELECT COUNT(*) FROM customers WHERE external_ref LIKE 'R%'")[0][0] == 0
    assert db_rows(db, "SELECT COUNT(*) FROM invoices")[0][0] == 8  # as restored
