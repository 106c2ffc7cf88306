"""Real in-process upstreams and a real proxy in front of them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from proxy.app import STATE, build_app
from proxy.health import HEALTH_USER_AGENT
from proxy.settings import ProxySettings
from tests.proxy import yaml_writer


@dataclass
class Upstream:
    """An upstream that records what reached it and answers as its handler says."""

    name: str
    server: TestServer
    seen: list[dict[str, Any]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _default_handler(request: web.Request) -> web.StreamResponse:
    return web.json_response({"path": request.path_qs})


@pytest.fixture
async def start_upstream() -> AsyncIterator[Callable[..., Awaitable[Upstream]]]:
    servers: list[TestServer] = []

    async def start(name: str, handler: Handler = _default_handler) -> Upstream:
        upstream: Upstream

        async def recording(request: web.Request) -> web.StreamResponse:
            if request.headers.get("User-Agent") == HEALTH_USER_AGENT:
                return await handler(request)  # the proxy's health checks are not traffic
            body = await request.read()
            upstream.seen.append(
                {
                    "method": request.method,
                    "path": request.raw_path,
                    "headers": request.headers.copy(),
                    "body": body,
                }
            )
            request._read_bytes = body  # handlers may read the body again
            return await handler(request)

        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", recording)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        upstream = Upstream(name, server)
        return upstream

    yield start
    for server in servers:
        await server.close()


@dataclass
class Proxy:
    server: TestServer
    app: web.Application
    routes_path: Path
    session: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    def write_table(self, table: dict[str, Any]) -> None:
        yaml_writer.write(self.routes_path, table)

    def reload(self) -> Any:
        return self.app[STATE].store.reload()

    @property
    def state(self) -> Any:
        return self.app[STATE]


@pytest.fixture
async def start_proxy(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Proxy]]]:
    started: list[Proxy] = []

    async def start(table: dict[str, Any], **settings: Any) -> Proxy:
        routes_path = tmp_path / f"routes-{len(started)}.yaml"
        yaml_writer.write(routes_path, table)
        app = build_app(ProxySettings(routes_path=routes_path, **settings))
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        session = aiohttp.ClientSession(auto_decompress=False)
        proxy = Proxy(server, app, routes_path, session)
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        await proxy.session.close()
        await proxy.server.close()


def table_for(
    monolith: Upstream, service: Upstream | None = None, *routes: dict[str, Any]
) -> dict[str, Any]:
    upstreams = {"monolith": {"url": monolith.url}}
    if service is not None:
        upstreams["catalog"] = {
            "url": service.url,
            "timeouts": {"connect": 1, "read": 5, "total": 10},
        }
    return {"upstreams": upstreams, "routes": list(routes)}


async def wait_for(condition: Callable[[], bool], *, deadline: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while loop.time() < end:
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out after {deadline}s waiting for {what}")
