"""Services with many instances, through the real proxy: requests spread over an upstream's
endpoints, a dead or failing instance is taken out and comes back, health is checked per
endpoint, canary stickiness ignores which instance answers, and endpoints follow DNS
records (a real dnsmasq publishing them, as Consul's DNS interface and Kubernetes do)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client import REGISTRY

from strangler.proxy.errors import UpstreamUnreachable
from strangler.proxy.health import HEALTH_USER_AGENT
from tests.proxy.conftest import wait_for
from tests.proxy.dns_server import TTL_SECONDS, DnsServer, SrvRecord

ROUTE = {"name": "products", "prefix": "/api/v1/products/", "owner": "catalog", "mode": "service"}
# Fast enough for a test, as the table's defaults would be in production.
OUTLIER = {"consecutive_failures": 3, "ejection_seconds": 1, "max_ejection_percent": 50}
# Long enough that no active check runs during a test about passive ejection.
NO_CHECKS = 3600.0


@dataclass
class Instance:
    """One instance of a service: answers which one it is; its health view as told."""

    name: str
    host: str
    port: int
    hits: int = 0
    status: int = 200
    healthy: bool = True
    runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        async def answer(request: web.Request) -> web.Response:
            if request.headers.get("User-Agent") == HEALTH_USER_AGENT:
                return web.Response(status=200 if self.healthy else 503)
            self.hits += 1
            return web.json_response({"instance": self.name}, status=self.status)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", answer)
        self.runner = web.AppRunner(app, handle_signals=False)
        await self.runner.setup()
        await web.TCPSite(self.runner, self.host, self.port, reuse_address=True).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


def _port_free_on(hosts: list[str]) -> int:
    """A port that every one of ``hosts`` (loopback addresses) can listen on."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind((hosts[0], 0))
            port = int(probe.getsockname()[1])
        try:
            for host in hosts:
                with socket.socket() as other:
                    other.bind((host, port))
        except OSError:
            continue
        return port
    raise RuntimeError(f"no port free on all of {hosts}")


@pytest.fixture
async def instances() -> AsyncIterator[Callable[..., Awaitable[list[Instance]]]]:
    started: list[Instance] = []

    async def start(*hosts: str, same_port: bool = True) -> list[Instance]:
        port = _port_free_on(list(hosts)) if same_port else 0
        made = []
        for index, host in enumerate(hosts):
            instance = Instance(f"i{index + 1}", host, port or _port_free_on([host]))
            await instance.start()
            made.append(instance)
        started.extend(made)
        return made

    yield start
    for instance in started:
        await instance.stop()


def table(monolith: Any, catalog: dict[str, Any], *routes: dict[str, Any]) -> dict[str, Any]:
    catalog = {"timeouts": {"connect": 1, "read": 5, "total": 10}, "outlier": OUTLIER, **catalog}
    return {
        "upstreams": {"monolith": {"url": monolith.url}, "catalog": catalog},
        "routes": list(routes or [ROUTE]),
    }


async def get(proxy: Any, path: str = "/api/v1/products/") -> tuple[int, Any]:
    async with proxy.session.get(f"{proxy.url}{path}") as response:
        return response.status, await response.json()


def endpoint_states(proxy: Any, upstream: str = "catalog") -> dict[str, str]:
    endpoints = proxy.state.store.pool[upstream].endpoints
    return {e.base_url: endpoints.state(e) for e in endpoints.all}


# --- a list of endpoints -----------------------------------------------------------------------


async def test_requests_spread_over_every_endpoint(start_upstream, start_proxy, instances) -> None:
    monolith = await start_upstream("monolith")
    fleet = await instances("127.0.0.1", "127.0.0.1", "127.0.0.1", same_port=False)
    proxy = await start_proxy(table(monolith, {"endpoints": [i.url for i in fleet]}))

    answered = Counter([(await get(proxy))[1]["instance"] for _ in range(60)])

    assert set(answered) == {"i1", "i2", "i3"}
    assert monolith.seen == []


async def test_a_dead_instance_is_ejected_without_failing_a_request_and_comes_back(
    start_upstream, start_proxy, instances
) -> None:
    monolith = await start_upstream("monolith")
    fleet = await instances("127.0.0.1", "127.0.0.1", "127.0.0.1", same_port=False)
    dead = fleet[2]
    proxy = await start_proxy(
        table(monolith, {"endpoints": [i.url for i in fleet]}), health_interval=NO_CHECKS
    )

    await dead.stop()
    statuses = []

    async def until_ejected() -> None:
        while endpoint_states(proxy)[dead.url] != "ejected":
            statuses.append((await get(proxy))[0])

    await asyncio.wait_for(until_ejected(), timeout=10)

    # Refused connections went to another instance: nothing was sent, so any request may.
    assert set(statuses) == {200}
    assert proxy.state.store.pool["catalog"].breaker.state == "closed"
    await dead.start()
    hits_before = dead.hits

    async def until_back() -> None:
        while dead.hits == hits_before:
            assert (await get(proxy))[0] == 200

    await asyncio.wait_for(until_back(), timeout=10)
    assert endpoint_states(proxy)[dead.url] != "ejected"


async def test_an_instance_answering_5xx_is_ejected_and_the_others_answer(
    start_upstream, start_proxy, instances
) -> None:
    monolith = await start_upstream("monolith")
    fleet = await instances("127.0.0.1", "127.0.0.1", "127.0.0.1", same_port=False)
    broken = fleet[0]
    broken.status = 500
    proxy = await start_proxy(
        table(monolith, {"endpoints": [i.url for i in fleet]}), health_interval=NO_CHECKS
    )

    async def until_ejected() -> None:
        while endpoint_states(proxy)[broken.url] != "ejected":
            await get(proxy)

    await asyncio.wait_for(until_ejected(), timeout=10)
    hits = broken.hits

    answers = [await get(proxy) for _ in range(20)]

    assert hits == OUTLIER["consecutive_failures"]
    assert broken.hits == hits  # out for its ejection time (1 s, far longer than 20 requests)
    assert {status for status, _ in answers} == {200}


async def test_an_endpoint_failing_its_health_check_gets_no_requests_while_others_pass(
    start_upstream, start_proxy, instances
) -> None:
    monolith = await start_upstream("monolith")
    fleet = await instances("127.0.0.1", "127.0.0.1", same_port=False)
    sick = fleet[1]
    sick.healthy = False
    proxy = await start_proxy(
        table(monolith, {"endpoints": [i.url for i in fleet]}), health_interval=0.05
    )

    await wait_for(
        lambda: endpoint_states(proxy)[sick.url] == "unhealthy",
        deadline=5,
        what="the endpoint's health check to fail twice",
    )
    answered = {(await get(proxy))[1]["instance"] for _ in range(20)}

    assert answered == {"i1"}
    assert sick.hits == 0
    assert not proxy.state.health.is_unhealthy("catalog")  # one endpoint passes: healthy


async def test_an_upstream_is_unhealthy_only_once_every_endpoint_fails_its_check(
    start_upstream, start_proxy, instances
) -> None:
    monolith = await start_upstream("monolith")
    fleet = await instances("127.0.0.1", "127.0.0.1", same_port=False)
    proxy = await start_proxy(
        table(
            monolith,
            {"endpoints": [i.url for i in fleet]},
            {**ROUTE, "mode": "canary", "canary_percent": 100, "fallback": True},
        ),
        health_interval=0.05,
    )
    health = proxy.state.health
    await wait_for(lambda: health.status.get("catalog") is not None, deadline=5, what="a check")

    fleet[0].healthy = False
    await wait_for(
        lambda: endpoint_states(proxy)[fleet[0].url] == "unhealthy", deadline=5, what="i1 out"
    )
    assert not health.is_unhealthy("catalog")
    fleet[1].healthy = False
    await wait_for(lambda: health.is_unhealthy("catalog"), deadline=5, what="catalog unhealthy")

    status, body = await get(proxy)
    assert (status, body) == (200, {"path": "/api/v1/products/"})  # the monolith's fallback
    assert "2 of 2 endpoints failing" in (health.status["catalog"].last_error or "")


async def test_canary_stickiness_does_not_depend_on_which_endpoint_answers(
    start_upstream, start_proxy, instances
) -> None:
    monolith = await start_upstream("monolith")
    fleet = await instances("127.0.0.1", "127.0.0.1", "127.0.0.1", same_port=False)
    proxy = await start_proxy(
        table(
            monolith,
            {"endpoints": [i.url for i in fleet]},
            {**ROUTE, "mode": "canary", "canary_percent": 50},
        )
    )

    service_side = 0
    for _ in range(20):
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as client:
            answers = []
            for _ in range(12):
                async with client.get(f"{proxy.url}/api/v1/products/") as response:
                    answers.append(await response.json())
        sides = {"service" if "instance" in a else "monolith" for a in answers}
        assert len(sides) == 1, f"a client switched sides: {answers}"
        if sides == {"service"}:
            service_side += 1
            # The same client, on the service side, was served by several instances.
            assert len({a["instance"] for a in answers}) > 1
    assert 0 < service_side < 20


async def test_the_admin_api_and_the_metrics_show_each_endpoint_and_its_state(
    start_upstream, start_admin, instances
) -> None:
    monolith = await start_upstream("monolith")
    fleet = await instances("127.0.0.1", "127.0.0.1", "127.0.0.1", same_port=False)
    admin = await start_admin(
        table(monolith, {"endpoints": [i.url for i in fleet]}), health_interval=NO_CHECKS
    )
    proxy = admin.proxy
    await wait_for(
        lambda: set(endpoint_states(proxy).values()) == {"healthy"},
        deadline=5,
        what="the first health checks",
    )
    await fleet[2].stop()

    async def until_ejected() -> None:
        while endpoint_states(proxy)[fleet[2].url] != "ejected":
            await get(proxy)

    await asyncio.wait_for(until_ejected(), timeout=10)
    proxy.state.store.pool.report()  # what the metrics flush does every second
    status, body = await admin.call("GET", "/upstreams", token=None)

    assert status == 200
    catalog = next(u for u in body["upstreams"] if u["name"] == "catalog")
    assert catalog["source"] == ", ".join(i.url for i in fleet)
    assert (catalog["balance"], catalog["breaker"], catalog["panic"]) == (
        "least_request",
        "closed",
        False,
    )
    by_url = {e["url"]: e for e in catalog["endpoints"]}
    assert by_url[fleet[2].url]["state"] == "ejected"
    assert by_url[fleet[2].url]["ejections"] == 1
    assert 0 < by_url[fleet[2].url]["ejected_for_seconds"] <= 1
    assert {by_url[i.url]["state"] for i in fleet[:2]} == {"healthy"}
    ejected = REGISTRY.get_sample_value(
        "strangler_proxy_endpoints", {"upstream": "catalog", "state": "ejected"}
    )
    assert ejected == 1


async def test_a_reload_with_the_same_endpoints_keeps_their_warm_connections(
    start_upstream, start_proxy, instances
) -> None:
    monolith = await start_upstream("monolith")
    fleet = await instances("127.0.0.1", "127.0.0.1", same_port=False)
    catalog = {"endpoints": [i.url for i in fleet]}
    proxy = await start_proxy(table(monolith, catalog))
    for _ in range(10):
        await get(proxy)
    before = proxy.state.store.pool["catalog"]

    proxy.write_table(table(monolith, catalog, ROUTE, {**ROUTE, "name": "o", "prefix": "/o/"}))
    result = await proxy.reload()

    assert result.changed
    assert proxy.state.store.pool["catalog"] is before
    assert sum(e.client.idle_connections for e in before.endpoints.all) > 0


# --- endpoints from DNS (a real dnsmasq) -------------------------------------------------------


def discovery(dns_server: DnsServer, **fields: Any) -> dict[str, Any]:
    # min_ttl at the records' TTL (1 s): the test follows each change within a second.
    return {"discovery": {"nameserver": dns_server.nameserver, "min_ttl": 0.5, **fields}}


async def test_a_records_of_a_headless_service_spread_traffic_eject_and_follow_changes(
    start_upstream, start_proxy, instances, dns_server
) -> None:
    name = "catalog.shop.svc.cluster.local"
    monolith = await start_upstream("monolith")
    fleet = await instances("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5")
    first, spare = fleet[:3], fleet[3]
    dns_server.publish(a={name: [i.host for i in first]})
    dns_server.start()
    proxy = await start_proxy(
        table(monolith, discovery(dns_server, dns=name, type="A", port=fleet[0].port)),
        health_interval=NO_CHECKS,
    )

    # Traffic spreads over the three instances the records name.
    answered = Counter([(await get(proxy))[1]["instance"] for _ in range(60)])
    assert set(answered) == {"i1", "i2", "i3"}

    # A dead instance is ejected (no request fails), and comes back when restarted.
    dead = first[1]
    await dead.stop()
    statuses: list[int] = []

    async def until_ejected() -> None:
        while endpoint_states(proxy)[dead.url] != "ejected":
            statuses.append((await get(proxy))[0])

    await asyncio.wait_for(until_ejected(), timeout=10)
    assert set(statuses) == {200}
    await dead.start()
    hits = dead.hits

    async def until_back() -> None:
        while dead.hits == hits:
            assert (await get(proxy))[0] == 200

    await asyncio.wait_for(until_back(), timeout=10)

    # A record change (the hosts file rewritten, SIGHUP) is followed within its TTL.
    gone = first[2]
    await asyncio.to_thread(
        dns_server.publish, a={name: [first[0].host, first[1].host, spare.host]}
    )
    changed_at = time.monotonic()
    expected = {first[0].url, first[1].url, spare.url}
    await wait_for(
        lambda: set(endpoint_states(proxy)) == expected,
        deadline=TTL_SECONDS + 1.5,
        what="the proxy to follow the new records",
    )
    followed_in = time.monotonic() - changed_at
    gone_hits = gone.hits
    answered = Counter([(await get(proxy))[1]["instance"] for _ in range(60)])

    assert followed_in < TTL_SECONDS + 1.5
    assert set(answered) == {"i1", "i2", "i4"}
    assert gone.hits == gone_hits
    pool = proxy.state.store.pool["catalog"]
    await wait_for(lambda: not pool.draining, deadline=5, what="the removed pool to drain")


async def test_srv_records_as_consul_serves_them_spread_traffic_and_follow_changes(
    start_upstream, start_proxy, instances, dns_server
) -> None:
    service = "catalog.service.consul"
    monolith = await start_upstream("monolith")
    # Consul's SRV records name each instance's own port.
    fleet = await instances("127.0.0.2", "127.0.0.3", "127.0.0.4", same_port=False)
    nodes = {f"node{i}.node.dc1.consul": instance.host for i, instance in enumerate(fleet)}
    records = [
        SrvRecord(service, node, instance.port) for node, instance in zip(nodes, fleet, strict=True)
    ]
    dns_server.publish(a={node: [host] for node, host in nodes.items()}, srv=records)
    dns_server.start()
    proxy = await start_proxy(
        table(monolith, discovery(dns_server, dns=service, type="SRV")),
        health_interval=NO_CHECKS,
    )

    answered = Counter([(await get(proxy))[1]["instance"] for _ in range(60)])
    assert set(answered) == {"i1", "i2", "i3"}

    # An instance deregistered (Consul stops listing it): SRV records are dnsmasq's
    # configuration, so it restarts on the same port with the new records.
    await asyncio.to_thread(dns_server.publish, srv=records[:2])
    changed_at = time.monotonic()
    await wait_for(
        lambda: set(endpoint_states(proxy)) == {fleet[0].url, fleet[1].url},
        deadline=TTL_SECONDS + 1.5,
        what="the proxy to follow the new records",
    )
    assert time.monotonic() - changed_at < TTL_SECONDS + 1.5
    hits = fleet[2].hits
    answered = Counter([(await get(proxy))[1]["instance"] for _ in range(30)])
    assert set(answered) == {"i1", "i2"}
    assert fleet[2].hits == hits


async def test_a_failed_resolution_keeps_serving_the_endpoints_already_known(
    start_upstream, start_proxy, instances, dns_server
) -> None:
    name = "catalog.shop.svc.cluster.local"
    monolith = await start_upstream("monolith")
    fleet = await instances("127.0.0.2", "127.0.0.3")
    dns_server.publish(a={name: [i.host for i in fleet]})
    dns_server.start()
    proxy = await start_proxy(
        table(monolith, discovery(dns_server, dns=name, type="A", port=fleet[0].port))
    )
    assert (await get(proxy))[0] == 200
    discovered = proxy.state.store.pool["catalog"].discovery

    await asyncio.to_thread(dns_server.stop)
    await wait_for(lambda: discovered.last_error is not None, deadline=10, what="a failure")

    answered = {(await get(proxy))[1]["instance"] for _ in range(30)}
    assert answered == {"i1", "i2"}


async def test_https_endpoints_from_dns_are_checked_against_their_record_name(
    start_upstream, start_proxy, dns_server, tmp_path, monkeypatch, make_client
) -> None:
    # A certificate for the SRV target's name only, trusted as the system's CAs would be.
    target = "node1.node.dc1.consul"
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    openssl = shutil.which("openssl")
    assert openssl, "openssl makes the test's certificate (Debian: apt-get install -y openssl)"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={target}",
         "-addext", f"subjectAltName=DNS:{target}"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def answer(request: web.Request) -> web.Response:
        return web.json_response({"tls": True})

    app = web.Application()
    app.router.add_get("/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = _port_free_on(["127.0.0.2"])
    await web.TCPSite(runner, "127.0.0.2", port, ssl_context=context).start()
    try:
        dns_server.publish(
            a={target: ["127.0.0.2"]},
            srv=[SrvRecord("catalog.service.consul", target, port)],
        )
        dns_server.start()
        monolith = await start_upstream("monolith")
        proxy = await start_proxy(
            table(
                monolith,
                discovery(dns_server, dns="catalog.service.consul", type="SRV", scheme="https"),
            ),
            health_interval=NO_CHECKS,
        )

        assert await get(proxy) == (200, {"tls": True})
        assert set(endpoint_states(proxy)) == {f"https://127.0.0.2:{port}"}
        # The same address without the record's name fails the certificate check.
        by_address = make_client(f"https://127.0.0.2:{port}")
        with pytest.raises(UpstreamUnreachable, match="CERTIFICATE_VERIFY_FAILED"):
            await by_address.request("GET", "/", [(b"Host", b"x")])
    finally:
        await runner.cleanup()
