"""The upstreams of the route table, each a set of endpoints with a pool apiece, a breaker,
and for DNS discovery the task that follows the records.

Requests go through each endpoint's lean ``UpstreamClient`` (``strangler.proxy.upstream_client``),
chosen by ``strangler.proxy.endpoints``; an aiohttp ``ClientSession`` per upstream with the same
limits stays for what it does well and is off the hot path: WebSocket upgrades and health
checks, sent to an endpoint's base URL. The circuit breaker is the upstream's, not an
endpoint's: it says the service as a whole is failing, where ejection takes out one instance.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator, Mapping, Sequence
from typing import Any

import aiohttp

from strangler.proxy.breaker import CircuitBreaker
from strangler.proxy.config import TableConfig, UpstreamConfig
from strangler.proxy.discovery import Address, DnsDiscovery
from strangler.proxy.endpoints import Endpoint, EndpointSet
from strangler.proxy.errors import UpstreamUnreachable
from strangler.proxy.metrics import ENDPOINT_OUTSTANDING, ENDPOINTS
from strangler.proxy.upstream_client import UpstreamClient

__all__ = ["Upstream", "UpstreamPool"]

# A removed endpoint's pool is closed once its requests are done; checked this often.
DRAIN_POLL_SECONDS = 0.1
_STATES = ("healthy", "unchecked", "unhealthy", "ejected")


class Upstream:
    def __init__(
        self,
        name: str,
        config: UpstreamConfig,
        endpoints: EndpointSet,
        session: aiohttp.ClientSession,
        breaker: CircuitBreaker,
        discovery: DnsDiscovery | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.endpoints = endpoints
        self.session = session
        self.breaker = breaker
        self.discovery = discovery
        # The one endpoint of a table that names one URL: the request path goes straight to
        # it, without a pick or an outcome to record (a single endpoint is never ejected).
        self.only: Endpoint | None = (
            endpoints.all[0] if discovery is None and len(endpoints) == 1 else None
        )
        self.draining: list[Endpoint] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._follower: asyncio.Task[None] | None = None
        self._reported: set[tuple[str, str]] = set()

    @classmethod
    def from_config(cls, name: str, config: UpstreamConfig) -> Upstream:
        endpoints = [_endpoint(name, config, Address(url)) for url in config.static_urls]
        discovery = DnsDiscovery(name, config.discovery) if config.discovery is not None else None
        return cls(
            name,
            config,
            EndpointSet(name, endpoints, config.outlier),
            _session(config),
            CircuitBreaker(name),
            discovery,
        )

    def start(self) -> None:
        """Start following the DNS records (in the running loop); nothing to do otherwise."""
        if self.discovery is not None and self._follower is None:
            self._follower = self._spawn(self.discovery.run(self.set_addresses))

    def retire(self) -> None:
        """Replaced by a new table: stop following DNS; requests in flight finish."""
        if self._follower is not None:
            self._follower.cancel()

    @property
    def base_url(self) -> str:
        """An endpoint's base URL for the callers other than requests (the identity lookup):
        one the balancer picks; before discovery answered, the discovery name's."""
        endpoint = self.endpoints.pick()
        if endpoint is not None:
            return endpoint.base_url
        discovery = self.config.discovery
        assert discovery is not None  # only a discovered upstream can have no endpoint
        return f"{discovery.scheme}://{discovery.dns}" + (
            f":{discovery.port}" if discovery.port else ""
        )

    async def endpoint(self) -> Endpoint:
        """An endpoint for a request; with none known yet (DNS discovery's first answer is
        on its way), wait for that answer, up to the connect timeout."""
        endpoint = self.endpoints.pick()
        if endpoint is not None:
            return endpoint
        if self.discovery is not None:
            try:
                async with asyncio.timeout(self.config.timeouts.connect):
                    await self.discovery.first_answer.wait()
            except TimeoutError:
                pass
            endpoint = self.endpoints.pick()
            if endpoint is not None:
                return endpoint
        reason = self.discovery.last_error if self.discovery else None
        raise UpstreamUnreachable(
            f"{self.name} has no endpoint"
            + (f": DNS discovery failed ({reason})." if reason else " yet (DNS discovery)."),
            code="no_endpoints",
        )

    def set_addresses(self, addresses: Sequence[Address]) -> None:
        """Discovery's new answer: new endpoints added, endpoints still named kept (their warm
        pools and their state), the others drained."""
        current: dict[str, Endpoint | None] = {e.base_url: e for e in self.endpoints.all}
        kept = [
            current.pop(a.base_url, None) or _endpoint(self.name, self.config, a) for a in addresses
        ]
        self.endpoints.replace(kept)
        for gone in filter(None, current.values()):
            self.draining.append(gone)
            self._spawn(self._drain(gone))

    async def _drain(self, endpoint: Endpoint) -> None:
        """Close a removed endpoint's pool once the requests it serves are done (or could
        have been, at the total timeout)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.timeouts.total
        try:
            while endpoint.client.in_use and loop.time() < deadline:
                await asyncio.sleep(DRAIN_POLL_SECONDS)
        finally:
            await endpoint.client.close()
            self.draining.remove(endpoint)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def report(self) -> None:
        """Set the endpoint gauges (every second, off the request path)."""
        counts = dict.fromkeys(_STATES, 0)
        reported: set[tuple[str, str]] = set()
        for endpoint in self.endpoints.all:
            counts[self.endpoints.state(endpoint)] += 1
            ENDPOINT_OUTSTANDING.labels(self.name, endpoint.base_url).set(endpoint.outstanding)
            reported.add((self.name, endpoint.base_url))
        for state, count in counts.items():
            ENDPOINTS.labels(self.name, state).set(count)
        for labels in self._reported - reported:
            # Zero first: with several workers the value stays in the worker's metrics file.
            ENDPOINT_OUTSTANDING.labels(*labels).set(0)
            ENDPOINT_OUTSTANDING.remove(*labels)
        self._reported = reported

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for endpoint in [*self.endpoints.all, *self.draining]:
            await endpoint.client.close()
        await self.session.close()

    def __repr__(self) -> str:
        return f"<Upstream {self.name} {self.config.source}>"


def _endpoint(name: str, config: UpstreamConfig, address: Address) -> Endpoint:
    client = UpstreamClient(
        name,
        address.base_url,
        pool_size=config.pool_size,
        timeouts=config.timeouts,
        server_hostname=address.server_hostname,
    )
    return Endpoint(address.base_url, client, server_hostname=address.server_hostname)


def _session(config: UpstreamConfig, *, pool_size: int | None = None) -> aiohttp.ClientSession:
    timeouts = config.timeouts
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=pool_size or config.pool_size, limit_per_host=0),
        timeout=aiohttp.ClientTimeout(
            total=timeouts.total, sock_connect=timeouts.connect, sock_read=timeouts.read
        ),
        # Bytes pass through as the upstream sent them (compressed stays compressed).
        auto_decompress=False,
        # Cookies belong to the client, never to the proxy's session.
        cookie_jar=aiohttp.DummyCookieJar(),
        skip_auto_headers=("User-Agent",),
    )


class UpstreamPool:
    """The upstreams of the current table. A reload keeps the pools of upstreams whose
    settings did not change, so their warm keep-alive connections survive it."""

    def __init__(self) -> None:
        self._upstreams: dict[str, Upstream] = {}

    def __getitem__(self, name: str) -> Upstream:
        return self._upstreams[name]

    @property
    def current(self) -> Mapping[str, Upstream]:
        """The upstreams as of now. ``apply`` replaces this mapping and never changes it, so a
        request that holds it keeps its upstreams whatever reloads happen."""
        return self._upstreams

    def __iter__(self) -> Iterator[Upstream]:
        return iter(self._upstreams.values())

    def apply(self, table: TableConfig) -> list[Upstream]:
        """Adopt ``table``'s upstreams; returns the ones to close once requests drain."""
        retired: list[Upstream] = []
        fresh: dict[str, Upstream] = {}
        for name, config in table.upstreams.items():
            current = self._upstreams.get(name)
            if current is not None and current.config == config:
                fresh[name] = current
                continue
            if current is not None:
                retired.append(current)
            fresh[name] = Upstream.from_config(name, config)
            fresh[name].start()
        retired.extend(u for n, u in self._upstreams.items() if n not in fresh)
        for upstream in retired:
            upstream.retire()
        self._upstreams = fresh
        return retired

    def report(self) -> None:
        for upstream in self._upstreams.values():
            upstream.report()

    async def close(self) -> None:
        for upstream in self._upstreams.values():
            await upstream.close()
        self._upstreams = {}
