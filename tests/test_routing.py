"""Routing by language (issue 9, item 4): accounts are dealt only to collectors who speak
the customer's language, wherever they are dealt (`assign` by reference and `--from`, the
import's collector column, the screen's reassign); `dunning routing check` and
`unserved_by_language` (the board's count) list what no active collector can serve."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dunning.cli import main
from dunning.queue import routing
from dunning.queue.collectors import get_collector
from dunning.queue.config import settings_from_dict

if TYPE_CHECKING:
    from conftest import Ledger

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def lang(conn: sqlite3.Connection, cid: int, code: str) -> None:
    with conn:
        conn.execute("UPDATE customers SET language = ? WHERE id = ?", (code, cid))


@pytest.fixture
def team(ledger: Ledger, conn: sqlite3.Connection) -> dict[str, int]:
    ids = {
        "alice": ledger.collector("alice"),
        "bruno": ledger.collector("bruno", languages="fr,en", locale="fr_CA"),
        "carmen": ledger.collector("carmen", languages="es,en", locale="es_MX"),
        "lena": ledger.collector("lena", role="lead"),
    }
    for n, code in enumerate(["en", "fr", "es", "es", "de"]):
        cid = ledger.customer(f"Cust {n}", collector=ids["alice"])
        lang(conn, cid, code)
        ids[f"c{n}"] = cid
    return ids


def owner(conn: sqlite3.Connection, cid: int) -> str | None:
    row = conn.execute(
        "SELECT k.username FROM queue q LEFT JOIN collectors k ON k.id = q.collector_id "
        "WHERE q.customer_id = ?",
        (cid,),
    ).fetchone()
    return row[0]


def test_languages_are_read_as_codes(conn, team):  # noqa: ANN001
    bruno = get_collector(conn, "bruno")
    assert routing.language_of("fr_CA") == "fr" and routing.language_of(" ES ") == "es"
    assert routing.speaks(bruno, "fr_CA") and routing.speaks(bruno, "FR")
    assert not routing.speaks(bruno, "es") and routing.speaks(bruno, "")
    assert settings_from_dict({"routing": {"by_language": False}}).routing.by_language is False
    with pytest.raises(ValueError, match=r"\[routing\] by_language must be true or false"):
        settings_from_dict({"routing": {"by_language": "no"}})
    with pytest.raises(ValueError, match="unknown key 'by_lang'"):
        settings_from_dict({"routing": {"by_lang": True}})


def test_unserved_by_language_counts_what_no_active_collector_speaks(conn, team):  # noqa: ANN001
    found = routing.unserved_by_language(conn)
    assert [(u.language, u.accounts, u.open_minor) for u in found] == [("de", 1, {"USD": 100_000})]
    # carmen leaves: Spanish is unserved too
    with conn:
        conn.execute("UPDATE collectors SET active = 0 WHERE username = 'carmen'")
    found = routing.unserved_by_language(conn)
    assert [(u.language, u.accounts) for u in found] == [("es", 2), ("de", 1)]
    # a team: only its collectors speak for it
    with conn:
        conn.execute("UPDATE collectors SET team = 'East' WHERE username IN ('alice', 'bruno')")
    east = routing.unserved_by_language(conn, "East")
    assert [(u.language, u.accounts) for u in east] == [("es", 2), ("de", 1)]
    assert routing.unserved_by_language(conn, "West") == []  # no accounts in West
    wrong = routing.misrouted(conn)
    assert {(m.username, m.language, m.accounts) for m in wrong} == {
        ("alice", "fr", 1), ("alice", "es", 2), ("alice", "de", 1)
    }  # fmt: skip


@pytest.fixture
def run(db_path: Path, clock, capsys, team):  # noqa: ANN001
    def go(*argv: str) -> tuple[int, str, str]:
        code = main(["--db", str(db_path), *argv], clock=clock)
        out, err = capsys.readouterr()
        return code, out, err

    return go


def test_assign_by_reference_skips_what_the_target_cannot_serve(run, conn, team):  # noqa: ANN001
    code, out, err = run(
        "assign", "C00001", "C00002", "C00003", "--to", "bruno", "--reason", "French desk",
        "--as", "lena",
    )  # fmt: skip
    assert code == 0, err
    assert "2 account(s) assigned to bruno" in out
    assert "1 account(s) left where they are: bruno does not speak their language (es 1)" in err
    assert [owner(conn, team[k]) for k in ("c0", "c1", "c2")] == ["bruno", "bruno", "alice"]
    # only accounts it cannot serve: refused, nothing changed, audited
    code, out, err = run("assign", "C00005", "--to", "bruno", "--reason", "x", "--as", "lena")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "de 1" in err and "--any-language" in err
    assert owner(conn, team["c4"]) == "alice"
    assert (
        conn.execute(
            "SELECT result FROM audit_log WHERE action = 'assign' ORDER BY id DESC LIMIT 1"
        ).fetchone()[0]
        == "refused"
    )
    # --any-language gives it anyway
    code, out, err = run(
        "assign", "C00005", "--to", "bruno", "--reason", "x", "--any-language", "--as", "lena"
    )
    assert (code, err) == (0, "") and owner(conn, team["c4"]) == "bruno"


def test_assign_from_moves_only_what_the_target_speaks(run, conn, team):  # noqa: ANN001
    code, out, err = run("assign", "--from", "alice", "--to", "carmen", "--reason", "r",
                         "--as", "lena")  # fmt: skip
    assert code == 0, err
    assert "3 account(s) of alice assigned to carmen" in out
    assert "2 account(s) left where they are: carmen does not speak their language" in err
    assert [owner(conn, team[f"c{n}"]) for n in range(5)] == [
        "carmen", "alice", "carmen", "carmen", "alice"
    ]  # fmt: skip
    n = conn.execute(
        "SELECT COUNT(*) FROM assignments a JOIN collectors k ON k.id = a.assigned_by "
        "WHERE k.username = 'lena' AND a.reason = 'r'"
    ).fetchone()[0]
    assert n == 3


def test_routing_off_in_the_configuration(run, conn, team, tmp_path):  # noqa: ANN001
    cfg = tmp_path / "config.toml"
    cfg.write_text("[routing]\nby_language = false\n")
    code, out, err = run("--config", str(cfg), "assign", "C00005", "--to", "bruno",
                         "--reason", "x", "--as", "lena")  # fmt: skip
    assert (code, err) == (0, "") and owner(conn, team["c4"]) == "bruno"


def test_routing_check_lists_and_refuses_a_collector(run, team):  # noqa: ANN001
    code, out, err = run("routing", "check", "--as", "lena")
    assert code == 0, err
    assert "de: 1 open account(s) no active collector speaks ($1,000.00)" in out
    assert "alice holds 2 account(s) in es without speaking it" in out
    code, out, err = run("routing", "check", "--as", "bruno")
    assert code == 1 and out == ""
    assert err.strip() == (
        "dunning: bruno (agent) ne peut pas vérifier le routage par langue : il faut le rôle "
        "chef d'équipe ou admin"
    )


def test_the_import_collector_column_follows_routing(tmp_path, conn, team, clock, settings):  # noqa: ANN001
    from dunning.db.ledger.importer import import_file
    from dunning.db.ledger.options import ImportOptions

    f = tmp_path / "customers.csv"
    f.write_text(
        "customer_id,name,country,currency,language,collector\n"
        "N1,Nouveau,CA,CAD,fr,bruno\nN2,Nuevo,MX,MXN,es,bruno\n",
        encoding="utf-8",
    )
    result = import_file(conn, clock, settings, f, ImportOptions(kind="customers"))
    assert result.assigned == 1 and result.not_routed == {"es": 1}
    refs = dict(conn.execute(
        "SELECT c.external_ref, k.username FROM customers c JOIN queue q ON q.customer_id = c.id "
        "LEFT JOIN collectors k ON k.id = q.collector_id WHERE c.external_ref IN ('N1', 'N2')"
    ).fetchall())  # fmt: skip
    assert refs == {"N1": "bruno", "N2": None}


def test_routing_check_by_the_real_entry_point(db_path, team):  # noqa: ANN001
    done = subprocess.run(
        [sys.executable, "-m", "dunning", "--db", str(db_path), "routing", "check", "--json",
         "--as", "lena"],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '"language": "de"' in done.stdout and '"misrouted"' in done.stdout
