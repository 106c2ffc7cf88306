"""Shadow comparisons of a proxy given ``STRANGLER_STORE_URL`` go to the fleet's PostgreSQL,
not to a file of its host: what the gates and ``compare report`` of any host read."""

from __future__ import annotations

import pytest
from aiohttp import web

from strangler.compare.results import ResultsError, StoreUrl, default_results_path, route_totals
from tests.proxy.conftest import table_for
from tests.strangler.compare.postgres import SERVER, fresh_database, query

pytestmark = pytest.mark.postgres


@pytest.fixture
def store_url(monkeypatch):
    with fresh_database("proxy") as url:
        monkeypatch.setenv("STRANGLER_STORE_URL", url.url)
        yield url


async def _shadowing_proxy(start_upstream, start_proxy):
    """A proxy shadowing a route whose service differs from the monolith on product 2."""

    async def monolith_answer(request: web.Request) -> web.Response:
        return web.json_response({"id": 1, "price": "10.00"})

    async def service_answer(request: web.Request) -> web.Response:
        price = "12.00" if request.path.endswith("/2/") else "10.00"
        return web.json_response({"id": 1, "price": price})

    monolith = await start_upstream("monolith", monolith_answer)
    service = await start_upstream("catalog", service_answer)
    return await start_proxy(
        table_for(
            monolith,
            service,
            {
                "name": "products",
                "prefix": "/api/v1/products/",
                "owner": "catalog",
                "mode": "shadow",
                "shadow": {"noise_sample_rate": 0},
            },
        )
    )


async def _shadow_three(proxy) -> None:
    for path in ("/api/v1/products/1/", "/api/v1/products/2/", "/api/v1/products/3/"):
        async with proxy.session.get(f"{proxy.url}{path}") as response:
            assert response.status == 200


async def test_a_proxy_with_a_store_url_adds_its_comparisons_to_the_store(
    start_upstream, start_proxy, store_url
) -> None:
    proxy = await _shadowing_proxy(start_upstream, start_proxy)

    # When three requests are shadowed and the comparisons written
    await _shadow_three(proxy)
    await proxy.state.shadow.drain()

    # Then the store holds them (read with plain SQL, and as a gate reads them), no file does
    assert query(
        store_url,
        "SELECT verdict, count FROM strangler_compare_verdicts "
        "WHERE route = 'products' ORDER BY verdict",
    ) == [("different", 1), ("equal", 2)]
    totals = route_totals()["products"]
    assert (totals.compared, totals.equal, totals.real_different) == (3, 2, 1)
    assert not default_results_path().exists()


async def test_comparisons_made_while_the_store_is_away_reach_it_when_it_is_back(
    start_upstream, start_proxy, store_url
) -> None:
    # Given a proxy whose store's database is gone (renamed away) when it compares
    name = store_url.url.rsplit("/", 1)[1]
    query(StoreUrl(f"{SERVER}/postgres"), f'ALTER DATABASE "{name}" RENAME TO "{name}_away"')
    proxy = await _shadowing_proxy(start_upstream, start_proxy)
    await _shadow_three(proxy)
    with pytest.raises(ResultsError, match="cannot open the comparison results"):
        await proxy.state.shadow.drain()

    # When the database is back
    query(StoreUrl(f"{SERVER}/postgres"), f'ALTER DATABASE "{name}_away" RENAME TO "{name}"')
    await _shadow_three(proxy)
    await proxy.state.shadow.drain()

    # Then every comparison is in it, those made while it was away too
    totals = route_totals()["products"]
    assert (totals.compared, totals.equal, totals.real_different) == (6, 4, 2)
