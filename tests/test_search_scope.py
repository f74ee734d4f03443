"""A lead's search finds their team's accounts (issue 9, item 9; queue/search_scope.py):
a lead whose team is set finds the accounts of that team's collectors and those assigned
to nobody; an admin, a lead without a team and a collector find every account. The same
rule on the screen (``/``) and on the command line (``dunning search``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, OptionList
from tui_helpers import build_portfolio, make_app, search_results, settle, wait_until

from dunning.cli import main
from dunning.clock import FixedClock
from dunning.db.connection import connect
from dunning.queue.collectors import get_collector
from dunning.queue.search_scope import search_for

# build_portfolio: alice owns C00001-C00004 (Acme, Bolt, Cogs, Dynamo), bruno C00005
# (Épicerie Gagnon). Here alice is of team East, bruno and lena of West, Cogs nobody's.


@pytest.fixture
def db(tmp_path: Path, clock: FixedClock) -> Path:
    path = tmp_path / "scope.db"
    build_portfolio(path, clock)
    conn = connect(path)
    with conn:
        conn.execute("UPDATE collectors SET team = 'East' WHERE username = 'alice'")
        conn.execute("UPDATE collectors SET team = 'West' WHERE username IN ('bruno', 'lena')")
        conn.execute(
            "UPDATE queue SET collector_id = NULL WHERE customer_id = "
            "(SELECT id FROM customers WHERE name = 'Cogs Co')"
        )
        now = clock.now().isoformat()
        conn.execute(
            "INSERT INTO collectors (username, display_name, role, created_at) "
            "VALUES ('root', 'Root', 'admin', ?), ('otto', 'Otto', 'lead', ?)",
            (now, now),
        )
    conn.close()
    return path


def refs(db: Path, user: str, text: str, limit: int = 50) -> list[str]:
    conn = connect(db)
    try:
        me = get_collector(conn, user)
        return sorted(h.external_ref for h in search_for(conn, me, text, limit=limit))
    finally:
        conn.close()


EVERY = ["C00001", "C00002", "C00003", "C00004", "C00005"]


def test_a_lead_finds_the_team_and_the_unassigned_others_everything(db):
    assert refs(db, "lena", "C0000") == ["C00003", "C00005"]
    assert refs(db, "lena", "Acme") == []  # alice's, of team East
    assert refs(db, "lena", "Gagnon") == ["C00005"]
    for anyone in ("root", "otto", "alice", "bruno"):  # admin, lead without team, collectors
        assert refs(db, anyone, "C0000") == EVERY, anyone


def test_a_lead_gets_a_full_page_when_other_teams_match_first(db):
    # C00001 (alice's, East) comes first: the search asks for more until one is the team's
    assert refs(db, "lena", "C0000", limit=1) == ["C00003"]


def test_cli_search_is_scoped_for_a_lead(db, clock, capsys):
    def run(*argv: str) -> tuple[int, str]:
        code = main(["--db", str(db), *argv], clock=clock)
        return code, capsys.readouterr().out

    code, out = run("search", "C0000", "--as", "lena")
    assert code == 0
    found = [line.split()[0] for line in out.splitlines()]
    assert found == ["C00003", "C00005"]
    code, out = run("search", "Acme", "--as", "lena")
    assert code == 0 and "no customer matches 'Acme'" in out
    code, out = run("search", "Acme", "--as", "alice")
    assert code == 0 and out.startswith("C00001")


async def test_a_lead_searching_on_the_screen_sees_the_team_only(db, clock):
    app = make_app(db, clock, "lena")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await wait_until(pilot, lambda: bool(pilot.app.screen.query("#search-input")))
        pilot.app.screen.query_one("#search-input", Input).value = "C0000"
        await wait_until(pilot, lambda: search_results(pilot) == 2)
        found = pilot.app.screen.query_one("#search-results", OptionList)
        shown = " ".join(
            str(found.get_option_at_index(i).prompt) for i in range(found.option_count)
        )
        assert "Cogs Co" in shown and "Gagnon" in shown
        assert "Acme" not in shown and "Bolt" not in shown
