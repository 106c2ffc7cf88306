"""Write holds for a cutover, through the admin API of an in-process proxy."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
import requests

from tests.proxy.conftest import held_until, table_for, wait_for

PRODUCTS = {"name": "products", "prefix": "/api/v1/products/", "owner": "catalog"}
URL = "/api/v1/products/"


def _waiting() -> int:
    """Writes of this proxy waiting for a hold, by the gauge the proxy keeps."""
    from strangler.proxy.metrics import HELD_REQUESTS

    return int(HELD_REQUESTS.labels("products")._value.get())


async def test_a_held_post_waits_and_completes_after_the_release(
    start_upstream, start_admin
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    admin = await start_admin(table_for(monolith, service, PRODUCTS))
    proxy = admin.proxy
    before = _waiting()
    status, held = await admin.call("POST", "/routes/products/hold", {"seconds": 30})
    assert (status, held["held"]) == (200, True)

    post = asyncio.create_task(proxy.session.post(proxy.url + URL, data=b"{}"))
    await wait_for(lambda: _waiting() == before + 1, deadline=5, what="the POST to wait")
    assert monolith.seen == []
    released_status, released = await admin.call("POST", "/routes/products/release", {})
    response = await post

    assert (released_status, released["held"]) == (200, False)
    assert response.status == 200
    assert [seen["method"] for seen in monolith.seen] == ["POST"]
    response.release()


async def test_a_held_post_past_the_bound_is_503_writes_held(start_upstream, start_admin) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    admin = await start_admin(table_for(monolith, service, PRODUCTS))
    proxy = admin.proxy
    await admin.call("POST", "/routes/products/hold", {"seconds": 0.3})

    async with proxy.session.post(proxy.url + URL, data=b"{}") as response:
        body = json.loads(await response.read())

    assert response.status == 503
    assert body["code"] == "writes_held"
    assert response.headers["Retry-After"] == "1"
    assert monolith.seen == []


async def test_safe_methods_pass_while_writes_are_held(start_upstream, start_admin) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    admin = await start_admin(table_for(monolith, service, PRODUCTS))
    proxy = admin.proxy
    await admin.call("POST", "/routes/products/hold", {"seconds": 30})

    statuses = []
    for method in ("GET", "HEAD", "OPTIONS"):
        async with proxy.session.request(method, proxy.url + URL) as response:
            statuses.append(response.status)

    assert statuses == [200, 200, 200]
    assert [seen["method"] for seen in monolith.seen] == ["GET", "HEAD", "OPTIONS"]


async def test_a_write_to_another_route_is_not_held(start_upstream, start_admin) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    admin = await start_admin(table_for(monolith, service, PRODUCTS))
    proxy = admin.proxy
    await admin.call("POST", "/routes/products/hold", {"seconds": 30})

    async with proxy.session.post(proxy.url + "/api/v1/orders/", data=b"{}") as response:
        status = response.status

    assert status == 200


async def test_a_held_write_goes_where_the_table_says_after_the_release(
    start_upstream, start_admin
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    admin = await start_admin(table_for(monolith, service, PRODUCTS))
    proxy = admin.proxy
    before = _waiting()
    await admin.call("POST", "/routes/products/hold", {"seconds": 30})
    post = asyncio.create_task(proxy.session.post(proxy.url + URL, data=b"{}"))
    await wait_for(lambda: _waiting() == before + 1, deadline=5, what="the POST to wait")

    cutover = {
        "mode": "service",
        "write_owner": "catalog",
        # No sync node in this test; the check it skips is tested in test_write_guard.py.
        "unsynced_writes_accepted": True,
    }
    await admin.call("PATCH", "/routes/products", cutover)
    await admin.call("POST", "/routes/products/release", {})
    response = await post

    assert response.status == 200
    assert monolith.seen == []
    assert [seen["method"] for seen in service.seen] == ["POST"]
    response.release()


async def test_a_route_shows_its_hold(start_upstream, start_admin) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    admin = await start_admin(table_for(monolith, service, PRODUCTS))

    _, held = await admin.call("POST", "/routes/products/hold", {"seconds": 30})
    _, view = await admin.call("GET", "/routes/products")
    await admin.call("POST", "/routes/products/release", {})
    _, after = await admin.call("GET", "/routes/products")

    assert view["hold_until"] == held["hold_until"] > 0
    assert after["hold_until"] == 0


@pytest.mark.parametrize("path", ["/routes/products/hold", "/routes/products/release"])
async def test_holding_and_releasing_need_the_token(start_upstream, start_admin, path) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    admin = await start_admin(table_for(monolith, service, PRODUCTS))

    missing, _ = await admin.call("POST", path, {"seconds": 5}, token=None)
    wrong, _ = await admin.call("POST", path, {"seconds": 5}, token="not-the-token")

    assert (missing, wrong) == (401, 401)
    assert admin.proxy.state.store.holds == {}


@pytest.mark.parametrize("body", [{}, {"seconds": 0}, {"seconds": 121}, {"seconds": "5"},
                                  {"seconds": True}, {"seconds": -1}])  # fmt: skip
async def test_a_hold_needs_seconds_above_0_and_at_most_120(
    start_upstream, start_admin, body
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    admin = await start_admin(table_for(monolith, service, PRODUCTS))

    status, error = await admin.call("POST", "/routes/products/hold", body)

    assert (status, error["code"]) == (400, "bad_hold")
    assert "'seconds'" in error["message"]
    assert admin.proxy.state.store.holds == {}


async def test_holding_an_unknown_route_is_404(start_upstream, start_admin) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    admin = await start_admin(table_for(monolith, service, PRODUCTS))

    status, error = await admin.call("POST", "/routes/nope/hold", {"seconds": 5})

    assert (status, error["code"]) == (404, "route_not_found")


# --- a write whose body is still arriving when a cutover moves its route -------------------

CUTOVER = {
    "mode": "service",
    "write_owner": "catalog",
    # No sync node in this test; the check it skips is tested in test_write_guard.py.
    "unsynced_writes_accepted": True,
}


@pytest.fixture
def reading_bodies(monkeypatch) -> asyncio.Event:
    """Set once the proxy starts reading a request's body: its head was let through (not
    held then) and its route decided. The real ``read_body`` still reads it."""
    from strangler.proxy import app

    started = asyncio.Event()
    real = app.read_body

    async def read_body(*args, **kwargs):
        started.set()
        return await real(*args, **kwargs)

    monkeypatch.setattr(app, "read_body", read_body)
    return started


async def _slow_post(proxy, rest: asyncio.Event) -> tuple[int, bytes]:
    """A POST whose head and first half of body go at once, the other half when ``rest``."""

    async def body():
        yield b'{"price": '
        await rest.wait()
        yield b'"12.50"}'

    headers = {"Content-Length": str(len(b'{"price": "12.50"}'))}
    async with proxy.session.post(proxy.url + URL, data=body(), headers=headers) as response:
        return response.status, await response.read()


async def _slow_post_under_way(start_upstream, start_admin, reading_bodies):
    """The two upstreams, the admin API, the event that sends the rest of the body, and the
    POST under way: its head let through and decided (the monolith's), its body half sent."""
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    admin = await start_admin(table_for(monolith, service, PRODUCTS))
    rest = asyncio.Event()
    post = asyncio.create_task(_slow_post(admin.proxy, rest))
    await asyncio.wait_for(reading_bodies.wait(), timeout=5)
    return monolith, service, admin, rest, post


async def test_a_write_whose_body_arrives_during_a_hold_waits_and_goes_to_the_new_owner(
    start_upstream, start_admin, reading_bodies
) -> None:
    before = _waiting()
    monolith, service, admin, rest, post = await _slow_post_under_way(
        start_upstream, start_admin, reading_bodies
    )

    await admin.call("POST", "/routes/products/hold", {"seconds": 30})
    rest.set()
    await wait_for(lambda: _waiting() == before + 1, deadline=5, what="the POST to wait")
    assert monolith.seen == []  # not sent on the decision made before the hold
    await admin.call("PATCH", "/routes/products", CUTOVER)
    await admin.call("POST", "/routes/products/release", {})
    status, _ = await post

    assert status == 200
    assert monolith.seen == []
    assert [(s["method"], s["body"]) for s in service.seen] == [("POST", b'{"price": "12.50"}')]


async def test_a_write_whose_body_arrives_after_a_whole_cutover_goes_to_the_new_owner(
    start_upstream, start_admin, reading_bodies
) -> None:
    monolith, service, admin, rest, post = await _slow_post_under_way(
        start_upstream, start_admin, reading_bodies
    )

    # Hold, flip the write owner and release, all while the body is on its way.
    await admin.call("POST", "/routes/products/hold", {"seconds": 30})
    await admin.call("PATCH", "/routes/products", CUTOVER)
    await admin.call("POST", "/routes/products/release", {})
    rest.set()
    status, _ = await post

    assert status == 200
    assert monolith.seen == []
    assert [(s["method"], s["body"]) for s in service.seen] == [("POST", b'{"price": "12.50"}')]


# --- the writes a cutover waits for: sent upstream and not answered yet --------------------


async def test_a_write_sent_upstream_counts_as_in_flight_until_answered_reads_never(
    start_upstream, start_admin
) -> None:
    """Read through the admin API's /metrics by the plans' own reader, as a cutover does."""
    from strangler.plans.sources import read_writes_in_flight

    answer = asyncio.Event()
    slow = held_until(answer, {"upstream": "monolith"})
    monolith, service = await start_upstream("monolith", slow), await start_upstream("catalog")
    admin = await start_admin(table_for(monolith, service, PRODUCTS))
    proxy = admin.proxy

    def in_flight() -> int:
        with requests.Session() as session:
            return read_writes_in_flight({"products"}, admin.url(""), session)

    before = await asyncio.to_thread(in_flight)
    write = asyncio.create_task(proxy.session.post(proxy.url + URL, data=b"{}"))
    read = asyncio.create_task(proxy.session.get(proxy.url + URL))
    await wait_for(lambda: len(monolith.seen) == 2, deadline=5, what="both at the upstream")
    assert await asyncio.to_thread(in_flight) == before + 1  # the write, not the read

    answer.set()
    for response in await asyncio.gather(write, read):
        assert response.status == 200
        response.release()
    assert await asyncio.to_thread(in_flight) == before


def _in_flight() -> int:
    """This process's writes in flight on route products, by the gauge the proxy keeps."""
    from strangler.proxy.metrics import writes_in_flight_of

    return int(writes_in_flight_of("products")._value.get())


async def test_a_write_that_timed_out_stays_in_flight_for_the_upstreams_total_timeout(
    start_upstream, start_proxy
) -> None:
    """The proxy gave up, but the old owner's view may still commit: a cutover must wait."""
    never = asyncio.Event()
    stuck = held_until(never)
    monolith, service = await start_upstream("monolith", stuck), await start_upstream("catalog")
    table = table_for(monolith, service, PRODUCTS)
    table["upstreams"]["monolith"]["timeouts"] = {"connect": 1, "read": 0.3, "total": 1.5}
    proxy = await start_proxy(table)
    before = _in_flight()
    clock = asyncio.get_running_loop().time
    sent = clock()

    async with proxy.session.post(proxy.url + URL, data=b"{}") as response:
        assert response.status == 504  # the read timeout, 0.3 s
    assert _in_flight() == before + 1
    await wait_for(lambda: _in_flight() == before, deadline=5, what="the write to be let go")
    # Let go no sooner than the upstream's total timeout after the proxy gave up.
    assert clock() - sent >= 0.3 + 1.5
    never.set()


async def test_a_write_that_never_reached_its_upstream_is_not_in_flight(
    start_upstream, start_proxy
) -> None:
    monolith, service = await start_upstream("monolith"), await start_upstream("catalog")
    table = table_for(monolith, service, PRODUCTS)
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        table["upstreams"]["monolith"]["url"] = f"http://127.0.0.1:{closed.getsockname()[1]}"
    proxy = await start_proxy(table)
    before = _in_flight()

    async with proxy.session.post(proxy.url + URL, data=b"{}") as response:
        assert response.status == 502

    assert _in_flight() == before
