"""The monolith's credentials never reach an extracted service: an echo upstream behind a
service route sees the signed identity, no Authorization header and no session cookie."""

from __future__ import annotations

import pytest

from strangler.proxy.credentials import without_monolith_credentials
from tests.proxy.conftest import table_for, wait_for

PRODUCTS = {"name": "products", "prefix": "/api/v1/products/", "owner": "catalog"}
CREDENTIALS = {
    "Authorization": "Token 0123456789abcdef",
    "Cookie": "sessionid=s3cr3t; csrftoken=abc; strangler_cohort=c1; theme=dark",
}


@pytest.mark.parametrize(
    "route",
    [{"mode": "service"}, {"mode": "canary", "canary_percent": 100}],
    ids=["service", "canary"],
)
async def test_a_service_gets_no_authorization_and_only_allowed_cookies(
    start_upstream, start_proxy, route
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    proxy = await start_proxy(table_for(monolith, service, {**PRODUCTS, **route}))

    async with proxy.session.get(f"{proxy.url}/api/v1/products/", headers=CREDENTIALS) as response:
        assert response.status == 200

    [seen] = service.seen
    assert "Authorization" not in seen["headers"]
    assert seen["headers"].getall("Cookie") == ["csrftoken=abc"]


async def test_the_monolith_still_gets_its_credentials(start_upstream, start_proxy) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    proxy = await start_proxy(table_for(monolith, service, {**PRODUCTS, "mode": "service"}))

    async with proxy.session.post(
        f"{proxy.url}/api/v1/products/", headers=CREDENTIALS, json={}
    ) as response:  # a write: the monolith owns it
        assert response.status == 200

    [seen] = monolith.seen
    assert seen["headers"]["Authorization"] == CREDENTIALS["Authorization"]
    assert "sessionid=s3cr3t" in seen["headers"]["Cookie"]


async def test_a_shadow_copy_goes_without_credentials_too(start_upstream, start_proxy) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    table = table_for(monolith, service, {**PRODUCTS, "mode": "shadow"})
    table["service_cookies"] = []
    proxy = await start_proxy(table)

    async with proxy.session.get(f"{proxy.url}/api/v1/products/", headers=CREDENTIALS) as response:
        assert response.status == 200
    await wait_for(lambda: len(service.seen) == 1, deadline=5, what="the shadow copy")

    [seen] = service.seen
    assert "Authorization" not in seen["headers"]
    assert "Cookie" not in seen["headers"]
    assert monolith.seen[0]["headers"]["Authorization"] == CREDENTIALS["Authorization"]


def test_cookie_names_are_matched_exactly_not_by_prefix() -> None:
    headers = [(b"Cookie", b"csrftoken_evil=1; csrftoken=2; xcsrftoken=3")]

    kept = without_monolith_credentials(headers, allowed_cookies=frozenset({b"csrftoken"}))

    assert kept == [(b"Cookie", b"csrftoken=2")]
