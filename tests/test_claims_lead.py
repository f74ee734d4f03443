"""Claims a lead can see and break (issue 9, item 9): `dunning claims list|release`, the
screen's reassign letting go of the lead's hold, and an account reassigned while its
collector is on the phone (two processes on one file)."""

from __future__ import annotations

import json
import multiprocessing as mp
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from tui_helpers import build_portfolio

from dunning.cli import main
from dunning.clock import FixedClock, from_iso, to_iso
from dunning.db.connection import connect
from dunning.queue.access import ClaimError
from dunning.queue.collectors import get_collector
from dunning.queue.config import Settings
from dunning.queue.outcomes import OutcomeInput
from dunning.queue.session import WorkSession


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "claims.db"
    build_portfolio(path, clock)  # alice: Acme, Bolt, Cogs, Dynamo; bruno: Épicerie
    return path


@pytest.fixture
def run(db: Path, clock, capsys):  # noqa: ANN001
    def go(*argv: str, at: FixedClock | None = None) -> tuple[int, str, str]:
        code = main(["--db", str(db), *argv], clock=at or clock)
        out, err = capsys.readouterr()
        return code, out, err

    return go


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return [tuple(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def session(db: Path, clock: FixedClock, user: str) -> WorkSession:
    conn = connect(db)
    me = get_collector(conn, user)
    conn.close()
    assert me is not None
    return WorkSession(db, me, Settings(), clock)


def ref_of(db: Path, name: str) -> tuple[int, str]:
    return rows(db, "SELECT id, external_ref FROM customers WHERE name = ?", name)[0]


def test_a_lead_lists_claims_and_releases_a_stale_one(db, clock, run):
    alice = session(db, clock, "alice")
    try:
        view = alice.next_account()
        assert view is not None and view.name == "Acme Anvils Inc."
        assert alice.beat() is True  # her screen is open on it
    finally:
        pass
    cid, ref = ref_of(db, "Acme Anvils Inc.")
    # bruno's `dunning next` claimed his account and never logged: no screen beats on it
    code, out, _ = run("next", "--as", "bruno", "--json")
    assert code == 0
    other = json.loads(out)["account"]["external_ref"]
    later = FixedClock(clock.now() + timedelta(minutes=1))
    code, out, err = run("claims", "list", "--as", "lena", at=later)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(ref) and "alice" in lines[0] and "since 15:00" in lines[0]
    assert "stale" not in lines[0]
    assert lines[1].startswith(other) and "since ?" in lines[1] and "stale" in lines[1]
    assert "bruno" in lines[1]
    code, out, _ = run("claims", "list", "--json", "--as", "lena", at=later)
    listed = {c["account"]: c for c in json.loads(out)}
    assert listed[ref]["since"] == "2026-11-23T15:00:00Z" and listed[other]["stale"] is True
    # collectors may neither see nor break claims
    code, _, err = run("claims", "list", "--as", "bruno")
    assert code == 1 and "bruno" in err
    code, _, err = run("claims", "release", other, "--reason", "x", "--as", "alice")
    assert code == 1 and "may not see and release claims" in err
    code, _, err = run("claims", "release", other, "--reason", "x", "--as", "bruno")
    assert code == 1 and "ne peut pas voir et libérer les comptes pris" in err  # fr_CA
    # a reason is required; an account nobody holds is said so
    code, _, err = run("claims", "release", other, "--as", "lena")
    assert code == 2 and "--reason" in err
    code, _, err = run("claims", "release", other, "--reason", "  ", "--as", "lena")
    assert code == 2 and "--reason" in err
    code, _, err = run("claims", "release", "NOPE", "--reason", "x", "--as", "lena")
    assert code == 2 and "'NOPE'" in err
    code, out, err = run("claims", "release", other, "--reason", "left for lunch", "--as", "lena")
    assert (code, err) == (0, "") and f"released {other}: bruno's claim" in out
    code, _, err = run("claims", "release", other, "--reason", "again", "--as", "lena")
    assert code == 1 and f"nobody holds {other} now" in err
    assert rows(
        db,
        "SELECT c.external_ref, h.username, r.username, x.reason, x.released_at "
        "FROM claim_releases x JOIN customers c ON c.id = x.customer_id "
        "JOIN collectors h ON h.id = x.held_by JOIN collectors r ON r.id = x.released_by",
    ) == [(other, "bruno", "lena", "left for lunch", "2026-11-23T15:00:00Z")]
    assert rows(db, "SELECT action, target, result FROM audit_log WHERE action LIKE 'claims%'") == [
        ("claims.list", "", "refused"),
        ("claims.release", other, "refused"),
        ("claims.release", other, "refused"),
        ("claims.release", other, "done"),
    ]
    assert rows(db, "SELECT claimed_by FROM queue q JOIN customers c ON c.id = q.customer_id "
                    "WHERE c.external_ref = ?", other) == [(None,)]  # fmt: skip
    alice.close()
    assert rows(db, "SELECT COUNT(*) FROM work_sessions WHERE ended_at IS NULL") == [(0,)]


def test_the_screens_reassign_lets_go_of_the_leads_hold_and_moves_on(db, clock):
    cid, _ref = ref_of(db, "Acme Anvils Inc.")
    lena = session(db, clock, "lena")
    bruno = session(db, clock, "bruno")
    try:
        assert lena.open_account(cid) is not None
        assert rows(db, "SELECT k.username FROM queue q JOIN collectors k ON k.id = q.claimed_by "
                        "WHERE q.customer_id = ?", cid) == [("lena",)]  # fmt: skip
        nxt = lena.reassign(cid, "bruno", "speaks French")
        assert nxt is None or nxt.id != cid  # moved on (a lead has no queue: nothing)
        assert lena.current != cid
        assert rows(db, "SELECT claimed_by, collector_id = (SELECT id FROM collectors WHERE "
                        "username = 'bruno') FROM queue WHERE customer_id = ?", cid) == [
            (None, 1)
        ]  # fmt: skip
        # the new owner opens it at once: nobody "is working" it
        assert bruno.open_account(cid) is not None
    finally:
        lena.close()
        bruno.close()


def _collector_on_the_phone(db: str, now: str, events: dict[str, object], out: object) -> None:
    """alice, in a process of her own: claims her first account, types a note, waits while
    the lead reassigns it, then logs the call."""
    clock = FixedClock(from_iso(now))
    conn = connect(db)
    me = get_collector(conn, "alice")
    conn.close()
    assert me is not None
    s = WorkSession(db, me, Settings(), clock)
    try:
        view = s.next_account()
        assert view is not None
        s.save_draft(view.id, "she says the cheque is in the mail")
        s.beat()
        out.put(("held", view.id))  # type: ignore[attr-defined]
        events["reassigned"].wait(60)  # type: ignore[attr-defined]
        assert s.renew() is True  # still hers while she is on the phone
        logged = s.log(OutcomeInput("no_answer", note="she says the cheque is in the mail"))
        nxt = s.next_account()
        out.put(("logged", logged.customer_id, nxt.id if nxt else None))  # type: ignore[attr-defined]
    except BaseException as exc:  # noqa: BLE001 - reported to the test
        out.put(("error", repr(exc)))  # type: ignore[attr-defined]
    finally:
        s.close()


def test_reassigned_while_on_the_phone_stays_until_the_outcome_then_leaves(db, clock, run):
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    events = {"reassigned": ctx.Event()}
    proc = ctx.Process(
        target=_collector_on_the_phone, args=(str(db), to_iso(clock.now()), events, out)
    )
    proc.start()
    try:
        msg = out.get(timeout=60)
        assert msg[0] == "held", msg
        cid = msg[1]
        ref = rows(db, "SELECT external_ref FROM customers WHERE id = ?", cid)[0][0]
        # the lead sees who holds it, and gives it to bruno while alice is on the phone
        code, listed, _ = run("claims", "list", "--as", "lena")
        assert ref in listed and "alice" in listed and "stale" not in listed
        code, _, err = run("assign", ref, "--to", "bruno", "--reason", "French", "--as", "lena")
        assert (code, err) == (0, "")
        bruno = session(db, clock, "bruno")
        try:
            # never two people on it: bruno cannot open it while alice holds it
            with pytest.raises(ClaimError, match="alice is working this account"):
                bruno.open_account(cid)
            mine = bruno.next_account()
            assert mine is not None and mine.id != cid
            bruno.release()
            events["reassigned"].set()  # type: ignore[index]
            msg = out.get(timeout=60)
            assert msg[0] == "logged", msg
            assert msg[1] == cid and msg[2] != cid  # left alice's queue
            # her outcome and note are recorded under her; the account is bruno's now
            assert rows(
                db,
                "SELECT k.username, a.outcome, a.note FROM activities a "
                "JOIN collectors k ON k.id = a.collector_id WHERE a.customer_id = ?",
                cid,
            ) == [("alice", "no_answer", "she says the cheque is in the mail")]
            assert rows(
                db,
                "SELECT k.username, q.claimed_by FROM queue q JOIN collectors k "
                "ON k.id = q.collector_id WHERE q.customer_id = ?",
                cid,
            ) == [("bruno", None)]
            assert bruno.open_account(cid) is not None  # now his
            assert rows(db, "SELECT claimed_by FROM queue WHERE customer_id = ?", cid) == [
                (bruno.collector.id,)
            ]
        finally:
            bruno.close()
    finally:
        proc.join(60)
    assert proc.exitcode == 0


def test_the_audit_export_lists_the_new_histories(db, clock, run, tmp_path):
    assert run("next", "--as", "bruno")[0] == 0
    _cid, ref = ref_of(db, "Épicerie Gagnon")
    assert run("claims", "release", ref, "--reason", "gone home", "--as", "lena")[0] == 0
    assert run("collectors", "set", "alice", "--team", "West", "--as", "lena")[0] == 0
    out = tmp_path / "audit.json"  # by the file's owner (the host operator: an admin)
    code, _, err = run("export", "audit", "-o", str(out))
    assert (code, err) == (0, ""), err
    listed = json.loads(out.read_text())["rows"]
    mine = [(r["source"], r["action"], r["target"], r["collector"]) for r in listed
            if r["source"] in ("collector_changes", "claim_releases")]  # fmt: skip
    assert mine == [
        ("claim_releases", "claim.released", ref, "lena"),
        ("collector_changes", "collector.team", "alice", "lena"),
    ]
    detail = next(r["detail"] for r in listed if r["source"] == "claim_releases")
    assert detail["holder"] == "bruno" and detail["reason"] == "gone home"
