"""Issue 7, section 6, beyond import files: integers past 2**63 from a person (ids,
--phone, --invoices, --limit), every config value checked at start, and a database path
that is a FIFO, a directory, a device or a socket refused before SQLite touches it."""

from __future__ import annotations

import os
import socket
import sqlite3
from pathlib import Path

import pytest
from hostile_files import run_limited

from dunning.cli import main
from dunning.db.connection import DatabaseError, connect
from dunning.queue.config import load_settings, settings_from_dict

BIG = str(2**63)
HUGE = "9" * 30


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def db(db_path, ledger):
    alice = ledger.collector("alice")
    ledger.customer(
        "Big Co",
        collector=alice,
        phones=["+12125550100"],
        invoices=[(5_000_000, "2026-06-01")],
    )
    return db_path


@pytest.fixture
def run(db, clock, capsys):
    def go(*argv: str) -> tuple[int, str, str]:
        code = main(["--db", str(db), *argv], clock=clock)
        out, err = capsys.readouterr()
        return code, out, err

    return go


def ref(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("SELECT external_ref FROM customers").fetchone()[0])
    finally:
        conn.close()


# -- integers a person types ----------------------------------------------------------------


@pytest.mark.parametrize("account", [BIG, HUGE])
def test_history_of_an_id_past_2_63_is_no_customer(run, account):
    code, _out, err = run("history", account, "--as", "alice")
    assert code == 2
    assert err == (
        f"dunning: no customer {account!r} (give a customer reference or id; find one with "
        "`dunning search TEXT`)\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["history", "{ref}", "--limit", BIG], f"--limit: {BIG} is not a whole number from 0"),
        (["search", "Big", "--limit", HUGE], f"--limit: {HUGE} is not a whole number from 1"),
        (["log", "{ref}", "no_answer", "--phone", BIG], "--phone:"),
        (["log", "{ref}", "no_answer", "--phone", HUGE], "--phone:"),
        (
            [
                "log",
                "{ref}",
                "dispute",
                "--invoices",
                BIG,
                "--department",
                "billing",
                "--reason",
                "x",
            ],
            f"--invoices: '{BIG}' is not an invoice of",
        ),
        (["void", BIG, "--reason", "typo"], f"no activity with id {BIG}"),
        (["log", "{ref}", "promise_to_pay", "--amount", HUGE, "--date", "+3d"], "too large"),
        (["log", "{ref}", "promise_to_pay", "--amount", "10", "--grace", BIG], "--grace"),
    ],
)
def test_an_integer_past_2_63_is_a_clear_refusal_never_an_overflow(run, db, argv, message):
    argv = [a.format(ref=ref(db)) for a in argv]
    code, _out, err = run(*argv, "--as", "alice")
    assert code in (1, 2)
    assert message in err and "Traceback" not in err and "OverflowError" not in err
    assert len(err.strip().splitlines()) == 1


# -- configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('lease_minutes = "abc"', "lease_minutes must be a whole number from 1 to 240, got 'abc'"),
        ("lease_minutes = -5", "lease_minutes must be a whole number from 1 to 240, got -5"),
        (
            f"lease_minutes = {BIG}",
            f"lease_minutes must be a whole number from 1 to 240, got {BIG}",
        ),
        ("lease_minutes = true", "lease_minutes must be a whole number from 1 to 240, got True"),
        ("skip_minutes = 0", "skip_minutes must be a whole number from 1 to 10080"),
        ("grace_days = 1.5", "grace_days must be a whole number from 0 to 30, got 1.5"),
        ("undo_seconds = -1", "undo_seconds must be a whole number from 0 to 600"),
        ("business_hours = [18, 8]", "business_hours must be two hours [start, end]"),
        ('business_hours = "8-18"', "business_hours must be two hours"),
        ('contact_rules_portfolios = "consumer"', "contact_rules_portfolios must be a list"),
        ('contact_rules_portfolios = ["retail"]', "contact_rules_portfolios must be a list"),
        ("team_tz = 5", "team_tz must be a time zone name"),
        ("[weights]\nrisk = 1e400", "[weights] risk must be a number from 0 to 10000"),
        ('[weights]\nrisk = "high"', "[weights] risk must be a number from 0 to 10000"),
        ("[weights]\ndays_past_due_cap = -1", "[weights] days_past_due_cap must be a whole"),
        ("weights = 3", "weights must be a table"),
        ("[fx_to_base]\nEUR = 0", "[fx_to_base] EUR must be a number from 1e-09"),
        ("[fx_to_base]\nEURO = 1", "[fx_to_base] must be keyed by currency codes"),
        ('[keys]\n"outcome.no_answer" = 5', "[keys] outcome.no_answer must be keys as text"),
        ("lease_minuts = 5", "unknown key 'lease_minuts' (known: approvals, business_hours,"),
    ],
)
def test_every_config_value_is_checked_at_load_naming_file_and_key(tmp_path, line, message):
    path = tmp_path / "config.toml"
    path.write_text(line + "\n")
    with pytest.raises(ValueError) as caught:
        load_settings(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_a_bad_config_value_stops_the_command_with_one_line(run, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('lease_minutes = "abc"\n')
    code, out, err = run("--config", str(config), "next", "--as", "alice")
    assert (code, out) == (2, "")
    assert err == (
        f"dunning: {config}: lease_minutes must be a whole number from 1 to 240, got 'abc'\n"
    )


def test_good_config_values_still_load():
    s = settings_from_dict(
        {
            "lease_minutes": 30,
            "business_hours": [7, 19],
            "weights": {"risk": 5, "days_past_due_cap": 90},
            "fx_to_base": {"eur": 1.1},
            "contact_rules_portfolios": ["consumer", "b2b"],
        }
    )
    assert (s.lease_minutes, s.business_hours, s.weights.risk) == (30, (7, 19), 5.0)
    assert s.weights.days_past_due_cap == 90 and s.fx_to_base["EUR"] == 1.1
    assert s.contact_rules_portfolios == ("consumer", "b2b")


# -- a database that is not a regular file ---------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["history", "C1", "--as", "alice"],
        ["report", "aging"],
        ["backup", "{tmp}/copy.db"],
        ["import", "customers", "{tmp}/c.csv"],
        ["next", "--as", "alice"],
        [],  # the app itself
    ],
)
def test_a_fifo_as_db_returns_at_once_with_a_message(tmp_path, argv):
    fifo = tmp_path / "fifo.db"
    os.mkfifo(fifo, 0o600)
    (tmp_path / "c.csv").write_text("customer_ref,name\nC1,Acme\n")
    argv = [a.format(tmp=tmp_path) for a in argv]
    done = run_limited("--db", str(fifo), *argv, cpu_seconds=20, timeout=60)  # it hung
    assert done.returncode in (1, 2), done.stderr
    assert f"{fifo} is a named pipe (FIFO), not a database file" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "copy.db").exists()


def test_a_directory_a_device_and_a_socket_are_refused_as_databases(tmp_path, capsys):
    sock_path = tmp_path / "s.db"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    try:
        for path, kind in (
            (tmp_path, "a directory"),
            (Path("/dev/null"), "a device"),
            (sock_path, "a socket"),
        ):
            assert main(["--db", str(path), "history", "C1"]) == 1
            assert capsys.readouterr().err == (f"dunning: {path} is {kind}, not a database file\n")
            with pytest.raises(DatabaseError, match=f"is {kind}, not a database file"):
                connect(path)
    finally:
        sock.close()


def test_a_fifo_as_the_import_file_or_the_config_returns_at_once(tmp_path):
    fifo = tmp_path / "in.csv"
    os.mkfifo(fifo, 0o600)
    done = run_limited("import", "customers", str(fifo), "--db", str(tmp_path / "d.db"))
    assert done.returncode == 2
    assert f"{fifo}: not a regular file (a pipe or a device)" in done.stderr
    done = run_limited("--config", str(fifo), "report", "aging", "--db", str(tmp_path / "d.db"))
    assert done.returncode == 2
    assert f"{fifo}: not a regular file" in done.stderr
