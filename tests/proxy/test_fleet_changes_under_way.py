"""A fleet's replica while things go wrong or change under it: the control store lost and
back, and route changes while requests are in flight."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import psycopg
from aiohttp import web
from prometheus_client import REGISTRY

from tests.proxy.conftest import Admin, table_for, wait_for
from tests.proxy.tcp_relay import TcpRelay

PRODUCTS = {"name": "products", "prefix": "/api/v1/products/", "owner": "catalog"}
# A change reaches every replica within this long (the target), after a reconnect too.
PROPAGATION_SECONDS = 1.0


async def _status(session: aiohttp.ClientSession, method: str, url: str) -> int:
    async with session.request(method, url, data=b"{}" if method == "POST" else None) as r:
        await r.read()
        return r.status


async def _readyz(admin: Admin) -> tuple[int, Any]:
    async with admin.proxy.session.get(f"{admin.proxy.url}/readyz") as response:
        return response.status, await response.json()


def _terminate(url: str, application_name: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE %s",
            (application_name + "%",),
        )


async def test_a_replica_cut_off_from_the_store_keeps_serving_degraded_and_catches_up(
    start_upstream, replica, store_url
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    table = table_for(monolith, service, PRODUCTS)
    server = urlsplit(store_url)
    relay = TcpRelay(server.hostname or "127.0.0.1", server.port or 5432)
    await relay.start()
    relayed = server._replace(netloc=f"{server.username}@127.0.0.1:{relay.port}").geturl()
    a = await replica(table, "a")
    b = await replica(table, "b", url=relayed)
    try:
        # The store goes away for b: its connections cut, new ones refused.
        await relay.stop()
        _terminate(store_url, "strangler proxy b/0")
        await wait_for(lambda: not b.proxy.state.fleet.up, deadline=10, what="b to notice")
        ready_status, ready = await _readyz(b)
        up_while_cut_off = REGISTRY.get_sample_value("strangler_proxy_store_up", {"member": "b/0"})
        served_while_cut_off = await _status(
            b.proxy.session, "GET", f"{b.proxy.url}/api/v1/products/1/"
        )
        status, changed = await a.call("PATCH", "/routes/products", {"mode": "service"})
        assert status == 200

        await relay.start()  # back, on the same port
        loop = asyncio.get_running_loop()
        back = loop.time()
        await wait_for(
            lambda: b.proxy.state.store.table_version >= changed["table_version"],
            deadline=10,
            what="b to catch up",
        )
        caught_up = loop.time() - back
        await wait_for(lambda: b.proxy.state.fleet.up, deadline=5, what="b to be up again")
        _, ready_again = await _readyz(b)
        up_again = REGISTRY.get_sample_value("strangler_proxy_store_up", {"member": "b/0"})
    finally:
        await relay.stop()

    assert (ready_status, ready["status"]) == (200, "degraded")
    assert ready["store"]["up"] is False
    assert "control store" in ready["store"]["error"]
    assert ready["store"]["url"] == relayed
    assert up_while_cut_off == 0
    assert served_while_cut_off == 200
    assert [s["path"] for s in monolith.seen] == ["/api/v1/products/1/"]
    assert caught_up < PROPAGATION_SECONDS
    assert ready_again["status"] == "ok"
    assert up_again == 1
    assert b.proxy.state.store.current.route("products").config.mode == "service"


async def test_a_hold_ends_at_its_own_bound_while_the_store_is_gone(
    start_upstream, replica, store_url
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    server = urlsplit(store_url)
    relay = TcpRelay(server.hostname or "127.0.0.1", server.port or 5432)
    await relay.start()
    relayed = server._replace(netloc=f"{server.username}@127.0.0.1:{relay.port}").geturl()
    a = await replica(table_for(monolith, service, PRODUCTS), "a", url=relayed)
    status, held = await a.call("POST", "/routes/products/hold", {"seconds": 2})
    assert status == 200
    await relay.stop()  # nobody can release it through the store now
    _terminate(store_url, "strangler proxy a/0")
    url = f"{a.proxy.url}/api/v1/products/"

    during = await _status(a.proxy.session, "POST", url)  # waits out the hold's bound
    after = await _status(a.proxy.session, "POST", url)

    assert time.time() >= held["hold_until"]
    assert during == 503  # writes_held: the hold outlived its bound
    assert after == 200
    assert [s["method"] for s in monolith.seen] == ["POST"]
    assert a.proxy.state.fleet.up is False


async def test_routes_changed_across_the_fleet_under_load_fail_no_request(
    start_upstream, replica
) -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(0.005)  # a request is in flight when the table changes
        return web.json_response({"path": request.path})

    monolith, service = (
        await start_upstream("monolith", slow),
        await start_upstream("catalog", slow),
    )
    table = table_for(monolith, service, PRODUCTS)
    a, b = await replica(table, "a"), await replica(table, "b")
    stop = asyncio.Event()
    statuses: list[int] = []

    async def client(method: str) -> None:
        async with aiohttp.ClientSession() as session:
            while not stop.is_set():
                for proxy in (a.proxy, b.proxy):
                    try:
                        statuses.append(
                            await _status(session, method, f"{proxy.url}/api/v1/products/")
                        )
                    except aiohttp.ClientError:
                        statuses.append(-1)

    load = [asyncio.create_task(client(m)) for m in ("GET", "GET", "POST", "POST")]
    try:
        for mode in ("service", "canary", "monolith", "service", "shadow", "monolith"):
            status, body = await a.call(
                "PATCH", "/routes/products", {"mode": mode, "canary_percent": 50, "force": True}
            )
            assert status == 200
            await wait_for(
                lambda v=body["table_version"]: b.proxy.state.store.table_version >= v,
                deadline=5,
                what="b to serve the change",
            )
            done = len(statuses)
            await wait_for(lambda d=done: len(statuses) > d + 40, deadline=10, what="more load")
    finally:
        stop.set()
        await asyncio.gather(*load)

    failed = [s for s in statuses if s != 200]
    assert len(statuses) > 240
    assert failed == []
    assert {s["method"] for s in service.seen} == {"GET"}  # writes stay with the monolith
