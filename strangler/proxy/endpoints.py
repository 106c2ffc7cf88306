"""The endpoints of one upstream: which one takes the next request, and which are out.

Picking is the power of two random choices on outstanding requests: two endpoints drawn at
random, the one with fewer requests in flight wins (a tie goes to the first drawn). It is
what Envoy's default LEAST_REQUEST does. Why not plain least-outstanding: it is O(1) however
many endpoints there are, and it spreads; plain least-outstanding sends every request to the
one endpoint at the minimum, so a freshly recovered (or added) endpoint, empty and so always
the minimum, takes the whole herd at once. Two random choices give it only its share while
still steering away from a slow endpoint whose requests pile up (Mitzenmacher, "The Power of
Two Choices in Randomized Load Balancing", 2001). Outstanding requests are counted by each
endpoint's own connection pool (``UpstreamClient.in_use``): nothing to keep per request.

An endpoint is out while its active health check fails (``strangler.proxy.health``) or while it
is ejected: ``consecutive_failures`` failures in a row (no connection, a timeout, a broken
answer, a 5xx) take it out for ``ejection_seconds``, doubled for each ejection that follows
soon after the last (``max_ejection_seconds`` at most), never more than
``max_ejection_percent`` of the endpoints at once (rounded down: an upstream of one endpoint
is never ejected; its circuit breaker speaks for it). When every endpoint is out, requests go
to all of them (Envoy's panic mode): a guess that fails is better than a sure refusal, and
health checks or ejections that took everything out are more likely wrong than right.

Decisions only: no sockets and no timers; the clock and the random source are injected.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from strangler.proxy.metrics import ENDPOINT_EJECTIONS
from strangler.proxy.upstream_client import UpstreamClient
from strangler.proxy.upstream_config import OutlierConfig

__all__ = ["Endpoint", "EndpointSet", "EndpointState", "HealthStatus"]

logger = logging.getLogger(__name__)

EndpointState = Literal["healthy", "unchecked", "unhealthy", "ejected"]


@dataclass
class HealthStatus:
    healthy: bool | None = None  # None: not checked yet
    failures: int = 0
    last_checked: float | None = None
    last_error: str | None = None


class Endpoint:
    """One instance of an upstream: its base URL, its pool, and what the balancer knows."""

    __slots__ = (
        "base_url",
        "client",
        "ejected_until",
        "ejections",
        "failures",
        "health",
        "last_ejection_seconds",
        "server_hostname",
        "streak",
    )

    def __init__(
        self, base_url: str, client: UpstreamClient, *, server_hostname: str | None = None
    ) -> None:
        self.base_url = base_url
        self.client = client
        self.server_hostname = server_hostname  # checked against a TLS certificate (discovery)
        self.health = HealthStatus()
        self.failures = 0  # in a row
        self.ejected_until = 0.0  # on the set's clock; in the past: not ejected
        self.ejections = 0  # since it was added
        self.streak = 0  # ejections close together: each one doubles the next
        self.last_ejection_seconds = 0.0

    @property
    def outstanding(self) -> int:
        return self.client.in_use

    def __repr__(self) -> str:
        return f"<Endpoint {self.base_url}>"


class EndpointSet:
    """The endpoints of one upstream and the choice among them. ``pick`` is the request
    path's: amortised O(1), recomputing who is available only when something changed."""

    def __init__(
        self,
        upstream: str,
        endpoints: Iterable[Endpoint],
        outlier: OutlierConfig,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.upstream = upstream
        self.outlier = outlier
        self._all: list[Endpoint] = list(endpoints)
        self._available: list[Endpoint] = []
        self._ejected: list[Endpoint] = []
        self._random = (rng or random.Random()).random  # noqa: S311 - spreading load
        self._clock = clock
        self._recheck_at = math.inf  # the next ejection to run out
        self._refresh(clock())

    @property
    def all(self) -> Sequence[Endpoint]:
        return self._all

    def __len__(self) -> int:
        return len(self._all)

    def pick(self, *, avoid: Endpoint | None = None) -> Endpoint | None:
        """The endpoint for the next request (``None`` when there is none at all); ``avoid``:
        one that just refused a connection, when another can be had."""
        recheck_at = self._recheck_at
        if recheck_at != math.inf and self._clock() >= recheck_at:  # no clock read otherwise
            self._refresh(self._clock())
        pool = self._available or self._all  # none available: all of them (panic)
        if avoid is not None and len(pool) > 1 and avoid in pool:
            pool = [e for e in pool if e is not avoid]
        count = len(pool)
        if count < 2:
            return pool[0] if pool else None
        random_ = self._random
        first = int(random_() * count)
        second = int(random_() * (count - 1))
        if second >= first:
            second += 1
        a, b = pool[first], pool[second]
        return a if a.client.in_use <= b.client.in_use else b

    def state(self, endpoint: Endpoint) -> EndpointState:
        if endpoint.ejected_until > self._clock():
            return "ejected"
        healthy = endpoint.health.healthy
        return "unchecked" if healthy is None else "healthy" if healthy else "unhealthy"

    def ejected_for(self, endpoint: Endpoint) -> float:
        """Seconds until ``endpoint`` comes back from its ejection (0: not ejected)."""
        return max(0.0, endpoint.ejected_until - self._clock())

    @property
    def panicking(self) -> bool:
        """Every endpoint is out, so requests go to all of them."""
        return bool(self._all) and not self._available

    # --- outcomes ----------------------------------------------------------------------------

    def succeeded(self, endpoint: Endpoint) -> None:
        endpoint.failures = 0

    def failed(self, endpoint: Endpoint) -> bool:
        """A failure of ``endpoint``'s; whether it ejected the endpoint."""
        endpoint.failures += 1
        if endpoint.failures < self.outlier.consecutive_failures:
            return False
        now = self._clock()
        if endpoint.ejected_until > now or not self._may_eject(now):
            return False
        self._eject(endpoint, now)
        return True

    def _may_eject(self, now: float) -> bool:
        if endpoint_count := len(self._all):
            ejected = sum(1 for e in self._all if e.ejected_until > now)
            return ejected < endpoint_count * self.outlier.max_ejection_percent // 100
        return False

    def _eject(self, endpoint: Endpoint, now: float) -> None:
        # Back for at least as long as it was out: the next ejection starts from the base.
        if endpoint.ejected_until and now - endpoint.ejected_until >= (
            endpoint.last_ejection_seconds
        ):
            endpoint.streak = 0
        seconds = min(
            self.outlier.ejection_seconds * 2**endpoint.streak, self.outlier.max_ejection_seconds
        )
        endpoint.streak += 1
        endpoint.ejections += 1
        endpoint.failures = 0
        endpoint.last_ejection_seconds = seconds
        endpoint.ejected_until = now + seconds
        ENDPOINT_EJECTIONS.labels(self.upstream, endpoint.base_url).inc()
        logger.warning(
            "upstream %s: endpoint %s ejected for %g s after %d failures in a row",
            self.upstream,
            endpoint.base_url,
            seconds,
            self.outlier.consecutive_failures,
        )
        self._refresh(now)

    # --- changes -----------------------------------------------------------------------------

    def health_changed(self) -> None:
        """An active check changed an endpoint's ``health``."""
        self._refresh(self._clock())

    def replace(self, endpoints: Iterable[Endpoint]) -> None:
        """A new set (discovery); endpoints carried over keep their state."""
        self._all = list(endpoints)
        self._refresh(self._clock())

    def _refresh(self, now: float) -> None:
        available: list[Endpoint] = []
        recheck_at = math.inf
        for endpoint in self._all:
            if endpoint.ejected_until > now:
                recheck_at = min(recheck_at, endpoint.ejected_until)
            elif endpoint.health.healthy is not False:
                available.append(endpoint)
        for endpoint in self._ejected:
            if endpoint.ejected_until <= now and endpoint in self._all:
                logger.info("upstream %s: endpoint %s back", self.upstream, endpoint.base_url)
        self._ejected = [e for e in self._all if e.ejected_until > now]
        self._available = available
        self._recheck_at = recheck_at
