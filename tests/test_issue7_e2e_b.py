"""Issue 7, sections 5-8, end to end as a hostile tester: the real ``dunning`` command in
subprocesses (``python -m dunning``), on files generated in a tmp dir, real processes for
the locks. Each test names the "Seen:" line or the attack it tries."""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAYLOAD = "=cmd|' /C calc'!A0"


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("DUNNING_") and k not in ("LOGNAME", "USER")
    }
    env.update(
        PYTHONPATH=str(ROOT), HOME=str(home), XDG_DATA_HOME=str(home / "data"), TZ="UTC",
        LANG="C.UTF-8", LC_ALL="C.UTF-8",
    )  # fmt: skip
    env.update(extra)
    return env


class Box:
    """A database built through the real command, and the command to run on it."""

    def __init__(self, root: Path) -> None:
        self.dir = root
        self.db = root / "b.db"

    def run(self, *argv: str, env: dict[str, str] | None = None, db: bool = True) -> tuple:
        cmd = [sys.executable, "-m", "dunning", *(["--db", str(self.db)] if db else []), *argv]
        proc = subprocess.run(
            cmd, cwd=self.dir, capture_output=True, text=True, timeout=60,
            env={**_env(self.dir), **(env or {})},
        )  # fmt: skip
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc.returncode, proc.stdout, proc.stderr

    def ok(self, *argv: str) -> str:
        code, out, err = self.run(*argv)
        assert code == 0, (argv, out, err)
        return out

    def write(self, name: str, text: str) -> Path:
        path = self.dir / name
        path.write_text(text, encoding="utf-8")
        return path

    def sql(self, query: str, *params: object) -> list[tuple]:
        conn = sqlite3.connect(self.db)
        try:
            return conn.execute(query, params).fetchall()
        finally:
            conn.close()


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Box:
    b = Box(tmp_path_factory.mktemp("issue7b"))
    b.ok("init")
    b.ok("collectors", "add", "alice")
    b.ok("collectors", "add", "bob", '--display-name==HYPERLINK("http://x","y")')
    b.ok("collectors", "add", "lena", "--role", "lead", "--display-name=-2+3")
    b.write(
        "cust.csv",
        "customer_ref,name,phone,collector\n"
        f'C1,"{PAYLOAD.replace(chr(34), chr(34) * 2)}",+12125550100,alice\n'
        'C2,"  =HYPERLINK(""http://evil"")",+12125550101,bob\n'
        'C3,"""=1+1",+12125550102,alice\n'
        "C4,@SUM(A1),+12125550103,bob\n"
        'C5,"\t=1+1",+12125550104,alice\n'
        "C6,-1+1,+12125550105,alice\n",
    )
    b.ok("import", "customers", "cust.csv", "-q")
    b.write(
        "inv.csv",
        "customer_ref,number,issue_date,due_date,amount\n"
        "C1,=1+2,2026-09-01,2026-10-01,100.00\n"
        "C2,+INV2,2026-09-01,2026-10-01,200.00\n"
        "C3,@x,2026-09-01,2026-10-01,300.00\n"
        "C4,-5,2026-09-01,2026-10-01,-50.00\n"
        "C4,I4,2026-09-01,2026-10-01,400\n"
        "C5,I5,2026-09-01,2026-10-01,500\n"
        "C6,I6,2026-09-01,2026-10-01,500\n",
    )
    b.ok("import", "invoices", "inv.csv", "-q")
    b.ok("log", "C1", "no_answer", "--as", "alice", "--note", PAYLOAD)
    b.ok("log", "C1", "paid", "--as", "alice", "--amount", "10", "--date", "today",
         "--reference", '=HYPERLINK("http://a")', "--note", '  "=1+1')  # fmt: skip
    b.ok("log", "C6", "note", "--as", "alice", "--note", "   =1+1")
    b.ok("log", "C6", "note", "--as", "alice", "--note", "\r=2+2")
    b.ok("log", "C2", "note", "--as", "lena", "--note", "@SUM(1)", "--why==why()")
    b.ok("log", "C5", "skip", "--as", "alice", "--reason=-1+cmd")
    b.ok("log", "C3", "dispute", "--as", "alice", "--invoices", "@x", "--reason", "other",
         "--department", "billing", "--note", "x")  # fmt: skip
    b.ok("assign", "C4", "--to", "alice", "--reason==reassign()", "--as", "lena")
    # a promise, and a void of it, so the history tables the tamper tests try hold rows
    # whatever tests run before them
    b.ok("log", "C6", "promise_to_pay", "--as", "alice", "--amount", "100", "--date", "+3d")
    (act,) = b.sql("SELECT MAX(id) FROM activities")[0]
    b.ok("void", str(act), "--reason", "=typo()", "--as", "alice")
    return b


def _formula_cells(text: str) -> list[str]:
    """The cells of a CSV a spreadsheet would evaluate (OWASP: = + - @ tab CR), numbers aside."""
    bad = []
    for row in csv.reader(io.StringIO(text)):
        for value in row:
            stripped = value.lstrip(" ")
            if stripped[:1] in ("=", "+", "-", "@", "\t", "\r"):
                try:
                    float(stripped.replace(",", ""))
                except ValueError:
                    bad.append(value)
    return bad


# -- 5. Files that are formulas ----------------------------------------------------------


def test_seen_export_activities_csv_writes_no_formula_in_any_column(box: Box) -> None:
    out = box.ok("export", "activities")
    assert _formula_cells(out) == []
    assert "'" + PAYLOAD in out  # the customer name and the note, quoted
    assert "'=1+1" in out and "'=2+2" in out  # leading spaces and CR did not hide them
    assert "'=HYPERLINK" in out and "'@SUM(1)" in out and "'-1+1" in out


def test_seen_report_aging_csv_writes_no_formula(box: Box) -> None:
    out = box.ok("report", "aging", "--format", "csv")
    assert _formula_cells(out) == []
    assert "'@SUM(A1)" in out and "-50.00" in out  # a credit stays a number


def test_attack_export_audit_csv_neutralizes_names_reasons_and_targets(box: Box) -> None:
    box.run("collectors", "add", "=evil")  # refused, but its name is in the audit
    out = box.ok("export", "audit")
    assert _formula_cells(out) == []
    assert "'=evil" in out


def test_attack_jsonl_export_stays_exact(box: Box) -> None:
    out = box.ok("export", "activities", "--format", "jsonl")
    notes = {json.loads(line)["note"] for line in out.splitlines()}
    assert PAYLOAD in notes


# -- 6. Bounded work for any input ------------------------------------------------------


def _xlsx(path: Path, rows: list[list[str]], *, formula: bool = False, sheets: int = 1) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    if formula:
        ws["B2"] = "=1+1"
    for i in range(sheets - 1):
        wb.create_sheet(f"s{i}")
    wb.save(path)


@pytest.fixture(scope="module")
def hostile(box: Box) -> dict[str, Path]:
    d = box.dir / "hostile"
    d.mkdir()
    good = d / "good.xlsx"
    _xlsx(good, [["customer_ref", "name"], ["X1", "ok"]])
    files = {}
    files["formula"] = d / "formula.xlsx"
    _xlsx(files["formula"], [["customer_ref", "name"], ["X1", "x"]], formula=True)
    files["many_sheets"] = d / "many.xlsx"
    _xlsx(files["many_sheets"], [["customer_ref", "name"], ["X1", "ok"]], sheets=400)
    src = zipfile.ZipFile(good)
    files["traversal"] = d / "trav.xlsx"
    with zipfile.ZipFile(files["traversal"], "w") as z:
        for n in src.namelist():
            z.writestr(n, src.read(n))
        z.writestr("../../../../pwned.txt", "x")
    files["nested"] = d / "nested.xlsx"
    with zipfile.ZipFile(files["nested"], "w") as z:
        z.writestr("inner.xlsx", good.read_bytes())
    data = bytearray(good.read_bytes())  # the "encrypted" flag on every entry
    for sig, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = data.find(sig)
        while i >= 0:
            data[i + at] |= 1
            i = data.find(sig, i + 4)
    files["encrypted"] = d / "enc.xlsx"
    files["encrypted"].write_bytes(bytes(data))
    files["ole_encrypted"] = d / "ole.xlsx"  # what Excel writes for a password-protected file
    files["ole_encrypted"].write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 504)
    files["utf16"] = d / "u16.csv"
    files["utf16"].write_bytes("customer_ref,name\nU1,=1+1\n".encode("utf-16"))
    files["bom_nul"] = d / "bomnul.csv"
    files["bom_nul"].write_bytes(b"\xef\xbb\xbfcustomer_ref,name\nN1,a\x00b\n")
    return files


@pytest.mark.parametrize(
    "name, codes",
    [
        ("formula", (1,)),  # a formula cell is never read as text to store
        ("many_sheets", (0,)),
        ("traversal", (0, 1, 2)),
        ("nested", (2,)),
        ("encrypted", (2,)),
        ("ole_encrypted", (2,)),
        ("utf16", (0,)),
        ("bom_nul", (2,)),
    ],
)
def test_attack_hostile_import_files_are_one_line_and_bounded(
    box: Box, hostile: dict[str, Path], name: str, codes: tuple[int, ...]
) -> None:
    started = time.monotonic()
    code, _out, err = box.run("import", "customers", str(hostile[name]), "--dry-run")
    assert code in codes, err
    assert time.monotonic() - started < 20
    assert not list(box.dir.rglob("pwned.txt")) and not Path("/pwned.txt").exists()
    if code:
        assert err.strip().splitlines()[-1].startswith("dunning: ")


@pytest.mark.parametrize(
    "line",
    [
        "lease_minutes = [1, 2]",
        "lease_minutes = {a = 1}",
        "lease_minutes = true",
        "lease_minutes = 1e400",
        "lease_minutes = nan",
        "lease_minutes = -5",
        "business_hours = [true, 18]",
        "[weights]\nbalance = inf",
        "[fx_to_base]\nUSD = nan",
        "team_tz = 5",
    ],
)
def test_attack_config_values_of_the_wrong_toml_type_are_one_line(box: Box, line: str) -> None:
    config = box.write("bad.toml", line + "\n")
    code, out, err = box.run("--config", str(config), "history", "C1")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "bad.toml" in err


@pytest.mark.parametrize(
    "value", ["abc", "nan", "inf", "-1", "0", "0.001", "1e400", "\x1b]0;x\x07"]
)
def test_attack_hostile_dunning_lock_wait_is_said_at_start(box: Box, value: str) -> None:
    # before: ignored until a write had to wait, then the command failed mid-wait
    code, out, err = box.run("history", "C1", env={"DUNNING_LOCK_WAIT": value})
    assert code == 2 and out == ""
    assert "DUNNING_LOCK_WAIT=" in err and "\x1b" not in err


@pytest.fixture
def specials(box: Box) -> dict[str, Path]:
    d = box.dir / "specials"
    d.mkdir(exist_ok=True)
    fifo = d / "fifo"
    if not fifo.exists():
        os.mkfifo(fifo)
    target = d / "target.db"
    target.write_bytes(b"")
    link = d / "link.db"
    if not link.is_symlink():
        link.symlink_to(target)
    found = {"fifo": fifo, "link": link}
    if os.getuid() == 0:
        dev = d / "null"
        if not dev.exists():
            os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a /dev/null of our own
        found["device"] = dev
    return found


@pytest.mark.parametrize("kind", ["fifo", "link", "device"])
@pytest.mark.parametrize("force", [False, True])
def test_attack_backup_force_onto_a_device_fifo_or_link_is_refused(
    box: Box, specials: dict[str, Path], kind: str, force: bool
) -> None:
    # before: `dunning backup /dev/null --force` as root replaced /dev/null with the ledger
    if kind not in specials:
        pytest.skip("mknod needs root")
    dest = specials[kind]
    before = dest.lstat()
    code, _out, err = box.run("backup", str(dest), *(["--force"] if force else []))
    assert code == 2 and "not a regular file" in err
    after = dest.lstat()
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    assert not list(dest.parent.glob("*.partial"))


# -- 8. An audit nobody can quietly rewrite ---------------------------------------------


def test_seen_every_legitimate_update_path_still_works_through_the_command(box: Box) -> None:
    """void, a promise superseded then restored by a void, money deciding a promise, a
    snapshot re-import closing invoices, a reassignment, collectors set: none refused."""
    box.ok("collectors", "set", "alice", "--tz", "America/Toronto")
    box.ok("collectors", "set", "alice", "--tz", "", "--as", "alice")
    box.ok("log", "C4", "promise_to_pay", "--as", "alice", "--amount", "100", "--date", "+2d")
    out = box.ok("log", "C4", "promise_to_pay", "--as", "alice", "--amount", "120",
                 "--date", "+3d", "--json")  # fmt: skip
    second = json.loads(out)["activity_id"]
    box.ok("void", str(second), "--as", "alice", "--reason", "mistake")
    today = time.strftime("%Y-%m-%d", time.gmtime())
    box.write("pay.csv", f"customer_ref,invoice,amount,paid_on,payment_ref\nC4,I4,100,{today},P1\n")
    assert "1 promises decided" in box.ok("import", "payments", "pay.csv")
    statuses = box.sql("SELECT status FROM promises WHERE customer_id = 4 ORDER BY id")
    assert statuses == [("kept",), ("cancelled",)]
    snapshot = box.write(
        "snap.csv",
        "customer_ref,number,issue_date,due_date,amount\n"
        + "".join(f"C{i},I{i},2026-09-01,2026-10-01,500\n" for i in (5, 6)),
    )
    assert "closed" in box.ok("import", "invoices", str(snapshot), "--snapshot")
    box.ok("assign", "C6", "--to", "bob", "--reason", "cover", "--as", "lena")
    box.ok("queue", "refresh")
    assert box.run("export", "audit")[2] == ""  # no guard missing, no warning


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE activities SET note = 'x' WHERE id = 1",
        "DELETE FROM activities",
        "DELETE FROM assignments",
        "UPDATE audit_log SET os_user = 'lena'",
        "DELETE FROM audit_log",
        "REPLACE INTO audit_log SELECT * FROM audit_log WHERE id = 1",
        "UPDATE promises SET amount_minor = 1",
        "UPDATE voids SET reason = 'r'",
        # before m013: the account's calls and notes left every export, no guard dropped
        "DELETE FROM customers WHERE external_ref = 'C1'",
        "UPDATE customers SET id = 999 WHERE external_ref = 'C1'",
        # before m013: alice's outcomes became lena2's
        "UPDATE collectors SET username = 'lena2' WHERE username = 'alice'",
        "DELETE FROM collectors WHERE username = 'bob'",
    ],
)
def test_attack_tampering_in_the_sqlite3_shell_is_refused(
    box: Box, statement: str, sqlite3_shell: None
) -> None:
    seen = (
        "SELECT count(*), group_concat(c.external_ref || k.username || a.note) FROM activities a "
        "JOIN customers c ON c.id = a.customer_id JOIN collectors k ON k.id = a.collector_id"
    )
    before = box.sql(seen)
    proc = subprocess.run(
        ["sqlite3", str(box.db), statement], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode != 0 and "append-only" in proc.stderr
    assert box.sql(seen) == before


@pytest.fixture(scope="module")
def sqlite3_shell() -> None:
    """Only the shell tamper test needs the sqlite3 program: skip it alone without one."""
    if subprocess.run(["which", "sqlite3"], capture_output=True).returncode:
        pytest.skip("no sqlite3 shell")


@pytest.mark.parametrize("trigger", ["activities_no_update", "customers_no_delete"])
def test_seen_a_dropped_trigger_is_named_by_export_audit(box: Box, trigger: str) -> None:
    copy = box.dir / f"dropped-{trigger}.db"
    copy.write_bytes(b"")
    src, dst = sqlite3.connect(box.db), sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.execute(f"DROP TRIGGER {trigger}")
    dst.commit()
    dst.close()
    code, out, err = Box(box.dir).run("--db", str(copy), "export", "audit", db=False)
    assert code == 0 and trigger in err and "not protected" in err
    # the export's own audit row keeps what was missing: the next export shows it
    _code, again, _err = Box(box.dir).run("--db", str(copy), "export", "audit", db=False)
    assert trigger in again


def test_seen_the_audit_names_the_real_os_user_of_each_admin_command(box: Box) -> None:
    import pwd

    me = pwd.getpwuid(os.getuid()).pw_name
    box.ok("backup", str(box.dir / "audit-check.db"))
    box.ok("collectors", "add", "carol")
    box.ok("collectors", "set", "carol", "--tz", "UTC")
    box.ok("export", "activities")
    box.ok("report", "aging")
    rows = list(csv.DictReader(io.StringIO(box.ok("export", "audit"))))
    logged = [r for r in rows if r["source"] == "audit_log"]
    for action in (
        "init", "import", "export", "report", "backup", "collectors.add", "collectors.set",
        "assign",
    ):  # fmt: skip
        mine = [r for r in logged if r["action"] == action]
        assert mine, action
        assert {r["os_user"] for r in mine} == {me}, action
    # an environment that lies about the user changes nothing
    code, _out, _err = box.run("export", "audit", env={"LOGNAME": "lena", "USER": "lena"})
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(box.ok("export", "audit"))))
    assert {r["os_user"] for r in rows if r["source"] == "audit_log"} == {me}


# -- 7. Never write into the void -------------------------------------------------------


@pytest.mark.parametrize("which", ["live", "wal", "source"])
def test_attack_rejects_file_onto_the_live_database_or_the_source_is_refused(
    tmp_path: Path, which: str
) -> None:
    # before: `import --skip-invalid --rejects ledger.db` renamed the rejects CSV over the
    # live database (the whole ledger gone); over the -wal, the commit went to a lost file
    b = Box(tmp_path)
    b.ok("init")
    source = b.write("rj.csv", "customer_ref,name\nZ1,ok\nZ2,\n")
    dest = {"live": b.db, "wal": Path(f"{b.db}-wal"), "source": source}[which]
    before = source.read_bytes()
    code, out, err = b.run("import", "customers", "rj.csv", "--skip-invalid", "--rejects",
                           str(dest))  # fmt: skip
    assert code == 2 and "choose another name" in err and "written" not in out
    assert source.read_bytes() == before
    assert b.sql("SELECT count(*) FROM customers") == [(0,)]  # still the database, unchanged
    assert b.sql("SELECT result FROM audit_log WHERE action = 'import'") == [("failed",)]


def test_attack_a_stale_partial_that_is_not_ours_is_left_alone(box: Box) -> None:
    d = box.dir / "bk-shared"
    d.mkdir()
    precious = box.dir / "precious.db"
    precious.write_bytes(box.db.read_bytes()[:4096])
    (d / "planted.db.partial").symlink_to(precious)  # a link to someone's file
    ours = d / "killed.db.partial"
    ours.write_bytes(box.db.read_bytes()[:4096])  # a backup killed earlier: removed
    theirs = d / "theirs.db.partial"
    theirs.write_bytes(box.db.read_bytes()[:4096])
    if os.getuid() == 0:
        os.chown(theirs, 65534, -1)  # another user's
    code, _out, err = box.run("backup", str(d))
    assert code == 0, err
    assert not ours.exists() and precious.exists() and (d / "planted.db.partial").is_symlink()
    assert theirs.exists() == (os.getuid() == 0)


def _declared_sheets_xlsx(path: Path, n: int) -> None:
    """A workbook declaring ``n`` sheets that all point to one small part (~10 bytes a
    sheet once compressed): openpyxl builds every one of them."""
    ns = "http://schemas.openxmlformats.org"
    rel = f"{ns}/officeDocument/2006/relationships"
    sheet = (
        f'<worksheet xmlns="{ns}/spreadsheetml/2006/main"><sheetData><row r="1">'
        '<c r="A1" t="inlineStr"><is><t>customer_ref</t></is></c><c r="B1" t="inlineStr">'
        '<is><t>name</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>Q1</t></is>'
        '</c><c r="B2" t="inlineStr"><is><t>ok</t></is></c></row></sheetData></worksheet>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            f'<Types xmlns="{ns}/package/2006/content-types"><Default Extension="rels" '
            f'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/><Override '
            'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
            'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.worksheet+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{ns}/package/2006/relationships"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{ns}/spreadsheetml/2006/main" xmlns:r="{rel}"><sheets>'
            + "".join(f'<sheet name="s{i}" sheetId="{i + 1}" r:id="rId{i + 1}"/>' for i in range(n))
            + "</sheets></workbook>",
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{ns}/package/2006/relationships">'
            + "".join(
                f'<Relationship Id="rId{i + 1}" Type="{rel}/worksheet" '
                'Target="worksheets/sheet1.xml"/>'
                for i in range(n)
            )
            + "</Relationships>",
        )
        z.writestr("xl/worksheets/sheet1.xml", sheet)


def test_attack_an_xlsx_declaring_100000_sheets_is_refused_at_once(box: Box) -> None:
    # before: 1 MB of workbook.xml took 24 s of CPU and 190 MB to open
    path = box.dir / "sheets100k.xlsx"
    _declared_sheets_xlsx(path, 100_000)
    started = time.monotonic()
    code, _out, err = box.run("import", "customers", str(path), "--dry-run")
    assert code == 2 and "declares more than 1,000 sheets" in err
    assert time.monotonic() - started < 10


def test_attack_an_unknown_sheet_among_many_is_named_in_one_short_line(box: Box) -> None:
    path = box.dir / "sheets900.xlsx"
    _declared_sheets_xlsx(path, 900)
    code, _out, err = box.run("import", "customers", str(path), "--sheet", "nope", "--dry-run")
    assert code == 2 and "no sheet 'nope'" in err and len(err) < 600


@pytest.mark.parametrize("encoding", ["base64", "hex", "zlib", "rot13"])
def test_attack_a_codec_that_is_not_a_text_encoding_is_one_line(box: Box, encoding: str) -> None:
    # before: LookupError traceback ("'base64' is not a text encoding")
    code, _out, err = box.run("import", "customers", "cust.csv", "--encoding", encoding)
    assert code == 2 and f"--encoding '{encoding}'" in err


def test_attack_an_export_never_replaces_a_database_whatever_its_name(box: Box) -> None:
    """`-o live.csv` where the ledger is called live.csv, or its -wal: refused, unchanged."""
    ledger = box.dir / "ledger.csv"
    src, dst = sqlite3.connect(box.db), sqlite3.connect(ledger)
    src.backup(dst)
    src.close()
    dst.close()
    before = ledger.read_bytes()
    for argv in (["export", "activities", "-o"], ["report", "aging", "-o"]):
        code, _out, err = box.run(*argv, str(ledger))
        assert code != 0 and "never replaces it" in err, (argv, err)
        for dest in (box.db, Path(f"{box.db}-wal")):  # refused by their names already
            code, _out, err = box.run(*argv, str(dest))
            assert code != 0 and "not a format this command writes" in err, (dest, argv, err)
    assert ledger.read_bytes() == before
    assert box.sql("SELECT COUNT(*) FROM customers")[0][0] > 0
