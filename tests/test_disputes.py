"""Disputes (issue 9, item 6): open disputes by department and age in the customer's
business days with a service level, overdue marked; a lead resolves valid (the invoices
stay out of collection) or invalid (back into collection, next action set), recorded with
who/when/why; an ERP re-import with disputed=no closes the dispute and says so."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest

from dunning.cli import main
from dunning.clock import FixedClock, to_iso
from dunning.queue import disputes
from dunning.queue.calendar import CustomerCalendar
from dunning.queue.collectors import get_collector
from dunning.queue.config import DisputeSettings, settings_from_dict
from dunning.queue.outcomes import OutcomeInput, log_outcome
from dunning.queue.rights import RightsError

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def run(db_path: Path, clock: FixedClock, capsys: pytest.CaptureFixture[str]) -> Run:
    def go(*argv: str) -> tuple[int, str, str]:
        code = main(["--db", str(db_path), *argv], clock=clock)
        out, err = capsys.readouterr()
        return code, out, err

    return go


@pytest.fixture
def team(ledger) -> dict[str, int]:  # noqa: ANN001
    ids = {name: ledger.collector(name) for name in ("alice", "bruno")}
    ids["lena"] = ledger.collector("lena", role="lead")
    return ids


def disputed(ledger, team, *, department: str = "billing", name: str = "Acme") -> int:  # noqa: ANN001
    """A customer of alice with two invoices, the first disputed."""
    cid = ledger.customer(name, collector=team["alice"],
                          invoices=[(50_000, "2026-09-01"), (70_000, "2026-10-01")])  # fmt: skip
    inv = ledger.conn.execute(
        "SELECT id FROM invoices WHERE customer_id = ? ORDER BY id", (cid,)
    ).fetchall()
    inp = OutcomeInput("dispute", invoice_ids=[inv[0][0]], reason="pricing", department=department)
    log_outcome(ledger.conn, ledger.clock, ledger.settings, collector_id=team["alice"],
                customer_id=cid, inp=inp)  # fmt: skip
    return cid


def lena(conn):  # noqa: ANN001, ANN201
    return get_collector(conn, "lena")


def test_business_days_skip_weekends_and_the_customers_holidays():
    cal = CustomerCalendar(country="CA", subdivision="ON")
    # Thu 24 Dec 2026 -> Tue 29 Dec: Christmas (Fri), the weekend, Boxing Day observed (Mon)
    assert disputes.business_days_between(date(2026, 12, 24), date(2026, 12, 29), cal) == 1
    assert disputes.service_end(date(2026, 12, 24), 1, cal) == date(2026, 12, 29)


def test_the_list_by_department_with_age_and_overdue(conn, ledger, team, clock, settings):
    first = disputed(ledger, team, department="billing")
    clock.advance(days=16)  # Mon 23 Nov -> Wed 9 Dec: 11 business days (not Thanksgiving)
    second = disputed(ledger, team, department="sales", name="Beta")
    items = disputes.list_disputes(conn, clock, settings, lena(conn))
    assert [(i.customer_id, i.department, i.overdue) for i in items] == [
        (first, "billing", True),
        (second, "sales", False),
    ]
    assert items[0].age_days == 11  # US-NY: Thanksgiving (26 Nov) is not a business day
    assert items[0].due_on == date(2026, 12, 8)
    assert items[0].invoices == (f"INV-{first}-0",)
    assert items[0].amount_minor == 50_000
    only = disputes.list_disputes(conn, clock, settings, lena(conn), department="sales")
    assert [i.customer_id for i in only] == [second]
    late = disputes.list_disputes(conn, clock, settings, lena(conn), overdue_only=True)
    assert [i.customer_id for i in late] == [first]
    wide = settings_from_dict({"disputes": {"service_days": 30}})
    assert not any(i.overdue for i in disputes.list_disputes(conn, clock, wide, lena(conn)))


def test_resolved_valid_keeps_the_invoice_out_of_collection(conn, ledger, team, clock, settings):
    cid = disputed(ledger, team)
    did = disputes.find_dispute(conn, "C00001")
    done = disputes.resolve_dispute(conn, clock, settings, lena(conn), did, valid=True,
                                    reason="credit note asked from billing")  # fmt: skip
    assert done.valid
    d = conn.execute("SELECT status, resolved_by FROM disputes WHERE id = ?", (did,)).fetchone()
    assert tuple(d) == ("resolved_valid", team["lena"])
    assert (
        conn.execute(
            "SELECT disputed FROM invoices WHERE number = ?", (f"INV-{cid}-0",)
        ).fetchone()[0]
        == 1
    )
    assert ledger.queue_row(cid)["disputed_minor"] == 50_000
    rec = conn.execute("SELECT outcome, decided_by, reason FROM dispute_decisions").fetchone()
    assert tuple(rec) == ("valid", team["lena"], "credit note asked from billing")
    note = conn.execute(
        "SELECT note FROM activities WHERE outcome = 'system' ORDER BY id DESC"
    ).fetchone()[0]
    assert note == f"dispute {did} resolved valid: credit note asked from billing"


def test_resolved_invalid_brings_the_invoice_back_with_a_next_action(
    conn, ledger, team, clock, settings
):
    cid = disputed(ledger, team)
    assert ledger.queue_row(cid)["state"] == "waiting"  # next business day after a dispute
    did = disputes.find_dispute(conn, str(1))
    when = clock.now() + timedelta(hours=3)
    done = disputes.resolve_dispute(conn, clock, settings, lena(conn), did, valid=False,
                                    reason="the price was agreed", next_at=when)  # fmt: skip
    assert done.invoices_back == 1
    q = ledger.queue_row(cid)
    assert (q["disputed_minor"], q["open_minor"]) == (0, 120_000)
    assert (q["next_action"], q["next_action_at"]) == ("call", to_iso(when))
    assert conn.execute("SELECT status FROM disputes").fetchone()[0] == "resolved_invalid"
    with pytest.raises(disputes.DisputeError, match=r"dispute 1 is not open \(it is resolved"):
        disputes.resolve_dispute(conn, clock, settings, lena(conn), did, valid=True, reason="x")


def test_a_collector_is_refused(conn, ledger, team, clock, settings):
    disputed(ledger, team)
    alice = get_collector(conn, "alice")
    with pytest.raises(RightsError, match="may not resolve disputes"):
        disputes.resolve_dispute(conn, clock, settings, alice, 1, valid=False, reason="mine")
    with pytest.raises(RightsError):
        disputes.list_disputes(conn, clock, settings, alice)
    assert conn.execute("SELECT status FROM disputes").fetchone()[0] == "open"


def write_csv(path: Path, cid: int, disputed_flag: str | None) -> Path:
    head = "customer_ref,number,issue_date,due_date,amount,open_amount,currency"
    rows = [f"C00001,INV-{cid}-0,2026-09-01,2026-09-01,500.00,500.00,USD",
            f"C00001,INV-{cid}-1,2026-10-01,2026-10-01,700.00,700.00,USD"]  # fmt: skip
    if disputed_flag is not None:
        head += ",disputed"
        rows = [r + f",{disputed_flag}" for r in rows]
    path.write_text("\n".join([head, *rows]) + "\n", encoding="utf-8")
    return path


def test_an_erp_reimport_with_disputed_no_closes_the_dispute(run, conn, ledger, team, tmp_path):
    cid = disputed(ledger, team)
    code, out, err = run("import", "invoices", str(write_csv(tmp_path / "a.csv", cid, None)))
    assert code == 0, err
    assert conn.execute("SELECT status FROM disputes").fetchone()[0] == "open"  # no column
    code, out, err = run("import", "invoices", str(write_csv(tmp_path / "b.csv", cid, "no")))
    assert code == 0, err
    assert "1 disputes closed by the ERP" in out
    d = conn.execute("SELECT status, resolved_by, resolved_at FROM disputes").fetchone()
    assert d["status"] == "resolved_invalid" and d["resolved_by"] is None and d["resolved_at"]
    rec = conn.execute("SELECT outcome, decided_by FROM dispute_decisions").fetchone()
    assert tuple(rec) == ("erp", None)
    assert ledger.queue_row(cid)["disputed_minor"] == 0
    code, out, err = run("import", "invoices", str(write_csv(tmp_path / "b.csv", cid, "no")))
    assert "disputes closed" not in out  # nothing left to close


def test_an_erp_that_knows_no_disputes_can_be_told_so(run, conn, ledger, team, tmp_path):
    cid = disputed(ledger, team)
    config = tmp_path / "config.toml"
    config.write_text("[disputes]\nerp_closes = false\n", encoding="utf-8")
    code, out, err = run("--config", str(config), "import", "invoices",
                         str(write_csv(tmp_path / "b.csv", cid, "no")))  # fmt: skip
    assert code == 0, err
    assert conn.execute("SELECT status FROM disputes").fetchone()[0] == "open"
    assert ledger.queue_row(cid)["disputed_minor"] == 50_000


def test_a_valid_dispute_keeps_its_invoice_out_through_an_import(
    run, conn, ledger, team, clock, settings, tmp_path
):
    cid = disputed(ledger, team)
    disputes.resolve_dispute(conn, clock, settings, lena(conn), 1, valid=True, reason="ok")
    code, _out, err = run("import", "invoices", str(write_csv(tmp_path / "b.csv", cid, "no")))
    assert code == 0, err
    assert ledger.queue_row(cid)["disputed_minor"] == 50_000


def test_settings_are_checked():
    assert settings_from_dict({}).disputes == DisputeSettings(10, True)
    with pytest.raises(ValueError, match="service_days must be a whole number from 1 to 365"):
        settings_from_dict({"disputes": {"service_days": 0}})
    with pytest.raises(ValueError, match="unknown key 'days'"):
        settings_from_dict({"disputes": {"days": 3}})


def test_cli_list_and_resolve(run, conn, ledger, team):
    cid = disputed(ledger, team)
    code, out, err = run("disputes", "list", "--as", "lena")
    assert code == 0, err
    assert "C00001" in out and "billing" in out and "1 open dispute(s), 0 overdue" in out
    code, out, _err = run("disputes", "list", "--json", "--department", "billing", "--as", "lena")
    assert json.loads(out)[0]["age_business_days"] == 0
    code, out, err = run("disputes", "resolve", "C00001", "--invalid", "--reason", "agreed price",
                         "--as", "lena")  # fmt: skip
    assert code == 0, err
    assert "resolved invalid" in out
    assert ledger.queue_row(cid)["disputed_minor"] == 0


def test_cli_bad_input_is_one_line(run, conn, ledger, team):
    disputed(ledger, team)
    code, _out, err = run("disputes", "list", "--department", "marketing", "--as", "lena")
    assert code == 2 and "'marketing'" in err and "Traceback" not in err
    code, _out, err = run("disputes", "resolve", "nope", "--valid", "--reason", "x", "--as", "lena")
    assert code == 2 and "'nope'" in err
    code, _out, err = run("disputes", "resolve", "1", "--valid", "--reason", "x", "--as", "alice")
    assert code == 1 and err.startswith("dunning: alice (collector) may not resolve disputes")
    code, _out, err = run("disputes", "resolve", "1", "--valid", "--reason", " ", "--as", "lena")
    assert code == 2 and "say why" in err
    assert conn.execute("SELECT status FROM disputes").fetchone()[0] == "open"
