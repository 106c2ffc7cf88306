"""The control store on a real PostgreSQL: versions, holds, the fleet, the audit trail, plan
state and push. Checks read the database with plain SQL where the store's answer is at stake."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from strangler.control import (
    ControlStore,
    StoreUnavailable,
    StoreUrlInvalid,
    VersionConflict,
    describe_url,
    open_control,
)
from strangler.control.listen import ChangeListener
from tests.postgres_server import fresh_database

TABLE = "version: 1\nupstreams:\n  monolith: {url: 'http://127.0.0.1:8100'}\n"


@pytest.fixture
def url() -> Iterator[str]:
    with fresh_database("control") as database:
        yield database


@pytest.fixture
def store(url: str) -> Iterator[ControlStore]:
    control = open_control(url)
    yield control
    control.close()


def sql(url: str, query: str, *args: object) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(query, args)
        return cursor.fetchall() if cursor.description else []


def test_the_schema_is_created_once_by_replicas_starting_together(url):
    errors: list[BaseException] = []

    def start() -> None:
        try:
            open_control(url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sql(url, "SELECT version FROM strangler_versions WHERE name = 'holds'") == [(0,)]


def test_one_seed_wins_and_the_others_get_its_table(store, url):
    first, seeded = store.seed_table(TABLE, actor="replica-a", via="seed", source="a.yaml")
    second, seeded_again = store.seed_table("other", actor="replica-b", via="seed", source="b.yaml")
    assert (seeded, seeded_again) == (True, False)
    assert second.text == TABLE
    assert second.version == first.version == 1
    assert sql(url, "SELECT document, version FROM strangler_table") == [(TABLE, 1)]
    assert sql(url, "SELECT action, actor FROM strangler_audit") == [("seed", "replica-a")]


def test_a_write_is_a_compare_and_set_on_the_version(store, url):
    store.seed_table(TABLE, actor="a", via="seed", source="f")
    written = store.write_table(
        TABLE + "# one\n", expected_version=1, actor="ana", via="cli", action="set", subject="t"
    )
    assert written.version == 2
    with pytest.raises(VersionConflict) as refused:
        store.write_table(
            "lost", expected_version=1, actor="bo", via="cli", action="set", subject="t"
        )
    assert refused.value.current == 2
    assert refused.value.code == "table_version_conflict"
    assert sql(url, "SELECT document, version FROM strangler_table") == [(TABLE + "# one\n", 2)]
    # An explicit import replaces whatever is there.
    assert (
        store.write_table(
            "x", expected_version=None, actor="c", via="import", action="import", subject="table"
        ).version
        == 3
    )


def test_concurrent_writers_never_both_win_the_same_version(store, url):
    store.seed_table(TABLE, actor="a", via="seed", source="f")
    wins: list[int] = []
    conflicts: list[int] = []

    def writer(n: int) -> None:
        own = open_control(url)
        try:
            own.write_table(
                f"{n}", expected_version=1, actor=str(n), via="t", action="set", subject="t"
            )
            wins.append(n)
        except VersionConflict:
            conflicts.append(n)
        finally:
            own.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wins) == 1
    assert len(conflicts) == 4
    assert sql(url, "SELECT document, version FROM strangler_table") == [(str(wins[0]), 2)]


def test_holds_are_versioned_and_expire_on_their_own(store, url):
    now = time.time()
    held = store.set_hold("cart", now + 60, actor="plan", via="plan")
    assert held.version == 1
    assert set(held.holds) == {"cart"}
    store.set_hold("orders", now - 1, actor="plan", via="plan")  # already over: not kept
    assert set(store.read_holds().holds) == {"cart"}
    assert store.read_holds(now=now + 61).holds == {}
    released = store.set_hold("cart", 0, actor="plan", via="plan")
    assert released.version == 3
    assert released.holds == {}
    assert sql(url, "SELECT count(*) FROM strangler_holds") == [(0,)]
    actions = [a for (a,) in sql(url, "SELECT action FROM strangler_audit ORDER BY id")]
    assert actions == ["hold", "release", "release"]


def _beat(store: ControlStore, replica: str, *, table: int, holds: int = 0) -> None:
    store.heartbeat(
        replica=replica,
        admin_url=f"http://{replica}:8001",
        public_url="",
        table_version=table,
        holds_version=holds,
        started_at=time.time(),
    )


def test_the_fleet_acknowledges_when_every_member_serves_the_version(store):
    _beat(store, "a/0", table=2)
    _beat(store, "b/0", table=1)
    waited = store.wait_for_fleet(table_version=2, timeout=0.2)
    assert not waited.complete
    assert waited.acknowledged == ("a/0",)
    assert [r.replica for r in waited.missing] == ["b/0"]
    assert "b/0 (table 1" in waited.describe_missing()

    def catch_up() -> None:
        late = ControlStore(store.url)
        _beat(late, "b/0", table=2)
        late.close()

    thread = threading.Thread(target=catch_up)
    thread.start()
    assert store.wait_for_fleet(table_version=2, timeout=5).complete
    thread.join()
    store.leave("a/0")
    assert [r.replica for r in store.replicas()] == ["b/0"]


def test_a_silent_member_is_flagged_and_an_expired_one_pruned(store, url):
    _beat(store, "a/0", table=1)
    sql(url, "UPDATE strangler_replicas SET seen_at = seen_at - 10")
    now, members = store.fleet()
    assert "no heartbeat for 10 s" in (members[0].lagging(now=now) or "")
    sql(url, "UPDATE strangler_replicas SET seen_at = seen_at - 1000")
    assert store.replicas() == []


def test_the_audit_trail_is_append_only_in_the_database(store, url):
    store.record(
        actor="ana",
        via="cli",
        action="set",
        subject="route:cart",
        before={"mode": "shadow"},
        after={"mode": "canary"},
    )
    [entry] = store.audit()
    assert (entry.actor, entry.before, entry.after) == (
        "ana",
        {"mode": "shadow"},
        {"mode": "canary"},
    )
    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        sql(url, "UPDATE strangler_audit SET actor = 'mallory'")
    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        sql(url, "DELETE FROM strangler_audit")
    assert [a for (a,) in sql(url, "SELECT actor FROM strangler_audit")] == ["ana"]


def test_plan_state_is_locked_across_operators(store):
    order: list[str] = []
    inside = threading.Event()

    def second() -> None:
        inside.wait(5)
        with store.plan_state("catalog") as (document, save):
            order.append(f"second read {document}")
            save({"current": 2})

    thread = threading.Thread(target=second)
    thread.start()
    with store.plan_state("catalog") as (document, save):
        assert document is None
        inside.set()
        time.sleep(0.2)  # the second operator is kept waiting meanwhile: that is the test
        save({"current": 1})
        order.append("first saved")
    thread.join(10)
    assert order == ["first saved", "second read {'current': 1}"]
    assert store.plan_states() == {"catalog": {"current": 2}}


def test_a_change_is_pushed_to_listeners(store, url):
    async def scenario() -> list[tuple[str, int]]:
        listener = ChangeListener(url)
        await listener.connect()
        try:
            await asyncio.to_thread(store.seed_table, TABLE, actor="a", via="seed", source="f")
            return await listener.wait(timeout=5)
        finally:
            await listener.close()

    assert asyncio.run(scenario()) == [("table", 1)]


def test_a_listener_that_loses_the_store_says_so(url):
    async def scenario() -> None:
        listener = ChangeListener(url)
        await listener.connect()
        sql(
            url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        with pytest.raises(StoreUnavailable, match="lost the control store"):
            await listener.wait(timeout=5)

    asyncio.run(scenario())


def test_a_broken_connection_is_replaced_on_the_next_call(store, url):
    store.seed_table(TABLE, actor="a", via="seed", source="f")
    sql(
        url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    with pytest.raises(StoreUnavailable):
        store.read_table()
    record = store.read_table()
    assert record is not None
    assert record.version == 1


def test_bad_urls_are_refused_with_what_to_do():
    with pytest.raises(StoreUrlInvalid, match="postgres://"):
        open_control("redis://127.0.0.1:6379/0")
    with pytest.raises(StoreUnavailable, match="cannot be reached"):
        open_control("postgres://nobody:secret@127.0.0.1:1/none")
    assert describe_url("postgres://u:secret@db:5432/x") == "postgres://u:***@db:5432/x"
