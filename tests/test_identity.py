"""Who is working: the OS user when known, ``--as NAME`` where honoured, else refused."""

import pytest

from dunning.queue.collectors import (
    IdentityError,
    add_collector,
    get_collector,
    list_collectors,
    resolve_identity,
)


@pytest.fixture(autouse=True)
def no_service_account(monkeypatch):
    monkeypatch.delenv("DUNNING_SERVICE_ACCOUNT", raising=False)


@pytest.fixture
def team(conn, ledger):
    ledger.collector("alice", languages="en,fr", locale="fr_CA")
    ledger.collector("bruno")
    ledger.collector("lena", role="lead")
    return conn


def test_the_os_user_when_a_known_collector(team):
    me = resolve_identity(team, None, os_name="alice")
    assert (me.username, me.role, me.languages, me.locale) == (
        "alice",
        "collector",
        ("en", "fr"),
        "fr_CA",
    )
    assert me.dial_region == "CA" and not me.is_lead


def test_an_unknown_os_user_is_refused_with_how_to_add_one(team):
    with pytest.raises(IdentityError) as err:
        resolve_identity(team, None, os_name="mallory")
    assert "'mallory' is not a known collector" in str(err.value)
    assert "dunning collectors add" in str(err.value)


def test_as_name_on_a_single_user_set_up(team):
    assert resolve_identity(team, "bruno", os_name="root").username == "bruno"


def test_as_an_unknown_name_is_refused(team):
    with pytest.raises(IdentityError, match="unknown collector 'zed'.*collectors add"):
        resolve_identity(team, "zed", os_name="root")


def test_a_collector_may_not_act_as_another_a_lead_may(team):
    with pytest.raises(IdentityError, match="may not act as 'bruno'"):
        resolve_identity(team, "bruno", os_name="alice")
    assert resolve_identity(team, "alice", os_name="alice").username == "alice"
    assert resolve_identity(team, "bruno", os_name="lena").username == "bruno"


def test_as_is_honoured_only_for_the_service_account(team, monkeypatch):
    monkeypatch.setenv("DUNNING_SERVICE_ACCOUNT", "dunning")
    assert resolve_identity(team, "alice", os_name="dunning").username == "alice"
    with pytest.raises(IdentityError, match="only honoured for the service account"):
        resolve_identity(team, "alice", os_name="bruno")
    # without --as, the OS user still works for itself
    assert resolve_identity(team, None, os_name="bruno").username == "bruno"


def test_inactive_collectors_are_refused(team):
    team.execute("UPDATE collectors SET active = 0 WHERE username = 'bruno'")
    with pytest.raises(IdentityError):
        resolve_identity(team, "bruno", os_name="root")
    assert [c.username for c in list_collectors(team)] == ["alice", "lena"]


def test_add_collector_validates(conn, clock):
    c = add_collector(
        conn, clock, username="carmen", display_name="Carmen C", languages="es,en", locale="es_MX"
    )
    assert c == get_collector(conn, "carmen")
    assert c.dial_region == "MX"
    with pytest.raises(ValueError, match="already exists"):
        add_collector(conn, clock, username="carmen", display_name="Again")
    with pytest.raises(ValueError, match="role"):
        add_collector(conn, clock, username="x", display_name="X", role="boss")
    with pytest.raises(ValueError, match="username"):
        add_collector(conn, clock, username="bad name!", display_name="X")
