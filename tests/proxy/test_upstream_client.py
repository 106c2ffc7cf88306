"""The lean upstream client against real in-process upstreams: aiohttp servers where the
upstream behaves, raw sockets where it misbehaves. Each test runs on asyncio's loop and on
uvloop (the proxy's), see ``pytest_asyncio_loop_factories`` in conftest.py."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from strangler.proxy.errors import (
    RequestTooLarge,
    UpstreamBroken,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from strangler.proxy.upstream_answer import READ_HIGH_WATER
from strangler.proxy.upstream_response import UpstreamResponse
from tests.proxy.conftest import GET, RawUpstream, read_head, wait_for


async def _read_to_the_end(response: UpstreamResponse) -> int:
    size = 0
    while chunk := await response.read_chunk():
        size += len(chunk)
    return size


async def test_keep_alive_connections_are_reused(raw_upstream, make_client) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await read_head(reader):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    upstream: RawUpstream = await raw_upstream(answer)
    client = make_client(upstream.url)

    for _ in range(5):
        response = await client.request("GET", "/", GET)
        assert await response.read() == b"ok"
        response.release()

    assert upstream.connections == 1
    assert client.idle_connections == 1


async def test_a_chunked_answer_is_read_whole(start_upstream, make_client) -> None:
    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for part in (b"one,", b"two,", b"three"):
            await response.write(part)
        await response.write_eof()
        return response

    upstream = await start_upstream("chunked", chunked)
    client = make_client(upstream.url)

    response = await client.request("GET", "/", GET)
    body = await response.read()
    response.release()

    assert response.content_length is None
    assert body == b"one,two,three"
    assert client.idle_connections == 1  # a complete chunked answer leaves it reusable


async def test_a_content_length_answer_carries_its_length_and_headers(
    start_upstream, make_client
) -> None:
    async def sized(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 1000, headers={"X-Kept": "yes"})

    upstream = await start_upstream("sized", sized)
    client = make_client(upstream.url)

    response = await client.request("GET", "/thing?q=1", GET)
    body = await response.read()
    response.release()

    assert (response.status, response.reason, response.content_length) == (200, "OK", 1000)
    assert response.headers["X-Kept"] == "yes"
    assert body == b"x" * 1000
    assert upstream.seen[0]["path"] == "/thing?q=1"


async def test_an_upstream_closing_mid_body_is_broken_and_its_connection_dropped(
    raw_upstream,
    make_client,
) -> None:
    async def truncated(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
        await writer.drain()
        writer.close()

    upstream = await raw_upstream(truncated)
    client = make_client(upstream.url)

    response = await client.request("GET", "/", GET)
    with pytest.raises(UpstreamBroken, match="mid-body"):
        await response.read()
    response.release()

    assert client.open_connections == 0
    assert client.idle_connections == 0


async def test_a_silent_upstream_times_out_on_read(raw_upstream, make_client) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        await reader.read()  # never answers; waits for the client to give up

    upstream = await raw_upstream(silent)
    client = make_client(upstream.url, read=0.2, total=10)

    with pytest.raises(UpstreamTimeout, match="sent nothing"):
        await client.request("GET", "/", GET)

    assert client.open_connections == 0


async def test_a_trickling_upstream_times_out_at_its_total_timeout(
    raw_upstream, make_client
) -> None:
    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        while not writer.is_closing():
            writer.write(b"1\r\nx\r\n")  # a byte every 50 ms: never silent for 0.2 s
            await asyncio.sleep(0.05)

    upstream = await raw_upstream(trickle)
    client = make_client(upstream.url, read=0.2, total=0.5)

    response = await client.request("GET", "/", GET)
    with pytest.raises(UpstreamTimeout, match="total timeout"):
        await _read_to_the_end(response)
    response.release()

    assert client.open_connections == 0


async def test_an_upstream_that_never_accepts_times_out_on_connect(make_client) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        # Fill the accept queue (nobody accepts): further SYNs are dropped, connects hang.
        fillers = [socket.socket() for _ in range(4)]
        for filler in fillers:
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", port))
        client = make_client(f"http://127.0.0.1:{port}", connect=0.2)
        try:
            with pytest.raises(UpstreamTimeout, match="did not accept"):
                await client.request("GET", "/", GET)
        finally:
            for filler in fillers:
                filler.close()

    assert client.open_connections == 0


async def test_a_refused_connection_is_unreachable(unused_port, make_client) -> None:
    client = make_client(f"http://127.0.0.1:{unused_port}")

    with pytest.raises(UpstreamUnreachable, match="could not be reached"):
        await client.request("GET", "/", GET)

    assert client.open_connections == 0


async def test_the_pool_never_opens_more_than_its_size(start_upstream, make_client) -> None:
    release, in_flight = asyncio.Event(), []

    async def held(request: web.Request) -> web.Response:
        in_flight.append(request)
        await release.wait()
        return web.Response(text="done")

    upstream = await start_upstream("held", held)
    client = make_client(upstream.url, pool_size=2)

    async def fetch() -> bytes:
        response = await client.request("GET", "/", GET)
        try:
            return await response.read()
        finally:
            response.release()

    tasks = [asyncio.create_task(fetch()) for _ in range(3)]
    await wait_for(lambda: len(in_flight) == 2, deadline=5, what="two requests upstream")
    assert client.open_connections == 2
    release.set()
    bodies = await asyncio.gather(*tasks)

    assert bodies == [b"done"] * 3
    assert len(in_flight) == 3
    assert client.open_connections == 2  # the third waited and reused one of the two


async def test_waiting_for_a_full_pool_ends_at_the_total_timeout(
    start_upstream, make_client
) -> None:
    release = asyncio.Event()

    async def held(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="done")

    upstream = await start_upstream("held", held)
    client = make_client(upstream.url, pool_size=1, total=0.3)
    first = asyncio.create_task(client.request("GET", "/", GET))
    await wait_for(lambda: client.open_connections == 1, deadline=5, what="the first request")

    # Whichever ends first, the wait for the pool or the first request freeing its slot at
    # its own total timeout, the second request ends at its total timeout.
    with pytest.raises(UpstreamTimeout):
        await client.request("GET", "/", GET)
    # The upstream still holds the first request: it too ends at its total timeout. (Released
    # before this await, a loaded machine could deliver the answer ahead of the timeout.)
    with pytest.raises(UpstreamTimeout):
        await first
    release.set()


async def test_a_large_answer_is_streamed_without_buffering_it(raw_upstream, make_client) -> None:
    total, chunk = 64 * 1024 * 1024, b"z" * 65536
    progress = {"written": 0, "blocked": False}

    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % total)
        while progress["written"] < total:
            writer.write(chunk)
            progress["written"] += len(chunk)
            if writer.transport.get_write_buffer_size() > 0:
                progress["blocked"] = True  # the socket is full: the reader stopped reading
            await writer.drain()

    upstream = await raw_upstream(flood)
    client = make_client(upstream.url)

    response = await client.request("GET", "/", GET)
    first = await response.read_chunk()
    await wait_for(lambda: progress["blocked"], deadline=10, what="the upstream to be held back")
    held_back_at = progress["written"]
    buffered = response.buffered
    received = len(first) + await _read_to_the_end(response)
    response.release()

    assert held_back_at < total // 4  # the upstream waited on us, far from the end
    assert buffered <= READ_HIGH_WATER + 256 * 1024  # at most the high water and one read
    assert received == total


async def test_a_streamed_upload_goes_out_chunked_when_its_size_is_unknown(
    start_upstream,
    make_client,
) -> None:
    upstream = await start_upstream("sink")
    client = make_client(upstream.url)
    parts = [bytes([n]) * 100_000 for n in range(40)]  # 4 MB in 40 parts

    async def body() -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    response = await client.request("POST", "/upload", GET, body())
    await response.read()
    response.release()

    seen = upstream.seen[0]
    assert seen["headers"]["Transfer-Encoding"] == "chunked"
    assert seen["body"] == b"".join(parts)
    assert client.idle_connections == 1


async def test_a_streamed_upload_of_known_size_goes_out_as_is(start_upstream, make_client) -> None:
    upstream = await start_upstream("sink")
    client = make_client(upstream.url)

    async def body() -> AsyncIterator[bytes]:
        yield b"a" * 1000
        yield b"b" * 1000

    headers = [*GET, (b"Content-Length", b"2000")]
    response = await client.request("PUT", "/upload", headers, body())
    await response.read()
    response.release()

    seen = upstream.seen[0]
    assert "Transfer-Encoding" not in seen["headers"]
    assert seen["body"] == b"a" * 1000 + b"b" * 1000


async def test_a_failing_request_body_passes_its_own_error_on(start_upstream, make_client) -> None:
    upstream = await start_upstream("sink")
    client = make_client(upstream.url)

    async def body() -> AsyncIterator[bytes]:
        yield b"a" * 1000
        raise RequestTooLarge("too big")

    with pytest.raises(RequestTooLarge):
        await client.request("POST", "/upload", GET, body())

    assert client.open_connections == 0  # half a request went out: the connection is gone


async def test_a_head_answer_has_no_body_whatever_its_length(raw_upstream, make_client) -> None:
    async def head(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await read_head(reader):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")

    upstream = await raw_upstream(head)
    client = make_client(upstream.url)

    response = await client.request("HEAD", "/", GET)
    body = await response.read()
    response.release()

    assert (response.status, response.content_length, body) == (200, 1000, b"")


@pytest.mark.parametrize("status", [204, 304])
async def test_no_body_statuses_end_at_their_head_and_keep_the_connection(
    raw_upstream,
    status: int,
    make_client,
) -> None:
    async def empty(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await read_head(reader):
            writer.write(b'HTTP/1.1 %d Nothing\r\nETag: "v1"\r\n\r\n' % status)

    upstream = await raw_upstream(empty)
    client = make_client(upstream.url)

    for _ in range(2):
        response = await client.request("GET", "/", GET)
        assert await response.read() == b""
        response.release()

    assert response.status == status
    assert upstream.connections == 1


async def test_interim_answers_are_skipped(raw_upstream, make_client) -> None:
    async def hints(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
        writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\ndone")

    upstream = await raw_upstream(hints)
    client = make_client(upstream.url)

    response = await client.request("POST", "/", GET, b"{}")
    body = await response.read()
    response.release()

    assert (response.status, body) == (201, b"done")
    assert "Link" not in response.headers


async def test_switching_protocols_unasked_is_broken(raw_upstream, make_client) -> None:
    async def upgrade(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")

    upstream = await raw_upstream(upgrade)
    client = make_client(upstream.url)

    with pytest.raises(UpstreamBroken, match="switched protocols"):
        await client.request("GET", "/", GET)


async def test_connection_close_is_honoured(raw_upstream, make_client) -> None:
    async def closing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")

    upstream = await raw_upstream(closing)
    client = make_client(upstream.url)

    for _ in range(2):
        response = await client.request("GET", "/", GET)
        assert await response.read() == b"ok"
        response.release()

    assert upstream.connections == 2
    assert client.idle_connections == 0


async def test_a_body_delimited_by_the_end_of_the_connection_is_read_to_its_end(
    raw_upstream,
    make_client,
) -> None:
    async def until_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it")
        await writer.drain()
        writer.close()

    upstream = await raw_upstream(until_close)
    client = make_client(upstream.url)

    response = await client.request("GET", "/", GET)
    body = await response.read()
    response.release()

    assert body == b"all of it"
    assert client.open_connections == 0


async def test_an_idempotent_request_is_retried_once_when_its_idle_connection_went_stale(
    raw_upstream,
    make_client,
) -> None:
    async def one_answer_per_connection(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await read_head(reader)
        writer.close()  # as if its keep-alive timeout ended just as the request came

    upstream = await raw_upstream(one_answer_per_connection)
    client = make_client(upstream.url)
    first = await client.request("GET", "/", GET)
    await first.read()
    first.release()

    again = await client.request("GET", "/", GET)
    assert await again.read() == b"ok"
    again.release()
    assert upstream.connections == 2

    with pytest.raises(UpstreamBroken):  # a POST may have been processed: never resent
        await client.request("POST", "/", GET, b"{}")


async def test_invalid_http_from_the_upstream_is_broken(raw_upstream, make_client) -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n")

    upstream = await raw_upstream(garbage)
    client = make_client(upstream.url)

    with pytest.raises(UpstreamBroken, match="invalid HTTP"):
        await client.request("GET", "/", GET)


async def test_bytes_after_a_complete_answer_drop_the_connection(raw_upstream, make_client) -> None:
    async def extra(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await read_head(reader):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
            writer.write(b"HTTP/1.1 200 OK\r\n")  # an answer nobody asked for

    upstream = await raw_upstream(extra)
    client = make_client(upstream.url)
    response = await client.request("GET", "/", GET)
    await response.read()
    response.release()

    await wait_for(lambda: client.open_connections == 0, deadline=5, what="the drop")
    second = await client.request("GET", "/", GET)
    assert await second.read() == b"ok"
    second.release()
    assert upstream.connections == 2


async def test_a_cancelled_request_frees_its_connection(raw_upstream, make_client) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        await reader.read()

    upstream = await raw_upstream(silent)
    client = make_client(upstream.url, pool_size=1)
    task = asyncio.create_task(client.request("GET", "/", GET))
    await wait_for(lambda: upstream.connections == 1, deadline=5, what="the request upstream")

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert client.open_connections == 0


async def test_a_missing_host_is_the_upstream_address_and_our_headers_go_as_given(
    start_upstream,
    make_client,
) -> None:
    upstream = await start_upstream("echo")
    client = make_client(upstream.url)

    response = await client.request("GET", "/", [(b"X-Request-ID", b"abc12345")])
    await response.read()
    response.release()

    headers = upstream.seen[0]["headers"]
    assert headers["Host"] == upstream.url.removeprefix("http://")
    assert headers["X-Request-ID"] == "abc12345"
    assert "Accept-Encoding" not in headers  # nothing added that the client did not ask


async def test_a_header_with_a_line_break_is_refused_before_sending(
    start_upstream, make_client
) -> None:
    upstream = await start_upstream("echo")
    client = make_client(upstream.url)

    with pytest.raises(ValueError, match="line break"):
        await client.request("GET", "/", [(b"X-Evil", b"a\r\nX-Injected: 1")])

    assert upstream.seen == []


async def test_closing_the_pool_ends_the_requests_using_or_awaiting_it(
    start_upstream, make_client
) -> None:
    release = asyncio.Event()

    async def held(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="done")

    upstream = await start_upstream("held", held)
    client = make_client(upstream.url, pool_size=1)
    using = asyncio.create_task(client.request("GET", "/", GET))
    await wait_for(lambda: len(upstream.seen) == 1, deadline=5, what="the first request")
    awaiting = asyncio.create_task(client.request("GET", "/", GET))
    await wait_for(lambda: client.waiting == 1, deadline=5, what="the second to wait")

    await client.close()
    release.set()

    with pytest.raises(UpstreamUnreachable, match="pool was closed"):
        await awaiting
    with pytest.raises(UpstreamBroken):
        await using
    with pytest.raises(UpstreamUnreachable, match="pool was closed"):
        await client.request("GET", "/", GET)


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made by the openssl command line tool."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


async def _tls_upstream(cert: Path, key: Path) -> TestServer:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text=f"over {request.scheme}")

    app = web.Application()
    app.router.add_get("/", hello)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(ssl=context)
    return server


async def test_an_https_upstream_is_reached_over_verified_tls(
    self_signed, make_client, monkeypatch
) -> None:
    cert, key = self_signed
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust it as a CA would be trusted
    server = await _tls_upstream(cert, key)
    try:
        client = make_client(f"https://127.0.0.1:{server.port}")
        response = await client.request("GET", "/", [(b"Host", b"127.0.0.1")])
        body = await response.read()
        response.release()
    finally:
        await server.close()

    assert body == b"over https"


async def test_an_https_upstream_with_an_untrusted_certificate_is_unreachable(
    self_signed, make_client
) -> None:
    cert, key = self_signed
    server = await _tls_upstream(cert, key)
    try:
        client = make_client(f"https://127.0.0.1:{server.port}")
        with pytest.raises(UpstreamUnreachable):
            await client.request("GET", "/", [(b"Host", b"127.0.0.1")])
    finally:
        await server.close()
