"""Prometheus metrics of the proxy. With several workers, set ``PROMETHEUS_MULTIPROC_DIR``
(``proxy.__main__`` does) so ``/metrics`` sums every worker's counts."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "ADDED_LATENCY",
    "BREAKER_STATE",
    "CLIENT_DISCONNECTS",
    "FALLBACKS",
    "REQUESTS",
    "REQUEST_LATENCY",
    "SHADOW_RESULTS",
    "UPSTREAM_ERRORS",
]

# Buckets from 0.1 ms: the proxy's own added time lives well below a millisecond.
_FAST_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
)
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter(
    "strangler_proxy_requests_total",
    "Requests answered, by route, the upstream that answered, the route's mode and status.",
    ["route", "upstream", "mode", "status"],
)
REQUEST_LATENCY = Histogram(
    "strangler_proxy_request_duration_seconds",
    "Time from the request's arrival to the end of the response.",
    ["route", "upstream"],
    buckets=_BUCKETS,
)
ADDED_LATENCY = Histogram(
    "strangler_proxy_added_seconds",
    "The proxy's own time: the total less the time waiting on the upstream.",
    ["route"],
    buckets=_FAST_BUCKETS,
)
UPSTREAM_ERRORS = Counter(
    "strangler_proxy_upstream_errors_total",
    "Upstream failures by kind: connect, timeout, status_5xx, circuit_open, broken.",
    ["upstream", "kind"],
)
FALLBACKS = Counter(
    "strangler_proxy_fallbacks_total",
    "Requests the service failed that the monolith answered instead.",
    ["route"],
)
BREAKER_STATE = Gauge(
    "strangler_proxy_breaker_state",
    "Circuit breaker per upstream: 0 closed, 1 half-open, 2 open.",
    ["upstream"],
    multiprocess_mode="max",
)
SHADOW_RESULTS = Counter(
    "strangler_proxy_shadow_total",
    "Shadow comparisons by outcome: match, mismatch, dropped, skipped, error.",
    ["route", "outcome"],
)
CLIENT_DISCONNECTS = Counter(
    "strangler_proxy_client_disconnects_total",
    "Clients that went away before their response was fully written.",
)
