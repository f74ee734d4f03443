"""The ``dunning`` command: next/log/history round trips, housekeeping commands, and every
expected error as one line on stderr with an exit code, never a traceback."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dunning.cli import main
from dunning.queue.claim import claim_account


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def db(db_path, ledger):
    """alice: Big (first) and Small; bruno; lead lena."""
    alice = ledger.collector("alice")
    ledger.collector("bruno", languages="fr,en", locale="fr_CA")
    ledger.collector("lena", role="lead")
    ledger.customer(
        "Big Co",
        collector=alice,
        phones=["+12125550100", "+12125550101"],
        invoices=[(5_000_000, "2026-06-01"), (20_000, "2026-10-01")],
    )
    ledger.customer("Small Co", collector=alice, invoices=[(10_000, "2026-11-01")])
    return db_path


@pytest.fixture
def run(db, clock, capsys):
    """main() in this process on the test database and clock -> (code, stdout, stderr)."""

    def go(*argv: str, with_db: bool = True) -> tuple[int, str, str]:
        args = ["--db", str(db), *argv] if with_db else list(argv)
        code = main(args, clock=clock)
        out, err = capsys.readouterr()
        return code, out, err

    return go


def count(db: Path, table: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def one(db: Path, sql: str, *params: object) -> tuple:
    conn = sqlite3.connect(db)
    try:
        return tuple(conn.execute(sql, params).fetchone())
    finally:
        conn.close()


# -- the loop, scripted ---------------------------------------------------------------------


def test_next_log_history_json_round_trip(run, db):
    code, out, err = run("next", "--as", "alice", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    acct, claim = data["account"], data["claim"]
    assert (acct["external_ref"], acct["name"], acct["currency"]) == ("C00001", "Big Co", "USD")
    owed = acct["owed"]  # dunning/owed.py, by the aging report's names
    assert owed["net_minor"] == owed["due_now_minor"] == owed["overdue_minor"] == 5_020_000
    assert owed["120+_minor"] == 5_000_000 and owed["31-60_minor"] == 20_000
    assert acct["reasons"][0][0] in ("days_past_due", "balance")
    assert [p["e164"] for p in acct["phones"]] == ["+12125550100", "+12125550101"]
    assert acct["callable"]["ok"] is True
    assert claim == {
        "customer_id": acct["id"],
        "expires_at": "2026-11-23T15:15:00Z",
        "resumed": False,
        "passed_over": [],
    }
    assert one(db, "SELECT claimed_by FROM queue WHERE customer_id = ?", acct["id"])[0] == 1

    code, out, err = run(
        "log",
        "C00001",
        "promise_to_pay",
        "--as",
        "alice",
        "--amount",
        "1,500.00",
        "--date",
        "+7d",
        "--note",
        "after payday",
        "--json",
    )
    assert (code, err) == (0, "")
    logged = json.loads(out)
    assert logged["external_ref"] == "C00001" and logged["outcome"] == "promise_to_pay"
    assert (logged["next_action"], logged["next_action_at"], logged["state"]) == (
        "promise_check",
        "2026-12-02T05:00:00Z",  # 11-30 + 2 grace days, midnight in New York
        "waiting",
    )
    assert one(db, "SELECT amount_minor, due_date FROM promises") == (150_000, "2026-11-30")

    code, out, _ = run("history", "C00001", "--json")
    assert code == 0
    (entry,) = json.loads(out)
    assert (entry["code"], entry["who"], entry["note"]) == (
        "promise_to_pay",
        "alice",
        "after payday",
    )
    assert entry["details"]["amount_minor"] == 150_000 and entry["details"]["date"] == "2026-11-30"

    code, out, _ = run("next", "--as", "alice", "--json")
    assert json.loads(out)["account"]["external_ref"] == "C00002"
    assert run("log", "2", "no_answer", "--as", "alice")[0] == 0  # numeric id works too

    code, out, err = run("next", "--as", "alice", "--json")
    assert code == 3 and err == ""
    nothing = json.loads(out)
    assert nothing["account"] is None and nothing["counts"] == {"waiting": 2}


def test_next_resumes_the_held_account(run):
    first = json.loads(run("next", "--as", "alice", "--json")[1])
    again = json.loads(run("next", "--as", "alice", "--json")[1])
    assert again["account"]["id"] == first["account"]["id"] and again["claim"]["resumed"]


def test_human_output(run):
    code, out, _ = run("next", "--as", "alice")
    assert code == 0
    assert out.startswith("C00001  Big Co  (US-NY, b2b, USD)")
    assert "$50,200.00" in out and "1 (212) 555-0100" in out
    assert "dunning log C00001 OUTCOME --as alice" in out
    code, out, _ = run("log", "C00001", "no_answer", "--as", "alice", "--note", "rang out")
    assert code == 0 and out.startswith("C00001: no_answer logged; next call at 2026-11-24 15:00")
    code, out, _ = run("history", "C00001", "--as", "alice")
    assert "no_answer" in out and "rang out" in out
    code, out, _ = run("next", "--as", "alice")
    assert code == 0 and out.startswith("C00002")
    run("log", "C00002", "left_message", "--as", "alice")
    code, out, _ = run("next", "--as", "alice")
    assert code == 3 and out.strip() == "nothing to call now for alice (2 waiting)"


def test_global_options_before_or_after_the_command(run, db, clock, capsys):
    code = main(["--as", "alice", "--db", str(db), "next", "--json"], clock=clock)
    assert code == 0
    capsys.readouterr()
    code = main(["next", "--json", "--db", str(db), "--as", "alice"], clock=clock)
    assert code == 0
    assert json.loads(capsys.readouterr().out)["claim"]["resumed"]


def test_db_from_the_environment(run, db, monkeypatch):
    monkeypatch.setenv("DUNNING_DB", str(db))
    code, out, _ = run("history", "C00002", "--json", with_db=False)
    assert (code, json.loads(out)) == (0, [])


# -- log: every kind of input ---------------------------------------------------------------


def test_dispute_by_invoice_numbers(run, db):
    code, out, err = run(
        "log",
        "C00001",
        "dispute",
        "--as",
        "alice",
        "--invoices",
        "INV-1-0, INV-1-1",
        "--reason",
        "damaged",
        "--department",
        "sales",
    )
    assert (code, err) == (0, "")
    assert one(db, "SELECT reason, department, amount_minor FROM disputes") == (
        "damaged",
        "sales",
        5_020_000,
    )
    assert count(db, "dispute_invoices") == 2


def test_wrong_number_by_number_as_typed_or_by_id(run, db):
    assert (
        run("log", "C00001", "wrong_number", "--as", "alice", "--phone", "(212) 555-0100")[0] == 0
    )
    assert one(db, "SELECT bad FROM phones WHERE e164 = '+12125550100'") == (1,)
    pid = one(db, "SELECT id FROM phones WHERE e164 = '+12125550101'")[0]
    assert run("log", "C00001", "wrong_number", "--as", "alice", "--phone", str(pid))[0] == 0
    assert one(db, "SELECT state FROM queue WHERE customer_id = 1") == ("no_phone",)


def test_paid_and_callback_and_skip(run, db):
    code, _, err = run(
        "log",
        "C00001",
        "paid",
        "--as",
        "alice",
        "--amount",
        "200",
        "--date",
        "today",
        "--reference",
        "WIRE 7",
    )
    assert (code, err) == (0, "")
    assert one(db, "SELECT amount_minor, paid_on, reference FROM payment_reports") == (
        20_000,
        "2026-11-23",
        "WIRE 7",
    )
    code, out, _ = run(
        "log", "C00002", "callback", "--as", "alice", "--at", "tomorrow 14:30", "--rpc", "--json"
    )
    # 14:30 in the customer's time (New York, EST), not the server's (UTC)
    assert code == 0 and json.loads(out)["next_action_at"] == "2026-11-24T19:30:00Z"
    assert one(db, "SELECT rpc FROM activities WHERE outcome = 'callback'") == (1,)
    code, out, _ = run("log", "C00002", "skip", "--as", "alice", "--reason", "meeting", "--json")
    assert code == 0 and json.loads(out)["next_action_at"] == "2026-11-23T16:00:00Z"


def test_payment_plan_in_the_collectors_locale(run, db, ledger):
    bruno = one(db, "SELECT id FROM collectors WHERE username = 'bruno'")[0]
    ledger.customer(
        "Québec inc.",
        collector=bruno,
        country="CA",
        subdivision="QC",
        currency="CAD",
        phones=["+15145550123"],
    )
    code, out, err = run(
        "log",
        "C00003",
        "payment_plan",
        "--as",
        "bruno",
        "--instalments",
        "1 234,50@+7d; 500@+37d,99,99@2027-02-01",
    )
    assert (code, err) == (0, "")
    conn = sqlite3.connect(db)
    plan = conn.execute(
        "SELECT amount_minor, due_date FROM promises ORDER BY instalment"
    ).fetchall()
    conn.close()
    assert plan == [(123_450, "2026-11-30"), (50_000, "2026-12-30"), (9_999, "2027-02-01")]


def test_next_override_and_callback_in_the_customers_time(run, db, monkeypatch):
    code, out, _ = run(
        "log", "C00001", "no_answer", "--as", "alice", "--next", "+3d 9:00", "--json"
    )
    # 9:00 in New York, where the customer is
    assert code == 0 and json.loads(out)["next_action_at"] == "2026-11-26T14:00:00Z"
    # whatever the server's zone: each date gets New York's offset (EST, then EDT)
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    try:
        code, out, _ = run(
            "log", "C00002", "callback", "--as", "alice", "--at", "2026-12-01 14:30", "--json"
        )
        assert json.loads(out)["next_action_at"] == "2026-12-01T19:30:00Z"
        code, out, _ = run(
            "log", "C00002", "no_answer", "--as", "alice", "--next", "2027-07-01 14:30", "--json"
        )
        assert json.loads(out)["next_action_at"] == "2027-07-01T18:30:00Z"
    finally:
        monkeypatch.setenv("TZ", "UTC")
        time.tzset()


# -- errors: a message, an exit code, nothing written ---------------------------------------


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["log", "C999", "no_answer", "--as", "alice"], 2, "no customer 'C999'"),
        (
            [
                "log",
                "C00001",
                "promise_to_pay",
                "--as",
                "alice",
                "--amount",
                "12,3.4",
                "--date",
                "+3d",
            ],
            2,
            "'12,3.4' is not an amount",
        ),
        (
            [
                "log",
                "C00001",
                "promise_to_pay",
                "--as",
                "alice",
                "--amount",
                "10",
                "--date",
                "2020-01-01",
            ],
            2,
            "in the past",
        ),
        (
            [
                "log",
                "C00001",
                "promise_to_pay",
                "--as",
                "alice",
                "--amount",
                "10.001",
                "--date",
                "+1d",
            ],
            2,
            "more than 2 decimals",
        ),
        (
            [
                "log",
                "C00001",
                "promise_to_pay",
                "--as",
                "alice",
                "--amount",
                "10",
                "--date",
                "someday",
            ],
            2,
            "is not a date",
        ),
        (["log", "C00001", "promise_to_pay", "--as", "alice"], 2, "needs --amount and --date"),
        (
            ["log", "C00001", "no_answer", "--as", "alice", "--amount", "5"],
            2,
            "--amount does not apply to no_answer",
        ),
        (["log", "C00001", "skip", "--as", "alice"], 2, "skip needs --reason"),
        (["log", "C00001", "shrugged", "--as", "alice"], 2, "unknown outcome 'shrugged'"),
        (
            [
                "log",
                "C00001",
                "dispute",
                "--as",
                "alice",
                "--invoices",
                "INV-2-0",
                "--reason",
                "damaged",
                "--department",
                "sales",
            ],
            2,
            "'INV-2-0' is not an invoice of C00001",
        ),
        (
            ["log", "C00001", "wrong_number", "--as", "alice", "--phone", "+33142685300"],
            2,
            "not a number of C00001",
        ),
        (["log", "C00001", "callback", "--as", "alice", "--at", "25:99"], 2, "not a time of day"),
        (["log", "C00001", "no_answer", "--as", "mallory"], 1, "unknown collector 'mallory'"),
        (["next", "--as", "mallory"], 1, "collectors add"),
        (["history", "nobody"], 2, "no customer 'nobody'"),
        (["log", "C00001"], 2, "required: OUTCOME"),
        (["assign", "C00001", "--to", "bruno", "--as", "alice"], 1, "needs the lead or admin role"),
        (["assign", "C00001", "--to", "zed", "--as", "lena"], 2, "unknown collector 'zed'"),
    ],
)
def test_expected_errors(run, db, argv, code, message):
    before = {t: count(db, t) for t in ("activities", "promises", "disputes", "assignments")}
    got, out, err = run(*argv)
    assert got == code
    assert message in err
    assert "Traceback" not in err + out
    assert err.startswith("dunning: ") or err.startswith("usage: ")
    assert {t: count(db, t) for t in before} == before


def test_account_held_by_another_collector(run, db, conn, clock, settings):
    lena = one(db, "SELECT id FROM collectors WHERE username = 'lena'")[0]
    claim_account(conn, clock, settings, lena, 1)  # a lead: only she may open alice's
    code, _, err = run("log", "C00001", "no_answer", "--as", "alice")
    assert code == 1 and "being worked by lena" in err  # refused, not bad input
    assert count(db, "activities") == 0


def test_missing_database_and_not_a_database(run, tmp_path):
    code, _, err = run("--db", str(tmp_path / "nope.db"), "next", "--as", "a", with_db=False)
    assert code == 1 and "no database at" in err and "dunning demo" in err
    assert not (tmp_path / "nope.db").exists()
    junk = tmp_path / "junk.db"
    junk.write_text("this is not sqlite\n" * 100)
    code, _, err = run("--db", str(junk), "history", "C1", with_db=False)
    assert code == 1 and "file is not a database" in err
    code, _, err = run("--db", str(tmp_path), "history", "C1", with_db=False)
    assert code == 1 and "is a directory" in err


def test_bad_config(run, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[weights]\nbroken_promis = 3\n")
    code, _, err = run("--config", str(bad), "next", "--as", "alice")
    assert code == 2 and "unknown key 'broken_promis'" in err
    code, _, err = run("--config", str(tmp_path / "none.toml"), "next", "--as", "alice")
    assert code == 2 and "config file not found" in err


def test_version_and_help(run):
    code, out, _ = run("--version", with_db=False)
    assert code == 0 and out.startswith("dunning ")
    code, out, _ = run("log", "--help", with_db=False)
    assert code == 0 and "promise_to_pay  --amount --date [--grace]" in out
    code, out, _ = run("--help", with_db=False)
    assert code == 0 and "exit codes:" in out and "+3d" in out


# -- housekeeping ---------------------------------------------------------------------------


def test_collectors_list_and_add(run, db):
    code, out, _ = run("collectors", "list", "--json")
    assert [c["username"] for c in json.loads(out)] == ["alice", "bruno", "lena"]
    code, _, err = run("collectors", "add", "carl", "--as", "alice")
    assert code == 1 and "may not add collectors: that needs the lead or admin role" in err
    code, out, err = run(
        "collectors",
        "add",
        "carmen",
        "--display-name",
        "Carmen C",
        "--languages",
        "es,EN",
        "--locale",
        "es_MX",
        "--as",
        "lena",
    )
    assert (code, err) == (0, "")
    assert one(
        db, "SELECT display_name, languages, locale, role FROM collectors WHERE username = 'carmen'"
    ) == ("Carmen C", "es,en", "es_MX", "collector")
    code, _, err = run("collectors", "add", "root2", "--role", "admin", "--as", "lena")
    assert code == 1 and "only an admin may add an admin" in err
    code, _, err = run("collectors", "add", "dave", "--locale", "xx_YY", "--as", "lena")
    assert code == 2 and "not a locale" in err
    code, _, err = run("collectors", "add", "dave", "--languages", "english", "--as", "lena")
    assert code == 2 and "ISO 639-1" in err
    code, _, err = run("collectors", "add", "carmen", "--as", "lena")
    assert code == 2 and "already exists" in err


def test_the_databases_owner_adds_its_first_collector(run, tmp_path):
    from dunning.db.connection import open_db

    path = tmp_path / "new.db"
    open_db(path).close()
    code, out, err = run(
        "--db",
        str(path),
        "collectors",
        "add",
        "boss",
        "--role",
        "admin",
        with_db=False,
    )
    assert (code, err) == (0, "")
    assert "added boss (admin" in out


def test_assign_by_a_lead_keeps_history(run, db):
    code, out, err = run(
        "assign", "C00001", "C00002", "--to", "bruno", "--as", "lena", "--reason", "holiday cover"
    )
    assert (code, err) == (0, "")
    assert "2 account(s) assigned to bruno" in out
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT a.customer_id, c.username, b.username, a.reason FROM assignments a "
        "JOIN collectors c ON c.id = a.collector_id JOIN collectors b ON b.id = a.assigned_by"
    ).fetchall()
    owners = conn.execute("SELECT DISTINCT collector_id FROM queue").fetchall()
    conn.close()
    assert rows == [(1, "bruno", "lena", "holiday cover"), (2, "bruno", "lena", "holiday cover")]
    assert owners == [(2,)]
    code, out, _ = run("assign", "C00001", "--to", "bruno", "--as", "lena")
    assert "0 account(s) assigned to bruno (1 already were)" in out
    code, out, _ = run("history", "C00001", "--json")
    assert json.loads(out)[0]["code"] == "assign"


def test_queue_refresh_decides_promises(run, db, clock):
    run("log", "C00001", "promise_to_pay", "--as", "alice", "--amount", "100", "--date", "+1d")
    clock.advance(days=5)
    code, out, err = run("queue", "refresh")
    assert (code, err) == (0, "")
    assert out.strip() == "2 account(s) refreshed, 1 promise(s) decided"
    assert one(db, "SELECT status FROM promises") == ("broken",)
    assert one(db, "SELECT broken_promise, state FROM queue WHERE customer_id = 1") == (1, "ready")


def test_search(run):
    code, out, _ = run("search", "big", "--json")
    assert [h["external_ref"] for h in json.loads(out)] == ["C00001"]
    code, out, _ = run("search", "(212) 555-0101")
    assert "C00001" in out and "(phone)" in out
    code, out, _ = run("search", "zzz")
    assert code == 0 and "no customer matches" in out


def test_open_without_customers_says_how_to_get_some(run, tmp_path):
    from dunning.db.connection import open_db

    path = tmp_path / "empty.db"
    open_db(path).close()
    code, _, err = run("--db", str(path), "--as", "alice", with_db=False)
    assert code == 1 and "no customers" in err and "dunning demo" in err
    code, _, err = run(with_db=False)  # the default database does not exist yet
    assert code == 1 and "no database at" in err


def test_ledger_commands_are_wired(run):
    pytest.importorskip("dunning.ledger_cli")
    code, out, _ = run("import", "profiles")
    assert code == 0 and "generic" in out


# -- demo -----------------------------------------------------------------------------------


def test_demo_builds_once_then_reuses(run, tmp_path):
    pytest.importorskip("dunning.demo.build")
    demo = tmp_path / "data" / "dunning" / "demo.db"
    code, out, err = run("demo", "--customers", "20", "--no-open", with_db=False)
    assert (code, out.strip()) == (0, str(demo)), err
    customers = count(demo, "customers")
    assert customers == 20
    assert count(demo, "collectors") >= 5
    first = demo.stat().st_mtime_ns
    code, out, err = run("demo", "--customers", "99", "--no-open", with_db=False)
    assert code == 0 and "reusing" in err and count(demo, "customers") == 20
    assert demo.stat().st_mtime_ns == first
    code, out, err = run("demo", "--customers", "30", "--no-open", "--force", with_db=False)
    assert code == 0 and count(demo, "customers") == 30


def test_demo_refuses_to_overwrite_other_files(run, tmp_path):
    junk = tmp_path / "precious.db"
    junk.write_text("not a database, but someone's file\n" * 50)
    code, _, err = run("demo", "--db", str(junk), "--no-open", with_db=False)
    assert code == 1 and "--force" in err
    assert junk.read_text().startswith("not a database")


# -- real processes -------------------------------------------------------------------------


def dunning(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DUNNING_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "dunning", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        env=full_env,
    )


def test_process_exit_codes_and_no_traceback(db, tmp_path):
    cases = [
        (["--db", str(tmp_path / "missing.db"), "next", "--as", "alice"], 1, "no database"),
        (["--db", str(db), "log", "C404", "no_answer", "--as", "alice"], 2, "no customer"),
        (
            [
                "--db",
                str(db),
                "log",
                "C00001",
                "paid",
                "--as",
                "alice",
                "--amount",
                "12,3.4",
                "--date",
                "today",
            ],
            2,
            "not an amount",
        ),
        (
            [
                "--db",
                str(db),
                "log",
                "C00001",
                "promise_to_pay",
                "--as",
                "alice",
                "--amount",
                "5",
                "--date",
                "2020-01-01",
            ],
            2,
            "in the past",
        ),
        (["--db", str(db), "next", "--as", "nobody"], 1, "unknown collector 'nobody'"),
        (["--db", str(db), "log"], 2, "are required: ACCOUNT, OUTCOME"),
    ]
    for argv, code, message in cases:
        p = dunning(*argv)
        assert p.returncode == code, (argv, p.stderr)
        assert message in p.stderr
        assert "Traceback" not in p.stderr + p.stdout
    p = dunning("--version")
    assert p.returncode == 0 and p.stdout.startswith("dunning ")


def test_scripted_commands_do_not_import_textual(db):
    code = (
        "import sys; from dunning.cli import main; "
        f"rc = main(['--db', {str(db)!r}, 'history', 'C00001', '--json']); "
        "print('textual' in sys.modules, rc)"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.stdout.strip().endswith("False 0"), p.stderr


def test_usage_errors_are_one_line(run):
    for argv in (["log"], ["log", "C00001", "no_answer", "--grace", "x"], ["frob"]):
        code, out, err = run(*argv)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("dunning: "), err
        assert "--help" in lines[0]


def test_a_typo_in_the_path_never_turns_a_file_into_a_database(tmp_path, clock, capsys):
    empty = tmp_path / "empty.db"
    empty.touch()
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE notes (t TEXT)")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    for path, what in ((empty, "an empty database"), (other, "not a dunning database")):
        code = main(["--db", str(path), "next", "--as", "alice", "--json"], clock=clock)
        _, err = capsys.readouterr()
        assert code == 1 and what in err, err
    assert empty.stat().st_size == 0 and other.read_bytes() == before


def test_demo_refuses_what_it_must_not_build_over(tmp_path, db, clock, capsys):
    """--force replaces a demo, never a real ledger; a directory or a huge size is named."""
    code = main(["--db", str(db), "demo", "--force", "--no-open"], clock=clock)
    _, err = capsys.readouterr()
    assert code == 1 and "not a demo database" in err
    assert count(db, "customers") > 0
    code = main(["--db", str(tmp_path), "demo", "--no-open"], clock=clock)
    _, err = capsys.readouterr()
    assert code == 1 and "is a directory" in err
    code = main(
        ["--db", str(tmp_path / "x.db"), "demo", "--customers", "99999999999", "--no-open"],
        clock=clock,
    )
    _, err = capsys.readouterr()
    assert code == 2 and "between 1 and 2,000,000" in err
    assert not (tmp_path / "x.db").exists()


def test_a_note_on_a_held_account_promises_no_call(run, db, ledger):
    """A cease account takes a note; the answer does not announce a next call (at a time
    already past) that will never come."""
    alice = ledger.collector("carol")
    ledger.customer("Quiet", collector=alice, status="cease", invoices=[(10_000, "2026-09-01")])
    code, out, err = run("log", "C00003", "note", "--note", "wrote to us", "--as", "carol")
    assert (code, err) == (0, "")
    assert out.startswith("C00003: note logged") and "hold" in out, out
    assert "next" not in out, out
