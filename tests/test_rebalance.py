"""Rebalance (issue 9, item 3): spread a collector's accounts or the team's evenly, by count
or by balance, only to active collectors who speak each customer's language; a preview
first; loans (`--until`) given back by the nightly refresh or `dunning rebalance return`;
every move recorded (who, when, why) with its loan in the same transaction."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dunning.cli import main
from dunning.queue import rebalance, rebalance_move
from dunning.queue.collectors import get_collector
from dunning.queue.rebalance import RebalanceError
from dunning.queue.rights import RightsError

if TYPE_CHECKING:
    from conftest import Ledger

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DUNNING_DB", "DUNNING_SERVICE_ACCOUNT", "DUNNING_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def team(ledger: Ledger, conn: sqlite3.Connection) -> dict[str, int]:
    ids = {
        "alice": ledger.collector("alice", languages="en"),
        "bruno": ledger.collector("bruno", languages="fr,en", locale="fr_CA"),
        "carmen": ledger.collector("carmen", languages="es,en", locale="es_MX"),
        "dave": ledger.collector("dave", languages="en,es,fr,de"),
        "lena": ledger.collector("lena", role="lead"),
    }
    # dave's book: 6 en, 2 fr, 2 es, 1 de; balances 100..1100
    langs = ["en"] * 6 + ["fr", "fr", "es", "es", "de"]
    for n, code in enumerate(langs):
        cid = ledger.customer(
            f"D{n}", collector=ids["dave"], invoices=[((n + 1) * 10_000, "2026-09-01")]
        )
        with conn:
            conn.execute("UPDATE customers SET language = ? WHERE id = ?", (code, cid))
        ids[f"d{n}"] = cid
    return ids


def owners(conn: sqlite3.Connection) -> dict[str, int]:
    out: dict[str, int] = {}
    for (name,) in conn.execute(
        "SELECT k.username FROM queue q JOIN collectors k ON k.id = q.collector_id"
    ):
        out[name] = out.get(name, 0) + 1
    return out


def test_plan_spreads_by_count_to_speakers_only(conn, clock, settings, team):  # noqa: ANN001
    lena = get_collector(conn, "lena")
    plan = rebalance.plan(conn, clock, settings, lena, source="dave", reason="sick")
    got = {s.collector.username: s.accounts for s in plan.shares}
    # 6 en to anyone, 2 fr only to bruno, 2 es only to carmen: even counts where possible
    assert got == {"alice": 4, "bruno": 3, "carmen": 3}
    assert plan.left == {"de": 1} and plan.moving == 10 and plan.considered == 11
    assert owners(conn) == {"dave": 11}  # a plan moves nothing
    fr = {cid for cid, _f, to in plan.moves if to == team["bruno"]}
    assert {team["d6"], team["d7"]} <= fr


def test_plan_by_balance_evens_the_amounts(conn, clock, settings, team):  # noqa: ANN001
    lena = get_collector(conn, "lena")
    plan = rebalance.plan(conn, clock, settings, lena, source="dave", by="balance",
                          targets=["alice", "bruno"], any_language=True)  # fmt: skip
    sums = sorted(sum(s.open_minor.values()) for s in plan.shares)
    total = sum(sums)
    assert total == sum((n + 1) * 10_000 for n in range(11))
    assert sums[1] - sums[0] <= 110_000  # within the largest account


def test_bad_input_and_rights(conn, clock, settings, team):  # noqa: ANN001
    lena, alice = get_collector(conn, "lena"), get_collector(conn, "alice")
    with pytest.raises(RightsError, match="alice .collector. may not rebalance accounts"):
        rebalance.plan(conn, clock, settings, alice, source="dave")
    assert (
        conn.execute("SELECT result FROM audit_log WHERE action = 'rebalance'").fetchone()[0]
        == "refused"
    )
    with pytest.raises(RebalanceError, match="--by 'weight'"):
        rebalance.plan(conn, clock, settings, lena, source="dave", by="weight")
    with pytest.raises(RebalanceError, match="unknown collector 'zed'"):
        rebalance.plan(conn, clock, settings, lena, source="zed")
    with pytest.raises(RebalanceError, match="--until 2026-11-01: that day is over"):
        rebalance.plan(conn, clock, settings, lena, source="dave", until="2026-11-01")
    with pytest.raises(RebalanceError, match="'dave' is the collector whose accounts"):
        rebalance.plan(conn, clock, settings, lena, source="dave", targets=["dave"])
    with pytest.raises(ValueError, match="'someday' is not a date"):
        rebalance.plan(conn, clock, settings, lena, source="dave", until="someday")


def test_commit_records_moves_and_loans_then_the_night_gives_them_back(
    conn, clock, settings, team, db_path, capsys
):  # noqa: ANN001
    lena = get_collector(conn, "lena")
    plan = rebalance.plan(conn, clock, settings, lena, source="dave", until="tomorrow",
                          reason="sick day")  # fmt: skip
    moved = rebalance_move.commit(conn, clock, lena, plan, pause=0)
    assert moved == 10
    assert owners(conn) == {"alice": 4, "bruno": 3, "carmen": 3, "dave": 1}
    rows = conn.execute(
        "SELECT COUNT(*), MIN(reason), MIN(assigned_by) FROM assignments WHERE reason = 'sick day'"
    ).fetchone()
    assert tuple(rows) == (10, "sick day", team["lena"])
    loans = conn.execute("SELECT owner_id, until, due_at FROM loans").fetchall()
    assert len(loans) == 10 and {tuple(r) for r in loans} == {
        (team["dave"], "2026-11-24", loans[0][2])
    }
    audit = conn.execute(
        "SELECT result, detail FROM audit_log WHERE action = 'rebalance'"
    ).fetchone()
    assert audit[0] == "done" and '"moved": 10' in audit[1]
    # append-only
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE loans SET until = '2026-12-31'")
    # the lead moves one lent account elsewhere meanwhile: it stays there
    with conn:
        conn.execute("UPDATE queue SET collector_id = ? WHERE customer_id = ?",
                     (team["lena"], team["d6"]))  # fmt: skip
    # not due yet: the night of the 23rd returns nothing
    assert rebalance_move.return_loans(conn, clock, by=None).ended == 0
    clock.advance(days=2)
    code = main(["--db", str(db_path), "queue", "refresh"], clock=clock)
    out = capsys.readouterr().out
    assert code == 0
    assert "9 lent account(s) given back; 1 had moved since; 0 owner(s) inactive" in out
    assert owners(conn) == {"dave": 10, "lena": 1}
    ends = dict(conn.execute("SELECT result, COUNT(*) FROM loan_returns GROUP BY result"))
    assert ends == {"returned": 9, "moved": 1}
    assert (
        conn.execute(
            "SELECT COUNT(*) FROM assignments WHERE assigned_by IS NULL "
            "AND reason LIKE 'loan until%'"
        ).fetchone()[0]
        == 9
    )
    assert rebalance_move.open_loans(conn) == 0


@pytest.fixture
def run(db_path: Path, clock, capsys, team):  # noqa: ANN001
    def go(*argv: str) -> tuple[int, str, str]:
        code = main(["--db", str(db_path), *argv], clock=clock)
        out, err = capsys.readouterr()
        return code, out, err

    return go


def test_cli_preview_then_commit_then_return_early(run, conn, team):  # noqa: ANN001
    code, out, err = run("rebalance", "--from", "dave", "--until", "+3d", "--reason", "flu",
                         "--dry-run", "--as", "lena")  # fmt: skip
    assert code == 0, err
    assert "dave's 11 open accounts, spread by count" in out
    assert "(lent until 2026-11-26: given back the day after)" in out
    assert "alice                  4  $" in out
    assert "1 account(s) in de stay: no target speaks it ($1,100.00)" in out
    assert "dry run: nothing moved (10 account(s) would move)" in out
    assert owners(conn) == {"dave": 11}
    code, out, err = run("rebalance", "--from", "dave", "--until", "+3d", "--reason", "flu",
                         "--as", "lena")  # fmt: skip
    assert code == 0, err
    assert "10 account(s) moved" in out
    assert owners(conn)["dave"] == 1
    code, out, err = run("rebalance", "return", "--from", "dave", "--as", "lena")
    assert code == 0, err
    assert "10 lent account(s) given back" in out
    assert owners(conn) == {"dave": 11}
    # refusals: a collector (French), bad --by, --until without --from
    code, out, err = run("rebalance", "--from", "dave", "--as", "bruno")
    assert code == 1 and "bruno (agent) ne peut pas" in err and err.count("\n") == 1
    code, out, err = run("rebalance", "--from", "dave", "--by", "size", "--as", "lena")
    assert code == 2 and err.strip() == "dunning: --by 'size': say count or balance"
    code, out, err = run("rebalance", "--until", "fri", "--as", "lena")
    assert code == 2 and "--until goes with --from NAME" in err


def test_the_whole_team_evened_out(run, conn, team):  # noqa: ANN001
    code, out, err = run("rebalance", "--to", "alice,bruno,carmen,dave", "--reason", "even",
                         "--any-language", "--as", "lena")  # fmt: skip
    assert code == 0, err
    counts = owners(conn)
    assert sorted(counts.values()) in ([2, 3, 3, 3], [3, 3, 3, 2]) or max(counts.values()) <= 3
    assert sum(counts.values()) == 11


def test_rebalance_by_the_real_entry_point(db_path, team):  # noqa: ANN001
    done = subprocess.run(
        [sys.executable, "-m", "dunning", "--db", str(db_path), "rebalance", "--from", "dave",
         "--by", "balance", "--dry-run", "--json", "--as", "lena"],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert '"moving": 10' in done.stdout and '"de": 1' in done.stdout


def test_an_account_on_the_phone_moves_but_its_collector_finishes_the_call(
    conn, clock, settings, team
):  # noqa: ANN001
    from dunning.queue.claim import claim_account, claim_next
    from dunning.queue.outcomes import OutcomeInput, log_outcome

    lena = get_collector(conn, "lena")
    on_phone = claim_account(conn, clock, settings, team["dave"], team["d0"])
    assert on_phone is not None
    plan = rebalance.plan(conn, clock, settings, lena, source="dave", reason="sick")
    assert on_phone.customer_id in {cid for cid, _f, _t in plan.moves}
    rebalance_move.commit(conn, clock, lena, plan, pause=0)
    new_owner = conn.execute(
        "SELECT collector_id, claimed_by FROM queue WHERE customer_id = ?",
        (on_phone.customer_id,),
    ).fetchone()
    assert new_owner[0] != team["dave"] and new_owner[1] == team["dave"]  # still on the phone
    # the new owner cannot take it meanwhile
    got = claim_next(conn, clock, settings, new_owner[0])
    assert got is None or got.customer_id != on_phone.customer_id
    # dave logs his call: his outcome, then the account is the new owner's
    logged = log_outcome(
        conn, clock, settings, collector_id=team["dave"], customer_id=on_phone.customer_id,
        inp=OutcomeInput("no_answer"),
    )  # fmt: skip
    row = conn.execute(
        "SELECT a.collector_id, q.collector_id, q.claimed_by FROM activities a "
        "JOIN queue q ON q.customer_id = a.customer_id WHERE a.id = ?",
        (logged.activity_id,),
    ).fetchone()
    assert tuple(row) == (team["dave"], new_owner[0], None)
