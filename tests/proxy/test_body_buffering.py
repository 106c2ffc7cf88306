"""Request bodies are read whole at the proxy before any upstream is asked, within a total
time limit: a slow client ties up the proxy, never an upstream's worker (issue: two slow
uploads at 300 B every 5 s held both monolith workers for 30 s)."""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.test_utils import TestServer

from strangler.proxy.health import HEALTH_USER_AGENT
from tests.proxy.conftest import table_for

PRODUCTS = {"name": "products", "prefix": "/api/v1/products/", "owner": "catalog"}


async def _trickle(host: str, port: int, *, total: int, piece: int, every: float) -> bytes:
    """A POST whose body arrives ``piece`` bytes every ``every`` seconds; the status line."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(
            b"POST /api/v1/products/ HTTP/1.1\r\nHost: shop\r\n"
            + f"Content-Length: {total}\r\n\r\n".encode()
        )
        status = asyncio.ensure_future(reader.readline())
        sent = 0
        while sent < total and not status.done():
            writer.write(b"x" * piece)
            await writer.drain()
            sent += piece
            await asyncio.wait([status], timeout=every)
        return await asyncio.wait_for(status, timeout=10)
    finally:
        writer.close()


async def test_a_trickling_body_never_reaches_the_upstream_and_is_cut_off_in_total_time(
    start_proxy,
) -> None:
    # An upstream that notes each request as its head arrives, before it reads any body: a
    # proxy that streamed the body would have opened the request here at once.
    heads: list[str] = []

    async def note_head(request: web.Request) -> web.Response:
        if request.headers.get("User-Agent") != HEALTH_USER_AGENT:  # checks are not traffic
            heads.append(request.method)
        await request.read()
        return web.json_response({})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", note_head)
    upstream = TestServer(app, host="127.0.0.1")
    await upstream.start_server()
    try:
        url = str(upstream.make_url("")).rstrip("/")
        proxy = await start_proxy(
            {"upstreams": {"monolith": {"url": url}}, "routes": []},
            client_body_timeout=5.0,
            client_body_total_timeout=0.6,
        )
        slow = asyncio.ensure_future(
            _trickle(proxy.host, proxy.port, total=300_000, piece=300, every=0.1)
        )

        # Meanwhile other clients are answered, and the upstream has seen nothing of the upload.
        async with proxy.session.get(f"{proxy.url}/api/v1/products/") as other:
            assert other.status == 200
        assert heads == ["GET"]
        status_line = await slow

        assert status_line.startswith(b"HTTP/1.1 408"), status_line
        assert heads == ["GET"]
    finally:
        await upstream.close()


async def test_a_body_that_arrives_in_time_goes_upstream_whole_in_one_request(
    start_upstream, start_proxy
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith), client_body_total_timeout=10.0)

    status_line = await _trickle(proxy.host, proxy.port, total=3000, piece=1000, every=0.05)

    assert status_line.startswith(b"HTTP/1.1 200"), status_line
    assert [len(seen["body"]) for seen in monolith.seen] == [3000]


async def test_a_body_above_the_buffer_is_refused_unless_the_route_streams_bodies(
    start_upstream, start_proxy
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    uploads = {"name": "uploads", "prefix": "/uploads/", "owner": "catalog",
               "stream_request_body": True}  # fmt: skip
    proxy = await start_proxy(
        table_for(monolith, service, PRODUCTS, uploads), body_buffer_bytes=1024
    )

    async with proxy.session.post(f"{proxy.url}/api/v1/products/", data=b"x" * 2048) as refused:
        body = await refused.json()
    async with proxy.session.post(f"{proxy.url}/uploads/", data=b"y" * 2048) as streamed:
        assert streamed.status == 200

    assert refused.status == 413
    assert body["code"] == "body_too_large_to_buffer"
    assert [len(seen["body"]) for seen in monolith.seen] == [2048]  # only the upload


async def test_a_chunked_body_that_outgrows_the_buffer_is_refused_too(
    start_upstream, start_proxy
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith), body_buffer_bytes=1024)

    async def chunks():
        for _ in range(4):
            yield b"z" * 512

    async with proxy.session.post(f"{proxy.url}/api/v1/products/", data=chunks()) as refused:
        assert refused.status == 413
    assert monolith.seen == []
