"""Shadow mode with the comparison engine: rules from the route table, noise, stale data,
broken services, and results in the shared results file, all off the event loop."""

from __future__ import annotations

import asyncio
import itertools

from aiohttp import web

from strangler.compare.results import ResultsStore, default_results_path, route_totals
from strangler.proxy.comparing import ComparePool
from strangler.proxy.shadow import ShadowDispatcher
from tests.proxy.conftest import table_for, wait_for

PRODUCTS = {"name": "products", "prefix": "/api/v1/products/", "owner": "catalog"}


def shadowed(**extra: object) -> dict[str, object]:
    return {**PRODUCTS, "mode": "shadow", **extra}


async def fetch(proxy, path: str, times: int = 1) -> list[int]:
    statuses = []
    for _ in range(times):
        async with proxy.session.get(f"{proxy.url}{path}") as response:
            await response.read()
            statuses.append(response.status)
    return statuses


def product(price: str, served_at: object = "2026-01-01T00:00:00Z") -> web.Response:
    return web.json_response({"id": 1, "name": "Stove", "price": price, "served_at": served_at})


async def test_the_route_tables_rules_decide_and_the_results_are_shared(
    start_upstream, start_proxy
) -> None:
    async def monolith_answer(request: web.Request) -> web.Response:
        return product("10.00", "monolith-clock")

    async def service_answer(request: web.Request) -> web.Response:
        # served_at differs (ignored by the rules); the price differs on /2/ only.
        return product("12.00" if request.path.endswith("/2/") else "10.00", "service-clock")

    monolith = await start_upstream("monolith", monolith_answer)
    service = await start_upstream("catalog", service_answer)
    table = table_for(
        monolith,
        service,
        shadowed(shadow={"noise_sample_rate": 0}, compare={"critical": ["price"]}),
    )
    table["compare"] = {"ignore": ["served_at"]}
    proxy = await start_proxy(table)

    assert await fetch(proxy, "/api/v1/products/1/", 3) == [200] * 3
    assert await fetch(proxy, "/api/v1/products/2/") == [200]
    await proxy.state.shadow.drain()

    stats = proxy.state.shadow.stats
    assert (stats.match, stats.mismatch) == (3, 1)
    totals = route_totals(default_results_path())["products"]
    assert (totals.compared, totals.equal, totals.real_different) == (4, 3, 1)
    with ResultsStore(default_results_path(), create=False) as store:
        (report,) = store.reports()
    (cluster,) = report.clusters
    assert cluster.signature == (("price", "value"),)
    example = cluster.examples[0]
    assert example.target == "/api/v1/products/2/"
    assert example.differences[0].base == '"10.00"'
    assert example.differences[0].candidate == '"12.00"'
    assert example.curl.startswith("curl ")


async def test_what_differs_between_two_monolith_answers_is_noise(
    start_upstream, start_proxy
) -> None:
    clock = itertools.count()

    async def monolith_answer(request: web.Request) -> web.Response:
        return product("10.00", next(clock))  # a new value on every call

    async def service_answer(request: web.Request) -> web.Response:
        return product("10.00", -1)

    monolith = await start_upstream("monolith", monolith_answer)
    service = await start_upstream("catalog", service_answer)
    proxy = await start_proxy(
        table_for(monolith, service, shadowed(shadow={"noise_sample_rate": 1.0}))
    )

    await fetch(proxy, "/api/v1/products/1/", 20)
    await proxy.state.shadow.drain()

    stats = proxy.state.shadow.stats
    assert (stats.match, stats.mismatch) == (20, 0)
    # Every shadowed request asked the monolith twice.
    assert len(monolith.seen) == 40
    assert route_totals(default_results_path())["products"].noise_only == 20


async def test_a_broken_service_is_reported_and_never_reaches_the_client(
    start_upstream, start_proxy
) -> None:
    async def broken(request: web.Request) -> web.Response:
        return web.json_response({"error": "boom"}, status=500)

    monolith = await start_upstream("monolith")
    service = await start_upstream("catalog", broken)
    proxy = await start_proxy(table_for(monolith, service, shadowed()))

    assert await fetch(proxy, "/api/v1/products/1/", 5) == [200] * 5
    await proxy.state.shadow.drain()

    assert proxy.state.shadow.stats.candidate_error == 5
    totals = route_totals(default_results_path())["products"]
    assert (totals.candidate_error, totals.real_different) == (5, 0)


async def test_a_service_whose_data_is_behind_is_not_blamed_and_asked_again(
    start_upstream, start_proxy
) -> None:
    synced = asyncio.Event()

    async def monolith_answer(request: web.Request) -> web.Response:
        assert request.headers["X-Strangler-Want-Versions"] == "1"
        response = product("12.00")
        response.headers["X-Strangler-Data-Versions"] = "catalog_product:1=7"
        return response

    async def service_answer(request: web.Request) -> web.Response:
        assert request.headers["X-Strangler-Want-Versions"] == "1"
        if not synced.is_set():  # the price change has not arrived yet
            synced.set()
            response = product("10.00")
            response.headers["X-Strangler-Data-Versions"] = "catalog_product:1=6"
            return response
        response = product("12.00")
        response.headers["X-Strangler-Data-Versions"] = "catalog_product:1=7"
        return response

    monolith = await start_upstream("monolith", monolith_answer)
    service = await start_upstream("catalog", service_answer)
    proxy = await start_proxy(
        table_for(monolith, service, shadowed(shadow={"noise_sample_rate": 0}))
    )
    await proxy.state.shadow.close()
    dispatcher = ShadowDispatcher(retry_delays=(0.05,))
    await dispatcher.start()
    proxy.state.shadow = dispatcher
    try:
        await fetch(proxy, "/api/v1/products/1/")
        stats = dispatcher.stats
        await wait_for(lambda: stats.match == 1, deadline=30, what="the retry's comparison")
        # The request is counted once, by its last try.
        assert (stats.mismatch, stats.not_comparable, stats.retried) == (0, 0, 1)
        # The retry asked the monolith again, not only the service.
        assert len(monolith.seen) == 2
        assert len(service.seen) == 2
    finally:
        await dispatcher.close()
    totals = route_totals(default_results_path())["products"]
    assert (totals.not_comparable, totals.equal, totals.real_different) == (1, 1, 0)


async def test_comparisons_past_the_bound_are_dropped_and_counted(
    start_upstream, start_proxy
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    proxy = await start_proxy(table_for(monolith, service, shadowed()))
    await proxy.state.shadow.close()
    dispatcher = ShadowDispatcher(compare=ComparePool(max_pending=0))
    await dispatcher.start()
    proxy.state.shadow = dispatcher
    try:
        await fetch(proxy, "/api/v1/products/1/", 3)
        await wait_for(lambda: dispatcher.stats.dropped == 3, deadline=10, what="3 drops")
        assert dispatcher.stats.match == dispatcher.stats.mismatch == 0
    finally:
        await dispatcher.close()


async def test_results_outlive_the_proxy_and_add_up_across_processes(
    start_upstream, start_proxy
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    table = table_for(monolith, service, shadowed())
    first = await start_proxy(table)
    await fetch(first, "/api/v1/products/1/", 4)
    await first.state.shadow.drain()
    await first.state.shadow.close()  # its compare process is gone; the file stays

    second = await start_proxy(table)
    await fetch(second, "/api/v1/products/1/", 3)
    await second.state.shadow.drain()

    totals = route_totals(default_results_path())["products"]
    assert (totals.compared, totals.equal) == (7, 7)


async def test_the_data_versions_a_comparison_asked_for_never_reach_the_client(
    start_upstream, start_proxy
) -> None:
    async def monolith_answer(request: web.Request) -> web.Response:
        response = product("10.00")
        response.headers["X-Strangler-Data-Versions"] = "catalog_product:1=7"
        return response

    monolith = await start_upstream("monolith", monolith_answer)
    service = await start_upstream("catalog", monolith_answer)
    proxy = await start_proxy(table_for(monolith, service, shadowed()))
    async with proxy.session.get(
        f"{proxy.url}/api/v1/products/1/", headers={"X-Strangler-Want-Versions": "1"}
    ) as response:
        assert response.status == 200
        assert "X-Strangler-Data-Versions" not in response.headers
    await proxy.state.shadow.drain()
    # The proxy asked (the client's own ask was dropped), and the comparison saw equal data.
    assert monolith.seen[0]["headers"].getall("X-Strangler-Want-Versions") == ["1"]
    assert proxy.state.shadow.stats.match == 1


async def test_a_service_ahead_of_the_monolith_after_every_retry_is_a_difference(
    start_upstream, start_proxy
) -> None:
    """Before cutover nothing syncs from the service to the monolith: a row newer on the
    service is a write that went around the monolith, whose answer may well be wrong."""

    async def monolith_answer(request: web.Request) -> web.Response:
        response = product("10.00")
        response.headers["X-Strangler-Data-Versions"] = "catalog_product:1=7"
        return response

    async def service_answer(request: web.Request) -> web.Response:
        response = product("0.01")
        response.headers["X-Strangler-Data-Versions"] = "catalog_product:1=8"
        return response

    async def behind_answer(request: web.Request) -> web.Response:
        response = product("9.00")
        response.headers["X-Strangler-Data-Versions"] = "catalog_product:1=6"
        return response

    monolith = await start_upstream("monolith", monolith_answer)
    ahead = await start_upstream("catalog", service_answer)
    behind = await start_upstream("catalog", behind_answer)
    for service, outcome in ((ahead, "mismatch"), (behind, "not_comparable")):
        proxy = await start_proxy(
            table_for(monolith, service, shadowed(shadow={"noise_sample_rate": 0}))
        )
        await proxy.state.shadow.close()
        dispatcher = ShadowDispatcher(retry_delays=(0.05, 0.05))
        await dispatcher.start()
        proxy.state.shadow = dispatcher
        try:
            await fetch(proxy, "/api/v1/products/1/")
            stats = dispatcher.stats
            await wait_for(
                lambda stats=stats: sum(stats.per_route.get("products", {}).values()) == 1,
                deadline=30,
                what="the last try's outcome",
            )
            assert stats.retried == 2
            counted = {k: v for k, v in stats.per_route["products"].items() if v}
            assert counted == {outcome: 1}, service.name
        finally:
            await dispatcher.close()
