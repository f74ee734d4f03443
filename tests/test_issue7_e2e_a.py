"""Issue 7, sections 1 to 4, end to end as a hostile user would try them: real OS users
(useradd, run as root; skipped otherwise), a ledger imported from CSV files by the owner,
the real ``dunning`` command (``dunning.cli.main`` in a forked child that dropped to the
user, as tests/test_identity_os.py explains), and the screen (Textual Pilot) on the same
file. One module-scoped host keeps it fast; tests run in file order (forks before the
screen's threads).

Seen: lines already proven exactly elsewhere (not repeated here):
- 1, the payload in the screen and in a real terminal: test_tui_textsafe (Pilot),
  test_pty_escapes (``python -m dunning`` and the app under a pseudo-terminal)
- 2, ``/`` opens another collector's account and escalates it: test_tui_readonly (here:
  every other path to that screen)
- 3, ``LOGNAME=lena dunning assign``: test_identity_os::test_logname_lena_does_not_make_...
- 3, ``LOGNAME=root collectors add evil --role admin``: test_identity_os::test_logname_root...
- 3, ``DUNNING_SERVICE_ACCOUNT=w01 --as lena`` and any user's ``--as``:
  test_identity_os::test_the_environment_does_not_honour_as
- 3, host commands with no identity check: test_identity_os::test_host_commands_check_...
- 3, ``import customers`` with a ``collector`` column: test_identity_os::test_an_import_...
- 4, the warning with the command that fixes it: test_private::test_an_exposed_database_...
"""

from __future__ import annotations

import grp
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from os_users import needs_root, run_as, share, team, warm_up

pytestmark = needs_root

# an OSC 52 clipboard write, an OSC 0 retitle, a cursor move, a C1 CSI and a bidi override;
# the note also splits one escape sequence across two lines
PAYLOAD = "\x1b]52;c;cHduZWQ=\x1b\\ \x1b]0;pwned\x1b\\ \x1b[5;5Hfake \x9b2J \u202eevil"
NOTE = f"x {PAYLOAD}\n\x1b\n]52;c;aGk=\x07 end"
DANGER = ("\x1b", "\x9b", "\x07", "\u202e", "\x9d")


def assert_terminal_safe(out: str) -> None:
    assert "Traceback" not in out, out
    for ch in DANGER:
        assert ch not in out, (ch, out)


@dataclass
class Host:
    dir: Path
    db: Path
    gid: int
    users: dict[str, tuple[str, int]]

    def name(self, who: str) -> str:
        return self.users[who][0]

    def run(
        self,
        who: str,
        *argv: str,
        env: dict[str, str] | None = None,
        db: Path | None = None,
        umask: int = 0o007,
    ) -> tuple[int, str]:
        name, uid = self.users[who]
        full = ["--db", str(db or self.db), *argv]
        code, out, err = run_as(uid, self.gid, name, full, env or {}, self.dir, umask)
        LAST_STDOUT[0] = out
        return code, out + err

    def query(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        conn = sqlite3.connect(self.db)
        try:
            return [tuple(r) for r in conn.execute(sql, params)]
        finally:
            conn.close()

    def audit(self, action: str) -> dict[str, object]:
        conn = sqlite3.connect(self.db)
        conn.row_factory = sqlite3.Row
        try:
            row = conn.execute(
                "SELECT * FROM audit_log WHERE action = ? ORDER BY id DESC LIMIT 1", (action,)
            ).fetchone()
        finally:
            conn.close()
        assert row is not None, action
        return dict(row)

    def state(self) -> list[list[tuple[object, ...]]]:
        """What an outcome or an assignment changes (claims aside)."""
        return [
            self.query("SELECT * FROM activities ORDER BY id"),
            self.query("SELECT * FROM assignments ORDER BY id"),
            self.query(
                "SELECT customer_id, collector_id, state, next_action_at FROM queue "
                "ORDER BY customer_id"
            ),
            self.query("SELECT id, status FROM customers ORDER BY id"),
        ]


LAST_STDOUT = [""]  # the standard output alone of the last run (JSON)


WARM_UP = (
    ["init", "--admin", "boss"],
    ["collectors", "add", "lena", "--role", "lead"],
    ["import", "customers", "{tmp}/c.csv", "-q"],
    ["import", "invoices", "{tmp}/i.csv", "-q"],
    ["report", "aging", "-o", "{tmp}/a.xlsx"],
    ["report", "aging", "-o", "{tmp}/a.csv"],
    ["export", "activities", "-o", "{tmp}/x.csv"],
    ["backup", "{tmp}/b.db"],
    ["history", "C1"],
    ["history", "C1", "--json"],
    ["search", "Customer"],
    ["next", "--as", "lena"],
    ["log", "C1", "no_answer", "--as", "lena", "--note", "hi", "--next", "+2d"],
    ["log", "C2", "escalated", "--escalation", "agency", "--as", "lena"],
    ["void", "1", "--reason", "x", "--as", "lena"],
    ["assign", "C1", "--to", "boss", "--as", "lena", "--reason", "x"],
    ["history", "C1", "--as", "nobody"],
)


CUSTOMERS = (
    "customer_ref,name,country,currency,phone,collector\n"
    "C1,Customer 1,US,USD,+12125550101,{w01}\n"
    "C2,Customer 2,US,USD,+12125550102,{w01}\n"
    "C3,Customer 3,US,USD,+12125550103,{w01}\n"
    "C4,Customer 4,US,USD,+12125550104,{w02}\n"
    "C5,Customer 5,US,USD,+12125550105,{w02}\n"
    "C6,Customer 6,US,USD,+12125550106,{w02}\n"
)
INVOICES = "customer_ref,invoice_number,amount,currency,issue_date,due_date\n" + "".join(
    f"C{i},INV{i},100.00,USD,2026-09-01,2026-10-01\n" for i in range(1, 7)
)
# an ERP file's hostile cells: escapes in a name, markup, a bidi override in an invoice
HOSTILE = (
    "customer_ref,name,country,currency,phone,collector\n"
    f'E1,"Evil {PAYLOAD} [@click=app.quit]Q[/] [reverse]R[/]",US,USD,+12125550199,{{w01}}\n'
)
HOSTILE_INVOICES = (
    "customer_ref,invoice_number,amount,currency,issue_date,due_date\n"
    'E1,"INV\u202e1-GPJ.exe",10.00,USD,2026-09-01,2026-10-01\n'
)


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    tmp = tmp_path_factory.mktemp("warm")
    (tmp / "c.csv").write_text(CUSTOMERS.format(w01="lena", w02="lena"))
    (tmp / "i.csv").write_text(INVOICES)
    warm_up(tmp / "warm.db", ([a.format(tmp=tmp) for a in argv] for argv in WARM_UP))
    with team("e", ("own", "w01", "w02", "lead", "svc", "x")) as (base, gid, users):
        h = Host(base, base / "dunning.db", gid, users)
        names = {"w01": h.name("w01"), "w02": h.name("w02")}
        for fname, text in (
            ("customers.csv", CUSTOMERS.format(**names)),
            ("invoices.csv", INVOICES),
            ("hostile.csv", HOSTILE.format(**names)),
            ("hostile-invoices.csv", HOSTILE_INVOICES),
        ):
            (base / fname).write_text(text)
            share(base / fname, gid)
        code, out = h.run("own", "init", "--service-account", h.name("svc"), "--admin", "boss")
        assert code == 0, out
        os.chmod(h.db, 0o660)  # shared with the team's group
        for argv in (
            ["collectors", "add", h.name("lead"), "--role", "lead"],
            ["collectors", "add", h.name("w01")],
            ["collectors", "add", h.name("w02")],
            ["import", "customers", str(base / "customers.csv"), "-q"],
            ["import", "invoices", str(base / "invoices.csv"), "-q"],
            ["import", "customers", str(base / "hostile.csv"), "-q"],
            ["import", "invoices", str(base / "hostile-invoices.csv"), "-q"],
        ):
            code, out = h.run("own", *argv)
            assert code == 0, out
        yield h


# -- 1. Nothing from the data reaches the terminal as a control sequence ---------------


def test_s1_a_note_with_osc52_osc0_csi_reaches_no_terminal_in_history_search_next(
    host: Host,
) -> None:
    code, out = host.run("w01", "log", "C1", "no_answer", "--note", NOTE)
    assert code == 0, out
    assert "removed" in out and "control character" in out
    assert_terminal_safe(out)
    stored = host.query("SELECT note FROM activities WHERE note LIKE 'x %'")[0][0]
    assert isinstance(stored, str)
    for ch in DANGER:
        assert ch not in stored
    assert stored.startswith("x ]52;c;cHduZWQ=\\ ]0;pwned\\ [5;5Hfake 2J evil\n")
    for argv in (["history", "C1"], ["search", "Customer"], ["next"]):
        code, out = host.run("w01", *argv)
        assert code == 0, (argv, out)
        assert_terminal_safe(out)
    # --json stays exact (the data as stored) and terminal-safe
    code, out = host.run("w01", "history", "C1", "--json")
    assert code == 0
    assert_terminal_safe(out)
    notes = [e["note"] for e in json.loads(LAST_STDOUT[0])]
    assert stored in notes


def test_s1_a_customer_name_from_an_erp_file_reaches_no_terminal(host: Host) -> None:
    name = str(host.query("SELECT name FROM customers WHERE external_ref = 'E1'")[0][0])
    for ch in DANGER:
        assert ch not in name
    assert "[@click=app.quit]Q[/]" in name  # markup is text, kept as typed
    number = host.query(
        "SELECT number FROM invoices i JOIN customers c ON c.id = i.customer_id "
        "WHERE c.external_ref = 'E1'"
    )
    assert number == [("INV1-GPJ.exe",)]  # the bidi override in the invoice number is gone
    for argv in (["history", "E1"], ["search", "Evil"], ["search", "INV1-GPJ.exe"]):
        code, out = host.run("w01", *argv)
        assert code == 0, (argv, out)
        assert_terminal_safe(out)
        assert "Evil" in out


# -- 2. Only the right person changes an account ----------------------------------------


def test_s2_log_escalated_agency_on_another_collectors_unclaimed_account(host: Host) -> None:
    before = host.state()
    # w01 themself, and the forced-command service account acting as w01 (``--as w07``)
    for who, extra in (("w01", []), ("svc", ["--as", host.name("w01")])):
        code, out = host.run(who, "log", "C5", "escalated", "--escalation", "agency", *extra)
        assert code == 1, out
        assert out.strip().splitlines()[-1] == (
            f"dunning: C5 belongs to {host.name('w02')}: ask a lead to reassign it"
        )
        row = host.audit("log")
        assert (row["os_user"], row["target"], row["result"]) == (host.name(who), "C5", "refused")
    assert host.state() == before


def test_s2_next_plus_365d_parks_someone_elses_account(host: Host) -> None:
    before = host.state()
    code, out = host.run("w01", "log", "C4", "no_answer", "--next", "+365d")
    assert code == 1 and "belongs to" in out, out
    assert host.state() == before
    assert host.audit("log")["result"] == "refused"
    # the lead may, with a reason that is recorded
    code, out = host.run("lead", "log", "C4", "no_answer", "--next", "+2d")
    assert code == 1 and "--reason" in out, out
    assert host.state() == before
    code, out = host.run("lead", "log", "C4", "no_answer", "--next", "+2d", "--reason", "cover")
    assert code == 0, out
    assert host.audit("log")["result"] == "done"
    assert "cover" in str(host.query("SELECT details FROM activities ORDER BY id DESC")[0][0])


def test_s2_an_account_reassigned_under_a_claim_takes_one_outcome_then_none(host: Host) -> None:
    """w01 holds an account (``next``) when the lead gives it to w02: the call's outcome is
    kept (docs: the claim was taken while it was theirs), and nothing after it."""
    code, out = host.run("w01", "next")
    assert code == 0, out
    held = host.query(
        "SELECT c.external_ref FROM queue q JOIN customers c ON c.id = q.customer_id "
        "WHERE q.claimed_by = (SELECT id FROM collectors WHERE username = ?)",
        host.name("w01"),
    )
    assert len(held) == 1, held
    ref = str(held[0][0])
    code, out = host.run("lead", "assign", ref, "--to", host.name("w02"), "--reason", "move")
    assert code == 0, out
    code, out = host.run("w01", "log", ref, "no_answer", "--next", "+1d")
    assert code == 0, out  # the call in progress
    before = host.state()
    code, out = host.run("w01", "log", ref, "escalated", "--escalation", "agency")
    assert code == 1 and "belongs to" in out, out
    assert host.state() == before
    # nor can w01 void what they logged on an account no longer theirs
    act = host.query(
        "SELECT a.id FROM activities a JOIN customers c ON c.id = a.customer_id "
        "WHERE c.external_ref = ? ORDER BY a.id DESC",
        ref,
    )[0][0]
    code, out = host.run("w01", "void", str(act), "--reason", "oops")
    assert code == 1, out
    assert host.query("SELECT COUNT(*) FROM voids WHERE activity_id = ?", act) == [(0,)]


def test_s2_a_collector_voids_nothing_of_anothers(host: Host) -> None:
    code, out = host.run("w02", "log", "C6", "left_message", "--note", "w02's call")
    assert code == 0, out
    act = host.query("SELECT id FROM activities ORDER BY id DESC")[0][0]
    code, out = host.run("w01", "void", str(act), "--reason", "mine now")
    assert code == 1 and "only a lead can void it" in out, out
    assert host.query("SELECT COUNT(*) FROM voids WHERE activity_id = ?", act) == [(0,)]


# -- 3. Identity that the environment cannot forge (beyond test_identity_os) -----------


def test_s3_as_through_a_symlink_the_collector_owns(host: Host) -> None:
    mine = host.dir / "w01-dir"
    mine.mkdir()
    os.chown(mine, host.users["w01"][1], host.gid)
    link = mine / "mine.db"
    os.symlink(host.db, link)
    os.lchown(link, host.users["w01"][1], host.gid)
    before = host.state()
    code, out = host.run(
        "w01", "assign", "C5", "--to", host.name("w01"), "--as", host.name("lead"),
        "--reason", "x", db=link,
    )  # fmt: skip
    assert code == 1 and "--as is honoured only" in out, out
    assert host.state() == before


def test_s3_home_xdg_sudo_variables_widen_nothing(host: Host) -> None:
    fake = host.dir / "fake-home"
    (fake / ".config" / "dunning").mkdir(parents=True)
    (fake / ".config" / "dunning" / "config.toml").write_text("lease_minutes = 15\n")
    os.chown(fake, host.users["w01"][1], host.gid)
    before = host.state()
    env = {
        "HOME": str(fake), "XDG_CONFIG_HOME": str(fake / ".config"),
        "XDG_DATA_HOME": str(fake), "LOGNAME": "root", "USER": "root",
        "SUDO_USER": host.name("own"), "SUDO_UID": "0", "DUNNING_AS": host.name("lead"),
        "DUNNING_SERVICE_ACCOUNT": host.name("w01"),
    }  # fmt: skip
    code, out = host.run("w01", "assign", "C5", "--to", host.name("w01"), "--reason", "x", env=env)
    assert code == 1, out
    assert "Traceback" not in out
    assert host.state() == before


def test_s3_db_pointing_at_another_users_private_file(host: Host) -> None:
    code, out = host.run("lead", "backup", str(host.dir / "lead-private.db"))
    assert code == 1  # a lead backs nothing up
    private = host.dir / "own-private.db"
    code, out = host.run("own", "init", "--admin", "boss", db=private, umask=0)
    assert code == 0, out
    code, out = host.run("w01", "history", "C1", db=private)
    assert code == 1, out
    assert "Traceback" not in out and len(out.strip().splitlines()) == 1, out
    assert str(private) in out


# -- 4. Private files --------------------------------------------------------------------


def test_s4_database_wal_shm_backups_exports_reports_are_0600_whatever_the_umask(
    host: Host,
) -> None:
    own = host.dir / "own"
    own.mkdir()
    os.chown(own, host.users["own"][1], host.gid)
    db = own / "ledger.db"
    steps = (
        ["init", "--admin", "boss"],
        ["import", "invoices", str(host.dir / "invoices.csv"), "-q", "--create-customers"],
        ["backup", str(own / "backup.db")],
        ["export", "activities", "-o", str(own / "activities.csv")],
        ["report", "aging", "-o", str(own / "aging.xlsx")],
        ["report", "aging", "--format", "csv", "-o", str(own / "aging.csv")],
    )
    for argv in steps:
        code, out = host.run("own", *argv, db=db, umask=0)
        assert code == 0, (argv, out)
    made = sorted(p.name for p in own.iterdir())
    assert {"ledger.db", "backup.db", "activities.csv", "aging.xlsx", "aging.csv"} <= set(made)
    for p in own.iterdir():
        assert (p.stat().st_mode & 0o777) == 0o600, (p.name, oct(p.stat().st_mode))
    # another local user copies nothing with `dunning backup`
    code, out = host.run("x", "backup", str(host.dir / "stolen.db"), db=db)
    assert code == 1, out
    assert not (host.dir / "stolen.db").exists()
    assert "Traceback" not in out


def test_s4_a_configured_group_gives_0640(host: Host) -> None:
    own = host.dir / "own-group"
    own.mkdir()
    os.chown(own, host.users["own"][1], host.gid)
    config = own / "config.toml"
    group = grp.getgrgid(host.gid).gr_name
    config.write_text(f'file_group = "{group}"\n')
    os.chown(config, host.users["own"][1], host.gid)
    db = own / "ledger.db"
    for argv in (
        ["--config", str(config), "init", "--admin", "boss"],
        ["--config", str(config), "backup", str(own / "b.db")],
        ["--config", str(config), "export", "activities", "-o", str(own / "a.csv")],
    ):
        code, out = host.run("own", *argv, db=db, umask=0)
        assert code == 0, (argv, out)
    for name, want in (("ledger.db", 0o660), ("b.db", 0o640), ("a.csv", 0o640)):
        st = (own / name).stat()
        assert (st.st_mode & 0o777, st.st_gid) == (want, host.gid), name


# -- 1, beyond the literal line: other text a person types -------------------------------


def test_s1_escapes_and_markup_in_a_collectors_display_name(host: Host) -> None:
    shown = "[@click=app.quit]B[/] \x1b]0;pwn\x07 \u202eevil"
    code, out = host.run("own", "collectors", "add", "mk", "--display-name", shown)
    assert code == 0, out
    assert_terminal_safe(out)
    assert "removed 3 control character(s) from the display name" in out
    stored = host.query("SELECT display_name FROM collectors WHERE username = 'mk'")[0][0]
    assert stored == "[@click=app.quit]B[/] ]0;pwn evil"  # markup is text, kept as typed


def test_s1_a_leads_reason_with_escapes_is_stored_clean(host: Host) -> None:
    code, out = host.run(
        "lead", "log", "C6", "no_answer", "--reason", "cover \x1b]52;c;aGk=\x07\u202e x"
    )
    assert code == 0, out
    assert "removed 3 control character(s)" in out
    details = str(host.query("SELECT details FROM activities ORDER BY id DESC")[0][0])
    assert json.loads(details)["lead_reason"] == "cover ]52;c;aGk= x"
    detail = json.loads(str(host.audit("log")["detail"]))
    assert "\x1b" not in json.dumps(detail, ensure_ascii=False)
    assert "\u202e" not in json.dumps(detail, ensure_ascii=False)


def test_s4_rejects_and_the_audit_export_are_0600_too(host: Host) -> None:
    own = host.dir / "own-rejects"
    own.mkdir()
    os.chown(own, host.users["own"][1], host.gid)
    bad = own / "bad.csv"
    bad.write_text("customer_ref,name,country,currency\nB1,Good,US,USD\nB2,Bad,ZZZ,USD\n")
    os.chown(bad, host.users["own"][1], host.gid)
    db = own / "ledger.db"
    for argv in (
        ["init", "--admin", "boss"],
        ["import", "customers", str(bad), "-q", "--skip-invalid"],
        ["export", "audit", "-o", str(own / "audit.csv")],
    ):
        code, out = host.run("own", *argv, db=db, umask=0)
        assert code == 0, (argv, out)
    made = {p.name: p.stat().st_mode & 0o777 for p in own.iterdir() if p != bad}
    assert "bad.rejects.csv" in made and "audit.csv" in made, made
    assert set(made.values()) == {0o600}, made


# -- 2 on the screen: another collector's account is read-only by every path ----------


async def test_s2_the_read_only_screen_by_every_path(host: Host) -> None:
    """`/` opens w02's C5 for w01: every outcome key, Ctrl+S, `u`, history then `v` (void),
    `a` (reassign) and `A` (aging) change nothing; each refusal is audited."""
    from textual.widgets import Static
    from tui_helpers import search_results, settle, wait_until

    from dunning.db.connection import connect
    from dunning.queue.collectors import get_collector
    from dunning.queue.config import Settings
    from dunning.queue.session import WorkSession
    from dunning.tui.app import DunningApp
    from dunning.tui.dialogs.void import VoidDialog
    from dunning.tui.screens.aging import AgingScreen
    from dunning.tui.screens.history import HistoryScreen
    from dunning.tui.screens.work import WorkScreen

    conn = connect(host.db)
    me = get_collector(conn, host.name("w01"))
    conn.close()
    assert me is not None
    code, out = host.run("w02", "log", "C5", "left_message", "--note", "w02 spoke to them")
    assert code == 0, out
    before = host.state()
    voids = host.query("SELECT COUNT(*) FROM voids")
    refused_before = host.query("SELECT COUNT(*) FROM audit_log WHERE result = 'refused'")[0][0]
    app = DunningApp(WorkSession(host.db, me, Settings()))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"Customer 5")
        await wait_until(pilot, lambda: search_results(pilot) > 0)
        await pilot.press("enter")
        screen = await settle(pilot)
        assert screen.view is not None and screen.view.external_ref == "C5"
        top = str(screen.query_one("#topbar", Static).render())
        assert f"read-only: {host.name('w02')}'s account" in top
        keys = [*"plnbwdrcxes", "L", "N", "B", "ctrl+s", "u", "a"]
        for key in keys:
            await pilot.press(key)
            await pilot.pause(0.05)
            if not isinstance(app.screen, WorkScreen):
                await pilot.press("escape")
            await settle(pilot)
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await pilot.pause(0.3)
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, VoidDialog))
        await pilot.press(*"mine now", "enter")
        await wait_until(
            pilot,
            lambda: (
                "only a lead can void it"
                in str(app.screen.query_one("#history-status", Static).render())
            ),
        )
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("A")
        await wait_until(pilot, lambda: isinstance(app.screen, AgingScreen))
        await pilot.press("escape")
        await settle(pilot)
    assert host.state() == before
    assert host.query("SELECT COUNT(*) FROM voids") == voids
    refused = host.query(
        "SELECT action, target FROM audit_log WHERE result = 'refused' AND id > ("
        "SELECT MAX(id) FROM audit_log) - 40 ORDER BY id"
    )
    after = host.query("SELECT COUNT(*) FROM audit_log WHERE result = 'refused'")[0][0]
    assert after - refused_before >= 15, refused  # 14 outcome keys + Ctrl+S (+ void)
    assert ("void", "C5") in refused


# -- 4 on the screen: the command palette's screenshot ---------------------------------


async def test_s4_the_screen_writes_no_readable_screenshot(
    host: Host, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl+P "screenshot" wrote the account on screen (name, phones, balance, notes) as an
    SVG in ~/Downloads with the umask's mode (0644): there is no such command any more."""
    from tui_helpers import settle

    from dunning.db.connection import connect
    from dunning.queue.collectors import get_collector
    from dunning.queue.config import Settings
    from dunning.queue.session import WorkSession
    from dunning.tui.app import DunningApp

    downloads = tmp_path / "Downloads"
    downloads.mkdir()
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DOWNLOAD_DIR", str(downloads))
    old = os.umask(0o022)
    try:
        conn = connect(host.db)
        me = get_collector(conn, host.name("w01"))
        conn.close()
        assert me is not None
        app = DunningApp(WorkSession(host.db, me, Settings()))
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            titles = [c.title for c in app.get_system_commands(app.screen)]
            assert "Screenshot" not in titles, titles
            await pilot.press("ctrl+p")
            await pilot.pause(0.3)
            await pilot.press(*"screenshot")
            await pilot.pause(0.8)
            await pilot.press("enter")
            await pilot.pause(0.5)
            app.action_screenshot()  # a keymap or a palette entry still reaching it
            await pilot.pause(0.5)
    finally:
        os.umask(old)
    assert list(downloads.iterdir()) == []


def test_s4_an_export_is_never_written_into_a_pipe_someone_else_planted(host: Host) -> None:
    """w01 plants a FIFO named like the lead's next export in the team's directory: the
    export was written into it ("a pipe is written in place"), and w01 read every note."""
    fifo = host.dir / "team-activities.csv"
    os.mkfifo(fifo, 0o666)
    os.chown(fifo, host.users["w01"][1], host.gid)
    os.chmod(fifo, 0o666)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # w01 listening
    try:
        code, out = host.run("lead", "export", "activities", "-o", str(fifo))
        try:
            got = os.read(reader, 1 << 20)
        except BlockingIOError:
            got = b""
    finally:
        os.close(reader)
    assert got == b""
    assert code == 2, out  # like any output path that cannot be written
    assert str(fifo) in out and "Traceback" not in out
    assert "owned by another user" in out
    # a pipe of one's own (`-o /dev/stdout | gzip`, a FIFO one made) is still written
    mine = host.dir / "lead-fifo.csv"
    os.mkfifo(mine, 0o600)
    os.chown(mine, host.users["lead"][1], host.gid)
    reader = os.open(mine, os.O_RDONLY | os.O_NONBLOCK)
    try:
        code, out = host.run("lead", "export", "activities", "-o", str(mine))
        got = os.read(reader, 1 << 20)
    finally:
        os.close(reader)
    assert code == 0, out
    assert got.startswith(b"activity_id") or b"," in got.splitlines()[0], got[:200]
