"""Active health checks: each upstream's health path, polled off the request path.

A failed check does not refuse traffic by itself (a broken health view must not take a
working service down); it sends requests that have a fallback straight to the fallback, and
it makes the proxy's ``/readyz`` fail while the monolith is down.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import aiohttp

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


@dataclass
class HealthStatus:
    healthy: bool | None = None  # None: not checked yet
    failures: int = 0
    last_checked: float | None = None
    last_error: str | None = None


class HealthChecker:
    def __init__(self, pool: UpstreamPool, *, interval: float = CHECK_INTERVAL_SECONDS) -> None:
        self.pool = pool
        self.interval = interval
        self.status: dict[str, HealthStatus] = {}

    def is_unhealthy(self, name: str) -> bool:
        status = self.status.get(name)
        return status is not None and status.healthy is False

    async def check(self, upstream: Upstream) -> HealthStatus:
        status = self.status.setdefault(upstream.name, HealthStatus())
        url = upstream.base_url + upstream.config.health_path
        error: str | None = None
        try:
            async with upstream.session.get(
                url,
                timeout=aiohttp.ClientTimeout(total=CHECK_TIMEOUT_SECONDS),
                allow_redirects=False,
                headers={"User-Agent": HEALTH_USER_AGENT},
            ) as response:
                await response.read()
                if response.status != 200:
                    error = f"health path answered {response.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        status.last_checked = time.time()
        status.last_error = error
        if error is None:
            if status.healthy is False:
                logger.info("upstream %s is healthy again", upstream.name)
            status.failures = 0
            status.healthy = True
        else:
            status.failures += 1
            if status.failures >= UNHEALTHY_AFTER and status.healthy is not False:
                logger.warning("upstream %s is unhealthy: %s", upstream.name, error)
                status.healthy = False
        return status

    async def run(self) -> None:
        while True:
            upstreams = list(self.pool)
            await asyncio.gather(*(self.check(u) for u in upstreams))
            known = {u.name for u in upstreams}
            for name in set(self.status) - known:
                del self.status[name]
            await asyncio.sleep(self.interval)
