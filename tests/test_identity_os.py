"""Identity with REAL OS users (issue 7, section 3): run as root, the test creates users
with ``useradd`` sharing a database directory by group (tests/os_users.py) and runs
``dunning`` as each of them. Skipped when not root."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from os_users import needs_root, run_as, share, team, warm_up

pytestmark = needs_root

CUSTOMERS = "customer_ref,name,country,currency,phone\n" + "".join(
    f"C{i},Customer {i},US,USD,+1212555010{i}\n" for i in range(1, 4)
)


@dataclass
class Host:
    dir: Path
    db: Path
    gid: int
    users: dict[str, tuple[str, int]]  # role in the test -> (OS name, uid)

    def name(self, who: str) -> str:
        return self.users[who][0]

    def refusal(self, out: str) -> str:
        """The one line a refusal prints (other lines, e.g. a permissions warning, aside)."""
        assert "Traceback" not in out, out
        lines = [x for x in out.splitlines() if "may not" in x or "honoured" in x or "known" in x]
        assert len(lines) == 1, out
        return lines[0]

    def run(self, who: str, *argv: str, env: dict[str, str] | None = None) -> tuple[int, str]:
        """Run ``dunning --db DB ARGV`` as the OS user ``who``; (exit code, stdout+stderr)."""
        name, uid = self.users[who]
        argv_db = ["--db", str(self.db), *argv]
        code, out, err = run_as(uid, self.gid, name, argv_db, env or {}, self.dir)
        return code, out + err

    def audit(self) -> list[dict[str, object]]:
        conn = sqlite3.connect(self.db)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute("SELECT * FROM audit_log ORDER BY id")]
        finally:
            conn.close()

    def last_audit(self, action: str) -> dict[str, object]:
        rows = [r for r in self.audit() if r["action"] == action]
        assert rows, f"no audit row for {action}"
        return rows[-1]

    def query(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        conn = sqlite3.connect(self.db)
        try:
            return [tuple(r) for r in conn.execute(sql, params)]
        finally:
            conn.close()


WARM_UP = (
    ["init", "--admin", "boss"],
    ["collectors", "add", "lena", "--role", "lead"],
    ["import", "customers", "{csv}", "-q"],
    ["report", "aging", "-o", "{tmp}/a.csv"],
    ["report", "metrics", "--from", "-7d", "--to", "today"],
    ["export", "activities", "-o", "{tmp}/x.csv"],
    ["backup", "{tmp}/b.db"],
    ["queue", "refresh"],
    ["history", "C1"],
    ["search", "Customer"],
    ["next", "--as", "lena"],
    ["assign", "C1", "--to", "boss", "--as", "lena"],
    ["history", "C1", "--as", "nobody"],
)


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    tmp = tmp_path_factory.mktemp("warm")
    (tmp / "warm.csv").write_text(CUSTOMERS)
    places = {"csv": str(tmp / "warm.csv"), "tmp": str(tmp)}
    warm_up(tmp / "warm.db", ([a.format(**places) for a in argv] for argv in WARM_UP))
    with team("d", ("own", "w01", "svc", "x")) as (base, gid, users):
        h = Host(base, base / "dunning.db", gid, users)
        (base / "customers.csv").write_text(CUSTOMERS)
        (base / "mine.csv").write_text(
            "customer_ref,name,collector\n"
            + "".join(f"C{i},Customer {i},{h.name('w01')}\n" for i in range(1, 4))
        )
        for path in base.glob("*.csv"):
            share(path, gid)
        # the owner creates the database and records the service account
        code, out = h.run("own", "init", "--service-account", h.name("svc"), "--admin", "boss")
        assert code == 0, out
        assert os.stat(h.db).st_uid == users["own"][1]
        os.chmod(h.db, 0o660)  # shared with the team's group (no one else)
        for argv in (
            ["collectors", "add", "lena", "--role", "lead"],
            ["collectors", "add", h.name("w01")],
            ["import", "customers", str(base / "customers.csv"), "-q"],
        ):
            code, out = h.run("own", *argv)
            assert code == 0, out
        yield h


def test_logname_lena_does_not_make_a_collector_the_lead(host: Host) -> None:
    me = host.name("w01")
    before = host.query("SELECT COUNT(*) FROM assignments")
    code, out = host.run(
        "w01", "assign", "C1", "C2", "--to", me, "--reason", "mine now",
        env={"LOGNAME": "lena", "USER": "lena"},
    )  # fmt: skip
    assert code == 1
    assert host.refusal(out) == (
        f"dunning: {me} (collector) may not reassign accounts: that needs the lead or admin role"
    )
    assert host.query("SELECT COUNT(*) FROM assignments") == before
    row = host.last_audit("assign")
    assert (row["os_user"], row["os_uid"], row["result"]) == (me, host.users["w01"][1], "refused")
    me_id = host.query("SELECT id FROM collectors WHERE username = ?", me)[0][0]
    assert row["collector_id"] == me_id  # the collector it really was, not lena


def test_logname_root_does_not_add_an_admin(host: Host) -> None:
    for who in ("w01", "x"):
        code, out = host.run(
            who, "collectors", "add", "evil", "--role", "admin",
            env={"LOGNAME": "root", "USER": "root"},
        )  # fmt: skip
        assert code == 1, out
        host.refusal(out)
        row = host.last_audit("collectors.add")
        assert (row["os_user"], row["result"]) == (host.name(who), "refused")
    assert "may not add collectors" in host.run("w01", "collectors", "add", "evil")[1]
    assert "is not a known collector" in host.run("x", "collectors", "add", "evil")[1]
    assert host.query("SELECT COUNT(*) FROM collectors WHERE username = 'evil'") == [(0,)]


def test_the_environment_does_not_honour_as(host: Host) -> None:
    me = host.name("w01")
    code, out = host.run(
        "w01", "history", "C1", "--as", "lena", env={"DUNNING_SERVICE_ACCOUNT": me}
    )
    assert code == 1
    assert "--as is honoured only for the database's owner or its service account" in out
    assert f"you are {me!r}" in out
    row = host.last_audit("history")
    assert (row["os_user"], row["result"]) == (me, "refused")
    # nor for anyone else who is neither the owner nor the recorded service account
    code, out = host.run("x", "assign", "C1", "--to", "lena", "--as", "lena")
    assert code == 1 and "--as is honoured only" in out
    assert host.last_audit("assign")["os_user"] == host.name("x")


def test_the_recorded_service_account_and_the_owner_may_act_as(host: Host) -> None:
    code, out = host.run("svc", "history", "C3", "--as", "lena")
    assert code == 0, out
    code, out = host.run("svc", "assign", "C3", "--to", "lena", "--as", "lena", "--reason", "x")
    assert code == 0, out
    lena = host.query("SELECT id FROM collectors WHERE username = 'lena'")[0][0]
    assert host.query(
        "SELECT assigned_by, reason FROM assignments WHERE customer_id = "
        "(SELECT id FROM customers WHERE external_ref = 'C3') ORDER BY id DESC LIMIT 1"
    ) == [(lena, "x")]
    row = host.last_audit("assign")
    assert (row["os_user"], row["collector_id"], row["result"]) == (host.name("svc"), lena, "done")
    assert host.run("own", "search", "Customer", "--as", "lena")[0] == 0


def test_host_commands_check_who_runs_them(host: Host) -> None:
    d = host.dir
    refused = {
        "import": ["import", "customers", str(d / "customers.csv"), "-q"],
        "export": ["export", "activities", "-o", str(d / "w01.csv")],
        "report": ["report", "aging", "-o", str(d / "w01-aging.csv")],
        "backup": ["backup", str(d / "w01-backup.db")],
        "queue.refresh": ["queue", "refresh"],
    }
    for action, argv in refused.items():
        code, out = host.run("w01", *argv)
        assert code == 1, (action, out)
        line = host.refusal(out)
        assert line.startswith(f"dunning: {host.name('w01')} (collector) may not "), out
        row = host.last_audit(action)
        assert (row["os_user"], row["result"]) == (host.name("w01"), "refused")
    assert not (d / "w01.csv").exists() and not (d / "w01-backup.db").exists()
    # a collector reads accounts; someone who is no collector does not
    assert host.run("w01", "history", "C1")[0] == 0
    assert host.run("w01", "search", "Customer")[0] == 0
    for argv in (["history", "C1"], ["search", "Customer"], ["report", "aging"]):
        code, out = host.run("x", *argv)
        assert code == 1 and "is not a known collector" in out, out
    # the owner (no collector row: the host operator) runs them, and each run is recorded
    for action, argv in (
        ("report", ["report", "aging", "-o", str(d / "aging.csv")]),
        ("backup", ["backup", str(d / "backup.db")]),
        ("queue.refresh", ["queue", "refresh"]),
        ("export", ["export", "activities", "-o", str(d / "activities.csv")]),
    ):
        code, out = host.run("own", *argv)
        assert code == 0, out
        row = host.last_audit(action)
        assert (row["os_user"], row["collector_id"], row["result"]) == (
            host.name("own"),
            None,
            "done",
        )
    assert json.loads(str(host.last_audit("backup")["detail"]))["bytes"] > 0


def test_an_import_with_a_collector_column(host: Host) -> None:
    mine = str(host.dir / "mine.csv")
    owners = "SELECT collector_id FROM queue ORDER BY customer_id"
    before = host.query(owners)
    code, out = host.run("w01", "import", "customers", mine, "-q")
    assert code == 1 and "may not import ledgers" in out
    assert host.query(owners) == before
    row = host.last_audit("import")
    assert (row["os_user"], row["target"], row["result"]) == (host.name("w01"), mine, "refused")

    code, out = host.run("own", "import", "customers", mine, "-q")
    assert code == 0, out
    w01 = host.query("SELECT id FROM collectors WHERE username = ?", host.name("w01"))[0][0]
    assert set(host.query(owners)) == {(w01,)}
    reasons = host.query("SELECT DISTINCT assigned_by, reason FROM assignments WHERE reason "
                         "LIKE 'import%'")  # fmt: skip
    assert reasons == [(None, f"import by {host.name('own')}")]
    row = host.last_audit("import")
    assert (row["os_user"], row["result"]) == (host.name("own"), "done")
    assert json.loads(str(row["detail"]))["assigned"] == 3


def test_only_the_owner_changes_the_service_account(host: Host) -> None:
    code, out = host.run("svc", "init", "--service-account", host.name("x"))
    assert code == 1 and "only the database file's owner or root may change it" in out
    assert host.last_audit("init")["result"] == "refused"
    code, out = host.run("w01", "init", "--service-account", host.name("w01"))
    assert code == 1 and "may not set up the database" in out
    code, out = host.run("own", "init", "--service-account", host.name("x"))
    assert code == 0 and f"service account: {host.name('x')}" in out, out
    code, out = host.run("own", "init", "--service-account", host.name("svc"))
    assert code == 0, out
    sets = [r for r in host.audit() if r["action"] == "meta.set"]
    assert [r["os_user"] for r in sets[-2:]] == [host.name("own")] * 2
