"""``dunning letters run`` and ``dunning contacts opt-out|opt-in`` as the host and a
collector run them: what is printed, the .eml files written, what the database holds."""

from __future__ import annotations

import email
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

import pytest

from dunning.cli import main
from dunning.clock import FixedClock
from dunning.db.connection import write_tx
from dunning.queue.config import Settings
from dunning.queue.sending import send_letter
from dunning.queue.writing_rules import check_write

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 10:00 in New York


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        '[letters]\ncompany_name = "Northwind"\nemail = "ar@northwind.example"\n', encoding="utf-8"
    )
    return path


def past_due(days: int) -> str:
    return (NOW.date() - timedelta(days=days)).isoformat()


def contact(conn: sqlite3.Connection, cid: int, address: str, language: str = "en") -> None:
    with write_tx(conn):
        conn.execute(
            "UPDATE contacts SET email = ?, language = ? WHERE customer_id = ?",
            (address, language, cid),
        )


@pytest.fixture
def book(conn, ledger):
    """Acme (English, 2 invoices past due), Côté (French), a cease account, one whose
    only overdue invoice is disputed."""
    acme = ledger.customer("Acme", invoices=[(10_000, past_due(10)), (5_000, past_due(20))])
    contact(conn, acme, "ap@acme.example")
    cote = ledger.customer("Côté", country="CA", subdivision="QC", currency="CAD")
    contact(conn, cote, "compta@cote.example", "fr")
    cease = ledger.customer("Jane", portfolio="consumer", status="cease")
    contact(conn, cease, "jane@example.com")
    disputed = ledger.customer("Disputed", invoices=[(9_000, past_due(40))])
    contact(conn, disputed, "ap@disputed.example")
    with write_tx(conn):
        conn.execute("UPDATE invoices SET disputed = 1 WHERE customer_id = ?", (disputed,))
    return {"acme": acme, "cote": cote, "cease": cease, "disputed": disputed}


@pytest.fixture
def run(capsys, db_path, config):
    def go(*argv: str, at: datetime = NOW) -> tuple[int, str, str]:
        code = main(["--db", str(db_path), "--config", str(config), *argv], clock=FixedClock(at))
        out, err = capsys.readouterr()
        return code, out, err

    return go


def counts(conn: sqlite3.Connection) -> tuple[int, int, int]:
    one = conn.execute
    return (
        one("SELECT COUNT(*) FROM dunning_levels").fetchone()[0],
        one("SELECT COUNT(*) FROM letters_sent").fetchone()[0],
        one("SELECT COUNT(*) FROM activities WHERE outcome = 'email_sent'").fetchone()[0],
    )


def test_a_dry_run_prints_the_plan_writes_eml_and_records_nothing(conn, book, run, tmp_path):
    out_dir = tmp_path / "out"
    code, out, err = run("letters", "run", "--dry-run", "--out", str(out_dir), "--jobs", "1")
    assert code == 0, err
    assert "level 1 email en: 1" in out
    assert "level 1 email fr: 1" in out
    assert "total: 2 letters, 3 invoices" in out
    assert "skipped, level 1: cease request: 1" in out
    assert "Disputed" not in out and "nothing undisputed" not in out  # never dunned at all
    files = sorted(out_dir.glob("*.eml"))
    assert len(files) == 2
    messages = [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    assert sorted(str(m["To"]) for m in messages) == ["ap@acme.example", "compta@cote.example"]
    french = next(m for m in messages if str(m["To"]) == "compta@cote.example")
    assert "Côté" in french.get_body(("plain",)).get_content()
    assert counts(conn) == (0, 0, 0)


def test_the_run_sends_records_each_invoices_level_once(conn, book, run, tmp_path):
    code, out, err = run("letters", "run", "--out", str(tmp_path / "sent"))
    assert code == 0, err
    assert "Sent:" in out and "total: 2 letters, 3 invoices" in out
    assert counts(conn) == (3, 2, 2)
    row = conn.execute(
        "SELECT l.level, l.invoices, l.collector_id, l.id FROM letters_sent l "
        "WHERE l.customer_id = ?",
        (book["acme"],),
    ).fetchone()
    ids = [
        r[0] for r in conn.execute("SELECT id FROM invoices WHERE customer_id = ?", (book["acme"],))
    ]
    assert (row[0], sorted(json.loads(row[1])), row[2]) == (1, sorted(ids), None)
    levels = conn.execute(
        "SELECT level, letter_id FROM dunning_levels WHERE customer_id = ?", (book["acme"],)
    ).fetchall()
    assert [tuple(r) for r in levels] == [(1, row[3]), (1, row[3])]
    # the next night: nothing new; 23 days on, level 2 for Acme's older invoice... and both
    code, out, _ = run(
        "letters", "run", "--out", str(tmp_path / "sent"), at=NOW + timedelta(days=1)
    )
    assert "no letter" in out and counts(conn) == (3, 2, 2)
    code, out, _ = run(
        "letters", "run", "--out", str(tmp_path / "sent"), at=NOW + timedelta(days=23)
    )
    assert "level 2 email en: 1" in out and "level 2 email fr: 1" in out
    assert counts(conn) == (6, 4, 4)


def test_a_run_stopped_after_a_send_is_not_sent_twice(conn, book, run, tmp_path):
    ids = [
        r[0] for r in conn.execute("SELECT id FROM invoices WHERE customer_id = ?", (book["acme"],))
    ]
    # what a run stopped between the send's commit and its levels' left behind
    sent = send_letter(
        conn, FixedClock(NOW), None, Settings(letters=_letters()), "C00001", "reminder_1",
        out_dir=tmp_path / "sent", level=1, invoices=ids,
    )  # fmt: skip
    assert sent.sent, sent.reason
    assert counts(conn) == (0, 1, 1)
    code, out, err = run("letters", "run", "--out", str(tmp_path / "sent"))
    assert code == 0, err
    assert "2 levels recorded from letters a stopped run sent" in out
    assert "level 1 email en" not in out  # Acme's letter is not sent again
    assert counts(conn) == (3, 2, 2)


def _letters():
    from dunning.letters.settings import LetterSettings

    return LetterSettings(company_name="Northwind", email="ar@northwind.example")


def test_level_and_limit(conn, book, run, tmp_path):
    code, out, _ = run("letters", "run", "--dry-run", "--out", str(tmp_path), "--level", "2")
    assert code == 0 and "no letter" in out
    code, out, _ = run("letters", "run", "--out", str(tmp_path / "s"), "--limit", "1")
    assert code == 0 and "total: 1 letters" in out
    assert counts(conn)[1] == 1


def test_a_call_level_is_a_call_task(conn, ledger, run, config, tmp_path):
    config.write_text(
        config.read_text()
        + '[levels.b2b]\n1 = { days = 5, kind = "reminder_1", channel = "call" }\n',
        encoding="utf-8",
    )
    cid = ledger.customer("Acme", invoices=[(10_000, past_due(10))])
    with write_tx(conn):
        conn.execute(
            "UPDATE queue SET next_action = 'call', next_action_at = ? WHERE customer_id = ?",
            ("2026-12-20T00:00:00Z", cid),
        )
    code, out, err = run("letters", "run")
    assert code == 0, err
    assert "level 1 call en: 1" in out
    q = ledger.queue_row(cid)
    assert (q["next_action"], q["next_action_at"]) == ("call", "2026-11-23T15:00:00Z")
    assert conn.execute("SELECT channel, letter_id FROM dunning_levels").fetchall()[0][:] == (
        "call",
        None,
    )
    assert counts(conn)[1:] == (0, 0)  # no message


def test_a_paper_letter_without_a_postal_address_is_skipped(conn, ledger, run, config, tmp_path):
    config.write_text(
        config.read_text()
        + '[levels.b2b]\n1 = { days = 5, kind = "reminder_1", channel = "letter" }\n',
        encoding="utf-8",
    )
    acme = ledger.customer("Acme", invoices=[(10_000, past_due(10))])
    contact(conn, acme, "ap@acme.example")
    bolt = ledger.customer("Bolt", invoices=[(20_000, past_due(10))])
    contact(conn, bolt, "ap@bolt.example")  # an e-mail address is no postal address
    with write_tx(conn):
        conn.execute(
            "UPDATE customers SET address_line1 = '1 Main St', city = 'Albany', "
            "subdivision = 'NY', postal_code = '12207' WHERE id = ?",
            (acme,),
        )
    code, out, err = run("letters", "run", "--out", str(tmp_path / "paper"))
    assert code == 0, err
    assert "level 1 letter en: 1" in out and "skipped, level 1: no postal address: 1" in out
    pages = list((tmp_path / "paper").glob("*.txt"))
    assert len(pages) == 1 and pages[0].read_text().startswith("Acme\n1 Main St\nAlbany, NY 12207")
    sent = conn.execute("SELECT customer_id, channel FROM letters_sent").fetchall()
    assert [tuple(r) for r in sent] == [(acme, "letter")]


def test_the_run_is_the_hosts(conn, book, ledger, run, tmp_path):
    ledger.collector("alice")
    code, _out, err = run("--as", "alice", "letters", "run", "--dry-run", "--out", str(tmp_path))
    assert code != 0
    assert "may not run the dunning letters" in err
    assert not list(tmp_path.glob("*.eml"))


def test_opt_out_by_the_collector_then_no_email_then_opt_in(conn, ledger, run):
    alice = ledger.collector("alice")
    bruno = ledger.collector("bruno")
    ledger.collector("lena", role="lead")
    mine = ledger.customer("Jane", collector=alice, portfolio="consumer")
    theirs = ledger.customer("John", collector=bruno, portfolio="consumer")
    contact(conn, mine, "jane@example.com")
    contact(conn, theirs, "john@example.com")
    code, out, err = run("--as", "alice", "contacts", "opt-out", "C00001")
    assert code == 0, err
    assert "jane@example.com opted out of e-mail" in out
    row = conn.execute("SELECT email_opt_out_at, email_opt_out_by FROM contacts").fetchone()
    assert tuple(row) == ("2026-11-23T15:00:00Z", "alice")
    verdict = check_write(conn, NOW, Settings(), mine, channel="email", kind="reminder_1")
    assert verdict.code == "no_email"
    # a collector on someone else's account: refused and audited; a lead: any account
    code, _out, err = run("--as", "alice", "contacts", "opt-out", "C00002")
    assert code != 0 and "belongs to bruno" in err
    code, out, err = run(
        "--as", "lena", "contacts", "opt-out", "C00002", "--email", "JOHN@example.com"
    )
    assert code == 0, err
    code, out, err = run("--as", "alice", "contacts", "opt-out", "C00001", "--email", "x@y.z")
    assert code != 0 and "no contact has the address x@y.z" in err
    code, out, err = run("--as", "alice", "contacts", "opt-in", "C00001")
    assert code == 0 and "receives e-mail again" in out
    assert check_write(conn, NOW, Settings(), mine, channel="email", kind="reminder_1").ok
    audit = conn.execute(
        "SELECT action, target, result FROM audit_log WHERE action LIKE 'contacts.%' ORDER BY id"
    ).fetchall()
    assert [tuple(a) for a in audit] == [
        ("contacts.opt_out", "C00001", "done"),
        ("contacts.opt_out", "C00002", "refused"),
        ("contacts.opt_out", "C00002", "done"),
        ("contacts.opt_in", "C00001", "done"),
    ]


def test_the_run_sends_through_the_relay_on_one_connection(conn, book, run, config):
    from aiosmtpd.controller import Controller  # noqa: PLC0415
    from test_smtp import Inbox, _free_port  # noqa: PLC0415

    port = _free_port()
    sessions: list[object] = []

    class Counting(Inbox):
        async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: ANN001, ANN201, N802
            sessions.append(session)
            session.host_name = hostname
            return responses

    inbox = Counting()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        config.write_text(
            config.read_text() + f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nstarttls = false\n'
            'from = "AR <ar@northwind.example>"\ntimeout = 5\n',
            encoding="utf-8",
        )
        code, out, err = run("letters", "run")
    finally:
        controller.stop()
    assert code == 0, err
    assert "Sent:" in out and "total: 2 letters, 3 invoices" in out
    got = sorted(str(m["To"]) for m in inbox.messages())
    assert got == ["ap@acme.example", "compta@cote.example"]
    assert len(sessions) == 1  # one connection for the run
    assert counts(conn) == (3, 2, 2)


def test_without_a_relay_nor_a_folder_the_run_sends_nothing(conn, book, run):
    code, _out, err = run("letters", "run")
    assert code != 0 and "no [smtp] relay" in err
    assert counts(conn) == (0, 0, 0)


def test_a_dry_run_shared_between_processes_writes_each_letter_once(conn, ledger, tmp_path):
    from dunning.queue.letter_run_jobs import dry_run  # noqa: PLC0415

    for k in range(6):
        cid = ledger.customer(f"Acme {k}", invoices=[(10_000, past_due(10))])
        contact(conn, cid, f"ap{k}@acme.example")
    settings = Settings(letters=_letters())
    clock = FixedClock(NOW)
    path = Path(conn.db_path)
    planned, done = dry_run(conn, path, clock, settings, tmp_path / "all", jobs=2, chunk=2)
    assert [n for _lo, _hi, n in planned.chunks] == [2, 2, 2]
    assert planned.total == done.total == done.files == 6
    names = sorted(p.name.split("-")[0] for p in (tmp_path / "all").glob("*.eml"))
    assert names == [f"C{k:05d}" for k in range(1, 7)]
    # --limit: the first letters in customer order, whichever process writes them
    planned, done = dry_run(
        conn, path, clock, settings, tmp_path / "five", jobs=2, chunk=2, limit=5
    )
    assert planned.total == done.total == 5
    names = sorted(p.name.split("-")[0] for p in (tmp_path / "five").glob("*.eml"))
    assert names == [f"C{k:05d}" for k in range(1, 6)]
    # one process: the same letters
    planned, done = dry_run(conn, path, clock, settings, tmp_path / "one", jobs=1, limit=3)
    assert done.files == 3 and len(list((tmp_path / "one").glob("*.eml"))) == 3
    assert counts(conn) == (0, 0, 0)
