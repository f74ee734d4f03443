"""The date-invariant standing of an account (queue/standing.py) against ``score``."""

from __future__ import annotations

import random
from datetime import date, timedelta

from dunning.queue.config import Settings
from dunning.queue.priority import PriorityInputs, score
from dunning.queue.standing import (
    CONTACT,
    DPD,
    constant_points,
    exact_on,
    standing,
)

TODAY = date(2026, 11, 24)


def _inputs(rng: random.Random) -> dict[str, object]:
    return {
        "oldest_due": rng.choice([None, TODAY + timedelta(days=rng.randint(-400, 40))]),
        "last_contact": rng.choice([None, TODAY + timedelta(days=rng.randint(-60, 3))]),
        "open_minor": rng.choice([0, rng.randint(1, 10**9)]),
        "broken": rng.random() < 0.1,
        "action": rng.choice(["call", "callback", "promise_check", "verify_payment"]),
        "risk": rng.choice([0, rng.randint(1, 100)]),
    }


def _score(i: dict[str, object], day: date, settings: Settings) -> float:
    inp = PriorityInputs(
        today=day,
        oldest_due=i["oldest_due"],  # type: ignore[arg-type]
        open_minor=i["open_minor"],  # type: ignore[arg-type]
        currency="USD",
        minor_digits=2,
        broken_promise=i["broken"],  # type: ignore[arg-type]
        next_action=i["action"],  # type: ignore[arg-type]
        last_contact=i["last_contact"],  # type: ignore[arg-type]
        risk_score=i["risk"],  # type: ignore[arg-type]
    )
    return score(inp, settings)[0] / 100


def _standing(i: dict[str, object], day: date, settings: Settings):  # type: ignore[no-untyped-def]
    const = constant_points(
        i["open_minor"],  # type: ignore[arg-type]
        "USD",
        2,
        i["broken"],  # type: ignore[arg-type]
        i["action"],  # type: ignore[arg-type]
        i["risk"],  # type: ignore[arg-type]
        settings,
    )
    return standing(day, i["oldest_due"], i["last_contact"], const, settings)  # type: ignore[arg-type]


def test_the_key_stays_until_the_class_changes_and_matches_score() -> None:
    settings = Settings()
    rng = random.Random(8)
    for _ in range(300):
        i = _inputs(rng)
        st = _standing(i, TODAY, settings)
        end = st.until or TODAY + timedelta(days=400)
        day = TODAY
        while day < min(end, TODAY + timedelta(days=200)):
            again = _standing(i, day, settings)
            assert (again.cls, again.key, again.until) == (st.cls, st.key, st.until)
            # score rounds each of the two day terms to 0.1: at most 0.05 each
            assert abs(exact_on(st, day, settings) - _score(i, day, settings)) <= 0.1 + 1e-9
            day += timedelta(days=17)
        if st.until is not None:
            assert _standing(i, st.until, settings).cls != st.cls


def test_the_classes() -> None:
    settings = Settings()
    st = standing(TODAY, TODAY - timedelta(days=10), TODAY - timedelta(days=3), 0.0, settings)
    assert st.cls == DPD | CONTACT
    assert st.until == TODAY + timedelta(days=32)  # contact reaches 35 days first
    st = standing(TODAY, TODAY - timedelta(days=200), None, 0.0, settings)
    assert (st.cls, st.until) == (0, None)
    assert exact_on(st, TODAY, settings) == _score(
        {
            "oldest_due": TODAY - timedelta(days=200),
            "last_contact": None,
            "open_minor": 0,
            "broken": False,
            "action": "call",
            "risk": 0,
        },
        TODAY,
        settings,
    )
    st = standing(TODAY, TODAY + timedelta(days=5), TODAY - timedelta(days=40), 0.0, settings)
    assert (st.cls, st.until) == (0, TODAY + timedelta(days=5))  # not yet due
    st = standing(TODAY, TODAY - timedelta(days=90), TODAY - timedelta(days=40), 0.0, settings)
    assert (st.cls, st.until) == (DPD, TODAY + timedelta(days=90))


def test_within_a_class_the_key_orders_every_day() -> None:
    settings = Settings()
    rng = random.Random(3)
    accounts = [_inputs(rng) for _ in range(400)]
    standings = [_standing(i, TODAY, settings) for i in accounts]
    for cls in range(4):
        members = [s for s in standings if s.cls == cls]
        by_key = sorted(members, key=lambda s: -s.key)
        last = min((s.until for s in members if s.until), default=TODAY + timedelta(days=30))
        for day in (TODAY, last - timedelta(days=1)):
            by_day = sorted(members, key=lambda s: -exact_on(s, day, settings))
            assert [s.key for s in by_day] == [s.key for s in by_key]


def test_the_stander_stores_what_standing_says() -> None:
    from dunning.queue.standing import Stander, stored

    settings = Settings()
    rng = random.Random(5)
    stander = Stander(TODAY, settings)
    for _ in range(500):
        i = _inputs(rng)
        want = stored(_standing(i, TODAY, settings))
        got = stander.stored(
            i["oldest_due"],  # type: ignore[arg-type]
            i["last_contact"],  # type: ignore[arg-type]
            i["open_minor"],  # type: ignore[arg-type]
            "USD",
            2,
            i["broken"],  # type: ignore[arg-type]
            i["action"],  # type: ignore[arg-type]
            i["risk"],  # type: ignore[arg-type]
        )
        assert got == want


def test_the_migration_fills_what_the_refresh_writes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """m022 on an existing queue (standing.fill, as of each row's day) stores what the
    refresh computes on that day: the next night rewrites none of them for it."""
    from dunning.clock import FixedClock
    from dunning.db.connection import open_db
    from dunning.demo.build import build_demo
    from dunning.queue.standing import fill

    db = tmp_path / "ledger.db"
    build_demo(db, customers=150, seed=4, clock=FixedClock())
    conn = open_db(db)
    want = conn.execute("SELECT customer_id, pclass, pkey, restand_on FROM queue").fetchall()
    assert len({r[1] for r in want}) >= 2
    with conn:
        conn.execute("UPDATE queue SET pclass = 0, pkey = 0, restand_on = NULL")
        assert fill(conn, Settings()) == len(want)
    got = conn.execute("SELECT customer_id, pclass, pkey, restand_on FROM queue").fetchall()
    assert [tuple(r) for r in got] == [tuple(r) for r in want]
    conn.close()
