"""One pool per upstream: its connection limit, timeouts and breaker.

Requests go through the lean ``UpstreamClient`` (``strangler.proxy.upstream_client``); an aiohttp
``ClientSession`` with the same limits stays for what it does well and is off the hot path:
WebSocket upgrades and health checks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import aiohttp

from strangler.proxy.breaker import CircuitBreaker
from strangler.proxy.config import TableConfig, UpstreamConfig
from strangler.proxy.upstream_client import UpstreamClient

__all__ = ["Upstream", "UpstreamPool"]


@dataclass
class Upstream:
    name: str
    config: UpstreamConfig
    client: UpstreamClient
    session: aiohttp.ClientSession
    breaker: CircuitBreaker

    @property
    def base_url(self) -> str:
        return self.config.url

    @classmethod
    def from_config(cls, name: str, config: UpstreamConfig) -> Upstream:
        client = UpstreamClient(
            name, config.url, pool_size=config.pool_size, timeouts=config.timeouts
        )
        return cls(name, config, client, _session(config), CircuitBreaker(name))

    async def close(self) -> None:
        await self.client.close()
        await self.session.close()


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
        retired.extend(u for n, u in self._upstreams.items() if n not in fresh)
        self._upstreams = fresh
        return retired

    async def close(self) -> None:
        for upstream in self._upstreams.values():
            await upstream.close()
        self._upstreams = {}
