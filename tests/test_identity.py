"""Who is working: the real OS user; ``--as NAME`` only for root, the database file's owner
or the service account recorded in the database (never the environment).

In-process tests pass the OS account through ``account=(uid, name)``; the file under
tmp_path is owned by the test process, so any other uid is "someone else on the host".
tests/test_identity_os.py runs the same rules as real OS users.
"""

import os

import pytest

from dunning.queue.audit import set_meta
from dunning.queue.collectors import (
    IdentityError,
    add_collector,
    get_collector,
    list_collectors,
    resolve_identity,
)
from dunning.queue.identity import SERVICE_ACCOUNT_KEY, Actor, resolve_actor
from dunning.queue.rights import RightsError, require

OWNER = os.getuid()
OTHER = OWNER + 4242 if OWNER else 4242  # not the file's owner, not root


@pytest.fixture(autouse=True)
def no_service_account(monkeypatch):
    monkeypatch.delenv("DUNNING_SERVICE_ACCOUNT", raising=False)


@pytest.fixture
def team(conn, ledger):
    ledger.collector("alice", languages="en,fr", locale="fr_CA")
    ledger.collector("bruno")
    ledger.collector("lena", role="lead")
    return conn


def as_user(name: str, uid: int = OTHER) -> tuple[int, str]:
    return uid, name


def test_the_os_user_when_a_known_collector(team):
    me = resolve_identity(team, None, account=as_user("alice"))
    assert (me.username, me.role, me.languages, me.locale) == (
        "alice",
        "collector",
        ("en", "fr"),
        "fr_CA",
    )
    assert me.dial_region == "CA" and not me.is_lead


def test_an_unknown_os_user_is_refused_with_how_to_add_one(team):
    with pytest.raises(IdentityError) as err:
        resolve_identity(team, None, account=as_user("mallory"))
    assert "'mallory' is not a known collector" in str(err.value)
    assert "dunning collectors add" in str(err.value)


def test_the_databases_owner_may_act_as_anyone(team):
    assert resolve_identity(team, "bruno", account=as_user("whoever", OWNER)).username == "bruno"


def test_root_may_act_as_anyone(team):
    assert resolve_identity(team, "lena", account=as_user("root", 0)).username == "lena"


def test_as_an_unknown_name_is_refused(team):
    with pytest.raises(IdentityError, match="unknown collector 'zed'.*collectors add"):
        resolve_identity(team, "zed", account=as_user("root", 0))


def test_nobody_else_may_act_as_another_not_even_a_lead(team):
    with pytest.raises(IdentityError, match="owner or its service account"):
        resolve_identity(team, "bruno", account=as_user("alice"))
    with pytest.raises(IdentityError, match="you are 'lena'"):
        resolve_identity(team, "bruno", account=as_user("lena"))
    with pytest.raises(IdentityError):  # someone with no collector row at all
        resolve_identity(team, "lena", account=as_user("mallory"))
    # --as oneself is oneself
    assert resolve_identity(team, "alice", account=as_user("alice")).username == "alice"


def test_the_environment_widens_nothing(team, monkeypatch):
    """The old $DUNNING_SERVICE_ACCOUNT and LOGNAME/USER are not read."""
    monkeypatch.setenv("DUNNING_SERVICE_ACCOUNT", "alice")
    monkeypatch.setenv("LOGNAME", "lena")
    monkeypatch.setenv("USER", "lena")
    with pytest.raises(IdentityError):
        resolve_identity(team, "lena", account=as_user("alice"))
    assert resolve_identity(team, None, account=as_user("alice")).username == "alice"


def test_as_is_honoured_for_the_service_account_recorded_in_the_database(team, clock):
    with pytest.raises(IdentityError, match=r"\(none recorded\)"):
        resolve_identity(team, "alice", account=as_user("dunning"))
    set_meta(team, clock, SERVICE_ACCOUNT_KEY, "dunning")
    assert resolve_identity(team, "alice", account=as_user("dunning")).username == "alice"
    with pytest.raises(IdentityError, match=r"\(dunning\)"):
        resolve_identity(team, "alice", account=as_user("bruno"))
    # without --as, the OS user still works as itself
    assert resolve_identity(team, None, account=as_user("bruno")).username == "bruno"


def test_the_host_operator_is_an_admin_without_a_collector(team, clock):
    owner = resolve_actor(team, None, account=as_user("ops", OWNER))
    assert owner == Actor("ops", OWNER, None, operator=True)
    assert owner.role == "admin" and owner.name == "ops" and owner.collector_id is None
    require(owner.role, "import", who=owner.name)
    set_meta(team, clock, SERVICE_ACCOUNT_KEY, "dunning")
    cron = resolve_actor(team, None, account=as_user("dunning"))
    assert cron.operator and cron.may("backup") and cron.may("queue.refresh")
    # the operator is no collector: the app and `next` need --as
    with pytest.raises(IdentityError, match="not a collector: say whom to work as"):
        resolve_identity(team, None, account=as_user("ops", OWNER))
    # a trusted user with a collector row of their own is that collector
    assert resolve_actor(team, None, account=as_user("lena", OWNER)).collector is not None


def test_a_collector_actor_has_a_collectors_rights(team):
    alice = resolve_actor(team, None, account=as_user("alice"))
    assert not alice.operator and alice.role == "collector"
    with pytest.raises(RightsError, match="alice \\(collector\\) may not import ledgers"):
        require(alice.role, "import", who=alice.name)
    assert alice.may("read") and not alice.may("report") and not alice.may("assign")


def test_inactive_collectors_are_refused(team):
    team.execute("UPDATE collectors SET active = 0 WHERE username = 'bruno'")
    with pytest.raises(IdentityError):
        resolve_identity(team, "bruno", account=as_user("root", 0))
    with pytest.raises(IdentityError):
        resolve_identity(team, None, account=as_user("bruno"))
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
