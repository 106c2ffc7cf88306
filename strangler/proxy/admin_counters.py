"""The per-route counters the admin API shows, read back from the metrics: with several
workers (``PROMETHEUS_MULTIPROC_DIR``) they are the sum of every worker's."""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from prometheus_client import REGISTRY, CollectorRegistry, multiprocess

from strangler.proxy.check import describe_route
from strangler.proxy.metrics import TALLY
from strangler.proxy.routing import CompiledRoute
from strangler.proxy.shadow_stats import OUTCOMES

__all__ = ["UNROUTED", "RouteCounters", "registry", "route_counters", "route_view"]

# Sample names as metrics.py defines them.
_REQUESTS = "strangler_proxy_requests_total"
_FALLBACKS = "strangler_proxy_fallbacks_total"
_SHADOW = "strangler_proxy_shadow_total"
_STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx")
# The route name of requests no route matched.
UNROUTED = "(default)"


def registry() -> CollectorRegistry:
    TALLY.flush()  # this worker's figures up to this request; others' at most 1 s old
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


@dataclass
class RouteCounters:
    """One route's counts since the proxy started (every worker's, with several)."""

    requests: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_STATUS_CLASSES, 0))
    fallbacks: int = 0
    shadow: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))

    def as_json(self) -> dict[str, object]:
        return {
            "requests": {"total": sum(self.requests.values()), **self.requests},
            "fallbacks": self.fallbacks,
            "shadow": self.shadow,
        }


def route_counters() -> defaultdict[str, RouteCounters]:
    counters: defaultdict[str, RouteCounters] = defaultdict(RouteCounters)
    for metric in registry().collect():
        for sample in metric.samples:
            if sample.name not in (_REQUESTS, _FALLBACKS, _SHADOW):
                continue
            route, value = counters[sample.labels["route"]], int(sample.value)
            if sample.name == _REQUESTS:
                status_class = sample.labels["status"][:1] + "xx"
                route.requests[status_class] = route.requests.get(status_class, 0) + value
            elif sample.name == _FALLBACKS:
                route.fallbacks += value
            else:
                route.shadow[sample.labels["outcome"]] = value
    return counters


def route_view(
    route: CompiledRoute,
    counters: defaultdict[str, RouteCounters],
    holds: Mapping[str, float] | None = None,
    *,
    legacy: str,
) -> object:
    until = (holds or {}).get(route.name, 0.0)
    return {
        **describe_route(route, legacy=legacy),
        "hold_until": until if until > time.time() else 0,
        "counters": counters[route.name].as_json(),
    }
