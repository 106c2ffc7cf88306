"""A writer's reads stay on the write owner for a while after the write (read your own
writes), through a real proxy in front of real in-process upstreams."""

from __future__ import annotations

import time

import pytest

from strangler.proxy.read_your_writes import WROTE_COOKIE, WroteCookies, splits_reads
from strangler.proxy.route_config import RouteConfig
from tests.proxy.conftest import table_for

SECRET = "read-your-writes-test-identity-secret-0123"
PRODUCTS = {"name": "products", "prefix": "/api/v1/products/", "owner": "catalog"}


def _sides(upstream_seen: list[dict[str, object]]) -> list[object]:
    return [seen["method"] for seen in upstream_seen]


@pytest.mark.parametrize("route", [{"mode": "service"}, {"mode": "canary", "canary_percent": 100}])
async def test_after_a_write_the_writers_reads_come_from_the_write_owner(
    start_upstream, start_proxy, route
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    proxy = await start_proxy(
        table_for(monolith, service, {**PRODUCTS, **route}), identity_secret=SECRET
    )
    url = f"{proxy.url}/api/v1/products/7/"

    async with proxy.session.get(url) as before:
        assert before.status == 200
    async with proxy.session.patch(url, json={"price": "9.99"}) as write:
        assert write.status == 200
        cookie = write.cookies[WROTE_COOKIE]
    assert cookie["max-age"] == "15"
    assert cookie["httponly"]
    # As a browser sends it back (aiohttp's own jar keeps no cookies of an IP address).
    async with proxy.session.get(
        url, headers={"Cookie": f"{WROTE_COOKIE}={cookie.value}"}
    ) as after:
        assert after.status == 200

    assert _sides(monolith.seen) == ["PATCH", "GET"]
    assert _sides(service.seen) == ["GET"]


async def test_a_reader_who_did_not_write_reads_from_the_moved_side(
    start_upstream, start_proxy
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    proxy = await start_proxy(
        table_for(monolith, service, {**PRODUCTS, "mode": "service"}), identity_secret=SECRET
    )

    async with proxy.session.get(f"{proxy.url}/api/v1/products/7/") as response:
        assert response.status == 200
        assert WROTE_COOKIE not in response.cookies

    assert _sides(service.seen) == ["GET"]
    assert monolith.seen == []


@pytest.mark.parametrize(
    "cookie",
    [
        "monolith.99999999999.0000000000000000000000000000000",  # forged signature
        WroteCookies(secret=SECRET).issue(writer="monolith", now=time.time() - 60, seconds=15),
        WroteCookies(secret="another-proxys-secret-000000000000").issue(
            writer="monolith", now=time.time(), seconds=15
        ),
    ],
    ids=["forged", "expired", "signed-elsewhere"],
)
async def test_a_forged_or_expired_cookie_does_not_pin_a_reader(
    start_upstream, start_proxy, cookie: str
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    proxy = await start_proxy(
        table_for(monolith, service, {**PRODUCTS, "mode": "service"}), identity_secret=SECRET
    )

    async with proxy.session.get(
        f"{proxy.url}/api/v1/products/7/", headers={"Cookie": f"{WROTE_COOKIE}={cookie}"}
    ) as response:
        assert response.status == 200

    assert _sides(service.seen) == ["GET"]
    assert monolith.seen == []


async def test_a_failed_write_sets_no_cookie(start_upstream, start_proxy) -> None:
    from aiohttp import web

    async def refuses(request: web.Request) -> web.Response:
        return web.json_response({"code": "invalid"}, status=400)

    monolith = await start_upstream("monolith", refuses)
    service = await start_upstream("catalog")
    proxy = await start_proxy(
        table_for(monolith, service, {**PRODUCTS, "mode": "service"}), identity_secret=SECRET
    )

    async with proxy.session.post(f"{proxy.url}/api/v1/products/", json={}) as response:
        assert response.status == 400
        assert WROTE_COOKIE not in response.cookies


async def test_the_table_can_turn_it_off(start_upstream, start_proxy) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    table = table_for(monolith, service, {**PRODUCTS, "mode": "service"})
    table["read_your_writes_seconds"] = 0
    proxy = await start_proxy(table, identity_secret=SECRET)

    async with proxy.session.post(f"{proxy.url}/api/v1/products/", json={}) as response:
        assert response.status == 200
        assert WROTE_COOKIE not in response.cookies


def _route_config(mode: str, **fields: object) -> RouteConfig:
    return RouteConfig(name="r", prefix="/p/", owner="catalog", mode=mode, **fields)


@pytest.mark.parametrize(
    ("mode", "method", "splits"),
    [("canary", "GET", True), ("service", "HEAD", True), ("service", "POST", False),
     ("shadow", "GET", False), ("monolith", "GET", False)],
)  # fmt: skip
def test_only_a_read_on_a_canary_or_service_route_may_be_answered_off_the_write_owner(
    mode: str, method: str, splits: bool
) -> None:
    assert splits_reads(_route_config(mode), method) is splits


def test_a_write_the_owner_accepted_on_a_split_route_gets_the_cookie() -> None:
    cookies = WroteCookies(secret=SECRET)

    issued = cookies.after_write(
        _route_config("service"), method="PATCH", status=200, writer="monolith", seconds=15,
        now=1000.0,
    )  # fmt: skip

    assert issued is not None
    value, seconds = issued
    assert seconds == 15
    assert cookies.names(value, writer="monolith", now=1010.0)


@pytest.mark.parametrize(
    ("mode", "method", "status", "seconds", "secret"),
    [("service", "GET", 200, 15, SECRET), ("shadow", "POST", 200, 15, SECRET),
     ("service", "POST", 400, 15, SECRET), ("service", "POST", 200, 0, SECRET),
     ("service", "POST", 200, 15, "")],
    ids=["a read", "reads not split", "refused", "turned off", "no secret"],
)  # fmt: skip
def test_no_cookie_for_anything_but_an_accepted_write_on_a_split_route(
    mode: str, method: str, status: int, seconds: int, secret: str
) -> None:
    issued = WroteCookies(secret=secret).after_write(
        _route_config(mode), method=method, status=status, writer="monolith", seconds=seconds,
        now=1000.0,
    )  # fmt: skip

    assert issued is None
