"""``dunning templates list|show|check`` as a user runs them: exit codes, what is printed,
a broken override named by file:line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from dunning.cli import main
from dunning.clock import FixedClock
from dunning.demo.build import build_demo
from dunning.letters.kinds import KINDS
from dunning.letters.render import BUILTIN


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("letters-cli") / "demo.db"
    build_demo(path, customers=300, clock=FixedClock())
    return path


@pytest.fixture
def run(capsys):
    def go(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv), clock=FixedClock())
        out, err = capsys.readouterr()
        return code, out, err

    return go


def _config(tmp_path: Path, folder: Path | None = None, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    lines = ["[letters]", 'company_name = "Northwind Supply Co."', 'email = "ar@northwind.example"']
    if folder is not None:
        lines.append(f'templates = "{folder}"')
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def test_check_renders_every_built_in_template(run):
    code, out, err = run("templates", "check")
    assert code == 0, err
    assert "8 kinds in 3 languages: all good" in out


def test_check_fails_on_an_undefined_name_with_file_and_line(run, tmp_path):
    folder = tmp_path / "tpl"
    (folder / "fr").mkdir(parents=True)
    broken = folder / "fr" / "payment_plan.html"
    broken.write_text("<p>\n{{ plan.count }}\n{{ plan.instalmentz }}</p>\n", encoding="utf-8")
    (folder / "fr" / "notes.md").write_text("mine", encoding="utf-8")
    code, out, err = run("--config", str(_config(tmp_path, folder)), "templates", "check")
    assert code == 1
    assert f"{broken}:3: undefined name:" in out and "instalmentz" in out
    assert "fr/notes.md: not a template name" in out
    assert "Traceback" not in out + err


def test_a_syntax_error_in_a_shared_piece_is_named_too(run, tmp_path):
    folder = tmp_path / "tpl"
    (folder / "es").mkdir(parents=True)
    broken = folder / "es" / "_letter.txt"
    broken.write_text("{% block body %}\nHola {{ contact.name }\n", encoding="utf-8")
    code, out, err = run("--config", str(_config(tmp_path, folder)), "templates", "check")
    assert code == 1
    assert f"{broken}:2: syntax error" in out
    assert "Traceback" not in out + err
    assert "never read" not in out  # a layout is read (by every Spanish text body)


def test_check_names_an_old_common_override_as_never_read(run, tmp_path):
    folder = tmp_path / "tpl"
    (folder / "fr").mkdir(parents=True)
    (folder / "fr" / "_common.html").write_text("{% macro greeting() %}Salut{% endmacro %}\n")
    layout = folder / "fr" / "_letter.html"
    layout.write_text(
        (BUILTIN / "fr" / "_letter.html")
        .read_text(encoding="utf-8")
        .replace("{{ company.name }}</p>", "{{ company.nom }}</p>", 1),
        encoding="utf-8",
    )
    code, out, err = run("--config", str(_config(tmp_path, folder)), "templates", "check")
    assert code == 1, out
    assert f"{folder}/fr/_common.html: no kind's template extends, includes or imports it" in out
    assert "_letter.html: no kind" not in out
    line = layout.read_text(encoding="utf-8").split("{{ company.nom }}")[0].count("\n") + 1
    assert f"{layout}:{line}: undefined name:" in out and "nom" in out  # the layout's line
    assert "Traceback" not in out + err
    # an old override kind file that still imports its _common file: both are read
    folder = tmp_path / "tpl2"
    (folder / "fr").mkdir(parents=True)
    (folder / "fr" / "_common.html").write_text("{% macro greeting() %}Salut{% endmacro %}\n")
    (folder / "fr" / "reminder_1.html").write_text(
        '{% import "fr/_common.html" as c with context %}{{ c.greeting() }}\n'
    )
    code, out, err = run("--config", str(_config(tmp_path, folder)), "templates", "check")
    assert code == 0, out
    assert "never read" not in out


def test_list_says_which_templates_are_overridden(run, tmp_path):
    folder = tmp_path / "tpl"
    (folder / "en").mkdir(parents=True)
    (folder / "en" / "reminder_2.subject").write_text("Overdue: {{ customer.ref }}\n")
    code, out, _ = run("--config", str(_config(tmp_path, folder)), "templates", "list")
    assert code == 0
    lines = out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("reminder_2 "))
    block = "\n".join(lines[at + 1 : at + 4])
    assert f"en: overridden: {folder / 'en' / 'reminder_2.subject'}" in block
    assert "fr: built-in" in block
    # an overridden layout is named on the line of every kind that extends it
    (folder / "fr").mkdir()
    (folder / "fr" / "_reminder.html").write_text('{% extends "fr/_letter.html" %}\n')
    code, out, _ = run("--config", str(_config(tmp_path, folder)), "templates", "list")
    lines = out.splitlines()
    for kind in KINDS:
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{kind} "))
        fr = lines[at + 2]
        assert fr.startswith("    fr: ")
        if kind.startswith("reminder_"):
            assert fr == f"    fr: overridden: {folder / 'fr' / '_reminder.html'}"
        else:
            assert fr == "    fr: built-in"


def test_show_renders_an_account_in_the_language_asked(run, demo_db, tmp_path):
    import sqlite3

    conn = sqlite3.connect(demo_db)
    ref, amount = conn.execute(
        "SELECT c.external_ref, p.amount_minor FROM promises p JOIN customers c "
        "ON c.id = p.customer_id WHERE p.plan_ref IS NULL AND p.status != 'cancelled' "
        "AND c.currency = 'CAD' ORDER BY p.id DESC LIMIT 1"
    ).fetchone()
    conn.close()
    cfg = _config(tmp_path)
    args = ["--db", str(demo_db), "--config", str(cfg), "templates", "show"]
    code, out, err = run(*args, "promise_confirmation", "--account", ref, "--lang", "fr")
    assert code == 0, err
    assert out.startswith("Subject: Confirmation de votre paiement")
    assert "locale fr_CA" in out and "Northwind Supply Co." in out
    whole, cents = divmod(amount, 100)
    assert f"{whole:,}".replace(",", "\u00a0") + f",{cents:02d}\u00a0$" in out
    code, out, _ = run(
        *args, "promise_confirmation", "--account", ref, "--locale", "fr_FR", "--part", "subject"
    )
    assert code == 0 and "$CA" in out and out.count("\n") == 1


def test_show_refusals_are_one_line(run, demo_db, tmp_path):
    args = ["--db", str(demo_db), "templates", "show"]
    code, _, err = run(*args, "statement", "--account", "NOPE")
    assert code == 2 and "no account 'NOPE'" in err
    code, _, err = run(*args, "statement", "--account", "C0000002", "--locale", "xx_QQ")
    assert code == 2 and "unknown locale 'xx_QQ'" in err
    import sqlite3

    conn = sqlite3.connect(demo_db)
    ref = conn.execute(
        "SELECT external_ref FROM customers c WHERE NOT EXISTS "
        "(SELECT 1 FROM disputes d WHERE d.customer_id = c.id) LIMIT 1"
    ).fetchone()[0]
    conn.close()
    code, _, err = run(*args, "dispute_acknowledgement", "--account", ref)
    assert code == 2 and f"account {ref} has no dispute to write about" in err
    folder = tmp_path / "tpl"
    (folder / "en").mkdir(parents=True)
    (folder / "en" / "statement.txt").write_text("{{ customer.name.__class__ }}\n")
    code, _, err = run(
        "--config", str(_config(tmp_path, folder)), *args, "statement", "--account", "C0000002"
    )
    assert code == 1 and f"{folder / 'en' / 'statement.txt'}:1: not allowed" in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_a_bad_letters_setting_names_the_key(run, tmp_path):
    cfg = _config(tmp_path, extra="")
    cfg.write_text("[letters]\nfinal_demand_days = 0\n")
    code, _, err = run("--config", str(cfg), "templates", "list")
    assert code == 2 and "[letters] final_demand_days" in err
    cfg.write_text("[letters]\ncompany = 'x'\n")
    code, _, err = run("--config", str(cfg), "templates", "list")
    assert code == 2 and "[letters] unknown key 'company'" in err


def test_show_without_an_account_renders_a_demo_account_and_source_prints_the_files(run, tmp_path):
    code, out, err = run("templates", "show", "payment_plan", "--lang", "es", "--part", "text")
    assert code == 0, err
    assert "Según lo acordado, su saldo se pagará en" in out
    folder = tmp_path / "tpl"
    (folder / "fr").mkdir(parents=True)
    (folder / "fr" / "statement.subject").write_text("Relevé \x1b[2J{{ customer.ref }}\n")
    cfg = str(_config(tmp_path, folder))
    code, out, _ = run(
        "--config", cfg, "templates", "show", "statement", "--locale", "fr_CA", "--source"
    )
    assert code == 0
    assert f"== {folder / 'fr' / 'statement.subject'}" in out
    assert "Relevé ␛[2J{{ customer.ref }}" in out  # shown, never sent to the terminal
    assert "statement.txt" in out and "Voici votre relevé de compte" in out
    # and the layouts the kind extends, each once, after the kind's files
    heads = [line for line in out.splitlines() if line.startswith("== ")]
    assert heads == [
        f"== {folder / 'fr' / 'statement.subject'}",
        f"== {BUILTIN / 'fr' / 'statement.txt'}",
        f"== {BUILTIN / 'fr' / '_letter.txt'}",
        f"== {BUILTIN / 'fr' / 'statement.html'}",
        f"== {BUILTIN / 'fr' / '_letter.html'}",
    ]
    assert "Cordialement," in out  # the shared pieces are shown
