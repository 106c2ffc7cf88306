"""Sending a request to its upstream through the upstream's circuit breaker."""

from __future__ import annotations

from aiohttp import web

from strangler.proxy.breaker import FAILURE_THRESHOLD
from tests.proxy.conftest import table_for

PRODUCTS = {"name": "products", "prefix": "/api/v1/products/", "owner": "catalog"}


async def failing(request: web.Request) -> web.Response:
    return web.Response(status=500, text="down")


async def test_an_open_circuit_is_answered_503_circuit_open_without_asking_the_service(
    start_upstream, start_proxy
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog", failing)
    proxy = await start_proxy(table_for(monolith, service, {**PRODUCTS, "mode": "service"}))
    for _ in range(FAILURE_THRESHOLD):  # the service's own failures, passed on as they are
        async with proxy.session.get(f"{proxy.url}/api/v1/products/") as failed:
            assert failed.status == 500

    async with proxy.session.get(f"{proxy.url}/api/v1/products/") as response:
        body = await response.json()

    assert (response.status, body["code"]) == (503, "circuit_open")
    assert response.headers["X-Request-ID"]
    assert len(service.seen) == FAILURE_THRESHOLD
    assert monolith.seen == []
