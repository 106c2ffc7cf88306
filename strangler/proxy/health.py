"""Active health checks: each endpoint's health path, polled off the request path.

An endpoint failing its check takes no more requests while others pass theirs
(``strangler.proxy.endpoints``); the upstream is unhealthy only when none of its endpoints is
healthy. An unhealthy upstream is not refused traffic by itself (a broken health view must
not take a working service down); it sends requests that have a fallback straight to the
fallback, and it makes the proxy's ``/readyz`` fail while the monolith is down.
"""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp

from strangler.proxy.endpoints import Endpoint, HealthStatus
from strangler.proxy.upstreams import Upstream, UpstreamPool

__all__ = ["HEALTH_USER_AGENT", "HealthChecker", "HealthStatus"]

logger = logging.getLogger(__name__)
# Every 2 s: a dead upstream is noticed within about two intervals, at a cost of one small
# request per upstream and worker every 2 s.
CHECK_INTERVAL_SECONDS = 2.0
# A health view answers in milliseconds; a second means the process is stuck.
CHECK_TIMEOUT_SECONDS = 1.0
HEALTH_USER_AGENT = "strangler-proxy-health/1"
# Two failures in a row before "unhealthy": one lost packet or a restart blip is not an outage.
UNHEALTHY_AFTER = 2


class HealthChecker:
    def __init__(self, pool: UpstreamPool, *, interval: float = CHECK_INTERVAL_SECONDS) -> None:
        self.pool = pool
        self.interval = interval
        self.status: dict[str, HealthStatus] = {}

    def is_unhealthy(self, name: str) -> bool:
        status = self.status.get(name)
        return status is not None and status.healthy is False

    async def check(self, upstream: Upstream) -> HealthStatus:
        """Check every endpoint of ``upstream``; its status: healthy while one endpoint is,
        unhealthy once every endpoint is, unknown before."""
        endpoints = list(upstream.endpoints.all)
        await asyncio.gather(*(self._check(upstream, e) for e in endpoints))
        upstream.endpoints.health_changed()
        status = self.status.setdefault(upstream.name, HealthStatus())
        healthy = _upstream_health([e.health.healthy for e in endpoints])
        status.last_checked = time.time()
        status.last_error = _upstream_error(endpoints, single=upstream.only is not None)
        status.failures = min((e.health.failures for e in endpoints), default=0)
        if healthy is False and status.healthy is not False:
            logger.warning("upstream %s is unhealthy: %s", upstream.name, status.last_error)
        elif healthy is True and status.healthy is False:
            logger.info("upstream %s is healthy again", upstream.name)
        status.healthy = healthy
        return status

    async def _check(self, upstream: Upstream, endpoint: Endpoint) -> None:
        status = endpoint.health
        url = endpoint.base_url + upstream.config.health_path
        error: str | None = None
        try:
            async with upstream.session.get(
                url,
                timeout=aiohttp.ClientTimeout(total=CHECK_TIMEOUT_SECONDS),
                allow_redirects=False,
                headers={"User-Agent": HEALTH_USER_AGENT},
                server_hostname=endpoint.server_hostname,
            ) as response:
                await response.read()
                if response.status != 200:
                    error = f"health path answered {response.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        status.last_checked = time.time()
        status.last_error = error
        if error is None:
            if status.healthy is False and upstream.only is None:
                logger.info("upstream %s: endpoint %s is healthy again", upstream.name, url)
            status.failures = 0
            status.healthy = True
        else:
            status.failures += 1
            if status.failures >= UNHEALTHY_AFTER and status.healthy is not False:
                if upstream.only is None:
                    logger.warning(
                        "upstream %s: endpoint %s is unhealthy: %s", upstream.name, url, error
                    )
                status.healthy = False

    async def run(self) -> None:
        while True:
            upstreams = list(self.pool)
            await asyncio.gather(*(self.check(u) for u in upstreams))
            known = {u.name for u in upstreams}
            for name in set(self.status) - known:
                del self.status[name]
            await asyncio.sleep(self.interval)


def _upstream_health(verdicts: list[bool | None]) -> bool | None:
    """Healthy while one endpoint is; unhealthy once every one is; else not known yet."""
    if True in verdicts:
        return True
    if verdicts and all(verdict is False for verdict in verdicts):
        return False
    return None


def _upstream_error(endpoints: list[Endpoint], *, single: bool) -> str | None:
    failing = [e for e in endpoints if e.health.last_error is not None]
    if not failing:
        return None
    first = failing[0]
    if single:
        return first.health.last_error
    return (
        f"{len(failing)} of {len(endpoints)} endpoints failing; "
        f"{first.base_url}: {first.health.last_error}"
    )
