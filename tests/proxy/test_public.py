"""The public port as production serves it (aiohttp's low-level server), and the same
application under aiohttp's own runner."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer

from strangler.proxy.app import build_app
from strangler.proxy.settings import ProxySettings
from tests.proxy import yaml_writer
from tests.proxy.conftest import raw_exchange, table_for


async def test_a_client_expecting_100_continue_is_told_to_go_on(
    start_upstream, start_proxy
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))
    head = (
        b"POST /orders/ HTTP/1.1\r\nHost: shop\r\nContent-Length: 2\r\n"
        b"Expect: 100-continue\r\nConnection: close\r\n\r\n"
    )

    reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
    writer.write(head)
    interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
    writer.write(b"{}")
    answer = await asyncio.wait_for(reader.read(), timeout=5)
    writer.close()

    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert answer.startswith(b"HTTP/1.1 200")
    assert monolith.seen[0]["body"] == b"{}"


async def test_an_unknown_expectation_is_refused_with_417(start_upstream, start_proxy) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))

    answer = await raw_exchange(
        proxy.host,
        proxy.port,
        b"GET / HTTP/1.1\r\nHost: shop\r\nExpect: teapot\r\nConnection: close\r\n\r\n",
    )

    assert answer.startswith(b"HTTP/1.1 417")
    assert monolith.seen == []


async def test_only_get_on_the_proxys_own_paths_is_answered_by_the_proxy(
    start_upstream, start_proxy
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))

    async with proxy.session.get(f"{proxy.url}/healthz?verbose=1") as own:
        assert await own.json() == {"status": "ok"}
    async with proxy.session.post(f"{proxy.url}/healthz") as forwarded:
        assert await forwarded.json() == {"path": "/healthz"}
    async with proxy.session.get(f"{proxy.url}/healthz/deep") as deeper:
        assert await deeper.json() == {"path": "/healthz/deep"}

    assert [seen["method"] for seen in monolith.seen] == ["POST", "GET"]


async def test_the_application_also_serves_under_aiohttps_own_runner(
    start_upstream, tmp_path: Path
) -> None:
    monolith = await start_upstream("monolith")
    routes = tmp_path / "routes.yaml"
    yaml_writer.write(routes, table_for(monolith))
    server = TestServer(build_app(ProxySettings(routes_path=routes)), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(server.make_url("/cart/?x=1")) as forwarded:
                assert await forwarded.json() == {"path": "/cart/?x=1"}
            async with session.get(server.make_url("/readyz")) as ready:
                assert ready.status == 200
    finally:
        await server.close()

    assert [seen["path"] for seen in monolith.seen] == ["/cart/?x=1"]
