"""Real in-process upstreams and a real proxy in front of them."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import uvloop
from aiohttp import web
from aiohttp.test_utils import TestServer

from strangler.proxy.admin import build_admin_app
from strangler.proxy.app import build_app
from strangler.proxy.config import Timeouts
from strangler.proxy.health import HEALTH_USER_AGENT
from strangler.proxy.public import PublicServer
from strangler.proxy.settings import ProxySettings
from strangler.proxy.state import STATE
from strangler.proxy.upstream_client import UpstreamClient
from tests.postgres_server import fresh_database
from tests.proxy import yaml_writer
from tests.proxy.dns_server import DnsServer, dnsmasq_or_skip

# A test's proxy drains in-flight requests this long when the test ends.
SHUTDOWN_SECONDS = 5.0
# Modules whose tests run twice: on asyncio's loop and on uvloop, the proxy's, whose
# transports differ in small ways (they are not asyncio.Transport subclasses, for one).
_BOTH_LOOPS = {"test_upstream_client.py", "test_edge.py"}


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    if item.path.name in _BOTH_LOOPS:
        return {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}
    return {"asyncio": asyncio.new_event_loop}  # one factory: test ids stay as they are


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


def held_until(release: asyncio.Event, answer: object = None) -> Handler:
    """An upstream's handler that answers ``answer`` as JSON (``{}`` if None) only once
    ``release`` is set: a slow view, or a stuck one."""

    async def held(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.json_response({} if answer is None else answer)

    return held


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
    """The proxy served as production serves it (``PublicServer``), on a free port."""

    server: PublicServer
    app: web.Application
    routes_path: Path
    session: aiohttp.ClientSession
    host: str = "127.0.0.1"

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def write_table(self, table: dict[str, Any]) -> None:
        yaml_writer.write(self.routes_path, table)

    async def reload(self) -> Any:
        return await self.app[STATE].store.reload()

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
        server = PublicServer(app, shutdown_timeout=SHUTDOWN_SECONDS)
        await server.start("127.0.0.1", 0)
        session = aiohttp.ClientSession(auto_decompress=False)
        proxy = Proxy(server, app, routes_path, session)
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        await proxy.session.close()
        await proxy.server.stop()


# The admin token of the in-process admin API (start_admin).
TOKEN = "admin-token-for-tests"


@dataclass
class Admin:
    server: TestServer
    proxy: Proxy
    session: aiohttp.ClientSession

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def call(
        self, method: str, path: str, body: object = None, *, token: str | None = TOKEN
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        async with self.session.request(
            method, self.url(path), json=body, headers=headers
        ) as response:
            return response.status, await response.json()


@pytest.fixture
async def start_admin(start_proxy) -> AsyncIterator[Callable[..., Awaitable[Admin]]]:
    started: list[Admin] = []

    async def start(table: dict[str, Any], *, token: str = TOKEN, **settings: Any) -> Admin:
        proxy = await start_proxy(table, admin_token=token, **settings)
        server = TestServer(build_admin_app(proxy.state.settings, proxy.app), host="127.0.0.1")
        await server.start_server()
        admin = Admin(server, proxy, aiohttp.ClientSession())
        started.append(admin)
        return admin

    yield start
    for admin in started:
        await admin.session.close()
        await admin.server.close()


# --- a fleet of replicas sharing a control store (STRANGLER_STORE_URL) ---------------------


@pytest.fixture
def store_url() -> Iterator[str]:
    """A control store of the test's own: an empty database on the test PostgreSQL."""
    with fresh_database("p_fleet") as url:
        yield url


@pytest.fixture
def replica(store_url: str, start_admin: Callable[..., Awaitable[Admin]]) -> Callable[..., Any]:
    """Start replica ``name`` of the fleet on ``store_url`` (or on ``url``), with ``table`` as
    its table file; its admin API and public port run in this process."""

    async def start(table: dict[str, Any], name: str, *, url: str = "", **settings: Any) -> Admin:
        return await start_admin(table, store_url=url or store_url, replica_id=name, **settings)

    return start


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


# --- the upstream client's peers ---------------------------------------------------------

# The smallest request a client sends: every test names its own Host.
GET: list[tuple[bytes, bytes]] = [(b"Host", b"upstream.test")]


@dataclass
class RawUpstream:
    """A socket server that misbehaves on cue: ``serve`` scripts each connection."""

    server: asyncio.Server
    connections: int = 0

    @property
    def url(self) -> str:
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"


ConnectionScript = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_head(reader: asyncio.StreamReader) -> bytes:
    """One request head (no body), or ``b""`` once the client has closed."""
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return b""


@pytest.fixture
async def raw_upstream() -> AsyncIterator[Callable[[ConnectionScript], Awaitable[RawUpstream]]]:
    started: list[RawUpstream] = []
    handlers: set[asyncio.Task[None]] = set()

    async def start(serve: ConnectionScript) -> RawUpstream:
        upstream: RawUpstream

        async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            upstream.connections += 1
            task = asyncio.current_task()
            assert task is not None
            handlers.add(task)
            try:
                await serve(reader, writer)
                await writer.drain()
            except ConnectionError:
                pass  # the client closed first: part of several scripts
            finally:
                writer.close()
                handlers.discard(task)

        server = await asyncio.start_server(connected, "127.0.0.1", 0)
        upstream = RawUpstream(server)
        started.append(upstream)
        return upstream

    yield start
    for task in list(handlers):
        task.cancel()
    await asyncio.gather(*handlers, return_exceptions=True)
    for upstream in started:
        upstream.server.close()
        await upstream.server.wait_closed()


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[..., UpstreamClient]]:
    clients: list[UpstreamClient] = []

    def make(
        url: str,
        *,
        pool_size: int = 10,
        connect: float = 1.0,
        read: float = 5.0,
        total: float = 10.0,
    ) -> UpstreamClient:
        timeouts = Timeouts(connect=connect, read=read, total=total)
        client = UpstreamClient("upstream", url, pool_size=pool_size, timeouts=timeouts)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
def unused_port() -> int:
    """A port nothing listens on: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def _private_var_dir(tmp_path_factory, monkeypatch) -> None:
    """Comparison results (and captures) go to a directory of the test's, never var/."""
    monkeypatch.setenv("STRANGLER_VAR_DIR", str(tmp_path_factory.mktemp("var")))


async def raw_exchange(host: str, port: int, raw: bytes) -> bytes:
    """Send ``raw`` on a fresh connection; everything the server sends until it closes."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(raw)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), timeout=5)
    finally:
        writer.close()


# --- a real DNS server (tests.proxy.dns_server) --------------------------------------------


@pytest.fixture
def dns_server(tmp_path: Path) -> Iterator[DnsServer]:
    """dnsmasq on 127.0.0.1 and a free port, not started: ``publish`` records, ``start``.
    Skips loudly where dnsmasq is not installed (fails with STRANGLER_REQUIRE_DNSMASQ=1)."""
    dnsmasq_or_skip()
    server = DnsServer(tmp_path / "dns")
    yield server
    server.stop()
