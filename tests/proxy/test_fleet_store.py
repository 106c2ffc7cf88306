"""The proxy as a replica of a fleet (STRANGLER_STORE_URL): replicas in this process sharing a
real PostgreSQL control store, each with its own admin API and public port."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiohttp.test_utils import make_mocked_request
from prometheus_client import REGISTRY

from strangler.control import ControlStore, open_control
from strangler.proxy import admin_fleet
from strangler.proxy.app import build_app
from strangler.proxy.fleet_start import StartRefused
from strangler.proxy.public import PublicServer
from strangler.proxy.settings import ProxySettings
from tests.proxy.conftest import Admin, table_for, wait_for

PRODUCTS = {"name": "products", "prefix": "/api/v1/products/", "owner": "catalog"}
# A change reaches every replica within this long (the target, measured p99).
PROPAGATION_SECONDS = 1.0


def sql(url: str, query: str, *args: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(query, args)
        return cursor.fetchall() if cursor.description else []


def served_mode(admin: Admin, route: str = "products") -> str:
    found = admin.proxy.state.store.current.route(route)
    assert found is not None
    return str(found.config.mode)


def store_up(member: str) -> float | None:
    return REGISTRY.get_sample_value("strangler_proxy_store_up", {"member": member})


async def get(admin: Admin, path: str) -> tuple[int, Any]:
    async with admin.proxy.session.get(f"{admin.proxy.url}{path}") as response:
        return response.status, await response.json()


async def test_an_empty_store_is_seeded_from_the_file_and_the_seed_audited(
    start_upstream, replica, store_url
) -> None:
    monolith = await start_upstream("monolith")
    a = await replica(table_for(monolith, None), "a")

    status, routes = await a.call("GET", "/routes")

    assert status == 200
    assert (routes["table_version"], routes["replica"]) == (1, "a/0")
    assert routes["store"] == store_url  # no password to mask
    [(document, version)] = sql(store_url, "SELECT document, version FROM strangler_table")
    assert (document, version) == (a.proxy.routes_path.read_text(), 1)
    assert sql(store_url, "SELECT actor, via, action FROM strangler_audit") == [
        ("a/0", "seed", "seed")
    ]


async def test_the_store_wins_over_a_different_file_and_the_log_says_how_to_apply_it(
    start_upstream, replica, caplog
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    await replica(table_for(monolith, service, {**PRODUCTS, "mode": "monolith"}), "a")

    with caplog.at_level(logging.WARNING, logger="strangler.proxy.fleet_start"):
        b = await replica(table_for(monolith, service, {**PRODUCTS, "mode": "service"}), "b")
    async with b.proxy.session.get(f"{b.proxy.url}/api/v1/products/1/") as response:
        assert response.status == 200

    assert served_mode(b) == "monolith"
    assert [s["path"] for s in monolith.seen] == ["/api/v1/products/1/"]
    assert service.seen == []
    [warning] = [r.getMessage() for r in caplog.records if "was not used" in r.getMessage()]
    assert str(b.proxy.routes_path) in warning
    assert f"strangler routes import {b.proxy.routes_path}" in warning


async def test_with_no_table_in_the_store_and_no_file_the_proxy_refuses_to_start(
    store_url, tmp_path: Path
) -> None:
    missing = tmp_path / "routes.yaml"
    app = build_app(ProxySettings(routes_path=missing, store_url=store_url, replica_id="c"))

    with pytest.raises(StartRefused, match="holds no route table yet") as refused:
        await PublicServer(app, shutdown_timeout=1).start("127.0.0.1", 0)

    assert str(missing) in refused.value.message
    assert "strangler routes import FILE" in refused.value.message


async def test_an_unreachable_store_refuses_start_naming_it_with_the_password_masked(
    tmp_path: Path, unused_port: int, start_upstream
) -> None:
    monolith = await start_upstream("monolith")
    routes = tmp_path / "routes.yaml"
    routes.write_text(f"upstreams:\n  monolith: {{url: '{monolith.url}'}}\n")
    url = f"postgres://fleet:s3cret-pass@127.0.0.1:{unused_port}/control"
    app = build_app(ProxySettings(routes_path=routes, store_url=url, replica_id="c"))

    with pytest.raises(StartRefused) as refused:
        await PublicServer(app, shutdown_timeout=1).start("127.0.0.1", 0)

    message = refused.value.message
    assert f"postgres://fleet:***@127.0.0.1:{unused_port}/control" in message
    assert "s3cret-pass" not in message
    assert "cannot be reached" in message


async def test_a_change_through_one_replica_is_served_by_another_within_a_second(
    start_upstream, replica, store_url
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    table = table_for(monolith, service, PRODUCTS)
    a, b = await replica(table, "a"), await replica(table, "b")
    loop = asyncio.get_running_loop()

    status, body = await a.call("PATCH", "/routes/products", {"mode": "service"})
    answered = loop.time()
    await wait_for(
        lambda: b.proxy.state.store.table_version >= body["table_version"],
        deadline=5,
        what="replica b to serve the new table",
    )
    took = loop.time() - answered
    async with b.proxy.session.get(f"{b.proxy.url}/api/v1/products/7/") as response:
        assert response.status == 200

    assert status == 200
    assert (body["changed"], body["table_version"], body["route"]["mode"]) == (True, 2, "service")
    assert served_mode(a) == served_mode(b) == "service"
    assert took < PROPAGATION_SECONDS
    assert [s["path"] for s in service.seen] == ["/api/v1/products/7/"]
    assert "mode: service" in sql(store_url, "SELECT document FROM strangler_table")[0][0]


async def test_a_patch_is_audited_with_its_actor_and_the_fields_before_and_after(
    start_upstream, replica, store_url
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    a = await replica(table_for(monolith, service, PRODUCTS), "a")

    async with a.session.patch(
        a.url("/routes/products"),
        json={"mode": "canary", "canary_percent": 10},
        headers={"Authorization": "Bearer admin-token-for-tests",
                 "X-Strangler-Actor": "ana  at the\tconsole" + "x" * 200},
    ) as response:  # fmt: skip
        assert response.status == 200

    store = open_control(store_url)
    try:
        entry = store.audit(subject="route:products")[-1]
    finally:
        store.close()
    assert entry.actor == ("ana at the console" + "x" * 200)[:100]
    assert (entry.via, entry.action) == ("admin-api", "set")
    assert entry.before == {"mode": "monolith", "canary_percent": 0.0}
    assert entry.after == {"mode": "canary", "canary_percent": 10.0}


async def test_without_an_actor_header_the_actor_is_the_admin_api(
    start_upstream, replica, store_url
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    a = await replica(table_for(monolith, service, PRODUCTS), "a")

    await a.call("POST", "/routes/products/hold", {"seconds": 30})

    assert sql(store_url, "SELECT actor, via, action, subject FROM strangler_audit ORDER BY id")[
        -1
    ] == ("admin-api", "admin-api", "hold", "route:products")


async def test_a_writer_that_got_in_first_is_retried_over_and_a_409_once_retries_run_out(
    start_upstream, replica, store_url, monkeypatch
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    a = await replica(table_for(monolith, service, PRODUCTS), "a")
    other, edit = ControlStore(store_url), admin_fleet.validated_edit
    interfere = {"times": 1}

    def edit_then_another_writer(text: str, *args: Any, **kwargs: Any) -> Any:
        edited = edit(text, *args, **kwargs)
        if interfere["times"] > 0:  # a real write lands between the read and the CAS
            interfere["times"] -= 1
            record = other.read_table()
            assert record is not None
            other.write_table(
                record.text + "# another writer\n", expected_version=record.version,
                actor="bo", via="cli", action="set", subject="route:products",
            )  # fmt: skip
        return edited

    monkeypatch.setattr(admin_fleet, "validated_edit", edit_then_another_writer)
    try:
        status, body = await a.call("PATCH", "/routes/products", {"mode": "shadow"})
        interfere["times"] = admin_fleet.CAS_ATTEMPTS
        refused, conflict = await a.call("PATCH", "/routes/products", {"mode": "service"})
    finally:
        other.close()

    assert (status, body["table_version"]) == (200, 3)
    document = sql(store_url, "SELECT document FROM strangler_table")[0][0]
    assert "# another writer" in document
    assert (refused, conflict["code"]) == (409, "table_version_conflict")
    assert "mode: service" not in document


async def test_a_hold_through_one_replica_holds_writes_on_another_until_released(
    start_upstream, replica
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    table = table_for(monolith, service, PRODUCTS)
    a, b = await replica(table, "a"), await replica(table, "b")

    status, held = await a.call("POST", "/routes/products/hold", {"seconds": 60})
    post = asyncio.create_task(b.proxy.session.post(f"{b.proxy.url}/api/v1/products/", data=b"{}"))
    await wait_for(
        lambda: (REGISTRY.get_sample_value("strangler_proxy_held_requests", {"route": "products"})
                 or 0) >= 1,
        deadline=5, what="the write to wait on replica b",
    )  # fmt: skip
    reached_monolith = [s for s in monolith.seen if s["method"] == "POST"]
    released_status, released = await a.call("POST", "/routes/products/release", {})
    async with await post as response:
        assert response.status == 200

    assert status == 200
    assert sorted(held["acknowledged"]) == ["a/0", "b/0"]
    assert held["held"] is True
    assert reached_monolith == []
    assert released_status == 200
    assert sorted(released["acknowledged"]) == ["a/0", "b/0"]
    assert released["holds_version"] == held["holds_version"] + 1
    assert [s["method"] for s in monolith.seen] == ["POST"]


async def test_a_member_that_does_not_acknowledge_makes_a_hold_503_naming_it(
    start_upstream, replica, store_url, monkeypatch
) -> None:
    monkeypatch.setattr(admin_fleet, "FLEET_ACK_SECONDS", 1.0)
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    a = await replica(table_for(monolith, service, PRODUCTS), "a")
    # A replica that lives in the store's rows only: it never acknowledges anything.
    sql(store_url, "INSERT INTO strangler_replicas VALUES ('ghost/0', 'http://ghost:8001', '', "
        "1, 0, false, '', 0, extract(epoch FROM clock_timestamp()))")  # fmt: skip

    status, body = await a.call("POST", "/routes/products/hold", {"seconds": 30})

    assert (status, body["code"]) == (503, "fleet_not_acknowledged")
    assert body["missing"] == ["ghost/0"]
    assert body["acknowledged"] == ["a/0"]
    assert "ghost/0" in body["message"]
    assert "do not go on with the cutover" in body["message"]
    assert body["held"] is True  # written: bounded by its own hold_until


async def test_a_table_in_the_store_this_replica_refuses_leaves_the_old_one_serving(
    start_upstream, replica, store_url, caplog
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    a = await replica(table_for(monolith, service, {**PRODUCTS, "mode": "shadow"}), "a")
    store = open_control(store_url)
    try:  # written past the admin API's validation, as a careless import could
        store.write_table(
            "routes: [{name: products, prefix: /x/, mode: sideways}]\n", expected_version=1,
            actor="bo", via="import", action="import", subject="table",
        )  # fmt: skip
        with caplog.at_level(logging.ERROR, logger="strangler.proxy.fleet_member"):
            status, body = await a.call("POST", "/reload")
        # The row says why (with the refusal's acknowledgement: the follower's or the reload's).
        await wait_for(
            lambda: store.fleet()[1][0].detail != "", deadline=3, what="the row to say why"
        )
        now, [row] = store.fleet()
    finally:
        store.close()

    assert (status, body["code"]) == (400, "invalid_table")
    assert "route table version 2" in body["message"]
    assert "the running table keeps serving" in body["message"]
    assert served_mode(a) == "shadow"
    assert a.proxy.state.store.table_version == 1
    assert any("route table refused" in r.getMessage() for r in caplog.records)
    assert row.table_version == 1
    assert row.detail.startswith("refused table version 2")
    assert "serves table version 1, the store has 2" in (row.lagging(now=now, table_version=2))


async def test_post_reload_reads_the_store_and_never_the_file(start_upstream, replica) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    a = await replica(table_for(monolith, service, PRODUCTS), "a")
    a.proxy.write_table(table_for(monolith, service, {**PRODUCTS, "mode": "service"}))

    status, body = await a.call("POST", "/reload")

    assert status == 200
    assert (body["changed"], body["table_version"], body["routes"]) == (False, 1, 1)
    assert served_mode(a) == "monolith"


async def test_fleet_lists_every_member_with_its_versions_and_flags_a_silent_one(
    start_upstream, replica, store_url
) -> None:
    monolith = await start_upstream("monolith")
    a = await replica(table_for(monolith, None), "a")
    await replica(table_for(monolith, None), "b")
    sql(store_url, "INSERT INTO strangler_replicas VALUES ('gone/0', 'http://gone:8001', '', 1, "
        "0, false, '', 0, extract(epoch FROM clock_timestamp()) - 30)")  # fmt: skip

    status, fleet = await a.call("GET", "/fleet", token=None)

    assert status == 200
    assert (fleet["store"], fleet["replica"], fleet["table_version"]) == (store_url, "a/0", 1)
    members = {m["replica"]: m for m in fleet["members"]}
    assert sorted(members) == ["a/0", "b/0", "gone/0"]
    assert members["a/0"]["admin_url"] == "http://127.0.0.1:8001"
    assert (members["b/0"]["table_version"], members["b/0"]["lagging"]) == (1, None)
    assert "no heartbeat for 30 s" in members["gone/0"]["lagging"]
    assert fleet["lagging"] == ["gone/0"]


async def test_a_replica_reports_its_store_and_versions_in_readyz_routes_and_metrics(
    start_upstream, replica, store_url
) -> None:
    monolith = await start_upstream("monolith")
    a = await replica(table_for(monolith, None), "a")

    ready_status, ready = await get(a, "/readyz")
    _, routes = await a.call("GET", "/routes")
    async with a.session.get(a.url("/metrics")) as response:
        exposed = await response.text()

    assert (ready_status, ready["status"]) == (200, "ok")
    assert ready["store"] == {
        "url": store_url, "up": True, "error": None, "table_version": 1, "holds_version": 0,
    }  # fmt: skip
    assert (routes["store"], routes["table_version"]) == (store_url, 1)
    assert 'strangler_proxy_store_up{member="a/0"} 1.0' in exposed
    assert 'strangler_proxy_table_version{member="a/0"} 1.0' in exposed


async def test_with_the_file_store_routes_name_the_file_and_there_is_no_fleet(
    start_upstream, start_admin
) -> None:
    monolith = await start_upstream("monolith")
    admin = await start_admin(table_for(monolith, None), replica_id="solo")

    _, routes = await admin.call("GET", "/routes")
    fleet_status, fleet = await admin.call("GET", "/fleet")
    _, ready = await get(admin, "/readyz")

    assert routes["store"] == str(admin.proxy.routes_path)
    assert (routes["table_version"], routes["replica"]) == (None, "solo/0")
    assert (fleet_status, fleet["code"]) == (404, "not_a_fleet")
    assert "STRANGLER_STORE_URL" in fleet["message"]
    assert "store" not in ready
    assert store_up("solo/0") is None


@pytest.mark.parametrize(
    ("given", "actor"),
    [({}, "admin-api"), ({"X-Strangler-Actor": "  "}, "admin-api"),
     ({"X-Strangler-Actor": "ana\x1b[2J\x00 ops\u200b"}, "ana [2J ops"),
     ({"X-Strangler-Actor": "é" * 150}, "é" * 100)],
    ids=["absent", "blank", "control-characters", "too-long"],
)  # fmt: skip
def test_the_actor_is_the_header_made_printable_and_short_else_the_admin_api(
    given: dict[str, str], actor: str
) -> None:
    assert admin_fleet.actor_of(make_mocked_request("PATCH", "/routes/x", headers=given)) == actor
