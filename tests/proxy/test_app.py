"""The proxy against real in-process upstreams: every mode and the HTTP hygiene rules."""

from __future__ import annotations

import asyncio
import io
import socket
import time

import aiohttp
import pytest
from aiohttp import web

from tests.proxy.conftest import raw_exchange, table_for, wait_for

PRODUCTS = {"name": "products", "prefix": "/api/v1/products/", "owner": "catalog"}


async def test_unrouted_paths_go_to_the_monolith_untouched(start_upstream, start_proxy) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))

    async with proxy.session.get(f"{proxy.url}/cart/?x=1") as response:
        body = await response.json()

    assert response.status == 200
    assert body == {"path": "/cart/?x=1"}
    assert monolith.seen[0]["path"] == "/cart/?x=1"


async def test_service_mode_answers_from_the_service(start_upstream, start_proxy) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    proxy = await start_proxy(table_for(monolith, service, {**PRODUCTS, "mode": "service"}))

    async with proxy.session.get(f"{proxy.url}/api/v1/products/7/") as response:
        assert response.status == 200

    assert [s["path"] for s in service.seen] == ["/api/v1/products/7/"]
    assert monolith.seen == []


async def test_a_bypass_spelling_reaches_the_owner_of_its_canonical_path(
    start_upstream, start_proxy
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    proxy = await start_proxy(table_for(monolith, service, {**PRODUCTS, "mode": "service"}))

    for spelling in (
        "/api/v1/orders/../products/1/",
        "/api/v1/%2e%2e/v1/products/1/",
        "//api/v1/product%73/1/",
    ):
        async with proxy.session.get(f"{proxy.url}{spelling}") as response:
            assert response.status == 200

    assert [s["path"] for s in service.seen] == ["/api/v1/products/1/"] * 3
    assert monolith.seen == []


async def test_an_encoded_slash_is_answered_400_and_goes_nowhere(
    start_upstream, start_proxy
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))

    async with proxy.session.get(f"{proxy.url}/api/v1/orders%2F1/") as response:
        body = await response.json()

    assert response.status == 400
    assert body["code"] == "encoded_slash"
    assert monolith.seen == []


async def test_an_absolute_form_target_is_refused(start_upstream, start_proxy) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))
    host, port = proxy.host, proxy.port

    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        b"GET http://example.com/admin/ HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"
    )
    await writer.drain()
    status_line = await reader.readline()
    writer.close()

    assert status_line.startswith(b"HTTP/1.1 400")
    assert monolith.seen == []


async def test_hop_by_hop_and_connection_named_headers_are_stripped_both_ways(
    start_upstream, start_proxy
) -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(
            text="ok",
            headers={
                "Connection": "X-Internal-Secret",
                "X-Internal-Secret": "s3cr3t",
                "X-Kept": "1",
            },
        )

    monolith = await start_upstream("monolith", answer)
    proxy = await start_proxy(table_for(monolith))

    sent = {
        "Connection": "keep-alive, X-Some-Header",
        "X-Some-Header": "strip me",
        "TE": "trailers",
        "Keep-Alive": "timeout=5",
        "Proxy-Authorization": "Basic x",
        "X-Other": "kept",
    }
    async with proxy.session.get(f"{proxy.url}/", headers=sent) as response:
        received = monolith.seen[0]["headers"]
        assert "X-Internal-Secret" not in response.headers
        assert response.headers["X-Kept"] == "1"

    for name in ("X-Some-Header", "TE", "Keep-Alive", "Proxy-Authorization"):
        assert name not in received, name
    assert received["X-Other"] == "kept"


async def test_identity_headers_from_clients_never_reach_a_service(
    start_upstream, start_proxy
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    proxy = await start_proxy(table_for(monolith, service, {**PRODUCTS, "mode": "service"}))

    forged = {"X-Strangler-Identity": "user=1;staff=1", "X-Remote-User": "admin", "x-user-id": "1",
              "X-Strangler-Force": "owner"}  # fmt: skip
    async with proxy.session.get(f"{proxy.url}/api/v1/products/", headers=forged) as response:
        assert response.status == 200

    received = service.seen[0]["headers"]
    for name in forged:
        assert name not in received, name


async def test_forwarded_headers_come_from_the_proxy_not_the_client(
    start_upstream, start_proxy
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))

    spoofed = {
        "X-Forwarded-For": "6.6.6.6",
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "https",
    }
    async with proxy.session.get(f"{proxy.url}/", headers=spoofed):
        pass

    received = monolith.seen[0]["headers"]
    assert received["X-Forwarded-For"] == "127.0.0.1"
    assert received["X-Forwarded-Proto"] == "http"
    assert received["X-Forwarded-Host"] == f"127.0.0.1:{proxy.port}"


async def test_a_trusted_front_proxy_keeps_its_forwarded_chain(start_upstream, start_proxy) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith), trusted_proxies=("127.0.0.0/8",))

    async with proxy.session.get(
        f"{proxy.url}/", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    ):
        pass

    received = monolith.seen[0]["headers"]
    assert received["X-Forwarded-For"] == "203.0.113.9, 127.0.0.1"
    assert received["X-Forwarded-Proto"] == "https"


async def test_the_request_id_is_kept_or_generated_and_sent_both_ways(
    start_upstream, start_proxy
) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))

    async with proxy.session.get(
        f"{proxy.url}/", headers={"X-Request-ID": "trace-12345678"}
    ) as kept:
        assert kept.headers["X-Request-ID"] == "trace-12345678"
    async with proxy.session.get(f"{proxy.url}/") as generated:
        assert len(generated.headers["X-Request-ID"]) == 32

    assert monolith.seen[0]["headers"]["X-Request-ID"] == "trace-12345678"
    assert monolith.seen[1]["headers"]["X-Request-ID"] == generated.headers["X-Request-ID"]


async def test_fallback_answers_an_idempotent_request_from_the_monolith_when_the_service_fails(
    start_upstream, start_proxy
) -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=503, text="down")

    monolith, service = await start_upstream("monolith"), await start_upstream("catalog", broken)
    proxy = await start_proxy(
        table_for(monolith, service, {**PRODUCTS, "mode": "service", "fallback": True})
    )

    async with proxy.session.get(f"{proxy.url}/api/v1/products/") as get:
        assert get.status == 200

    assert [s["method"] for s in monolith.seen] == ["GET"]
    assert [s["method"] for s in service.seen] == ["GET"]


async def test_a_write_the_owner_fails_is_never_answered_by_the_other_side(
    start_upstream, start_proxy
) -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=503, text="down")

    monolith, service = await start_upstream("monolith"), await start_upstream("catalog", broken)
    table = table_for(
        monolith,
        service,
        {
            **PRODUCTS,
            "mode": "service",
            "fallback": True,
            "write_owner": "catalog",
            # No sync node in this test; the check it skips is tested in test_write_guard.py.
            "unsynced_writes_accepted": True,
        },
    )
    proxy = await start_proxy(table)

    for method in ("POST", "PUT", "DELETE"):
        async with proxy.session.request(
            method, f"{proxy.url}/api/v1/products/", json={"name": "x"}
        ) as write:
            assert write.status == 503

    assert monolith.seen == []
    assert [s["method"] for s in service.seen] == ["POST", "PUT", "DELETE"]


async def test_fallback_covers_a_service_that_is_not_listening(start_upstream, start_proxy) -> None:
    monolith = await start_upstream("monolith")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    table = table_for(monolith, None, {**PRODUCTS, "mode": "service", "fallback": True})
    table["upstreams"]["catalog"] = {"url": f"http://127.0.0.1:{dead_port}"}
    proxy = await start_proxy(table)

    async with proxy.session.get(f"{proxy.url}/api/v1/products/") as response:
        assert response.status == 200

    assert len(monolith.seen) == 1


async def test_without_fallback_a_dead_service_is_a_502_with_a_code(
    start_upstream, start_proxy
) -> None:
    monolith = await start_upstream("monolith")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    table = table_for(monolith, None, {**PRODUCTS, "mode": "service"})
    table["upstreams"]["catalog"] = {"url": f"http://127.0.0.1:{dead_port}"}
    proxy = await start_proxy(table)

    async with proxy.session.get(f"{proxy.url}/api/v1/products/") as response:
        body = await response.json()

    assert response.status == 502
    assert body["code"] == "upstream_error"


async def test_shadow_answers_from_the_monolith_and_compares_the_service(
    start_upstream, start_proxy
) -> None:
    async def service_answer(request: web.Request) -> web.Response:
        return web.json_response({"path": request.path_qs, "extra": True})

    monolith, service = (
        await start_upstream("monolith"),
        await start_upstream("catalog", service_answer),
    )
    proxy = await start_proxy(table_for(monolith, service, {**PRODUCTS, "mode": "shadow"}))

    async with proxy.session.get(f"{proxy.url}/api/v1/products/1/") as response:
        assert await response.json() == {"path": "/api/v1/products/1/"}
    async with proxy.session.post(f"{proxy.url}/api/v1/products/", json={}) as response:
        assert response.status == 200

    stats = proxy.state.shadow.stats
    await wait_for(lambda: stats.mismatch == 1, deadline=5, what="the shadow comparison")
    assert [s["method"] for s in service.seen] == ["GET"]
    assert service.seen[0]["headers"]["X-Strangler-Shadow"] == "1"
    assert service.seen[0]["headers"]["Host"] == monolith.seen[0]["headers"]["Host"]


async def test_a_slow_shadow_does_not_slow_the_primary(start_upstream, start_proxy) -> None:
    release = asyncio.Event()

    async def stuck(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({})

    monolith, service = await start_upstream("monolith"), await start_upstream("catalog", stuck)
    proxy = await start_proxy(table_for(monolith, service, {**PRODUCTS, "mode": "shadow"}))

    latencies = []
    for _ in range(20):
        started = time.perf_counter()
        async with proxy.session.get(f"{proxy.url}/api/v1/products/") as response:
            await response.read()
        latencies.append(time.perf_counter() - started)
    release.set()

    # The shadow never answers while these run; the primary must not wait for it at all.
    assert max(latencies) < 0.5, latencies
    stats = proxy.state.shadow.stats
    await wait_for(lambda: stats.mismatch == 20, deadline=5, what="the 20 shadows to complete")
    assert "Content-Type" not in service.seen[0]["headers"]


async def test_a_full_shadow_queue_drops_and_counts(start_upstream, start_proxy) -> None:
    from strangler.proxy.shadow import ShadowDispatcher

    release = asyncio.Event()

    async def stuck(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({})

    monolith, service = await start_upstream("monolith"), await start_upstream("catalog", stuck)
    table = table_for(monolith, service, {**PRODUCTS, "mode": "shadow"})
    proxy = await start_proxy(table)
    await proxy.state.shadow.close()
    small = ShadowDispatcher(concurrency=1, queue_size=2)
    await small.start()
    proxy.state.shadow = small
    try:
        for _ in range(6):
            async with proxy.session.get(f"{proxy.url}/api/v1/products/") as response:
                assert response.status == 200
        # One in flight, two queued, the rest dropped.
        assert small.stats.dropped == 3
    finally:
        release.set()
        await small.close()


async def test_canary_issues_a_cookie_and_keeps_the_client_on_its_side(
    start_upstream, start_proxy
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    proxy = await start_proxy(
        table_for(monolith, service, {**PRODUCTS, "mode": "canary", "canary_percent": 50})
    )

    sides = []
    for _ in range(30):
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as client:
            first_counts = (len(monolith.seen), len(service.seen))
            for _ in range(3):
                async with client.get(f"{proxy.url}/api/v1/products/") as response:
                    assert response.status == 200
            went_service = len(service.seen) - first_counts[1]
            went_monolith = len(monolith.seen) - first_counts[0]
            assert {went_service, went_monolith} == {0, 3}, "a client switched sides"
            sides.append(went_service == 3)

    assert 0 < sum(sides) < 30


async def test_redirects_to_an_internal_host_are_rewritten_to_the_public_host(
    start_upstream, start_proxy
) -> None:
    service_url = {}

    async def redirect(request: web.Request) -> web.Response:
        location = f"{service_url['url']}/api/v1/products/?page=2"
        cookie = "a=1; Domain=127.0.0.1; Path=/"
        return web.Response(status=302, headers={"Location": location, "Set-Cookie": cookie})

    monolith, service = await start_upstream("monolith"), await start_upstream("catalog", redirect)
    service_url["url"] = service.url
    proxy = await start_proxy(table_for(monolith, service, {**PRODUCTS, "mode": "service"}))

    async with proxy.session.get(
        f"{proxy.url}/api/v1/products/", allow_redirects=False
    ) as response:
        assert response.status == 302
        assert response.headers["Location"] == f"{proxy.url}/api/v1/products/?page=2"
        assert "domain" not in response.headers["Set-Cookie"].lower()


async def test_large_bodies_stream_through_both_ways(start_upstream, start_proxy) -> None:
    payload = bytes(range(256)) * (8 * 4096)  # 8 MiB

    async def echo_size(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"X-Received": str(len(await request.read()))})
        await response.prepare(request)
        for start in range(0, len(payload), 65536):
            await response.write(payload[start : start + 65536])
        await response.write_eof()
        return response

    monolith = await start_upstream("monolith", echo_size)
    uploads = {"name": "uploads", "prefix": "/upload/", "owner": "monolith",
               "stream_request_body": True}  # fmt: skip
    proxy = await start_proxy(table_for(monolith, None, uploads), max_body_bytes=16 * 1024 * 1024)

    async with proxy.session.post(f"{proxy.url}/upload/", data=io.BytesIO(payload)) as response:
        body = await response.read()

    assert response.headers["X-Received"] == str(len(payload))
    assert body == payload


async def test_a_body_over_the_limit_is_refused_with_413(start_upstream, start_proxy) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith), max_body_bytes=1024)

    async with proxy.session.post(f"{proxy.url}/upload/", data=b"x" * 4096) as response:
        body = await response.json()

    assert response.status == 413
    assert body["code"] == "request_too_large"
    assert monolith.seen == []


async def test_a_bad_table_is_refused_and_the_old_one_keeps_serving(
    start_upstream, start_proxy
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    table = table_for(monolith, service, {**PRODUCTS, "mode": "service"})
    proxy = await start_proxy(table)

    proxy.write_table({**table, "routes": [{**PRODUCTS, "mode": "sideways"}]})
    result = await proxy.reload()
    async with proxy.session.get(f"{proxy.url}/api/v1/products/") as response:
        assert response.status == 200

    assert result.error is not None
    assert "routes[0] (products), field 'mode'" in result.error
    assert len(service.seen) == 1


async def test_an_edited_table_takes_effect_without_a_restart(start_upstream, start_proxy) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    table = table_for(monolith, service, {**PRODUCTS, "mode": "monolith"})
    proxy = await start_proxy(table)

    proxy.write_table({**table, "routes": [{**PRODUCTS, "mode": "service"}]})
    await wait_for(lambda: proxy.state.store.current.routes[0].config.mode == "service", deadline=5,
                   what="the file watcher to reload")  # fmt: skip
    async with proxy.session.get(f"{proxy.url}/api/v1/products/") as response:
        assert response.status == 200

    assert len(service.seen) == 1


async def test_internal_paths_are_never_served_to_clients(start_upstream, start_proxy) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))

    for spelling in (
        "/internal/identity/resolve",
        "/x/../internal/sync/",
        "//internal//sync/",
        "/%69nternal/",
    ):
        async with proxy.session.post(f"{proxy.url}{spelling}", json={}) as response:
            assert response.status == 404, spelling

    assert monolith.seen == []


async def test_an_upstream_failing_its_health_check_sends_fallback_routes_to_the_monolith(
    start_upstream, start_proxy
) -> None:
    healthy = {"catalog": True}

    async def service(request: web.Request) -> web.Response:
        if request.path == "/healthz":
            return web.Response(status=200 if healthy["catalog"] else 503)
        return web.json_response({"from": "catalog"})

    monolith, catalog = await start_upstream("monolith"), await start_upstream("catalog", service)
    proxy = await start_proxy(
        table_for(monolith, catalog, {**PRODUCTS, "mode": "service", "fallback": True}),
        health_interval=0.05,
    )
    health = proxy.state.health
    await wait_for(lambda: not health.is_unhealthy("catalog"), deadline=5, what="a first check")

    healthy["catalog"] = False
    await wait_for(
        lambda: health.is_unhealthy("catalog"), deadline=5, what="the service to be unhealthy"
    )
    async with proxy.session.get(f"{proxy.url}/api/v1/products/") as response:
        assert await response.json() == {"path": "/api/v1/products/"}

    healthy["catalog"] = True
    await wait_for(lambda: not health.is_unhealthy("catalog"), deadline=5, what="recovery")
    async with proxy.session.get(f"{proxy.url}/api/v1/products/") as response:
        assert await response.json() == {"from": "catalog"}


async def test_readyz_fails_while_the_monolith_is_down(start_upstream, start_proxy) -> None:
    up = {"monolith": True}

    async def monolith_handler(request: web.Request) -> web.Response:
        return web.Response(status=200 if up["monolith"] else 503)

    monolith = await start_upstream("monolith", monolith_handler)
    proxy = await start_proxy(table_for(monolith), health_interval=0.05)
    health = proxy.state.health

    up["monolith"] = False
    await wait_for(
        lambda: health.is_unhealthy("monolith"), deadline=5, what="the monolith to be unhealthy"
    )
    async with proxy.session.get(f"{proxy.url}/readyz") as response:
        assert response.status == 503
    async with proxy.session.get(f"{proxy.url}/healthz") as response:
        assert response.status == 200


async def test_websocket_upgrades_pass_through_to_the_owner(start_upstream, start_proxy) -> None:
    async def echo(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            await ws.send_str(f"echo:{message.data}")
        return ws

    monolith, service = await start_upstream("monolith"), await start_upstream("catalog", echo)
    table = table_for(monolith, service, {**PRODUCTS, "prefix": "/ws/", "mode": "service"})
    table["upstreams"]["catalog"]["timeouts"] = {"connect": 1, "read": 0.5, "total": 0.5}
    proxy = await start_proxy(table)

    async with proxy.session.ws_connect(f"{proxy.url}/ws/chat") as ws:
        await ws.send_str("one")
        assert (await ws.receive(timeout=5)).data == "echo:one"
        # Longer than the upstream's request timeouts: an open socket is not a slow answer.
        await asyncio.sleep(0.8)
        await ws.send_str("two")
        assert (await ws.receive(timeout=5)).data == "echo:two"

    assert service.seen[0]["path"] == "/ws/chat"


async def test_a_client_that_stalls_its_body_is_cut_off(start_upstream, start_proxy) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith), client_body_timeout=0.3)

    reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
    writer.write(
        b"POST /upload/ HTTP/1.1\r\nHost: shop\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10
    )
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), timeout=5)
    writer.close()

    assert status_line.startswith(b"HTTP/1.1 408"), status_line


async def test_the_access_log_names_route_owner_mode_cohort_fallback_and_request_id(
    start_upstream, start_proxy, caplog
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    proxy = await start_proxy(
        table_for(monolith, service, {**PRODUCTS, "mode": "canary", "canary_percent": 100})
    )

    with caplog.at_level("INFO", logger="proxy.access"):
        async with proxy.session.get(
            f"{proxy.url}/api/v1/products/", headers={"X-Request-ID": "log-line-0001"}
        ):
            pass

    (record,) = [r for r in caplog.records if r.name == "proxy.access"]
    assert record.route == "products"
    assert record.owner == "catalog"
    assert record.upstream == "catalog"
    assert record.mode == "canary"
    assert record.cohort == "owner"
    assert record.fallback is False
    assert record.request_id == "log-line-0001"
    assert record.status == 200


async def test_a_body_over_the_shadow_limit_is_not_shadowed_and_is_counted(
    start_upstream, start_proxy
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    shadowed = {
        **PRODUCTS,
        "mode": "shadow",
        "shadow": {"unsafe_methods": True, "max_body_bytes": 1024},
    }
    table = table_for(monolith, service, shadowed)
    table["upstreams"]["catalog"]["sandbox"] = True  # the only target a write may be copied to
    proxy = await start_proxy(table)

    async with proxy.session.post(f"{proxy.url}/api/v1/products/", data=b"x" * 4096) as response:
        assert response.status == 200
    async with proxy.session.post(f"{proxy.url}/api/v1/products/", data=b"y" * 100) as response:
        assert response.status == 200

    stats = proxy.state.shadow.stats
    await wait_for(
        lambda: stats.match + stats.mismatch == 1, deadline=5, what="the small body's shadow"
    )
    assert stats.skipped == 1
    assert monolith.seen[0]["body"] == b"x" * 4096
    assert [s["body"] for s in service.seen] == [b"y" * 100]


async def test_a_failing_service_opens_its_circuit_and_fallback_stops_calling_it(
    start_upstream, start_proxy
) -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500)

    monolith, service = await start_upstream("monolith"), await start_upstream("catalog", broken)
    proxy = await start_proxy(
        table_for(monolith, service, {**PRODUCTS, "mode": "service", "fallback": True})
    )

    for _ in range(10):
        async with proxy.session.get(f"{proxy.url}/api/v1/products/") as response:
            assert response.status == 200

    # Five failures open the circuit; the other five go straight to the monolith.
    assert len(service.seen) == 5
    assert len(monolith.seen) == 10


async def test_a_request_in_flight_finishes_on_the_table_it_started_with(
    start_upstream, start_proxy
) -> None:
    arrived, release = asyncio.Event(), asyncio.Event()
    service_url = {}

    async def slow_redirect(request: web.Request) -> web.Response:
        if request.path == "/healthz":  # the proxy's health checks: not the request in flight
            return web.Response(text="ok")
        arrived.set()
        await release.wait()
        return web.Response(
            status=302, headers={"Location": f"{service_url['url']}/api/v1/products/?page=2"}
        )

    monolith, service = (
        await start_upstream("monolith"),
        await start_upstream("catalog", slow_redirect),
    )
    service_url["url"] = service.url
    table = table_for(monolith, service, {**PRODUCTS, "mode": "service"})
    proxy = await start_proxy(table)

    in_flight = asyncio.create_task(
        proxy.session.get(f"{proxy.url}/api/v1/products/", allow_redirects=False)
    )
    await asyncio.wait_for(arrived.wait(), timeout=5)
    proxy.write_table(table_for(monolith))  # the catalog upstream and its route are gone
    assert (await proxy.reload()).changed
    release.set()
    response = await asyncio.wait_for(in_flight, timeout=5)

    assert response.status == 302
    assert response.headers["Location"] == f"{proxy.url}/api/v1/products/?page=2"


async def test_an_upstream_breaking_off_mid_body_cuts_the_clients_connection(
    start_upstream, start_proxy
) -> None:
    async def breaks_off(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b"x" * 300_000)  # past the buffering limit: streamed
        assert request.transport is not None
        request.transport.abort()  # no last chunk: the body is incomplete
        return response

    monolith = await start_upstream("monolith", breaks_off)
    proxy = await start_proxy(table_for(monolith))

    async with proxy.session.get(f"{proxy.url}/export/") as response:
        assert response.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()  # an error, never a clean end to a truncated body


async def test_a_head_request_gets_the_headers_and_no_body(start_upstream, start_proxy) -> None:
    async def sized(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 1000, headers={"X-Kept": "1"})

    monolith = await start_upstream("monolith", sized)
    proxy = await start_proxy(table_for(monolith))

    for _ in range(2):  # and the requests after it still get through
        async with proxy.session.head(f"{proxy.url}/page/") as response:
            assert await response.read() == b""
        assert response.status == 200
        assert response.headers["X-Kept"] == "1"
        assert response.headers["Content-Length"] == "1000"
    async with proxy.session.get(f"{proxy.url}/page/") as response:
        assert len(await response.read()) == 1000


async def test_nothing_is_added_to_what_the_client_asked_for(start_upstream, start_proxy) -> None:
    monolith = await start_upstream("monolith")
    proxy = await start_proxy(table_for(monolith))

    answer = await raw_exchange(
        proxy.host, proxy.port, b"GET /plain/ HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n"
    )

    assert answer.startswith(b"HTTP/1.1 200")
    received = monolith.seen[0]["headers"]
    for name in ("Accept", "Accept-Encoding", "User-Agent"):
        assert name not in received, name  # compressed answers only for clients that ask


async def test_an_upstream_silent_past_its_read_timeout_is_a_504(
    start_upstream, start_proxy
) -> None:
    release = asyncio.Event()

    async def stuck(request: web.Request) -> web.Response:
        if request.path != "/healthz":
            await release.wait()
        return web.json_response({})

    monolith, service = await start_upstream("monolith"), await start_upstream("catalog", stuck)
    table = table_for(monolith, service, {**PRODUCTS, "mode": "service"})
    table["upstreams"]["catalog"]["timeouts"] = {"connect": 1, "read": 0.2, "total": 5}
    proxy = await start_proxy(table)

    async with proxy.session.get(f"{proxy.url}/api/v1/products/") as response:
        body = await response.json()
    release.set()

    assert response.status == 504
    assert body["code"] == "upstream_timeout"
