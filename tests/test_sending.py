"""Sending a letter (queue/sending.py) as .eml files, a dry run, a letter on paper: what
is written, the activity and the archive row, the history line (CLI and screen), the
rights, the writing rules, hostile notes and recipients, the [smtp] configuration."""

from __future__ import annotations

import email
import email.policy
import sqlite3
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import Static
from tui_helpers import build_portfolio, make_app, settle, wait_until

from dunning.cli import main
from dunning.clock import FixedClock
from dunning.db.connection import connect
from dunning.letters.settings import LetterSettings
from dunning.queue.collectors import get_collector_by_id
from dunning.queue.config import settings_from_dict
from dunning.queue.sending import render_message, send_letter
from dunning.tui.screens.history import HistoryScreen
from dunning.tui.screens.letters import LettersScreen

LETTERS = LetterSettings(company_name="Northwind Supply Co.", email="ar@northwind.example")


@pytest.fixture
def s(settings):
    return replace(settings, letters=LETTERS)


@pytest.fixture
def people(ledger, conn):
    ana = ledger.collector("ana", languages="en,es")
    bruno = ledger.collector("bruno")
    lena = ledger.collector("lena", role="lead")
    cid = ledger.customer(
        "Distribuidora Peña", collector=ana, country="MX", subdivision=None, currency="MXN",
        invoices=[(1_234_550, "2026-09-01")],
    )  # fmt: skip
    conn.execute(
        "UPDATE contacts SET email = 'cxp@pena.example', language = 'es', name = 'José Núñez' "
        "WHERE customer_id = ?",
        (cid,),
    )
    conn.commit()
    who = {n: get_collector_by_id(conn, i) for n, i in (("ana", ana), ("bruno", bruno))}
    who["lena"] = get_collector_by_id(conn, lena)
    return who, cid


def _parse(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[return-value]


def _rows(conn: sqlite3.Connection) -> tuple[int, int]:
    acts = conn.execute(
        "SELECT COUNT(*) FROM activities WHERE outcome IN ('email_sent', 'letter_sent')"
    ).fetchone()[0]
    return acts, conn.execute("SELECT COUNT(*) FROM letters_sent").fetchone()[0]


def test_an_eml_is_written_private_parsed_back_and_recorded(conn, clock, s, people, tmp_path):
    who, cid = people
    out = tmp_path / "out"
    r = send_letter(conn, clock, who["ana"], s, "C00001", "reminder_2", out_dir=out, note="Gracias")
    assert r.sent, r.reason
    assert r.path == out / "C00001-reminder_2-20261123T150000Z.eml"
    assert stat.S_IMODE(r.path.stat().st_mode) == 0o600
    msg = _parse(r.path)
    assert msg["To"] == "cxp@pena.example" and msg["Subject"] == r.subject
    assert msg["From"].addresses[0].addr_spec == "ar@northwind.example"
    assert "Reply-To" not in msg  # the same address as From
    text = msg.get_body(("plain",)).get_content()
    assert "José Núñez" in text and "$12,345.50" in text  # es_MX money
    assert "Gracias" in text and "Gracias" in msg.get_body(("html",)).get_content()
    act = conn.execute("SELECT * FROM activities WHERE id = ?", (r.activity_id,)).fetchone()
    assert (act["outcome"], act["note"], act["collector_id"]) == (
        "email_sent",
        "Gracias",
        who["ana"].id,
    )
    row = conn.execute("SELECT * FROM letters_sent").fetchone()
    assert (row["path"], row["language"], row["locale"]) == (str(r.path), "es", "es_MX")
    assert row["activity_id"] == r.activity_id and row["invoices"] == "[]" and row["level"] is None
    # a second in the same second never overwrites the first
    again = send_letter(conn, clock, who["ana"], s, "C00001", "reminder_2", out_dir=out)
    assert again.path == out / "C00001-reminder_2-20261123T150000Z-2.eml"
    assert _rows(conn) == (2, 2)


def test_the_archive_is_append_only(conn, clock, s, people, tmp_path):
    who, _ = people
    assert send_letter(
        conn, clock, who["ana"], s, "C00001", "statement", out_dir=tmp_path / "o"
    ).sent
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE letters_sent SET subject = 'edited'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM letters_sent")
    conn.rollback()


def test_the_letter_run_sets_level_and_invoices_as_the_system(conn, clock, s, people, tmp_path):
    _, cid = people
    (inv,) = conn.execute("SELECT id FROM invoices WHERE customer_id = ?", (cid,)).fetchone()
    r = send_letter(
        conn,
        clock,
        None,
        s,
        "C00001",
        "reminder_1",
        out_dir=tmp_path / "o",
        level=1,
        invoices=[inv],
    )
    assert r.sent, r.reason
    row = conn.execute("SELECT collector_id, level, invoices FROM letters_sent").fetchone()
    assert tuple(row) == (None, 1, f"[{inv}]")


def test_a_collector_is_refused_on_anothers_account_and_a_lead_is_not(
    conn, clock, s, people, tmp_path
):
    who, _ = people
    r = send_letter(conn, clock, who["bruno"], s, "C00001", "reminder_1", out_dir=tmp_path / "o")
    assert (r.sent, r.code) == (False, "refused")
    assert r.reason == "C00001 belongs to ana: ask a lead to reassign it"
    assert not (tmp_path / "o").exists() and _rows(conn) == (0, 0)
    audit = conn.execute("SELECT action, result FROM audit_log ORDER BY id DESC").fetchone()
    assert tuple(audit) == ("send", "refused")
    lead = send_letter(conn, clock, who["lena"], s, "C00001", "reminder_1", out_dir=tmp_path / "o")
    assert lead.sent, lead.reason
    details = conn.execute("SELECT details FROM activities WHERE id = ?", (lead.activity_id,))
    assert '"for": "ana"' in details.fetchone()[0]


def test_the_writing_rules_refuse_a_cease_account(conn, clock, s, people, tmp_path):
    who, cid = people
    conn.execute("UPDATE customers SET status = 'cease' WHERE id = ?", (cid,))
    conn.commit()
    r = send_letter(conn, clock, who["ana"], s, "C00001", "reminder_1", out_dir=tmp_path / "o")
    assert (r.sent, r.code) == (False, "status_cease") and "cease" in r.reason
    assert not (tmp_path / "o").exists() and _rows(conn) == (0, 0)


@pytest.mark.parametrize(
    "to",
    [
        "cxp@pena.example\r\nBcc: evil@x.example",
        "cxp@pena.example, evil@x.example",
        "Evil <evil@x.example>",
        "\x1b[31mcxp@pena.example",
        "x" * 300 + "@pena.example",
    ],
)
def test_a_hostile_recipient_is_refused(conn, clock, s, people, tmp_path, to):
    who, _ = people
    r = send_letter(
        conn, clock, who["ana"], s, "C00001", "reminder_1", out_dir=tmp_path / "o", to=to
    )
    assert (r.sent, r.code) == (False, "bad_recipient")
    assert "\r" not in r.reason and "\n" not in r.reason and "\x1b" not in r.reason
    assert not (tmp_path / "o").exists() and _rows(conn) == (0, 0)


def test_a_hostile_note_is_made_one_clean_line(conn, clock, s, people, tmp_path):
    who, _ = people
    note = "Merci\r\nBcc: evil@x.example\x1b[2J\u202e" + "z" * 900
    r = send_letter(
        conn, clock, who["ana"], s, "C00001", "reminder_1", out_dir=tmp_path / "o", note=note
    )
    assert r.sent, r.reason
    msg = _parse(r.path)
    assert msg["Bcc"] is None and msg["To"] == "cxp@pena.example"
    kept = conn.execute("SELECT note FROM letters_sent").fetchone()[0]
    assert kept.startswith("Merci Bcc: evil@x.example") and len(kept) == 500
    assert all(ch.isprintable() for ch in kept)


def test_no_relay_and_no_folder_is_a_clear_refusal(conn, clock, s, people):
    who, _ = people
    r = send_letter(conn, clock, who["ana"], s, "C00001", "reminder_1")
    assert (r.sent, r.code) == (False, "no_smtp") and "[smtp]" in r.reason
    assert _rows(conn) == (0, 0)


def test_a_letter_on_paper_is_written_for_printing(conn, clock, s, people, tmp_path):
    who, cid = people
    # no postal address in the ledger: refused by the writing rules, nothing written
    r = send_letter(
        conn, clock, who["ana"], s, "C00001", "statement", channel="letter", out_dir=tmp_path / "o"
    )
    assert (r.sent, r.code) == (False, "no_postal_address")
    assert _rows(conn) == (0, 0) and not (tmp_path / "o").exists()
    conn.execute(
        "UPDATE customers SET address_line1 = 'Av. Juárez 123', address_line2 = 'Col. Centro', "
        "city = 'Guadalajara', subdivision = 'JAL', postal_code = '44100' WHERE id = ?",
        (cid,),
    )
    conn.commit()
    r = send_letter(
        conn, clock, who["ana"], s, "C00001", "statement", channel="letter", out_dir=tmp_path / "o"
    )
    assert r.sent, r.reason
    assert r.path is not None and r.path.suffix == ".txt"
    page = r.path.read_text()
    # the name and address on top (a window envelope's), then the subject
    assert page.startswith(
        "Distribuidora Peña\nAv. Juárez 123\nCol. Centro\n44100 Guadalajara, Jalisco\nMéxico\n\n"
    ), page
    assert "Estado de cuenta" in page
    assert r.path.with_suffix(".pdf").read_bytes().startswith(b"%PDF")  # the statement
    outcome = conn.execute("SELECT outcome FROM activities WHERE id = ?", (r.activity_id,))
    assert outcome.fetchone()[0] == "letter_sent"


def test_render_message_builds_without_writing(conn, clock, s, people):
    built = render_message(conn, clock, s, "C00001", "reminder_1", locale="es_ES", note="hola")
    assert built.locale == "es_ES" and "12.345,50" in built.text and "hola" in built.text
    assert built.message is not None and built.message["To"] == "cxp@pena.example"
    assert _rows(conn) == (0, 0)


# -- the CLI ----------------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch, tmp_path, capsys, clock):
    db = tmp_path / "work.db"
    build_portfolio(db, clock)
    c = connect(db)
    c.execute("UPDATE contacts SET email = 'ap@acme.example'")
    c.commit()
    c.close()
    config = tmp_path / "config.toml"
    config.write_text(
        '[letters]\ncompany_name = "Northwind"\nemail = "ar@northwind.example"\n', "utf-8"
    )
    for name in ("DUNNING_SERVICE_ACCOUNT",):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DUNNING_DB", str(db))
    monkeypatch.setenv("DUNNING_CONFIG", str(config))

    def run(*argv: str) -> tuple[int, str, str]:
        code = main([*argv, "--as", "alice"], clock=FixedClock(clock.now()))
        out, err = capsys.readouterr()
        return code, out, err

    return run, db


def test_cli_dry_run_writes_the_eml_in_the_current_folder_and_records_nothing(
    cli, tmp_path, monkeypatch
):
    run, db = cli
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    code, out, err = run("email", "C00001", "reminder_1", "--dry-run")
    assert code == 0, err
    [path] = list(here.iterdir())
    assert f"written to {path} (dry run: nothing recorded)" in out
    msg = _parse(path)
    assert msg["To"] == "ap@acme.example" and msg.get_body(("plain",)) is not None
    c = connect(db)
    assert _rows(c) == (0, 0)
    c.close()


def test_cli_email_then_history_shows_it_and_the_archived_text(cli, tmp_path):
    run, _ = cli
    code, out, err = run("email", "C00001", "--out", str(tmp_path / "o"), "--note", "thanks")
    assert code == 0, err
    assert "C00001: statement to ap@acme.example written to" in out
    code, out, err = run("history", "C00001")
    assert code == 0, err
    line = next(x for x in out.splitlines() if "email_sent" in x)
    assert "e-mail sent: Statement of account C00001" in line and "letter 1" in line
    assert "thanks" in line
    code, out, err = run("history", "C00001", "--letter", "1")
    assert code == 0, err
    assert "Subject: Statement of account C00001" in out and "To: ap@acme.example" in out
    assert "Acme Anvils Inc." in out  # the text body
    code, out, err = run("history", "C00002", "--letter", "1")
    assert code == 1 and "no letter 1 on this account" in err


def test_cli_refusals_are_one_line_with_exit_1(cli, tmp_path):
    run, _ = cli
    code, out, err = run("email", "C00005", "reminder_1", "--out", str(tmp_path))  # bruno's
    assert code == 1 and "C00005 belongs to bruno" in err and "Traceback" not in err
    code, out, err = run("email", "C00001", "reminder_1")  # no [smtp], no --out
    assert code == 1 and "no [smtp] relay in the configuration" in err


# -- the screen -------------------------------------------------------------------------


async def test_the_history_screen_shows_the_letter_and_l_its_text(tmp_path, clock):
    db = tmp_path / "work.db"
    build_portfolio(db, clock)
    c = connect(db)
    c.execute("UPDATE contacts SET email = 'ap@acme.example'")
    c.commit()
    alice = get_collector_by_id(c, 1)
    st = replace(settings_from_dict({}), letters=LETTERS)
    r = send_letter(c, clock, alice, st, "C00001", "reminder_1", out_dir=tmp_path / "o", note="hi")
    assert r.sent, r.reason
    c.close()
    app = make_app(db, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await settle(pilot)
        assert screen.view is not None
        app.push_screen(HistoryScreen(screen.session, screen.view.id, "Acme", "USD"))
        history = lambda: str(app.screen.query_one("#history-all", Static).render())  # noqa: E731
        await wait_until(pilot, lambda: "e-mail sent:" in history())
        assert f"e-mail sent: {r.subject}" in history()
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, LettersScreen))
        text = lambda: str(app.screen.query_one("#letters-text", Static).render())  # noqa: E731
        await wait_until(pilot, lambda: "Subject:" in text())
        assert f"Subject: {r.subject}" in text() and "Acme Anvils Inc." in text()
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen))


# -- [smtp] -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ({"from": "a@b.example"}, "[smtp] host is missing"),
        ({"host": "h", "from": "a@b.example", "port": 0}, "[smtp] port must be"),
        ({"host": "h", "from": "a@b.example", "timeout": 121}, "[smtp] timeout must be"),
        ({"host": "h", "from": "a@b.example", "password_env": "hunter2!"}, "never the password"),
        ({"host": "h", "from": "not an address"}, "[smtp] from must be an address"),
        ({"host": "h", "from": "a@b.example\nBcc: x@y"}, "[smtp] from must be an address"),
        ({"host": "h", "from": "a@b.example", "password": "x"}, "unknown key 'password'"),
        ({"host": "h", "from": "a@b.example", "ssl": True, "starttls": True}, "cannot both"),
        ({"host": "h;rm", "from": "a@b.example"}, "[smtp] host must be"),
        ({"host": "h", "from": "a@b.example", "cafile": "/nonexistent/ca.pem"}, "no such file"),
        ({"host": "h", "from": "a@b.example", "cafile": "ca\x1b.pem"}, "[smtp] cafile must be"),
        ({"host": "h", "from": "a@b.example", "cafile": 12}, "[smtp] cafile must be"),
    ],
)
def test_smtp_configuration_refusals_name_file_and_key(table, said):
    with pytest.raises(ValueError, match="^cfg.toml: ") as exc:
        settings_from_dict({"smtp": table}, source="cfg.toml")
    assert said in str(exc.value)


def test_smtp_configuration_is_read():
    got = settings_from_dict(
        {"smtp": {"host": "smtp.example.com", "from": "AR <ar@example.com>", "ssl": True,
                  "port": 465, "username": "ar", "password_env": "SMTP_PW"}}
    ).smtp  # fmt: skip
    assert got is not None and got.relay == "smtp.example.com:465"
    assert (got.ssl, got.starttls, got.password_env, got.timeout) == (True, False, "SMTP_PW", 30)
    assert got.cafile == ""  # the system's certificate authorities
