"""The edge of the public port, attacked over raw sockets as a hostile client would."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from aiohttp import web
from prometheus_client import REGISTRY

from tests.proxy.conftest import held_until, raw_exchange, table_for, wait_for

# Generous beside the limits the tests set (fractions of a second): a loaded machine.
DEADLINE = 10.0


@dataclass
class Answer:
    status_line: bytes
    headers: dict[str, str]
    body: bytes

    @property
    def status(self) -> int:
        return int(self.status_line.split()[1])

    def json(self) -> dict[str, str]:
        return dict(json.loads(self.body))


async def read_answer(reader: asyncio.StreamReader) -> Answer:
    """One response with a Content-Length body from ``reader``."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=DEADLINE)
    status_line, *lines = head[:-4].split(b"\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Answer(status_line, headers, body)


def parse(raw: bytes) -> Answer:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.split(b"\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(status_line, headers, body)


async def closed_by_peer(reader: asyncio.StreamReader) -> bytes:
    """What the server sends before it closes the connection (fails if it never does)."""
    return await asyncio.wait_for(reader.read(), timeout=DEADLINE)


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def connections() -> AsyncIterator[Callable[..., Awaitable[Connection]]]:
    opened: list[asyncio.StreamWriter] = []

    async def open_(proxy) -> Connection:
        reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
        opened.append(writer)
        return Connection(reader, writer)

    yield open_
    for writer in opened:
        writer.close()


@dataclass
class Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def send(self, raw: bytes) -> None:
        self.writer.write(raw)
        await self.writer.drain()


GET = b"GET /products/ HTTP/1.1\r\nHost: shop\r\n\r\n"


# --- slow clients -------------------------------------------------------------------------


async def test_a_half_sent_head_is_answered_408_and_closed_while_others_are_served(
    start_upstream, start_proxy, connections
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith), header_timeout=0.5)
    before = counted("strangler_proxy_connections_closed_total", reason="header_timeout")
    slow = await connections(proxy)
    await slow.send(b"GET /products/ HTTP/1.1\r\nHost: shop\r\nX-Half: ")

    async with proxy.session.get(f"{proxy.url}/products/") as served:
        assert served.status == 200
    answer = parse(await closed_by_peer(slow.reader))

    assert answer.status == 408
    assert answer.json()["code"] == "header_timeout"
    assert answer.headers["connection"] == "close"
    assert [seen["path"] for seen in monolith.seen] == ["/products/"]
    after = counted("strangler_proxy_connections_closed_total", reason="header_timeout")
    assert after == before + 1


async def test_a_head_trickled_a_byte_at_a_time_is_cut_off_at_the_header_timeout(
    start_upstream, start_proxy, connections
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith), header_timeout=0.5)
    slow = await connections(proxy)
    loop = asyncio.get_running_loop()
    started = loop.time()

    await slow.send(b"GET /products/ HTTP/1.1\r\nHost: shop\r\nX-Slow: ")
    answered = b""
    while not answered and loop.time() - started < DEADLINE:
        slow.writer.write(b"a")  # a byte every 50 ms: each well within any idle timeout
        try:
            answered = await asyncio.wait_for(slow.reader.read(65536), timeout=0.05)
        except TimeoutError:
            continue

    assert parse(answered).json()["code"] == "header_timeout"
    assert loop.time() - started < DEADLINE
    assert monolith.seen == []


async def test_a_connection_that_sends_nothing_is_closed_silently_at_the_header_timeout(
    start_upstream, start_proxy, connections
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith), header_timeout=0.3)
    silent = await connections(proxy)

    assert await closed_by_peer(silent.reader) == b""


async def test_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout(
    start_upstream, start_proxy, connections
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith), keepalive_timeout=0.3)
    before = counted("strangler_proxy_connections_closed_total", reason="keepalive_timeout")
    client = await connections(proxy)

    await client.send(GET)
    first = await read_answer(client.reader)
    await client.send(GET)  # served again on the same connection: it is kept alive
    second = await read_answer(client.reader)

    assert (first.status, second.status) == (200, 200)
    assert await closed_by_peer(client.reader) == b""
    after = counted("strangler_proxy_connections_closed_total", reason="keepalive_timeout")
    assert after == before + 1


async def test_a_slow_request_is_not_cut_off_by_the_header_timeout(
    start_upstream, start_proxy, connections
) -> None:
    async def slow(_request: web.Request) -> web.Response:
        await asyncio.sleep(1.0)  # the upstream's own time, longer than the header timeout
        return web.json_response({"slow": True})

    monolith = await start_upstream("monolith", slow)
    proxy = await start_proxy(table_for(monolith), header_timeout=0.3, keepalive_timeout=0.3)
    client = await connections(proxy)

    await client.send(GET)

    assert (await read_answer(client.reader)).json() == {"slow": True}


# --- the connection cap -------------------------------------------------------------------


async def test_at_the_cap_the_connection_waiting_longest_makes_room_for_a_new_one(
    start_upstream, start_proxy, connections
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith), max_connections=3)
    before = counted("strangler_proxy_connections_closed_total", reason="evicted")
    idle = [await connections(proxy) for _ in range(3)]
    await wait_for(
        lambda: counted("strangler_proxy_client_connections") >= 3, deadline=DEADLINE,
        what="three connections open",
    )  # fmt: skip

    newcomer = await connections(proxy)
    await newcomer.send(GET)

    assert (await read_answer(newcomer.reader)).status == 200
    assert await closed_by_peer(idle[0].reader) == b""
    assert counted("strangler_proxy_connections_closed_total", reason="evicted") == before + 1
    await idle[1].send(GET)  # the others stay
    assert (await read_answer(idle[1].reader)).status == 200


async def test_at_the_cap_the_order_is_by_when_a_connection_began_to_wait_not_its_age(
    start_upstream, start_proxy, connections
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith), max_connections=3)
    idle = [await connections(proxy) for _ in range(3)]
    await wait_for(
        lambda: counted("strangler_proxy_client_connections") >= 3, deadline=DEADLINE,
        what="three connections open",
    )  # fmt: skip
    await idle[0].send(GET)  # the oldest is answered: it waits again from now on
    assert (await read_answer(idle[0].reader)).status == 200

    newcomer = await connections(proxy)
    await newcomer.send(GET)

    assert (await read_answer(newcomer.reader)).status == 200
    assert await closed_by_peer(idle[1].reader) == b""
    await idle[0].send(GET)
    assert (await read_answer(idle[0].reader)).status == 200


async def test_at_the_cap_with_every_connection_busy_a_new_one_is_refused_503(
    start_upstream, start_proxy, connections
) -> None:
    release = asyncio.Event()
    monolith = await start_upstream("monolith", held_until(release))
    proxy = await start_proxy(table_for(monolith), max_connections=2)
    busy = [await connections(proxy) for _ in range(2)]
    for client in busy:
        await client.send(GET)
    await wait_for(lambda: len(monolith.seen) == 2, deadline=DEADLINE, what="two busy")

    refused = await connections(proxy)
    answer = parse(await closed_by_peer(refused.reader))
    release.set()

    assert answer.status == 503
    assert answer.json()["code"] == "too_many_connections"
    assert [(await read_answer(client.reader)).status for client in busy] == [200, 200]


# --- the head's size ----------------------------------------------------------------------


async def exchange(proxy, raw: bytes) -> Answer:
    return parse(await raw_exchange(proxy.host, proxy.port, raw))


async def test_a_head_over_32_kib_in_lines_under_8_kib_is_refused_431(
    start_upstream, start_proxy
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))
    lines = b"".join(b"X-Big-%d: %s\r\n" % (i, b"a" * 8000) for i in range(5))

    answer = await exchange(proxy, b"GET / HTTP/1.1\r\nHost: shop\r\n" + lines + b"\r\n")

    assert answer.status == 431
    assert answer.json()["code"] == "header_too_large"
    assert monolith.seen == []


async def test_a_head_still_growing_past_32_kib_is_refused_before_it_ends(
    start_upstream, start_proxy, connections
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))
    client = await connections(proxy)

    await client.send(b"GET / HTTP/1.1\r\nHost: shop\r\n")
    for i in range(6):  # never the blank line that ends a head
        await client.send(b"X-Big-%d: %s\r\n" % (i, b"a" * 8000))
    answer = parse(await closed_by_peer(client.reader))

    assert answer.status == 431
    assert answer.json()["code"] == "header_too_large"


async def test_a_head_over_32_kib_pipelined_behind_a_small_one_is_refused_431(
    start_upstream, start_proxy, connections
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))
    client = await connections(proxy)
    lines = b"".join(b"X-Big-%d: %s\r\n" % (i, b"a" * 8000) for i in range(5))

    await client.send(GET + b"GET /big/ HTTP/1.1\r\nHost: shop\r\n" + lines + b"\r\n")
    first, second = await read_answer(client.reader), await read_answer(client.reader)

    assert (first.status, second.status) == (200, 431)
    assert [seen["path"] for seen in monolith.seen] == ["/products/"]


async def test_a_small_head_pipelined_behind_a_large_body_is_served(
    start_upstream, start_proxy, connections
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))
    client = await connections(proxy)
    body = b"a" * 100_000

    await client.send(
        b"POST /cart/ HTTP/1.1\r\nHost: shop\r\nContent-Length: %d\r\n\r\n" % len(body) + body + GET
    )
    first, second = await read_answer(client.reader), await read_answer(client.reader)

    assert (first.status, second.status) == (200, 200)
    assert monolith.seen[0]["body"] == body


async def test_a_header_line_over_8_kib_is_refused_431(start_upstream, start_proxy) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))

    answer = await exchange(
        proxy, b"GET / HTTP/1.1\r\nHost: shop\r\nX: " + b"a" * 9000 + b"\r\n\r\n"
    )

    assert answer.status == 431
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["code"] == "header_too_large"


async def test_more_than_100_header_fields_are_refused_431(start_upstream, start_proxy) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))
    lines = b"".join(b"X-F%d: 1\r\n" % i for i in range(101))

    answer = await exchange(proxy, b"GET / HTTP/1.1\r\nHost: shop\r\n" + lines + b"\r\n")

    assert answer.status == 431
    assert answer.json()["code"] == "too_many_headers"


async def test_a_request_line_over_8_kib_is_refused_414(start_upstream, start_proxy) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))

    answer = await exchange(proxy, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: shop\r\n\r\n")

    assert answer.status == 414
    assert answer.json()["code"] == "uri_too_long"


async def test_an_unparseable_request_is_answered_400_in_json(start_upstream, start_proxy) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))

    answer = await exchange(proxy, b"GET / HTTP/1.1\r\nHost: shop\r\nBad Name: x\r\n\r\n")

    assert answer.status == 400
    assert answer.json()["code"] == "bad_request"


# --- HTTP/1.x only ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_line",
    [b"GET / HTTP/0.9\r\n", b"GET /\r\n", b"GET / HTTP/2.0\r\n", b"GET / HTTP/1.2\r\n"],
    ids=["http-0.9", "http-0.9-simple", "http-2.0", "http-1.2"],
)
async def test_a_request_line_of_another_http_version_is_refused_505(
    start_upstream, start_proxy, request_line: bytes
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))

    answer = await exchange(proxy, request_line + b"Host: shop\r\n\r\n")

    assert answer.status_line.startswith(b"HTTP/1.")
    assert answer.status == 505
    assert answer.json()["code"] == "http_version_not_supported"
    assert monolith.seen == []


async def test_http_1_0_is_still_served(start_upstream, start_proxy) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))

    answer = await exchange(proxy, b"GET /products/ HTTP/1.0\r\nHost: shop\r\n\r\n")

    assert answer.status == 200
    assert monolith.seen[0]["path"] == "/products/"


# --- chunked trailers ---------------------------------------------------------------------


async def test_a_chunked_trailer_never_reaches_the_next_request_on_the_connection(
    start_upstream, start_proxy, connections
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))
    client = await connections(proxy)

    await client.send(
        b"POST /cart/ HTTP/1.1\r\nHost: shop\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\n{}\r\n0\r\nX-Smuggled: yes\r\n\r\n"
        b"GET /products/ HTTP/1.1\r\nHost: shop\r\n\r\n"
    )
    first = await read_answer(client.reader)
    rest = await closed_by_peer(client.reader)

    assert first.status == 200
    assert first.headers["connection"] == "close"
    assert rest == b""  # the pipelined request is left for a fresh connection
    assert [seen["path"] for seen in monolith.seen] == ["/cart/"]
    assert monolith.seen[0]["body"] == b"{}"
    again = await exchange(
        proxy, b"GET /products/ HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n"
    )
    assert again.status == 200
    assert all("X-Smuggled" not in seen["headers"] for seen in monolith.seen)


async def test_a_request_with_a_length_keeps_its_connection(
    start_upstream, start_proxy, connections
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))
    client = await connections(proxy)

    await client.send(b"POST /cart/ HTTP/1.1\r\nHost: shop\r\nContent-Length: 2\r\n\r\n{}" + GET)

    assert [(await read_answer(client.reader)).status for _ in range(2)] == [200, 200]
